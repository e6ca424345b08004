package dl

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dlcompiler/dlc/ir"
)

// FuzzLoad checks that no input makes the frontend panic or hang, and
// that every graph it accepts verifies.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.dl"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, tc := range layerCases {
		f.Add([]byte(tc.src))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		g, err := Load("fuzz.dl", src, Options{NoWeights: true})
		if err != nil {
			if _, ok := err.(*ErrorList); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			_ = err.Error()
			return
		}
		if err := ir.Verify(g); err != nil {
			t.Fatalf("accepted graph does not verify: %v", err)
		}
		_ = ir.Print(g)
	})
}

package golden

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/compiler"
	"github.com/dlcompiler/dlc/passes"
)

// TestGoldenPackagesRun compiles every golden case twice, at -O2 and with
// no passes at all (every schedule empty), each with a self-test recorded
// from the interpreter, into one temporary module, and runs their tests
// with one `go test`: the generated code must agree with the interpreter
// whatever the schedule, and allocate nothing per call.
func TestGoldenPackagesRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every golden package; skipped with -short")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module goldenrun\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases(t) {
		for _, level := range []struct {
			suffix string
			passes string
		}{{"o2", ""}, {"o0", "shapes"}} {
			g := load(t, c.model)
			ps, err := passes.Select(2, level.passes)
			if err != nil {
				t.Fatal(err)
			}
			pkg := compiler.PackageName(strings.ReplaceAll(c.name, "_", "") + level.suffix)
			files, err := compiler.Compile(g, compiler.Options{Package: pkg, Passes: ps, SelfTest: true})
			if err != nil {
				t.Fatalf("%s -%s: %v", c.name, level.suffix, err)
			}
			for name, b := range files {
				p := filepath.Join(root, pkg, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	cmd := exec.Command("go", "test", "-count=1", "./...")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("generated packages fail their self-tests:\n%s", out)
	}
	if n, want := strings.Count(string(out), "\nok "), 2*len(cases(t)); n+boolInt(strings.HasPrefix(string(out), "ok ")) != want {
		t.Errorf("%d packages passed, want %d:\n%s", n, want, out)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

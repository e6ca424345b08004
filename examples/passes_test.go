package examples_test

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/dlcompiler/dlc/codegen"
	"github.com/dlcompiler/dlc/frontend/dl"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/passes"
	"github.com/dlcompiler/dlc/runtime"
)

// TestPassesPreserveExamples runs the -O2 pipeline on every example one
// pass at a time, verifying the IR after each, and checks that the
// interpreter computes the same outputs after every pass as before any
// (relative 1e-5; the rewrites reassociate nothing but batch-norm folding,
// whose products are computed in float64 before rounding).
func TestPassesPreserveExamples(t *testing.T) {
	models, err := filepath.Glob("*/model.dl")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range models {
		if _, err := os.Stat(filepath.Join(filepath.Dir(m), "weights.safetensors")); err != nil {
			continue // not trained yet
		}
		t.Run(filepath.Dir(m), func(t *testing.T) {
			g, err := dl.LoadFile(m, dl.Options{})
			if err != nil {
				t.Fatal(err)
			}
			ins := codegen.RandomInputs(g, 3)
			want, err := runtime.Run(g, ins)
			if err != nil {
				t.Fatal(err)
			}
			ps, err := passes.Select(2, "")
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				if err := passes.Run(g, []passes.Pass{p}, passes.Options{Verify: true}); err != nil {
					t.Fatal(err)
				}
				got, err := runtime.Run(g, ins)
				if err != nil {
					t.Fatalf("after %s: %v", p.Name, err)
				}
				for i := range want {
					if d := maxRelErr(got[i], want[i]); d > 1 {
						t.Errorf("after pass %s, output %s is off by %.2f× the tolerance", p.Name, g.OutputNames[i], d)
					}
				}
			}
		})
	}
}

// maxRelErr is the largest |got-want| / (1e-6 + 1e-5|want|).
func maxRelErr(got, want *ir.Tensor) float64 {
	worst := 0.0
	for i := range want.F32() {
		d := math.Abs(float64(got.F32()[i])-float64(want.F32()[i])) / (1e-6 + 1e-5*math.Abs(float64(want.F32()[i])))
		worst = math.Max(worst, d)
	}
	return worst
}

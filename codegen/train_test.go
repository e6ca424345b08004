package codegen_test

import (
	"bytes"
	"testing"

	"github.com/dlcompiler/dlc/codegen"
	"github.com/dlcompiler/dlc/compiler"
	"github.com/dlcompiler/dlc/frontend/dl"
	"github.com/dlcompiler/dlc/passes"
	"github.com/dlcompiler/dlc/train"
)

// TestTrainerGenerates generates packages with a Trainer (dlc compile
// -train) for every optimizer, with batch norm and dropout, and layers
// named after the Trainer's own identifiers and imports: Generate
// type-checks the package (with the training and evaluation kernels), and
// generating twice gives the same bytes. The numbers are tested by
// package train, which builds and runs such packages.
func TestTrainerGenerates(t *testing.T) {
	src := `model small
const batch = 4
input x: f32[batch, 1, 6, 6]
logits = x | json: conv2d(3, 3, padding=1) | Trainer: batchnorm2d | relu | maxpool2d(2)
  | flatten | dropout(0.25) | rand: dense(8) | gelu | io: dense(3)
output logits
`
	for _, c := range []struct {
		opt          string
		momentum, wd float64
		nesterov     bool
		clip         float64
		loss         string
	}{{"sgd", 0, 0, false, 0, "cross_entropy"}, {"sgd", 0.9, 1e-4, true, 1, "nll"}, {"adam", 0, 1e-4, false, 0, "mse"}, {"adamw", 0, 1e-2, false, 0.5, "bce"}} {
		gen := func() map[string][]byte {
			g, err := dl.Load("small.dl", []byte(src), dl.Options{NoWeights: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := compiler.InitUntrained(g); err != nil {
				t.Fatal(err)
			}
			cfg := train.Defaults()
			cfg.Opt, cfg.Momentum, cfg.WeightDecay, cfg.Nesterov, cfg.ClipNorm, cfg.Loss = c.opt, c.momentum, c.wd, c.nesterov, c.clip, c.loss
			ps, err := passes.Select(2, "")
			if err != nil {
				t.Fatal(err)
			}
			spec, err := train.Spec(g, g, cfg, ps, true)
			if err != nil {
				t.Fatal(err)
			}
			files, err := compiler.Compile(g, compiler.Options{Package: "small", Passes: ps, SelfTest: true, Train: spec})
			if err != nil {
				t.Fatalf("%s: %v", c.opt, err)
			}
			return files
		}
		a, b := gen(), gen()
		for _, f := range []string{"trainer.go", "kernels_train.go", "kernels_eval.go", "trainer.bin", "trainer_test.go", "testdata/trainer.bin"} {
			if a[f] == nil {
				t.Errorf("%s: no %s", c.opt, f)
			}
		}
		if !bytes.Contains(a["trainer.go"], []byte("func (t *Trainer) StepClasses")) != (c.loss == "mse" || c.loss == "bce") {
			t.Errorf("%s %s: StepClasses is for class losses only", c.opt, c.loss)
		}
		for f := range a {
			if !bytes.Equal(a[f], b[f]) {
				t.Errorf("%s: %s differs between two generations", c.opt, f)
			}
		}
	}
	_ = codegen.Header
}

package autodiff_test

import (
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/dlcompiler/dlc/codegen"
	"github.com/dlcompiler/dlc/compiler"
	"github.com/dlcompiler/dlc/frontend/dl"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/passes"
	"github.com/dlcompiler/dlc/train"
)

// sentences draws n examples of examples/lstm_text's synthetic language
// (see its README): 20 tokens, fillers 0-9, positive words 10-12,
// negative 13-15 and `not` (16), which flips the next sentiment word; the
// label is the sign of the total (sentences totalling 0 are redrawn). x
// gets the token ids, target the one-hot labels.
func sentences(r *rand.Rand, n int, x, target *ir.Tensor) []int {
	labels := make([]int, n)
	for i := range n {
		for {
			total := 0
			for j := range 20 {
				var tok int64
				switch u := r.Float64(); {
				case u < 0.12:
					tok = 16
				case u < 0.32:
					tok = 10 + r.Int64N(6)
				default:
					tok = r.Int64N(10)
				}
				x.I64()[i*20+j] = tok
				if tok >= 10 && tok < 16 {
					s := 1
					if tok >= 13 {
						s = -1
					}
					if j > 0 && x.I64()[i*20+j-1] == 16 {
						s = -s
					}
					total += s
				}
			}
			if total != 0 {
				if total > 0 {
					labels[i] = 1
				}
				break
			}
		}
		target.F32()[i*2], target.F32()[i*2+1] = 0, 0
		target.F32()[i*2+labels[i]] = 1
	}
	return labels
}

// TestLSTMTextLearns trains examples/lstm_text's model (embedding, a
// 2-layer LSTM, the top layer's last state selected by a gather, a
// dense) from its initializers with gradients through time, by package
// train on the interpreter, 80 steps of 16 sentences: the loss must fall
// by 15% and below 0.9·ln 2 (chance), and the held-out accuracy pass
// 65%. (150 steps of 32 reach a loss of 0.09 and 97%, too long for a test.)
func TestLSTMTextLearns(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for a few seconds")
	}
	const batch = 16
	g, err := dl.LoadFile("../../examples/lstm_text/model.dl", dl.Options{NoWeights: true, Set: map[string]int{"batch": batch}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := train.Defaults()
	cfg.LR, cfg.ClipNorm = 1e-2, 1
	tr, err := train.New(g, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	x, target := ir.NewTensor(ir.I64, ir.Shape{batch, 20}), ir.NewTensor(ir.F32, ir.Shape{batch, 2})
	var losses []float64
	const steps = 80
	for range steps {
		sentences(r, batch, x, target)
		loss, _, err := tr.StepBatch(x, target, cfg.LR)
		if err != nil {
			t.Fatal(err)
		}
		losses = append(losses, float64(loss))
	}
	first, last := avg(losses[:10]), avg(losses[steps-10:])
	t.Logf("mean loss of the first 10 steps %.4f, of the last 10 %.4f", first, last)
	if !(last < 0.85*first && last < 0.9*math.Ln2) {
		t.Errorf("the loss went from %.4f to %.4f: not learning", first, last)
	}
	right, total := 0, 0
	for range 4 {
		labels := sentences(r, batch, x, target)
		pred, err := tr.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range labels {
			p := pred.F32()[i*2 : i*2+2]
			if (p[1] > p[0]) == (l == 1) {
				right++
			}
			total++
		}
	}
	acc := float64(right) / float64(total)
	t.Logf("held-out accuracy %.3f", acc)
	if acc < 0.65 {
		t.Errorf("held-out accuracy %.3f, want >= 0.65", acc)
	}
}

func avg(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// TestLSTMTextCompiledTrainer is dlc compile -train of examples/lstm_text:
// the generated package's own test (go test in a scratch module) checks
// that its Trainer's first losses are package train's and that Step
// allocates nothing.
func TestLSTMTextCompiledTrainer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a generated package")
	}
	g, err := dl.LoadFile("../../examples/lstm_text/model.dl", dl.Options{NoWeights: true, Set: map[string]int{"batch": 4}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := compiler.InitUntrained(g); err != nil {
		t.Fatal(err)
	}
	ps, err := passes.Select(2, "")
	if err != nil {
		t.Fatal(err)
	}
	cfg := train.Defaults()
	cfg.ClipNorm = 1
	spec, err := train.Spec(g, g, cfg, ps, true)
	if err != nil {
		t.Fatal(err)
	}
	files, err := compiler.Compile(g, compiler.Options{Package: "lstmtext", Passes: ps, SelfTest: true, Train: spec})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := codegen.WritePackage(filepath.Join(dir, "lstmtext"), files); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module lstm\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	test := exec.Command("go", "test", "-count=1", "-run", "TestTrainer", "./lstmtext")
	test.Dir = dir
	if out, err := test.CombinedOutput(); err != nil {
		t.Fatalf("the generated package's test: %v\n%s", err, out)
	}
}

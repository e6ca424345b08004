package train

import (
	"os/exec"
	"testing"

	"github.com/dlcompiler/dlc/frontend/dl"
	"github.com/dlcompiler/dlc/ir"
)

// TestCompiledEngine trains a small conv net with batch norm and dropout
// for a few steps on both engines from the same seed: the compiled
// engine's first step is checked against the interpreter by UseCompiled
// itself, and the losses of every step must stay close (the two sum in
// different precisions, so the weights drift apart by rounding only).
func TestCompiledEngine(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatal("the compiled engine needs the go command")
	}
	src := `model small
const batch = 8
input x: f32[batch, 1, 10, 10]
logits = x | c1: conv2d(4, 3, padding=1) | bn1: batchnorm2d | relu | maxpool2d(2)
  | c2: conv2d(6, 3, stride=2) | relu | avgpool2d(2) | flatten | dropout(0.2) | fc: dense(3)
output logits
`
	losses := func(compiled bool) []float32 {
		g, err := dl.Load("small.dl", []byte(src), dl.Options{NoWeights: true})
		if err != nil {
			t.Fatal(err)
		}
		cfg := Defaults()
		cfg.LR = 1e-2
		tr, err := New(g, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if compiled {
			stop, err := tr.UseCompiled(t.TempDir(), 1, t.Logf)
			if err != nil {
				t.Fatal(err)
			}
			defer stop()
		}
		ds := &Dataset{Name: "rand", Shape: ir.Shape{1, 10, 10}, Classes: 3}
		for i := range 48 * 100 {
			ds.X = append(ds.X, float32((i*7919)%13)/6-1)
		}
		for i := range 48 {
			ds.Labels = append(ds.Labels, int64(i%3))
		}
		var ls []float32
		for ep := 1; ep <= 2; ep++ {
			st, err := tr.Epoch(ds, ep, 2, nil)
			if err != nil {
				t.Fatal(err)
			}
			ls = append(ls, float32(st.Loss))
		}
		l, _, err := tr.Evaluate(ds)
		if err != nil {
			t.Fatal(err)
		}
		return append(ls, float32(l))
	}
	a, b := losses(false), losses(true)
	for i := range a {
		if d := a[i] - b[i]; d > 1e-3*a[i] || d < -1e-3*a[i] {
			t.Errorf("loss %d: interpreter %g, compiled %g", i, a[i], b[i])
		}
	}
}

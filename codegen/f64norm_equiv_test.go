package codegen

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/passes"
	"github.com/dlcompiler/dlc/passes/autodiff"
	"github.com/dlcompiler/dlc/runtime"
)

// The float64 forms of prelu, softmax, log_softmax, hardmax, batchnorm,
// layernorm, rmsnorm, groupnorm, lrn, nll_loss and the recurrent layers,
// and the backward graphs of their gradient rules: generated code against
// the interpreter at relative 1e-12 (and absolute 1e-12 of the output's
// magnitude). Both compute every sum in float64 in the same order, so
// they agree to rounding; 1e-12 leaves room only for the compiler's
// freedom with math.Exp and friends across architectures. Each case runs
// as built and again through the -O2 pipeline (fusion, tiling, the
// planned arena), which must keep f64 nodes off the f32 kernels.

// f64Value adds an f64 parameter uniform in [lo, hi).
func (b *gb) f64Value(lo, hi float64, s ...int) *ir.Value {
	b.k++
	t := ir.NewTensor(ir.F64, s)
	for i := range t.Len() {
		t.SetFloat(i, lo+(hi-lo)*b.r.Float64())
	}
	return b.g.AddParam(fmt.Sprintf("p%d", b.k), ir.Param, t.Type(), t, "", ir.Pos{})
}

func (b *gb) f64In(name string, s ...int) *ir.Value {
	return b.g.AddInput(name, ir.TensorType{DType: ir.F64, Shape: s}, ir.Pos{})
}

// f64RNNWeights are a recurrent node's f64 weights.
func (b *gb) f64RNNWeights(op string, F, H, L int, bidi, bias, peep bool) []*ir.Value {
	G, D := ir.RNNGates(op), 1
	if bidi {
		D = 2
	}
	var ws []*ir.Value
	for l := range L {
		in := F
		if l > 0 {
			in = D * H
		}
		for range D {
			ws = append(ws, b.f64Value(-1, 1, G*H, in), b.f64Value(-1, 1, G*H, H))
			if bias {
				ws = append(ws, b.f64Value(-1, 1, G*H), b.f64Value(-1, 1, G*H))
			}
			if peep {
				ws = append(ws, b.f64Value(-1, 1, 3*H))
			}
		}
	}
	return ws
}

// f64rnn adds a recurrent node over x [T, N, F] (or [N, T, F]).
func (b *gb) f64rnn(op string, a ir.Attrs, x *ir.Value, F, H int, states bool) []*ir.Value {
	L, _ := a["num_layers"].(int)
	if L == 0 {
		L = 1
	}
	bidi, _ := a["bidirectional"].(bool)
	peep, _ := a["peepholes"].(bool)
	bias := true
	if v, ok := a["bias"].(bool); ok {
		bias = v
	}
	a["hidden_size"] = H
	D := 1
	if bidi {
		D = 2
	}
	N := x.Type.Shape[1]
	if bf, _ := a["batch_first"].(bool); bf {
		N = x.Type.Shape[0]
	}
	ins := []*ir.Value{x}
	for range ir.RNNStates(op) {
		if states {
			ins = append(ins, b.f64Value(-1, 1, L*D, N, H))
		} else {
			ins = append(ins, nil)
		}
	}
	return b.node(op, append(ins, b.f64RNNWeights(op, F, H, L, bidi, bias, peep)...), a)
}

func f64NormCases() []equivCase {
	return []equivCase{
		{"f64softmax", func(b *gb) {
			x := b.f64In("x", 2, 3, 5)
			b.out(b.n1("softmax", []*ir.Value{x}, ir.Attrs{"axis": 1}), b.n1("softmax", []*ir.Value{x}, nil),
				b.n1("log_softmax", []*ir.Value{x}, nil), b.n1("log_softmax", []*ir.Value{x}, ir.Attrs{"axis": 0}),
				b.n1("hardmax", []*ir.Value{x}, ir.Attrs{"axis": 1}),
				b.n1("prelu", []*ir.Value{x, b.f64Value(-1, 1, 3, 1)}, nil))
		}},
		{"f64norms", func(b *gb) {
			x := b.f64In("x", 2, 4, 3, 3)
			bn := b.n1("batchnorm", []*ir.Value{x, b.f64Value(-1, 1, 4), b.f64Value(-1, 1, 4), b.f64Value(-1, 1, 4), b.f64Value(0.5, 1.5, 4)}, nil)
			ln := b.node("layernorm", []*ir.Value{x, b.f64Value(-1, 1, 3, 3), b.f64Value(-1, 1, 3, 3)}, ir.Attrs{"axis": 2, "stats": true})
			rms := b.n1("rmsnorm", []*ir.Value{x, b.f64Value(-1, 1, 3)}, nil)
			gn := b.n1("groupnorm", []*ir.Value{x, b.f64Value(-1, 1, 4), b.f64Value(-1, 1, 4)}, ir.Attrs{"num_groups": 2})
			lrn := b.n1("lrn", []*ir.Value{x}, ir.Attrs{"size": 3, "alpha": 0.5, "beta": 0.75, "bias": 1.5})
			b.out(append(ln, bn, rms, gn, lrn)...)
		}},
		{"f64bnrelu", func(b *gb) {
			// batchnorm then relu: fusion's chains are f32 only
			x := b.f64In("x", 2, 3, 4)
			bn := b.n1("batchnorm", []*ir.Value{x, b.f64Value(-1, 1, 3), b.f64Value(-1, 1, 3), b.f64Value(-1, 1, 3), b.f64Value(0.5, 1.5, 3)}, nil)
			b.out(b.n1("relu", []*ir.Value{bn}, nil))
		}},
		{"f64nll", func(b *gb) {
			x := b.f64In("x", 3, 4, 2)
			w := b.f64Value(0.5, 1.5, 4)
			t := b.constIDs([]int64{0, 1, 3, 2, 1, 3}, 3, 2)
			ls := b.n1("log_softmax", []*ir.Value{x}, ir.Attrs{"axis": 1})
			b.out(b.n1("nll_loss", []*ir.Value{ls, t, w}, ir.Attrs{"ignore_index": 1}),
				b.n1("nll_loss", []*ir.Value{x, b.ids("t", 3, 2)}, ir.Attrs{"reduction": "none"}),
				b.n1("nll_loss", []*ir.Value{x, t}, ir.Attrs{"reduction": "sum"}))
		}},
		{"f64rnn", func(b *gb) {
			x := b.f64In("x", 4, 2, 3)
			var outs []*ir.Value
			outs = append(outs, b.f64rnn("rnn", ir.Attrs{}, x, 3, 5, false)...)
			outs = append(outs, b.f64rnn("rnn", ir.Attrs{"nonlinearity": "relu", "bidirectional": true, "num_layers": 2}, x, 3, 4, true)...)
			outs = append(outs, b.f64rnn("gru", ir.Attrs{}, x, 3, 8, true)...)
			outs = append(outs, b.f64rnn("gru", ir.Attrs{"linear_before_reset": false, "bidirectional": true, "num_layers": 2}, x, 3, 4, false)...)
			outs = append(outs, b.f64rnn("gru", ir.Attrs{"linear_before_reset": false, "bias": false}, x, 3, 3, true)...)
			b.out(outs...)
		}},
		{"f64lstm", func(b *gb) {
			x := b.f64In("x", 3, 2, 3)
			var outs []*ir.Value
			outs = append(outs, b.f64rnn("lstm", ir.Attrs{}, x, 3, 8, false)...)
			outs = append(outs, b.f64rnn("lstm", ir.Attrs{"bidirectional": true, "batch_first": true, "num_layers": 2}, b.f64In("xb", 2, 3, 3), 3, 4, true)...)
			outs = append(outs, b.f64rnn("lstm", ir.Attrs{"peepholes": true, "bias": false}, x, 3, 3, true)...)
			outs = append(outs, b.f64rnn("lstm", ir.Attrs{"peepholes": true}, x, 3, 2, false)...)
			b.out(outs...)
		}},
		{"f64grad", f64GradCase},
	}
}

// f64GradCase is the backward graph of an f64 model through each rule
// of these ops: lstm, gru, layernorm, groupnorm, lrn, batchnorm, prelu,
// softmax, log_softmax, nll_loss; the outputs are the gradients.
func f64GradCase(b *gb) {
	x := b.f64In("x", 3, 2, 4)
	ys := b.f64rnn("lstm", ir.Attrs{}, x, 4, 4, false)
	h := b.f64rnn("gru", ir.Attrs{"linear_before_reset": false}, ys[0], 4, 4, false)[0] // [3, 2, 4]
	h = b.n1("layernorm", []*ir.Value{h, b.f64Value(-1, 1, 4), b.f64Value(-1, 1, 4)}, nil)
	p := b.n1("transpose", []*ir.Value{h}, ir.Attrs{"perm": []int{1, 2, 0}}) // [2, 4, 3]
	p = b.n1("groupnorm", []*ir.Value{p, b.f64Value(-1, 1, 4), b.f64Value(-1, 1, 4)}, ir.Attrs{"num_groups": 2})
	p = b.n1("lrn", []*ir.Value{p}, ir.Attrs{"size": 3})
	p = b.n1("batchnorm", []*ir.Value{p, b.f64Value(-1, 1, 4), b.f64Value(-1, 1, 4), b.f64Value(-1, 1, 4), b.f64Value(0.5, 1.5, 4)}, nil)
	p = b.n1("prelu", []*ir.Value{p, b.f64Value(0, 0.5, 4, 1)}, nil)
	p = b.n1("mul", []*ir.Value{p, b.n1("softmax", []*ir.Value{p}, ir.Attrs{"axis": 2})}, nil)
	ls := b.n1("log_softmax", []*ir.Value{p}, ir.Attrs{"axis": 1})
	loss := b.n1("nll_loss", []*ir.Value{ls, b.constIDs([]int64{0, 3, 1, 2, 2, 0}, 2, 3)}, nil)
	var wrt []*ir.Value
	for _, v := range append(append([]*ir.Value(nil), b.g.Inputs...), b.g.Params...) {
		if v.Type.DType == ir.F64 {
			wrt = append(wrt, v)
		}
	}
	grads, err := autodiff.Backward(b.g, loss, wrt)
	if err != nil {
		b.t.Fatal(err)
	}
	b.out(append([]*ir.Value{loss}, grads...)...)
	b.g.Prune()
}

// TestEquivalenceF64Norms generates each f64 case, as built and through
// -O2, and runs the packages' self-tests at relative 1e-12.
func TestEquivalenceF64Norms(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	dir := t.TempDir()
	if *equivKeep != "" {
		dir = *equivKeep // the -equiv.keep directory of TestEquivalence
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeModule(t, dir)
	ps, err := passes.Select(2, "")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i, c := range f64NormCases() {
		b := &gb{t: t, g: ir.NewGraph(c.name), r: rand.New(rand.NewPCG(uint64(i), 64))}
		b.g.Batch = 1
		c.build(b)
		if err := ir.Verify(b.g); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		o2 := b.g.Clone()
		o2.Name = c.name + "o2"
		if err := passes.Run(o2, ps, passes.Options{Verify: true}); err != nil {
			t.Fatalf("%s: %v", o2.Name, err)
		}
		for _, g := range []*ir.Graph{b.g, o2} {
			ins := RandomInputs(b.g, 1)
			outs, err := runtime.Run(b.g, ins)
			if err != nil {
				t.Fatalf("%s: interpreter: %v", g.Name, err)
			}
			files, err := Generate(g, Options{SelfTest: true, TestInputs: ins, TestOutputs: outs, RelTol: 1e-12, AbsTol: 1e-12})
			if err != nil {
				t.Errorf("%s: %v", g.Name, err)
				continue
			}
			if strings.Contains(string(files["kernels_amd64.s"]), "TEXT") {
				t.Errorf("%s: an f64 graph generated SIMD kernels", g.Name)
			}
			if err := WritePackage(filepath.Join(dir, g.Name), files); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	out, err := goTest(t, dir, "-count=1", "./...")
	if err != nil {
		t.Fatalf("go test over %d generated f64 packages failed: %v\n%s", n, err, trim(out))
	}
	got := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "ok ") {
			got++
		}
	}
	if got != n {
		t.Errorf("%d packages passed, want %d:\n%s", got, n, trim(out))
	}
}

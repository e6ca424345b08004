package runtime

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/ir"
)

// TestRNNFixtures runs the rnn, lstm and gru cases written by
// testdata/gen_rnn_fixtures.py (PyTorch, and an explicit formula for GRU
// with linear_before_reset=false) through the executor.
func TestRNNFixtures(t *testing.T) {
	for _, op := range []string{"rnn", "lstm", "gru"} {
		paths, err := filepath.Glob(filepath.Join("testdata", "fixtures", op+"_*.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		// Each op has five or more cases; fewer means files went missing.
		if len(paths) < 5 {
			t.Errorf("%s: %d fixtures, want at least 5: run testdata/gen_rnn_fixtures.py", op, len(paths))
		}
		for _, path := range paths {
			t.Run(strings.TrimSuffix(filepath.Base(path), ".safetensors"), func(t *testing.T) {
				runFixtureFile(t, path)
			})
		}
	}
}

// rnnTensor returns an f32 tensor of the given shape holding vals.
func rnnTensor(shape ir.Shape, vals ...float32) *ir.Tensor {
	return &ir.Tensor{DType: ir.F32, Shape: shape, Data: vals}
}

// rnnGraphRun builds a one-node graph of a recurrent op whose non-nil
// inputs are graph inputs, runs it through the executor and returns the
// outputs.
func rnnGraphRun(t *testing.T, op string, attrs ir.Attrs, in []*ir.Tensor) []*ir.Tensor {
	t.Helper()
	g := ir.NewGraph(op)
	vals := make([]*ir.Value, len(in))
	var feed []*ir.Tensor
	for i, x := range in {
		if x == nil {
			continue
		}
		vals[i] = g.AddInput("in"+string(rune('a'+i)), x.Type(), ir.Pos{})
		feed = append(feed, x)
	}
	n, err := g.AddNode(op, "r", vals, attrs, ir.Pos{})
	if err != nil {
		t.Fatalf("AddNode: %v", err)
	}
	for _, o := range n.Outputs {
		g.AddOutput(o.Name, o)
	}
	if err := ir.Verify(g); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	outs, err := Run(g, feed)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return outs
}

func rnnSig(v float64) float64 { return 1 / (1 + math.Exp(-v)) }

// TestRNNOneStep checks each op on one time step with H = F = N = 1
// against values worked out by hand from the formulas.
func TestRNNOneStep(t *testing.T) {
	one := ir.Shape{1, 1, 1}
	x := rnnTensor(one, 1)
	h0 := rnnTensor(one, 0.5)
	c0 := rnnTensor(one, 2)
	// LSTM: rows i, f, g, o; no bias.
	lstmI, lstmF, lstmG, lstmO := rnnSig(1+0.25), rnnSig(2+0.25), math.Tanh(3+0.25), rnnSig(4+0.25)
	lstmC := lstmF*2 + lstmI*lstmG
	// LSTM with peepholes p = (0.1, -0.2, 0.3) for i, f, o: i and f see
	// the old cell state (2), o the new one. With bias, b_ih + b_hh adds
	// 0.05 to i, 0.1 to f, 0.15 to g and 0.2 to o; p follows the biases.
	peepI, peepF, peepG := rnnSig(1+0.25+0.1*2), rnnSig(2+0.25-0.2*2), math.Tanh(3+0.25)
	peepC := peepF*2 + peepI*peepG
	peepO := rnnSig(4 + 0.25 + 0.3*peepC)
	peepBI, peepBF, peepBG := rnnSig(1+0.25+0.05+0.1*2), rnnSig(2+0.25+0.1-0.2*2), math.Tanh(3+0.25+0.15)
	peepBC := peepBF*2 + peepBI*peepBG
	peepBO := rnnSig(4 + 0.25 + 0.2 + 0.3*peepBC)
	lstmW := func() []*ir.Tensor {
		return []*ir.Tensor{rnnTensor(ir.Shape{4, 1}, 1, 2, 3, 4), rnnTensor(ir.Shape{4, 1}, 0.5, 0.5, 0.5, 0.5)}
	}
	peep := rnnTensor(ir.Shape{3}, 0.1, -0.2, 0.3)
	// GRU: rows r, z, n; W_ih = [1 2 3], W_hh = [0.5 -1 2], b_in = 0.1,
	// b_hn = 0.3, h = 0.5. The two forms differ in whether r scales b_hn.
	gruR, gruZ := rnnSig(1+0.25), rnnSig(2-0.5)
	gruPT := math.Tanh(3 + 0.1 + gruR*(2*0.5+0.3))
	gruONNX := math.Tanh(3 + 0.1 + 2*(gruR*0.5) + 0.3)
	gruW := []*ir.Tensor{
		rnnTensor(ir.Shape{3, 1}, 1, 2, 3), rnnTensor(ir.Shape{3, 1}, 0.5, -1, 2),
		rnnTensor(ir.Shape{3}, 0, 0, 0.1), rnnTensor(ir.Shape{3}, 0, 0, 0.3),
	}
	rnnW := func(wih float32) []*ir.Tensor {
		return []*ir.Tensor{
			rnnTensor(ir.Shape{1, 1}, wih), rnnTensor(ir.Shape{1, 1}, 2),
			rnnTensor(ir.Shape{1}, 0.1), rnnTensor(ir.Shape{1}, 0.2),
		}
	}
	cases := []struct {
		name  string
		op    string
		attrs ir.Attrs
		in    []*ir.Tensor
		want  []float64 // h, then c for lstm (y equals h for one step)
	}{
		{"rnn tanh", "rnn", ir.Attrs{"hidden_size": 1},
			append([]*ir.Tensor{x, h0}, rnnW(0.5)...), []float64{math.Tanh(0.5 + 0.1 + 2*0.5 + 0.2)}},
		{"rnn relu positive", "rnn", ir.Attrs{"hidden_size": 1, "nonlinearity": "relu"},
			append([]*ir.Tensor{x, h0}, rnnW(0.5)...), []float64{0.5 + 0.1 + 2*0.5 + 0.2}},
		{"rnn relu negative", "rnn", ir.Attrs{"hidden_size": 1, "nonlinearity": "relu"},
			append([]*ir.Tensor{x, h0}, rnnW(-3)...), []float64{0}},
		{"rnn no h0", "rnn", ir.Attrs{"hidden_size": 1},
			append([]*ir.Tensor{x, nil}, rnnW(0.5)...), []float64{math.Tanh(0.5 + 0.1 + 0.2)}},
		{"lstm", "lstm", ir.Attrs{"hidden_size": 1, "bias": false},
			[]*ir.Tensor{x, h0, c0, rnnTensor(ir.Shape{4, 1}, 1, 2, 3, 4), rnnTensor(ir.Shape{4, 1}, 0.5, 0.5, 0.5, 0.5)},
			[]float64{lstmO * math.Tanh(lstmC), lstmC}},
		{"lstm peepholes", "lstm", ir.Attrs{"hidden_size": 1, "bias": false, "peepholes": true},
			append(append([]*ir.Tensor{x, h0, c0}, lstmW()...), peep),
			[]float64{peepO * math.Tanh(peepC), peepC}},
		{"lstm peepholes bias", "lstm", ir.Attrs{"hidden_size": 1, "peepholes": true},
			append(append([]*ir.Tensor{x, h0, c0}, lstmW()...),
				rnnTensor(ir.Shape{4}, 0, 0.1, 0.05, 0.15), rnnTensor(ir.Shape{4}, 0.05, 0, 0.1, 0.05), peep),
			[]float64{peepBO * math.Tanh(peepBC), peepBC}},
		{"lstm zero peepholes", "lstm", ir.Attrs{"hidden_size": 1, "bias": false, "peepholes": true},
			append(append([]*ir.Tensor{x, h0, c0}, lstmW()...), rnnTensor(ir.Shape{3}, 0, 0, 0)),
			[]float64{lstmO * math.Tanh(lstmC), lstmC}},
		{"gru pytorch", "gru", ir.Attrs{"hidden_size": 1},
			append([]*ir.Tensor{x, h0}, gruW...), []float64{(1-gruZ)*gruPT + gruZ*0.5}},
		{"gru onnx", "gru", ir.Attrs{"hidden_size": 1, "linear_before_reset": false},
			append([]*ir.Tensor{x, h0}, gruW...), []float64{(1-gruZ)*gruONNX + gruZ*0.5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The kernel must not modify its inputs.
			before := make([]*ir.Tensor, len(c.in))
			for i, x := range c.in {
				if x != nil {
					before[i] = x.Clone()
				}
			}
			outs := rnnGraphRun(t, c.op, c.attrs, c.in)
			got := []float32{outs[1].F32()[0]}
			if c.op == "lstm" {
				got = append(got, outs[2].F32()[0])
			}
			if outs[0].F32()[0] != outs[1].F32()[0] {
				t.Errorf("y = %v, want h = %v", outs[0].F32()[0], outs[1].F32()[0])
			}
			for i, w := range c.want {
				if d := math.Abs(float64(got[i]) - w); d > 1e-6+1e-5*math.Abs(w) {
					t.Errorf("output %d = %v, want %v", i+1, got[i], w)
				}
			}
			for i, x := range c.in {
				if x != nil && !rnnSame(x, before[i]) {
					t.Errorf("input %d was modified: %v, was %v", i, x.F32(), before[i].F32())
				}
			}
		})
	}
	if gruPT == gruONNX {
		t.Fatal("the GRU case does not tell the two forms apart")
	}
}

func rnnSame(a, b *ir.Tensor) bool {
	if !a.Type().Equal(b.Type()) || len(a.F32()) != len(b.F32()) {
		return false
	}
	for i := range a.F32() {
		if a.F32()[i] != b.F32()[i] {
			return false
		}
	}
	return true
}

// TestRNNReverseAndLayout checks where a bidirectional layer stores its
// outputs: with W_hh = 0 and h' = x·1 (relu, one unit), every step copies
// its input, so y must equal x in both halves, and h_n holds x[T-1] for the
// forward and x[0] for the reverse direction. batch_first transposes x and
// y but not h_n.
func TestRNNReverseAndLayout(t *testing.T) {
	w := []*ir.Tensor{
		rnnTensor(ir.Shape{1, 1}, 1), rnnTensor(ir.Shape{1, 1}, 0),
		rnnTensor(ir.Shape{1, 1}, 1), rnnTensor(ir.Shape{1, 1}, 0),
	}
	for _, bf := range []bool{false, true} {
		// T = 3, N = 2; x[t][b] = 1 + t + 10*b.
		x := rnnTensor(ir.Shape{3, 2, 1}, 1, 11, 2, 12, 3, 13)
		want := []float32{1, 1, 11, 11, 2, 2, 12, 12, 3, 3, 13, 13}
		if bf {
			x = rnnTensor(ir.Shape{2, 3, 1}, 1, 2, 3, 11, 12, 13)
			want = []float32{1, 1, 2, 2, 3, 3, 11, 11, 12, 12, 13, 13}
		}
		attrs := ir.Attrs{"hidden_size": 1, "nonlinearity": "relu", "bidirectional": true, "batch_first": bf, "bias": false}
		outs := rnnGraphRun(t, "rnn", attrs, append([]*ir.Tensor{x, nil}, w...))
		if !rnnSame(outs[0], rnnTensor(outs[0].Shape, want...)) {
			t.Errorf("batch_first=%v: y = %v, want %v", bf, outs[0].F32(), want)
		}
		if wantH := []float32{3, 13, 1, 11}; !rnnSame(outs[1], rnnTensor(ir.Shape{2, 2, 1}, wantH...)) {
			t.Errorf("batch_first=%v: h = %v %v, want %v", bf, outs[1].Shape, outs[1].F32(), wantH)
		}
	}
}

// TestRNNDefaults checks that a node built without CheckAttrs (attributes
// missing) gets the op table's defaults, notably PyTorch's GRU form.
func TestRNNDefaults(t *testing.T) {
	in := []*ir.Tensor{
		rnnTensor(ir.Shape{1, 1, 1}, 1), rnnTensor(ir.Shape{1, 1, 1}, 0.5),
		rnnTensor(ir.Shape{3, 1}, 1, 2, 3), rnnTensor(ir.Shape{3, 1}, 0.5, -1, 2),
		rnnTensor(ir.Shape{3}, 0, 0, 0.1), rnnTensor(ir.Shape{3}, 0, 0, 0.3),
	}
	bare := &ir.Node{Name: "g", Op: "gru", Attrs: ir.Attrs{"hidden_size": 1}}
	got, err := rnnKernel(bare, in)
	if err != nil {
		t.Fatal(err)
	}
	full := ir.Attrs{"hidden_size": 1, "num_layers": 1, "bidirectional": false, "batch_first": false, "bias": true, "linear_before_reset": true}
	want, err := rnnKernel(&ir.Node{Name: "g", Op: "gru", Attrs: full}, in)
	if err != nil {
		t.Fatal(err)
	}
	if got[1].F32()[0] != want[1].F32()[0] {
		t.Errorf("h = %v with defaults, %v with explicit attributes", got[1].F32()[0], want[1].F32()[0])
	}
}

// TestRNNErrors calls the kernel directly with inputs the graph builder
// would have rejected: every case must return an error, never panic.
func TestRNNErrors(t *testing.T) {
	attrs := func(kv ...any) ir.Attrs {
		a := ir.Attrs{"hidden_size": 2, "num_layers": 1, "bidirectional": false, "batch_first": false, "bias": true, "nonlinearity": "tanh"}
		for i := 0; i+1 < len(kv); i += 2 {
			a[kv[i].(string)] = kv[i+1]
		}
		return a
	}
	// A valid rnn: T=2, N=1, F=3, H=2.
	good := func() []*ir.Tensor {
		return []*ir.Tensor{
			ir.NewTensor(ir.F32, ir.Shape{2, 1, 3}), nil,
			ir.NewTensor(ir.F32, ir.Shape{2, 3}), ir.NewTensor(ir.F32, ir.Shape{2, 2}),
			ir.NewTensor(ir.F32, ir.Shape{2}), ir.NewTensor(ir.F32, ir.Shape{2}),
		}
	}
	with := func(i int, t *ir.Tensor) []*ir.Tensor { in := good(); in[i] = t; return in }
	// A valid lstm without its peepholes: T=2, N=1, F=3, H=2.
	lstmGood := func() []*ir.Tensor {
		return []*ir.Tensor{
			ir.NewTensor(ir.F32, ir.Shape{2, 1, 3}), nil, nil,
			ir.NewTensor(ir.F32, ir.Shape{8, 3}), ir.NewTensor(ir.F32, ir.Shape{8, 2}),
			ir.NewTensor(ir.F32, ir.Shape{8}), ir.NewTensor(ir.F32, ir.Shape{8}),
		}
	}
	cases := []struct {
		name  string
		op    string
		attrs ir.Attrs
		in    []*ir.Tensor
		want  string
	}{
		{"not recurrent", "dense", attrs(), good(), "not a recurrent layer"},
		{"bad nonlinearity", "rnn", attrs("nonlinearity", "sigmoid"), good(), "nonlinearity"},
		{"hidden_size zero", "rnn", attrs("hidden_size", 0), good(), "must be positive"},
		{"num_layers zero", "rnn", attrs("num_layers", 0), good(), "must be positive"},
		{"attribute of wrong kind", "rnn", attrs("bias", 1), good(), "bias"},
		{"hidden_size missing", "lstm", ir.Attrs{}, good(), "hidden_size"},
		{"too few inputs", "rnn", attrs(), good()[:5], "takes 6 inputs, got 5"},
		{"bias=false arity", "rnn", attrs("bias", false), good(), "takes 4 inputs, got 6"},
		{"lstm arity", "lstm", attrs(), good(), "takes 7 inputs"},
		{"x missing", "rnn", attrs(), with(0, nil), "x is missing"},
		{"x rank", "rnn", attrs(), with(0, ir.NewTensor(ir.F32, ir.Shape{2, 3})), "rank 3"},
		{"x dtype", "rnn", attrs(), with(0, ir.NewTensor(ir.I64, ir.Shape{2, 1, 3})), "f32"},
		{"x shape overflows", "rnn", attrs(), with(0, &ir.Tensor{DType: ir.F32, Shape: ir.Shape{1 << 33, 1 << 31, 1}}), "too many elements"},
		{"x short data", "rnn", attrs(), with(0, rnnTensor(ir.Shape{2, 1, 3}, 1, 2)), "holds 2 elements"},
		{"h0 shape", "rnn", attrs(), with(1, ir.NewTensor(ir.F32, ir.Shape{1, 2, 2})), "h0 must be f32[1,1,2]"},
		{"h0 short data", "rnn", attrs(), with(1, rnnTensor(ir.Shape{1, 1, 2}, 1)), "h0"},
		{"w_ih shape", "rnn", attrs(), with(2, ir.NewTensor(ir.F32, ir.Shape{2, 4})), "layer 0 forward w_ih must be f32[2,3]"},
		{"w_hh missing", "rnn", attrs(), with(3, nil), "w_hh is missing"},
		{"b_hh shape", "rnn", attrs(), with(5, ir.NewTensor(ir.F32, ir.Shape{3})), "b_hh must be f32[2]"},
		{"reverse weights missing", "rnn", attrs("bidirectional", true), good(), "takes 10 inputs"},
		{"batch_first swaps N", "rnn", attrs("batch_first", true), with(1, ir.NewTensor(ir.F32, ir.Shape{1, 1, 2})), "h0 must be f32[1,2,2]"},
		{"gru gates", "gru", attrs("linear_before_reset", true), good(), "w_ih must be f32[6,3]"},
		{"peepholes arity", "lstm", attrs("peepholes", true), lstmGood(), "peepholes and bias=true takes 8 inputs, got 7"},
		{"peephole shape", "lstm", attrs("peepholes", true), append(lstmGood(), ir.NewTensor(ir.F32, ir.Shape{2})), "layer 0 forward p must be f32[6]"},
		{"peephole missing", "lstm", attrs("peepholes", true), append(lstmGood(), nil), "p is missing"},
		{"huge hidden_size", "rnn", attrs("hidden_size", 1<<62), good(), "too large"},
		{"empty x claiming a huge batch", "rnn", attrs(), []*ir.Tensor{
			ir.NewTensor(ir.F32, ir.Shape{2, 1 << 40, 0}), nil,
			ir.NewTensor(ir.F32, ir.Shape{2, 0}), ir.NewTensor(ir.F32, ir.Shape{2, 2}),
			ir.NewTensor(ir.F32, ir.Shape{2}), ir.NewTensor(ir.F32, ir.Shape{2}),
		}, "too large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := c.attrs
			if c.op != "rnn" {
				delete(a, "nonlinearity")
			}
			_, err := rnnKernel(&ir.Node{Name: "r", Op: c.op, Attrs: a}, c.in)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestRNNKernelsRegistered checks that the executor finds the kernels.
func TestRNNKernelsRegistered(t *testing.T) {
	for _, op := range []string{"rnn", "lstm", "gru"} {
		if !HasKernel(op) {
			t.Errorf("no kernel for %s", op)
		}
	}
}

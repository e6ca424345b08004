package dl_test

import (
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/frontend/dl"
	"github.com/dlcompiler/dlc/frontend/onnx"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/runtime"
	"github.com/dlcompiler/dlc/weights"
)

// Tolerance of the round trip. Formatting changes no arithmetic (the
// reloaded graph computes the same ops on the same data), so the outputs
// agree far closer than this; the bound is the project's usual one.
const (
	fmtRTol = 1e-5
	fmtATol = 1e-6
)

// roundTrip formats g into dir, loads the result and returns it with the
// source.
func roundTrip(t *testing.T, g *ir.Graph, dir string) (*ir.Graph, string) {
	t.Helper()
	src, tensors, err := dl.Format(g, "model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "model.dl")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if len(tensors) > 0 {
		if err := weights.WriteSafetensors(filepath.Join(dir, "model.safetensors"), tensors, nil); err != nil {
			t.Fatal(err)
		}
	}
	h, err := dl.LoadFile(path, dl.Options{})
	if err != nil {
		t.Fatalf("formatted source does not load: %v\n%s", err, src)
	}
	return h, string(src)
}

// sameOutputs runs both graphs on inputs and compares every output.
func sameOutputs(t *testing.T, g, h *ir.Graph, inputs []*ir.Tensor, src string) {
	t.Helper()
	want, err := runtime.Run(g, inputs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := runtime.Run(h, inputs)
	if err != nil {
		t.Fatalf("run formatted graph: %v\n%s", err, src)
	}
	if len(got) != len(want) {
		t.Fatalf("%d outputs, want %d\n%s", len(got), len(want), src)
	}
	for i := range want {
		if err := closeTo(got[i], want[i]); err != nil {
			t.Errorf("output %d (%s): %v\n%s", i, g.OutputNames[i], err, src)
		}
	}
}

func closeTo(got, want *ir.Tensor) error {
	if !got.Type().Equal(want.Type()) {
		return fmt.Errorf("got %v, want %v", got.Type(), want.Type())
	}
	for i := range want.I64() {
		if got.I64()[i] != want.I64()[i] {
			return fmt.Errorf("element %d: got %d, want %d", i, got.I64()[i], want.I64()[i])
		}
	}
	for i, w := range want.F32() {
		g := got.F32()[i]
		if d := math.Abs(float64(g) - float64(w)); !(d <= fmtATol+fmtRTol*math.Abs(float64(w))) {
			return fmt.Errorf("element %d: got %v, want %v", i, g, w)
		}
	}
	return nil
}

func readNpy(t *testing.T, path string) *ir.Tensor {
	t.Helper()
	w, err := weights.ReadNpy(path)
	if err != nil {
		t.Fatal(err)
	}
	x := &ir.Tensor{Shape: ir.Shape(append([]int{}, w.Shape...))}
	if w.DType == weights.I64 {
		x.DType, x.Data = ir.I64, w.Data
	} else {
		x.DType, x.Data = ir.F32, w.Data
	}
	return x
}

// TestFormatONNXModels imports every fixture model, formats it, reloads
// the .dl and checks the outputs on the recorded inputs.
func TestFormatONNXModels(t *testing.T) {
	models, err := filepath.Glob("../onnx/testdata/models/*/model.onnx")
	if err != nil {
		t.Fatal(err)
	}
	if len(models) == 0 {
		t.Skip("no ONNX fixture models")
	}
	for _, m := range models {
		dir := filepath.Dir(m)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			g, err := onnx.Load(m)
			if err != nil {
				t.Fatal(err)
			}
			var inputs []*ir.Tensor
			for i := range g.Inputs {
				inputs = append(inputs, readNpy(t, filepath.Join(dir, fmt.Sprintf("input_%d.npy", i))))
			}
			h, src := roundTrip(t, g, t.TempDir())
			sameOutputs(t, g, h, inputs, src)
		})
	}
}

// fillParams gives every parameter without data deterministic random
// values, so that a model without a weights file can be run.
func fillParams(g *ir.Graph, rng *rand.Rand) {
	for _, p := range g.Params {
		if p.Data != nil {
			continue
		}
		p.Data = ir.NewTensor(p.Type.DType, p.Type.Shape)
		for i := range p.Data.F32() {
			p.Data.F32()[i] = float32(rng.NormFloat64() * 0.3)
		}
	}
}

// randomInputs makes inputs for g: normal f32 values, i64 ids in [0, 3).
func randomInputs(g *ir.Graph, rng *rand.Rand) []*ir.Tensor {
	var ins []*ir.Tensor
	for _, v := range g.Inputs {
		x := ir.NewTensor(v.Type.DType, v.Type.Shape)
		for i := range x.F32() {
			x.F32()[i] = float32(rng.NormFloat64())
		}
		for i := range x.I64() {
			x.I64()[i] = int64(rng.Intn(3))
		}
		ins = append(ins, x)
	}
	return ins
}

// TestFormatExamples formats the example models and checks that the
// reloaded graphs compute the same outputs.
func TestFormatExamples(t *testing.T) {
	models, err := filepath.Glob("../../examples/*/model.dl")
	if err != nil {
		t.Fatal(err)
	}
	if len(models) == 0 {
		t.Skip("no examples")
	}
	for _, m := range models {
		t.Run(filepath.Base(filepath.Dir(m)), func(t *testing.T) {
			g, err := dl.LoadFile(m, dl.Options{})
			if err != nil {
				// An example whose weights are not checked in.
				if g, err = dl.LoadFile(m, dl.Options{NoWeights: true}); err != nil {
					t.Fatal(err)
				}
			}
			rng := rand.New(rand.NewSource(1))
			fillParams(g, rng)
			h, src := roundTrip(t, g, t.TempDir())
			if h.Batch != g.Batch {
				t.Errorf("batch %d, want %d", h.Batch, g.Batch)
			}
			sameOutputs(t, g, h, randomInputs(g, rng), src)
			// The reloaded graph formats again (layers without parameters
			// now carry the frontend's generated names, so the text may
			// differ in variable names).
			if _, _, err := dl.Format(h, "model.safetensors"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestFormatOps builds a graph using the ops and attributes that the
// fixtures do not (asymmetric pads, gather with a tensor of indices, a
// scalar first operand, GRU in ONNX's form ...) and round-trips it.
func TestFormatOps(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	g := ir.NewGraph("ops")
	randT := func(dt ir.DType, s ...int) *ir.Tensor {
		x := ir.NewTensor(dt, s)
		for i := range x.F32() {
			x.F32()[i] = float32(rng.NormFloat64() * 0.5)
		}
		return x
	}
	param := func(name string, s ...int) *ir.Value {
		d := randT(ir.F32, s...)
		return g.AddParam(name, ir.Param, d.Type(), d, "", ir.Pos{})
	}
	cnst := func(name string, d *ir.Tensor) *ir.Value {
		return g.AddParam(name, ir.Const, d.Type(), d, "", ir.Pos{})
	}
	add := func(op, name string, ins []*ir.Value, a ir.Attrs) *ir.Node {
		t.Helper()
		n, err := g.AddNode(op, name, ins, a, ir.Pos{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return n
	}
	x := g.AddInput("x", ir.TensorType{DType: ir.F32, Shape: ir.Shape{2, 3, 9, 8}}, ir.Pos{})
	seq := g.AddInput("seq", ir.TensorType{DType: ir.F32, Shape: ir.Shape{4, 2, 5}}, ir.Pos{})
	ids := g.AddInput("ids", ir.TensorType{DType: ir.I64, Shape: ir.Shape{2, 3}}, ir.Pos{})

	c := add("conv", "/enc/conv/Conv", []*ir.Value{x, param("w", 4, 3, 3, 2), nil},
		ir.Attrs{"pads": []int{0, 1, 2, 0}, "strides": []int{2, 1}, "dilations": []int{1, 2}})
	bn := add("batchnorm", "/enc/bn/BatchNormalization", []*ir.Value{c.Out(), param("s", 4), param("b", 4),
		cnst("m", randT(ir.F32, 4)), cnst("v", &ir.Tensor{DType: ir.F32, Shape: ir.Shape{4}, Data: []float32{1, 2, 3, 4}})},
		ir.Attrs{"epsilon": 1e-3})
	lr := add("leaky_relu", "/enc/LeakyRelu", []*ir.Value{bn.Out()}, ir.Attrs{"alpha": 0.2})
	mp := add("maxpool", "/MaxPool", []*ir.Value{lr.Out()}, ir.Attrs{"kernel": []int{2, 3}, "pads": []int{1, 0, 0, 2}, "strides": []int{1, 2}})
	ap := add("avgpool", "/AveragePool", []*ir.Value{mp.Out()}, ir.Attrs{"kernel": []int{2, 2}, "pads": []int{1, 1, 0, 0}, "count_include_pad": false, "ceil_mode": true})
	two := cnst("two", &ir.Tensor{DType: ir.F32, Shape: ir.Shape{}, Data: []float32{2.5}})
	sub := add("sub", "/Sub", []*ir.Value{two, ap.Out()}, nil)
	cl := add("clip", "/Clip", []*ir.Value{sub.Out()}, ir.Attrs{"min": -1.5})
	fl := add("flatten", "/Flatten", []*ir.Value{cl.Out()}, ir.Attrs{"axis": 2})
	us := add("unsqueeze", "/Unsqueeze", []*ir.Value{fl.Out()}, ir.Attrs{"axes": []int{0, 3}})
	sq := add("squeeze", "/Squeeze", []*ir.Value{us.Out()}, ir.Attrs{"axes": []int{0}})
	idx := cnst("idx", &ir.Tensor{DType: ir.I64, Shape: ir.Shape{2, 2}, Data: []int64{1, 0, -1, 2}})
	ga := add("gather", "/Gather", []*ir.Value{sq.Out(), idx}, ir.Attrs{"axis": 1})
	pm := add("transpose", "/Transpose", []*ir.Value{ga.Out()}, ir.Attrs{"perm": []int{3, 0, 2, 1}})
	rs := add("reshape", "/Reshape", []*ir.Value{pm.Out()}, ir.Attrs{"shape": []int{0, -1}})
	mm := add("matmul", "/head/MatMul", []*ir.Value{rs.Out(), param("proj", rs.Out().Type.Shape[1], 6)}, nil)
	hb := param("head_bias", 6)
	hd := add("add", "/head/Add", []*ir.Value{hb, mm.Out()}, nil)
	do := add("dropout", "/Dropout", []*ir.Value{hd.Out()}, ir.Attrs{"p": 0.1})
	ls := add("log_softmax", "/LogSoftmax", []*ir.Value{do.Out()}, ir.Attrs{"axis": 0})

	h0 := cnst("h0", ir.NewTensor(ir.F32, ir.Shape{2, 2, 3}))
	var gw []*ir.Value
	for _, n := range ir.RNNParamNames(1, true, true, false) {
		s := []int{9, 5}
		switch {
		case strings.HasPrefix(n, "weight_hh"):
			s = []int{9, 3}
		case strings.HasPrefix(n, "bias"):
			s = []int{9}
		}
		gw = append(gw, param("gru_"+n, s...))
	}
	gru := add("gru", "/rnn/GRU", append([]*ir.Value{seq, h0}, gw...),
		ir.Attrs{"hidden_size": 3, "bidirectional": true, "linear_before_reset": false})
	var lw []*ir.Value
	for _, n := range ir.RNNParamNames(1, false, true, true) {
		s := []int{12, 5}
		switch {
		case strings.HasPrefix(n, "weight_hh"):
			s = []int{12, 3}
		case strings.HasPrefix(n, "bias"):
			s = []int{12}
		case strings.HasPrefix(n, "weight_peephole"):
			s = []int{9}
		}
		lw = append(lw, param("lstm_"+n, s...))
	}
	lstm := add("lstm", "/rnn/LSTM", append([]*ir.Value{seq, nil, nil}, lw...),
		ir.Attrs{"hidden_size": 3, "peepholes": true})
	sel := add("gather", "/Gather_1", []*ir.Value{gru.Outputs[1], cnst("i1", &ir.Tensor{DType: ir.I64, Shape: ir.Shape{}, Data: []int64{-1}})}, ir.Attrs{"axis": 0})
	emb := add("embedding", "/emb/Gather", []*ir.Value{ids, param("table", 7, 4)}, nil)
	gp := add("global_maxpool", "/GlobalMaxPool", []*ir.Value{x}, nil)
	cat := add("concat", "/Concat", []*ir.Value{gp.Out(), gp.Out()}, ir.Attrs{"axis": 1})
	rsum := add("reduce_sum", "/ReduceSum", []*ir.Value{cat.Out()}, ir.Attrs{"axes": []int{1, -1}, "keepdims": true})
	rmax := add("reduce_max", "/ReduceMax", []*ir.Value{x}, nil)
	// Activations, pow, maximum and minimum (ops_act.go).
	act := c.Out()
	for _, a := range []struct {
		op    string
		attrs ir.Attrs
	}{{"hardswish", nil}, {"hardsigmoid", ir.Attrs{"alpha": 0.2}}, {"elu", ir.Attrs{"alpha": 0.5}}, {"selu", nil}, {"celu", nil},
		{"softplus", ir.Attrs{"beta": 2.0}}, {"softsign", nil}, {"mish", nil}, {"silu", nil}, {"threshold", ir.Attrs{"threshold": 0.1, "value": 2.0}},
		{"shrink", ir.Attrs{"lambd": 0.25, "bias": 0.25}}, {"shrink", ir.Attrs{"lambd": 1.0}}} {
		act = add(a.op, "/"+a.op+strconv.Itoa(len(g.Nodes)), []*ir.Value{act}, a.attrs).Out()
	}
	act = add("prelu", "/PRelu", []*ir.Value{act, param("slope", 4, 1, 1)}, nil).Out()
	act = add("pow", "/Pow", []*ir.Value{act, cnst("two_f", &ir.Tensor{DType: ir.F32, Shape: ir.Shape{}, Data: []float32{2}})}, nil).Out()
	act = add("maximum", "/Max", []*ir.Value{act, c.Out()}, nil).Out()
	act = add("minimum", "/Min", []*ir.Value{act, cnst("half", &ir.Tensor{DType: ir.F32, Shape: ir.Shape{}, Data: []float32{0.5}})}, nil).Out()
	as := act.Type.Shape
	act = add("layernorm", "/LayerNorm", []*ir.Value{act, param("ln_w", as[2:]...), param("ln_b", as[2:]...)}, ir.Attrs{"axis": 2}).Out()
	act = add("rmsnorm", "/RMSNorm", []*ir.Value{act, param("rms_w", as[3])}, ir.Attrs{"epsilon": 1e-6}).Out()
	act = add("groupnorm", "/GroupNorm", []*ir.Value{act, param("gn_w", as[1]), param("gn_b", as[1])}, ir.Attrs{"num_groups": 2}).Out()
	act = add("groupnorm", "/InstanceNorm", []*ir.Value{act, nil, nil}, ir.Attrs{"num_groups": as[1], "epsilon": 1e-3}).Out()
	act = add("lrn", "/LRN", []*ir.Value{act}, ir.Attrs{"size": 3, "alpha": 0.01}).Out()
	tk := add("topk", "/TopK", []*ir.Value{act}, ir.Attrs{"k": 2, "axis": 1, "largest": false})
	g.AddOutput("topk_i", tk.Outputs[1])
	g.AddOutput("act", act)
	g.AddOutput("sum", rsum.Out())
	g.AddOutput("max", rmax.Out())
	g.AddOutput("out", ls.Out())
	g.AddOutput("h", gru.Outputs[1])
	g.AddOutput("last", sel.Out())
	g.AddOutput("lstm_c", lstm.Outputs[2])
	g.AddOutput("emb", emb.Out())
	g.AddOutput("cat", cat.Out())
	g.AddOutput("bias", hb)
	if err := ir.Verify(g); err != nil {
		t.Fatal(err)
	}
	h, src := roundTrip(t, g, t.TempDir())
	t.Logf("\n%s", src)
	for _, want := range []string{"pads=[0, 1, 2, 0]", "index_select(", "linear_before_reset=false", "peepholes=true", "2.5 - ", "const idx: i64[2, 2] = [1, 0, -1, 2]", "select(0, -1)", "enc_conv: conv2d(", "sum(dim=[1,-1], keepdim=true)", "| amax\n",
		"| softshrink(0.25)", "| hardshrink(1)", "prelu(num_parameters=4)", "| pow(2)", "| minimum(0.5)", "threshold=0.1", "hardsigmoid(alpha=0.2)",
		"layer_norm: layernorm([", "rms_norm: rmsnorm([", "eps=1e-06", "groupnorm(2, 4)", "| instancenorm2d(eps=0.001)", "| local_response_norm(3, alpha=0.01)", "topk(2, dim=1, largest=false)"} {
		if !strings.Contains(src, want) {
			t.Errorf("source lacks %q", want)
		}
	}
	sameOutputs(t, g, h, randomInputs(g, rng), src)
}

// TestFormatErrors checks that what .dl cannot express is reported by
// node.
func TestFormatErrors(t *testing.T) {
	g := ir.NewGraph("bad")
	x := g.AddInput("x", ir.TensorType{DType: ir.F32, Shape: ir.Shape{2, 4}}, ir.Pos{})
	w := g.AddParam("w", ir.Param, ir.TensorType{DType: ir.F32, Shape: ir.Shape{3, 4}}, nil, "he", ir.Pos{})
	n, err := g.AddNode("dense", "fc", []*ir.Value{x, w}, nil, ir.Pos{})
	if err != nil {
		t.Fatal(err)
	}
	g.AddOutput("y", n.Out())
	_, _, err = dl.Format(g, "m.safetensors")
	if err == nil || !strings.Contains(err.Error(), "node fc (dense)") || !strings.Contains(err.Error(), "no data") {
		t.Errorf("got %v, want an error about fc's missing data", err)
	}
}

// A maxpool with an indices output has no .dl form.
func TestFormatMaxPoolIndices(t *testing.T) {
	g := ir.NewGraph("pool")
	x := g.AddInput("x", ir.TensorType{DType: ir.F32, Shape: ir.Shape{1, 1, 4, 4}}, ir.Pos{})
	n, err := g.AddNode("maxpool", "p", []*ir.Value{x}, ir.Attrs{"kernel": []int{2, 2}, "indices": true}, ir.Pos{})
	if err != nil {
		t.Fatal(err)
	}
	g.AddOutput("y", n.Outputs[0])
	g.AddOutput("i", n.Outputs[1])
	_, _, err = dl.Format(g, "m.safetensors")
	if err == nil || !strings.Contains(err.Error(), "indices output cannot be written") {
		t.Errorf("got %v, want an error about the indices output", err)
	}
}

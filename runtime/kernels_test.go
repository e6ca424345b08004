package runtime

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/ir"
)

// Hand-checked cases the PyTorch fixtures cannot cover (torch has no
// dilated average pooling) and the error paths of the kernels: bad user
// data must give an error from Run, never a panic.

func testF32(shape ir.Shape, vals ...float32) *ir.Tensor {
	return &ir.Tensor{DType: ir.F32, Shape: shape, Data: vals}
}

func testI64(shape ir.Shape, vals ...int64) *ir.Tensor {
	return &ir.Tensor{DType: ir.I64, Shape: shape, Data: vals}
}

// runOp runs op on the given inputs (all graph inputs) through Run.
func runSingleOp(t *testing.T, op string, attrs ir.Attrs, in ...*ir.Tensor) ([]*ir.Tensor, error) {
	t.Helper()
	g := ir.NewGraph(op)
	var vs []*ir.Value
	for i, x := range in {
		vs = append(vs, g.AddInput(string(rune('a'+i)), x.Type(), ir.Pos{}))
	}
	n, err := g.AddNode(op, op, vs, attrs, ir.Pos{})
	if err != nil {
		t.Fatalf("AddNode(%s): %v", op, err)
	}
	for _, o := range n.Outputs {
		g.AddOutput(o.Name, o)
	}
	return Run(g, in)
}

func wantF32(t *testing.T, got *ir.Tensor, want ...float32) {
	t.Helper()
	if len(got.F32()) != len(want) {
		t.Fatalf("got %d elements %v, want %v", len(got.F32()), got.F32(), want)
	}
	for i := range want {
		if got.F32()[i] != want[i] {
			t.Fatalf("got %v, want %v", got.F32(), want)
		}
	}
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one mentioning %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

func TestEmbeddingBadIDs(t *testing.T) {
	w := testF32(ir.Shape{3, 2}, 0, 1, 2, 3, 4, 5)
	for _, id := range []int64{3, -1, math.MaxInt64, math.MinInt64} {
		_, err := runSingleOp(t, "embedding", nil, testI64(ir.Shape{2}, 0, id), w)
		wantErr(t, err, "embedding", "token id "+itoa(id), "vocabulary size 3")
	}
	out, err := runSingleOp(t, "embedding", nil, testI64(ir.Shape{2}, 2, 0), w)
	if err != nil {
		t.Fatal(err)
	}
	wantF32(t, out[0], 4, 5, 0, 1)
}

func TestGatherBadIndices(t *testing.T) {
	data := testF32(ir.Shape{2, 3}, 0, 1, 2, 3, 4, 5)
	for _, idx := range []int64{3, -4, math.MaxInt64, math.MinInt64} {
		_, err := runSingleOp(t, "gather", ir.Attrs{"axis": 1}, data, testI64(ir.Shape{1}, idx))
		wantErr(t, err, "index "+itoa(idx), "size 3")
	}
	out, err := runSingleOp(t, "gather", ir.Attrs{"axis": 1}, data, testI64(ir.Shape{2}, -3, 2))
	if err != nil {
		t.Fatal(err)
	}
	wantF32(t, out[0], 0, 2, 3, 5)
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func TestIntegerDivision(t *testing.T) {
	_, err := runSingleOp(t, "div", nil, testI64(ir.Shape{2}, 7, 1), testI64(ir.Shape{2}, 2, 0))
	wantErr(t, err, "division by zero")
	out, err := runSingleOp(t, "div", nil, testI64(ir.Shape{4}, 7, -7, 7, math.MinInt64), testI64(ir.Shape{4}, 2, 2, -2, -1))
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{3, -3, -3, math.MinInt64} // truncation; MinInt64/-1 wraps
	for i, w := range want {
		if out[0].I64()[i] != w {
			t.Fatalf("got %v, want %v", out[0].I64(), want)
		}
	}
	// Float division by zero is IEEE, not an error.
	out, err = runSingleOp(t, "div", nil, testF32(ir.Shape{2}, 1, -1), testF32(ir.Shape{}, 0))
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsInf(float64(out[0].F32()[0]), 1) || !math.IsInf(float64(out[0].F32()[1]), -1) {
		t.Fatalf("got %v, want [+Inf -Inf]", out[0].F32())
	}
}

func TestParamDataMismatch(t *testing.T) {
	g := ir.NewGraph("m")
	x := g.AddInput("x", ir.TensorType{DType: ir.F32, Shape: ir.Shape{1, 3}}, ir.Pos{})
	wt := ir.TensorType{DType: ir.F32, Shape: ir.Shape{2, 3}}
	short := &ir.Tensor{DType: ir.F32, Shape: ir.Shape{2, 3}, Data: make([]float32, 5)}
	w := g.AddParam("w", ir.Param, wt, short, "", ir.Pos{})
	n, err := g.AddNode("dense", "fc", []*ir.Value{x, w}, nil, ir.Pos{})
	if err != nil {
		t.Fatal(err)
	}
	g.AddOutput("y", n.Out())
	in := []*ir.Tensor{testF32(ir.Shape{1, 3}, 1, 2, 3)}
	_, err = Run(g, in)
	wantErr(t, err, "param w", "5 elements")
	w.Data = testF32(ir.Shape{3, 2}, 1, 2, 3, 4, 5, 6)
	_, err = Run(g, in)
	wantErr(t, err, "param w is declared f32[2,3] but holds f32[3,2]")
}

// Dilated average pooling exists in ONNX (opset 19) but not in torch.
func TestAvgPoolDilation(t *testing.T) {
	x := testF32(ir.Shape{1, 1, 5}, 1, 2, 3, 4, 5)
	out, err := runSingleOp(t, "avgpool", ir.Attrs{"kernel": []int{2}, "strides": []int{1}, "dilations": []int{2}}, x)
	if err != nil {
		t.Fatal(err)
	}
	wantF32(t, out[0], 2, 3, 4) // (1+3)/2, (2+4)/2, (3+5)/2
	// With padding 1 the taps are {-1,1}, {0,2}, {1,3}, {2,4}, {3,5}: the
	// padding taps -1 and 5 read zero and count in the divisor.
	attrs := ir.Attrs{"kernel": []int{2}, "strides": []int{1}, "dilations": []int{2}, "pads": []int{1}}
	out, err = runSingleOp(t, "avgpool", attrs, x)
	if err != nil {
		t.Fatal(err)
	}
	wantF32(t, out[0], 1, 2, 3, 4, 2)
}

// A window whose taps all fall in the padding (possible only with
// dilation) gives -inf for max pooling, as in torch, and 0 for average
// pooling.
func TestPoolEmptyWindow(t *testing.T) {
	x := testF32(ir.Shape{1, 1, 1}, 7)
	attrs := ir.Attrs{"kernel": []int{2}, "strides": []int{1}, "dilations": []int{3}, "pads": []int{2}}
	out, err := runSingleOp(t, "maxpool", attrs, x)
	if err != nil {
		t.Fatal(err)
	}
	inf := float32(math.Inf(-1))
	wantF32(t, out[0], inf, inf)
	attrs["count_include_pad"] = false
	out, err = runSingleOp(t, "avgpool", attrs, x)
	if err != nil {
		t.Fatal(err)
	}
	wantF32(t, out[0], 0, 0)
}

func TestSoftmaxExtremes(t *testing.T) {
	x := testF32(ir.Shape{2, 3}, 1000, 1000, -1000, float32(math.Inf(-1)), 0, 0)
	out, err := runSingleOp(t, "softmax", nil, x)
	if err != nil {
		t.Fatal(err)
	}
	wantF32(t, out[0], 0.5, 0.5, 0, 0, 0.5, 0.5)
	out, err = runSingleOp(t, "log_softmax", nil, x)
	if err != nil {
		t.Fatal(err)
	}
	ln2 := float32(-math.Ln2)
	wantF32(t, out[0], ln2, ln2, -2000-float32(math.Ln2), float32(math.Inf(-1)), ln2, ln2)
}

// Kernels also run on synthetic nodes without outputs (as fused kernels
// build them), so they must not depend on the node's inferred types.
func TestKernelsOnBareNodes(t *testing.T) {
	x := testF32(ir.Shape{1, 2, 1, 3}, 1, 2, 3, 4, 5, 6)
	for _, tc := range []struct {
		op    string
		attrs ir.Attrs
		want  ir.Shape
	}{
		{"flatten", ir.Attrs{"axis": 1}, ir.Shape{1, 6}},
		{"reshape", ir.Attrs{"shape": []int{0, -1}}, ir.Shape{1, 6}},
		{"squeeze", ir.Attrs{"axes": []int{}}, ir.Shape{2, 3}},
		{"unsqueeze", ir.Attrs{"axes": []int{-1}}, ir.Shape{1, 2, 1, 3, 1}},
		{"transpose", ir.Attrs{"perm": []int{3, 2, 1, 0}}, ir.Shape{3, 1, 2, 1}},
	} {
		n := &ir.Node{Name: tc.op, Op: tc.op, Attrs: tc.attrs}
		outs, err := kernels[tc.op](n, []*ir.Tensor{x})
		if err != nil {
			t.Fatalf("%s: %v", tc.op, err)
		}
		if !outs[0].Shape.Equal(tc.want) {
			t.Errorf("%s: got shape %v, want %v", tc.op, outs[0].Shape, tc.want)
		}
	}
}

// maxpool's indices output is ONNX MaxPool's Indices: flat indices into
// the whole input (channel offsets included), the first maximum winning a
// tie; storage_order 1 makes the spatial part column major. A window with
// no tap inside the input gets -1.
func TestMaxPoolIndices(t *testing.T) {
	x := testF32(ir.Shape{1, 2, 2, 3},
		1, 5, 5,
		2, 0, 5,
		0, 0, 0,
		0, 0, 0)
	for _, tc := range []struct {
		order int
		want  []int64
	}{
		{0, []int64{1, 1, 6, 7}}, // (h, w) = (0, 1), (0, 1) in plane 0; (0, 0), (0, 1) in plane 1
		{1, []int64{2, 2, 6, 8}}, // h + 2*w
	} {
		attrs := ir.Attrs{"kernel": []int{2, 2}, "strides": []int{1, 1}, "indices": true, "storage_order": tc.order}
		out, err := runSingleOp(t, "maxpool", attrs, x)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != 2 || out[1].DType != ir.I64 || !out[1].Shape.Equal(ir.Shape{1, 2, 1, 2}) {
			t.Fatalf("storage_order %d: got outputs %v, want f32 and i64 [1,2,1,2]", tc.order, out)
		}
		wantF32(t, out[0], 5, 5, 0, 0)
		for i, w := range tc.want {
			if out[1].I64()[i] != w {
				t.Fatalf("storage_order %d: indices %v, want %v", tc.order, out[1].I64(), tc.want)
			}
		}
	}
	// Without the attribute there is one output.
	out, err := runSingleOp(t, "maxpool", ir.Attrs{"kernel": []int{2, 2}, "strides": []int{1, 1}}, x)
	if err != nil || len(out) != 1 {
		t.Fatalf("got %d outputs, %v; want 1", len(out), err)
	}
	e := testF32(ir.Shape{1, 1, 1}, 7)
	attrs := ir.Attrs{"kernel": []int{2}, "strides": []int{1}, "dilations": []int{3}, "pads": []int{2}, "indices": true}
	out, err = runSingleOp(t, "maxpool", attrs, e)
	if err != nil {
		t.Fatal(err)
	}
	if out[1].I64()[0] != -1 || out[1].I64()[1] != -1 {
		t.Fatalf("empty windows: indices %v, want [-1 -1]", out[1].I64())
	}
}

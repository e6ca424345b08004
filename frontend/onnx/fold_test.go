package onnx

import (
	"math"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/runtime"
)

// divModel divides known int64 tensors a / b at import and adds the
// result to the input X.
func divModel(a, b []int64) []byte {
	n := int64(len(a))
	return modelProto(13, graphSpec{
		inits:   []pb{tensorI64("A", []int64{n}, a), tensorI64("B", []int64{n}, b)},
		inputs:  []pb{vinfo("X", dtInt64, n)},
		outputs: []pb{vinfo("Y", dtInt64)},
		nodes: []pb{
			nodeProto("Div", "q", []string{"A", "B"}, []string{"C"}),
			nodeProto("Add", "", []string{"X", "C"}, []string{"Y"}),
		},
	})
}

// TestFoldIntDiv is issue 8, bug 2: the importer's own folding gave
// MinInt64 / -1 = 0 where the interpreter gives MinInt64 (Go's wrap). It
// now folds with the interpreter's kernels, so both agree, and a zero
// divisor is an error naming the node.
func TestFoldIntDiv(t *testing.T) {
	g := mustImport(t, divModel([]int64{math.MinInt64, 7, -7}, []int64{-1, 2, 2}))
	if got := ops(g); got != "add" {
		t.Errorf("ops %s, want add (the division folded)", got)
	}
	y := run1(t, g, &ir.Tensor{DType: ir.I64, Shape: ir.Shape{3}, Data: make([]int64, 3)})
	want := []int64{math.MinInt64, 3, -3}
	for i, w := range want {
		if y.I64()[i] != w {
			t.Errorf("y[%d] = %d, want %d", i, y.I64()[i], w)
		}
	}
	// The same division at run time gives the same values.
	a := &ir.Tensor{DType: ir.I64, Shape: ir.Shape{3}, Data: []int64{math.MinInt64, 7, -7}}
	b := &ir.Tensor{DType: ir.I64, Shape: ir.Shape{3}, Data: []int64{-1, 2, 2}}
	rg := ir.NewGraph("div")
	n, err := rg.AddNode("div", "d", []*ir.Value{rg.AddInput("a", a.Type(), ir.Pos{}), rg.AddInput("b", b.Type(), ir.Pos{})}, nil, ir.Pos{})
	if err != nil {
		t.Fatal(err)
	}
	rg.AddOutput("y", n.Out())
	out, err := runtime.Run(rg, []*ir.Tensor{a, b})
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range want {
		if out[0].I64()[i] != w {
			t.Errorf("runtime: y[%d] = %d, want %d", i, out[0].I64()[i], w)
		}
	}

	_, err = Import("test.onnx", divModel([]int64{1, 2}, []int64{1, 0}), "")
	if err == nil || !strings.Contains(err.Error(), "q") || !strings.Contains(err.Error(), "division by zero") {
		t.Errorf("zero divisor: got %v, want an error naming node q", err)
	}
}

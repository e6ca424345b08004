package onnx

import (
	"testing"

	"github.com/dlcompiler/dlc/ir"
)

// TestReduceMeanAxes imports ReduceMean with its axes as an attribute
// (before opset 18) and as a constant input (opset 18 on), and the
// identity that noop_with_empty_axes asks for.
func TestReduceMeanAxes(t *testing.T) {
	x := ir.FromF32(ir.Shape{2, 3, 2}, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	byAxis1 := []float32{3, 4, 9, 10} // mean over axis 1, keepdims
	in := []pb{vinfo("x", dtFloat, 2, 3, 2)}
	out := []pb{vinfo("y", dtFloat)}
	for _, tc := range []struct {
		name  string
		model []byte
		shape ir.Shape
		want  []float32
	}{
		{"attribute", modelProto(13, graphSpec{inputs: in, outputs: out, nodes: []pb{
			nodeProto("ReduceMean", "", []string{"x"}, []string{"y"}, attrInts("axes", -2))}}),
			ir.Shape{2, 1, 2}, byAxis1},
		{"input", modelProto(18, graphSpec{inputs: in, outputs: out,
			inits: []pb{tensorI64("axes", []int64{1}, []int64{1})},
			nodes: []pb{nodeProto("ReduceMean", "", []string{"x", "axes"}, []string{"y"}, attrInt("keepdims", 0))}}),
			ir.Shape{2, 2}, byAxis1},
		{"all", modelProto(18, graphSpec{inputs: in, outputs: out, nodes: []pb{
			nodeProto("ReduceMean", "", []string{"x"}, []string{"y"})}}),
			ir.Shape{1, 1, 1}, []float32{6.5}},
		{"noop", modelProto(18, graphSpec{inputs: in, outputs: out, nodes: []pb{
			nodeProto("ReduceMean", "", []string{"x"}, []string{"y"}, attrInt("noop_with_empty_axes", 1))}}),
			ir.Shape{2, 3, 2}, x.F32()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := run1(t, mustImport(t, tc.model), x)
			if !y.Shape.Equal(tc.shape) {
				t.Errorf("shape %v, want %v", y.Shape, tc.shape)
			}
			near(t, y, tc.want)
		})
	}
}

package onnx

import (
	"errors"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/runtime"
)

// padModel is X [1,1,3,3] → Pad (pads an initializer, optional value) →
// the node after, with a 2x2 weight of ones for a Conv.
func padModel(mode string, pads []int64, value *float32, after pb) []byte {
	inits := []pb{tensorI64("pads", []int64{int64(len(pads))}, pads),
		tensorF32("w", []int64{1, 1, 2, 2}, []float32{1, 1, 1, 1})}
	ins := []string{"X", "pads"}
	if value != nil {
		inits = append(inits, tensorF32("v", []int64{}, []float32{*value}))
		ins = append(ins, "v")
	}
	var attrs []pb
	if mode != "" {
		attrs = append(attrs, attrString("mode", mode))
	}
	return modelProto(13, graphSpec{
		inits:   inits,
		inputs:  []pb{vinfo("X", dtFloat, 1, 1, 3, 3)},
		outputs: []pb{vinfo("Y", dtFloat)},
		nodes:   []pb{nodeProto("Pad", "/pad/Pad", ins, []string{"P"}, attrs...), after},
	})
}

// TestPadFold checks Pad folded into Conv and AveragePool against the
// padded computation by hand.
func TestPadFold(t *testing.T) {
	x := f32t(ir.Shape{1, 1, 3, 3}, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9})
	// Pad one zero row on top and one column on the right.
	pads := []int64{0, 0, 1, 0, 0, 0, 0, 1}
	conv := nodeProto("Conv", "/c/Conv", []string{"P", "w"}, []string{"Y"}, attrInts("kernel_shape", 2, 2))
	g := mustImport(t, padModel("", pads, nil, conv))
	if ops(g) != "conv" {
		t.Errorf("ops %s, want conv", ops(g))
	}
	// Padded [4,4]: 0 0 0 0 / 1 2 3 0 / 4 5 6 0 / 7 8 9 0; 2x2 sums.
	near(t, run1(t, g, x), []float32{3, 5, 3, 12, 16, 9, 24, 28, 15})

	pool := nodeProto("AveragePool", "/p/AveragePool", []string{"P"}, []string{"Y"}, attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2))
	g = mustImport(t, padModel("constant", pads, nil, pool))
	n := g.Nodes[0]
	if n.Op != "avgpool" || !n.Attrs.Bool("count_include_pad") || !ir.Shape(n.Attrs.Ints("pads")).Equal(ir.Shape{1, 0, 0, 1}) {
		t.Errorf("got %s %v", n.Op, n.Attrs)
	}
	near(t, run1(t, g, x), []float32{3.0 / 4, 3.0 / 4, 24.0 / 4, 15.0 / 4})

	// Pad of a known tensor is computed, any value.
	one := float32(1)
	known := modelProto(13, graphSpec{
		inits:   []pb{tensorI64("pads", []int64{2}, []int64{1, 0}), tensorF32("k", []int64{2}, []float32{5, 6}), tensorF32("v", []int64{}, []float32{one})},
		inputs:  []pb{vinfo("X", dtFloat, 3)},
		outputs: []pb{vinfo("Y", dtFloat)},
		nodes: []pb{nodeProto("Pad", "", []string{"k", "pads", "v"}, []string{"P"}),
			nodeProto("Add", "", []string{"X", "P"}, []string{"Y"})},
	})
	g = mustImport(t, known)
	near(t, run1(t, g, f32t(ir.Shape{3}, []float32{0, 0, 0})), []float32{1, 5, 6})
}

// TestPadUnsupported checks that a Pad dlc cannot fold is refused with
// the reason, naming the node.
func TestPadUnsupported(t *testing.T) {
	conv := nodeProto("Conv", "/c/Conv", []string{"P", "w"}, []string{"Y"}, attrInts("kernel_shape", 2, 2))
	spatial := []int64{0, 0, 1, 1, 0, 0, 1, 1}
	two := float32(2)
	cases := []struct {
		name  string
		model []byte
		want  string
	}{
		{"reflect", padModel("reflect", spatial, nil, conv), `mode "reflect"`},
		{"value", padModel("", spatial, &two, conv), "constant value 2"},
		{"channels", padModel("", []int64{0, 1, 0, 0, 0, 0, 0, 0}, nil, conv), "batch or channel axis"},
		{"negative", padModel("", []int64{0, 0, -1, 0, 0, 0, 0, 0}, nil, conv), "negative pads"},
		{"maxpool", padModel("", spatial, nil, nodeProto("MaxPool", "/m/MaxPool", []string{"P"}, []string{"Y"}, attrInts("kernel_shape", 2, 2))), "-inf"},
		{"relu", padModel("", spatial, nil, nodeProto("Relu", "/r/Relu", []string{"P"}, []string{"Y"})), `Pad "/pad/Pad" is read by Relu`},
		{"output", padModel("", spatial, nil, nodeProto("Identity", "", []string{"P"}, []string{"Y"})), "a graph output"},
		{"big", padModel("", []int64{0, 0, 2, 0, 0, 0, 0, 0}, nil,
			nodeProto("AveragePool", "/p/AveragePool", []string{"P"}, []string{"Y"}, attrInts("kernel_shape", 2, 2))), "not smaller than the kernel"},
	}
	for _, tc := range cases {
		_, err := Import("test.onnx", tc.model, "")
		var u *UnsupportedError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an UnsupportedError with %q", tc.name, err, tc.want)
		}
	}
}

// TestExpandConstantOfShape checks both folded and at run time.
func TestExpandConstantOfShape(t *testing.T) {
	g := mustImport(t, modelProto(13, graphSpec{
		inits:   []pb{tensorI64("shape", []int64{3}, []int64{2, 1, 3})},
		inputs:  []pb{vinfo("X", dtFloat, 2, 1)},
		outputs: []pb{vinfo("Y", dtFloat), vinfo("Z", dtFloat)},
		nodes: []pb{
			nodeProto("Expand", "", []string{"X", "shape"}, []string{"Y"}),
			nodeProto("ConstantOfShape", "", []string{"shape"}, []string{"C"}, attrTensor("value", tensorF32("", []int64{1}, []float32{0.5}))),
			nodeProto("Add", "", []string{"Y", "C"}, []string{"Z"}),
		},
	}))
	out, err := runtime.Run(g, []*ir.Tensor{f32t(ir.Shape{2, 1}, []float32{1, 2})})
	if err != nil {
		t.Fatal(err)
	}
	if !out[0].Shape.Equal(ir.Shape{2, 2, 3}) {
		t.Fatalf("Y %v, want [2 2 3]", out[0].Shape)
	}
	near(t, out[0], []float32{1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2})
	near(t, out[1], []float32{1.5, 1.5, 1.5, 2.5, 2.5, 2.5, 1.5, 1.5, 1.5, 2.5, 2.5, 2.5})
}

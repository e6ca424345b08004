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

// TestPadNodes checks the Pads that are not folded into a Conv or
// AveragePool: they become ir pad nodes (before the reader), computed by
// hand on X = 1..9.
func TestPadNodes(t *testing.T) {
	x := f32t(ir.Shape{1, 1, 3, 3}, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9})
	conv := nodeProto("Conv", "/c/Conv", []string{"P", "w"}, []string{"Y"}, attrInts("kernel_shape", 2, 2))
	ident := nodeProto("Identity", "", []string{"P"}, []string{"Y"})
	spatial := []int64{0, 0, 1, 1, 0, 0, 1, 1}
	two := float32(2)
	padded := []float32{0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 4, 5, 6, 0, 0, 7, 8, 9, 0, 0, 0, 0, 0, 0}
	cases := []struct {
		name  string
		model []byte
		ops   string
		want  []float32
	}{
		// reflect-padded 5x5: 5 4 5 6 5 / 2 1 2 3 2 / 5 4 5 6 5 / 8 7 8 9 8 / 5 4 5 6 5, 2x2 sums
		{"reflect", padModel("reflect", spatial, nil, conv), "pad,conv", []float32{12, 12, 16, 16, 12, 12, 16, 16, 24, 24, 28, 28, 24, 24, 28, 28}},
		{"value", padModel("", spatial, &two, conv), "pad,conv", []float32{7, 7, 9, 9, 9, 12, 16, 13, 15, 24, 28, 19, 13, 19, 21, 15}},
		{"channels", padModel("", []int64{0, 1, 0, 0, 0, 0, 0, 0}, nil, ident), "pad",
			[]float32{0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"negative", padModel("", []int64{0, 0, -1, 0, 0, 0, 0, 0}, nil, conv), "pad,conv", []float32{24, 28}},
		{"maxpool", padModel("", spatial, nil, nodeProto("MaxPool", "/m/MaxPool", []string{"P"}, []string{"Y"}, attrInts("kernel_shape", 2, 2))),
			"pad,maxpool", []float32{1, 2, 3, 3, 4, 5, 6, 6, 7, 8, 9, 9, 7, 8, 9, 9}},
		{"relu", padModel("", spatial, nil, nodeProto("Relu", "/r/Relu", []string{"P"}, []string{"Y"})), "pad,relu", padded},
		{"output", padModel("", spatial, nil, ident), "pad", padded},
		{"big", padModel("", []int64{0, 0, 2, 0, 0, 0, 0, 0}, nil,
			nodeProto("AveragePool", "/p/AveragePool", []string{"P"}, []string{"Y"}, attrInts("kernel_shape", 2, 2))),
			"pad,avgpool", []float32{0, 0, 0.75, 1.25, 3, 4, 6, 7}},
	}
	for _, tc := range cases {
		g, err := Import("test.onnx", tc.model, "")
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := ops(g); got != tc.ops {
			t.Errorf("%s: ops %s, want %s", tc.name, got, tc.ops)
		}
		near(t, run1(t, g, x), tc.want)
	}
	_, err := Import("test.onnx", padModel("mirror", spatial, nil, conv), "")
	var u *UnsupportedError
	if !errors.As(err, &u) || !strings.Contains(err.Error(), `mode "mirror" is not one of constant, reflect, edge, wrap`) {
		t.Errorf("mode mirror: got %v", err)
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

package onnx

import (
	"testing"

	"github.com/dlcompiler/dlc/codegen"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/passes"
)

// weightBytes compiles g at -O2 and returns the size of weights.bin.
func weightBytes(t *testing.T, g *ir.Graph) int {
	t.Helper()
	g = g.Clone()
	ps, err := passes.Select(2, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := passes.Run(g, ps, passes.Options{Verify: true}); err != nil {
		t.Fatal(err)
	}
	files, err := codegen.Generate(g, codegen.Options{Package: "m"})
	if err != nil {
		t.Fatal(err)
	}
	return len(files["weights.bin"])
}

// TestSharedWeights checks issue 10 item 5: a weight read by several
// nodes, directly, through Identity, or transformed the same way at
// import (Gemm's transB, a recurrent layer's gate reordering), is one ir
// param and is stored once in weights.bin.
func TestSharedWeights(t *testing.T) {
	w := seq(16, 0.1)
	g := mustImport(t, modelProto(13, graphSpec{
		inits:   []pb{tensorF32("W", []int64{4, 4}, w), tensorF32("V", []int64{4, 4}, seq(16, -0.05))},
		inputs:  []pb{vinfo("X", dtFloat, 2, 4)},
		outputs: []pb{vinfo("Y", dtFloat)},
		nodes: []pb{
			nodeProto("MatMul", "mm1", []string{"X", "W"}, []string{"a"}),
			nodeProto("MatMul", "mm2", []string{"a", "W"}, []string{"b"}),
			nodeProto("Identity", "id", []string{"W"}, []string{"W2"}),
			nodeProto("MatMul", "mm3", []string{"b", "W2"}, []string{"c"}),
			nodeProto("Gemm", "g1", []string{"c", "V"}, []string{"d"}, attrInt("transB", 1)),
			nodeProto("Gemm", "g2", []string{"d", "V"}, []string{"Y"}, attrInt("transB", 1)),
		},
	}))
	if n := len(g.Params); n != 2 {
		t.Errorf("%d params, want 2 (W and V once each):\n%s", n, ir.Print(g))
	}
	if got, want := weightBytes(t, g), 2*16*4; got != want {
		t.Errorf("weights.bin holds %d bytes, want %d (two 4x4 f32 weights)", got, want)
	}

	// Two GRU nodes on one set of initializers: one weight_ih, weight_hh,
	// bias_ih and bias_hh between them.
	const H, I = 3, 2
	gru := mustImport(t, modelProto(13, graphSpec{
		inits: []pb{tensorF32("W", []int64{1, 3 * H, I}, seq(3*H*I, 0.1)), tensorF32("R", []int64{1, 3 * H, H}, seq(3*H*H, 0.05)),
			tensorF32("B", []int64{1, 6 * H}, seq(6*H, 0.02))},
		inputs:  []pb{vinfo("X", dtFloat, 5, 1, I)},
		outputs: []pb{vinfo("Y1", dtFloat), vinfo("Y2", dtFloat)},
		nodes: []pb{
			nodeProto("GRU", "enc", []string{"X", "W", "R", "B"}, []string{"Y1"}, attrInt("hidden_size", H)),
			nodeProto("GRU", "dec", []string{"X", "W", "R", "B"}, []string{"Y2"}, attrInt("hidden_size", H)),
		},
	}))
	if n := len(gru.Params); n != 4 {
		t.Errorf("GRU twice: %d params, want 4:\n%s", n, ir.Print(gru))
	}
	if got, want := weightBytes(t, gru), (3*H*I+3*H*H+6*H)*4; got != want {
		t.Errorf("GRU twice: weights.bin holds %d bytes, want %d", got, want)
	}
}

package onnx

import (
	"fmt"
	"math"
	"testing"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/runtime"
)

// TestLowPrecisionImport reads every low-precision dtype from raw_data
// (packed for the 4- and 2-bit ones, with an odd count so the last byte
// is half used) and from int32_data, as initializers and as a graph input,
// and casts each to f32 and back: the values survive.
func TestLowPrecisionImport(t *testing.T) {
	for _, dt := range ir.DTypes() {
		if !ir.LowPrecision.Has(dt) {
			continue
		}
		want := edgeTensor(dt)
		n := int64(want.Len())
		elem := onnxType(dt)
		g, err := Import("m.onnx", modelProto(21, graphSpec{
			inits:   []pb{tensorRaw("R", want), tensorTyped("T", want)},
			inputs:  []pb{vinfo("X", elem, n)},
			outputs: []pb{vinfo("A", dtFloat, n), vinfo("B", dtFloat, n), vinfo("C", dtFloat, n), vinfo("D", elem, n)},
			nodes: []pb{
				nodeProto("Cast", "a", []string{"R"}, []string{"A"}, attrInt("to", dtFloat)),
				nodeProto("Cast", "b", []string{"T"}, []string{"B"}, attrInt("to", dtFloat)),
				nodeProto("Cast", "c", []string{"X"}, []string{"C"}, attrInt("to", dtFloat)),
				nodeProto("CastLike", "d", []string{"C", "R"}, []string{"D"}),
			},
		}), "")
		if err != nil {
			t.Errorf("%v: %v", dt, err)
			continue
		}
		outs, err := runtime.Run(g, []*ir.Tensor{want})
		if err != nil {
			t.Errorf("%v: %v", dt, err)
			continue
		}
		f := ir.Convert(want, ir.F32)
		for i, o := range outs[:3] {
			if got, w := fmt.Sprint(o.Data), fmt.Sprint(f.Data); got != w {
				t.Errorf("%v: output %d = %s, want %s", dt, i, got, w)
			}
		}
		if got, w := fmt.Sprint(outs[3].Data), fmt.Sprint(want.Data); outs[3].DType != dt || got != w {
			t.Errorf("%v: round trip %v %s, want %s", dt, outs[3].DType, got, w)
		}
	}
}

// TestCastSaturate: Cast's saturate=0 and round_mode reach the ir cast,
// folded and run.
func TestCastSaturate(t *testing.T) {
	x := ir.FromF32(ir.Shape{3}, []float32{1000, float32(math.Inf(-1)), 1.5})
	g := mustImport(t, modelProto(25, graphSpec{
		inits:   []pb{tensorRaw("K", x)},
		inputs:  []pb{vinfo("X", dtFloat, 3)},
		outputs: []pb{vinfo("A", 17, 3), vinfo("B", 17, 3), vinfo("C", 24, 3), vinfo("D", 19, 3)},
		nodes: []pb{
			nodeProto("Cast", "a", []string{"X"}, []string{"A"}, attrInt("to", 17), attrInt("saturate", 0)),
			nodeProto("Cast", "b", []string{"X"}, []string{"B"}, attrInt("to", 17)),
			nodeProto("Cast", "c", []string{"X"}, []string{"C"}, attrInt("to", 24), attrString("round_mode", "down")),
			nodeProto("Cast", "d", []string{"K"}, []string{"D"}, attrInt("to", 19), attrInt("saturate", 0)), // folded
		},
	}))
	outs, err := runtime.Run(g, []*ir.Tensor{x})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"[127 255 60]", "[126 254 60]", "[136 255 127]", "[100 252 62]"} {
		if got := fmt.Sprint(outs[i].Data); got != want {
			t.Errorf("output %d = %s, want %s", i, got, want)
		}
	}
}

package onnx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzDecodeModel feeds arbitrary bytes to Import: it must return a graph
// or an error, never panic, hang or allocate from claimed sizes. Seeds are
// small real models from ONNX's node tests (testdata/fuzz) and hand-built
// ones that reach deep into the importer.
func FuzzDecodeModel(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "*.onnx"))
	for _, p := range seeds {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte{})
	f.Add([]byte{0x3a, 0x02, 0x10, 0x01})
	f.Add(convModel("SAME_UPPER", []int64{2, 2}, 5, 3))
	f.Add(modelProto(13, graphSpec{
		inits:   []pb{tensorI64("zero", []int64{1}, []int64{0}), tensorI64("minus1", []int64{1}, []int64{-1})},
		inputs:  []pb{vinfo("X", dtFloat, 2, 3, 4)},
		outputs: []pb{vinfo("Y", dtFloat)},
		nodes: []pb{
			nodeProto("Shape", "", []string{"X"}, []string{"s"}),
			nodeProto("Gather", "", []string{"s", "zero"}, []string{"n"}, attrInt("axis", 0)),
			nodeProto("Concat", "", []string{"n", "minus1"}, []string{"shape"}, attrInt("axis", 0)),
			nodeProto("Reshape", "", []string{"X", "shape"}, []string{"r"}),
			nodeProto("Softmax", "", []string{"r"}, []string{"Y"}, attrInt("axis", 1)),
		},
	}))
	f.Add(modelProto(11, graphSpec{
		inits:   []pb{tensorF32("W", []int64{1, 8, 3}, seq(24, 1)), tensorF32("R", []int64{1, 8, 2}, seq(16, 1))},
		inputs:  []pb{vinfo("X", dtFloat, 5, 1, 3)},
		outputs: []pb{vinfo("Y", dtFloat), vinfo("Yh", dtFloat)},
		nodes: []pb{nodeProto("LSTM", "l", []string{"X", "W", "R"}, []string{"Y", "Yh"},
			attrInt("hidden_size", 2), attrString("direction", "reverse"), attrStrings("activations", "Sigmoid", "Tanh", "Tanh"))},
	}))
	f.Add(modelProto(9, graphSpec{
		inits:   []pb{tensorF32("B", []int64{4, 3}, seq(12, 1)), tensorF32("C", []int64{3}, seq(3, 1))},
		inputs:  []pb{vinfo("A", dtFloat, 2, 4)},
		outputs: []pb{vinfo("Y", dtFloat)},
		nodes: []pb{
			nodeProto("Gemm", "g", []string{"A", "B", "C"}, []string{"g"}, attrFloat("alpha", 2)),
			nodeProto("Slice", "s", []string{"g"}, []string{"s"}, attrInts("starts", 0, -1), attrInts("ends", 2, -4), attrInts("axes", 0, 1)),
			nodeProto("Clip", "c", []string{"s"}, []string{"Y"}, attrFloat("min", 0)),
		},
	}))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Import("fuzz.onnx", data, "")
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatal(err)
			}
			return
		}
		if g == nil {
			t.Fatal("nil graph without an error")
		}
	})
}

package onnx

import (
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/runtime"
)

// gatherNegModel is issue 8's bug 6: Gather on a float [4,3] initializer
// with int64 ids [[1,-1],[-3,0]] at axis 0, the ids a graph input.
func gatherNegModel() []byte {
	table := make([]float32, 12)
	for i := range table {
		table[i] = float32(10*(i/3) + i%3) // row r holds 10r, 10r+1, 10r+2
	}
	return modelProto(13, graphSpec{
		inits:   []pb{tensorF32("table", []int64{4, 3}, table)},
		inputs:  []pb{vinfo("ids", dtInt64, 2, 2)},
		outputs: []pb{vinfo("Y", dtFloat)},
		nodes:   []pb{nodeProto("Gather", "", []string{"table", "ids"}, []string{"Y"}, attrInt("axis", 0))},
	})
}

// TestGatherNegativeIDs: ONNX ids in [-n, n-1] count from the end, as
// onnxruntime runs them; the importer used to make an embedding, which
// refuses negative ids ("token id -1 ... out of range").
func TestGatherNegativeIDs(t *testing.T) {
	g := mustImport(t, gatherNegModel())
	if got := ops(g); got != "gather" {
		t.Errorf("ops %s, want gather", got)
	}
	ids := &ir.Tensor{DType: ir.I64, Shape: ir.Shape{2, 2}, Data: []int64{1, -1, -3, 0}}
	near(t, run1(t, g, ids), []float32{10, 11, 12, 30, 31, 32, 10, 11, 12, 0, 1, 2})
	// Out of range is still an error, at both ends.
	for _, bad := range []int64{4, -5} {
		ids := &ir.Tensor{DType: ir.I64, Shape: ir.Shape{2, 2}, Data: []int64{0, bad, 1, 2}}
		if _, err := runtime.Run(g, []*ir.Tensor{ids}); err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("id %d: got %v, want an out-of-range error", bad, err)
		}
	}
}

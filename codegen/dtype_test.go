package codegen

import (
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/ir"
)

// TestConstIndicesAnyWidth: constant gather indices and embedding ids
// are checked when generating whatever their integer dtype (i32 ones
// were skipped, leaving an out-of-range index to panic at run time).
func TestConstIndicesAnyWidth(t *testing.T) {
	for _, dt := range []ir.DType{ir.I32, ir.I64} {
		b := probeGraph(t, "gather"+dt.String())
		x := b.input("x", 4, 3)
		idx := ir.NewTensor(dt, ir.Shape{2})
		idx.SetInt(0, 1)
		idx.SetInt(1, 4)
		iv := b.g.AddParam("idx", ir.Const, idx.Type(), idx, "", ir.Pos{})
		b.g.AddOutput("y", b.n1("gather", []*ir.Value{x, iv}, ir.Attrs{"axis": 0}))
		if _, err := Generate(b.g, Options{}); err == nil || !strings.Contains(err.Error(), "index 4 at position 1") {
			t.Errorf("%v indices: got %v, want an out-of-range error", dt, err)
		}
		b = probeGraph(t, "emb"+dt.String())
		w := ir.NewTensor(ir.F32, ir.Shape{3, 2})
		wv := b.g.AddParam("w", ir.Param, w.Type(), w, "", ir.Pos{})
		iv = b.g.AddParam("ids", ir.Const, idx.Type(), idx, "", ir.Pos{})
		b.g.AddOutput("y", b.n1("embedding", []*ir.Value{iv, wv}, nil))
		if _, err := Generate(b.g, Options{}); err == nil || !strings.Contains(err.Error(), "id 4 at position 1") {
			t.Errorf("%v ids: got %v, want an out-of-range error", dt, err)
		}
	}
}

package passes

import (
	"github.com/dlcompiler/dlc/codegen/kernels"
	"github.com/dlcompiler/dlc/ir"
)

// avgPoolSchedule names the PoolAvg kernel of a float32 2-D average pool
// whose window it has (dilation 1, one stride), else nil: the emitter
// (codegen/pool_simd.go) then pools each plane with it.
func avgPoolSchedule(n *ir.Node) *ir.Schedule {
	k, st, d := n.Attrs.Ints("kernel"), n.Attrs.Ints("strides"), n.Attrs.Ints("dilations")
	if len(k) != 2 || n.Out().Type.DType != ir.F32 || st[0] != st[1] || d[0] != 1 || d[1] != 1 {
		return nil
	}
	if kn := kernels.FindPoolAvg(k[0], k[1], st[0]); kn != nil {
		return &ir.Schedule{Kernel: kn.Name, Threads: 1, Tiles: map[string]int{}}
	}
	return nil
}

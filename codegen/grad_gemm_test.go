package codegen

import "github.com/dlcompiler/dlc/ir"

// gradGemmCases are conv_grad_weight on the Gemm kernel (grad_gemm.go):
// padding, stride, dilation, groups, 1-D and 3-D, more than 32 (c, tap)
// columns and more than 12 output channels, so that several panels and
// row blocks run; sums short enough for float32 to meet the default
// tolerance.
func gradGemmCases() []equivCase {
	gw := func(xs, ws []int, a ir.Attrs) func(b *gb) {
		return func(b *gb) {
			x, w := b.input("x", xs...), b.param(ws...)
			y := b.n1("conv", []*ir.Value{x, w}, a)
			dy := b.input("dy", y.Type.Shape...)
			aw := a.Clone()
			aw["kernel"] = ws[2:]
			dw := b.n1("conv_grad_weight", []*ir.Value{x, dy}, aw)
			dw.Def.Schedule = &ir.Schedule{Kernel: GradGemmKernel}
			b.out(dw)
		}
	}
	return []equivCase{
		{"gradgemm2d", gw([]int{2, 3, 7, 8}, []int{14, 3, 3, 2}, ir.Attrs{"strides": []int{2, 1}, "pads": []int{1, 0, 2, 1}, "dilations": []int{1, 2}})},
		{"gradgemm2dwide", gw([]int{3, 5, 6, 6}, []int{4, 5, 3, 3}, ir.Attrs{"pads": []int{1, 1, 1, 1}})},
		{"gradgemmgroups", gw([]int{1, 6, 6, 6}, []int{4, 3, 3, 3}, ir.Attrs{"groups": 2, "pads": []int{1, 1, 1, 1}})},
		{"gradgemm1d", gw([]int{2, 2, 11}, []int{3, 2, 3}, ir.Attrs{"strides": []int{3}, "dilations": []int{2}, "pads": []int{2, 1}})},
		{"gradgemm3d", gw([]int{1, 2, 4, 5, 4}, []int{2, 2, 2, 3, 2}, ir.Attrs{"strides": []int{1, 2, 1}, "pads": []int{1, 1, 0}})},
	}
}

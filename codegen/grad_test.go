package codegen

import "github.com/dlcompiler/dlc/ir"

// gradCases are the equivalence cases of the gradient ops (grad.go):
// strides, padding, dilation, groups, ceil_mode and every rank.
func gradCases() []equivCase {
	convGrads := func(xs, ws []int, a ir.Attrs) func(b *gb) {
		return func(b *gb) {
			x, w := b.input("x", xs...), b.param(ws...)
			y := b.n1("conv", []*ir.Value{x, w}, a)
			dy := b.input("dy", y.Type.Shape...)
			ai, aw := a.Clone(), a.Clone()
			ai["shape"] = []int(x.Type.Shape.Clone())
			aw["kernel"] = ws[2:]
			b.out(b.n1("conv_grad_input", []*ir.Value{dy, w}, ai), b.n1("conv_grad_weight", []*ir.Value{x, dy}, aw))
		}
	}
	poolGrad := func(op string, xs []int, a ir.Attrs) func(b *gb) {
		return func(b *gb) {
			x := b.input("x", xs...)
			y := b.n1(op, []*ir.Value{x}, a)
			dy := b.input("dy", y.Type.Shape...)
			ga := a.Clone()
			if _, ok := ga["strides"]; !ok {
				ga["strides"] = a.Ints("kernel")
			}
			if op == "avgpool" {
				ga["shape"] = []int(x.Type.Shape.Clone())
				b.out(b.n1("avgpool_grad", []*ir.Value{dy}, ga))
				return
			}
			b.out(b.n1("maxpool_grad", []*ir.Value{x, dy}, ga))
		}
	}
	return []equivCase{
		{"gradconv2d", convGrads([]int{2, 3, 7, 8}, []int{4, 3, 3, 2}, ir.Attrs{"strides": []int{2, 1}, "pads": []int{1, 0, 2, 1}, "dilations": []int{1, 2}})},
		{"gradconv2dgroups", convGrads([]int{1, 6, 6, 6}, []int{4, 3, 3, 3}, ir.Attrs{"groups": 2, "pads": []int{1, 1}})},
		{"gradconv1d", convGrads([]int{2, 2, 11}, []int{3, 2, 3}, ir.Attrs{"strides": []int{3}, "dilations": []int{2}, "pads": []int{2, 1}})},
		{"gradconv2dbigplane", convGrads([]int{1, 1, 257, 257}, []int{1, 1, 3, 3}, ir.Attrs{"pads": []int{1, 1}})}, // the gather form
		{"gradconv3d", convGrads([]int{1, 2, 4, 5, 4}, []int{2, 2, 2, 3, 2}, ir.Attrs{"strides": []int{1, 2, 1}, "pads": []int{1, 1, 0}})},
		{"gradmaxpool2d", poolGrad("maxpool", []int{2, 2, 7, 9}, ir.Attrs{"kernel": []int{3, 3}, "strides": []int{2, 2}, "pads": []int{1, 1}})},
		{"gradmaxpool1dceil", poolGrad("maxpool", []int{1, 3, 10}, ir.Attrs{"kernel": []int{3}, "strides": []int{2}, "ceil_mode": true})},
		{"gradmaxpool3d", poolGrad("maxpool", []int{1, 2, 4, 6, 5}, ir.Attrs{"kernel": []int{2, 3, 2}, "dilations": []int{1, 2, 1}})},
		{"gradavgpool2d", poolGrad("avgpool", []int{2, 2, 7, 8}, ir.Attrs{"kernel": []int{3, 3}, "strides": []int{2, 2}, "pads": []int{1, 1}, "ceil_mode": true})},
		{"gradavgpool2dexcl", poolGrad("avgpool", []int{1, 2, 7, 8}, ir.Attrs{"kernel": []int{3, 2}, "strides": []int{2, 1}, "pads": []int{1, 1}, "count_include_pad": false})},
		{"gradavgpool1d", poolGrad("avgpool", []int{2, 3, 9}, ir.Attrs{"kernel": []int{2}})},
	}
}

package codegen

import (
	"math"

	"github.com/dlcompiler/dlc/ir"
)

// sampleEquivCases are the equivalence cases of the sampling ops
// (codegen/sample.go): grid_sample in every mode, padding and alignment
// over 1, 2 and 3 spatial axes with the grid reaching past [-1, 1] and
// NaN, ±Inf and -0 in x; affine_grid, col2im and max_unpool.
func sampleEquivCases() []equivCase {
	gs := func(x, g []int, attrs ...ir.Attrs) func(b *gb) {
		return func(b *gb) {
			xv := b.n1("add", []*ir.Value{b.input("x", x...), specialParam(b, x...)}, nil)
			// input + param spans [-2, 2): past the edges on both sides.
			grid := b.n1("add", []*ir.Value{b.input("grid", g...), b.param(g...)}, nil)
			var outs []*ir.Value
			for _, a := range attrs {
				outs = append(outs, b.n1("grid_sample", []*ir.Value{xv, grid}, a))
			}
			b.out(outs...)
		}
	}
	var all2d []ir.Attrs
	for _, m := range ir.GridSampleModes {
		for _, p := range ir.GridSamplePads {
			for _, al := range []bool{false, true} {
				all2d = append(all2d, ir.Attrs{"mode": m, "padding_mode": p, "align_corners": al})
			}
		}
	}
	return []equivCase{
		{"gridsample2d", gs([]int{2, 3, 4, 5}, []int{2, 3, 6, 2}, all2d...)},
		{"gridsample3d", gs([]int{1, 2, 3, 4, 2}, []int{1, 2, 3, 2, 3},
			ir.Attrs{"mode": "nearest", "padding_mode": "reflection"}, ir.Attrs{"mode": "linear", "padding_mode": "border", "align_corners": true},
			ir.Attrs{"mode": "cubic", "padding_mode": "zeros"})},
		{"gridsample1d", gs([]int{2, 2, 1}, []int{2, 5, 1}, ir.Attrs{"mode": "cubic", "padding_mode": "reflection"}, ir.Attrs{"mode": "linear", "padding_mode": "reflection", "align_corners": true})},
		{"affinegrid", func(b *gb) {
			b.out(b.n1("affine_grid", []*ir.Value{b.input("t", 2, 2, 3)}, ir.Attrs{"size": []int{2, 4, 3, 5}}),
				b.n1("affine_grid", []*ir.Value{b.input("u", 1, 3, 4)}, ir.Attrs{"size": []int{1, 1, 2, 1, 3}, "align_corners": true}))
		}},
		{"col2im", func(b *gb) {
			b.out(b.n1("col2im", []*ir.Value{b.input("x", 2, 12, 9)}, ir.Attrs{"image": []int{7, 6}, "block": []int{3, 2},
				"strides": []int{2, 3}, "dilations": []int{2, 1}, "pads": []int{1, 2, 1, 2}}),
				b.n1("col2im", []*ir.Value{b.input("z", 1, 8, 24)}, ir.Attrs{"image": []int{3, 4, 5}, "block": []int{2, 2, 2}}))
		}},
		{"dft", func(b *gb) {
			x := b.n1("add", []*ir.Value{b.input("x", 2, 7, 3, 2), specialParam(b, 2, 7, 3, 2)}, nil)
			r := b.input("r", 3, 8, 1)
			b.out(b.n1("dft", []*ir.Value{x}, ir.Attrs{"axis": 1}),
				b.n1("dft", []*ir.Value{x}, ir.Attrs{"axis": 2, "length": 5, "inverse": true}),
				b.n1("dft", []*ir.Value{x}, ir.Attrs{"axis": 1, "inverse": true, "onesided": true}),
				b.n1("dft", []*ir.Value{x}, ir.Attrs{"axis": 0, "length": 9, "inverse": true, "onesided": true}),
				b.n1("dft", []*ir.Value{r}, ir.Attrs{"axis": 1, "onesided": true}),
				b.n1("dft", []*ir.Value{r}, ir.Attrs{"axis": 0, "length": 2}))
		}},
		{"nms", func(b *gb) {
			boxes, scores := b.input("boxes", 2, 10, 4), b.input("scores", 2, 3, 10)
			b.out(b.node("nms", []*ir.Value{boxes, scores}, ir.Attrs{"max_per_class": 3, "iou_threshold": 0.1})...)
			b.out(b.node("nms", []*ir.Value{boxes, scores}, ir.Attrs{"max_per_class": 20, "iou_threshold": 0.4,
				"score_threshold": -0.5, "use_score_threshold": true, "center_point_box": true})...)
		}},
		{"det", func(b *gb) {
			b.out(b.n1("det", []*ir.Value{b.n1("add", []*ir.Value{b.input("x", 2, 3, 3), specialParam(b, 2, 3, 3)}, nil)}, nil),
				b.n1("det", []*ir.Value{b.input("z", 5, 5)}, nil))
		}},
		{"roialign", func(b *gb) {
			x := b.n1("add", []*ir.Value{b.input("x", 2, 3, 6, 7), specialParam(b, 2, 3, 6, 7)}, nil)
			rois := b.param(5, 4)
			copy(rois.Data.F32(), []float32{0.5, 1, 5.2, 4.5, -2, -1, 4, 3, 3, 2, 9, 8.5, 1, 1, 1.2, 1.1, 6, 5, 2, 1})
			bi := b.constIDs([]int64{0, 1, 1, 0, 1}, 5)
			b.out(b.n1("roi_align", []*ir.Value{x, rois, bi}, ir.Attrs{"output_height": 3, "output_width": 2}),
				b.n1("roi_align", []*ir.Value{x, rois, bi}, ir.Attrs{"output_height": 2, "output_width": 3, "mode": "max", "half_pixel": true, "sampling_ratio": 2, "spatial_scale": 0.75}))
		}},
		{"deformconv", func(b *gb) {
			x := b.n1("add", []*ir.Value{b.input("x", 2, 4, 5, 6), specialParam(b, 2, 4, 5, 6)}, nil)
			off := b.n1("add", []*ir.Value{b.input("off", 2, 2*2*6, 4, 3), b.param(2, 2*2*6, 4, 3)}, nil)
			b.out(b.n1("deform_conv", []*ir.Value{x, b.param(6, 2, 2, 3), off, b.param(6), b.input("m", 2, 2*6, 4, 3)},
				ir.Attrs{"groups": 2, "offset_groups": 2, "strides": []int{1, 2}, "pads": []int{1, 0, 0, 1}, "dilations": []int{2, 1}}),
				b.n1("deform_conv", []*ir.Value{b.input("z", 1, 1, 4, 4), b.param(1, 1, 2, 2), b.input("o", 1, 8, 3, 3)}, nil))
		}},
		{"maxunpool", func(b *gb) {
			idx := b.constIDs([]int64{0, 5, 7, 2, 11, 9, 12, 17, 22, 23, 15, 13}, 1, 2, 2, 3)
			b.out(b.n1("max_unpool", []*ir.Value{b.input("x", 1, 2, 2, 3), idx}, ir.Attrs{"size": []int{3, 4}, "out": []int{4, 5}}))
		}},
	}
}

// specialParam is a constant of shape s with NaN, ±Inf and -0 first.
func specialParam(b *gb, s ...int) *ir.Value {
	c := b.param(s...)
	copy(c.Data.F32(), []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1))})
	c.Kind = ir.Const
	return c
}

package codegen

import (
	"math"

	"github.com/dlcompiler/dlc/ir"
)

// spatialEquivCases are the equivalence cases of conv_transpose and
// resize: every rank, strides, dilations, groups, padding and
// output_padding of the transposed convolution, and every mode and
// coordinate mapping of resize, nearest on NaN, ±Inf and -0.
func spatialEquivCases() []equivCase {
	ct := func(x, w []int, attrs ir.Attrs, bias bool) func(b *gb) {
		return func(b *gb) {
			var bv *ir.Value
			if bias {
				bv = b.param(w[1] * max(1, attrs.Int("groups")))
			}
			b.out(b.n1("conv_transpose", []*ir.Value{b.input("x", x...), b.param(w...), bv}, attrs))
		}
	}
	rs := func(x []int, attrs ir.Attrs) func(b *gb) {
		return func(b *gb) { b.out(b.n1("resize", []*ir.Value{b.input("x", x...)}, attrs)) }
	}
	cs := []equivCase{
		{"convt1d", ct([]int{2, 3, 7}, []int{3, 4, 3}, ir.Attrs{"strides": []int{2}, "pads": []int{1, 0}}, true)},
		{"convt2d", ct([]int{1, 8, 5, 5}, []int{8, 6, 2, 2}, ir.Attrs{"strides": []int{2, 2}}, true)},
		{"convt2dpad", ct([]int{2, 3, 6, 5}, []int{3, 5, 3, 3}, ir.Attrs{"strides": []int{2, 3}, "pads": []int{1, 0, 2, 1}, "output_padding": []int{1, 2}}, false)},
		{"convt2dgroups", ct([]int{1, 6, 5, 4}, []int{6, 2, 3, 2}, ir.Attrs{"groups": 3, "dilations": []int{2, 1}, "strides": []int{1, 2}, "pads": []int{2, 0}}, true)},
		{"convt2ddw", ct([]int{1, 5, 6, 6}, []int{5, 1, 3, 3}, ir.Attrs{"groups": 5, "strides": []int{2, 2}, "pads": []int{1, 1}}, true)},
		{"convt3d", ct([]int{1, 2, 3, 4, 5}, []int{2, 3, 2, 3, 2}, ir.Attrs{"strides": []int{2, 1, 2}, "pads": []int{0, 1, 1, 0, 1, 1}}, true)},
		{"resizenearest", rs([]int{2, 3, 4, 6}, ir.Attrs{"sizes": []int{2, 3, 8, 12}, "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"})},
		{"resizenearestodd", rs([]int{1, 2, 5, 7}, ir.Attrs{"sizes": []int{1, 2, 3, 11}, "nearest_mode": "round_prefer_ceil"})},
		{"resizenearestaxes", rs([]int{3, 4, 5}, ir.Attrs{"sizes": []int{6, 4, 2}, "nearest_mode": "ceil"})},
		{"resizelinear", rs([]int{2, 3, 5, 7}, ir.Attrs{"sizes": []int{2, 3, 9, 4}, "mode": "linear", "coordinate_transformation_mode": "pytorch_half_pixel"})},
		{"resizelinearalign", rs([]int{1, 2, 4, 4, 3}, ir.Attrs{"sizes": []int{1, 2, 7, 2, 5}, "mode": "linear", "coordinate_transformation_mode": "align_corners"})},
		{"resizecubic", rs([]int{1, 2, 6, 5}, ir.Attrs{"sizes": []int{1, 2, 11, 3}, "mode": "cubic", "exclude_outside": true, "cubic_coeff_a": -0.5})},
		{"resizeantialias", rs([]int{1, 1, 12, 9}, ir.Attrs{"sizes": []int{1, 1, 5, 4}, "mode": "cubic", "antialias": true})},
		{"resizecrop", rs([]int{1, 1, 6, 6}, ir.Attrs{"sizes": []int{1, 1, 4, 5}, "mode": "linear", "coordinate_transformation_mode": "tf_crop_and_resize",
			"roi": []float64{0, 0, 0.4, -0.2, 1, 1, 1.3, 0.9}, "extrapolation_value": 7.5})},
		{"resizespecial", func(b *gb) {
			x := b.input("x", 1, 2, 3, 4)
			c := b.param(1, 2, 3, 4)
			copy(c.Data.F32(), []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1))})
			c.Kind = ir.Const
			s := b.n1("add", []*ir.Value{x, c}, nil)
			b.out(b.n1("resize", []*ir.Value{s}, ir.Attrs{"sizes": []int{1, 2, 6, 8}, "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}),
				b.n1("resize", []*ir.Value{s}, ir.Attrs{"sizes": []int{1, 2, 6, 8}, "mode": "linear"}))
		}},
	}
	return cs
}

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
		{"adaptiveavg", func(b *gb) {
			x := b.input("x", 1, 3, 7, 9)
			b.out(b.n1("adaptive_avgpool", []*ir.Value{x}, ir.Attrs{"output_size": []int{3, 4}}),
				b.n1("adaptive_avgpool", []*ir.Value{x}, ir.Attrs{"output_size": []int{9, 2}}),
				b.n1("adaptive_avgpool", []*ir.Value{b.input("z", 2, 2, 10)}, ir.Attrs{"output_size": []int{3}}))
		}},
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
	return append(cs, plumbingEquivCases()...)
}

// plumbingEquivCases move every dtype through expand, pad in each mode
// (cropping too) and trilu.
func plumbingEquivCases() []equivCase {
	var cs []equivCase
	for _, dt := range []ir.DType{ir.F32, ir.I64, ir.Bool, ir.F16, ir.U8, ir.I32} {
		dt := dt
		cs = append(cs, equivCase{"plumbing" + dt.String(), func(b *gb) {
			x := b.g.AddInput("x", ir.TensorType{DType: dt, Shape: ir.Shape{2, 3, 4}}, ir.Pos{})
			v := b.g.AddInput("v", ir.TensorType{DType: dt, Shape: ir.Shape{3, 1}}, ir.Pos{})
			var outs []*ir.Value
			for _, m := range ir.PadModes {
				outs = append(outs, b.n1("pad", []*ir.Value{x}, ir.Attrs{"pads": []int{0, 2, 3, 1, -1, 5}, "mode": m, "value": 2.5}))
			}
			outs = append(outs,
				b.n1("pad", []*ir.Value{x}, ir.Attrs{"pads": []int{1, 0, 0, 0, 0, 0}, "value": -1.0}),
				b.n1("expand", []*ir.Value{v}, ir.Attrs{"shape": []int{2, 1, 5}}),
				b.n1("expand", []*ir.Value{x}, ir.Attrs{"shape": []int{3, 1, 1, 4}}),
				b.n1("trilu", []*ir.Value{x}, nil),
				b.n1("trilu", []*ir.Value{x}, ir.Attrs{"upper": true, "k": 2}),
				b.n1("trilu", []*ir.Value{x}, ir.Attrs{"k": -5}))
			b.out(outs...)
		}})
	}
	cs = append(cs, equivCase{"gathers", func(b *gb) {
		x := b.input("x", 3, 4, 5)
		xi := b.ids("xi", 4, 6)
		i1 := b.ids("i1", 3, 2, 5) // runtime indices (RandomInputs keeps them in range)
		c1 := b.constIDs([]int64{-1, 0, 3, -4, 2, 1}, 1, 2, 3)
		var outs []*ir.Value
		outs = append(outs,
			b.n1("gather_elements", []*ir.Value{x, i1}, ir.Attrs{"axis": 1}),
			b.n1("gather_elements", []*ir.Value{x, c1}, ir.Attrs{"axis": -2}),
			b.n1("gather_elements", []*ir.Value{xi, b.constIDs([]int64{3, -1, 0, 2}, 2, 2)}, nil))
		u1 := b.input("u1", 3, 2, 5)
		for _, red := range ir.ScatterReductions {
			outs = append(outs, b.n1("scatter_elements", []*ir.Value{x, i1, u1}, ir.Attrs{"axis": 1, "reduction": red}))
		}
		outs = append(outs, b.n1("scatter_elements", []*ir.Value{xi, b.constIDs([]int64{5, -6, 0, 1}, 2, 2), b.ids("ui", 2, 2)}, ir.Attrs{"axis": 1, "reduction": "add"}))
		t := b.ids("t", 2, 3, 2)
		outs = append(outs,
			b.n1("gather_nd", []*ir.Value{x, t}, nil),
			b.n1("gather_nd", []*ir.Value{x, b.constIDs([]int64{2, -1, 0, 0, 3, -4}, 3, 1, 2)}, ir.Attrs{"batch_dims": 1}),
			b.n1("scatter_nd", []*ir.Value{x, t, b.input("u2", 2, 3, 5)}, nil),
			b.n1("scatter_nd", []*ir.Value{x, b.constIDs([]int64{1, 1, -3}, 3, 1), b.input("u3", 3, 4, 5)}, ir.Attrs{"reduction": "mul"}),
			b.n1("one_hot", []*ir.Value{b.ids("h", 2, 3), b.input("v", 2)}, ir.Attrs{"depth": 7, "axis": 1}),
			b.n1("one_hot", []*ir.Value{b.constIDs([]int64{-1, 9, 2, -9}, 4), b.constIDs([]int64{-3, 5}, 2)}, ir.Attrs{"depth": 5}))
		fi := b.param(6)
		copy(fi.Data.F32(), []float32{1.7, -0.5, -2.5, float32(math.NaN()), 3.99, -1})
		fi.Kind = ir.Const
		outs = append(outs, b.n1("one_hot", []*ir.Value{fi, b.input("w", 2)}, ir.Attrs{"depth": 4}))
		b.out(outs...)
	}})
	return cs
}

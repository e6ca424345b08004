package codegen

import (
	"fmt"
	"math"

	"github.com/dlcompiler/dlc/ir"
)

// layers64EquivCases are the equivalence cases of the layers that take
// float64 (ir's layerFloats): dense, conv (groups, dilation, strides,
// pads, 1-D to 3-D), conv_transpose, the pools, resize in every mode,
// adaptive_avgpool, embedding with an f64 table, and the gradient ops of
// convolution and pooling. Every output is f64, so generateRef compares
// within 1e-12 (f64Tol); the emitters sum in the interpreter's order, so
// in practice the bits agree. The -O2 pass of every case (buildCases)
// checks that fusion and tiling leave f64 nodes off the f32 kernels:
// some shapes here are those the tiling pass gives SIMD kernels in f32.
func layers64EquivCases() []equivCase {
	in := func(b *gb, name string, s ...int) *ir.Value {
		return b.g.AddInput(name, ir.TensorType{DType: ir.F64, Shape: s}, ir.Pos{})
	}
	// specials is x plus a constant holding NaN, ±Inf and -0 in its
	// first elements (0 elsewhere).
	specials := func(b *gb, x *ir.Value) *ir.Value {
		t := ir.NewTensor(ir.F64, x.Type.Shape)
		copy(t.F64(), []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1)})
		b.k++
		c := b.g.AddParam(fmt.Sprintf("s%d", b.k), ir.Const, t.Type(), t, "", ir.Pos{})
		return b.n1("add", []*ir.Value{x, c}, nil)
	}
	return []equivCase{
		{"dense64", func(b *gb) {
			x := in(b, "x", 3, 5)
			y := b.n1("dense", []*ir.Value{x, param64(b, 4, 5), param64(b, 4)}, nil)
			// K = 64, N = 32: the f32 pipeline gives this a Gemm kernel over packed weights.
			z := b.n1("dense", []*ir.Value{in(b, "w", 2, 64), param64(b, 32, 64), param64(b, 32)}, nil)
			b.out(y, b.n1("relu", []*ir.Value{y}, nil), b.n1("dense", []*ir.Value{in(b, "v", 2, 3, 5), param64(b, 2, 5)}, nil), z,
				b.n1("dense", []*ir.Value{specials(b, in(b, "u", 2, 4)), param64(b, 3, 4)}, nil))
		}},
		{"conv64", func(b *gb) {
			conv := func(x *ir.Value, w []int, bias bool, a ir.Attrs) *ir.Value {
				ins := []*ir.Value{x, param64(b, w...)}
				if bias {
					ins = append(ins, param64(b, w[0]))
				}
				return b.n1("conv", ins, a)
			}
			x := in(b, "x", 2, 3, 6, 7)
			y := conv(x, []int{4, 3, 3, 2}, true, ir.Attrs{"strides": []int{2, 1}, "pads": []int{1, 0, 2, 1}, "dilations": []int{1, 2}})
			b.out(y, b.n1("relu", []*ir.Value{y}, nil),
				conv(in(b, "g", 1, 4, 5, 5), []int{6, 2, 3, 3}, false, ir.Attrs{"groups": 2, "pads": []int{1, 1}}),
				conv(in(b, "d", 1, 4, 5, 5), []int{4, 1, 3, 3}, true, ir.Attrs{"groups": 4, "pads": []int{1, 1}, "strides": []int{2, 2}}),
				conv(in(b, "a", 2, 2, 9), []int{3, 2, 2}, true, ir.Attrs{"strides": []int{2}, "dilations": []int{2}}),
				conv(in(b, "c", 1, 2, 3, 4, 3), []int{2, 2, 2, 3, 2}, false, ir.Attrs{"pads": []int{1, 0, 1}}),
				// 16×16 channels at 12×12: im2col or the implicit GEMM in f32
				conv(in(b, "big", 1, 16, 12, 12), []int{16, 16, 3, 3}, true, ir.Attrs{"pads": []int{1, 1}}),
				conv(specials(b, in(b, "s", 1, 2, 4, 4)), []int{2, 2, 2, 2}, true, nil))
		}},
		{"convtranspose64", func(b *gb) {
			ct := func(x *ir.Value, w []int, bias bool, a ir.Attrs) *ir.Value {
				ins := []*ir.Value{x, param64(b, w...)}
				if bias {
					ins = append(ins, param64(b, w[1]*max(1, a.Int("groups"))))
				}
				return b.n1("conv_transpose", ins, a)
			}
			b.out(ct(in(b, "x", 2, 3, 4, 3), []int{3, 2, 3, 2}, true, ir.Attrs{"strides": []int{2, 1}, "pads": []int{1, 0, 0, 1}, "dilations": []int{1, 2}, "output_padding": []int{1, 0}}),
				ct(in(b, "a", 2, 2, 4), []int{2, 3, 2}, false, ir.Attrs{"dilations": []int{3}, "output_padding": []int{2}}),
				ct(in(b, "g", 1, 4, 5), []int{4, 3, 3}, true, ir.Attrs{"strides": []int{2}, "groups": 2}),
				ct(in(b, "c", 1, 2, 2, 3, 2), []int{2, 2, 2, 2, 2}, true, ir.Attrs{"strides": []int{2, 1, 2}}))
		}},
		{"pools64", func(b *gb) {
			x := specials(b, in(b, "x", 2, 2, 5, 6))
			b.out(b.n1("maxpool", []*ir.Value{x}, ir.Attrs{"kernel": []int{3, 2}, "strides": []int{2, 1}, "pads": []int{1, 0, 1, 1}}),
				// 2×2 stride 2: the PoolMax kernel in f32
				b.n1("maxpool", []*ir.Value{x}, ir.Attrs{"kernel": []int{2, 2}, "strides": []int{2, 2}}),
				b.n1("maxpool", []*ir.Value{in(b, "c", 1, 2, 7)}, ir.Attrs{"kernel": []int{2}, "ceil_mode": true}),
				b.n1("maxpool", []*ir.Value{x}, ir.Attrs{"kernel": []int{2, 2}, "dilations": []int{2, 1}, "pads": []int{1, 1}}),
				b.n1("avgpool", []*ir.Value{x}, ir.Attrs{"kernel": []int{3, 3}, "strides": []int{2, 2}, "pads": []int{1, 1}}),
				b.n1("avgpool", []*ir.Value{in(b, "a", 1, 2, 8)}, ir.Attrs{"kernel": []int{3}, "strides": []int{2}, "pads": []int{1}, "count_include_pad": false, "ceil_mode": true}),
				b.n1("avgpool", []*ir.Value{in(b, "v", 1, 1, 3, 4, 5)}, ir.Attrs{"kernel": []int{2, 2, 3}, "ceil_mode": true, "strides": []int{2, 2, 2}}),
				b.n1("global_avgpool", []*ir.Value{x}, nil), b.n1("global_maxpool", []*ir.Value{x}, nil),
				b.n1("adaptive_avgpool", []*ir.Value{x}, ir.Attrs{"output_size": []int{3, 4}}))
			b.out(b.node("maxpool", []*ir.Value{x}, ir.Attrs{"kernel": []int{2, 3}, "indices": true, "storage_order": 1})...)
		}},
		{"resize64", func(b *gb) {
			x := specials(b, in(b, "x", 1, 2, 3, 5))
			b.out(b.n1("resize", []*ir.Value{x}, ir.Attrs{"sizes": []int{1, 2, 6, 3}, "mode": "nearest"}),
				b.n1("resize", []*ir.Value{in(b, "l", 2, 2, 3, 4)}, ir.Attrs{"sizes": []int{2, 2, 5, 7}, "mode": "linear", "coordinate_transformation_mode": "align_corners"}),
				b.n1("resize", []*ir.Value{in(b, "c", 1, 2, 6, 5)}, ir.Attrs{"sizes": []int{1, 2, 4, 3}, "mode": "cubic", "antialias": true}),
				b.n1("resize", []*ir.Value{in(b, "t", 1, 1, 4)}, ir.Attrs{"sizes": []int{1, 1, 5}, "mode": "linear", "coordinate_transformation_mode": "tf_crop_and_resize",
					"roi": []float64{0, 0, 0.2, 1, 1, 1.3}, "extrapolation_value": -2.5}),
				b.n1("resize", []*ir.Value{in(b, "n", 1, 1, 4)}, ir.Attrs{"sizes": []int{1, 1, 6}, "mode": "nearest", "coordinate_transformation_mode": "tf_crop_and_resize",
					"roi": []float64{0, 0, -0.3, 1, 1, 1.2}, "extrapolation_value": math.Inf(-1)}))
		}},
		{"embedding64", func(b *gb) {
			w := param64(b, 5, 3)
			b.out(b.n1("embedding", []*ir.Value{b.ids("ids", 2, 4), w}, nil),
				b.n1("embedding", []*ir.Value{b.constIDs([]int64{4, 0, 4}, 3), w}, nil))
		}},
		{"grads64", func(b *gb) {
			cw := func(a ir.Attrs, x ir.Shape) ir.Attrs {
				a = a.Clone()
				a["shape"] = []int(x)
				return a
			}
			win := ir.Attrs{"strides": []int{2, 1}, "pads": []int{1, 0, 1, 1}, "dilations": []int{1, 2}, "groups": 2}
			// conv [2,4,6,5] ⋆ w [6,2,3,2] → dy [2,6,3,4]
			dy := in(b, "dy", 2, 6, 3, 4)
			b.out(b.n1("conv_grad_input", []*ir.Value{dy, param64(b, 6, 2, 3, 2)}, cw(win, ir.Shape{2, 4, 6, 5})),
				b.n1("conv_grad_weight", []*ir.Value{in(b, "x", 2, 4, 6, 5), dy}, func() ir.Attrs { a := win.Clone(); a["kernel"] = []int{3, 2}; return a }()),
				b.n1("maxpool_grad", []*ir.Value{specials(b, in(b, "p", 1, 2, 5, 6)), in(b, "pdy", 1, 2, 3, 6)},
					ir.Attrs{"kernel": []int{3, 2}, "strides": []int{2, 1}, "pads": []int{1, 0, 1, 1}}),
				b.n1("avgpool_grad", []*ir.Value{in(b, "ady", 1, 2, 4)}, ir.Attrs{"kernel": []int{3}, "strides": []int{2}, "pads": []int{1},
					"count_include_pad": false, "ceil_mode": true, "shape": []int{1, 2, 7}}),
				b.n1("avgpool_grad", []*ir.Value{in(b, "bdy", 2, 2, 3, 3)}, ir.Attrs{"kernel": []int{3, 3}, "strides": []int{2, 2}, "pads": []int{1, 1}, "shape": []int{2, 2, 6, 5}}))
		}},
	}
}

// param64 is an f64 parameter in [-1, 1).
func param64(b *gb, s ...int) *ir.Value {
	b.k++
	t := ir.NewTensor(ir.F64, s)
	for i := range t.F64() {
		t.F64()[i] = b.r.Float64()*2 - 1
	}
	return b.g.AddParam(fmt.Sprintf("p%d", b.k), ir.Param, t.Type(), t, "", ir.Pos{})
}

// f64Tol is the self-test tolerance of a graph whose float outputs are
// all f64 (relative and absolute; nil for other graphs, which keep the
// default): the f64 kernels sum in float64 like the interpreter, mostly
// in its order, so only a reordered sum (matmul's k tiles, the taps of
// resize) may differ, by a few ulps of its terms. Integer outputs are
// compared exactly whatever the tolerance.
func f64Tol(g *ir.Graph) []float64 {
	f64 := false
	for _, v := range g.Outputs {
		switch v.Type.DType {
		case ir.F64:
			f64 = true
		case ir.F32, ir.F16, ir.BF16:
			return nil
		}
	}
	if !f64 {
		return nil
	}
	return []float64{1e-12, 1e-12}
}

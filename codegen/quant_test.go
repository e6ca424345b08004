package codegen

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// constOf is a constant of dtype dt with the given values (set through
// SetFloat: rounded, or wrapped for the small integers).
func (b *gb) constOf(dt ir.DType, shape ir.Shape, vals ...float64) *ir.Value {
	b.k++
	t := ir.NewTensor(dt, shape)
	for i, v := range vals {
		t.SetFloat(i, v)
	}
	return b.g.AddParam(fmt.Sprintf("q%d", b.k), ir.Const, t.Type(), t, "", ir.Pos{})
}

// quantEquivCases cover the quantization ops and bitcast
// (ir/ops_quant.go): every quantized dtype, per-tensor, per-axis and
// blocked scales, f16 arithmetic, saturation, products with zero points
// per row, column and channel, and batch broadcasting.
func quantEquivCases() []equivCase {
	return []equivCase{
		{"quantize", func(b *gb) {
			x := b.input("x", 2, 3, 4) // in [-1, 1)
			var outs []*ir.Value
			for _, c := range []struct {
				to    ir.DType
				scale *ir.Value
				zp    []float64
				attrs ir.Attrs
			}{
				{ir.U8, b.constOf(ir.F32, ir.Shape{}, 0.01), []float64{128}, nil},
				{ir.I8, b.constOf(ir.F32, ir.Shape{3}, 0.004, 0.02, 0.0078125), []float64{-3, 0, 5}, ir.Attrs{"axis": 1}},
				{ir.I4, b.constOf(ir.F32, ir.Shape{2, 3, 2}, 0.1, 0.2, 0.3, 0.05, 0.125, 0.25, 0.5, 0.7, 0.9, 1.1, 0.01, 0.02), nil, ir.Attrs{"axis": -1, "block_size": 2}},
				{ir.U4, b.constOf(ir.F32, ir.Shape{1}, 0.0625), []float64{8}, nil},
				{ir.I2, b.constOf(ir.F32, ir.Shape{}, 0.5), nil, nil},
				{ir.U16, b.constOf(ir.F32, ir.Shape{4}, 1e-5, 2e-5, 3e-5, 1e-4), []float64{30000, 0, 65535, 1}, ir.Attrs{"axis": 2}},
				{ir.I16, b.constOf(ir.F32, ir.Shape{}, 1e-4), nil, ir.Attrs{"precision": "f16"}},
				{ir.F8E4M3FN, b.constOf(ir.F32, ir.Shape{}, 0.001), nil, nil},
				{ir.F8E4M3FNUZ, b.constOf(ir.F32, ir.Shape{}, 0.001), nil, ir.Attrs{"no_saturate": true}},
				{ir.F8E5M2, b.constOf(ir.F32, ir.Shape{}, 1e-6), nil, ir.Attrs{"no_saturate": true}},
				{ir.F8E5M2FNUZ, b.constOf(ir.F32, ir.Shape{}, 1e-6), nil, nil},
				{ir.F4E2M1, b.constOf(ir.F32, ir.Shape{}, 0.1), []float64{0}, nil},
			} {
				ins := []*ir.Value{x, c.scale, nil}
				if c.zp != nil {
					ins[2] = b.constOf(c.to, c.scale.Type.Shape, c.zp...)
				}
				attrs := ir.Attrs{"to": c.to.String()}
				for k, v := range c.attrs {
					attrs[k] = v
				}
				q := b.n1("quantize", ins, attrs)
				outs = append(outs, q)
				if c.to == ir.U8 || c.to == ir.I4 || c.to == ir.F8E4M3FN { // and back
					dattrs := ir.Attrs{"to": "f32"}
					for k, v := range c.attrs {
						dattrs[k] = v
					}
					outs = append(outs, b.n1("dequantize", append([]*ir.Value{q}, ins[1:2+btoi(ins[2] != nil)]...), dattrs))
				}
			}
			// f16 arithmetic: x and scale in f16, the division rounded to f16
			h := b.n1("cast", []*ir.Value{x}, ir.Attrs{"to": "f16"})
			hs := b.constOf(ir.F16, ir.Shape{}, 0.0123)
			q := b.n1("quantize", []*ir.Value{h, hs, b.constOf(ir.I8, ir.Shape{}, 1)}, ir.Attrs{"to": "i8"})
			outs = append(outs, q, b.n1("dequantize", []*ir.Value{q, hs, b.constOf(ir.I8, ir.Shape{}, 1)}, ir.Attrs{"to": "f16"}))
			b.out(outs...)
		}},
		{"dequantize", func(b *gb) {
			i32 := b.g.AddInput("a", ir.TensorType{DType: ir.I32, Shape: ir.Shape{2, 5}}, ir.Pos{})
			u8 := b.g.AddInput("u", ir.TensorType{DType: ir.U8, Shape: ir.Shape{2, 5}}, ir.Pos{})
			f8 := b.g.AddInput("f", ir.TensorType{DType: ir.F8E5M2, Shape: ir.Shape{2, 5}}, ir.Pos{})
			b.out(b.n1("dequantize", []*ir.Value{i32, b.constOf(ir.F32, ir.Shape{}, 0.3), b.constOf(ir.I32, ir.Shape{}, 7)}, ir.Attrs{"to": "f32"}),
				b.n1("dequantize", []*ir.Value{i32, b.constOf(ir.F64, ir.Shape{5}, 0.1, 0.2, 0.3, 0.4, 0.5)}, ir.Attrs{"to": "f64", "axis": 1}),
				b.n1("dequantize", []*ir.Value{u8, b.constOf(ir.BF16, ir.Shape{2}, 0.1, 3), b.constOf(ir.U8, ir.Shape{2}, 200, 3)}, ir.Attrs{"to": "bf16", "axis": 0}),
				b.n1("dequantize", []*ir.Value{f8, b.constOf(ir.F32, ir.Shape{}, 2)}, ir.Attrs{"to": "f32"}))
		}},
		{"dynquant", func(b *gb) {
			x := b.input("x", 3, 5)
			b.out(b.node("dynamic_quantize", []*ir.Value{x}, nil)...)
			b.out(b.node("dynamic_quantize", []*ir.Value{b.n1("relu", []*ir.Value{x}, nil)}, nil)...)
		}},
		{"qproducts", func(b *gb) {
			a := b.g.AddInput("a", ir.TensorType{DType: ir.U8, Shape: ir.Shape{2, 3, 4}}, ir.Pos{})
			w := b.g.AddInput("w", ir.TensorType{DType: ir.I8, Shape: ir.Shape{4, 5}}, ir.Pos{})
			bb := b.g.AddInput("bb", ir.TensorType{DType: ir.I8, Shape: ir.Shape{1, 4, 2}}, ir.Pos{})
			mm := b.n1("matmul_integer", []*ir.Value{a, w, b.constOf(ir.U8, ir.Shape{3}, 1, 2, 9), b.constOf(ir.I8, ir.Shape{5}, -1, 0, 4, 2, 8)}, nil)
			mb := b.n1("matmul_integer", []*ir.Value{a, bb, b.constOf(ir.U8, ir.Shape{}, 3)}, nil)
			rq := b.n1("requant", []*ir.Value{mm, b.constOf(ir.F32, ir.Shape{}, 0.02), b.constOf(ir.F32, ir.Shape{5}, 0.1, 0.05, 0.3, 0.01, 0.02), b.constOf(ir.F32, ir.Shape{}, 0.015), b.constOf(ir.I8, ir.Shape{}, -5)}, ir.Attrs{"to": "i8"})
			rh := b.n1("requant", []*ir.Value{mb, b.constOf(ir.F16, ir.Shape{}, 0.02), b.constOf(ir.F16, ir.Shape{}, 0.07), b.constOf(ir.F16, ir.Shape{}, 0.003)}, ir.Attrs{"to": "u8"})
			x := b.g.AddInput("x", ir.TensorType{DType: ir.U8, Shape: ir.Shape{1, 4, 6, 5}}, ir.Pos{})
			k := b.g.AddInput("k", ir.TensorType{DType: ir.I8, Shape: ir.Shape{6, 2, 3, 2}}, ir.Pos{})
			cv := b.n1("conv_integer", []*ir.Value{x, k, b.constOf(ir.U8, ir.Shape{}, 4), b.constOf(ir.I8, ir.Shape{6}, 1, -2, 3, 0, 5, -1)},
				ir.Attrs{"groups": 2, "strides": []int{2, 1}, "pads": []int{1, 0, 2, 1}, "dilations": []int{1, 2}})
			x1 := b.g.AddInput("x1", ir.TensorType{DType: ir.I8, Shape: ir.Shape{2, 3, 7}}, ir.Pos{})
			k1 := b.g.AddInput("k1", ir.TensorType{DType: ir.U8, Shape: ir.Shape{2, 3, 3}}, ir.Pos{})
			c1 := b.n1("conv_integer", []*ir.Value{x1, k1}, ir.Attrs{"pads": []int{1, 1}})
			rc := b.n1("requant", []*ir.Value{cv, b.constOf(ir.F32, ir.Shape{}, 0.5), b.constOf(ir.F32, ir.Shape{6}, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6), b.constOf(ir.F32, ir.Shape{}, 1.7), b.constOf(ir.U8, ir.Shape{}, 128)}, ir.Attrs{"to": "u8", "axis": 1})
			b.out(mm, mb, rq, rh, cv, c1, rc)
		}},
		{"bitcast", func(b *gb) {
			x := b.input("x", 2, 3)
			i := b.n1("bitcast", []*ir.Value{x}, ir.Attrs{"to": "i32"})
			d := b.n1("cast", []*ir.Value{x}, ir.Attrs{"to": "f64"})
			bo := b.n1("gt", []*ir.Value{x, b.constOf(ir.F32, ir.Shape{}, 0)}, nil)
			h := b.n1("cast", []*ir.Value{x}, ir.Attrs{"to": "f16"})
			u8 := b.n1("bitcast", []*ir.Value{bo}, ir.Attrs{"to": "u8"})
			b.out(i, b.n1("bitcast", []*ir.Value{i}, ir.Attrs{"to": "f32"}), b.n1("bitcast", []*ir.Value{d}, ir.Attrs{"to": "u64"}),
				u8, b.n1("bitcast", []*ir.Value{u8}, ir.Attrs{"to": "bool"}), b.n1("bitcast", []*ir.Value{h}, ir.Attrs{"to": "i16"}),
				b.n1("bitcast", []*ir.Value{b.n1("bitcast", []*ir.Value{i}, ir.Attrs{"to": "u32"})}, ir.Attrs{"to": "i32"}))
		}},
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

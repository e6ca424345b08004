package runtime

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/dlcompiler/dlc/ir"
)

// The quantization ops and bitcast (ir/ops_quant.go). The arithmetic is
// ONNX's reference implementation's, dtype for dtype (see the ops' docs),
// so that rounding ties and saturation agree with ONNX's test outputs.

func init() {
	register("quantize", quantize)
	register("dequantize", dequantize)
	register("dynamic_quantize", dynamicQuantize)
	register("matmul_integer", matmulInteger)
	register("conv_integer", convInteger)
	register("requant", requant)
	register("bitcast", bitcast)
}

// eachQuant calls f for every element of x with the index of its scale.
func eachQuant(q ir.QuantLayout, f func(i, si int)) {
	i := 0
	for o := range q.Outer {
		for d := range q.D {
			for j := range q.Inner {
				f(i, q.Index(o, d, j))
				i++
			}
		}
	}
}

func quantize(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x, s := in[0], in[1]
	var zp *ir.Tensor
	if len(in) > 2 {
		zp = in[2]
	}
	to := n.Outputs[0].Type.DType
	ct := ir.QuantComputeType(n)
	sat := !n.Attrs.Bool("no_saturate")
	y := ir.NewTensor(to, x.Shape)
	lo, hi := ir.IntRange(to)
	eachQuant(ir.QuantLayoutOf(n), func(i, si int) {
		v := ir.RoundTo(ir.RoundTo(x.Float(i), ct)/ir.RoundTo(s.Float(si), ct), ct)
		switch {
		case to == ir.F4E2M1:
			if zp != nil {
				v = ir.RoundTo(v+zp.Float(si), ct)
			}
			y.SetFloat(i, v)
		case ir.LowFloats.Has(to):
			ir.Elems[uint8](y)[i] = ir.LowFloatBits(to, v, sat, "")
		default:
			q := ir.FloatToInt(math.RoundToEven(v), ir.I32)
			if zp != nil {
				q += zp.Int(si)
			}
			y.SetInt(i, min(max(q, lo), hi))
		}
	})
	return one(y)
}

// dequantize computes (x - zero_point) · scale as numpy does in ONNX's
// reference: x as f32, minus the zero point and times the scale in f32,
// or in f64 when the scale is f64 or an i32 zero point promotes it.
func dequantize(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x, s := in[0], in[1]
	var zp *ir.Tensor
	if len(in) > 2 {
		zp = in[2]
	}
	wide := DequantWide(n)
	y := ir.NewTensor(n.Outputs[0].Type.DType, x.Shape)
	eachQuant(ir.QuantLayoutOf(n), func(i, si int) {
		d := float64(float32(x.Float(i)))
		if zp != nil && !ir.LowFloats.Has(zp.DType) {
			d -= zp.Float(si)
		}
		if wide {
			y.SetFloat(i, d*s.Float(si))
		} else {
			y.SetFloat(i, float64(float32(float64(float32(d))*s.Float(si))))
		}
	})
	return one(y)
}

// DequantWide reports whether dequantize node n computes in f64 (an f64
// scale, or an i32 x with a zero point: numpy promotes f32 - i32 to f64).
func DequantWide(n *ir.Node) bool {
	return n.Inputs[1].Type.DType == ir.F64 || n.Inputs[0].Type.DType == ir.I32 && len(n.Inputs) > 2 && n.Inputs[2] != nil
}

func dynamicQuantize(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0].F32()
	var mx, mn float32
	for _, v := range x {
		mx, mn = max(mx, v), min(mn, v)
	}
	scale, zp := DynamicQuantParams(mx, mn)
	y := ir.NewTensor(ir.U8, in[0].Shape)
	ys := ir.Elems[uint8](y)
	for i, v := range x {
		ys[i] = DynamicQuantValue(v, scale, zp)
	}
	return []*ir.Tensor{y, ir.FromF32(ir.Shape{}, []float32{scale}), ir.FromSlice(ir.U8, ir.Shape{}, []uint8{uint8(zp)})}, nil
}

// DynamicQuantParams is dynamic_quantize's scale and zero point for the
// range [mn, mx] (mn <= 0 <= mx), in f32.
func DynamicQuantParams(mx, mn float32) (scale, zp float32) {
	scale = 1
	if mx != mn {
		scale = (mx - mn) / 255
	}
	z := 0 - mn/scale
	return scale, float32(math.RoundToEven(float64(max(0, min(255, z)))))
}

// DynamicQuantValue is one element of dynamic_quantize's y: NaN gives 0.
func DynamicQuantValue(v, scale, zp float32) uint8 {
	q := float32(math.RoundToEven(float64(v/scale))) + zp
	switch {
	case q != q || q <= 0:
		return 0
	case q >= 255:
		return 255
	}
	return uint8(q)
}

// batchOffsets lists, for each matrix of a batched product with output
// batch shape out, the offsets of its a and b matrices (numpy's broadcast
// of the batch axes; sizes of one repeat).
func batchOffsets(a, b, out ir.Shape, aMat, bMat int) (ao, bo []int) {
	off := func(s ir.Shape, idx []int, mat int) int {
		o, k := 0, len(out)-len(s)
		for i, d := range s {
			if d != 1 {
				o = o*d + idx[i+k]
			} else {
				o *= d
			}
		}
		return o * mat
	}
	idx := make([]int, len(out))
	for range out.NumElems() {
		ao, bo = append(ao, off(a, idx, aMat)), append(bo, off(b, idx, bMat))
		for i := len(idx) - 1; i >= 0; i-- {
			if idx[i]++; idx[i] < out[i] {
				break
			}
			idx[i] = 0
		}
	}
	return ao, bo
}

// MatMulIntegerOffsets is batchOffsets for matmul_integer node n.
func MatMulIntegerOffsets(n *ir.Node) (ao, bo []int) {
	a, b, y := n.Inputs[0].Type.Shape, n.Inputs[1].Type.Shape, n.Outputs[0].Type.Shape
	return batchOffsets(a[:len(a)-2], b[:len(b)-2], y[:len(y)-2], a[len(a)-2:].NumElems(), b[len(b)-2:].NumElems())
}

func matmulInteger(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	a, b := in[0], in[1]
	ys := n.Outputs[0].Type.Shape
	M, K, N := ys[len(ys)-2], a.Shape[len(a.Shape)-1], ys[len(ys)-1]
	zp := func(i, j int) int32 { // zero point j of input i (per tensor, or by index)
		if len(in) <= i || in[i] == nil {
			return 0
		}
		if in[i].Len() == 1 {
			j = 0
		}
		return int32(in[i].Int(j))
	}
	y := ir.NewTensor(ir.I32, ys)
	out := y.I32()
	ao, bo := MatMulIntegerOffsets(n)
	for bi := range ao {
		for m := range M {
			za := zp(2, m)
			for j := range N {
				var acc int32
				for k := range K {
					acc += (int32(a.Int(ao[bi]+m*K+k)) - za) * (int32(b.Int(bo[bi]+k*N+j)) - zp(3, j))
				}
				out[(bi*M+m)*N+j] = acc
			}
		}
	}
	return one(y)
}

func convInteger(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x, w := in[0], in[1]
	g := ir.ConvGeomOf(n)
	var xz int32
	if len(in) > 2 && in[2] != nil {
		xz = int32(in[2].Int(0))
	}
	wz := func(m int) int32 {
		if len(in) <= 3 || in[3] == nil {
			return 0
		}
		if in[3].Len() == 1 {
			m = 0
		}
		return int32(in[3].Int(m))
	}
	y := ir.NewTensor(ir.I32, n.Outputs[0].Type.Shape)
	out := y.I32()
	cg, mg := g.C/g.G, g.M/g.G
	i := 0
	for b := range g.N {
		for m := range g.M {
			c0 := m / mg * cg
			for o0 := range g.Out[0] {
				for o1 := range g.Out[1] {
					for o2 := range g.Out[2] {
						var acc int32
						for c := range cg {
							for k0 := range g.K[0] {
								i0 := o0*g.Stride[0] - g.Pad[0] + k0*g.Dil[0]
								for k1 := range g.K[1] {
									i1 := o1*g.Stride[1] - g.Pad[1] + k1*g.Dil[1]
									for k2 := range g.K[2] {
										i2 := o2*g.Stride[2] - g.Pad[2] + k2*g.Dil[2]
										if i0 < 0 || i0 >= g.In[0] || i1 < 0 || i1 >= g.In[1] || i2 < 0 || i2 >= g.In[2] {
											continue // padding: x - zero point is 0 there
										}
										xv := int32(x.Int((((b*g.C+c0+c)*g.In[0]+i0)*g.In[1]+i1)*g.In[2] + i2))
										wv := int32(w.Int((((m*cg+c)*g.K[0]+k0)*g.K[1]+k1)*g.K[2] + k2))
										acc += (xv - xz) * (wv - wz(m))
									}
								}
							}
						}
						out[i] = acc
						i++
					}
				}
			}
		}
	}
	return one(y)
}

// RequantMultipliers is requant's a_scale·b_scale/y_scale for every
// b_scale value, each operation rounded to the scales' dtype.
func RequantMultipliers(a, b, y *ir.Tensor) []float64 {
	dt := a.DType
	out := make([]float64, b.Len())
	for i := range out {
		out[i] = ir.RoundTo(ir.RoundTo(a.Float(0)*b.Float(i), dt)/y.Float(0), dt)
	}
	return out
}

// RequantLayout is the extent of acc's axis (where b_scale may vary) and
// the elements after it.
func RequantLayout(n *ir.Node) (dim, inner int) {
	acc := n.Inputs[0].Type.Shape
	a, _ := ir.NormAxis(n.Attrs.Int("axis"), len(acc))
	return acc[a], acc[a+1:].NumElems()
}

func requant(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	acc := in[0].I32()
	mult := RequantMultipliers(in[1], in[2], in[3])
	var zp float64
	if len(in) > 4 && in[4] != nil {
		zp = in[4].Float(0)
	}
	to := n.Outputs[0].Type.DType
	lo, hi := ir.IntRange(to)
	dim, inner := RequantLayout(n)
	y := ir.NewTensor(to, n.Outputs[0].Type.Shape)
	for i, v := range acc {
		m := mult[0]
		if len(mult) > 1 {
			m = mult[i/inner%dim]
		}
		r := math.RoundToEven(float64(float64(v)*m) + zp) // the conversion keeps Go from fusing a multiply-add
		y.SetInt(i, int64(min(max(r, float64(lo)), float64(hi))))
	}
	return one(y)
}

// bitcast reinterprets the little-endian bytes of x as dtype `to`.
func bitcast(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	b, err := binary.Append(nil, binary.LittleEndian, in[0].Data)
	if err != nil {
		return nil, fmt.Errorf("bitcast: %w", err)
	}
	y := ir.NewTensor(n.Outputs[0].Type.DType, in[0].Shape)
	if y.Len() > 0 {
		if _, err := binary.Decode(b, binary.LittleEndian, y.Data); err != nil {
			return nil, fmt.Errorf("bitcast: %w", err)
		}
	}
	return one(y)
}

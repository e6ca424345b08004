package ir

import "fmt"

// The quantization ops (ONNX QuantizeLinear, DequantizeLinear,
// DynamicQuantizeLinear, MatMulInteger, ConvInteger, and QLinearMatMul and
// QLinearConv as an integer product followed by requant), and bitcast.
// Their arithmetic follows ONNX's reference implementation, dtype for
// dtype, so results agree bit for bit: see each op's doc.

// Quantized dtype sets.
var (
	// QuantOut are the dtypes quantize produces and dequantize reads
	// (besides i32, which dequantize also reads).
	QuantOut = SetOf(U8, I8, U16, I16, U4, I4, U2, I2, F8E4M3FN, F8E4M3FNUZ, F8E5M2, F8E5M2FNUZ, F4E2M1)
	// Int8s are the operands of the integer products.
	Int8s = SetOf(U8, I8)
)

// QuantLayout is how a scale (and zero point) maps onto the elements of
// x: x is [Outer, D, Inner] around axis; the scale is [Outer, ceil(D/Block),
// Inner] when blocked, [D] per axis, one value per tensor. Index gives
// the scale element of x's element (o, d, i).
type QuantLayout struct {
	Outer, D, Inner int
	Block           int // 0: per tensor or per axis
	PerAxis         bool
}

// Index is the scale element of x's element (o, d, i).
func (q QuantLayout) Index(o, d, i int) int {
	switch {
	case q.Block > 0:
		return (o*((q.D+q.Block-1)/q.Block)+d/q.Block)*q.Inner + i
	case q.PerAxis:
		return d
	}
	return 0
}

// QuantLayoutOf is the layout of input x (0) and scale (1) of node n
// (quantize or dequantize), whose shapes Infer has checked.
func QuantLayoutOf(n *Node) QuantLayout {
	x, s := in(n, 0).Shape, in(n, 1).Shape
	a, _ := normAxis(n.Attrs.Int("axis"), max(len(x), 1))
	q := QuantLayout{Outer: 1, D: 1, Inner: 1, Block: n.Attrs.Int("block_size")}
	if len(x) > 0 {
		q.Outer, q.D, q.Inner = x[:a].NumElems(), x[a], x[a+1:].NumElems()
	}
	q.PerAxis = q.Block == 0 && s.NumElems() > 1
	return q
}

// checkQuantScale checks the scale (input 1) and zero point (input 2)
// of quantize or dequantize against x: a scalar or [1] (per tensor), [D]
// for x's axis of size D (per axis), or x's shape with ceil(D/block_size)
// on the axis (blocked).
func checkQuantScale(n *Node) error {
	x, s := in(n, 0), in(n, 1)
	block := n.Attrs.Int("block_size")
	var want Shape
	switch {
	case block < 0:
		return shapeErr("%s: block_size must be positive, got %d", n.Op, block)
	case block == 0 && s.Shape.NumElems() == 1 && len(s.Shape) <= 1:
		want = s.Shape
	default:
		a, err := normAxis(n.Attrs.Int("axis"), len(x.Shape))
		if err != nil {
			return err
		}
		if block == 0 {
			want = Shape{x.Shape[a]}
		} else {
			want = x.Shape.Clone()
			want[a] = (want[a] + block - 1) / block
		}
	}
	if !s.Shape.Equal(want) {
		return shapeErr("%s: scale %s %v must be %v for x %s %v (axis %d, block_size %d)", n.Op, n.Inputs[1].Name, s.Shape, want, n.Inputs[0].Name, x.Shape, n.Attrs.Int("axis"), block)
	}
	if z := in(n, 2).Shape; has(n, 2) && !z.Equal(s.Shape) && !(z.NumElems() == 1 && s.Shape.NumElems() == 1 && block == 0) {
		return shapeErr("%s: zero point %s %v must have the scale's shape %v", n.Op, n.Inputs[2].Name, in(n, 2).Shape, s.Shape)
	}
	return nil
}

// QuantComputeType is the float dtype quantize divides in: precision when
// set, else numpy's promotion of x and scale (f16 with bf16 is f32).
func QuantComputeType(n *Node) DType {
	if p, ok := ParseDType(n.Attrs.String("precision")); ok {
		return p
	}
	a, b := in(n, 0).DType, in(n, 1).DType
	switch {
	case a == b:
		return a
	case a == F64 || b == F64:
		return F64
	}
	return F32
}

// RoundTo rounds v to float dtype dt (f64, f32, f16 or bf16), as
// arithmetic in that dtype rounds each result.
func RoundTo(v float64, dt DType) float64 {
	switch dt {
	case F32:
		return float64(float32(v))
	case F16:
		return F16Value(F16Bits(v))
	case BF16:
		return BF16Value(BF16Bits(v))
	}
	return v
}

func quantAttrs() []AttrDef {
	return []AttrDef{
		{Name: "axis", Kind: AttrInt, Default: 1, Doc: "the axis of per-axis and blocked scales"},
		{Name: "block_size", Kind: AttrInt, Default: 0, Optional: true, Doc: "elements of the axis sharing one scale (blocked quantization); 0 when not blocked"},
	}
}

func init() {
	Register(&OpDef{
		Name: "quantize", Doc: "x / scale (divided in the precision dtype, default the wider of x and scale), rounded to nearest even and plus zero_point, clipped to the range of integer dtype `to`; for float8 `to` cast with saturation (no zero point), for f4e2m1 plus zero_point and cast (ONNX QuantizeLinear)",
		Class: Opaque, Pure: Pure, Stream: StreamPointwise, NoGrad: "quantization is not differentiable",
		Inputs:  []InputDef{{Name: "x", DTypes: Floats}, {Name: "scale", Param: true, DTypes: Floats}, {Name: "zero_point", Optional: true, Param: true, DTypes: QuantOut}},
		Outputs: []string{"y"},
		Attrs: append(quantAttrs(),
			AttrDef{Name: "to", Kind: AttrString, Default: "u8", Enum: setNames(QuantOut), Doc: "the quantized dtype"},
			AttrDef{Name: "no_saturate", Kind: AttrBool, Default: false, Optional: true, Doc: "float8 results beyond the largest finite value become NaN or Inf (ONNX saturate=0)"},
			AttrDef{Name: "precision", Kind: AttrString, Default: "", Optional: true, Enum: setNames(Floats), Doc: "the dtype x / scale is computed in"}),
		Infer: func(n *Node) ([]TensorType, error) {
			to, _ := ParseDType(n.Attrs.String("to"))
			if has(n, 2) && in(n, 2).DType != to {
				return nil, shapeErr("quantize to %v: zero point %s is %v", to, n.Inputs[2].Name, in(n, 2).DType)
			}
			if err := checkQuantScale(n); err != nil {
				return nil, err
			}
			return []TensorType{{to, in(n, 0).Shape.Clone()}}, nil
		},
	})
	Register(&OpDef{
		Name: "dequantize", Doc: "(x - zero_point) · scale as dtype `to`: in f32 arithmetic as ONNX's reference computes it (f64 for an f64 scale or i32 x); float8 and f4e2m1 x take no zero point (ONNX DequantizeLinear)",
		Class: Opaque, Pure: Pure, Stream: StreamPointwise, NoGrad: "quantization is not differentiable",
		Inputs:  []InputDef{{Name: "x", DTypes: QuantOut | SetOf(I32)}, {Name: "scale", Param: true, DTypes: Floats}, {Name: "zero_point", Optional: true, Param: true, DTypes: QuantOut | SetOf(I32)}},
		Outputs: []string{"y"},
		Attrs: append(quantAttrs(),
			AttrDef{Name: "to", Kind: AttrString, Default: "f32", Enum: setNames(Floats), Doc: "the dtype of the result (ONNX: the scale's, or output_dtype)"}),
		Infer: func(n *Node) ([]TensorType, error) {
			if has(n, 2) && in(n, 2).DType != in(n, 0).DType {
				return nil, shapeErr("dequantize: zero point %s is %v, x %s is %v", n.Inputs[2].Name, in(n, 2).DType, n.Inputs[0].Name, in(n, 0).DType)
			}
			if err := checkQuantScale(n); err != nil {
				return nil, err
			}
			to, _ := ParseDType(n.Attrs.String("to"))
			return []TensorType{{to, in(n, 0).Shape.Clone()}}, nil
		},
	})
	Register(&OpDef{
		Name: "dynamic_quantize", Doc: "u8 quantization of x with the scale (max(0, max x) - min(0, min x)) / 255 (1 when that is 0) and zero point rint(clip(-min/scale)), all in f32 as ONNX's reference computes them (ONNX DynamicQuantizeLinear)",
		Class: Opaque, Pure: Pure, Stream: StreamWhole, NoGrad: "quantization is not differentiable",
		Inputs:  []InputDef{{Name: "x", DTypes: OnlyF32}},
		Outputs: []string{"y", "scale", "zero_point"},
		Infer: func(n *Node) ([]TensorType, error) {
			return []TensorType{{U8, in(n, 0).Shape.Clone()}, {F32, Shape{}}, {U8, Shape{}}}, nil
		},
	})
	registerQuantProducts()
}

// setNames lists the .dl spellings of a set's dtypes.
func setNames(s DTypeSet) []string {
	var out []string
	for _, dt := range DTypes() {
		if s.Has(dt) {
			out = append(out, dt.String())
		}
	}
	return out
}

// MatMulIntegerShape is the output shape of an integer product of a
// [..., M, K] and b [..., K, N] (batch axes broadcast, as numpy's matmul).
func MatMulIntegerShape(a, b Shape) (Shape, error) {
	if len(a) < 2 || len(b) < 2 {
		return nil, shapeErr("matmul_integer needs operands of rank 2 or more, got %v and %v", a, b)
	}
	if a[len(a)-1] != b[len(b)-2] {
		return nil, shapeErr("matmul_integer: %v times %v: inner sizes %d and %d differ", a, b, a[len(a)-1], b[len(b)-2])
	}
	batch, err := BroadcastShapes(a[:len(a)-2], b[:len(b)-2])
	if err != nil {
		return nil, err
	}
	return append(batch.Clone(), a[len(a)-2], b[len(b)-1]), nil
}

func registerQuantProducts() {
	Register(&OpDef{
		Name: "matmul_integer", Doc: "(a - a_zero_point) × (b - b_zero_point) in i32, batch axes broadcast; a's zero point per tensor or per row [M], b's per tensor or per column [N] (ONNX MatMulInteger)",
		Class: Opaque, Pure: Pure, Stream: StreamWhole, NoGrad: "integer products are not differentiable",
		Inputs: []InputDef{{Name: "a", DTypes: Int8s}, {Name: "b", Param: true, DTypes: Int8s},
			{Name: "a_zero_point", Optional: true, Param: true, DTypes: Int8s}, {Name: "b_zero_point", Optional: true, Param: true, DTypes: Int8s}},
		Outputs: []string{"y"},
		Infer: func(n *Node) ([]TensorType, error) {
			a, b := in(n, 0).Shape, in(n, 1).Shape
			out, err := MatMulIntegerShape(a, b)
			if err != nil {
				return nil, err
			}
			for i, size := range map[int]int{2: a[len(a)-2], 3: b[len(b)-1]} {
				if has(n, i) && in(n, i).Shape.NumElems() != 1 && !in(n, i).Shape.Equal(Shape{size}) {
					return nil, shapeErr("matmul_integer: zero point %s %v must be one value or [%d]", n.Inputs[i].Name, in(n, i).Shape, size)
				}
			}
			return []TensorType{{I32, out}}, nil
		},
	})
	Register(&OpDef{
		Name: "conv_integer", Doc: "convolution of (x - x_zero_point) with (w - w_zero_point) in i32 over 1 to 3 spatial axes; w's zero point per tensor or per output channel (ONNX ConvInteger)",
		Class: Opaque, Pure: Pure, Stream: StreamWhole, NoGrad: "integer products are not differentiable",
		Inputs: []InputDef{{Name: "x", DTypes: Int8s}, {Name: "weight", Param: true, DTypes: Int8s},
			{Name: "x_zero_point", Optional: true, Param: true, DTypes: Int8s}, {Name: "w_zero_point", Optional: true, Param: true, DTypes: Int8s}},
		Outputs: []string{"y"},
		Attrs: append(windowAttrs(convRank, true),
			AttrDef{Name: "groups", Kind: AttrInt, Default: 1, Doc: "number of channel groups"}),
		Check: func(n *Node) error {
			if err := checkWindow(n, convRank(n)); err != nil {
				return err
			}
			if n.Attrs.Int("groups") < 1 {
				return shapeErr("conv_integer: groups must be positive, got %d", n.Attrs.Int("groups"))
			}
			return nil
		},
		Infer: inferConvInteger,
	})
	Register(&OpDef{
		Name: "requant", Doc: "rint(acc · (a_scale·b_scale/y_scale) + y_zero_point) clipped to dtype `to`: the multiplier in the scales' dtype, the rest in f64, as ONNX's reference computes QLinearMatMul and QLinearConv; b_scale per tensor or per index of acc's axis",
		Class: Opaque, Pure: Pure, Stream: StreamPointwise, NoGrad: "quantization is not differentiable",
		Inputs: []InputDef{{Name: "acc", DTypes: SetOf(I32)}, {Name: "a_scale", Param: true, DTypes: Floats}, {Name: "b_scale", Param: true, DTypes: Floats},
			{Name: "y_scale", Param: true, DTypes: Floats}, {Name: "y_zero_point", Optional: true, Param: true, DTypes: Int8s}},
		Outputs: []string{"y"},
		Attrs: []AttrDef{{Name: "axis", Kind: AttrInt, Default: -1, Doc: "the axis of acc a per-index b_scale runs along"},
			{Name: "to", Kind: AttrString, Default: "u8", Enum: setNames(Int8s), Doc: "the quantized dtype"}},
		Infer: func(n *Node) ([]TensorType, error) {
			acc := in(n, 0).Shape
			a, err := normAxis(n.Attrs.Int("axis"), len(acc))
			if err != nil {
				return nil, err
			}
			dt := in(n, 1).DType
			for i := 1; i <= 4; i++ {
				if !has(n, i) {
					continue
				}
				s := in(n, i)
				switch {
				case i < 4 && s.DType != dt:
					return nil, shapeErr("requant: scales of dtypes %v and %v", dt, s.DType)
				case i == 2 && s.Shape.NumElems() != 1 && !s.Shape.Equal(Shape{acc[a]}):
					return nil, shapeErr("requant: b_scale %s %v must be one value or [%d]", n.Inputs[i].Name, s.Shape, acc[a])
				case i != 2 && s.Shape.NumElems() != 1:
					return nil, shapeErr("requant: %s %s %v must be one value (per-tensor)", n.Def().Inputs[i].Name, n.Inputs[i].Name, s.Shape)
				}
			}
			to, _ := ParseDType(n.Attrs.String("to"))
			if has(n, 4) && in(n, 4).DType != to {
				return nil, shapeErr("requant to %v: zero point %s is %v", to, n.Inputs[4].Name, in(n, 4).DType)
			}
			return []TensorType{{to, acc.Clone()}}, nil
		},
	})
	Register(&OpDef{
		Name: "bitcast", Doc: "reinterprets the bits of each element as dtype `to` of the same size (ONNX BitCast)",
		Class: Injective, Pure: Pure, Stream: StreamPointwise, NoGrad: "a bit reinterpretation is not differentiable",
		Inputs:  []InputDef{{Name: "x", DTypes: AnyDType}},
		Outputs: []string{"y"},
		Attrs:   []AttrDef{{Name: "to", Kind: AttrString, Enum: setNames(AnyDType), Doc: "the dtype of the result, of the same size"}},
		Infer: func(n *Node) ([]TensorType, error) {
			x := in(n, 0)
			to, _ := ParseDType(n.Attrs.String("to"))
			if to.Size() != x.DType.Size() {
				return nil, shapeErr("bitcast: %v (%d bytes) to %v (%d bytes): sizes differ", x.DType, x.DType.Size(), to, to.Size())
			}
			return []TensorType{{to, x.Shape.Clone()}}, nil
		},
	})
}

// inferConvInteger is conv_integer's shape rule: conv's, with integer
// operands and zero points checked.
func inferConvInteger(n *Node) ([]TensorType, error) {
	x, w := in(n, 0).Shape, in(n, 1).Shape
	r := len(w) - 2
	if len(x) != r+2 {
		return nil, shapeErr("conv_integer with a %d-d kernel %v wants input [N, C, %d spatial], got %s %v", r, w, r, n.Inputs[0].Name, x)
	}
	g := n.Attrs.Int("groups")
	c, m := x[1], w[0]
	if c%g != 0 || m%g != 0 || w[1] != c/g {
		return nil, shapeErr("conv_integer: weight %v does not fit input %v with groups %d", w, x, g)
	}
	if has(n, 2) && in(n, 2).Shape.NumElems() != 1 {
		return nil, shapeErr("conv_integer: x zero point %s %v must be one value", n.Inputs[2].Name, in(n, 2).Shape)
	}
	if has(n, 3) && in(n, 3).Shape.NumElems() != 1 && !in(n, 3).Shape.Equal(Shape{m}) {
		return nil, shapeErr("conv_integer: weight zero point %s %v must be one value or [%d]", n.Inputs[3].Name, in(n, 3).Shape, m)
	}
	out := Shape{x[0], m}
	st, p, d := n.Attrs.Ints("strides"), n.Attrs.Ints("pads"), n.Attrs.Ints("dilations")
	for i := range r {
		o := WindowOut(x[2+i], w[2+i], st[i], p[i], p[r+i], d[i], false)
		if o < 1 {
			return nil, shapeErr("conv_integer: input %v is too small for kernel %v on spatial axis %d", x, w[2:], i)
		}
		out = append(out, o)
	}
	return []TensorType{{I32, out}}, nil
}

// ConvGeom is a convolution's geometry padded to 3 spatial axes (a 1-d or
// 2-d one has leading axes of size 1): what conv_integer's kernel and
// emitter loop over.
type ConvGeom struct {
	N, C, M, G       int
	In, K, Out       [3]int
	Stride, Pad, Dil [3]int
}

// ConvGeomOf is the geometry of conv_integer node n.
func ConvGeomOf(n *Node) ConvGeom {
	x, w, y := in(n, 0).Shape, in(n, 1).Shape, n.Outputs[0].Type.Shape
	r := len(w) - 2
	g := ConvGeom{N: x[0], C: x[1], M: w[0], G: n.Attrs.Int("groups")}
	st, p, d := n.Attrs.Ints("strides"), n.Attrs.Ints("pads"), n.Attrs.Ints("dilations")
	for i := range 3 {
		g.In[i], g.K[i], g.Out[i], g.Stride[i], g.Dil[i] = 1, 1, 1, 1, 1
		if j := i - (3 - r); j >= 0 {
			g.In[i], g.K[i], g.Out[i], g.Stride[i], g.Pad[i], g.Dil[i] = x[2+j], w[2+j], y[2+j], st[j], p[j], d[j]
		}
	}
	return g
}

// String is the geometry in one line, for kernel comments.
func (g ConvGeom) String() string {
	return fmt.Sprintf("N %d, C %d, M %d, groups %d, in %v, kernel %v, out %v, strides %v, pads %v, dilations %v", g.N, g.C, g.M, g.G, g.In, g.K, g.Out, g.Stride, g.Pad, g.Dil)
}

package ir

// Tensor plumbing: ops that move elements of any dtype without
// arithmetic (expand, pad, trilu).

// PadModes are the modes of pad, ONNX's names (PyTorch's replicate is
// edge, circular is wrap).
var PadModes = []string{"constant", "reflect", "edge", "wrap"}

func init() {
	Register(&OpDef{
		Name: "expand", Doc: "broadcast to shape by numpy's rules (torch.Tensor.expand, ONNX Expand): the output shape is the broadcast of the input's and shape",
		Class: Injective, NoGrad: noGradYet, Pure: Pure, Stream: StreamWhole,
		Inputs: []InputDef{{Name: "x", DTypes: AnyDType}}, Outputs: []string{"y"},
		Attrs: []AttrDef{{Name: "shape", Kind: AttrInts, Doc: "the shape to broadcast to"}},
		Infer: func(n *Node) ([]TensorType, error) {
			x := in(n, 0)
			s := Shape(n.Attrs.Ints("shape"))
			for _, d := range s {
				if d < 0 {
					return nil, shapeErr("expand: shape %v has a negative dimension", s)
				}
			}
			out, err := BroadcastShapes(x.Shape, s)
			if err != nil {
				return nil, err
			}
			if out.NumElems() > maxResizeElems {
				return nil, shapeErr("expand: output %v has more than %d elements", out, maxResizeElems)
			}
			return []TensorType{{x.DType, out}}, nil
		},
	})
	Register(&OpDef{
		Name: "pad", Doc: "pad (or, with negative pads, crop) every axis: constant value, reflect (mirror without the edge), edge (repeat the edge) or wrap (circular)",
		Class: Injective, NoGrad: noGradYet, Pure: Pure, Stream: StreamWhole,
		Inputs: []InputDef{{Name: "x", DTypes: AnyDType}}, Outputs: []string{"y"},
		Attrs: []AttrDef{
			{Name: "pads", Kind: AttrInts, Doc: "elements added before every axis, then after every axis (negative removes)"},
			{Name: "mode", Kind: AttrString, Default: "constant", Enum: PadModes, Doc: "how the new elements are filled"},
			{Name: "value", Kind: AttrFloat, Default: 0.0, Doc: "the constant of mode constant, converted to the dtype"},
		},
		Infer: func(n *Node) ([]TensorType, error) {
			x := in(n, 0)
			p := n.Attrs.Ints("pads")
			r := len(x.Shape)
			if len(p) != 2*r {
				return nil, shapeErr("pad: pads %v has %d values, want %d (begins, then ends, of every axis of %s %v)", Shape(p), len(p), 2*r, n.Inputs[0].Name, x.Shape)
			}
			out := make(Shape, r)
			mode := n.Attrs.String("mode")
			for i := range r {
				out[i] = x.Shape[i] + p[i] + p[r+i]
				if out[i] < 0 || (out[i] == 0 && x.Shape[i] > 0) {
					return nil, shapeErr("pad: pads %v remove all of axis %d of %s %v", Shape(p), i, n.Inputs[0].Name, x.Shape)
				}
				if mode != "constant" && x.Shape[i] == 0 && out[i] > 0 {
					return nil, shapeErr("pad: mode %s cannot pad the empty axis %d of %s %v", mode, i, n.Inputs[0].Name, x.Shape)
				}
			}
			if out.NumElems() > maxResizeElems {
				return nil, shapeErr("pad: output %v has more than %d elements", out, maxResizeElems)
			}
			return []TensorType{{x.DType, out}}, nil
		},
	})
	Register(&OpDef{
		Name: "trilu", Doc: "keep the lower (or upper) triangle of the last two axes from diagonal k, zero the rest (torch.tril/triu, ONNX Trilu)",
		Class: Injective, NoGrad: noGradYet, Pure: Pure, Stream: StreamWhole,
		Inputs: []InputDef{{Name: "x", DTypes: AnyDType}}, Outputs: []string{"y"},
		Attrs: []AttrDef{
			{Name: "upper", Kind: AttrBool, Default: false, Doc: "keep the upper triangle (triu) instead of the lower (tril)"},
			{Name: "k", Kind: AttrInt, Default: 0, Doc: "the diagonal: 0 the main one, positive above it, negative below"},
		},
		Infer: func(n *Node) ([]TensorType, error) {
			x := in(n, 0)
			if len(x.Shape) < 2 {
				return nil, shapeErr("trilu: input %s %v must have at least 2 axes", n.Inputs[0].Name, x.Shape)
			}
			return []TensorType{x}, nil
		},
	})
}

// PadIndex maps output index o of an axis of size d padded by begin to
// the input index it copies, or -1 for the constant.
func PadIndex(mode string, o, begin, d int) int {
	i := o - begin
	if i >= 0 && i < d {
		return i
	}
	switch mode {
	case "edge":
		return min(max(i, 0), d-1)
	case "wrap":
		return ((i % d) + d) % d
	case "reflect":
		if d == 1 {
			return 0
		}
		p := 2 * (d - 1) // numpy's reflect repeats with this period
		i = ((i % p) + p) % p
		if i >= d {
			i = p - i
		}
		return i
	}
	return -1
}

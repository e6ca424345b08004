package ir

// Tensor plumbing: ops that move elements of any dtype without
// arithmetic (expand, pad, trilu).

// PadModes are the modes of pad, ONNX's names (PyTorch's replicate is
// edge, circular is wrap).
var PadModes = []string{"constant", "reflect", "edge", "wrap"}

func init() {
	Register(&OpDef{
		Name: "expand", Doc: "broadcast to shape by numpy's rules (torch.Tensor.expand, ONNX Expand): the output shape is the broadcast of the input's and shape",
		Class: Injective, Grad: &Grad{}, Pure: Pure, Stream: StreamWhole,
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
		Class: Injective, Grad: &Grad{}, Pure: Pure, Stream: StreamWhole,
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
		Class: Injective, Grad: &Grad{}, Pure: Pure, Stream: StreamWhole,
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

// ScatterReductions are the reductions of scatter_elements and
// scatter_nd (ONNX's names).
var ScatterReductions = []string{"none", "add", "mul", "max", "min"}

func init() {
	Register(&OpDef{
		Name: "gather_elements", Doc: "y[i][j][k] = data[index[i][j][k]][j][k] along axis (torch.gather, ONNX GatherElements); negative indices count from the end",
		Class: Injective, Grad: &Grad{}, Pure: Pure, Stream: StreamWhole,
		Inputs:  []InputDef{{Name: "data", DTypes: AnyDType}, {Name: "indices", DTypes: Indices}},
		Outputs: []string{"y"},
		Attrs:   []AttrDef{{Name: "axis", Kind: AttrInt, Default: 0, Doc: "the axis indices index"}},
		Infer: func(n *Node) ([]TensorType, error) {
			d, idx := in(n, 0), in(n, 1)
			if _, err := elementsAxis(n, d.Shape, idx.Shape, "indices"); err != nil {
				return nil, err
			}
			return []TensorType{{d.DType, idx.Shape.Clone()}}, nil
		},
	})
	Register(&OpDef{
		Name: "scatter_elements", Doc: "a copy of data with data[index[i][j][k]][j][k] (along axis) set to, or reduced with, updates[i][j][k] (torch.scatter/scatter_reduce, ONNX ScatterElements)",
		Class: Injective, Grad: &Grad{}, Pure: Pure, Stream: StreamWhole,
		Inputs:  []InputDef{{Name: "data", DTypes: AnyDType}, {Name: "indices", DTypes: Indices}, {Name: "updates", DTypes: AnyDType}},
		Outputs: []string{"y"},
		Attrs: []AttrDef{{Name: "axis", Kind: AttrInt, Default: 0, Doc: "the axis indices index"},
			{Name: "reduction", Kind: AttrString, Default: "none", Enum: ScatterReductions, Doc: "none replaces (the last update wins); add, mul, max, min combine"}},
		Infer: func(n *Node) ([]TensorType, error) {
			d, idx, u := in(n, 0), in(n, 1), in(n, 2)
			if err := checkScatter(n, d, u); err != nil {
				return nil, err
			}
			if !u.Shape.Equal(idx.Shape) {
				return nil, shapeErr("scatter_elements: updates %s %v must have the shape of indices %v", n.Inputs[2].Name, u.Shape, idx.Shape)
			}
			if _, err := elementsAxis(n, d.Shape, idx.Shape, "indices"); err != nil {
				return nil, err
			}
			return []TensorType{d}, nil
		},
	})
	Register(&OpDef{
		Name: "gather_nd", Doc: "slices of data at the index tuples of the last axis of indices, after batch_dims shared leading axes (ONNX GatherND)",
		Class: Injective, Grad: &Grad{}, Pure: Pure, Stream: StreamWhole,
		Inputs:  []InputDef{{Name: "data", DTypes: AnyDType}, {Name: "indices", DTypes: Indices}},
		Outputs: []string{"y"},
		Attrs:   []AttrDef{{Name: "batch_dims", Kind: AttrInt, Default: 0, Doc: "leading axes data and indices share"}},
		Infer: func(n *Node) ([]TensorType, error) {
			d, idx := in(n, 0), in(n, 1)
			b := n.Attrs.Int("batch_dims")
			last, err := ndShapes(n, d.Shape, idx.Shape, b)
			if err != nil {
				return nil, err
			}
			out := append(idx.Shape[:len(idx.Shape)-1].Clone(), d.Shape[b+last:]...)
			return []TensorType{{d.DType, out}}, nil
		},
	})
	Register(&OpDef{
		Name: "scatter_nd", Doc: "a copy of data with the slices at the index tuples of the last axis of indices set to, or reduced with, updates (ONNX ScatterND)",
		Class: Injective, Grad: &Grad{}, Pure: Pure, Stream: StreamWhole,
		Inputs:  []InputDef{{Name: "data", DTypes: AnyDType}, {Name: "indices", DTypes: Indices}, {Name: "updates", DTypes: AnyDType}},
		Outputs: []string{"y"},
		Attrs:   []AttrDef{{Name: "reduction", Kind: AttrString, Default: "none", Enum: ScatterReductions, Doc: "none replaces (the last update wins); add, mul, max, min combine"}},
		Infer: func(n *Node) ([]TensorType, error) {
			d, idx, u := in(n, 0), in(n, 1), in(n, 2)
			if err := checkScatter(n, d, u); err != nil {
				return nil, err
			}
			last, err := ndShapes(n, d.Shape, idx.Shape, 0)
			if err != nil {
				return nil, err
			}
			want := append(idx.Shape[:len(idx.Shape)-1].Clone(), d.Shape[last:]...)
			if !u.Shape.Equal(want) {
				return nil, shapeErr("scatter_nd: updates %s %v must be %v (indices %v without its last axis, then data %v after %d axes)", n.Inputs[2].Name, u.Shape, want, idx.Shape, d.Shape, last)
			}
			return []TensorType{d}, nil
		},
	})
	Register(&OpDef{
		Name: "one_hot", Doc: "values[1] where an axis of size depth equals the index (negative indices count from the end), values[0] elsewhere (F.one_hot, ONNX OneHot)",
		Class: Injective, Grad: &Grad{}, Pure: Pure, Stream: StreamWhole,
		Inputs:  []InputDef{{Name: "indices", DTypes: Numbers}, {Name: "values", DTypes: AnyDType}},
		Outputs: []string{"y"},
		Attrs: []AttrDef{{Name: "depth", Kind: AttrInt, Doc: "the size of the new axis"},
			{Name: "axis", Kind: AttrInt, Default: -1, Doc: "where the new axis goes in the output"}},
		Infer: func(n *Node) ([]TensorType, error) {
			idx, v := in(n, 0), in(n, 1)
			if v.Shape.NumElems() != 2 || len(v.Shape) != 1 {
				return nil, shapeErr("one_hot: values %s %v must be [off, on]", n.Inputs[1].Name, v.Shape)
			}
			depth := n.Attrs.Int("depth")
			if depth < 1 || depth > maxResizeElems {
				return nil, shapeErr("one_hot: depth %d must be positive", depth)
			}
			a, err := normAxis(n.Attrs.Int("axis"), len(idx.Shape)+1)
			if err != nil {
				return nil, err
			}
			out := append(idx.Shape[:a].Clone(), depth)
			out = append(out, idx.Shape[a:]...)
			if out.NumElems() > maxResizeElems {
				return nil, shapeErr("one_hot: output %v has more than %d elements", out, maxResizeElems)
			}
			return []TensorType{{v.DType, out}}, nil
		},
	})
}

// elementsAxis checks the axis of a gather/scatter_elements node: data
// and indices of one rank, indices no larger than data off the axis.
func elementsAxis(n *Node, d, idx Shape, what string) (int, error) {
	a, err := normAxis(n.Attrs.Int("axis"), len(d))
	if err != nil {
		return 0, err
	}
	if len(idx) != len(d) {
		return 0, shapeErr("%s: %s %v must have the rank of data %v", n.Op, what, idx, d)
	}
	for i := range d {
		if i != a && idx[i] > d[i] {
			return 0, shapeErr("%s: %s %v is larger than data %v on axis %d", n.Op, what, idx, d, i)
		}
	}
	return a, nil
}

// checkScatter checks a scatter's updates dtype and reduction.
func checkScatter(n *Node, d, u TensorType) error {
	if u.DType != d.DType {
		return shapeErr("%s: updates %s is %v, data is %v", n.Op, n.Inputs[2].Name, u.DType, d.DType)
	}
	if r := n.Attrs.String("reduction"); r != "none" && (d.DType == Bool || d.DType == F16 || d.DType == BF16) {
		return shapeErr("%s: reduction %s of %v is not supported (numbers other than f16 and bf16)", n.Op, r, d.DType)
	}
	return nil
}

// ndShapes checks the shapes of gather_nd and scatter_nd: b shared
// leading (batch) axes, then index tuples of length last (indices' last
// axis) into data's next axes.
func ndShapes(n *Node, d, idx Shape, b int) (last int, err error) {
	if len(idx) < 1 || b < 0 || b >= len(idx) || b > len(d) {
		return 0, shapeErr("%s: batch_dims %d does not fit indices %v and data %v", n.Op, b, idx, d)
	}
	last = idx[len(idx)-1]
	if last < 1 || b+last > len(d) {
		return 0, shapeErr("%s: index tuples of length %d (indices %v) do not fit data %v after %d batch axes", n.Op, last, idx, d, b)
	}
	if !idx[:b].Equal(d[:b]) {
		return 0, shapeErr("%s: the %d batch axes of indices %v and data %v differ", n.Op, b, idx, d)
	}
	return last, nil
}

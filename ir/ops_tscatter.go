package ir

// tensor_scatter: a key/value cache update (ONNX TensorScatter, opset
// 24): the update's steps along axis are written into a copy of the
// cache from each batch entry's write index, wrapping in circular mode.

func init() {
	Register(&OpDef{
		Name: "tensor_scatter", Doc: "a copy of cache with update's steps along axis written from write_indices[b] of each batch entry b (0 without them); circular mode wraps around the axis, linear mode fails past its end (ONNX TensorScatter)",
		Class: Opaque, Pure: Pure, Stream: StreamWhole, NoGrad: noRuleYet,
		Inputs: []InputDef{{Name: "cache", DTypes: AnyDType}, {Name: "update", DTypes: AnyDType},
			{Name: "write_indices", Optional: true, DTypes: SetOf(I64)}},
		Outputs: []string{"y"},
		Attrs: []AttrDef{{Name: "axis", Kind: AttrInt, Default: -2, Doc: "the sequence axis (not the batch axis 0)"},
			{Name: "mode", Kind: AttrString, Default: "linear", Enum: []string{"linear", "circular"}, Doc: "circular wraps the write position around the axis"}},
		Infer: func(n *Node) ([]TensorType, error) {
			if _, err := TensorScatterAxis(n); err != nil {
				return nil, err
			}
			return []TensorType{{in(n, 0).DType, in(n, 0).Shape.Clone()}}, nil
		},
	})
}

// TensorScatterAxis checks a tensor_scatter node and returns its axis.
func TensorScatterAxis(n *Node) (int, error) {
	c, u := in(n, 0), in(n, 1)
	a, err := normAxis(n.Attrs.Int("axis"), len(c.Shape))
	if err != nil {
		return 0, err
	}
	if a == 0 || c.DType != u.DType || len(c.Shape) != len(u.Shape) {
		return 0, shapeErr("tensor_scatter: cache %v and update %v must have one dtype and rank, axis %d not the batch axis", c, u, a)
	}
	for i := range c.Shape {
		if i != a && c.Shape[i] != u.Shape[i] || i == a && u.Shape[i] > c.Shape[i] {
			return 0, shapeErr("tensor_scatter: update %v does not fit cache %v along axis %d", u.Shape, c.Shape, a)
		}
	}
	if has(n, 2) && !in(n, 2).Shape.Equal(Shape{c.Shape[0]}) {
		return 0, shapeErr("tensor_scatter: write_indices %v must be [%d]", in(n, 2).Shape, c.Shape[0])
	}
	return a, nil
}

package ir

// Ops that move data without arithmetic.

func init() {
	Register(&OpDef{
		Name: "flatten", Doc: "reshape to 2-D: [prod(dims before axis), prod(dims from axis)]",
		Class: Injective, Grad: &Grad{}, Pure: Pure, View: true, Stream: StreamReshape,
		Inputs: []InputDef{{Name: "x", DTypes: AnyDType}}, Outputs: []string{"y"},
		Attrs: []AttrDef{{Name: "axis", Kind: AttrInt, Default: 1, Doc: "first axis of the second dimension"}},
		Infer: func(n *Node) ([]TensorType, error) {
			x := in(n, 0)
			r := len(x.Shape)
			a := n.Attrs.Int("axis")
			if a < 0 {
				a += r
			}
			if a < 0 || a > r {
				return nil, shapeErr("flatten axis %d is out of range for rank %d", n.Attrs.Int("axis"), r)
			}
			return []TensorType{{x.DType, Shape{x.Shape[:a].NumElems(), x.Shape[a:].NumElems()}}}, nil
		},
	})
	Register(&OpDef{
		Name: "reshape", Doc: "same elements, new shape; one dimension may be -1 (inferred) and 0 copies the input's",
		Class: Injective, Grad: &Grad{}, Pure: Pure, View: true, Stream: StreamReshape,
		Inputs: []InputDef{{Name: "x", DTypes: AnyDType}}, Outputs: []string{"y"},
		Attrs: []AttrDef{{Name: "shape", Kind: AttrInts, Doc: "the new shape"}},
		Infer: func(n *Node) ([]TensorType, error) {
			x := in(n, 0)
			s, err := ReshapeShape(x.Shape, n.Attrs.Ints("shape"))
			if err != nil {
				return nil, err
			}
			return []TensorType{{x.DType, s}}, nil
		},
	})
	Register(&OpDef{
		Name: "transpose", Doc: "permute axes: output axis i is input axis perm[i]",
		Class: Injective, Grad: &Grad{}, Pure: Pure, Stream: StreamTranspose,
		Inputs: []InputDef{{Name: "x", DTypes: AnyDType}}, Outputs: []string{"y"},
		Attrs: []AttrDef{{Name: "perm", Kind: AttrInts, Doc: "the permutation (default: reverse the axes)",
			DefaultFn: func(n *Node) any {
				r := 0
				if has(n, 0) {
					r = len(in(n, 0).Shape)
				}
				p := make([]int, r)
				for i := range p {
					p[i] = r - 1 - i
				}
				return p
			}}},
		Infer: func(n *Node) ([]TensorType, error) {
			x := in(n, 0)
			p := n.Attrs.Ints("perm")
			if len(p) != len(x.Shape) {
				return nil, shapeErr("transpose perm %v has %d axes, input %s %v has %d", p, len(p), n.Inputs[0].Name, x.Shape, len(x.Shape))
			}
			seen := make([]bool, len(p))
			out := make(Shape, len(p))
			for i, a := range p {
				if a < 0 || a >= len(p) || seen[a] {
					return nil, shapeErr("transpose perm %v is not a permutation of 0..%d", p, len(p)-1)
				}
				seen[a] = true
				out[i] = x.Shape[a]
			}
			return []TensorType{{x.DType, out}}, nil
		},
	})
	Register(&OpDef{
		Name: "concat", Doc: "join tensors along an axis",
		Class: Injective, Grad: &Grad{}, Pure: Pure, Stream: StreamConcat,
		Inputs: []InputDef{{Name: "x", Variadic: true, DTypes: AnyDType}}, Outputs: []string{"y"},
		Attrs: []AttrDef{{Name: "axis", Kind: AttrInt, Default: 1, Doc: "the axis to join along"}},
		Infer: func(n *Node) ([]TensorType, error) {
			first := in(n, 0)
			a, err := normAxis(n.Attrs.Int("axis"), len(first.Shape))
			if err != nil {
				return nil, err
			}
			out := first.Shape.Clone()
			out[a] = 0
			for i, v := range n.Inputs {
				t := v.Type
				if t.DType != first.DType || len(t.Shape) != len(first.Shape) {
					return nil, shapeErr("concat input %d %s is %v, want %v with rank %d like %s", i, v.Name, t, first.DType, len(first.Shape), n.Inputs[0].Name)
				}
				for d := range t.Shape {
					if d != a && t.Shape[d] != first.Shape[d] {
						return nil, shapeErr("concat along axis %d: %s %v and %s %v differ in dimension %d", a, n.Inputs[0].Name, first.Shape, v.Name, t.Shape, d)
					}
				}
				out[a] += t.Shape[a]
			}
			return []TensorType{{first.DType, out}}, nil
		},
	})
	Register(&OpDef{
		Name: "squeeze", Doc: "drop axes of size 1",
		Class: Injective, Grad: &Grad{}, Pure: Pure, View: true, Stream: StreamReshape,
		Inputs: []InputDef{{Name: "x", DTypes: AnyDType}}, Outputs: []string{"y"},
		Attrs: []AttrDef{{Name: "axes", Kind: AttrInts, Default: []int{}, Doc: "axes to drop (default: every axis of size 1)"}},
		Infer: func(n *Node) ([]TensorType, error) {
			x := in(n, 0)
			r := len(x.Shape)
			drop := make([]bool, r)
			axes := n.Attrs.Ints("axes")
			for _, a := range axes {
				na, err := normAxis(a, r)
				if err != nil {
					return nil, err
				}
				if x.Shape[na] != 1 {
					return nil, shapeErr("squeeze axis %d of %s %v has size %d, want 1", a, n.Inputs[0].Name, x.Shape, x.Shape[na])
				}
				drop[na] = true
			}
			out := Shape{}
			for i, d := range x.Shape {
				if drop[i] || (len(axes) == 0 && d == 1) {
					continue
				}
				out = append(out, d)
			}
			return []TensorType{{x.DType, out}}, nil
		},
	})
	Register(&OpDef{
		Name: "unsqueeze", Doc: "insert axes of size 1",
		Class: Injective, Grad: &Grad{}, Pure: Pure, View: true, Stream: StreamReshape,
		Inputs: []InputDef{{Name: "x", DTypes: AnyDType}}, Outputs: []string{"y"},
		Attrs: []AttrDef{{Name: "axes", Kind: AttrInts, Doc: "positions of the new axes in the output"}},
		Infer: func(n *Node) ([]TensorType, error) {
			x := in(n, 0)
			r := len(x.Shape) + len(n.Attrs.Ints("axes"))
			ins := make([]bool, r)
			for _, a := range n.Attrs.Ints("axes") {
				na, err := normAxis(a, r)
				if err != nil {
					return nil, err
				}
				if ins[na] {
					return nil, shapeErr("unsqueeze axes %v repeat axis %d", n.Attrs.Ints("axes"), na)
				}
				ins[na] = true
			}
			out := make(Shape, 0, r)
			j := 0
			for i := 0; i < r; i++ {
				if ins[i] {
					out = append(out, 1)
				} else {
					out = append(out, x.Shape[j])
					j++
				}
			}
			return []TensorType{{x.DType, out}}, nil
		},
	})
	Register(&OpDef{
		Name: "embedding", Doc: "look up rows of weight [vocab, dim] by integer ids; output shape ids.shape + [dim]",
		Class: Injective, Grad: &Grad{}, Pure: Pure, Stream: StreamLookup,
		Inputs:  []InputDef{{Name: "ids", DTypes: Indices}, {Name: "weight", Param: true, DTypes: layerFloats}},
		Outputs: []string{"y"},
		Infer: func(n *Node) ([]TensorType, error) {
			ids, w := in(n, 0), in(n, 1)
			if len(w.Shape) != 2 {
				return nil, shapeErr("embedding weight %s must be [vocab, dim], got %v", n.Inputs[1].Name, w)
			}
			return []TensorType{{w.DType, append(ids.Shape.Clone(), w.Shape[1])}}, nil
		},
	})
	Register(&OpDef{
		Name: "gather", Doc: "take slices of data along axis at integer indices (numpy take); negative indices count from the end",
		Class: Injective, Pure: Pure, Stream: StreamGather,
		Grad:    &Grad{},
		Inputs:  []InputDef{{Name: "data", DTypes: AnyDType}, {Name: "indices", DTypes: Indices}},
		Outputs: []string{"y"},
		Attrs:   []AttrDef{{Name: "axis", Kind: AttrInt, Default: 0, Doc: "the axis to index"}},
		Infer: func(n *Node) ([]TensorType, error) {
			d, idx := in(n, 0), in(n, 1)
			a, err := normAxis(n.Attrs.Int("axis"), len(d.Shape))
			if err != nil {
				return nil, err
			}
			out := append(d.Shape[:a].Clone(), idx.Shape...)
			out = append(out, d.Shape[a+1:]...)
			return []TensorType{{d.DType, out}}, nil
		},
	})
}

// ReshapeShape resolves a target shape with -1 (inferred) and 0 (copy the
// input dimension) against the input shape.
func ReshapeShape(in Shape, target []int) (Shape, error) {
	out := make(Shape, len(target))
	infer := -1
	known := 1
	for i, d := range target {
		switch {
		case d == -1:
			if infer >= 0 {
				return nil, shapeErr("reshape target %v has more than one -1", target)
			}
			infer = i
			continue
		case d == 0:
			if i >= len(in) {
				return nil, shapeErr("reshape target %v copies dimension %d, but the input %v has rank %d", target, i, in, len(in))
			}
			d = in[i]
		case d < 0:
			return nil, shapeErr("reshape target %v has a negative dimension", target)
		}
		out[i] = d
		known *= d
	}
	total := in.NumElems()
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return nil, shapeErr("cannot reshape %v (%d elements) to %v", in, total, target)
		}
		out[infer] = total / known
	} else if known != total {
		return nil, shapeErr("cannot reshape %v (%d elements) to %v (%d elements)", in, total, out, known)
	}
	return out, nil
}

package ir

func init() {
	Register(&OpDef{
		Name: "batchnorm", Doc: "inference batch normalization over axis 1: (x-mean)/sqrt(var+eps)*scale + bias",
		Class: Broadcast, Grad: &Grad{}, Pure: Pure, InPlace: true, Stream: StreamChannels,
		Inputs: []InputDef{{Name: "x", DTypes: OnlyF32}, {Name: "scale", Param: true, DTypes: OnlyF32}, {Name: "bias", Param: true, DTypes: OnlyF32},
			{Name: "mean", Param: true, DTypes: OnlyF32}, {Name: "var", Param: true, DTypes: OnlyF32}},
		Outputs: []string{"y"},
		Attrs:   []AttrDef{{Name: "epsilon", Kind: AttrFloat, Default: 1e-5, Doc: "added to the variance"}},
		Infer: func(n *Node) ([]TensorType, error) {
			x := in(n, 0)
			if x.DType != F32 || len(x.Shape) < 2 {
				return nil, shapeErr("batchnorm wants f32 input [N, C, ...], got %s %v", n.Inputs[0].Name, x)
			}
			c := x.Shape[1]
			for i := 1; i < 5; i++ {
				if t := in(n, i); len(t.Shape) != 1 || t.Shape[0] != c || t.DType != F32 {
					return nil, shapeErr("batchnorm %s %s must be f32[%d] (channels of %s %v), got %v", n.Def().InputName(i), n.Inputs[i].Name, c, n.Inputs[0].Name, x.Shape, t)
				}
			}
			return []TensorType{{x.DType, x.Shape.Clone()}}, nil
		},
	})
	softmax := func(name, doc string) *OpDef {
		return &OpDef{
			Name: name, Doc: doc, Class: Reduce, Grad: &Grad{}, Pure: Pure, InPlace: true, Stream: StreamAlongAxis,
			Inputs: []InputDef{{Name: "x", DTypes: OnlyF32}}, Outputs: []string{"y"},
			Attrs: []AttrDef{{Name: "axis", Kind: AttrInt, Default: -1, Doc: "the axis that sums to one"}},
			Infer: func(n *Node) ([]TensorType, error) {
				x := in(n, 0)
				if x.DType != F32 {
					return nil, shapeErr("%s needs f32 input, got %v", name, x)
				}
				if _, err := normAxis(n.Attrs.Int("axis"), len(x.Shape)); err != nil {
					return nil, err
				}
				return []TensorType{{x.DType, x.Shape.Clone()}}, nil
			},
		}
	}
	sm := softmax("softmax", "exp(x) / sum(exp(x)) along axis")
	sm.Act = ActRows // a fused_dense normalizes each finished row
	Register(sm)
	Register(softmax("log_softmax", "x - log(sum(exp(x))) along axis"))
}

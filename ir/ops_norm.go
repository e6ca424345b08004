package ir

func init() {
	Register(&OpDef{
		Name: "batchnorm", Doc: "inference batch normalization over axis 1: (x-mean)/sqrt(var+eps)*scale + bias",
		Class: Broadcast, Grad: &Grad{}, Pure: Pure, InPlace: true, Stream: StreamChannels,
		Inputs: []InputDef{{Name: "x", DTypes: F32F64}, {Name: "scale", Param: true, DTypes: F32F64}, {Name: "bias", Param: true, DTypes: F32F64},
			{Name: "mean", Param: true, DTypes: F32F64}, {Name: "var", Param: true, DTypes: F32F64}},
		Outputs: []string{"y"},
		Attrs:   []AttrDef{{Name: "epsilon", Kind: AttrFloat, Default: 1e-5, Doc: "added to the variance"}},
		Infer: func(n *Node) ([]TensorType, error) {
			x := in(n, 0)
			if len(x.Shape) < 2 {
				return nil, shapeErr("batchnorm wants input [N, C, ...], got %s %v", n.Inputs[0].Name, x)
			}
			c := x.Shape[1]
			for i := 1; i < 5; i++ {
				if t := in(n, i); len(t.Shape) != 1 || t.Shape[0] != c || t.DType != x.DType {
					return nil, shapeErr("batchnorm %s %s must be %v[%d] (channels of %s %v), got %v", n.Def().InputName(i), n.Inputs[i].Name, x.DType, c, n.Inputs[0].Name, x.Shape, t)
				}
			}
			return []TensorType{{x.DType, x.Shape.Clone()}}, nil
		},
	})
	softmax := func(name, doc string) *OpDef {
		return &OpDef{
			Name: name, Doc: doc, Class: Reduce, Grad: &Grad{}, Pure: Pure, InPlace: true, Stream: StreamAlongAxis,
			Inputs: []InputDef{{Name: "x", DTypes: F32F64}}, Outputs: []string{"y"},
			Attrs: []AttrDef{{Name: "axis", Kind: AttrInt, Default: -1, Doc: "the axis that sums to one"}},
			Infer: func(n *Node) ([]TensorType, error) {
				x := in(n, 0)
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

// F32F64 is the dtype set of the float ops whose kernels exist in f32 and
// f64 (one generic kernel each; f64 in generated code is a scalar loop).
var F32F64 = SetOf(F32, F64)

// sameFloat checks that the present inputs ins of n have input 0's dtype
// (the slot sets admit f32 and f64, but not mixed).
func sameFloat(n *Node, ins ...int) error {
	dt := in(n, 0).DType
	for _, i := range ins {
		if has(n, i) && in(n, i).DType != dt {
			return shapeErr("%s %s %s must be %v as %s %s is, got %v", n.Op, n.Def().InputName(i), n.Inputs[i].Name, dt, n.Def().InputName(0), n.Inputs[0].Name, in(n, i))
		}
	}
	return nil
}

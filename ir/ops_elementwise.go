package ir

import "math"

// Element-wise and broadcasting ops.

func unary(name, doc string, attrs ...AttrDef) *OpDef {
	return &OpDef{
		Name: name, Doc: doc, Class: Elementwise, Differentiable: true,
		Inputs:  []InputDef{{Name: "x"}},
		Outputs: []string{"y"},
		Attrs:   attrs,
		Infer: func(n *Node) ([]TensorType, error) {
			if err := wantDType(n, 0, F32); err != nil {
				return nil, err
			}
			return []TensorType{{F32, in(n, 0).Shape.Clone()}}, nil
		},
	}
}

// BroadcastShapes returns the numpy broadcast of two shapes.
func BroadcastShapes(a, b Shape) (Shape, error) {
	r := len(a)
	if len(b) > r {
		r = len(b)
	}
	out := make(Shape, r)
	for i := 0; i < r; i++ {
		da, db := 1, 1
		if j := len(a) - r + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - r + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db:
			out[i] = da
		case da == 1:
			out[i] = db
		case db == 1:
			out[i] = da
		default:
			return nil, shapeErr("shapes %v and %v do not broadcast: dimension %d is %d vs %d", a, b, i, da, db)
		}
	}
	return out, nil
}

func binary(name, doc string) *OpDef {
	return &OpDef{
		Name: name, Doc: doc, Class: Broadcast, Differentiable: true,
		Inputs:  []InputDef{{Name: "a"}, {Name: "b"}},
		Outputs: []string{"y"},
		Infer: func(n *Node) ([]TensorType, error) {
			a, b := in(n, 0), in(n, 1)
			if a.DType != b.DType {
				return nil, shapeErr("operands have different dtypes: %v (%s) and %v (%s)", a, n.Inputs[0].Name, b, n.Inputs[1].Name)
			}
			s, err := BroadcastShapes(a.Shape, b.Shape)
			if err != nil {
				return nil, shapeErr("%s (%s) and %s (%s): %v", n.Inputs[0].Name, a, n.Inputs[1].Name, b, err)
			}
			return []TensorType{{a.DType, s}}, nil
		},
	}
}

func init() {
	Register(unary("relu", "max(x, 0)"))
	Register(unary("sigmoid", "1 / (1 + exp(-x))"))
	Register(unary("tanh", "hyperbolic tangent"))
	Register(unary("leaky_relu", "x if x > 0 else alpha*x",
		AttrDef{Name: "alpha", Kind: AttrFloat, Default: 0.01, Doc: "slope for negative inputs"}))
	Register(unary("clip", "min(max(x, min), max)",
		AttrDef{Name: "min", Kind: AttrFloat, Default: math.Inf(-1), Doc: "lower bound"},
		AttrDef{Name: "max", Kind: AttrFloat, Default: math.Inf(1), Doc: "upper bound"}))
	id := unary("identity", "returns its input")
	id.Class = Injective
	Register(id)
	do := unary("dropout", "identity at inference",
		AttrDef{Name: "p", Kind: AttrFloat, Default: 0.5, Doc: "drop probability during training"})
	do.Class = Injective
	Register(do)
	Register(binary("add", "a + b with numpy broadcasting"))
	Register(binary("sub", "a - b with numpy broadcasting"))
	Register(binary("mul", "a * b with numpy broadcasting"))
	Register(binary("div", "a / b with numpy broadcasting"))
}

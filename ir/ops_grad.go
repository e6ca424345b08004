package ir

// Gradient ops: the backward halves of convolution and pooling, which
// passes/autodiff emits and which no frontend writes. Each takes the
// forward node's window attributes and the forward input's shape, so its
// shape rule can check dy against the forward output it stands for.
// Second derivatives are not supported: these ops have no gradient rule.

const gradNoGrad = "a gradient op made by autodiff; second derivatives are not supported"

// shapeAttr is the "shape" attribute of a gradient op: the shape of the
// forward input whose gradient it computes.
var shapeAttr = AttrDef{Name: "shape", Kind: AttrInts, Doc: "shape of the forward input x"}

// gradRank is the spatial rank of a gradient op: from its kernel attribute
// (pools, conv_grad_weight) or its shape attribute (conv_grad_input).
func gradRank(n *Node) int {
	if k, ok := n.Attrs["kernel"].([]int); ok {
		return len(k)
	}
	if s, ok := n.Attrs["shape"].([]int); ok && len(s) > 2 {
		return len(s) - 2
	}
	return 0
}

// checkGradWindow checks the window attributes of a gradient op.
func checkGradWindow(n *Node) error {
	if n.Attrs.Int("groups") < 1 {
		return shapeErr("%s: groups must be positive, got %d", n.Op, n.Attrs.Int("groups"))
	}
	return checkWindow(n, gradRank(n))
}

// wantDY checks that dy has the forward output's shape: [N, M] then the
// window's output sizes over x's spatial axes.
func wantDY(n *Node, dy TensorType, x Shape, m int, kernel []int, ceil bool) error {
	r := len(kernel)
	if len(x) != r+2 {
		return shapeErr("%s: shape %v wants %d spatial axes", n.Op, x, r)
	}
	want := Shape{x[0], m}
	st, p, d := n.Attrs.Ints("strides"), n.Attrs.Ints("pads"), n.Attrs.Ints("dilations")
	for i := range r {
		want = append(want, WindowOut(x[2+i], kernel[i], st[i], p[i], p[r+i], d[i], ceil))
	}
	if !dy.Shape.Equal(want) {
		return shapeErr("%s: dy is %v, want the forward output %v", n.Op, dy.Shape, want)
	}
	return nil
}

func gradWindowAttrs(extra ...AttrDef) []AttrDef {
	as := windowAttrs(gradRank, true)
	as = append(as, AttrDef{Name: "groups", Kind: AttrInt, Default: 1, Doc: "number of channel groups (1 for pools)"})
	return append(as, extra...)
}

func init() {
	Register(&OpDef{
		Name: "conv_grad_input", Doc: "gradient of conv with respect to its input x: dy [N, M, out...] and weight [M, C/groups, k...] give dx [shape]",
		Class: Opaque, NoGrad: gradNoGrad, Pure: Pure, Stream: StreamWhole,
		Inputs:  []InputDef{{Name: "dy", DTypes: layerFloats}, {Name: "weight", DTypes: layerFloats}},
		Outputs: []string{"dx"},
		Attrs:   gradWindowAttrs(shapeAttr),
		Check:   checkGradWindow,
		Infer: func(n *Node) ([]TensorType, error) {
			dy, w, x := in(n, 0), in(n, 1), Shape(n.Attrs.Ints("shape"))
			if err := oneLayerDType(n); err != nil {
				return nil, err
			}
			g := n.Attrs.Int("groups")
			if len(w.Shape) != len(x) || x[1]%g != 0 || w.Shape[0]%g != 0 || w.Shape[1] != x[1]/g {
				return nil, shapeErr("conv_grad_input: weight %v does not fit input shape %v with groups %d", w.Shape, x, g)
			}
			if err := wantDY(n, dy, x, w.Shape[0], w.Shape[2:], false); err != nil {
				return nil, err
			}
			return []TensorType{{dy.DType, x.Clone()}}, nil
		},
	})
	Register(&OpDef{
		Name: "conv_grad_weight", Doc: "gradient of conv with respect to its weight: x [N, C, in...] and dy [N, M, out...] give dweight [M, C/groups, kernel...]",
		Class: Opaque, NoGrad: gradNoGrad, Pure: Pure, Stream: StreamWhole,
		Inputs:  []InputDef{{Name: "x", DTypes: layerFloats}, {Name: "dy", DTypes: layerFloats}},
		Outputs: []string{"dweight"},
		Attrs:   gradWindowAttrs(AttrDef{Name: "kernel", Kind: AttrInts, Doc: "the weight's spatial sizes"}),
		Check:   checkGradWindow,
		Infer: func(n *Node) ([]TensorType, error) {
			x, dy := in(n, 0), in(n, 1)
			g, k := n.Attrs.Int("groups"), n.Attrs.Ints("kernel")
			if err := oneLayerDType(n); err != nil {
				return nil, err
			}
			if len(dy.Shape) < 2 || x.Shape[1]%g != 0 || dy.Shape[1]%g != 0 {
				return nil, shapeErr("conv_grad_weight: groups %d must divide the channels of x %v and dy %v", g, x.Shape, dy.Shape)
			}
			if err := wantDY(n, dy, x.Shape, dy.Shape[1], k, false); err != nil {
				return nil, err
			}
			return []TensorType{{x.DType, append(Shape{dy.Shape[1], x.Shape[1] / g}, k...)}}, nil
		},
	})
	poolGrad := func(name, doc string, avg bool) *OpDef {
		attrs := gradWindowAttrs(AttrDef{Name: "kernel", Kind: AttrInts, Doc: "window size per spatial axis"},
			AttrDef{Name: "ceil_mode", Kind: AttrBool, Default: false, Doc: "round the output size up"})
		inputs := []InputDef{{Name: "x", DTypes: layerFloats}, {Name: "dy", DTypes: layerFloats}}
		if avg {
			attrs = append(attrs, shapeAttr,
				AttrDef{Name: "count_include_pad", Kind: AttrBool, Default: true, Doc: "divide by the full window, padding included"})
			inputs = inputs[1:]
		}
		return &OpDef{
			Name: name, Doc: doc, Class: Opaque, NoGrad: gradNoGrad, Pure: Pure, Stream: StreamWhole,
			Inputs: inputs, Outputs: []string{"dx"}, Attrs: attrs, Check: checkGradWindow,
			Infer: func(n *Node) ([]TensorType, error) {
				var x Shape
				if avg {
					x = Shape(n.Attrs.Ints("shape")).Clone()
				} else {
					x = in(n, 0).Shape.Clone()
				}
				dy := in(n, len(inputs)-1)
				if err := oneLayerDType(n); err != nil {
					return nil, err
				}
				if len(x) < 2 {
					return nil, shapeErr("%s: input shape %v has no channels", name, x)
				}
				if err := wantDY(n, dy, x, x[1], n.Attrs.Ints("kernel"), n.Attrs.Bool("ceil_mode")); err != nil {
					return nil, err
				}
				return []TensorType{{dy.DType, x}}, nil
			},
		}
	}
	Register(poolGrad("maxpool_grad", "gradient of maxpool: dy goes to the first maximum of each window of x (NaN wins, as in the forward op)", false))
	Register(poolGrad("avgpool_grad", "gradient of avgpool: dy divided by each window's divisor goes to every tap", true))
}

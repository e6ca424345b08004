package ir

// Convolution and pooling over 1, 2 or 3 spatial dimensions, NC* layout.
// Pads are listed ONNX-style: all begins, then all ends.

func ones(r int) []int {
	s := make([]int, r)
	for i := range s {
		s[i] = 1
	}
	return s
}

// spatialRank of a conv node from its weight, of a pool node from its kernel.
func convRank(n *Node) int {
	if has(n, 1) {
		return len(in(n, 1).Shape) - 2
	}
	return 0
}

func poolRank(n *Node) int { return len(n.Attrs.Ints("kernel")) }

func windowAttrs(rank func(*Node) int, withDilation bool) []AttrDef {
	as := []AttrDef{
		{Name: "strides", Kind: AttrInts, Doc: "step per spatial axis (default 1, or the kernel for pooling)",
			DefaultFn: func(n *Node) any { return ones(rank(n)) }},
		{Name: "pads", Kind: AttrInts, Doc: "zero padding: begins of every axis, then ends (or one per axis, symmetric)",
			DefaultFn: func(n *Node) any { return make([]int, 2*rank(n)) }},
	}
	if withDilation {
		as = append(as, AttrDef{Name: "dilations", Kind: AttrInts, Doc: "spacing of kernel taps",
			DefaultFn: func(n *Node) any { return ones(rank(n)) }})
	}
	return as
}

// checkWindow validates strides, pads and dilations against rank r,
// expanding symmetric pads.
func checkWindow(n *Node, r int) error {
	if r < 1 || r > 3 {
		return shapeErr("%s supports 1 to 3 spatial dimensions, got %d", n.Op, r)
	}
	if p := n.Attrs.Ints("pads"); len(p) == r {
		n.Attrs["pads"] = append(append([]int(nil), p...), p...)
	}
	for _, name := range []string{"strides", "dilations", "kernel"} {
		v, ok := n.Attrs[name]
		if !ok {
			continue
		}
		s := v.([]int)
		if len(s) == 1 && r > 1 {
			s = repeat(s[0], r)
			n.Attrs[name] = s
		}
		if len(s) != r {
			return shapeErr("%s: %s has %d values, want %d (one per spatial axis)", n.Op, name, len(s), r)
		}
		for _, x := range s {
			if x < 1 {
				return shapeErr("%s: %s must be positive, got %v", n.Op, name, s)
			}
		}
	}
	p := n.Attrs.Ints("pads")
	if len(p) != 2*r {
		return shapeErr("%s: pads has %d values, want %d or %d", n.Op, len(p), r, 2*r)
	}
	for _, x := range p {
		if x < 0 {
			return shapeErr("%s: pads must not be negative, got %v", n.Op, p)
		}
	}
	return nil
}

func repeat(v, r int) []int {
	s := make([]int, r)
	for i := range s {
		s[i] = v
	}
	return s
}

// WindowOut is the output length of a sliding window over size elements.
func WindowOut(size, k, stride, padBegin, padEnd, dilation int, ceil bool) int {
	eff := dilation*(k-1) + 1
	num := size + padBegin + padEnd - eff
	if num < 0 {
		return 0
	}
	if !ceil {
		return num/stride + 1
	}
	out := (num+stride-1)/stride + 1
	// PyTorch: the last window must start inside the input or its begin padding.
	if (out-1)*stride >= size+padBegin {
		out--
	}
	return out
}

func init() {
	Register(&OpDef{
		Name: "conv", Doc: "convolution over 1, 2 or 3 spatial axes (torch.nn.Conv1d/2d/3d); weight [out, in/groups, k...]",
		Class: OutEwiseFusable, Grad: &Grad{}, Pure: Pure, Stream: StreamWindows,
		Inputs:  []InputDef{{Name: "x", DTypes: layerFloats}, {Name: "weight", Param: true, DTypes: layerFloats}, {Name: "bias", Optional: true, Param: true, DTypes: layerFloats}},
		Outputs: []string{"y"},
		Attrs: append(windowAttrs(convRank, true),
			AttrDef{Name: "groups", Kind: AttrInt, Default: 1, Doc: "number of channel groups"}),
		Check: func(n *Node) error {
			if !has(n, 1) {
				return nil
			}
			if err := checkWindow(n, convRank(n)); err != nil {
				return err
			}
			if n.Attrs.Int("groups") < 1 {
				return shapeErr("conv: groups must be positive, got %d", n.Attrs.Int("groups"))
			}
			return nil
		},
		Infer: func(n *Node) ([]TensorType, error) {
			x, w := in(n, 0), in(n, 1)
			r := len(w.Shape) - 2
			if err := oneLayerDType(n); err != nil {
				return nil, err
			}
			if len(x.Shape) != r+2 {
				return nil, shapeErr("conv with a %d-d kernel %v wants input [N, C, %d spatial], got %s %v", r, w.Shape, r, n.Inputs[0].Name, x.Shape)
			}
			g := n.Attrs.Int("groups")
			c, m := x.Shape[1], w.Shape[0]
			if c%g != 0 || m%g != 0 {
				return nil, shapeErr("groups %d must divide input channels %d and output channels %d", g, c, m)
			}
			if w.Shape[1] != c/g {
				return nil, shapeErr("weight %s %v wants %d input channels per group, input %s %v has %d (groups %d)", n.Inputs[1].Name, w.Shape, w.Shape[1], n.Inputs[0].Name, x.Shape, c/g, g)
			}
			if has(n, 2) {
				if b := in(n, 2); len(b.Shape) != 1 || b.Shape[0] != m {
					return nil, shapeErr("bias %s must be [%d], got %v", n.Inputs[2].Name, m, b.Shape)
				}
			}
			out := Shape{x.Shape[0], m}
			st, p, d := n.Attrs.Ints("strides"), n.Attrs.Ints("pads"), n.Attrs.Ints("dilations")
			for i := 0; i < r; i++ {
				o := WindowOut(x.Shape[2+i], w.Shape[2+i], st[i], p[i], p[r+i], d[i], false)
				if o < 1 {
					return nil, shapeErr("input %s %v is too small for kernel %v (dilation %v, padding %v) on spatial axis %d", n.Inputs[0].Name, x.Shape, w.Shape[2:], d, p, i)
				}
				out = append(out, o)
			}
			return []TensorType{{x.DType, out}}, nil
		},
	})
	pool := func(name, doc string, avg bool) *OpDef {
		attrs := []AttrDef{{Name: "kernel", Kind: AttrInts, Doc: "window size per spatial axis"}}
		as := windowAttrs(poolRank, true)
		as[0].DefaultFn = func(n *Node) any { return append([]int(nil), n.Attrs.Ints("kernel")...) }
		attrs = append(attrs, as...)
		attrs = append(attrs, AttrDef{Name: "ceil_mode", Kind: AttrBool, Default: false, Doc: "round the output size up"})
		if avg {
			attrs = append(attrs, AttrDef{Name: "count_include_pad", Kind: AttrBool, Default: true, Doc: "divide by the full window, padding included"})
		} else {
			attrs = append(attrs,
				AttrDef{Name: "indices", Kind: AttrBool, Default: false, Optional: true,
					Doc: "also output indices: i64, the flat index into x of each maximum (ONNX MaxPool's Indices; the first maximum in scan order wins)"},
				AttrDef{Name: "storage_order", Kind: AttrInt, Default: 0, Optional: true,
					Doc: "layout of indices: 0 row major ((n*C + c)*H + h)*W + w, 1 column major over the spatial axes (n*C + c)*H*W + w*H + h"})
		}
		var outputsFn func(n *Node) []string
		if !avg {
			outputsFn = func(n *Node) []string {
				if n.Attrs.Bool("indices") {
					return []string{"y", "indices"}
				}
				return []string{"y"}
			}
		}
		return &OpDef{
			Name: name, Doc: doc, Class: Reduce, Grad: &Grad{}, Pure: Pure, Stream: StreamWindows,
			Inputs: []InputDef{{Name: "x", DTypes: layerFloats}}, Outputs: []string{"y"}, OutputsFn: outputsFn, Attrs: attrs,
			Check: func(n *Node) error {
				if so := n.Attrs.Int("storage_order"); so != 0 && so != 1 {
					return shapeErr("%s: storage_order must be 0 (row major) or 1 (column major), got %d", name, so)
				}
				return checkWindow(n, poolRank(n))
			},
			Infer: func(n *Node) ([]TensorType, error) {
				x := in(n, 0)
				k := n.Attrs.Ints("kernel")
				r := len(k)
				if len(x.Shape) != r+2 {
					return nil, shapeErr("%s with a %d-d kernel wants input [N, C, %d spatial], got %s %v", name, r, r, n.Inputs[0].Name, x.Shape)
				}
				st, p, d := n.Attrs.Ints("strides"), n.Attrs.Ints("pads"), n.Attrs.Ints("dilations")
				out := x.Shape[:2].Clone()
				for i := 0; i < r; i++ {
					eff := d[i]*(k[i]-1) + 1
					if p[i] >= eff || p[r+i] >= eff {
						return nil, shapeErr("%s: padding %v must be smaller than the kernel %v", name, p, k)
					}
					o := WindowOut(x.Shape[2+i], k[i], st[i], p[i], p[r+i], d[i], n.Attrs.Bool("ceil_mode"))
					if o < 1 {
						return nil, shapeErr("input %s %v is too small for %s kernel %v on spatial axis %d", n.Inputs[0].Name, x.Shape, name, k, i)
					}
					out = append(out, o)
				}
				if n.Attrs.Bool("indices") {
					return []TensorType{{x.DType, out}, {I64, out.Clone()}}, nil
				}
				return []TensorType{{x.DType, out}}, nil
			},
		}
	}
	Register(pool("maxpool", "max over sliding windows (torch.nn.MaxPool1d/2d/3d)", false))
	Register(pool("avgpool", "mean over sliding windows (torch.nn.AvgPool1d/2d/3d)", true))
	global := func(name, doc string) *OpDef {
		return &OpDef{
			Name: name, Doc: doc, Class: Reduce, Grad: &Grad{}, Pure: Pure, Stream: StreamWindows,
			Inputs: []InputDef{{Name: "x", DTypes: layerFloats}}, Outputs: []string{"y"},
			Infer: func(n *Node) ([]TensorType, error) {
				x := in(n, 0)
				if len(x.Shape) < 3 {
					return nil, shapeErr("%s wants input [N, C, spatial...], got %s %v", name, n.Inputs[0].Name, x)
				}
				out := x.Shape[:2].Clone()
				for range x.Shape[2:] {
					out = append(out, 1)
				}
				return []TensorType{{x.DType, out}}, nil
			},
		}
	}
	Register(global("global_avgpool", "mean over all spatial positions, keeping them as size 1"))
	Register(global("global_maxpool", "max over all spatial positions, keeping them as size 1"))
}

// layerFloats are the dtypes of the layers that take float64 as well as
// float32 (dense, conv, conv_transpose, the pools, resize, embedding's
// table and the gradient ops of ops_grad.go): f64 runs the same math in
// float64, so that gradient rules can be checked by finite differences
// at a step f32 rounding would drown.
var layerFloats = SetOf(F32, F64)

// oneLayerDType checks that the present inputs of a layer taking
// layerFloats share one dtype.
func oneLayerDType(n *Node) error {
	var first *Value
	for _, v := range n.Inputs {
		if v == nil {
			continue
		}
		if first == nil {
			first = v
		} else if v.Type.DType != first.Type.DType {
			return shapeErr("%s: %s is %v but %s is %v: the inputs must share one dtype", n.Op, first.Name, first.Type.DType, v.Name, v.Type.DType)
		}
	}
	return nil
}

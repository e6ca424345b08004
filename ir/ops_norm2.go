package ir

// Normalization over rows: layernorm and rmsnorm normalize over the
// trailing axes from axis on (torch.nn.LayerNorm, torch RMSNorm; ONNX
// LayerNormalization, RMSNormalization), groupnorm over groups of
// channels and the spatial axes (torch.nn.GroupNorm, and InstanceNorm as
// one group per channel; ONNX GroupNormalization, InstanceNormalization).
// Statistics are float64 over each row in order, the variance biased (as
// PyTorch's), so the interpreter and generated code agree exactly.

// NormRows returns how a normalization node splits its input into rows
// normalized on their own: rows rows of size elements; for groupnorm,
// also the channels per group and the spatial size.
func NormRows(n *Node) (rows, size int) {
	x := n.Inputs[0].Type.Shape
	if n.Op == "groupnorm" {
		g := n.Attrs.Int("num_groups")
		return x[0] * g, x[1:].NumElems() / g
	}
	a, _ := normAxis(n.Attrs.Int("axis"), len(x))
	return x[:a].NumElems(), x[a:].NumElems()
}

func init() {
	for _, rms := range []bool{false, true} {
		name, doc := "layernorm", "(x - mean)/sqrt(var + epsilon)·scale + bias over the axes from axis on (torch.nn.functional.layer_norm, ONNX LayerNormalization); stats adds the outputs mean and inv_std_dev, shaped as x with those axes 1"
		if rms {
			name, doc = "rmsnorm", "x/sqrt(mean(x²) + epsilon)·scale over the axes from axis on (torch.nn.functional.rms_norm, ONNX RMSNormalization)"
		}
		attrs := []AttrDef{
			{Name: "axis", Kind: AttrInt, Default: -1, Doc: "the first normalized axis (negative counts from the end)"},
			{Name: "epsilon", Kind: AttrFloat, Default: 1e-5, Doc: "added to the variance"},
		}
		ins := []InputDef{{Name: "x", DTypes: F32F64}, {Name: "scale", Optional: true, Param: true, DTypes: F32F64}}
		if !rms {
			attrs = append(attrs, AttrDef{Name: "stats", Kind: AttrBool, Default: false, Optional: true, Doc: "also output the mean and 1/sqrt(var + epsilon)"})
			ins = append(ins, InputDef{Name: "bias", Optional: true, Param: true, DTypes: F32F64})
		}
		Register(&OpDef{
			Name: name, Doc: doc, Class: Reduce, Grad: &Grad{}, Pure: Pure, InPlace: true, Stream: StreamAlongAxis,
			Inputs: ins, Outputs: []string{"y"}, Attrs: attrs,
			OutputsFn: func(n *Node) []string {
				if n.Attrs.Bool("stats") {
					return []string{"y", "mean", "inv_std_dev"}
				}
				return []string{"y"}
			},
			Infer: inferLayerNorm,
		})
	}
	Register(&OpDef{
		Name: "groupnorm", Doc: "normalizes x [N, C, ...] over each of num_groups groups of channels and the spatial axes, then scale and bias per channel (torch.nn.functional.group_norm; InstanceNorm is one group per channel)",
		Class: Reduce, Grad: &Grad{}, Pure: Pure, InPlace: true, Stream: StreamChannels,
		Inputs: []InputDef{{Name: "x", DTypes: F32F64}, {Name: "scale", Optional: true, Param: true, DTypes: F32F64},
			{Name: "bias", Optional: true, Param: true, DTypes: F32F64}},
		Outputs: []string{"y"},
		Attrs: []AttrDef{{Name: "num_groups", Kind: AttrInt, Doc: "groups of channels, dividing C"},
			{Name: "epsilon", Kind: AttrFloat, Default: 1e-5, Doc: "added to the variance"}},
		Infer: func(n *Node) ([]TensorType, error) {
			x := in(n, 0).Shape
			g := n.Attrs.Int("num_groups")
			if len(x) < 2 {
				return nil, shapeErr("groupnorm wants x [N, C, ...], got %s %v", n.Inputs[0].Name, x)
			}
			if g < 1 || x[1]%g != 0 {
				return nil, shapeErr("num_groups %d must divide the %d channels of %s %v", g, x[1], n.Inputs[0].Name, x)
			}
			if err := sameFloat(n, 1, 2); err != nil {
				return nil, err
			}
			for i := 1; i < 3; i++ {
				if t := in(n, i); has(n, i) && !t.Shape.Equal(Shape{x[1]}) {
					return nil, shapeErr("groupnorm %s %s must be [%d] (the channels of %s %v), got %v", n.Def().InputName(i), n.Inputs[i].Name, x[1], n.Inputs[0].Name, x, t)
				}
			}
			return []TensorType{{in(n, 0).DType, x.Clone()}}, nil
		},
	})
}

// inferLayerNorm checks that scale and bias have the normalized shape.
func inferLayerNorm(n *Node) ([]TensorType, error) {
	x := in(n, 0).Shape
	a, err := normAxis(n.Attrs.Int("axis"), len(x))
	if err != nil {
		return nil, err
	}
	for i := 1; i < len(n.Inputs); i++ {
		if t := in(n, i); has(n, i) && !t.Shape.Equal(x[a:]) {
			return nil, shapeErr("%s %s %s must have the normalized shape %v (of %s %v from axis %d), got %v",
				n.Op, n.Def().InputName(i), n.Inputs[i].Name, x[a:], n.Inputs[0].Name, x, a, t)
		}
	}
	if err := sameFloat(n, 1, 2); err != nil {
		return nil, err
	}
	dt := in(n, 0).DType
	ts := []TensorType{{dt, x.Clone()}}
	if n.Attrs.Bool("stats") {
		s := x.Clone()
		for i := a; i < len(s); i++ {
			s[i] = 1
		}
		ts = append(ts, TensorType{dt, s}, TensorType{dt, s.Clone()})
	}
	return ts, nil
}

func init() {
	Register(&OpDef{
		Name: "lrn", Doc: "local response normalization across channels: x / (bias + alpha/size·Σ x²)^beta, the sum over the size channels around each, from c - (size-1)/2 (ONNX LRN)",
		Class: Reduce, Grad: &Grad{}, Pure: Pure, Stream: StreamChannels,
		Inputs: []InputDef{{Name: "x", DTypes: F32F64}}, Outputs: []string{"y"},
		Attrs: []AttrDef{{Name: "size", Kind: AttrInt, Doc: "channels summed over"},
			{Name: "alpha", Kind: AttrFloat, Default: 1e-4, Doc: "scale of the sum"},
			{Name: "beta", Kind: AttrFloat, Default: 0.75, Doc: "exponent"},
			{Name: "bias", Kind: AttrFloat, Default: 1.0, Doc: "added to the scaled sum (torch's k)"}},
		Infer: func(n *Node) ([]TensorType, error) {
			x := in(n, 0).Shape
			if len(x) < 2 {
				return nil, shapeErr("lrn wants x [N, C, ...], got %s %v", n.Inputs[0].Name, x)
			}
			if n.Attrs.Int("size") < 1 {
				return nil, shapeErr("lrn size must be positive, got %d", n.Attrs.Int("size"))
			}
			return []TensorType{{in(n, 0).DType, x.Clone()}}, nil
		},
	})
}

// LRNWindow is the channels [lo, hi) summed for channel c of C.
func LRNWindow(c, C, size int) (lo, hi int) {
	return max(0, c-(size-1)/2), min(C, c+size/2+1)
}

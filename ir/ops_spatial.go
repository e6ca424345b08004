package ir

// Spatial ops beyond convolution and pooling: transposed convolution
// (torch.nn.ConvTranspose1d/2d/3d, ONNX ConvTranspose) and resizing
// (F.interpolate, nn.Upsample, ONNX Resize and Upsample).

const noGradYet = "no gradient rule written yet"

func init() {
	Register(&OpDef{
		Name: "conv_transpose", Doc: "transposed convolution over 1, 2 or 3 spatial axes (torch.nn.ConvTranspose1d/2d/3d); weight [in, out/groups, k...]",
		Class: OutEwiseFusable, Grad: &Grad{}, Pure: Pure, Stream: StreamWindows,
		Inputs: []InputDef{{Name: "x", DTypes: layerFloats}, {Name: "weight", Param: true, DTypes: layerFloats},
			{Name: "bias", Optional: true, Param: true, DTypes: layerFloats}},
		Outputs: []string{"y"},
		Attrs: append(windowAttrs(convRank, true),
			AttrDef{Name: "groups", Kind: AttrInt, Default: 1, Doc: "number of channel groups"},
			AttrDef{Name: "output_padding", Kind: AttrInts, Doc: "extra output elements at the end of each spatial axis",
				DefaultFn: func(n *Node) any { return make([]int, convRank(n)) }}),
		Check: func(n *Node) error {
			if !has(n, 1) {
				return nil
			}
			r := convRank(n)
			if op := n.Attrs.Ints("output_padding"); len(op) == 1 && r > 1 {
				n.Attrs["output_padding"] = repeat(op[0], r)
			}
			if err := checkWindow(n, r); err != nil {
				return err
			}
			op := n.Attrs.Ints("output_padding")
			if len(op) != r {
				return shapeErr("conv_transpose: output_padding has %d values, want %d (one per spatial axis)", len(op), r)
			}
			for _, v := range op {
				if v < 0 {
					return shapeErr("conv_transpose: output_padding must not be negative, got %v", op)
				}
			}
			if n.Attrs.Int("groups") < 1 {
				return shapeErr("conv_transpose: groups must be positive, got %d", n.Attrs.Int("groups"))
			}
			return nil
		},
		Infer: inferConvTranspose,
	})
	Register(&OpDef{
		Name: "resize", Doc: "resize to sizes by nearest, linear or cubic interpolation along every axis whose size changes (ONNX Resize, F.interpolate)",
		Class: Injective, Grad: &Grad{}, Pure: Pure, Stream: StreamWhole,
		Inputs: []InputDef{{Name: "x", DTypes: layerFloats}}, Outputs: []string{"y"},
		Attrs: []AttrDef{
			{Name: "sizes", Kind: AttrInts, Doc: "the output shape, every axis"},
			{Name: "scales", Kind: AttrFloats, Doc: "scale per axis used to map coordinates (default sizes/input)",
				DefaultFn: func(n *Node) any {
					out := n.Attrs.Ints("sizes")
					s := make([]float64, len(out))
					for i := range s {
						s[i] = 1
						if has(n, 0) && i < len(in(n, 0).Shape) && in(n, 0).Shape[i] > 0 {
							s[i] = float64(out[i]) / float64(in(n, 0).Shape[i])
						}
					}
					return s
				}},
			{Name: "mode", Kind: AttrString, Default: "nearest", Enum: []string{"nearest", "linear", "cubic"}, Doc: "interpolation"},
			{Name: "coordinate_transformation_mode", Kind: AttrString, Default: "half_pixel",
				Enum: []string{"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_crop_and_resize"},
				Doc:  "how an output coordinate maps to an input coordinate (ONNX's names)"},
			{Name: "nearest_mode", Kind: AttrString, Default: "round_prefer_floor",
				Enum: []string{"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"}, Doc: "rounding of nearest"},
			{Name: "cubic_coeff_a", Kind: AttrFloat, Default: -0.75, Doc: "the cubic kernel's a (-0.75 as PyTorch, -0.5 as TensorFlow)"},
			{Name: "exclude_outside", Kind: AttrBool, Default: false, Doc: "give taps outside the input weight 0 and renormalize"},
			{Name: "extrapolation_value", Kind: AttrFloat, Default: 0.0, Doc: "tf_crop_and_resize: the value of outputs mapped outside the input"},
			{Name: "antialias", Kind: AttrBool, Default: false, Doc: "linear and cubic: widen the filter by 1/scale when downscaling"},
			{Name: "roi", Kind: AttrFloats, Default: []float64{}, Doc: "tf_crop_and_resize: region starts of every axis, then ends, normalized"},
		},
		Check: func(n *Node) error {
			r := len(n.Attrs.Ints("sizes"))
			if len(n.Attrs.Floats("scales")) != r {
				return shapeErr("resize: scales %v has %d values, want %d like sizes", n.Attrs.Floats("scales"), len(n.Attrs.Floats("scales")), r)
			}
			for _, s := range n.Attrs.Floats("scales") {
				if !(s > 0) || s > 1e6 {
					return shapeErr("resize: scales must be positive, got %v", n.Attrs.Floats("scales"))
				}
			}
			if n.Attrs.String("coordinate_transformation_mode") == "tf_crop_and_resize" && len(n.Attrs.Floats("roi")) != 2*r {
				return shapeErr("resize: tf_crop_and_resize needs roi with %d values (starts, then ends), got %v", 2*r, n.Attrs.Floats("roi"))
			}
			return nil
		},
		Infer: func(n *Node) ([]TensorType, error) {
			x := in(n, 0)
			sizes := n.Attrs.Ints("sizes")
			if len(sizes) != len(x.Shape) {
				return nil, shapeErr("resize: sizes %v has %d values, input %s %v has rank %d", Shape(sizes), len(sizes), n.Inputs[0].Name, x.Shape, len(x.Shape))
			}
			for i, s := range sizes {
				if s < 1 || s > maxResizeElems {
					return nil, shapeErr("resize: output size %d of axis %d is out of range", s, i)
				}
				if x.Shape[i] < 1 {
					return nil, shapeErr("resize: input %s %v is empty", n.Inputs[0].Name, x.Shape)
				}
			}
			out := Shape(append([]int(nil), sizes...))
			if out.NumElems() > maxResizeElems {
				return nil, shapeErr("resize: output %v has more than %d elements", out, maxResizeElems)
			}
			return []TensorType{{x.DType, out}}, nil
		},
	})
	Register(&OpDef{
		Name: "adaptive_avgpool", Doc: "average over the bins [floor(i·in/out), ceil((i+1)·in/out)) of every spatial axis (nn.AdaptiveAvgPool1d/2d/3d)",
		Class: Reduce, Grad: &Grad{}, Pure: Pure, Stream: StreamWindows,
		Inputs: []InputDef{{Name: "x", DTypes: layerFloats}}, Outputs: []string{"y"},
		Attrs: []AttrDef{{Name: "output_size", Kind: AttrInts, Doc: "the output size of every spatial axis"}},
		Infer: func(n *Node) ([]TensorType, error) {
			x := in(n, 0)
			os := n.Attrs.Ints("output_size")
			if len(os) < 1 || len(os) > 3 || len(x.Shape) != len(os)+2 {
				return nil, shapeErr("adaptive_avgpool: output_size %v wants input [N, C, %d spatial], got %s %v", os, len(os), n.Inputs[0].Name, x.Shape)
			}
			out := Shape{x.Shape[0], x.Shape[1]}
			for i, o := range os {
				if o < 1 || x.Shape[2+i] < 1 {
					return nil, shapeErr("adaptive_avgpool: output_size %v and input %s %v must be positive", os, n.Inputs[0].Name, x.Shape)
				}
				out = append(out, o)
			}
			if out.NumElems() > maxResizeElems {
				return nil, shapeErr("adaptive_avgpool: output %v has more than %d elements", out, maxResizeElems)
			}
			return []TensorType{{x.DType, out}}, nil
		},
	})
}

// AdaptiveAvgTables gives the tables (as ResizeTables) of an
// adaptive_avgpool: output i of an axis of size in averages the inputs
// [floor(i·in/out), ceil((i+1)·in/out)), each with weight 1/count, so
// the product over axes is one over the bin's size (PyTorch's bins).
func AdaptiveAvgTables(x Shape, outSize []int) []ResizeAxis {
	tabs := make([]ResizeAxis, len(x))
	for a, d := range x {
		out := d
		if a >= 2 {
			out = outSize[a-2]
		}
		t := ResizeAxis{Start: []int{0}, Outside: make([]bool, out)}
		for i := range out {
			lo, hi := i*d/out, ((i+1)*d+out-1)/out
			if a < 2 {
				lo, hi = i, i+1
			}
			for j := lo; j < hi; j++ {
				t.Idx = append(t.Idx, j)
				t.W = append(t.W, 1/float64(hi-lo))
			}
			t.Start = append(t.Start, len(t.Idx))
		}
		tabs[a] = t
	}
	return tabs
}

// maxResizeElems bounds a resize output, so a huge scale is an error
// rather than a huge allocation.
const maxResizeElems = 1 << 28

// ConvTransposeOut is the output length of a transposed convolution
// along one axis.
func ConvTransposeOut(in, k, stride, padBegin, padEnd, dilation, outPad int) int {
	return (in-1)*stride - padBegin - padEnd + dilation*(k-1) + 1 + outPad
}

func inferConvTranspose(n *Node) ([]TensorType, error) {
	x, w := in(n, 0), in(n, 1)
	r := len(w.Shape) - 2
	if err := oneLayerDType(n); err != nil {
		return nil, err
	}
	if len(x.Shape) != r+2 {
		return nil, shapeErr("conv_transpose with a %d-d kernel %v wants input [N, C, %d spatial], got %s %v", r, w.Shape, r, n.Inputs[0].Name, x.Shape)
	}
	g := n.Attrs.Int("groups")
	c := x.Shape[1]
	if w.Shape[0] != c {
		return nil, shapeErr("weight %s %v wants %d input channels (weight is [in, out/groups, k...]), input %s %v has %d", n.Inputs[1].Name, w.Shape, w.Shape[0], n.Inputs[0].Name, x.Shape, c)
	}
	if c%g != 0 {
		return nil, shapeErr("groups %d must divide input channels %d", g, c)
	}
	m := w.Shape[1] * g
	if has(n, 2) {
		if b := in(n, 2); len(b.Shape) != 1 || b.Shape[0] != m {
			return nil, shapeErr("bias %s must be [%d], got %v", n.Inputs[2].Name, m, b.Shape)
		}
	}
	out := Shape{x.Shape[0], m}
	st, p, d, op := n.Attrs.Ints("strides"), n.Attrs.Ints("pads"), n.Attrs.Ints("dilations"), n.Attrs.Ints("output_padding")
	for i := 0; i < r; i++ {
		o := ConvTransposeOut(x.Shape[2+i], w.Shape[2+i], st[i], p[i], p[r+i], d[i], op[i])
		if o < 1 {
			return nil, shapeErr("conv_transpose: padding %v leaves no output on spatial axis %d (input %v, kernel %v)", p, i, x.Shape, w.Shape[2:])
		}
		out = append(out, o)
	}
	if out.NumElems() > maxResizeElems {
		return nil, shapeErr("conv_transpose: output %v has more than %d elements", out, maxResizeElems)
	}
	return []TensorType{{x.DType, out}}, nil
}

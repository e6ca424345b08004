package ir

// Sampling ops: grid_sample (F.grid_sample, ONNX GridSample), affine_grid
// (F.affine_grid, ONNX AffineGrid), col2im (F.fold, ONNX Col2Im) and
// max_unpool (F.max_unpool1d/2d/3d, ONNX MaxUnpool).

// GridSampleModes are grid_sample's mode values (ONNX's names; PyTorch's
// bilinear and bicubic are linear and cubic).
var GridSampleModes = []string{"linear", "nearest", "cubic"}

// GridSamplePads are grid_sample's padding_mode values.
var GridSamplePads = []string{"zeros", "border", "reflection"}

func init() {
	Register(&OpDef{
		Name: "grid_sample", Doc: "samples x [N, C, d1..dr] at the normalized positions grid [N, o1..or, r] (last component along the last axis) by linear, nearest or cubic (a=-0.75) interpolation, positions outside padded with zeros, the border or a reflection (F.grid_sample, ONNX GridSample); y [N, C, o1..or]",
		Class: Opaque, NoGrad: noGradYet, Pure: Pure, Stream: StreamWhole,
		Inputs:  []InputDef{{Name: "x", DTypes: OnlyF32}, {Name: "grid", DTypes: OnlyF32}},
		Outputs: []string{"y"},
		Attrs: []AttrDef{
			{Name: "mode", Kind: AttrString, Default: "linear", Enum: GridSampleModes, Doc: "linear, nearest or cubic"},
			{Name: "padding_mode", Kind: AttrString, Default: "zeros", Enum: GridSamplePads, Doc: "zeros, border or reflection"},
			{Name: "align_corners", Kind: AttrBool, Default: false, Doc: "-1 and 1 are the centers of the corner elements (else their outer edges)"},
		},
		Infer: func(n *Node) ([]TensorType, error) {
			x, g := in(n, 0).Shape, in(n, 1).Shape
			r := len(x) - 2
			if r < 1 {
				return nil, shapeErr("grid_sample: x %s %v must be [N, C, d1, ...]", n.Inputs[0].Name, x)
			}
			if len(g) != r+2 || g[0] != x[0] || g[r+1] != r {
				return nil, shapeErr("grid_sample: grid %s %v must be [%d, o1..o%d, %d] for x %v", n.Inputs[1].Name, g, x[0], r, r, x)
			}
			return []TensorType{{F32, append(Shape{x[0], x[1]}, g[1:r+1]...)}}, nil
		},
	})
	Register(&OpDef{
		Name: "affine_grid", Doc: "the normalized sampling grid [N, d1..dr, r] of the affine maps theta [N, r, r+1] over an output of size [N, C, d1..dr] (F.affine_grid, ONNX AffineGrid)",
		Class: Opaque, NoGrad: noGradYet, Pure: Pure, Stream: StreamWhole,
		Inputs:  []InputDef{{Name: "theta", DTypes: OnlyF32}},
		Outputs: []string{"grid"},
		Attrs: []AttrDef{
			{Name: "size", Kind: AttrInts, Doc: "the output size [N, C, d1..dr], r = 2 or 3"},
			{Name: "align_corners", Kind: AttrBool, Default: false, Doc: "-1 and 1 are the centers of the corner elements (else their outer edges)"},
		},
		Infer: func(n *Node) ([]TensorType, error) {
			th, size := in(n, 0).Shape, n.Attrs.Ints("size")
			r := len(size) - 2
			if r != 2 && r != 3 {
				return nil, shapeErr("affine_grid: size %v must be [N, C, H, W] or [N, C, D, H, W]", size)
			}
			for _, d := range size {
				if d < 0 {
					return nil, shapeErr("affine_grid: size %v has a negative dimension", size)
				}
			}
			if len(th) != 3 || th[0] != size[0] || th[1] != r || th[2] != r+1 {
				return nil, shapeErr("affine_grid: theta %s %v must be [%d, %d, %d] for size %v", n.Inputs[0].Name, th, size[0], r, r+1, size)
			}
			return []TensorType{{F32, append(append(Shape{size[0]}, size[2:]...), r)}}, nil
		},
	})
	Register(&OpDef{
		Name: "col2im", Doc: "sums the columns x [N, C·∏block, L] of sliding blocks back into an image [N, C, image...] (F.fold, ONNX Col2Im)",
		Class: Opaque, NoGrad: noGradYet, Pure: Pure, Stream: StreamWhole,
		Inputs:  []InputDef{{Name: "x", DTypes: OnlyF32}},
		Outputs: []string{"y"},
		Attrs: []AttrDef{
			{Name: "image", Kind: AttrInts, Doc: "the image's spatial size"},
			{Name: "block", Kind: AttrInts, Doc: "the block's spatial size"},
			{Name: "strides", Kind: AttrInts, Doc: "stride per axis", DefaultFn: func(n *Node) any { return repeat(1, len(n.Attrs.Ints("image"))) }},
			{Name: "dilations", Kind: AttrInts, Doc: "dilation per axis", DefaultFn: func(n *Node) any { return repeat(1, len(n.Attrs.Ints("image"))) }},
			{Name: "pads", Kind: AttrInts, Doc: "padding, begins then ends", DefaultFn: func(n *Node) any { return repeat(0, 2*len(n.Attrs.Ints("image"))) }},
		},
		Infer: inferCol2Im,
	})
	Register(&OpDef{
		Name: "max_unpool", Doc: "scatters x [N, C, d...] into zeros [N, C, size...] at indices (int64, flat over that whole tensor, as ONNX MaxPool returns them), placed at the start of y [N, C, out...] (ONNX MaxUnpool; F.max_unpool's indices are per channel)",
		Class: Opaque, NoGrad: noGradYet, Pure: Pure, Stream: StreamWhole,
		Inputs:  []InputDef{{Name: "x", DTypes: OnlyF32}, {Name: "indices", DTypes: SetOf(I64)}},
		Outputs: []string{"y"},
		Attrs: []AttrDef{{Name: "size", Kind: AttrInts, Doc: "the spatial size the indices address (the pooled input's)"},
			{Name: "out", Kind: AttrInts, Doc: "the output's spatial size, at least size", DefaultFn: func(n *Node) any { return append([]int(nil), n.Attrs.Ints("size")...) }}},
		Infer: func(n *Node) ([]TensorType, error) {
			x, i := in(n, 0).Shape, in(n, 1).Shape
			size, out := n.Attrs.Ints("size"), n.Attrs.Ints("out")
			if len(x) < 3 || len(size) != len(x)-2 || len(out) != len(size) {
				return nil, shapeErr("max_unpool: x %s %v must be [N, C, d...] with %d spatial axes (size %v, out %v)", n.Inputs[0].Name, x, len(size), size, out)
			}
			if !i.Equal(x) {
				return nil, shapeErr("max_unpool: indices %s %v must have x's shape %v", n.Inputs[1].Name, i, x)
			}
			for d := range out {
				if size[d] < 1 || out[d] < size[d] {
					return nil, shapeErr("max_unpool: sizes %v must be positive and out %v at least them", size, out)
				}
			}
			return []TensorType{{F32, append(Shape{x[0], x[1]}, out...)}}, nil
		},
	})
}

// Col2ImBlocks returns the number of block positions along each axis of
// col2im's image, as F.fold counts them (a negative count when the
// padded image is smaller than a dilated block).
func Col2ImBlocks(image, block, strides, dilations, pads []int) []int {
	r := len(image)
	L := make([]int, r)
	for i := range r {
		L[i] = (image[i]+pads[i]+pads[i+r]-dilations[i]*(block[i]-1)-1)/strides[i] + 1
	}
	return L
}

func inferCol2Im(n *Node) ([]TensorType, error) {
	x := in(n, 0).Shape
	image, block := n.Attrs.Ints("image"), n.Attrs.Ints("block")
	st, dil, pads := n.Attrs.Ints("strides"), n.Attrs.Ints("dilations"), n.Attrs.Ints("pads")
	r := len(image)
	if r < 1 || len(block) != r || len(st) != r || len(dil) != r || len(pads) != 2*r {
		return nil, shapeErr("col2im: image %v, block %v, strides %v, dilations %v and pads %v disagree on the spatial rank", image, block, st, dil, pads)
	}
	for i := range r {
		if image[i] < 1 || block[i] < 1 || st[i] < 1 || dil[i] < 1 || pads[i] < 0 || pads[i+r] < 0 {
			return nil, shapeErr("col2im: image %v, block %v, strides %v and dilations %v must be positive and pads %v not negative", image, block, st, dil, pads)
		}
	}
	L := Col2ImBlocks(image, block, st, dil, pads)
	blocks := 1
	for _, l := range L {
		if l < 1 {
			return nil, shapeErr("col2im: a block %v (dilations %v) does not fit in the padded image %v", block, dil, image)
		}
		blocks *= l
	}
	cb := Shape(block).NumElems()
	if len(x) != 3 || x[1]%cb != 0 || x[2] != blocks {
		return nil, shapeErr("col2im: x %s %v must be [N, C·%d, %d] (block %v at %v positions)", n.Inputs[0].Name, x, cb, blocks, block, L)
	}
	return []TensorType{{F32, append(Shape{x[0], x[1] / cb}, image...)}}, nil
}

// AffineGridBase is coordinate i of d along one axis of affine_grid's
// base grid, as torch computes it in float32: linspace(-1, 1, d), times
// (d-1)/d without align_corners, 0 when d is 1.
func AffineGridBase(i, d int, align bool) float64 {
	if d <= 1 {
		return 0
	}
	step := float32(2) / float32(d-1)
	v := -1 + step*float32(i)
	if i >= d/2 {
		v = 1 - step*float32(d-1-i)
	}
	if !align {
		v *= float32(float64(d-1) / float64(d))
	}
	return float64(v)
}

// UnpoolOffset maps max_unpool's index i, flat over [N, C, size...], to
// its offset in the output [N, C, out...], where the size block sits at
// the start of each out block.
func UnpoolOffset(i int, size, out []int) int {
	plane, oplane := Shape(size).NumElems(), Shape(out).NumElems()
	nc, rem := i/plane, i%plane
	off, ostride := 0, 1
	for d := len(size) - 1; d >= 0; d-- {
		off += (rem % size[d]) * ostride
		rem /= size[d]
		ostride *= out[d]
	}
	return nc*oplane + off
}

package ir

import "math"

// Sampling ops: grid_sample (F.grid_sample, ONNX GridSample), affine_grid
// (F.affine_grid, ONNX AffineGrid), col2im (F.fold, ONNX Col2Im),
// max_unpool (ONNX MaxUnpool) and deform_conv
// (torchvision.ops.deform_conv2d, ONNX DeformConv).

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

func init() {
	Register(&OpDef{
		Name: "deform_conv", Doc: "2-D deformable convolution: each tap of x [N, C, H, W] read by bilinear interpolation at its position plus offset [N, og·2·kh·kw, oh, ow] ((dy, dx) per tap), times mask [N, og·kh·kw, oh, ow] when given (torchvision.ops.deform_conv2d, ONNX DeformConv); weight [M, C/groups, kh, kw]",
		Class: Opaque, NoGrad: noGradYet, Pure: Pure, Stream: StreamWhole,
		Inputs: []InputDef{{Name: "x", DTypes: OnlyF32}, {Name: "weight", Param: true, DTypes: OnlyF32}, {Name: "offset", DTypes: OnlyF32},
			{Name: "bias", Optional: true, Param: true, DTypes: OnlyF32}, {Name: "mask", Optional: true, DTypes: OnlyF32}},
		Outputs: []string{"y"},
		Attrs: append(windowAttrs(convRank, true),
			AttrDef{Name: "groups", Kind: AttrInt, Default: 1, Doc: "number of channel groups"},
			AttrDef{Name: "offset_groups", Kind: AttrInt, Default: 1, Doc: "number of channel groups sharing an offset (and mask) set"}),
		Check: func(n *Node) error {
			if !has(n, 1) {
				return nil
			}
			if r := convRank(n); r != 2 {
				return shapeErr("deform_conv: weight %v must be [M, C/groups, kh, kw] (2-D only)", in(n, 1).Shape)
			}
			if err := checkWindow(n, 2); err != nil {
				return err
			}
			if n.Attrs.Int("groups") < 1 || n.Attrs.Int("offset_groups") < 1 {
				return shapeErr("deform_conv: groups and offset_groups must be positive")
			}
			return nil
		},
		Infer: inferDeformConv,
	})
}

func inferDeformConv(n *Node) ([]TensorType, error) {
	x, w, off := in(n, 0).Shape, in(n, 1).Shape, in(n, 2).Shape
	G, OG := n.Attrs.Int("groups"), n.Attrs.Int("offset_groups")
	st, pads, dil := n.Attrs.Ints("strides"), n.Attrs.Ints("pads"), n.Attrs.Ints("dilations")
	if len(x) != 4 || x[1]%G != 0 || x[1]%OG != 0 || w[1]*G != x[1] || w[0]%G != 0 {
		return nil, shapeErr("deform_conv: x %v and weight %v do not match [N, C, H, W] and [M, C/%d, kh, kw] (C divisible by offset_groups %d)", x, w, G, OG)
	}
	var out [2]int
	for d := range 2 {
		out[d] = (x[d+2]+pads[d]+pads[d+2]-dil[d]*(w[d+2]-1)-1)/st[d] + 1
		if out[d] < 1 {
			return nil, shapeErr("deform_conv: the dilated kernel %v does not fit x %v with pads %v", w[2:], x, pads)
		}
	}
	taps := w[2] * w[3]
	if want := (Shape{x[0], OG * 2 * taps, out[0], out[1]}); !off.Equal(want) {
		return nil, shapeErr("deform_conv: offset %s %v must be %v", n.Inputs[2].Name, off, want)
	}
	if has(n, 3) && !in(n, 3).Shape.Equal(Shape{w[0]}) {
		return nil, shapeErr("deform_conv: bias %v must be [%d]", in(n, 3).Shape, w[0])
	}
	if want := (Shape{x[0], OG * taps, out[0], out[1]}); has(n, 4) && !in(n, 4).Shape.Equal(want) {
		return nil, shapeErr("deform_conv: mask %s %v must be %v", n.Inputs[4].Name, in(n, 4).Shape, want)
	}
	return []TensorType{{F32, Shape{x[0], w[0], out[0], out[1]}}}, nil
}

// DeformBilinear is torchvision's deformable-convolution sample of a
// plane [H, W] at (y, x): 0 outside (-1, H) × (-1, W), corners outside
// the plane count 0.
func DeformBilinear(p []float32, H, W int, y, x float64) float64 {
	if !(y > -1 && y < float64(H) && x > -1 && x < float64(W)) {
		return 0
	}
	y0, x0 := math.Floor(y), math.Floor(x)
	yl, xl := int(y0), int(x0)
	ly, lx := y-y0, x-x0
	hy, hx := 1-ly, 1-lx
	at := func(i, j int) float64 {
		if i < 0 || j < 0 || i >= H || j >= W {
			return 0
		}
		return float64(p[i*W+j])
	}
	return hy*hx*at(yl, xl) + hy*lx*at(yl, xl+1) + ly*hx*at(yl+1, xl) + ly*lx*at(yl+1, xl+1)
}

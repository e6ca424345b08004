package onnx

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// GridSample, AffineGrid, Col2Im, MaxUnpool (ir/ops_sample.go) and
// CenterCropPad (one ir pad: negative pads crop).

func init() {
	opTable["GridSample"] = opConv{2, nil, gridSample}
	opTable["AffineGrid"] = opConv{2, nil, affineGrid}
	opTable["Col2Im"] = opConv{3, nil, col2im}
	opTable["MaxUnpool"] = opConv{2, nil, maxUnpool}
	opTable["CenterCropPad"] = opConv{2, nil, centerCropPad}
}

// gridSampleModes maps GridSample's modes, opset 16's names included.
var gridSampleModes = map[string]string{"bilinear": "linear", "linear": "linear", "nearest": "nearest", "bicubic": "cubic", "cubic": "cubic"}

func gridSample(c *nctx) error {
	m, err := c.str("mode", "linear")
	if err != nil {
		return err
	}
	mode, ok := gridSampleModes[m]
	if !ok {
		return fmt.Errorf("mode %q is not one of linear, nearest, cubic", m)
	}
	pad, err := c.str("padding_mode", "zeros")
	if err != nil {
		return err
	}
	align, err := c.int("align_corners", 0)
	if err != nil {
		return err
	}
	y, err := c.emit1("grid_sample", "", []*val{c.in(0), c.in(1)}, ir.Attrs{"mode": mode, "padding_mode": pad, "align_corners": align != 0})
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

func affineGrid(c *nctx) error {
	size, _, err := c.constInts(1, "size")
	if err != nil {
		return err
	}
	align, err := c.int("align_corners", 0)
	if err != nil {
		return err
	}
	y, err := c.emit1("affine_grid", "", []*val{c.in(0)}, ir.Attrs{"size": size, "align_corners": align != 0})
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

func col2im(c *nctx) error {
	image, _, err := c.constInts(1, "image_shape")
	if err != nil {
		return err
	}
	block, _, err := c.constInts(2, "block_shape")
	if err != nil {
		return err
	}
	attrs := ir.Attrs{"image": image, "block": block}
	for _, a := range []string{"strides", "dilations", "pads"} {
		if c.has(a) {
			v, err := c.ints(a, nil)
			if err != nil {
				return err
			}
			attrs[a] = v
		}
	}
	y, err := c.emit1("col2im", "", []*val{c.in(0)}, attrs)
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

// maxUnpool takes the size the indices address from ONNX's formula
// ((in-1)·stride - pads + kernel); output_shape, when given, places that
// block at the start of a larger output (ONNX's reference).
func maxUnpool(c *nctx) error {
	x := c.in(0)
	s := x.shape()
	r := len(s) - 2
	if r < 1 {
		return fmt.Errorf("input must be [N, C, d...], got %v", s)
	}
	kernel, err := c.ints("kernel_shape", nil)
	if err != nil {
		return err
	}
	if len(kernel) != r {
		return fmt.Errorf("kernel_shape %v must have %d values", kernel, r)
	}
	strides, err := c.ints("strides", repeatInt(1, r))
	if err != nil {
		return err
	}
	pads, err := c.ints("pads", repeatInt(0, 2*r))
	if err != nil {
		return err
	}
	if len(strides) != r || len(pads) != 2*r {
		return fmt.Errorf("strides %v and pads %v must have %d and %d values", strides, pads, r, 2*r)
	}
	size := make([]int, r)
	for d := range r {
		size[d] = (s[d+2]-1)*strides[d] - pads[d] - pads[d+r] + kernel[d]
	}
	attrs := ir.Attrs{"size": size}
	if c.in(2) != nil {
		out, _, err := c.constInts(2, "output_shape")
		if err != nil {
			return err
		}
		if len(out) != r+2 || out[0] != s[0] || out[1] != s[1] {
			return fmt.Errorf("output_shape %v must be [%d, %d, %d spatial sizes]", out, s[0], s[1], r)
		}
		attrs["out"] = out[2:]
	}
	y, err := c.emit1("max_unpool", "", []*val{x, c.in(1)}, attrs)
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

// centerCropPad is one pad whose pads are negative where the axis is
// cropped: both crop and pad put floor(difference/2) before the data,
// as ONNX's reference.
func centerCropPad(c *nctx) error {
	x := c.in(0)
	s := x.shape()
	shape, _, err := c.constInts(1, "shape")
	if err != nil {
		return err
	}
	axes, err := c.ints("axes", nil)
	if err != nil {
		return err
	}
	if axes == nil {
		for i := range s {
			axes = append(axes, i)
		}
	}
	if len(shape) != len(axes) {
		return fmt.Errorf("shape %v must have one size per axis %v", shape, axes)
	}
	r := len(s)
	pads := make([]int, 2*r)
	for k, a := range axes {
		if a < -r || a >= r {
			return fmt.Errorf("axis %d is out of range for rank %d", a, r)
		}
		if a < 0 {
			a += r
		}
		if shape[k] < 0 {
			return fmt.Errorf("shape %v has a negative size", shape)
		}
		diff := shape[k] - s[a]
		if diff >= 0 {
			pads[a], pads[a+r] = diff/2, diff-diff/2
		} else {
			pads[a], pads[a+r] = -((-diff) / 2), -(-diff - (-diff)/2)
		}
	}
	y, err := c.emit1("pad", "", []*val{x}, ir.Attrs{"pads": pads})
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

// repeatInt is n copies of v.
func repeatInt(v, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func init() { opTable["DeformConv"] = opConv{3, nil, deformConv} }

func deformConv(c *nctx) error {
	attrs := ir.Attrs{}
	for onnxName, irName := range map[string]string{"strides": "strides", "pads": "pads", "dilations": "dilations"} {
		if c.has(onnxName) {
			v, err := c.ints(onnxName, nil)
			if err != nil {
				return err
			}
			attrs[irName] = v
		}
	}
	for onnxName, irName := range map[string]string{"group": "groups", "offset_group": "offset_groups"} {
		v, err := c.int(onnxName, 1)
		if err != nil {
			return err
		}
		attrs[irName] = v
	}
	if c.has("kernel_shape") {
		k, err := c.ints("kernel_shape", nil)
		if err != nil {
			return err
		}
		if w := c.in(1).shape(); len(w) != 4 || k == nil || len(k) != 2 || k[0] != w[2] || k[1] != w[3] {
			return fmt.Errorf("kernel_shape %v does not match W %v", k, w)
		}
	}
	y, err := c.emit1("deform_conv", "", []*val{c.in(0), c.in(1), c.in(2), c.in(3), c.in(4)}, attrs)
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

package onnx

import (
	"fmt"
	"reflect"

	"github.com/dlcompiler/dlc/ir"
)

// Pad, Expand and ConstantOfShape: ops PyTorch exports write around the
// in-scope layers.
//
// nn.AvgPool2d(padding=p) with the default count_include_pad=True exports
// as Pad (zeros) + AveragePool (pads 0), and F.pad or nn.ZeroPad2d before
// a Conv as Pad + Conv. A constant zero Pad of spatial axes of f32 is
// therefore kept pending (val.pad) and folded into the Conv (zero padding
// composes exactly with conv pads) or AveragePool (the padded zeros are
// counted: count_include_pad) that reads it; any other reader gets it as
// an ir pad node (materializePad). Every other Pad (reflect, edge, wrap,
// another constant, cropping, any dtype) is an ir pad node, computed at
// import when its input is known.

// padded is the pending output of a zero Pad.
type padded struct {
	src  *val
	pads []int         // begins of every axis, then ends (ONNX order)
	typ  ir.TensorType // the padded type
	node string        // the Pad node, for messages
}

// readsPad reports whether input k of an opType node may be a pending pad.
func readsPad(opType string, k int) bool {
	switch opType {
	case "Conv", "AveragePool", "Pad", "Identity", "Dropout", "Shape":
		return k == 0
	}
	return false
}

func checkPad(c *nctx) error {
	mode, err := c.str("mode", "constant")
	if err != nil {
		return err
	}
	for _, m := range ir.PadModes {
		if m == mode {
			return nil
		}
	}
	return unsup("mode %q is not one of constant, reflect, edge, wrap", mode)
}

// materializePad returns x, or for a pending pad the output of an ir pad
// node of its source (bound in place of x, so every reader shares it).
func (im *importer) materializePad(name string, x *val, idx int) (*val, error) {
	if x.pad == nil {
		return x, nil
	}
	c := newCtx(im, &node{name: x.pad.node, opType: "Pad"}, idx)
	y, err := c.emit1("pad", "", []*val{x.pad.src}, ir.Attrs{"pads": append([]int(nil), x.pad.pads...)})
	if err != nil {
		return nil, err
	}
	if name != "" {
		im.vals[name] = y
	}
	return y, nil
}

func pad(c *nctx) error {
	x := c.in(0)
	r := x.rank()
	var pads, axes []int
	value := 0.0
	var err error
	if c.opset < 11 {
		if pads, err = c.ints("pads", nil); err != nil {
			return err
		}
		if value, err = c.float("value", 0); err != nil {
			return err
		}
	} else {
		var ok bool
		if pads, ok, err = c.constInts(1, "pads"); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("the pads input is missing")
		}
		t, err := c.constIn(2, "constant_value")
		if err != nil {
			return err
		}
		if t != nil {
			if t.Len() != 1 {
				return fmt.Errorf("constant_value must be one value, got %v", t.Type())
			}
			value = t.Float(0)
		}
		if c.opset >= 18 {
			if axes, _, err = c.constInts(3, "axes"); err != nil {
				return err
			}
		}
	}
	if axes != nil {
		if len(pads) != 2*len(axes) {
			return fmt.Errorf("pads %v do not match axes %v", pads, axes)
		}
		full := make([]int, 2*r)
		seen := make([]bool, r)
		for k, a := range axes {
			na, err := ir.NormAxis(a, r)
			if err != nil {
				return err
			}
			if seen[na] {
				return fmt.Errorf("axes %v repeat axis %d", axes, na)
			}
			seen[na] = true
			full[na], full[r+na] = pads[k], pads[len(axes)+k]
		}
		pads = full
	}
	if len(pads) != 2*r {
		return fmt.Errorf("pads %v: want %d values for rank %d", pads, 2*r, r)
	}
	zero := true
	for _, p := range pads {
		zero = zero && p == 0
	}
	if zero {
		c.set(0, x)
		return nil
	}
	s := x.shape()
	out := make(ir.Shape, r)
	for i := range out {
		out[i] = s[i] + pads[i] + pads[r+i]
		if out[i] < 0 {
			return fmt.Errorf("pads %v remove more than the %v input has", pads, s)
		}
	}
	mode, err := c.str("mode", "constant")
	if err != nil {
		return err
	}
	attrs := ir.Attrs{"pads": pads, "mode": mode, "value": value}
	if x.c != nil && x.pad == nil {
		if out.NumElems() > maxFold {
			return unsup("padding a known tensor to %v is too large to fold", out)
		}
		t, err := evalKnown("pad", attrs, x.c)
		if err != nil {
			return err
		}
		c.set(0, c.known(t, x.elem, x.weight))
		return nil
	}
	pending := mode == "constant" && value == 0 && r >= 3 && pads[0] == 0 && pads[1] == 0 && pads[r] == 0 && pads[r+1] == 0 &&
		x.typ().DType == ir.F32
	for _, p := range pads {
		pending = pending && p >= 0
	}
	if !pending {
		src, err := c.im.materializePad(c.n.inputs[0], x, c.idx)
		if err != nil {
			return err
		}
		y, err := c.emit1("pad", "", []*val{src}, attrs)
		if err != nil {
			return err
		}
		c.set(0, y)
		return nil
	}
	src := x
	if x.pad != nil {
		src = x.pad.src
		for i := range pads {
			pads[i] += x.pad.pads[i]
		}
	}
	name := c.n.name
	if name == "" {
		name = fmt.Sprintf("%s_%d", c.n.opType, c.idx)
	}
	c.set(0, &val{name: x.name, elem: x.elem,
		pad: &padded{src: src, pads: pads, typ: ir.TensorType{DType: ir.F32, Shape: out}, node: name}})
	return nil
}

// fillWith sets every element of t to v's one element, converted to t's
// dtype (exactly, when the dtypes are the same).
func fillWith(t, v *ir.Tensor) {
	one := reflect.ValueOf(ir.Convert(v, t.DType).Data).Index(0)
	d := reflect.ValueOf(t.Data)
	for i := range d.Len() {
		d.Index(i).Set(one)
	}
}

// foldPad takes a pending pad of x into the spatial pads (ir layout: r
// begins, r ends) of the Conv or AveragePool reading it, and returns the
// unpadded input.
func foldPad(x *val, pads []int) *val {
	if x.pad == nil {
		return x
	}
	r, R := len(pads)/2, len(x.pad.pads)/2
	for i := 0; i < r; i++ {
		pads[i] += x.pad.pads[2+i]
		pads[r+i] += x.pad.pads[R+2+i]
	}
	return x.pad.src
}

// foldPoolPad folds a pending zero pad into an AveragePool: the padded
// zeros are averaged like input, which is count_include_pad=1 over the
// sum of both paddings. That holds when the pool's own padding is absent
// or also counted, the total padding stays under the kernel (ir's rule),
// and ceil_mode gives the same windows. Before opset 10 PyTorch writes
// ceil_mode=True as extra end padding that is not counted
// (count_include_pad=0); that is ir's ceil_mode when it gives the same
// windows. pads is updated in place; the result is the unpadded input
// and the ceil_mode to use.
func (c *nctx) foldPoolPad(x *val, kernel, strides, pads, dil []int, ceil, cip bool) (*val, bool, error) {
	r := len(kernel)
	own := append([]int(nil), pads...)
	ps := x.shape()
	node := x.pad.node
	ownPad, ownBegin := false, false
	for i := 0; i < r; i++ {
		ownPad = ownPad || own[i] != 0 || own[r+i] != 0
		ownBegin = ownBegin || own[i] != 0
	}
	outCeil := ceil
	if !cip && ownPad {
		if ownBegin || ceil {
			return nil, false, unsup("the zero padding of Pad %q is averaged but AveragePool's own padding %v is not (count_include_pad=0): the two cannot be one pool", node, own)
		}
		// Own end padding only: try it as ceil_mode.
		for i := 0; i < r; i++ {
			pads[r+i] = 0
		}
		outCeil = true
	}
	src := foldPad(x, pads)
	ss := src.shape()
	for i := 0; i < r; i++ {
		eff := dil[i]*(kernel[i]-1) + 1
		if pads[i] >= eff || pads[r+i] >= eff {
			return nil, false, unsup("padding %v from Pad %q is not smaller than the kernel %v", pads, node, kernel)
		}
		want := ir.WindowOut(ps[2+i], kernel[i], strides[i], own[i], own[r+i], dil[i], ceil)
		got := ir.WindowOut(ss[2+i], kernel[i], strides[i], pads[i], pads[r+i], dil[i], outCeil)
		if want != got {
			return nil, false, unsup("Pad %q folded into AveragePool (pads %v, ceil_mode %v) would change the output size (%d, want %d)", node, pads, outCeil, got, want)
		}
	}
	return src, outCeil, nil
}

// expand broadcasts x to a known shape (numpy rules, both ways). Known
// values are computed; otherwise x is added to zeros of the missing
// extent, which broadcasts the same way.
func expand(c *nctx) error {
	x := c.in(0)
	shape, ok, err := c.constInts(1, "shape")
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("the shape input is missing")
	}
	want := make(ir.Shape, len(shape))
	for i, d := range shape {
		if d < 0 {
			return fmt.Errorf("shape %v has a negative dimension", shape)
		}
		want[i] = d
	}
	y, err := c.broadcastTo(x, want)
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

// broadcastTo broadcasts x to want (numpy's rules), folded when x is known.
func (c *nctx) broadcastTo(x *val, want ir.Shape) (*val, error) {
	s := x.shape()
	out, err := ir.BroadcastShapes(s, want)
	if err != nil {
		return nil, err
	}
	if out.Equal(s) {
		return x, nil
	}
	if out.NumElems() > maxElems {
		return nil, unsup("expanding to %v is too large", out)
	}
	attrs := ir.Attrs{"shape": []int(want.Clone())}
	if x.c != nil && out.NumElems() <= maxFold {
		t, err := evalKnown("expand", attrs, x.c)
		if err != nil {
			return nil, err
		}
		return &val{name: x.name, c: t, elem: x.elem, weight: x.weight, key: derivedKey("expand", []int(want), x)}, nil
	}
	return c.emit1("expand", "", []*val{x}, attrs)
}

// constantOfShape folds to a known tensor filled with the value
// attribute (default float 0).
func constantOfShape(c *nctx) error {
	shape, ok, err := c.constInts(0, "shape")
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("the shape input is missing")
	}
	s, _, err := shapeOf(toInt64s(shape))
	if err != nil {
		return err
	}
	if s.NumElems() > maxFold {
		return unsup("a constant of shape %v is too large to fold", s)
	}
	fill := scalarF32(0) // ONNX's default value: a float 0
	if a, ok := c.attrs["value"]; ok {
		if a.t == nil {
			return fmt.Errorf("attribute value holds no tensor")
		}
		v, err := tensorData(a.t, c.im.dir)
		if err != nil {
			return unsup("value: %v", err)
		}
		if v.Len() != 1 {
			return fmt.Errorf("value must hold one element, got %v", v.Type())
		}
		fill = v
	}
	t := ir.NewTensor(fill.DType, s)
	fillWith(t, fill)
	c.set(0, c.known(t, elemOf(t.DType), false))
	return nil
}

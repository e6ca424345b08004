package onnx

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// LayerNormalization, RMSNormalization, GroupNormalization and
// InstanceNormalization (ir/ops_norm2.go), and LRN.

func init() {
	opTable["LayerNormalization"] = opConv{2, nil, layerNorm("layernorm")}
	opTable["RMSNormalization"] = opConv{2, nil, layerNorm("rmsnorm")}
	opTable["GroupNormalization"] = opConv{3, nil, groupNorm}
	opTable["InstanceNormalization"] = opConv{3, nil, groupNorm}
	opTable["LRN"] = opConv{1, nil, lrn}
	opTable["Hardmax"] = opConv{1, nil, softmax("hardmax")} // the axis rules of Softmax, opset 13 included
}

func lrn(c *nctx) error {
	x := c.in(0)
	if !ir.F32F64.Has(x.typ().DType) {
		return unsup("LRN of %s tensors is not supported (f32 and f64 only)", dtName(x.elem))
	}
	if !c.has("size") {
		return fmt.Errorf("attribute size is required")
	}
	attrs := ir.Attrs{}
	size, err := c.int("size", 0)
	if err != nil {
		return err
	}
	attrs["size"] = size
	for _, a := range []struct {
		name string
		def  float64
	}{{"alpha", 1e-4}, {"beta", 0.75}, {"bias", 1}} {
		if attrs[a.name], err = c.float(a.name, a.def); err != nil {
			return err
		}
	}
	y, err := c.emit1("lrn", "", []*val{x}, attrs)
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

// layerNorm maps LayerNormalization (with its optional Mean and
// InvStdDev outputs) and RMSNormalization. A known scale or bias that
// broadcasts to the normalized shape is expanded to it.
func layerNorm(op string) func(c *nctx) error {
	return func(c *nctx) error {
		x := c.in(0)
		if !ir.F32F64.Has(x.typ().DType) {
			return unsup("%s of %s tensors is not supported (f32 and f64 only)", c.n.opType, dtName(x.elem))
		}
		axis, err := c.int("axis", -1)
		if err != nil {
			return err
		}
		eps, err := c.float("epsilon", 1e-5)
		if err != nil {
			return err
		}
		a, err := ir.NormAxis(axis, x.rank())
		if err != nil {
			return err
		}
		ins := []*val{x}
		for i := 1; i < len(c.n.inputs) && i < 3; i++ {
			p, err := c.expandTo(c.in(i), x.shape()[a:], c.n.opType)
			if err != nil {
				return err
			}
			ins = append(ins, p)
		}
		attrs := ir.Attrs{"axis": a, "epsilon": eps}
		if op == "layernorm" && (c.hasOut(1) || c.hasOut(2)) {
			attrs["stats"] = true
		}
		ys, err := c.emit(op, "", ins, attrs)
		if err != nil {
			return err
		}
		for i, y := range ys {
			c.set(i, y)
		}
		return nil
	}
}

// expandTo returns p, or its known value expanded to shape when it
// broadcasts to it (nil stays nil).
func (c *nctx) expandTo(p *val, shape ir.Shape, what string) (*val, error) {
	if p == nil || p.shape().Equal(shape) {
		return p, nil
	}
	out, err := ir.BroadcastShapes(shape, p.shape())
	if err != nil || !out.Equal(shape) {
		return nil, fmt.Errorf("%s: %s %v does not broadcast to %v", what, p.name, p.shape(), shape)
	}
	if p.c == nil {
		return nil, unsup("%s: %s %v must have the shape %v, or be known to be broadcast at import", what, p.name, p.shape(), shape)
	}
	if shape.NumElems() > maxFold {
		return nil, unsup("%s: expanding %s to %v is too large", what, p.name, shape)
	}
	t, err := evalKnown("add", nil, ir.NewTensor(p.c.DType, shape), p.c)
	if err != nil {
		return nil, err
	}
	return &val{name: p.name, c: t, elem: p.elem, weight: p.weight}, nil
}

// groupNorm maps GroupNormalization and InstanceNormalization (one group
// per channel). Before opset 21, GroupNormalization's scale and bias are
// per group: each value is repeated for the group's channels.
func groupNorm(c *nctx) error {
	x, scale, bias := c.in(0), c.in(1), c.in(2)
	if !ir.F32F64.Has(x.typ().DType) {
		return unsup("%s of %s tensors is not supported (f32 and f64 only)", c.n.opType, dtName(x.elem))
	}
	if x.rank() < 3 {
		return fmt.Errorf("input %v must be [N, C, D1, ...]", x.shape())
	}
	ch := x.shape()[1]
	groups := ch
	if c.n.opType == "GroupNormalization" {
		g, err := c.int("num_groups", 0)
		if err != nil {
			return err
		}
		if g < 1 || ch%g != 0 {
			return fmt.Errorf("num_groups %d must divide the %d channels", g, ch)
		}
		groups = g
	}
	eps, err := c.float("epsilon", 1e-5)
	if err != nil {
		return err
	}
	ins := []*val{x}
	for _, p := range []*val{scale, bias} {
		if c.n.opType == "GroupNormalization" && c.opset < 21 && groups != ch {
			if p.c == nil || p.c.Len() != groups {
				return unsup("%s %v must be known, one value per group (opset %d)", p.name, p.shape(), c.opset)
			}
			t := ir.NewTensor(p.c.DType, ir.Shape{ch})
			for i := range ch {
				t.SetFloat(i, p.c.Float(i/(ch/groups)))
			}
			p = &val{name: p.name, c: t, elem: p.elem, weight: p.weight}
		}
		if !p.shape().Equal(ir.Shape{ch}) {
			return fmt.Errorf("%s %v must be [%d] (one value per channel)", p.name, p.shape(), ch)
		}
		ins = append(ins, p)
	}
	y, err := c.emit1("groupnorm", "", ins, ir.Attrs{"num_groups": groups, "epsilon": eps})
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

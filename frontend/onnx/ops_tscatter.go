package onnx

import "github.com/dlcompiler/dlc/ir"

// TensorScatter (opset 24) onto ir tensor_scatter.

func init() { opTable["TensorScatter"] = opConv{2, nil, tensorScatterOp} }

func tensorScatterOp(c *nctx) error {
	attrs, err := c.sameAttrs(ir.Lookup("tensor_scatter"))
	if err != nil {
		return err
	}
	y, err := c.emit1("tensor_scatter", "", []*val{c.in(0), c.in(1), c.in(2)}, attrs)
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

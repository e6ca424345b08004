package onnx

// Casts, comparisons, logic, bitwise ops, Where, Mod, IsNaN and IsInf
// (ir/ops_cast.go, ir/ops_logic.go).

func init() {
	opTable["CastLike"] = opConv{2, nil, castLike}
}

// castLike is Cast to the dtype of its second input, whose values are
// never read.
func castLike(c *nctx) error {
	y, err := c.castTo(c.in(0), c.in(1).typ().DType)
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

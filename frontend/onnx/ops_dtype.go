package onnx

import (
	"github.com/dlcompiler/dlc/ir"
)

// Dtype gaps closed by widening: an op whose ir form computes in f32
// takes f16 and bf16 inputs (and MaxPool uint8) converted to f32, and
// its float outputs are rounded back to the input dtype. For f16 and
// bf16 this is what hardware does (products summed in f32) and within
// ONNX's tolerance of a computation in the narrow type; for uint8 max
// pooling it is exact (every uint8 is an f32, and the max is one of
// them).

func init() {
	halves := ir.SetOf(ir.F16, ir.BF16)
	for name, set := range map[string]ir.DTypeSet{
		"MatMul": halves, "Gemm": halves, "Conv": halves, "Attention": halves,
		"MaxPool": halves | ir.SetOf(ir.U8, ir.I8), "AveragePool": halves,
		"Softmax": halves, "LogSoftmax": halves,
	} {
		// Go runs this file's init after ops.go's and ops_attention.go's
		// (file name order), which fill these rows.
		op, ok := opTable[name]
		if !ok {
			panic("onnx: viaF32 of " + name + ", which has no row yet")
		}
		op.conv = viaF32(op.conv, set)
		opTable[name] = op
	}
}

// viaF32 wraps an op's conversion: when an input has a dtype of set, the
// node is converted as a copy reading every such input cast to f32, and
// its f32 outputs are cast back to that dtype.
func viaF32(conv func(c *nctx) error, set ir.DTypeSet) func(c *nctx) error {
	return func(c *nctx) error {
		var from ir.DType
		for i := range c.n.inputs {
			if x := c.in(i); x != nil && x.pad == nil && set.Has(x.typ().DType) {
				from = x.typ().DType
				break
			}
		}
		if from == 0 {
			return conv(c)
		}
		n := *c.n
		n.inputs = append([]string(nil), c.n.inputs...)
		n.outputs = make([]string, len(c.n.outputs))
		for i, s := range c.n.inputs {
			x := c.in(i)
			if x == nil || x.pad != nil || !set.Has(x.typ().DType) {
				continue
			}
			w, err := c.castTo(x, ir.F32)
			if err != nil {
				return err
			}
			n.inputs[i] = "\x00f32:" + s
			c.im.vals[n.inputs[i]] = w
		}
		for i, s := range c.n.outputs {
			if s != "" {
				n.outputs[i] = "\x00f32:" + s
			}
		}
		wide := newCtx(c.im, &n, c.idx)
		if err := conv(wide); err != nil {
			return err
		}
		for i := range c.n.outputs {
			y := c.im.vals[n.outputs[i]]
			if !c.hasOut(i) || y == nil {
				continue
			}
			if y.typ().DType == ir.F32 {
				var err error
				if y, err = c.castTo(y, from); err != nil {
					return err
				}
			}
			c.set(i, y)
		}
		return nil
	}
}

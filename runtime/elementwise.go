package runtime

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// Element-wise, broadcasting and reduction ops come from their
// declarative forms in the op table (ir.Unary, ir.Binary, ir.Reduction):
// one kernel each serves every op of the form, so a new element-wise op
// or reduction needs no code here. Transcendental functions are
// evaluated in float64 and rounded once to float32.

func init() {
	for _, d := range ir.Ops() {
		switch {
		case d.Unary != nil:
			register(d.Name, unaryKernel(d.Unary))
		case d.Binary != nil:
			register(d.Name, binaryKernel(d.Binary))
		case d.Reduction != nil:
			register(d.Name, reduceKernel(d.Reduction))
		}
	}
	register("identity", copyKernel)
	register("dropout", copyKernel) // inference: dropout does nothing
}

// unaryKernel applies u's scalar function, bound to the node's
// attributes, to every element of the one input: floats in float64
// rounded once to their dtype, integers in int64 wrapped to their width.
func unaryKernel(u *ir.Unary) Kernel {
	return func(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
		x := in[0]
		if !u.DTypes().Has(x.DType) {
			return nil, fmt.Errorf("%s of %v tensors is not supported", n.Op, x.DType)
		}
		y := ir.NewTensor(x.DType, x.Shape)
		switch {
		case x.DType == ir.F32:
			fn, ys := u.Eval(n.Attrs), y.F32()
			for i, v := range x.F32() {
				ys[i] = float32(fn(float64(v)))
			}
		case x.DType.IsFloat():
			fn := u.Eval(n.Attrs)
			for i := range y.Len() {
				y.SetFloat(i, fn(x.Float(i)))
			}
		default:
			fn := u.Int(n.Attrs)
			for i := range y.Len() {
				y.SetInt(i, fn(x.Int(i)))
			}
		}
		return one(y)
	}
}

// copyKernel returns a copy of its input, so that the output never aliases
// the input.
func copyKernel(_ *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	return one(in[0].Clone())
}

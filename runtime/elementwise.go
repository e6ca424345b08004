package runtime

import (
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
// attributes, to every element of the one f32 input.
func unaryKernel(u *ir.Unary) Kernel {
	return func(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
		fn := u.Eval(n.Attrs)
		x := in[0]
		y := newF32(x.Shape)
		ys := y.F32()
		for i, v := range x.F32() {
			ys[i] = float32(fn(float64(v)))
		}
		return one(y)
	}
}

// copyKernel returns a copy of its input, so that the output never aliases
// the input.
func copyKernel(_ *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	return one(in[0].Clone())
}

package runtime

import (
	"math"

	"github.com/dlcompiler/dlc/ir"
)

// Element-wise activations. Transcendental functions are evaluated in
// float64 and rounded once to float32.

func init() {
	register("relu", unaryKernel(func(_ *ir.Node) func(float32) float32 {
		return func(x float32) float32 {
			if x < 0 {
				return 0
			}
			return x // also keeps NaN, as torch.relu does
		}
	}))
	register("sigmoid", unaryKernel(func(_ *ir.Node) func(float32) float32 {
		return func(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }
	}))
	register("tanh", unaryKernel(func(_ *ir.Node) func(float32) float32 {
		return func(x float32) float32 { return float32(math.Tanh(float64(x))) }
	}))
	register("leaky_relu", unaryKernel(func(n *ir.Node) func(float32) float32 {
		alpha := n.Attrs.Float("alpha")
		return func(x float32) float32 {
			if x > 0 {
				return x
			}
			return float32(alpha * float64(x))
		}
	}))
	register("clip", unaryKernel(func(n *ir.Node) func(float32) float32 {
		// min(max(x, lo), hi): when lo > hi everything becomes hi, as in
		// torch.clamp; NaN passes through.
		lo, hi := n.Attrs.Float("min"), n.Attrs.Float("max")
		return func(x float32) float32 {
			v := float64(x)
			if v < lo {
				v = lo
			}
			if v > hi {
				v = hi
			}
			return float32(v)
		}
	}))
	register("identity", copyKernel)
	register("dropout", copyKernel) // inference: dropout does nothing
}

// unaryKernel makes a kernel applying f(node) to every element of the one
// f32 input.
func unaryKernel(f func(n *ir.Node) func(float32) float32) Kernel {
	return func(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
		fn := f(n)
		x := in[0]
		y := newF32(x.Shape)
		for i, v := range x.F32() {
			y.F32()[i] = fn(v)
		}
		return one(y)
	}
}

// copyKernel returns a copy of its input, so that the output never aliases
// the input.
func copyKernel(_ *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	return one(in[0].Clone())
}

package runtime

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// Losses (ir/ops_loss.go).

func init() { register("nll_loss", nllLoss) }

// nllLoss picks -x at each target's class, weighted, in float64; the
// reductions sum in element order and round once. A target other than
// ignore_index outside [0, C) fails, naming its position.
func nllLoss(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	if in[0].DType == ir.F64 {
		return nllLossOf[float64](n, in)
	}
	return nllLossOf[float32](n, in)
}

func nllLossOf[T floatKind](n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x, t := in[0], in[1]
	w := floatsOf[T](optional(in, 2))
	C := x.Shape[1]
	inner := x.Shape[2:].NumElems()
	ignore := int64(n.Attrs.Int("ignore_index"))
	xs := ir.Elems[T](x)
	losses := make([]float64, t.Len())
	var sum, wsum float64
	for e := range losses {
		c := t.Int(e)
		if c == ignore {
			continue
		}
		if c < 0 || c >= int64(C) {
			return nil, fmt.Errorf("target %d at position %d is out of range for %d classes", c, e, C)
		}
		wt := 1.0
		if w != nil {
			wt = float64(w[c])
		}
		b, i := e/inner, e%inner
		losses[e] = -float64(xs[(b*C+int(c))*inner+i]) * wt
		sum += losses[e]
		wsum += wt
	}
	y := ir.NewTensor(x.DType, n.Outputs[0].Type.Shape)
	ys := ir.Elems[T](y)
	switch n.Attrs.String("reduction") {
	case "none":
		for e, l := range losses {
			ys[e] = T(l)
		}
	case "sum":
		ys[0] = T(sum)
	default:
		ys[0] = T(sum / wsum)
	}
	return one(y)
}

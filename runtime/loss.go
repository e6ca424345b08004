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
	x, t := in[0], in[1]
	var w []float32
	if len(in) > 2 && in[2] != nil {
		w = in[2].F32()
	}
	C := x.Shape[1]
	inner := x.Shape[2:].NumElems()
	ignore := int64(n.Attrs.Int("ignore_index"))
	xs := x.F32()
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
	y := newF32(n.Outputs[0].Type.Shape)
	ys := y.F32()
	switch n.Attrs.String("reduction") {
	case "none":
		for e, l := range losses {
			ys[e] = float32(l)
		}
	case "sum":
		ys[0] = float32(sum)
	default:
		ys[0] = float32(sum / wsum)
	}
	return one(y)
}

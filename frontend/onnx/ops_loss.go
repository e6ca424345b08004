package onnx

import (
	"github.com/dlcompiler/dlc/ir"
)

// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (ir/ops_loss.go).

func init() {
	opTable["NegativeLogLikelihoodLoss"] = opConv{2, nil, nllLoss(false)}
	opTable["SoftmaxCrossEntropyLoss"] = opConv{2, nil, nllLoss(true)}
}

// nllLoss maps NegativeLogLikelihoodLoss, and SoftmaxCrossEntropyLoss as
// log_softmax over the class axis 1 (its optional log_prob output)
// followed by the same nll_loss. Without ignore_index no target is
// ignored: torch's -100 is never a class.
func nllLoss(softmax bool) func(c *nctx) error {
	return func(c *nctx) error {
		x := c.in(0)
		if !ir.F32F64.Has(x.typ().DType) {
			return unsup("%s of %s tensors is not supported (f32 and f64 only)", c.n.opType, dtName(x.elem))
		}
		red, err := c.str("reduction", "mean")
		if err != nil {
			return err
		}
		ignore, err := c.int("ignore_index", -100)
		if err != nil {
			return err
		}
		if softmax {
			if x, err = c.emit1("log_softmax", "log_prob", []*val{x}, ir.Attrs{"axis": 1}); err != nil {
				return err
			}
			c.set(1, x)
		}
		ins := []*val{x, c.in(1)}
		if w := c.in(2); w != nil {
			ins = append(ins, w)
		}
		y, err := c.emit1("nll_loss", "", ins, ir.Attrs{"reduction": red, "ignore_index": ignore})
		if err != nil {
			return err
		}
		c.set(0, y)
		return nil
	}
}

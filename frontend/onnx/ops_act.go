package onnx

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// Activations (ir/ops_act.go). Each ONNX attribute becomes the ir
// attribute of the same meaning, taking ONNX's default when absent (which
// can differ from PyTorch's: HardSigmoid's alpha is 0.2 in ONNX, 1/6 in
// torch).

// actAttr maps one ONNX attribute to an ir attribute.
type actAttr struct {
	onnx, ir string
	def      float64
}

func init() {
	for onnxName, m := range map[string]struct {
		op    string
		attrs []actAttr
	}{
		"HardSigmoid": {"hardsigmoid", []actAttr{{"alpha", "alpha", 0.2}, {"beta", "beta", 0.5}}},
		"HardSwish":   {"hardswish", nil},
		"Elu":         {"elu", []actAttr{{"alpha", "alpha", 1}}},
		// ONNX's defaults are SELU's constants rounded to float32.
		"Selu":     {"selu", []actAttr{{"alpha", "alpha", float64(float32(ir.SeluAlpha))}, {"gamma", "gamma", float64(float32(ir.SeluGamma))}}},
		"Celu":     {"celu", []actAttr{{"alpha", "alpha", 1}}},
		"Softplus": {"softplus", nil}, // beta 1; above torch's threshold 20 the rounded results are x anyway
		"Softsign": {"softsign", nil},
		"Mish":     {"mish", nil},
		"Swish":    {"silu", []actAttr{{"alpha", "alpha", 1}}},
		// ThresholdedRelu is x if x > alpha else 0.
		"ThresholdedRelu": {"threshold", []actAttr{{"alpha", "threshold", 1}}},
		"Shrink":          {"shrink", []actAttr{{"lambd", "lambd", 0.5}, {"bias", "bias", 0}}},
	} {
		opTable[onnxName] = opConv{1, nil, activation(m.op, m.attrs)}
	}
	opTable["PRelu"] = opConv{2, nil, prelu}
}

func activation(op string, attrs []actAttr) func(c *nctx) error {
	return func(c *nctx) error {
		a := ir.Attrs{}
		for _, at := range attrs {
			v, err := c.float(at.onnx, at.def)
			if err != nil {
				return err
			}
			a[at.ir] = v
		}
		if dt, set := c.in(0).typ().DType, ir.Lookup(op).Unary.DTypes(); !set.Has(dt) {
			return unsup("%s of %v tensors is not supported (%v only)", c.n.opType, dt, set)
		}
		y, err := c.emit1(op, "", []*val{c.in(0)}, a)
		if err != nil {
			return err
		}
		c.set(0, y)
		return nil
	}
}

// prelu maps PRelu(X, slope): the slope broadcasts to X (one way: the
// result has X's shape).
func prelu(c *nctx) error {
	x, s := c.in(0), c.in(1)
	if dt := x.typ().DType; !ir.F32F64.Has(dt) || s.typ().DType != dt {
		return unsup("PRelu of %v and %v tensors is not supported (f32 or f64, both the same)", dt, s.typ().DType)
	}
	if out, err := ir.BroadcastShapes(x.shape(), s.shape()); err != nil || !out.Equal(x.shape()) {
		return fmt.Errorf("slope %v does not broadcast to X %v", s.shape(), x.shape())
	}
	y, err := c.emit1("prelu", "", []*val{x, s}, nil)
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

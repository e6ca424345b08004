package onnx

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// SwiGLU (opset 26) and CausalConvWithState (opset 27) as the ir ops of
// their function bodies: silu and mul; concat, a depthwise conv, silu
// and a gather of the new state.

func init() {
	halves := ir.SetOf(ir.F16, ir.BF16)
	opTable["SwiGLU"] = opConv{2, nil, swiGLU}
	opTable["CausalConvWithState"] = opConv{2, checkCausalConv, viaF32(causalConv, halves)}
}

// swiGLU is a·sigmoid(alpha·a)·b.
func swiGLU(c *nctx) error {
	alpha, err := c.float("alpha", 1)
	if err != nil {
		return err
	}
	s, err := c.emit1("silu", "swish", []*val{c.in(0)}, ir.Attrs{"alpha": alpha})
	if err != nil {
		return err
	}
	y, err := c.binary("mul", s, c.in(1), "")
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

func checkCausalConv(c *nctx) error {
	act, err := c.str("activation", "none")
	if err != nil {
		return err
	}
	if act != "none" && act != "silu" && act != "swish" {
		return unsup("activation %q is not none, silu or swish", act)
	}
	return nil
}

// causalConv runs a depthwise 1-D convolution of kernel k over the input
// [B, C, L] left-padded with past_state [B, C, k-1] (zeros when absent),
// plus the bias, then the activation; present_state is the last k-1
// steps of the padded input.
func causalConv(c *nctx) error {
	x, w, b, past := c.in(0), c.in(1), c.in(2), c.in(3)
	xs, ws := x.shape(), w.shape()
	if len(xs) != 3 || len(ws) != 3 || ws[0] != xs[1] || ws[1] != 1 || ws[2] < 1 {
		return fmt.Errorf("input %v must be [B, C, L] and weight %v [C, 1, k]", xs, ws)
	}
	B, C, L, k := xs[0], xs[1], xs[2], ws[2]
	if past == nil {
		past = c.known(ir.NewTensor(x.typ().DType, ir.Shape{B, C, k - 1}), x.elem, false)
	} else if want := (ir.Shape{B, C, k - 1}); !past.shape().Equal(want) {
		return fmt.Errorf("past_state %v must be %v", past.shape(), want)
	}
	padded, err := c.concat([]*val{past, x}, 2, "padded")
	if err != nil {
		return err
	}
	y, err := c.emit1("conv", "", []*val{padded, w, b}, ir.Attrs{"strides": []int{1}, "pads": []int{0, 0}, "dilations": []int{1}, "groups": C})
	if err != nil {
		return err
	}
	if act, _ := c.str("activation", "none"); act != "none" {
		if y, err = c.emit1("silu", "act", []*val{y}, ir.Attrs{"alpha": 1.0}); err != nil {
			return err
		}
	}
	c.set(0, y)
	if k == 1 {
		c.set(1, c.known(ir.NewTensor(x.typ().DType, ir.Shape{B, C, 0}), x.elem, false))
		return nil
	}
	idx := make([]int, k-1)
	for i := range idx {
		idx[i] = L + i
	}
	state, err := c.gather(padded, c.known(i64s(idx...), dtInt64, false), 2, "state")
	if err != nil {
		return err
	}
	c.set(1, state)
	return nil
}

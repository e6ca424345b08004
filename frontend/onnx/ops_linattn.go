package onnx

import (
	"github.com/dlcompiler/dlc/ir"
)

// LinearAttention (opset 26) onto ir linear_attention, which takes
// ONNX's 3-D layouts as they are; f16 and bf16 compute in f32 as ONNX's
// reference does, their outputs rounded back. erase_gate and a
// past_state of another dtype than the query are refused.

func init() {
	opTable["LinearAttention"] = opConv{3, nil, viaF32(linearAttention, ir.SetOf(ir.F16, ir.BF16))}
}

func linearAttention(c *nctx) error {
	if c.in(6) != nil {
		return unsup("LinearAttention's erase_gate input is not supported")
	}
	attrs := ir.Attrs{}
	for _, a := range []string{"q_num_heads", "kv_num_heads"} {
		v, err := c.int(a, 0)
		if err != nil {
			return err
		}
		attrs[a] = v
	}
	scale, err := c.float("scale", 0)
	if err != nil {
		return err
	}
	rule, err := c.str("update_rule", "gated_delta")
	if err != nil {
		return err
	}
	attrs["scale"], attrs["update_rule"] = scale, rule
	ins := make([]*val, 6)
	for i := range ins {
		ins[i] = c.in(i)
	}
	ys, err := c.emit("linear_attention", "", ins, attrs)
	if err != nil {
		return err
	}
	for i, y := range ys {
		c.set(i, y)
	}
	return nil
}

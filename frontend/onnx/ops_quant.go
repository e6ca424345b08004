package onnx

import (
	"fmt"
	"slices"

	"github.com/dlcompiler/dlc/ir"
)

// The low-precision casts and the quantization ops (ir/ops_quant.go):
// QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, QLinearMatMul,
// QLinearConv, MatMulInteger, ConvInteger and BitCast.

// castMode converts x to dt by Cast or CastLike, with their saturate
// (opset 19) and round_mode (opset 24) attributes, which only concern the
// low-precision float results.
func (c *nctx) castMode(x *val, dt ir.DType) (*val, error) {
	attrs := ir.Attrs{"to": dt.String()}
	sat, err := c.int("saturate", 1)
	if err != nil {
		return nil, err
	}
	if sat == 0 && ir.LowFloats.Has(dt) {
		attrs["no_saturate"] = true
	}
	mode, err := c.str("round_mode", "up")
	if err != nil {
		return nil, err
	}
	if !slices.Contains(ir.E8M0Modes, mode) {
		return nil, fmt.Errorf("round_mode %q is not one of %v", mode, ir.E8M0Modes)
	}
	if mode != "up" && dt == ir.F8E8M0 {
		attrs["round"] = mode
	}
	return c.castWith(x, dt, attrs)
}

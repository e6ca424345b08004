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

func init() {
	opTable["QuantizeLinear"] = opConv{2, nil, quantizeLinear}
	opTable["DequantizeLinear"] = opConv{2, nil, dequantizeLinear}
	opTable["DynamicQuantizeLinear"] = opConv{1, nil, dynamicQuantizeLinear}
	opTable["MatMulInteger"] = opConv{2, nil, matmulInteger}
	opTable["ConvInteger"] = opConv{2, checkConv, convInteger}
	opTable["QLinearMatMul"] = opConv{8, nil, qlinearMatMul}
	opTable["QLinearConv"] = opConv{8, checkConv, qlinearConv}
	opTable["BitCast"] = opConv{1, nil, bitCast}
}

// dtypeAttr reads a dtype attribute (output_dtype, precision): def when
// absent or 0.
func (c *nctx) dtypeAttr(name string, def ir.DType) (ir.DType, error) {
	v, err := c.int(name, 0)
	if err != nil || v == 0 {
		return def, err
	}
	dt, err := irDType(int32(v))
	if err != nil {
		return 0, unsup("%s %s: %v", name, dtName(int32(v)), err)
	}
	return dt, nil
}

// quantAttrs reads axis and block_size (opset 21) of QuantizeLinear and
// DequantizeLinear.
func (c *nctx) quantAttrs() (ir.Attrs, error) {
	axis, err := c.int("axis", 1)
	if err != nil {
		return nil, err
	}
	block, err := c.int("block_size", 0)
	if err != nil {
		return nil, err
	}
	a := ir.Attrs{"axis": axis}
	if block != 0 {
		a["block_size"] = block
	}
	return a, nil
}

// quantizeLinear maps QuantizeLinear onto ir quantize: the output dtype
// is the zero point's, else output_dtype's, else uint8.
func quantizeLinear(c *nctx) error {
	x, zp := c.in(0), c.in(2)
	if !ir.Floats.Has(x.typ().DType) {
		return unsup("QuantizeLinear of %s x is not supported (float types only)", dtName(x.elem))
	}
	attrs, err := c.quantAttrs()
	if err != nil {
		return err
	}
	to, err := c.dtypeAttr("output_dtype", ir.U8)
	if err != nil {
		return err
	}
	if zp != nil {
		if c.has("output_dtype") && to != zp.typ().DType {
			return fmt.Errorf("output_dtype %v differs from the zero point's %v", to, zp.typ().DType)
		}
		to = zp.typ().DType
	}
	if !ir.QuantOut.Has(to) {
		return unsup("QuantizeLinear to %s is not supported (dlc quantizes to %v)", dtName(onnxType(to)), ir.QuantOut)
	}
	attrs["to"] = to.String()
	if sat, err := c.int("saturate", 1); err != nil {
		return err
	} else if sat == 0 && ir.LowFloats.Has(to) {
		attrs["no_saturate"] = true
	}
	if p, err := c.dtypeAttr("precision", 0); err != nil {
		return err
	} else if p != 0 {
		attrs["precision"] = p.String()
	}
	y, err := c.emit1("quantize", "", []*val{x, c.in(1), zp}, attrs)
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

// dequantizeLinear maps DequantizeLinear onto ir dequantize: the result
// has the scale's dtype, or output_dtype's (opset 23).
func dequantizeLinear(c *nctx) error {
	attrs, err := c.quantAttrs()
	if err != nil {
		return err
	}
	to, err := c.dtypeAttr("output_dtype", c.in(1).typ().DType)
	if err != nil {
		return err
	}
	attrs["to"] = to.String()
	y, err := c.emit1("dequantize", "", []*val{c.in(0), c.in(1), c.in(2)}, attrs)
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

func dynamicQuantizeLinear(c *nctx) error {
	out, err := c.emit("dynamic_quantize", "", []*val{c.in(0)}, nil)
	if err != nil {
		return err
	}
	for i, y := range out {
		c.set(i, y)
	}
	return nil
}

func matmulInteger(c *nctx) error {
	y, err := c.emit1("matmul_integer", "", []*val{c.in(0), c.in(1), c.in(2), c.in(3)}, nil)
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

// convIntegerAttrs resolves the window of an integer convolution of x by
// w (group, strides, pads with auto_pad, dilations), as Conv's.
func (c *nctx) convIntegerAttrs(x, w *val) (ir.Attrs, error) {
	ws := w.shape()
	if len(ws) < 3 {
		return nil, fmt.Errorf("weight %v must have spatial dims", ws)
	}
	group, err := c.int("group", 1)
	if err != nil {
		return nil, err
	}
	strides, pads, dil, err := c.window(x.shape(), []int(ws[2:].Clone()))
	if err != nil {
		return nil, err
	}
	return ir.Attrs{"strides": strides, "pads": pads, "dilations": dil, "groups": group}, nil
}

func convInteger(c *nctx) error {
	x, w := c.in(0), c.in(1)
	attrs, err := c.convIntegerAttrs(x, w)
	if err != nil {
		return err
	}
	y, err := c.emit1("conv_integer", "", []*val{x, w, c.in(2), c.in(3)}, attrs)
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

// requant emits ir requant of acc to the dtype of the zero point.
func (c *nctx) requant(acc, aScale, bScale, yScale, yZP *val, axis int) error {
	y, err := c.emit1("requant", "requant", []*val{acc, aScale, bScale, yScale, yZP}, ir.Attrs{"axis": axis, "to": yZP.typ().DType.String()})
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

// qlinearMatMul is MatMulInteger of a and b then requant by a_scale ·
// b_scale / y_scale (ONNX's reference order of operations).
func qlinearMatMul(c *nctx) error {
	acc, err := c.emit1("matmul_integer", "acc", []*val{c.in(0), c.in(3), c.in(2), c.in(5)}, nil)
	if err != nil {
		return err
	}
	return c.requant(acc, c.in(1), c.in(4), c.in(6), c.in(7), -1)
}

// qlinearConv is ConvInteger, plus the i32 bias B per output channel,
// then requant by x_scale · w_scale / y_scale.
func qlinearConv(c *nctx) error {
	x, w := c.in(0), c.in(3)
	attrs, err := c.convIntegerAttrs(x, w)
	if err != nil {
		return err
	}
	acc, err := c.emit1("conv_integer", "acc", []*val{x, w, c.in(2), c.in(5)}, attrs)
	if err != nil {
		return err
	}
	if b := c.in(8); b != nil {
		shape := make([]int, len(acc.shape()))
		for i := range shape {
			shape[i] = 1
		}
		shape[1] = -1
		rb, err := c.emit1("reshape", "bias", []*val{b}, ir.Attrs{"shape": shape})
		if err != nil {
			return err
		}
		if acc, err = c.emit1("add", "bias_add", []*val{acc, rb}, nil); err != nil {
			return err
		}
	}
	return c.requant(acc, c.in(1), c.in(4), c.in(6), c.in(7), 1)
}

func bitCast(c *nctx) error {
	to, err := c.dtypeAttr("to", 0)
	if err != nil {
		return err
	}
	if to == 0 {
		return fmt.Errorf("attribute to is required")
	}
	y, err := c.emit1("bitcast", "", []*val{c.in(0)}, ir.Attrs{"to": to.String()})
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

package onnx

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// Pow, and the variadic Max, Min, Sum and Mean as chains of the binary
// maximum, minimum and add (ir/ops_act.go, ir/ops_elementwise.go), which
// broadcast step by step to the broadcast of all the inputs.

func init() {
	opTable["Pow"] = opConv{2, nil, pow}
	for onnxName, op := range map[string]string{"Max": "maximum", "Min": "minimum", "Sum": "add", "Mean": "add"} {
		opTable[onnxName] = opConv{1, nil, variadic(onnxName, op)}
	}
}

// pow maps Pow(X, Y) on a float X; an integer exponent is converted to
// float (exactly, below 2^24), as PyTorch promotes it.
func pow(c *nctx) error {
	x, y := c.in(0), c.in(1)
	if dt := x.typ().DType; dt != ir.F32 {
		return unsup("Pow with a base of type %s is not supported (f32 only)", dtName(x.elem))
	}
	if y.typ().DType != ir.F32 {
		if y.c != nil {
			y = c.known(ir.Convert(y.c, ir.F32), dtFloat, y.weight)
		} else {
			var err error
			if y, err = c.emit1("cast", "exponent", []*val{y}, ir.Attrs{"to": "f32"}); err != nil {
				return err
			}
		}
	}
	z, err := c.binary("pow", x, y, "")
	if err != nil {
		return err
	}
	c.set(0, z)
	return nil
}

// variadic folds the inputs left to right with op; Mean divides the sum
// by the number of inputs.
func variadic(onnxName, op string) func(c *nctx) error {
	return func(c *nctx) error {
		var xs []*val
		for i := range c.n.inputs {
			if x := c.in(i); x != nil {
				xs = append(xs, x)
			}
		}
		if len(xs) == 0 {
			return fmt.Errorf("%s needs at least one input", onnxName)
		}
		y := xs[0]
		for i, x := range xs[1:] {
			var err error
			if y, err = c.binary(op, y, x, fmt.Sprint(i+1)); err != nil {
				return err
			}
		}
		if onnxName == "Mean" && len(xs) > 1 {
			if y.typ().DType != ir.F32 {
				return unsup("Mean of %s tensors is not supported (f32 only)", dtName(y.elem))
			}
			var err error
			if y, err = c.binary("div", y, c.known(scalarF32(float64(len(xs))), dtFloat, false), "mean"); err != nil {
				return err
			}
		}
		c.set(0, y)
		return nil
	}
}

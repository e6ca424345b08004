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

// pow maps Pow(X, Y). A float X (f32, f64) takes Y converted to its
// dtype (exactly for integers below 2^24), as PyTorch promotes it. An
// integer X with an integer Y is integer power (wrapping, as numpy); with
// a float Y it is computed in float64 and truncated back to X's dtype,
// as ONNX's reference (numpy's float power, then astype).
func pow(c *nctx) error {
	x, y := c.in(0), c.in(1)
	dt := x.typ().DType
	if !ir.Lookup("pow").Inputs[0].DTypes.Has(dt) {
		return unsup("Pow with a base of type %s is not supported (%v only)", dtName(x.elem), ir.Lookup("pow").Inputs[0].DTypes)
	}
	if dt.IsInt() && y.typ().DType.IsFloat() {
		xf, err := c.castTo(x, ir.F64)
		if err != nil {
			return err
		}
		yf, err := c.castTo(y, ir.F64)
		if err != nil {
			return err
		}
		z, err := c.binary("pow", xf, yf, "")
		if err != nil {
			return err
		}
		if z, err = c.castTo(z, dt); err != nil {
			return err
		}
		c.set(0, z)
		return nil
	}
	y, err := c.castTo(y, dt)
	if err != nil {
		return err
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

package onnx

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// Casts, comparisons, logic and bitwise ops, Where, Mod, IsNaN and IsInf
// (ir/ops_cast.go, ir/ops_logic.go). Each is folded when its inputs are
// known at import, with the interpreter's kernel, so shape computations
// that compare or select (Equal → Where → Reshape) disappear.

func init() {
	opTable["CastLike"] = opConv{2, nil, castLike}
	for onnxName, op := range map[string]string{
		"Equal": "eq", "Less": "lt", "Greater": "gt", "LessOrEqual": "le", "GreaterOrEqual": "ge",
		"And": "logical_and", "Or": "logical_or", "Xor": "logical_xor", "Not": "logical_not",
		"BitwiseAnd": "bitwise_and", "BitwiseOr": "bitwise_or", "BitwiseXor": "bitwise_xor", "BitwiseNot": "bitwise_not",
		"Where": "where", "IsNaN": "isnan",
	} {
		n := len(ir.Lookup(op).Inputs)
		opTable[onnxName] = opConv{n, nil, logic(func(*nctx) (string, ir.Attrs, error) { return op, nil, nil })}
	}
	opTable["BitShift"] = opConv{2, checkBitShift, logic(bitShift)}
	opTable["IsInf"] = opConv{1, nil, logic(isInf)}
	opTable["Mod"] = opConv{2, checkMod, logic(mod)}
}

// castLike is Cast to the dtype of its second input, whose values are
// never read.
func castLike(c *nctx) error {
	y, err := c.castMode(c.in(0), c.in(1).typ().DType)
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

// logic imports a node as the ir op (and attributes) pick gives,
// folding it when every input is known.
func logic(pick func(c *nctx) (string, ir.Attrs, error)) func(c *nctx) error {
	return func(c *nctx) error {
		op, attrs, err := pick(c)
		if err != nil {
			return err
		}
		var ins []*val
		for i := range c.n.inputs {
			ins = append(ins, c.in(i))
		}
		y, err := c.fold(op, attrs, ins)
		if err != nil {
			return err
		}
		c.set(0, y)
		return nil
	}
}

// fold applies op to ins: evaluated now when all are known and the
// result is small, else an ir node.
func (c *nctx) fold(op string, attrs ir.Attrs, ins []*val) (*val, error) {
	if allKnown(ins...) {
		out := ir.Shape{}
		ts := make([]*ir.Tensor, len(ins))
		for i, x := range ins {
			var err error
			if out, err = ir.BroadcastShapes(out, x.shape()); err != nil {
				return nil, err
			}
			ts[i] = x.c
		}
		if out.NumElems() <= maxFold {
			if err := checkDTypes(op, ins); err != nil {
				return nil, err
			}
			res, err := evalKnown(op, attrs, ts...)
			if err != nil {
				return nil, err
			}
			weight := false
			for _, x := range ins {
				weight = weight || x.weight
			}
			return &val{name: ins[0].name, c: res, elem: elemOf(res.DType), weight: weight, key: derivedKey(op, attrs, ins...)}, nil
		}
	}
	return c.emit1(op, "", ins, attrs)
}

func checkBitShift(c *nctx) error {
	d, err := c.str("direction", "")
	if err != nil {
		return err
	}
	if d != "LEFT" && d != "RIGHT" {
		return fmt.Errorf("direction %q is not LEFT or RIGHT", d)
	}
	return nil
}

func bitShift(c *nctx) (string, ir.Attrs, error) {
	if d, _ := c.str("direction", ""); d == "LEFT" {
		return "bitwise_left_shift", nil, nil
	}
	return "bitwise_right_shift", nil, nil
}

func isInf(c *nctx) (string, ir.Attrs, error) {
	pos, err := c.int("detect_positive", 1)
	if err != nil {
		return "", nil, err
	}
	neg, err := c.int("detect_negative", 1)
	if err != nil {
		return "", nil, err
	}
	return "isinf", ir.Attrs{"detect_positive": pos != 0, "detect_negative": neg != 0}, nil
}

func checkMod(c *nctx) error {
	if f, err := c.int("fmod", 0); err != nil {
		return err
	} else if f != 0 && f != 1 {
		return fmt.Errorf("fmod %d is not 0 or 1", f)
	}
	return nil
}

// mod is Mod: fmod=1 takes the sign of the dividend (C fmod), fmod=0 that
// of the divisor (Python's %). ONNX asks fmod=1 of floats; dlc computes
// either rule on every dtype.
func mod(c *nctx) (string, ir.Attrs, error) {
	if f, _ := c.int("fmod", 0); f == 1 {
		return "fmod", nil, nil
	}
	return "remainder", nil, nil
}

package dl

import (
	"math"

	"github.com/dlcompiler/dlc/ir"
)

// Comparison, logic and bitwise layers, where, isnan, isinf, fmod and
// remainder (ir/ops_logic.go), spelled as torch's functions:
// eq(a, b) or a | eq(b), gt(x, 0), where(cond, x, y), isinf(x,
// detect_negative=false). A number operand takes the tensor's dtype.

// logicLayers are the layers named as their op; format.go writes them
// back the same way (their attributes as keywords, as tableOps).
var logicLayers = []string{"eq", "lt", "gt", "le", "ge", "logical_and", "logical_or", "logical_xor", "logical_not",
	"bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift",
	"where", "isnan", "isinf", "fmod", "remainder"}

func init() {
	for _, op := range logicLayers {
		d := ir.Lookup(op)
		switch len(d.Inputs) {
		case 1:
			tableOp(d)
		case 2:
			def(&layerDef{name: op, inputs: -1, args: []argSpec{{name: "other", kind: aFloat, opt: true}},
				build: func(c *call) (val, error) { return buildLogic2(c, op) }})
		case 3:
			def(&layerDef{name: op, inputs: 3, build: func(c *call) (val, error) { return c.node(op, c.in, nil) }})
		}
	}
}

// buildLogic2 is a two-operand layer: two tensors, or one and a number
// (other=), which becomes a scalar of the tensor's dtype.
func buildLogic2(c *call, op string) (val, error) {
	switch {
	case len(c.in) == 2 && !c.has("other"):
		return c.node(op, c.in, nil)
	case len(c.in) == 1 && c.has("other"):
		f := c.float("other")
		num := val{kind: vFloat, f: f}
		if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			num = val{kind: vInt, i: int64(f)}
		}
		return c.l.binaryNode(nil, c.pos, op, c.name, tensorVal(c.x()), num)
	}
	return val{}, c.errorf("takes two tensors, or a tensor and a number")
}

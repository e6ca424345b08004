package ir

import (
	"fmt"
	"math"
)

// Comparison, logic and bitwise ops, where, isnan, isinf, fmod and
// remainder (torch.eq, torch.logical_and, torch.where, ..., ONNX Equal,
// And, Where, Mod, ...). Their meaning is Go's operator on the operands'
// values (LogicOps), so the interpreter (runtime/logic.go) and generated
// code (codegen/logic.go) share it: comparisons with NaN are false,
// integer bitwise ops act on two's complement bits, shifts by the width or
// more give 0. They have no declarative Binary form (their results are
// bool, or they are integer-only), so the fusion pass leaves them alone.

// LogicOp is how one op of the family computes.
type LogicOp struct {
	// Go is the Go operator applied to the operand values ("<", "&&",
	// "^" for bitwise not); "" for where, isnan, isinf, fmod, remainder.
	Go string
	// Bool: the result is bool whatever the operands' dtype.
	Bool bool
}

// LogicOps lists the ops of the family by name.
var LogicOps = map[string]LogicOp{
	"eq": {"==", true}, "lt": {"<", true}, "gt": {">", true}, "le": {"<=", true}, "ge": {">=", true},
	"logical_and": {"&&", true}, "logical_or": {"||", true}, "logical_xor": {"!=", true}, "logical_not": {"!", true},
	"bitwise_and": {"&", false}, "bitwise_or": {"|", false}, "bitwise_xor": {"^", false}, "bitwise_not": {"^", false},
	"bitwise_left_shift": {"<<", false}, "bitwise_right_shift": {">>", false},
	"where": {}, "isnan": {"", true}, "isinf": {"", true}, "fmod": {}, "remainder": {},
}

// Unsigned is the set of unsigned integer dtypes (ONNX BitShift's).
var Unsigned = SetOf(U8, U16, U32, U64)

// FloatRemainder is Python's (and torch.remainder's, numpy.remainder's)
// a mod b for floats: the sign of b, computed from the exact fmod; a zero
// result takes b's sign; b = 0 gives NaN.
func FloatRemainder(a, b float64) float64 {
	r := math.Mod(a, b)
	switch {
	case r == 0:
		return math.Copysign(0, b)
	case (r < 0) != (b < 0):
		return r + b
	}
	return r
}

// IntRemainder is Python's a mod b for integers (the sign of b), or
// C's (the sign of a: fmod) when trunc is set. A zero b is an error.
// MinInt64 mod -1 is 0.
func IntRemainder(a, b int64, trunc bool) (int64, error) {
	if b == 0 {
		return 0, fmt.Errorf("integer modulo by zero (%d %% 0)", a)
	}
	r := a % b // Go defines MinInt64 % -1 as 0
	if !trunc && r != 0 && (r < 0) != (b < 0) {
		r += b
	}
	return r, nil
}

// broadcastAll is the numpy broadcast of every input's shape.
func broadcastAll(n *Node) (Shape, error) {
	s := Shape{}
	for i := range n.Inputs {
		var err error
		if s, err = BroadcastShapes(s, in(n, i).Shape); err != nil {
			return nil, shapeErr("%s: inputs %s do not broadcast: %v", n.Op, n.Inputs[i].Name, err)
		}
	}
	return s, nil
}

// logicInfer is the shape rule of the family: the operands after the
// first (where's condition) share a dtype; the output has the broadcast
// shape and the operands' dtype, or bool.
func logicInfer(n *Node) ([]TensorType, error) {
	first := 0
	if n.Op == "where" {
		first = 1
	}
	dt := in(n, first).DType
	for i := first + 1; i < len(n.Inputs); i++ {
		if t := in(n, i); t.DType != dt {
			return nil, shapeErr("%s: operands have different dtypes: %v (%s) and %v (%s)", n.Op, in(n, first), n.Inputs[first].Name, t, n.Inputs[i].Name)
		}
	}
	s, err := broadcastAll(n)
	if err != nil {
		return nil, err
	}
	if LogicOps[n.Op].Bool {
		dt = Bool
	}
	return []TensorType{{dt, s}}, nil
}

// logicDef is one op of the family over inputs of the set dts.
func logicDef(name, doc string, dts DTypeSet, inputs ...string) *OpDef {
	d := &OpDef{
		Name: name, Doc: doc, Class: Broadcast, Pure: Pure, Stream: StreamPointwise,
		NoGrad:  "boolean or integer result, or piecewise: no gradient rule",
		Outputs: []string{"y"},
		Infer:   logicInfer,
	}
	if len(inputs) == 1 {
		d.Class = Injective // element-wise, but without a Unary form to fuse by
	}
	for _, s := range inputs {
		d.Inputs = append(d.Inputs, InputDef{Name: s, DTypes: dts})
	}
	// Same-dtype results may overwrite input 0 (the plan checks types).
	d.InPlace = !LogicOps[name].Bool && name != "where"
	return d
}

func init() {
	for _, c := range []struct{ name, doc string }{
		{"eq", "a == b"}, {"lt", "a < b"}, {"gt", "a > b"}, {"le", "a <= b"}, {"ge", "a >= b"},
	} {
		Register(logicDef(c.name, c.doc+" with numpy broadcasting, as bool; false when either is NaN; false < true (torch."+c.name+", ONNX Equal, Less, ...)", AnyDType, "a", "b"))
	}
	bools := SetOf(Bool)
	for _, c := range []struct{ name, doc string }{{"logical_and", "a and b"}, {"logical_or", "a or b"}, {"logical_xor", "a xor b"}} {
		Register(logicDef(c.name, c.doc+" of bool tensors with numpy broadcasting (torch."+c.name+", ONNX And, Or, Xor)", bools, "a", "b"))
	}
	Register(logicDef("logical_not", "not x, of a bool tensor (torch.logical_not, ONNX Not)", bools, "x"))
	for _, c := range []struct{ name, doc string }{{"bitwise_and", "a & b"}, {"bitwise_or", "a | b"}, {"bitwise_xor", "a ^ b"}} {
		Register(logicDef(c.name, c.doc+" of integer tensors with numpy broadcasting, on two's complement bits (torch."+c.name+", ONNX BitwiseAnd, ...)", Integers, "a", "b"))
	}
	Register(logicDef("bitwise_not", "~x, of an integer tensor (torch.bitwise_not, ONNX BitwiseNot)", Integers, "x"))
	Register(logicDef("bitwise_left_shift", "a << b of unsigned tensors with numpy broadcasting; a shift by the width or more gives 0 (ONNX BitShift LEFT)", Unsigned, "a", "b"))
	Register(logicDef("bitwise_right_shift", "a >> b of unsigned tensors with numpy broadcasting; a shift by the width or more gives 0 (ONNX BitShift RIGHT)", Unsigned, "a", "b"))
	w := logicDef("where", "x where condition, else y, with numpy broadcasting of all three (torch.where, ONNX Where)", AnyDType, "condition", "x", "y")
	w.Inputs[0].DTypes = bools
	w.Grad, w.NoGrad = &Grad{}, ""
	Register(w)
	Register(logicDef("isnan", "whether x is NaN, as bool (torch.isnan, ONNX IsNaN)", Floats, "x"))
	inf := logicDef("isinf", "whether x is +Inf (detect_positive) or -Inf (detect_negative), as bool (torch.isinf, ONNX IsInf)", Floats, "x")
	inf.Attrs = []AttrDef{
		{Name: "detect_positive", Kind: AttrBool, Default: true, Doc: "count +Inf"},
		{Name: "detect_negative", Kind: AttrBool, Default: true, Doc: "count -Inf"},
	}
	Register(inf)
	fmod := logicDef("fmod", "a mod b with the sign of a (C fmod; torch.fmod, ONNX Mod fmod=1), numpy broadcasting; float b = 0 gives NaN, an integer b = 0 is a run-time error", Numbers, "a", "b")
	rem := logicDef("remainder", "a mod b with the sign of b (Python %; torch.remainder, ONNX Mod fmod=0), numpy broadcasting; float b = 0 gives NaN, an integer b = 0 is a run-time error", Numbers, "a", "b")
	for _, d := range []*OpDef{fmod, rem} {
		d.Grad, d.NoGrad = &Grad{}, "" // of float operands
		Register(d)
	}
}

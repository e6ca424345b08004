package codegen

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// Comparison, logic and bitwise ops, where, isnan, isinf, fmod and
// remainder (ir/ops_logic.go): one emitter for the family, with numpy
// broadcasting through nested loops over the collapsed output shape. Each
// element is Go's operator on the operands' values (ir.LogicOps), as in
// the interpreter; f16 and bf16 compare and compute through their float32
// values, bool orders as 0 and 1. An integer fmod or remainder by a
// divisor known only at run time checks it and returns the interpreter's
// error instead of Go's panic.

func init() {
	for name := range ir.LogicOps {
		e := emitter{emit: emitLogic}
		if name == "fmod" || name == "remainder" {
			e.fails = func(n *ir.Node) bool { return !n.Inputs[0].Type.DType.IsFloat() && !n.Inputs[1].IsConst() }
		}
		register(name, e)
	}
	helperSource["remf64"] = `// remf64 is Python's a mod b for floats: the sign of b, from the exact
// fmod; a zero result takes b's sign (ir.FloatRemainder).
func remf64(a, b float64) float64 {
	r := @math.Mod(a, b)
	switch {
	case r == 0:
		return @math.Copysign(0, b)
	case (r < 0) != (b < 0):
		return r + b
	}
	return r
}`
	helperSource["remint"] = `// remint is Python's a mod b for signed integers: the sign of b
// (ir.IntRemainder); b is not 0.
func remint[T int8 | int16 | int32 | int64](a, b T) T {
	r := a % b
	if r != 0 && (r < 0) != (b < 0) {
		r += b
	}
	return r
}`
}

// emitLogic writes the loops of one op of the family.
func emitLogic(k *kctx) error {
	n := k.n
	out := k.outShape(0)
	strides := [][]int{out.Strides()}
	for i := range n.Inputs {
		strides = append(strides, bcastStrides(k.inShape(i), out))
	}
	if n.Op == "fmod" || n.Op == "remainder" {
		if err := checkModDivisor(k); err != nil {
			return err
		}
	}
	dims, st := collapse(out, strides)
	var err error
	loopNest(k, dims, st, func(idx []string) {
		args := make([]string, len(n.Inputs))
		for i := range args {
			args[i] = k.in[i] + "[" + idx[i+1] + "]"
		}
		y := k.out[0] + "[" + idx[0] + "]"
		if n.Op == "where" {
			k.l("if %s {\n%s = %s\n} else {\n%s = %s\n}", args[0], y, args[1], y, args[2])
			return
		}
		var e string
		if e, err = logicExpr(n, args); err == nil {
			k.l("%s = %s", y, e)
		}
	})
	return err
}

// logicExpr is the Go expression of one output element from the operand
// elements args (expressions of the inputs' storage type).
func logicExpr(n *ir.Node, args []string) (string, error) {
	dt := n.Inputs[0].Type.DType
	op := ir.LogicOps[n.Op].Go
	// val is operand i's value: f16 and bf16 through float32; bool as
	// itself for == != && || !, as 0 or 1 for the orderings.
	val := func(i int) string {
		if dt == ir.F16 || dt == ir.BF16 || dt == ir.Bool && (op == "<" || op == ">" || op == "<=" || op == ">=") {
			return computeExpr(dt, args[i])
		}
		return args[i]
	}
	switch n.Op {
	case "isnan":
		return fmt.Sprintf("%[1]s != %[1]s", val(0)), nil
	case "isinf":
		pos, neg := n.Attrs.Bool("detect_positive"), n.Attrs.Bool("detect_negative")
		switch {
		case pos && neg:
			return fmt.Sprintf("@math.IsInf(float64(%s), 0)", val(0)), nil
		case pos:
			return fmt.Sprintf("@math.IsInf(float64(%s), 1)", val(0)), nil
		case neg:
			return fmt.Sprintf("@math.IsInf(float64(%s), -1)", val(0)), nil
		}
		return "false", nil
	case "fmod", "remainder":
		return modExpr(n.Op == "fmod", dt, val(0), val(1)), nil
	}
	if len(args) == 1 {
		return op + val(0), nil
	}
	if op == "" {
		return "", fmt.Errorf("codegen: %s (%s): no operator", n.Name, n.Op)
	}
	return val(0) + " " + op + " " + val(1), nil
}

// modExpr is fmod (trunc) or remainder of a and b, values of dtype dt:
// floats in float64 (exact) rounded once to dt, integers natively (Go
// defines MinInt % -1 as 0, as the interpreter does).
func modExpr(trunc bool, dt ir.DType, a, b string) string {
	if dt.IsFloat() {
		f := fmt.Sprintf("@math.Mod(float64(%s), float64(%s))", a, b)
		if !trunc {
			f = fmt.Sprintf("remf64(float64(%s), float64(%s))", a, b)
		}
		if dt == ir.F64 {
			return f
		}
		return storeExpr(dt, f)
	}
	if trunc || dt.Kind() == ir.KindUint {
		return a + " % " + b
	}
	return "remint(" + a + ", " + b + ")"
}

// checkModDivisor refuses an integer fmod or remainder by a constant
// holding a zero, and, for a divisor known only at run time, emits a check
// that returns the interpreter's error instead of Go's panic.
func checkModDivisor(k *kctx) error {
	d := k.n.Inputs[1]
	if d.Type.DType.IsFloat() {
		return nil
	}
	if d.IsConst() {
		for i := range d.Data.Len() {
			if d.Data.Int(i) == 0 {
				return k.errorf("integer modulo by zero: divisor %s is 0 at element %d", d.Name, i)
			}
		}
		return nil
	}
	k.l("for i, v := range %s {", k.in[1])
	k.l("if v == 0 {\nreturn @fmt.Errorf(\"layer %s: integer modulo by zero (divisor element %%d is 0)\", i)\n}", k.n.Name)
	k.l("}")
	return nil
}

package codegen

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// Element-wise, broadcasting and view ops, from the op table: one
// emitter serves every op with an ir.Unary form (its Go template in one
// flat loop over constant bounds), one every op with an ir.Binary form
// (with broadcasting, nested loops over the collapsed output shape), and
// one every view. A new element-wise op needs no code here.

func init() {
	for _, d := range ir.Ops() {
		switch {
		case d.Unary != nil:
			register(d.Name, emitter{emit: emitUnary})
		case d.Binary != nil:
			e := emitter{emit: emitBinary}
			if d.Binary.IntZeroFails {
				e.fails = intDivFails
			}
			register(d.Name, e)
		case d.View:
			register(d.Name, emitter{emit: func(k *kctx) error { k.l("*y = *x"); return nil }})
		}
	}
}

// emitUnary applies the op's template to every element: Go on f32, Go64
// on the other floats (f16 and bf16 widened, rounded once on the way
// back), GoInt on integers widened to int64 and wrapped back, as the
// interpreter computes them; f32 ops the Act kernel has call it
// instead (act_simd.go).
func emitUnary(k *kctx) error {
	u, dt := k.n.Def().Unary, k.n.Out().Type.DType
	if dt == ir.F32 {
		if call := actCall(k.n.Op, k.n.Attrs, "x[:]", "", "y[:]"); call != "" {
			k.l("%s", call)
			return nil
		}
	}
	var expr string
	switch {
	case dt == ir.F32:
		expr = u.Go("v", k.n.Attrs)
	case dt == ir.F64:
		expr = u.Go64("v", k.n.Attrs)
	case dt.IsFloat():
		expr = storeExpr(dt, u.Go64("float64("+computeExpr(dt, "v")+")", k.n.Attrs))
	default:
		expr = elemType(dt) + "(" + u.GoInt("int64(v)", k.n.Attrs) + ")"
	}
	k.l("for i := range %d {", k.outShape(0).NumElems())
	k.l("v := x[i]")
	k.l("y[i] = %s", expr)
	k.l("}")
	return nil
}

// bcastStrides gives the element strides of a shape broadcast to out: 0
// along broadcast axes.
func bcastStrides(in, out ir.Shape) []int {
	st := make([]int, len(out))
	is := in.Strides()
	for i := range out {
		j := len(in) - len(out) + i
		if j >= 0 && in[j] != 1 {
			st[i] = is[j]
		}
	}
	return st
}

// collapse merges adjacent axes along which every operand is contiguous
// (or broadcast), so a broadcast add of [N,C,H,W] + [1,C,1,1] becomes
// three loops.
func collapse(dims []int, strides [][]int) ([]int, [][]int) {
	var d []int
	s := make([][]int, len(strides))
	for i, n := range dims {
		if n == 1 {
			continue
		}
		if len(d) > 0 {
			ok := true
			for k := range strides {
				last := s[k][len(s[k])-1]
				if last != strides[k][i]*n {
					ok = false
				}
			}
			if ok {
				d[len(d)-1] *= n
				for k := range strides {
					s[k][len(s[k])-1] = strides[k][i]
				}
				continue
			}
		}
		d = append(d, n)
		for k := range strides {
			s[k] = append(s[k], strides[k][i])
		}
	}
	if len(d) == 0 {
		d = []int{1}
		for k := range s {
			s[k] = []int{0}
		}
	}
	return d, s
}

// loopNest emits nested loops over dims and calls inner with one index
// expression per operand (strides[k] gives operand k's strides).
func loopNest(k *kctx, dims []int, strides [][]int, inner func(idx []string)) {
	idx := make([]string, len(strides))
	for i, n := range dims {
		v := fmt.Sprintf("i%d", i)
		used := false
		for o := range strides {
			used = used || strides[o][i] != 0
		}
		if used {
			k.l("for %s := range %d {", v, n)
		} else {
			k.l("for range %d {", n)
		}
		for o := range strides {
			switch st := strides[o][i]; {
			case st == 0:
			case idx[o] == "":
				idx[o] = term(v, st)
			default:
				idx[o] += " + " + term(v, st)
			}
		}
	}
	for o := range idx {
		if idx[o] == "" {
			idx[o] = "0"
		}
	}
	inner(idx)
	for range dims {
		k.l("}")
	}
}

func term(v string, st int) string {
	if st == 1 {
		return v
	}
	return fmt.Sprintf("%s*%d", v, st)
}

// intDivFails reports whether an integer op whose Binary form has
// IntZeroFails (division) can meet a zero divisor
// at run time: its divisor is not a constant (a constant one with a zero
// is refused when generating, by checkIntDiv).
func intDivFails(n *ir.Node) bool {
	return n.Out().Type.DType.IsInt() && !n.Inputs[1].IsConst()
}

// checkIntDiv refuses an integer division by a constant holding a zero,
// and, for a divisor known only at run time, emits a check that returns
// the interpreter's error instead of Go's divide-by-zero panic.
// MinInt64 / -1 needs nothing: Go defines it as MinInt64, as the
// interpreter does.
func checkIntDiv(k *kctx) error {
	d := k.n.Inputs[1]
	if d.IsConst() {
		for i := range d.Data.Len() {
			if d.Data.Int(i) == 0 {
				return k.errorf("integer division by zero: divisor %s is 0 at element %d", d.Name, i)
			}
		}
		return nil
	}
	k.l("for i, v := range x1 {")
	k.l("if v == 0 {\nreturn @fmt.Errorf(\"layer %s: integer division by zero (divisor element %%d is 0)\", i)\n}", k.n.Name)
	k.l("}")
	return nil
}

// emitBinary combines the operands with the op's template, over one
// flat loop when neither broadcasts, else nested loops.
func emitBinary(k *kctx) error {
	def := k.n.Def().Binary
	op := def.Go
	out := k.outShape(0)
	a, b := k.inShape(0), k.inShape(1)
	dt := k.n.Out().Type.DType
	switch {
	case dt == ir.F64 && def.Go64 != nil:
		op = def.Go64
	case dt.IsInt() && def.GoInt != nil:
		op = func(x, y string) string {
			return elemType(dt) + "(" + def.GoInt("int64("+x+")", "int64("+y+")") + ")"
		}
	case dt == ir.F16 || dt == ir.BF16:
		// Computed in float32 and rounded to the dtype: the same as the
		// interpreter's float64 rounded once, float32 having more than
		// twice their precision (double rounding is then innocuous for
		// + - * /).
		op = func(x, y string) string {
			return storeExpr(dt, "float64("+def.Go(computeExpr(dt, x), computeExpr(dt, y))+")")
		}
	}
	if def.IntZeroFails && dt.IsInt() {
		if err := checkIntDiv(k); err != nil {
			return err
		}
	}
	if a.Equal(out) && b.Equal(out) {
		k.l("for i := range %d {", out.NumElems())
		k.l("y[i] = %s", op("x0[i]", "x1[i]"))
		k.l("}")
		return nil
	}
	if b.NumElems() == 1 && a.Equal(out) {
		k.l("bv := x1[0]")
		k.l("for i := range %d {", out.NumElems())
		k.l("y[i] = %s", op("x0[i]", "bv"))
		k.l("}")
		return nil
	}
	dims, st := collapse(out, [][]int{out.Strides(), bcastStrides(a, out), bcastStrides(b, out)})
	loopNest(k, dims, st, func(idx []string) {
		k.l("y[%s] = %s", idx[0], op("x0["+idx[1]+"]", "x1["+idx[2]+"]"))
	})
	return nil
}

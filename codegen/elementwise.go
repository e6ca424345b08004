package codegen

import (
	"fmt"
	"math"
	"strings"

	"github.com/dlcompiler/dlc/ir"
)

// Element-wise and broadcasting ops: one flat loop over constant bounds,
// or, with broadcasting, nested loops over the collapsed output shape.

func init() {
	unary := func(expr func(n *ir.Node) string) emitter {
		return emitter{inplace: true, emit: func(k *kctx) error {
			k.l("for i := range %d {", k.outShape(0).NumElems())
			k.l("v := x[i]")
			k.l("%s", expr(k.n))
			k.l("y[i] = v")
			k.l("}")
			return nil
		}}
	}
	for _, op := range []string{"relu", "sigmoid", "tanh", "leaky_relu", "clip"} {
		register(op, unary(func(n *ir.Node) string {
			return actCode(op, n.Attrs.Float("alpha"), n.Attrs.Float("min"), n.Attrs.Float("max"))
		}))
	}
	view := emitter{view: true, emit: func(k *kctx) error { k.l("*y = *x"); return nil }}
	for _, op := range []string{"identity", "dropout", "flatten", "reshape", "squeeze", "unsqueeze"} {
		register(op, view)
	}
	for op, sym := range map[string]string{"add": "+", "sub": "-", "mul": "*", "div": "/"} {
		e := emitter{inplace: true, emit: func(k *kctx) error { return emitBinary(k, sym) }}
		if op == "div" {
			e.fails = intDivFails
		}
		register(op, e)
	}
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

// intDivFails reports whether an integer division can meet a zero divisor
// at run time: its divisor is not a constant (a constant one with a zero
// is refused when generating, by checkIntDiv).
func intDivFails(n *ir.Node) bool {
	return n.Out().Type.DType == ir.I64 && !n.Inputs[1].IsConst()
}

// checkIntDiv refuses an integer division by a constant holding a zero,
// and, for a divisor known only at run time, emits a check that returns
// the interpreter's error instead of Go's divide-by-zero panic.
// MinInt64 / -1 needs nothing: Go defines it as MinInt64, as the
// interpreter does.
func checkIntDiv(k *kctx) error {
	d := k.n.Inputs[1]
	if d.IsConst() {
		for i, v := range d.Data.I64() {
			if v == 0 {
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

func emitBinary(k *kctx, sym string) error {
	out := k.outShape(0)
	a, b := k.inShape(0), k.inShape(1)
	ty := elemType(k.n.Out().Type.DType)
	if sym == "/" && k.n.Out().Type.DType == ir.I64 {
		if err := checkIntDiv(k); err != nil {
			return err
		}
	}
	if a.Equal(out) && b.Equal(out) {
		k.l("for i := range %d {", out.NumElems())
		k.l("y[i] = x0[i] %s x1[i]", sym)
		k.l("}")
		return nil
	}
	if b.NumElems() == 1 && a.Equal(out) {
		k.l("bv := x1[0]")
		k.l("for i := range %d {", out.NumElems())
		k.l("y[i] = x0[i] %s bv", sym)
		k.l("}")
		return nil
	}
	_ = ty
	dims, st := collapse(out, [][]int{out.Strides(), bcastStrides(a, out), bcastStrides(b, out)})
	loopNest(k, dims, st, func(idx []string) {
		k.l("y[%s] = x0[%s] %s x1[%s]", idx[0], idx[1], sym, idx[2])
	})
	return nil
}

// actCode is the Go code of an activation applied to the float32 v, with
// the interpreter's rounding (transcendentals and scaling in float64).
func actCode(op string, alpha, lo, hi float64) string {
	switch op {
	case "relu":
		return "if v < 0 {\nv = 0\n}"
	case "sigmoid":
		return "v = float32(1 / (1 + @math.Exp(-float64(v))))"
	case "tanh":
		return "v = float32(@math.Tanh(float64(v)))"
	case "leaky_relu":
		return fmt.Sprintf("if v < 0 {\nv = float32(%s * float64(v))\n}", fmtFloat(alpha))
	case "clip":
		var s []string
		if !math.IsInf(lo, -1) {
			s = append(s, fmt.Sprintf("if float64(v) < %s {\nv = float32(%[1]s)\n}", fmtFloat(lo)))
		}
		if !math.IsInf(hi, 1) {
			s = append(s, fmt.Sprintf("if float64(v) > %s {\nv = float32(%[1]s)\n}", fmtFloat(hi)))
		}
		return strings.Join(s, "\n")
	}
	return ""
}

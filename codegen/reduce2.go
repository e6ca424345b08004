package codegen

import (
	"fmt"
	"strings"

	"github.com/dlcompiler/dlc/ir"
)

// argmax, argmin and cumsum (ir/ops_reduce2.go), as the interpreter
// computes them (runtime/reduce2.go).

func init() {
	register("argmax", emitter{emit: emitArg})
	register("argmin", emitter{emit: emitArg})
	register("cumsum", emitter{emit: emitCumsum})
	register("cumprod", emitter{emit: emitCumsum})
}

// emitArg scans the axis keeping the best value: the interpreter's
// runtime.ArgBetter written out for the node's flags.
func emitArg(k *kctx) error {
	x := k.inShape(0)
	a, err := ir.NormAxis(k.n.Attrs.Int("axis"), len(x))
	if err != nil {
		return k.errorf("%v", err)
	}
	outer, size, inner := ir.AxisSplit(x, a)
	cmp := map[bool]string{false: ">", true: "<"}[k.n.Op == "argmin"]
	if k.n.Attrs.Bool("select_last_index") {
		cmp += "="
	}
	X, Y := k.in[0], k.out[0]
	k.l("for o := range %d {", outer)
	k.l("for i := range %d {", inner)
	k.l("base := o*%d + i", size*inner)
	k.l("best, at := %s[base], 0", X)
	k.l("for j := 1; j < %d && best == best; j++ {", size)
	k.l("if v := %s[base+j*%d]; v != v || v %s best {\nbest, at = v, j\n}", X, inner, cmp)
	k.l("}")
	k.l("%s[o*%d+i] = int64(at)", Y, inner)
	k.l("}")
	k.l("}")
	return nil
}

// emitCumsum runs the sum (cumsum) or product (cumprod) along the axis, in float64 for floats (rounding
// each output once to the dtype) and int64 for integers (wrapped to the
// width), as the interpreter does.
func emitCumsum(k *kctx) error {
	x := k.inShape(0)
	a, err := ir.NormAxis(k.n.Attrs.Int("axis"), len(x))
	if err != nil {
		return k.errorf("%v", err)
	}
	outer, size, inner := ir.AxisSplit(x, a)
	X, Y := k.in[0], k.out[0]
	dt := k.n.Inputs[0].Type.DType
	acc, load, store := "s := float64(0)", "float64("+computeExpr(dt, X+"[at]")+")", storeExpr(dt, "s")
	if !dt.IsFloat() {
		acc, load, store = "s := int64(0)", "int64("+X+"[at])", elemType(dt)+"(s)"
	}
	step := "s += v"
	if k.n.Op == "cumprod" {
		acc, step = strings.Replace(acc, "(0)", "(1)", 1), "s *= v"
	}
	idx := "j"
	if k.n.Attrs.Bool("reverse") {
		idx = fmt.Sprintf("%d - j", size-1)
	}
	k.l("for o := range %d {", outer)
	k.l("for i := range %d {", inner)
	k.l("%s", acc)
	k.l("for j := range %d {", size)
	k.l("at := (o*%d+%s)*%d + i", size, idx, inner)
	k.l("v := %s", load)
	if k.n.Attrs.Bool("exclusive") {
		k.l("%s[at] = %s", Y, store)
		k.l("%s", step)
	} else {
		k.l("%s", step)
		k.l("%s[at] = %s", Y, store)
	}
	k.l("}")
	k.l("}")
	k.l("}")
	return nil
}

func init() { register("hardmax", emitter{emit: emitHardmax}) }

// emitHardmax zeroes each slice and puts 1 at its argmax (found first:
// the output may overwrite the input).
func emitHardmax(k *kctx) error {
	x := k.inShape(0)
	a, err := ir.NormAxis(k.n.Attrs.Int("axis"), len(x))
	if err != nil {
		return k.errorf("%v", err)
	}
	outer, size, inner := ir.AxisSplit(x, a)
	if size == 0 {
		return nil
	}
	X, Y := k.in[0], k.out[0]
	k.l("for o := range %d {", outer)
	k.l("for i := range %d {", inner)
	k.l("base := o*%d + i", size*inner)
	k.l("best, at := %s[base], 0", X)
	k.l("for j := 1; j < %d && best == best; j++ {", size)
	k.l("if v := %s[base+j*%d]; v != v || v > best {\nbest, at = v, j\n}", X, inner)
	k.l("}")
	k.l("for j := range %d {\n%s[base+j*%d] = 0\n}", size, Y, inner)
	k.l("%s[base+at*%d] = 1", Y, inner)
	k.l("}")
	k.l("}")
	return nil
}

func init() { register("topk", emitter{emit: emitTopK}) }

// emitTopK is the interpreter's insertion into the sorted outputs, with
// ir.TopKBefore written out.
func emitTopK(k *kctx) error {
	x := k.inShape(0)
	a, err := ir.NormAxis(k.n.Attrs.Int("axis"), len(x))
	if err != nil {
		return k.errorf("%v", err)
	}
	outer, size, inner := ir.AxisSplit(x, a)
	K := k.n.Attrs.Int("k")
	if K == 0 {
		return nil
	}
	before := "v > w || v != v && w == w"
	if !k.n.Attrs.Bool("largest") {
		before = "v < w || w != w && v == v"
	}
	if k.n.Out().Type.DType.IsInt() { // no NaN
		before = before[:5]
	}
	X, V, I := k.in[0], k.out[0], k.out[1]
	k.l("for o := range %d {", outer)
	k.l("for i := range %d {", inner)
	k.l("have := 0")
	k.l("for j := range %d {", size)
	k.l("v := %s[(o*%d+j)*%d+i]", X, size, inner)
	k.l("p := have")
	k.l("for p > 0 {\nif w := %s[(o*%d+p-1)*%d+i]; !(%s) {\nbreak\n}\np--\n}", V, K, inner, before)
	k.l("if p >= %d {\ncontinue\n}", K)
	k.l("for q := min(have, %d); q > p; q-- {", K-1)
	k.l("d, s := (o*%d+q)*%d+i, (o*%[1]d+q-1)*%[2]d+i", K, inner)
	k.l("%s[d], %s[d] = %[1]s[s], %[2]s[s]", V, I)
	k.l("}")
	k.l("d := (o*%d+p)*%d + i", K, inner)
	k.l("%s[d], %s[d] = v, int64(j)", V, I)
	k.l("have = min(have+1, %d)", K)
	k.l("}")
	k.l("}")
	k.l("}")
	return nil
}

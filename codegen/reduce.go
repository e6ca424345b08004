package codegen

import (
	"fmt"
	"strings"

	"github.com/dlcompiler/dlc/ir"
)

// Reductions, from the op table: one emitter serves every op with an
// ir.Reduction form. The loops run over the kept axes (outer, writing y
// in order) and the reduced axes (inner), every bound a constant, and
// accumulate in float64 in row-major order, as the interpreter does, so
// both agree exactly; the result is rounded once to the dtype.

func init() {
	for _, d := range ir.Ops() {
		if d.Reduction != nil {
			register(d.Name, emitter{emit: emitReduce})
		}
	}
}

func emitReduce(k *kctx) error {
	r := k.n.Def().Reduction
	x := k.inShape(0)
	axes, err := ir.ReduceAxes(k.n, len(x))
	if err != nil {
		return k.errorf("%v", err)
	}
	red := make([]bool, len(x))
	count := 1
	for _, a := range axes {
		red[a] = true
		count *= x[a]
	}
	st := x.Strides()
	var idx []string
	loops := func(reduced bool) int {
		n := 0
		for a, d := range x {
			if red[a] != reduced || d == 1 {
				continue
			}
			k.l("for a%d := range %d {", a, d)
			idx = append(idx, term(fmt.Sprintf("a%d", a), st[a]))
			n++
		}
		return n
	}
	k.l("o := 0")
	outer := loops(false)
	k.l("acc := float64(%s)", ir.GoFloat(r.Init))
	inner := loops(true)
	at := "0"
	if len(idx) > 0 {
		at = strings.Join(idx, " + ")
	}
	dt := k.n.Out().Type.DType
	k.l("acc = %s", r.GoCombine("acc", "float64("+computeExpr(dt, "x["+at+"]")+")"))
	closeLoops(k, inner)
	res := "acc"
	if r.GoFinalize != nil {
		res = r.GoFinalize("acc", count)
	}
	k.l("y[o] = %s", storeExpr(dt, res))
	k.l("o++")
	closeLoops(k, outer)
	return nil
}

func closeLoops(k *kctx, n int) {
	for range n {
		k.l("}")
	}
}

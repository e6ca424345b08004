package codegen

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// rotary_embedding: the interpreter's loops (runtime/rotary.go) with
// constant sizes; values past rotary_dim are copied.

func init() { register("rotary_embedding", emitter{emit: emitRotary}) }

func emitRotary(k *kctx) error {
	r, err := ir.RotaryDims(k.n)
	if err != nil {
		return k.errorf("%v", err)
	}
	x, cs, sn, y := k.in[0], k.in[1], k.in[2], k.out[0]
	half := r.R / 2
	if r.R < r.D {
		k.l("copy(%s[:], %s[:])", y, x)
	}
	i1, i2 := "o+i", fmt.Sprintf("o+i+%d", half)
	if k.n.Attrs.Bool("interleaved") {
		i1, i2 = "o+2*i", "o+2*i+1"
	}
	k.l("for b := range %d {", r.B)
	k.l("for s := range %d {", r.S)
	k.l("row := (b*%d + s) * %d", r.S, half)
	k.l("for h := range %d {", r.H)
	k.l("o := %s", r.HeadExpr())
	k.l("for i := range %d {", half)
	k.l("c, sv := float64(%s[row+i]), float64(%s[row+i])", cs, sn)
	k.l("x1, x2 := float64(%s[%s]), float64(%s[%s])", x, i1, x, i2)
	k.l("%s[%s], %s[%s] = float32(c*x1-sv*x2), float32(sv*x1+c*x2)", y, i1, y, i2)
	k.l("}\n}\n}\n}")
	return nil
}

package codegen

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// layernorm, rmsnorm and groupnorm (ir/ops_norm2.go): the interpreter's
// loops with constant bounds, float64 statistics accumulated in the same
// order, so both agree exactly.

func init() {
	for _, op := range []string{"layernorm", "rmsnorm", "groupnorm"} {
		register(op, emitter{emit: emitNorm})
	}
}

func emitNorm(k *kctx) error {
	n := k.n
	rows, size := ir.NormRows(n)
	X, Y := k.in[0], k.out[0]
	ft := elemType(n.Out().Type.DType)
	k.l("for r := range %d {", rows)
	k.l("row := (*[%d]%s)(%s[r*%d:])", size, ft, X, size)
	k.l("mean := 0.0")
	if n.Op != "rmsnorm" {
		k.l("var s float64")
		k.l("for _, v := range row {\ns += float64(v)\n}")
		k.l("mean = s / %d", size)
	}
	k.l("var ss float64")
	k.l("for _, v := range row {\nd := float64(v) - mean\nss += d * d\n}")
	k.l("inv := 1 / @math.Sqrt(ss/%d+%s)", size, fmtFloat(n.Attrs.Float("epsilon")))
	if n.Attrs.Bool("stats") {
		k.l("%s[r], %s[r] = %s(mean), %[3]s(inv)", k.out[1], k.out[2], ft)
	}
	// The affine parameter index of element j: j, or its channel.
	at := "j"
	affine := len(k.in) > 1 && k.in[1] != "" || len(k.in) > 2 && k.in[2] != ""
	if n.Op == "groupnorm" && affine {
		x := k.inShape(0)
		g := n.Attrs.Int("num_groups")
		per, spatial := x[1]/g, x[2:].NumElems()
		k.l("c0 := (r %% %d) * %d", g, per)
		at = "c0 + j"
		if spatial != 1 {
			at = fmt.Sprintf("c0 + j/%d", spatial)
		}
	}
	k.l("yr := (*[%d]%s)(%s[r*%d:])", size, ft, Y, size)
	k.l("for j, v := range row {")
	k.l("o := (float64(v) - mean) * inv")
	if len(k.in) > 1 && k.in[1] != "" {
		k.l("o *= float64(%s[%s])", k.in[1], at)
	}
	if len(k.in) > 2 && k.in[2] != "" {
		k.l("o += float64(%s[%s])", k.in[2], at)
	}
	k.l("yr[j] = %s(o)", ft)
	k.l("}")
	k.l("}")
	return nil
}

func init() { register("lrn", emitter{emit: emitLRN}) }

// emitLRN: the interpreter's loops, the window bounds computed per
// channel as ir.LRNWindow does.
func emitLRN(k *kctx) error {
	x := k.inShape(0)
	N, C, S := x[0], x[1], x[2:].NumElems()
	a := k.n.Attrs
	size := a.Int("size")
	X, Y := k.in[0], k.out[0]
	k.l("for b := range %d {", N)
	k.l("for c := range %d {", C)
	k.l("lo, hi := max(0, c-%d), min(%d, c+%d)", (size-1)/2, C, size/2+1)
	k.l("for s := range %d {", S)
	k.l("var sum float64")
	k.l("for j := lo; j < hi; j++ {\nv := float64(%s[(b*%d+j)*%d+s])\nsum += v * v\n}", X, C, S)
	k.l("at := (b*%d+c)*%d + s", C, S)
	k.l("%s[at] = %s(float64(%s[at]) / @math.Pow(%s+%s*sum, %s))", Y, elemType(k.n.Out().Type.DType), X, fmtFloat(a.Float("bias")), fmtFloat(a.Float("alpha")/float64(size)), fmtFloat(a.Float("beta")))
	k.l("}")
	k.l("}")
	k.l("}")
	return nil
}

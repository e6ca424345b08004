package codegen

import (
	"github.com/dlcompiler/dlc/ir"
)

// linear_attention: the interpreter's loops (runtime/linattn.go) with
// every size a constant; the value row being corrected lives in a
// fixed-size local array.

func init() { register("linear_attention", emitter{emit: emitLinAttn}) }

func emitLinAttn(k *kctx) error {
	la, err := ir.LinearAttentionDims(k.n)
	if err != nil {
		return k.errorf("%v", err)
	}
	q, key, v, past, decay, beta := k.in[0], k.in[1], k.in[2], k.in[3], k.in[4], k.in[5]
	out, st := k.out[0], k.out[1]
	if past != "" {
		k.l("copy(%s[:], %s[:])", st, past)
	} else {
		k.l("clear(%s[:])", st)
	}
	Dk, Dv, Hkv, Hq := la.Dk, la.Dv, la.Hkv, la.Hq
	k.l("var vv [%d]float32", Dv)
	k.l("for b := range %d {", la.B)
	k.l("for h := range %d {", Hkv)
	k.l("S := %s[(b*%d+h)*%d:][:%d]", st, Hkv, Dk*Dv, Dk*Dv)
	k.l("for t := range %d {", la.T)
	k.l("row := b*%d + t", la.T)
	k.l("kt := %s[(row*%d+h)*%d:][:%d]", key, Hkv, Dk, Dk)
	k.l("copy(vv[:], %s[(row*%d+h)*%d:][:%d])", v, Hkv, Dv, Dv)
	if la.Gated {
		k.l("for d := range %d {", Dk)
		if la.DecayPerDim {
			k.l("e := @math.Exp(float64(%s[(row*%d+h)*%d+d]))", decay, Hkv, Dk)
		} else {
			k.l("e := @math.Exp(float64(%s[row*%d+h]))", decay, Hkv)
		}
		k.l("for m := range %d {\nS[d*%d+m] = float32(float64(S[d*%[2]d+m]) * e)\n}", Dv, Dv)
		k.l("}")
	}
	if la.Delta {
		if la.BetaHeads {
			k.l("bt := float64(%s[row*%d+h])", beta, Hkv)
		} else {
			k.l("bt := float64(%s[row])", beta)
		}
		k.l("for m := range %d {", Dv)
		k.l("var r float64")
		k.l("for d := range %d {\nr += float64(S[d*%d+m]) * float64(kt[d])\n}", Dk, Dv)
		k.l("vv[m] = float32(bt * (float64(vv[m]) - r))")
		k.l("}")
	}
	k.l("for d := range %d {", Dk)
	k.l("for m := range %d {\nS[d*%d+m] = float32(float64(S[d*%[2]d+m]) + float64(kt[d])*float64(vv[m]))\n}", Dv, Dv)
	k.l("}")
	group := Hq / Hkv
	k.l("for j := range %d {", group)
	k.l("hq := h*%d + j", group)
	k.l("qt := %s[(row*%d+hq)*%d:][:%d]", q, Hq, Dk, Dk)
	k.l("o := %s[(row*%d+hq)*%d:][:%d]", out, Hq, Dv, Dv)
	k.l("for m := range %d {", Dv)
	k.l("var s float64")
	k.l("for d := range %d {\ns += float64(qt[d]) * float64(S[d*%d+m])\n}", Dk, Dv)
	k.l("o[m] = float32(%s * s)", ir.GoFloat(la.Scale))
	k.l("}")
	k.l("}")
	k.l("}")
	k.l("}")
	k.l("}")
	return nil
}

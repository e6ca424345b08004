package codegen

import "github.com/dlcompiler/dlc/ir"

// batchnorm, softmax and log_softmax.

func init() {
	register("batchnorm", emitter{emit: emitBatchNorm})
	register("softmax", emitter{emit: func(k *kctx) error { return emitSoftmax(k, false) }})
	register("log_softmax", emitter{emit: func(k *kctx) error { return emitSoftmax(k, true) }})
}

// emitBatchNorm: y = (x - mean) * (scale / sqrt(var + eps)) + bias per
// channel; the per-channel factor is computed once per call, in float64
// (f32 and f64 alike: the same loop over the dtype's Go type).
func emitBatchNorm(k *kctx) error {
	x := k.inShape(0)
	ft := elemType(k.n.Out().Type.DType)
	N, C := x[0], x[1]
	S := x[2:].NumElems()
	eps := k.n.Attrs.Float("epsilon")
	k.l("for b := range %d {", N)
	k.l("for c := range %d {", C)
	k.l("inv := float64(x1[c]) / @math.Sqrt(float64(x4[c])+%s)", fmtFloat(eps))
	k.l("mu, sh := float64(x3[c]), float64(x2[c])")
	k.l("xc := (*[%d]%s)(x0[(b*%d+c)*%d:])", S, ft, C, S)
	k.l("yc := (*[%d]%s)(y[(b*%d+c)*%d:])", S, ft, C, S)
	k.l("for i := range %d {\nyc[i] = %s((float64(xc[i])-mu)*inv + sh)\n}", S, ft)
	k.l("}")
	k.l("}")
	return nil
}

// emitSoftmax normalizes along one axis: subtract the max, sum the
// exponentials in float64, divide (or subtract the log of the sum); f32
// rows along the last axis run on the Act kernel, f64 in scalar loops.
func emitSoftmax(k *kctx, log bool) error {
	x := k.inShape(0)
	a, err := ir.NormAxis(k.n.Attrs.Int("axis"), len(x))
	if err != nil {
		return k.errorf("%v", err)
	}
	O, A, I := x[:a].NumElems(), x[a], x[a+1:].NumElems()
	X, Y := k.in[0], k.out[0]
	dt := k.n.Out().Type.DType
	ft := elemType(dt)
	if I == 1 && !log && actKernel != nil && dt == ir.F32 {
		softmaxRows(k, O, A, X, Y) // act_simd.go
		return nil
	}
	k.l("for o := range %d {", O)
	k.l("for i := range %d {", I)
	k.l("base := o*%d + i", A*I)
	k.l("m := %s[base]", X)
	k.l("for a := 1; a < %d; a++ {\nif v := %s[base+a*%d]; v > m {\nm = v\n}\n}", A, X, I)
	k.l("m64 := float64(m)")
	k.l("var s float64")
	k.l("for a := range %d {\ns += @math.Exp(float64(%s[base+a*%d]) - m64)\n}", A, X, I)
	if log {
		k.l("ls := @math.Log(s)")
		k.l("for a := range %d {\n%s[base+a*%d] = %s(float64(%s[base+a*%[3]d]) - m64 - ls)\n}", A, Y, I, ft, X)
	} else {
		k.l("for a := range %d {\n%s[base+a*%d] = %s(@math.Exp(float64(%s[base+a*%[3]d])-m64) / s)\n}", A, Y, I, ft, X)
	}
	k.l("}")
	k.l("}")
	return nil
}

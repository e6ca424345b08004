package codegen

import (
	"github.com/dlcompiler/dlc/ir"
)

// Signal ops (ir/ops_signal.go), as the interpreter computes them
// (runtime/signal.go): the direct transform over ir.DFTTwiddles' table,
// written into the package as constants, each bin one float64 sum in
// sample order.

func init() { register("dft", emitter{emit: emitDFT}) }

func emitDFT(k *kctx) error {
	x := k.inShape(0)
	r := len(x)
	axis := k.n.Attrs.Int("axis")
	m, cin := x[axis], x[r-1]
	outer, inner := x[:axis].NumElems(), x[axis+1:r-1].NumElems()
	N, bins := ir.DFTSizes(k.n, m)
	inv, half := k.n.Attrs.Bool("inverse"), k.n.Attrs.Bool("onesided")
	cout := k.outShape(0)[r-1]
	cos, sin := ir.DFTTwiddles(N)
	X, Y := k.in[0], k.out[0]
	k.l("cos := [%d]float64{%s}", N, floatList(cos))
	k.l("sin := [%d]float64{%s}", N, floatList(sin))
	im := "0.0"
	if cin == 2 {
		im = "float64(" + X + "[e+1])"
	}
	k.l("for o := range %d {", outer)
	k.l("for i := range %d {", inner)
	k.l("for t := range %d {", bins)
	k.l("var sr, si float64")
	if inv && half {
		k.l("for k := range %d {", N)
		k.l("idx, conj := k, 1.0")
		k.l("if k > %d {\nidx, conj = %d-k, -1\n}", N/2, N)
		k.l("if idx >= %d {\ncontinue\n}", m)
		k.l("e := ((o*%d+idx)*%d + i) * %d", m, inner, cin)
		k.l("xr, xi := float64(%s[e]), %s", X, im)
		k.l("j := k * t %% %d", N)
		k.l("sr += xr*cos[j] - conj*xi*sin[j]")
		k.l("}")
		k.l("_ = si")
	} else {
		sign := "-"
		if inv {
			sign = ""
		}
		k.l("for k := range %d {", min(m, N))
		k.l("e := ((o*%d+k)*%d + i) * %d", m, inner, cin)
		k.l("xr, xi := float64(%s[e]), %s", X, im)
		k.l("j := k * t %% %d", N)
		k.l("c, s := cos[j], %ssin[j]", sign)
		k.l("sr += xr*c - xi*s")
		k.l("si += xr*s + xi*c")
		k.l("}")
	}
	if inv {
		k.l("sr, si = sr/%d, si/%d", N, N)
	}
	k.l("e := ((o*%d+t)*%d + i) * %d", bins, inner, cout)
	k.l("%s[e] = float32(sr)", Y)
	if cout == 2 {
		k.l("%s[e+1] = float32(si)", Y)
	}
	k.l("}\n}\n}")
	return nil
}

func init() { register("det", emitter{emit: emitDet}) }

// emitDet is the interpreter's elimination over a local [n·n]float64.
func emitDet(k *kctx) error {
	x := k.inShape(0)
	N := x[len(x)-1]
	X, Y := k.in[0], k.out[0]
	k.l("var a [%d]float64", N*N)
	k.l("for m := range %d {", k.outShape(0).NumElems())
	k.l("for i := range a {\na[i] = float64(%s[m*%d+i])\n}", X, N*N)
	k.l("d := 1.0")
	k.l("for c := range %d {", N)
	k.l("p := c")
	k.l("for i := c + 1; i < %d; i++ {", N)
	k.l("if @math.Abs(a[i*%d+c]) > @math.Abs(a[p*%d+c]) {\np = i\n}\n}", N, N)
	k.l("if a[p*%d+c] == 0 {\nd = 0\nbreak\n}", N)
	k.l("if p != c {")
	k.l("for j := range %d {\na[c*%d+j], a[p*%d+j] = a[p*%d+j], a[c*%d+j]\n}", N, N, N, N, N)
	k.l("d = -d\n}")
	k.l("d *= a[c*%d+c]", N)
	k.l("for i := c + 1; i < %d; i++ {", N)
	k.l("f := a[i*%d+c] / a[c*%d+c]", N, N)
	k.l("for j := c; j < %d; j++ {\na[i*%d+j] -= f * a[c*%d+j]\n}\n}\n}", N, N, N)
	k.l("%s[m] = float32(d)\n}", Y)
	return nil
}

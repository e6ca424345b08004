package codegen

import (
	"fmt"
	"strings"
)

// Helpers of the recurrent emitter (rnn.go): a register-blocked
// float32 "A·Wᵀ" generator used both for the input projection (all time
// steps at once) and for the per-step h·W_hhᵀ, and fast float64
// activations.

func init() {
	for _, h := range []string{"rnnSigmoid", "rnnTanh"} {
		reserved[h] = true
	}
	helperSource["rnnSigmoid"] = `// rnnSigmoid is the logistic function in float64: 1/(1+e^-v), with e^x
// = 2^k·p(r), r = x - k·ln2, |r| <= ln2/2, p the degree-8 Taylor
// polynomial in Estrin form (relative error below 3e-10) and x clamped to
// ±40, beyond which the result is 1 or below 5e-18.
func rnnSigmoid(v float64) float64 {
	x := -v
	if x > 40 {
		x = 40
	} else if x < -40 {
		x = -40
	}
	t := x*1.4426950408889634 + 0x1.8p52
	kf := t - 0x1.8p52
	r := x - kf*0.6931471805599453
	r2 := r * r
	r4 := r2 * r2
	p := (1 + r) + r2*(0.5+r*(1.0/6)) + r4*((1.0/24+r*(1.0/120))+r2*(1.0/720+r*(1.0/5040)+r2*(1.0/40320)))
	return 1 / (1 + p*@math.Float64frombits((@math.Float64bits(t)+1023)<<52))
}`
	helperSource["rnnTanh"] = `// rnnTanh is tanh in float64: (e-1)/(e+1) with e = e^(2v) computed as in
// rnnSigmoid (absolute error below 2e-10).
func rnnTanh(v float64) float64 {
	x := 2 * v
	if x > 40 {
		x = 40
	} else if x < -40 {
		x = -40
	}
	t := x*1.4426950408889634 + 0x1.8p52
	kf := t - 0x1.8p52
	r := x - kf*0.6931471805599453
	r2 := r * r
	r4 := r2 * r2
	p := (1 + r) + r2*(0.5+r*(1.0/6)) + r4*((1.0/24+r*(1.0/120))+r2*(1.0/720+r*(1.0/5040)+r2*(1.0/40320)))
	e := p * @math.Float64frombits((@math.Float64bits(t)+1023)<<52)
	return (e - 1) / (e + 1)
}`
}

// operand is a matrix in f32 storage: a slice or array-pointer
// expression and a constant element offset into it.
type operand struct {
	base string
	off  int
}

// at is the slice expression of the operand from element idx (a Go
// expression) on.
func (o operand) at(idx string) string {
	if o.off == 0 {
		return fmt.Sprintf("%s[%s:]", o.base, idx)
	}
	return fmt.Sprintf("%s[%d+%s:]", o.base, o.off, idx)
}

// emitGemmNT emits, for m < M and rows r0 <= r < r1,
//
//	store(m, r, s) with s = Σ_{k<K} w[r·K+k]·a[m·K+k]
//
// accumulated in float32: every vector a[m] against blocks of 8 (then 4,
// then 1) consecutive rows of w, one independent accumulator per row, all
// bounds constant so the inner loop has no bounds checks. store returns
// the statement storing the sum s (a float32 expression) of vector m and
// row r (Go expressions).
// gemmRB is the row block: one float32 accumulator per row, few enough
// that the accumulators, the vector element and the products stay in
// the 15 X registers Go allocates.
var gemmRB = 6

// gemmAcc is the accumulator type.
var gemmAcc = "float32"

func emitGemmNT(k *kctx, M, r0, r1, K int, a, w operand, store func(m, r, s string) string) {
	if M <= 0 || r1 <= r0 || K <= 0 {
		if K <= 0 {
			for m := range M {
				for r := r0; r < r1; r++ {
					k.l("%s", store(fmt.Sprint(m), fmt.Sprint(r), "0"))
				}
			}
		}
		return
	}
	block := func(rExpr string, rb int) {
		k.l("wv := (*[%d]float32)(%s)", rb*K, w.at(fmt.Sprintf("(%s)*%d", rExpr, K)))
		acc := make([]string, rb)
		for j := range acc {
			acc[j] = fmt.Sprintf("s%d", j)
		}
		k.l("var %s %s", strings.Join(acc, ", "), gemmAcc)
		k.l("for k := range %d {", K)
		k.l("xk := %s(av[k])", gemmAcc)
		for j := range rb {
			if j == 0 {
				k.l("s0 += %s(wv[k]) * xk", gemmAcc)
			} else {
				k.l("s%d += %s(wv[%d+k]) * xk", j, gemmAcc, j*K)
			}
		}
		k.l("}")
		for j := range rb {
			r := rExpr
			if j > 0 {
				r = fmt.Sprintf("%s+%d", rExpr, j)
			}
			k.l("%s", store("m", r, acc[j]))
		}
	}
	k.l("for m := range %d {", M)
	k.l("av := (*[%d]float32)(%s)", K, a.at(fmt.Sprintf("m*%d", K)))
	r := r0
	if nb := (r1 - r0) / gemmRB; nb > 0 {
		if nb == 1 {
			k.l("{\nr := %d", r)
		} else {
			k.l("for r := %d; r < %d; r += %d {", r, r+gemmRB*nb, gemmRB)
		}
		block("r", gemmRB)
		k.l("}")
		r += gemmRB * nb
	}
	if r1-r >= 4 {
		k.l("{")
		block(fmt.Sprint(r), 4)
		k.l("}")
		r += 4
	}
	if r < r1 {
		k.l("for r := %d; r < %d; r++ {", r, r1)
		block("r", 1)
		k.l("}")
	}
	k.l("}")
}

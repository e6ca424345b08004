package kernels

import (
	"fmt"
	"math"
	"strings"
)

// Act: vectorized float32 activations, y[i] = f(a[i] + b[i]) (b may be
// nil): the recurrent gates, element-wise ops and fused epilogues.
//
// Two exps. expc, for sigmoid and tanh, is Cephes' expf: x clamped to
// [-87.3, 88.3] (NaN kept), n = round(x·log2 e), r = x − n·ln 2 in two
// parts (Cody–Waite), e^r a degree-7 polynomial (1 + r + r²·P5(r)),
// times 2^n built in the exponent bits. expf, for exp, SiLU and GELU,
// is the same on the whole range: x clamped to [-104, 89] and 2^n built
// as 2^⌊n/2⌋·2^(n−⌊n/2⌋), so results overflow to +Inf and underflow
// through the denormals to 0 as float32 rounding does. Then
//
//	sigmoid(x)  = 1 / (1 + expc(−x))
//	tanh(x)     = x + x·x²·P4(x²)                  |x| < 0.625 (Cephes' tanhf)
//	            = sign(x)·(1 − 2/(expc(2|x|) + 1))  otherwise
//	exp(x)      = expf(x + p0)   (p0: softmax's shift by the row's max)
//	clip(x)     = min(max(x, p0), p1)    (relu: p0 = 0, p1 = +Inf; exact)
//	hardsigmoid = min(max(p0·x + p1, 0), 1)   (one fused multiply-add)
//	hardswish   = x·(min(max(x + 3, 0), 6) / 6)
//	silu(x)     = x / (1 + expf(−p0·x))
//	gelu(x)     = x·Φ(x), Φ(x) = 1 − q (x ≥ 0) or q (x < 0),
//	              q = erfc(|x|/√2)/2 by Numerical Recipes' erfcc
//	              (relative error below 1.2e-7 for every z ≥ 0):
//	              t = 1/(1 + z/2), erfc z ≈ t·expf(P9(t) − z²), the
//	              exponent in one fused multiply-add
//	gelu_tanh   = x / (1 + expf(−2·√(2/π)·x·(1 + 0.044715·x²)))
//	              (= x·(1 + tanh(√(2/π)(x + 0.044715x³)))/2)
//
// Maximum errors, measured over every 97th float32 bit pattern of both
// signs and the special values (TestActRange -act.step 97 in
// internal/asmtest, against float64 math; the twin and the assembly
// alike): absolute where the exact value is below the first bound's
// range, relative in ulps of the exact value where it is at least the
// second's; in brackets what the tests hold them to:
//
//	sigmoid      8.9e-8 absolute [1e-7], 2.42 ulp [3] where ≥ 1e-30
//	tanh         7.8e-8 absolute [1e-7], 1.31 ulp [2] where ≥ 1e-30;
//	             exact on the denormals
//	exp          1.0e-45 absolute [2^-149] below 2^-126, 1.0 ulp [2] above
//	             (p0 = 0; else the rounding of x + p0 adds |x + p0|·2^-24
//	             relative: 64 ulp [128] for p0 = -3)
//	clip, relu   exact
//	hardsigmoid  3.6e-8 absolute [6e-8] (p0·x + p1 in float32)
//	hardswish    1.86 ulp [2] where ≥ 2^-126, 7e-46 absolute below
//	silu         2.24 ulp [3] where ≥ 1e-30 (p0 = 1); with p0 ≠ 1 the
//	             rounding of p0·x adds |p0·x|·2^-24 relative: 63 ulp [96]
//	             for p0 = 1.702
//	gelu         1.15e-7 absolute [1.5e-7] where |value| < 1, 18.5 ulp
//	             [24] where ≥ 1e-3 (z² in the exponent, up to 88)
//	gelu_tanh    1.08e-7 absolute [1.5e-7] where < 1, 17.9 ulp [24] where
//	             ≥ 1e-3 (the rounding of the exponent 2u)
//
// (actCases in internal/asmtest's tests.) NaN gives NaN; ±Inf give the
// limits (sigmoid 0, 1; tanh ±1; exp 0, +Inf; hardswish, silu and gelu
// NaN at −Inf, as x·0 in the reference, and +Inf at +Inf).
const Act Op = 17

// The functions of an Act kernel (its fn argument); the parameters p0,
// p1 are FUNCP's p.
const (
	ActSigmoid     = 0
	ActTanh        = 1
	ActExp         = 2 // e^(x + p0)
	ActClip        = 3 // [p0, p1]
	ActHardSigmoid = 4 // p0·x + p1
	ActHardSwish   = 5
	ActSiLU        = 6 // x·sigmoid(p0·x)
	ActGELU        = 7
	ActGELUTanh    = 8
	actFns         = 9
)

// ActNames are the functions' names, by fn.
var ActNames = [actFns]string{"sigmoid", "tanh", "exp", "clip", "hardsigmoid", "hardswish", "silu", "gelu", "gelu_tanh"}

func init() { templates[Act] = actTemplate }

// actKernel is the registered Act kernel.
var actKernel = &Kernel{
	Name: "avx512.act", Op: Act, ISAs: []ISA{AVX512, AVX2}, MR: 1, NR: 16,
	PackA: Vector, PackB: Vector, Epilogues: Activation, Func: "simdAct",
}

// The constants, in the order of the kernel's table (actc<>).
var actConsts = []struct {
	name string
	v    float32
}{
	{"expHi", 88.3}, {"expLo", -87.3}, {"log2e", 1.44269504088896341},
	{"ln2hi", 0.693359375}, {"ln2lo", -2.12194440e-4},
	{"p0", 1.9875691500e-4}, {"p1", 1.3981999507e-3}, {"p2", 8.3334519073e-3},
	{"p3", 4.1665795894e-2}, {"p4", 1.6666665459e-1}, {"p5", 5.0000001201e-1},
	{"one", 1}, {"two", 2},
	{"t0", -5.70498872745e-3}, {"t1", 2.06390887954e-2}, {"t2", -5.37397155531e-2},
	{"t3", 1.33314422036e-1}, {"t4", -3.33332819422e-1}, {"tsmall", 0.625},
	{"abs", math.Float32frombits(0x7fffffff)}, {"sign", math.Float32frombits(0x80000000)},
	{"bias", math.Float32frombits(127)},
	{"fHi", 89}, {"fLo", -104}, {"three", 3}, {"six", 6}, {"half", 0.5},
	{"gk", 0.044715}, {"gm2b", -2 * 0.7978845608028654}, {"rsqrt2", 0.70710678118654752},
	{"e0", -1.26551223}, {"e1", 1.00002368}, {"e2", 0.37409196}, {"e3", 0.09678418},
	{"e4", -0.18628806}, {"e5", 0.27886807}, {"e6", -1.13520398}, {"e7", 1.48851587},
	{"e8", -0.82215223}, {"e9", 0.17087277},
}

var actTemplate = template{
	wrapper: `
// FUNC sets y[i] = f(a[i] + b[i]) for i < len(y), or f(a[i]) when b is
// nil, f the activation fn (0 sigmoid, 1 tanh, 2 exp, 5 hardswish, 7
// gelu, 8 gelu_tanh; FUNCP has the others) in float32, vectorized
// (codegen/kernels/act.go states the errors). a, b and y may be the same
// slice.
func FUNC(fn int, a, b, y []float32) {
	FUNCP(fn, [2]float32{}, a, b, y)
}

// FUNCP is FUNC for every function, with the parameters p of those that
// have them: 2 exp(x + p[0]), 3 clip to [p[0], p[1]], 4 hardsigmoid
// p[0]·x + p[1], 6 silu x·sigmoid(p[0]·x).
func FUNCP(fn int, p [2]float32, a, b, y []float32) {
	n := len(y)
	if n == 0 {
		return
	}
	if fn < 0 || fn > 8 {
		panic("FUNC: bad function")
	}
	_ = a[n-1]
	var bp *float32
	if b != nil {
		_ = b[n-1]
		bp = &b[0]
	}
	DISPATCH
	TWIN(fn, p, a, b, y)
}
`,
	calls: map[ISA]string{
		AVX2:   `ASM(fn, n, &a[0], bp, &y[0], &p[0])`,
		AVX512: `ASM(fn, n, &a[0], bp, &y[0], &p[0])`,
	},
	twin: `
// TWIN is FUNCP in pure Go, with the same approximations: the fallback
// and the assembly's test oracle.
func TWIN(fn int, p [2]float32, a, b, y []float32) {
	poly := func(r float32) float32 {
		q := float32(1.9875691500e-4)
		q = q*r + 1.3981999507e-3
		q = q*r + 8.3334519073e-3
		q = q*r + 4.1665795894e-2
		q = q*r + 1.6666665459e-1
		q = q*r + 5.0000001201e-1
		return q*(r*r) + r + 1
	}
	// expc: clamped (sigmoid, tanh); expf: the whole range.
	expc := func(x float32) float32 {
		x = max(min(x, 88.3), -87.3)
		n := float32(math.RoundToEven(float64(x * 1.44269504088896341)))
		r := x - n*0.693359375
		r -= n * -2.12194440e-4
		return poly(r) * math.Float32frombits(uint32(int32(n)+127)<<23)
	}
	expf := func(x float32) float32 {
		if x != x {
			return x
		}
		x = max(min(x, 89), -104)
		n := float32(math.RoundToEven(float64(x * 1.44269504088896341)))
		r := x - n*0.693359375
		r -= n * -2.12194440e-4
		ni := int32(n)
		n1 := ni >> 1
		return poly(r) * math.Float32frombits(uint32(n1+127)<<23) * math.Float32frombits(uint32(ni-n1+127)<<23)
	}
	clamp := func(v, lo, hi float32) float32 {
		if v < lo {
			v = lo
		}
		if v > hi {
			v = hi
		}
		return v
	}
	a = a[:len(y)]
	if b != nil {
		b = b[:len(y)]
	}
	for i := range y {
		v := a[i]
		if b != nil {
			v += b[i]
		}
		switch fn {
		case 0:
			v = 1 / (1 + expc(-v))
		case 1:
			ax := math.Float32frombits(math.Float32bits(v) &^ (1 << 31))
			if ax < 0.625 {
				z := v * v
				q := float32(-5.70498872745e-3)
				q = q*z + 2.06390887954e-2
				q = q*z - 5.37397155531e-2
				q = q*z + 1.33314422036e-1
				q = q*z - 3.33332819422e-1
				v = v + v*(z*q)
				break
			}
			t := 1 - 2/(expc(2*ax)+1)
			v = math.Float32frombits(math.Float32bits(t) | math.Float32bits(v)&(1<<31))
		case 2:
			v = expf(v + p[0])
		case 3:
			v = clamp(v, p[0], p[1])
		case 4:
			v = clamp(p[0]*v+p[1], 0, 1)
		case 5:
			v = v * (clamp(v+3, 0, 6) / 6)
		case 6:
			v = v / (1 + expf(-(p[0] * v)))
		case 7:
			z := math.Float32frombits(math.Float32bits(v)&^(1<<31)) * 0.70710678118654752
			t := 1 / (1 + 0.5*z)
			e := float32(0.17087277)
			for _, c := range [...]float32{-0.82215223, 1.48851587, -1.13520398, 0.27886807,
				-0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223} {
				e = e*t + c
			}
			e = float32(math.FMA(float64(-z), float64(z), float64(e)))
			q := t * expf(e) * 0.5
			if math.Float32bits(v)>>31 == 0 {
				q = 1 - q
			}
			v *= q
		case 8:
			u := v * (1 + 0.044715*(v*v)) * (-2 * 0.7978845608028654)
			v = v / (1 + expf(u))
		}
		y[i] = v
	}
}
`,
	decl: `
// ASM is FUNCP in _ISA_: n ≥ 1; b may be nil.
//
//go:noescape
func ASM(fn, n int, a, b, y, p *float32)
`,
	stub: `
func ASM(fn, n int, a, b, y, p *float32) {
	panic("ASM: no assembly in this build")
}
`,
}

// actConsts writes the constant table of the Act routine fn: each
// constant as one vector of s, so every use is a full-width memory
// operand.
func actConstTable(w *asmw, fn string, s simd) {
	for i, c := range actConsts {
		for l := range s.lanes {
			w.p("DATA %sc<>+%d(SB)/4, $0x%08x", fn, s.bytes*i+4*l, math.Float32bits(c.v))
		}
	}
	w.p("GLOBL %sc<>(SB), RODATA|NOPTR, $%d", fn, s.bytes*len(actConsts))
	w.p("")
}

// actw writes the body of one Act routine: c is a constant's operand.
type actw struct {
	w  *asmw
	s  simd
	fn string
}

func (a actw) c(name string) string {
	for i, c := range actConsts {
		if c.name == name {
			return fmt.Sprintf("%sc<>+%d(SB)", a.fn, a.s.bytes*i)
		}
	}
	panic("kernels: no act constant " + name)
}

// v names vector register i.
func (a actw) v(i int) string { return a.s.r(i) }

// exp writes V(x) = exp(V(x)) with temporaries V(b), V(c), V(d).
func (a actw) exp(x, b, c, d int) {
	w, v := a.w, a.v
	w.in("VMOVUPS %s, %s", a.c("expHi"), v(b))
	w.in("VMINPS %s, %s, %s", v(x), v(b), v(x)) // NaN in V(x) is kept
	w.in("VMOVUPS %s, %s", a.c("expLo"), v(b))
	w.in("VMAXPS %s, %s, %s", v(x), v(b), v(x))
	w.in("VMULPS %s, %s, %s", a.c("log2e"), v(x), v(b))
	if a.s.avx512() {
		w.in("VRNDSCALEPS $0, %s, %s", v(b), v(b)) // n, to nearest even
	} else {
		w.in("VROUNDPS $0, %s, %s", v(b), v(b))
	}
	w.in("VFNMADD231PS %s, %s, %s", a.c("ln2hi"), v(b), v(x))
	w.in("VFNMADD231PS %s, %s, %s", a.c("ln2lo"), v(b), v(x)) // r
	w.in("VMOVUPS %s, %s", a.c("p0"), v(c))
	for _, p := range []string{"p1", "p2", "p3", "p4", "p5"} {
		w.in("VFMADD213PS %s, %s, %s", a.c(p), v(x), v(c))
	}
	w.in("VMULPS %s, %s, %s", v(x), v(x), v(d))
	w.in("VFMADD213PS %s, %s, %s", v(x), v(d), v(c)) // r²·p + r
	w.in("VADDPS %s, %s, %s", a.c("one"), v(c), v(c))
	w.in("VCVTPS2DQ %s, %s", v(b), v(b))
	w.in("VPADDD %s, %s, %s", a.c("bias"), v(b), v(b))
	w.in("VPSLLD $23, %s, %s", v(b), v(b)) // 2^n
	w.in("VMULPS %s, %s, %s", v(b), v(c), v(x))
}

// expf writes V(x) = exp(V(x)) over the whole range (the package doc's
// expf) with temporaries V(b), V(c), V(d).
func (a actw) expf(x, b, c, d int) {
	w, v := a.w, a.v
	w.in("VMOVUPS %s, %s", a.c("fHi"), v(b))
	w.in("VMINPS %s, %s, %s", v(x), v(b), v(x)) // NaN in V(x) is kept
	w.in("VMOVUPS %s, %s", a.c("fLo"), v(b))
	w.in("VMAXPS %s, %s, %s", v(x), v(b), v(x))
	w.in("VMULPS %s, %s, %s", a.c("log2e"), v(x), v(b))
	if a.s.avx512() {
		w.in("VRNDSCALEPS $0, %s, %s", v(b), v(b))
	} else {
		w.in("VROUNDPS $0, %s, %s", v(b), v(b))
	}
	w.in("VFNMADD231PS %s, %s, %s", a.c("ln2hi"), v(b), v(x))
	w.in("VFNMADD231PS %s, %s, %s", a.c("ln2lo"), v(b), v(x))
	w.in("VMOVUPS %s, %s", a.c("p0"), v(c))
	for _, p := range []string{"p1", "p2", "p3", "p4", "p5"} {
		w.in("VFMADD213PS %s, %s, %s", a.c(p), v(x), v(c))
	}
	w.in("VMULPS %s, %s, %s", v(x), v(x), v(d))
	w.in("VFMADD213PS %s, %s, %s", v(x), v(d), v(c))
	w.in("VADDPS %s, %s, %s", a.c("one"), v(c), v(c))
	w.in("VCVTPS2DQ %s, %s", v(b), v(b))
	w.in("VPSRAD $1, %s, %s", v(b), v(d))       // n1 = n>>1
	w.in("VPSUBD %s, %s, %s", v(d), v(b), v(b)) // n2 = n − n1
	for _, r := range []int{d, b} {
		w.in("VPADDD %s, %s, %s", a.c("bias"), v(r), v(r))
		w.in("VPSLLD $23, %s, %s", v(r), v(r))
	}
	w.in("VMULPS %s, %s, %s", v(d), v(c), v(c))
	w.in("VMULPS %s, %s, %s", v(b), v(c), v(x))
}

// clamp sets V(x) = min(max(V(x), V(lo)), V(hi)), NaN kept.
func (a actw) clamp(x, lo, hi int) {
	a.w.in("VMAXPS %s, %s, %s", a.v(x), a.v(lo), a.v(x))
	a.w.in("VMINPS %s, %s, %s", a.v(x), a.v(hi), a.v(x))
}

// blendLess sets V(dst) = V(x) < c ? V(t) : V(f) (false for NaN),
// clobbering V(m) (AVX2) or K2.
func (a actw) blendLess(dst, x int, c string, t, f, m int) {
	w, v := a.w, a.v
	if a.s.avx512() {
		w.in("VCMPPS $1, %s, %s, K2", c, v(x))
		w.in("VBLENDMPS %s, %s, K2, %s", v(t), v(f), v(dst))
		return
	}
	w.in("VCMPPS $1, %s, %s, %s", c, v(x), v(m))
	w.in("VBLENDVPS %s, %s, %s, %s", v(m), v(t), v(f), v(dst))
}

// body writes V0 = f(V0) for fn; V1–V7 are clobbered; V10, V11 hold
// the parameters.
func (a actw) body(fn int) {
	w, v := a.w, a.v
	switch fn {
	case ActExp:
		w.in("VADDPS %s, %s, %s", v(10), v(0), v(0))
		a.expf(0, 1, 2, 3)
		return
	case ActClip:
		a.clamp(0, 10, 11)
		return
	case ActHardSigmoid:
		w.in("VFMADD213PS %s, %s, %s", v(11), v(10), v(0))
		w.in("VXORPS %s, %s, %s", v(1), v(1), v(1))
		w.in("VMOVUPS %s, %s", a.c("one"), v(2))
		a.clamp(0, 1, 2)
		return
	case ActHardSwish:
		w.in("VADDPS %s, %s, %s", a.c("three"), v(0), v(1))
		w.in("VXORPS %s, %s, %s", v(2), v(2), v(2))
		w.in("VMOVUPS %s, %s", a.c("six"), v(3))
		a.clamp(1, 2, 3)
		w.in("VDIVPS %s, %s, %s", v(3), v(1), v(1)) // ≤ 1: x·(t/6) cannot overflow
		w.in("VMULPS %s, %s, %s", v(1), v(0), v(0))
		return
	case ActSiLU, ActGELUTanh:
		if fn == ActSiLU {
			w.in("VMULPS %s, %s, %s", v(10), v(0), v(1))
			w.in("VXORPS %s, %s, %s", a.c("sign"), v(1), v(1))
		} else {
			w.in("VMULPS %s, %s, %s", v(0), v(0), v(1))
			w.in("VMOVUPS %s, %s", a.c("gk"), v(2))
			w.in("VFMADD213PS %s, %s, %s", a.c("one"), v(1), v(2)) // 1 + κx²
			w.in("VMULPS %s, %s, %s", v(0), v(2), v(1))
			w.in("VMULPS %s, %s, %s", a.c("gm2b"), v(1), v(1))
		}
		a.expf(1, 2, 3, 4)
		w.in("VADDPS %s, %s, %s", a.c("one"), v(1), v(1))
		w.in("VDIVPS %s, %s, %s", v(1), v(0), v(0))
		return
	case ActGELU:
		a.gelu()
		return
	}
	if fn == ActSigmoid {
		w.in("VXORPS %s, %s, %s", a.c("sign"), v(0), v(2))
		a.exp(2, 3, 4, 5)
		w.in("VADDPS %s, %s, %s", a.c("one"), v(2), v(2))
		w.in("VMOVUPS %s, %s", a.c("one"), v(3))
		w.in("VDIVPS %s, %s, %s", v(2), v(3), v(0))
		return
	}
	w.in("VANDPS %s, %s, %s", a.c("abs"), v(0), v(1))
	w.in("VADDPS %s, %s, %s", v(1), v(1), v(2))
	a.exp(2, 3, 4, 5)
	w.in("VADDPS %s, %s, %s", a.c("one"), v(2), v(2))
	w.in("VMOVUPS %s, %s", a.c("two"), v(3))
	w.in("VDIVPS %s, %s, %s", v(2), v(3), v(3))
	w.in("VMOVUPS %s, %s", a.c("one"), v(2))
	w.in("VSUBPS %s, %s, %s", v(3), v(2), v(2)) // 1 − 2/(e+1) ≥ 0
	w.in("VANDPS %s, %s, %s", a.c("sign"), v(0), v(3))
	w.in("VORPS %s, %s, %s", v(3), v(2), v(2))
	// |x| < 0.625: x + x·z·P(z), z = x².
	w.in("VMULPS %s, %s, %s", v(0), v(0), v(3))
	w.in("VMOVUPS %s, %s", a.c("t0"), v(4))
	for _, t := range []string{"t1", "t2", "t3", "t4"} {
		w.in("VFMADD213PS %s, %s, %s", a.c(t), v(3), v(4))
	}
	w.in("VMULPS %s, %s, %s", v(3), v(4), v(4))
	w.in("VFMADD213PS %s, %s, %s", v(0), v(0), v(4))
	a.blendLess(0, 1, a.c("tsmall"), 4, 2, 5) // |x| < 0.625; false for NaN
}

// gelu writes V0 = gelu(V0) (the package doc's form).
func (a actw) gelu() {
	w, v := a.w, a.v
	w.in("VANDPS %s, %s, %s", a.c("abs"), v(0), v(1))
	w.in("VMULPS %s, %s, %s", a.c("rsqrt2"), v(1), v(1)) // z
	w.in("VMOVUPS %s, %s", a.c("half"), v(2))
	w.in("VFMADD213PS %s, %s, %s", a.c("one"), v(1), v(2))
	w.in("VMOVUPS %s, %s", a.c("one"), v(3))
	w.in("VDIVPS %s, %s, %s", v(2), v(3), v(3)) // t
	w.in("VMOVUPS %s, %s", a.c("e9"), v(4))
	for i := 8; i >= 0; i-- {
		w.in("VFMADD213PS %s, %s, %s", a.c(fmt.Sprintf("e%d", i)), v(3), v(4))
	}
	w.in("VFNMADD231PS %s, %s, %s", v(1), v(1), v(4)) // P(t) − z²
	a.expf(4, 1, 2, 5)
	w.in("VMULPS %s, %s, %s", v(3), v(4), v(4))
	w.in("VMULPS %s, %s, %s", a.c("half"), v(4), v(4)) // q
	w.in("VMOVUPS %s, %s", a.c("one"), v(5))
	w.in("VSUBPS %s, %s, %s", v(4), v(5), v(5)) // 1 − q
	// Φ = q where x's sign bit is set, else 1 − q.
	if a.s.avx512() {
		w.in("VPMOVD2M Z0, K2")
		w.in("VBLENDMPS Z4, Z5, K2, Z5")
	} else {
		w.in("VBLENDVPS Y0, Y4, Y5, Y5")
	}
	w.in("VMULPS %s, %s, %s", v(5), v(0), v(0))
}

func avx2Act(w *asmw, k *Kernel)   { actAsm(w, k, simds[AVX2]) }
func avx512Act(w *asmw, k *Kernel) { actAsm(w, k, simds[AVX512]) }

// actAsm writes the Act kernel for s: one loop and one masked tail per
// function. GPRs: AX fn, CX the vectors left (then the tail length), SI
// a, DX b (0: none), DI y, R9 p, BX the tail mask table. V10 and V11 are
// p[0] and p[1] broadcast, Y15 is the AVX2 tail mask, K1 AVX-512's.
func actAsm(w *asmw, k *Kernel, s simd) {
	fn := k.Asm(s.isa)
	if !s.avx512() {
		avx2Mask(w, fn+"mask")
	}
	actConstTable(w, fn, s)
	a := actw{w: w, s: s, fn: fn}
	B := s.bytes
	w.p(`// func %s(fn, n int, a, b, y, p *float32)`, fn)
	w.p(`TEXT ·%s(SB), NOSPLIT, $0-48`, fn)
	w.in("MOVQ fn+0(FP), AX")
	w.in("MOVQ n+8(FP), CX")
	w.in("MOVQ a+16(FP), SI")
	w.in("MOVQ b+24(FP), DX")
	w.in("MOVQ y+32(FP), DI")
	w.in("MOVQ p+40(FP), R9")
	w.in("VBROADCASTSS (R9), %s", a.v(10))
	w.in("VBROADCASTSS 4(R9), %s", a.v(11))
	label := func(f int) string { return fn + strings.ReplaceAll(ActNames[f], "_", "") }
	for f := actFns - 1; f > 0; f-- {
		w.in("CMPQ AX, $%d", f)
		w.in("JEQ %s", label(f))
	}
	for f := range actFns {
		l := label(f)
		w.p("%s:", l)
		w.in("MOVQ CX, R8")
		w.in("SHRQ $%d, R8", log2(s.lanes))
		w.in("JZ %stail", l)
		w.p("%sloop:", l)
		w.in("VMOVUPS (SI), %s", a.v(0))
		w.in("TESTQ DX, DX")
		w.in("JZ %snob", l)
		w.in("VADDPS (DX), %s, %s", a.v(0), a.v(0))
		w.in("ADDQ $%d, DX", B)
		w.p("%snob:", l)
		a.body(f)
		w.in("VMOVUPS %s, (DI)", a.v(0))
		w.in("ADDQ $%d, SI", B)
		w.in("ADDQ $%d, DI", B)
		w.in("DECQ R8")
		w.in("JNZ %sloop", l)
		w.p("%stail:", l)
		w.in("ANDQ $%d, CX", s.lanes-1)
		w.in("JZ %sdone", fn)
		s.tailMask(w, "CX", fn+"mask", 15)
		s.load(w, true, "(SI)", 0, 15)
		w.in("TESTQ DX, DX")
		w.in("JZ %stnob", l)
		s.load(w, true, "(DX)", 1, 15)
		w.in("VADDPS %s, %s, %s", a.v(1), a.v(0), a.v(0))
		w.p("%stnob:", l)
		a.body(f)
		s.store(w, true, 0, "(DI)", 15)
		w.in("JMP %sdone", fn)
	}
	w.p("%sdone:", fn)
	w.in("VZEROUPPER")
	w.in("RET")
	w.p("")
}

package kernels

import (
	"fmt"
	"math"
)

// Act: the vectorized float32 activations of the recurrent gates,
// y[i] = f(a[i] + b[i]) (b may be nil), f the logistic sigmoid or tanh.
//
// exp is Cephes' expf: x clamped to [-87.3, 88.3] (NaN kept),
// n = round(x·log2 e), r = x − n·ln 2 in two parts (Cody–Waite), e^r a
// degree-7 polynomial (1 + r + r²·P5(r)), times 2^n built in the exponent
// bits. Then
//
//	sigmoid(x) = 1 / (1 + exp(−x))
//	tanh(x)    = x + x·x²·P4(x²)                 |x| < 0.625 (Cephes' tanhf)
//	           = sign(x)·(1 − 2/(exp(2|x|) + 1))  otherwise
//
// Measured over every 97th float32 bit pattern of both signs and the
// special values (TestActRange -act.step 97 in internal/asmtest, against
// float64 math; the twin and the assembly alike): sigmoid within 8.9e-8
// absolute and 2.42 ulp relative (where its value is at least 1e-30),
// tanh within 7.8e-8 absolute and 1.31 ulp relative, and exact on the
// denormals. The tests hold them to 1e-7 and 3 (sigmoid), 2 (tanh) ulp.
// NaN gives NaN, ±Inf gives 0 or 1 (sigmoid) and ±1 (tanh), a denormal x
// gives 0.5 and x.
const Act Op = 17

// The functions of an Act kernel (its fn argument).
const (
	ActSigmoid = 0
	ActTanh    = 1
)

func init() { templates[Act] = actTemplate }

// actKernel is the registered Act kernel.
var actKernel = &Kernel{
	Name: "avx2.act", Op: Act, ISAs: []ISA{AVX2}, MR: 1, NR: 8,
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
}

// actOff is the address of a constant's 8-lane vector in the table of
// the routine fn (fn + "c<>").
func actOff(fn, name string) string {
	for i, c := range actConsts {
		if c.name == name {
			return fmt.Sprintf("%sc<>+%d(SB)", fn, 32*i)
		}
	}
	panic("kernels: no act constant " + name)
}

var actTemplate = template{
	wrapper: `
// FUNC sets y[i] = f(a[i] + b[i]) for i < len(y), or f(a[i]) when b is
// nil: f the logistic sigmoid (fn 0) or tanh (fn 1) in float32, from a
// vectorized exp (codegen/kernels/act.go states the errors). a, b and y
// may be the same slice.
func FUNC(fn int, a, b, y []float32) {
	n := len(y)
	if n == 0 {
		return
	}
	if fn < 0 || fn > 1 {
		panic("FUNC: bad function")
	}
	_ = a[n-1]
	var bp *float32
	if b != nil {
		_ = b[n-1]
		bp = &b[0]
	}
	DISPATCH
	TWIN(fn, a, b, y)
}
`,
	calls: map[ISA]string{
		AVX2:   `ASM(fn, n, &a[0], bp, &y[0])`,
		AVX512: `ASM(fn, n, &a[0], bp, &y[0])`,
	},
	twin: `
// TWIN is FUNC in pure Go, with the same approximations: the fallback
// and the assembly's test oracle.
func TWIN(fn int, a, b, y []float32) {
	exp := func(x float32) float32 {
		x = max(min(x, 88.3), -87.3)
		n := float32(math.RoundToEven(float64(x * 1.44269504088896341)))
		r := x - n*0.693359375
		r -= n * -2.12194440e-4
		p := float32(1.9875691500e-4)
		p = p*r + 1.3981999507e-3
		p = p*r + 8.3334519073e-3
		p = p*r + 4.1665795894e-2
		p = p*r + 1.6666665459e-1
		p = p*r + 5.0000001201e-1
		p = p*(r*r) + r + 1
		return p * math.Float32frombits(uint32(int32(n)+127)<<23)
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
		if fn == 0 {
			y[i] = 1 / (1 + exp(-v))
			continue
		}
		ax := math.Float32frombits(math.Float32bits(v) &^ (1 << 31))
		if ax < 0.625 {
			z := v * v
			p := float32(-5.70498872745e-3)
			p = p*z + 2.06390887954e-2
			p = p*z - 5.37397155531e-2
			p = p*z + 1.33314422036e-1
			p = p*z - 3.33332819422e-1
			y[i] = v + v*(z*p)
			continue
		}
		t := 1 - 2/(exp(2*ax)+1)
		y[i] = math.Float32frombits(math.Float32bits(t) | math.Float32bits(v)&(1<<31))
	}
}
`,
	decl: `
// ASM is FUNC in _ISA_: n ≥ 1; b may be nil.
//
//go:noescape
func ASM(fn, n int, a, b, y *float32)
`,
	stub: `
func ASM(fn, n int, a, b, y *float32) {
	panic("ASM: no assembly in this build")
}
`,
}

// avx2ActConsts writes the constant table of the Act routine fn: each
// constant as 8 lanes, so every use is a full-width memory operand.
func avx2ActConsts(w *asmw, fn string) {
	for i, c := range actConsts {
		for l := range 8 {
			w.p("DATA %sc<>+%d(SB)/4, $0x%08x", fn, 32*i+4*l, math.Float32bits(c.v))
		}
	}
	w.p("GLOBL %sc<>(SB), RODATA|NOPTR, $%d", fn, 32*len(actConsts))
	w.p("")
}

// avx2Exp writes Y(a) = exp(Y(a)) with temporaries Y(b), Y(c), Y(d).
func avx2Exp(w *asmw, fn string, a, b, c, d int) {
	actOff := func(name string) string { return actOff(fn, name) }
	w.in("VMOVUPS %s, Y%d", actOff("expHi"), b)
	w.in("VMINPS Y%d, Y%d, Y%d", a, b, a) // NaN in Y(a) is kept
	w.in("VMOVUPS %s, Y%d", actOff("expLo"), b)
	w.in("VMAXPS Y%d, Y%d, Y%d", a, b, a)
	w.in("VMULPS %s, Y%d, Y%d", actOff("log2e"), a, b)
	w.in("VROUNDPS $0, Y%d, Y%d", b, b) // n, to nearest even
	w.in("VFNMADD231PS %s, Y%d, Y%d", actOff("ln2hi"), b, a)
	w.in("VFNMADD231PS %s, Y%d, Y%d", actOff("ln2lo"), b, a) // r
	w.in("VMOVUPS %s, Y%d", actOff("p0"), c)
	for _, p := range []string{"p1", "p2", "p3", "p4", "p5"} {
		w.in("VFMADD213PS %s, Y%d, Y%d", actOff(p), a, c)
	}
	w.in("VMULPS Y%d, Y%d, Y%d", a, a, d)
	w.in("VFMADD213PS Y%d, Y%d, Y%d", a, d, c) // r²·p + r
	w.in("VADDPS %s, Y%d, Y%d", actOff("one"), c, c)
	w.in("VCVTPS2DQ Y%d, Y%d", b, b)
	w.in("VPADDD %s, Y%d, Y%d", actOff("bias"), b, b)
	w.in("VPSLLD $23, Y%d, Y%d", b, b) // 2^n
	w.in("VMULPS Y%d, Y%d, Y%d", b, c, a)
}

// avx2ActBody writes Y0 = f(Y0) for fn; Y1–Y5 are clobbered.
func avx2ActBody(w *asmw, asm string, fn int) {
	actOff := func(name string) string { return actOff(asm, name) }
	if fn == ActSigmoid {
		w.in("VXORPS %s, Y0, Y2", actOff("sign"))
		avx2Exp(w, asm, 2, 3, 4, 5)
		w.in("VADDPS %s, Y2, Y2", actOff("one"))
		w.in("VMOVUPS %s, Y3", actOff("one"))
		w.in("VDIVPS Y2, Y3, Y0")
		return
	}
	w.in("VANDPS %s, Y0, Y1", actOff("abs"))
	w.in("VADDPS Y1, Y1, Y2")
	avx2Exp(w, asm, 2, 3, 4, 5)
	w.in("VADDPS %s, Y2, Y2", actOff("one"))
	w.in("VMOVUPS %s, Y3", actOff("two"))
	w.in("VDIVPS Y2, Y3, Y3")
	w.in("VMOVUPS %s, Y2", actOff("one"))
	w.in("VSUBPS Y3, Y2, Y2") // 1 − 2/(e+1) ≥ 0
	w.in("VANDPS %s, Y0, Y3", actOff("sign"))
	w.in("VORPS Y3, Y2, Y2")
	// |x| < 0.625: x + x·z·P(z), z = x².
	w.in("VMULPS Y0, Y0, Y3")
	w.in("VMOVUPS %s, Y4", actOff("t0"))
	for _, t := range []string{"t1", "t2", "t3", "t4"} {
		w.in("VFMADD213PS %s, Y3, Y4", actOff(t))
	}
	w.in("VMULPS Y3, Y4, Y4")
	w.in("VFMADD213PS Y0, Y0, Y4")
	w.in("VCMPPS $1, %s, Y1, Y5", actOff("tsmall")) // |x| < 0.625; false for NaN
	w.in("VBLENDVPS Y5, Y4, Y2, Y0")
}

// avx2Act writes the Act kernel. GPRs: AX fn, CX the 8-lane blocks left
// (then the tail length), SI a, DX b (0: none), DI y, BX the tail mask
// table. Y15 is the tail mask.
func avx2Act(w *asmw, k *Kernel) {
	fn := k.Asm(AVX2)
	avx2Mask(w, fn+"mask")
	avx2ActConsts(w, fn)
	w.p(`// func %s(fn, n int, a, b, y *float32)`, fn)
	w.p(`TEXT ·%s(SB), NOSPLIT, $0-40`, fn)
	w.in("MOVQ fn+0(FP), AX")
	w.in("MOVQ n+8(FP), CX")
	w.in("MOVQ a+16(FP), SI")
	w.in("MOVQ b+24(FP), DX")
	w.in("MOVQ y+32(FP), DI")
	w.in("CMPQ AX, $%d", ActTanh)
	w.in("JEQ %stanh", fn)
	for _, f := range []int{ActSigmoid, ActTanh} {
		l := fmt.Sprintf("%s%s", fn, []string{"sig", "tanh"}[f])
		w.p("%s:", l)
		w.in("MOVQ CX, R8")
		w.in("SHRQ $3, R8")
		w.in("JZ %stail", l)
		w.p("%sloop:", l)
		w.in("VMOVUPS (SI), Y0")
		w.in("TESTQ DX, DX")
		w.in("JZ %snob", l)
		w.in("VADDPS (DX), Y0, Y0")
		w.in("ADDQ $32, DX")
		w.p("%snob:", l)
		avx2ActBody(w, fn, f)
		w.in("VMOVUPS Y0, (DI)")
		w.in("ADDQ $32, SI")
		w.in("ADDQ $32, DI")
		w.in("DECQ R8")
		w.in("JNZ %sloop", l)
		w.p("%stail:", l)
		w.in("ANDQ $7, CX")
		w.in("JZ %sdone", fn)
		w.in("MOVQ CX, R8")
		w.in("NEGQ R8")
		w.in("LEAQ %smask<>(SB), BX", fn)
		w.in("VMOVUPS 32(BX)(R8*4), Y15")
		w.in("VMASKMOVPS (SI), Y15, Y0")
		w.in("TESTQ DX, DX")
		w.in("JZ %stnob", l)
		w.in("VMASKMOVPS (DX), Y15, Y1")
		w.in("VADDPS Y1, Y0, Y0")
		w.p("%stnob:", l)
		avx2ActBody(w, fn, f)
		w.in("VMASKMOVPS Y0, Y15, (DI)")
		w.in("JMP %sdone", fn)
	}
	w.p("%sdone:", fn)
	w.in("VZEROUPPER")
	w.in("RET")
	w.p("")
}

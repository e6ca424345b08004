package kernels

import (
	"fmt"
	"strings"
)

// Gemv: y[j] = c[j] + Σ_k x[k]·p[k·ldp + j] for j < 8·nv ≤ 64 (c nil:
// 0): one vector times up to 64 columns of a k-major matrix, each column
// accumulated in a vector lane. The recurrent layers call it with their
// weights transposed at compile time into k-major panels of 64 rows
// (WeightLayout "rnn-wT", codegen/rnn_simd.go: ldp = 64, one contiguous
// block per call), so a step's W_hh·h, plus the input projection as c,
// is 8 independent FMA chains per k with no horizontal sums.
const Gemv Op = 18

// gemvKernel is the registered Gemv kernel.
//
// AVX2 only: the AVX-512 routine (avx512Gemv, in the test kernels of
// internal/asmtest) measured 1.25–1.4× slower inside the 2-layer LSTM
// (hidden 128) on the Intel machine of the benchmarks.
var gemvKernel = &Kernel{
	Name: "avx2.gemv64", Op: Gemv, ISAs: []ISA{AVX2}, MR: 1, NR: 64,
	PackA: Vector, PackB: Panel, WeightLayout: "rnn-wT", Epilogues: Bias, Func: "simdGemv",
}

func init() { templates[Gemv] = gemvTemplate }

var gemvTemplate = template{
	wrapper: `
// FUNC sets y[j] = c[j] + Σ_k x[k]·p[k*ldp+j] for j < 8*nv (1 ≤ nv ≤ 8)
// and k < len(x); c may be nil (0) or y itself.
func FUNC(nv int, x, p []float32, ldp int, c, y []float32) {
	k, n := len(x), 8*nv
	if nv < 1 || nv > 8 || k < 1 || ldp < n {
		panic("FUNC: bad shape")
	}
	_ = p[(k-1)*ldp+n-1]
	_ = y[n-1]
	var cp *float32
	if c != nil {
		_ = c[n-1]
		cp = &c[0]
	}
	DISPATCH
	TWIN(nv, x, p, ldp, c, y)
}
`,
	calls: map[ISA]string{
		AVX2:   `ASM(nv, k, &x[0], &p[0], ldp, cp, &y[0])`,
		AVX512: `ASM(nv, k, &x[0], &p[0], ldp, cp, &y[0])`,
	},
	twin: `
// TWIN is FUNC in pure Go: the fallback and the assembly's test oracle.
func TWIN(nv int, x, p []float32, ldp int, c, y []float32) {
	n := 8 * nv
	var acc [64]float32
	a := acc[:n]
	if c != nil {
		copy(a, c[:n])
	}
	for k, xv := range x {
		row := p[k*ldp : k*ldp+n]
		a := a[:len(row)]
		for j, pv := range row {
			a[j] += xv * pv
		}
	}
	copy(y[:n], a)
}
`,
	decl: `
// ASM is FUNC in _ISA_: 1 ≤ nv ≤ 8, k ≥ 1; c may be nil.
//
//go:noescape
func ASM(nv, k int, x, p *float32, ldp int, c, y *float32)
`,
	stub: `
func ASM(nv, k int, x, p *float32, ldp int, c, y *float32) {
	panic("ASM: no assembly in this build")
}
`,
}

// avx2Gemv writes the Gemv kernel: one unrolled body per nv. GPRs: AX
// nv, CX k, SI x, DX p, BX ldp in bytes, R8 c, DI y. With nv ≤ 4 the k
// loop is unrolled by 2 into a second set of accumulators (Y4…), summed
// at the end, so at least 2·nv FMA chains are in flight.
func avx2Gemv(w *asmw, k *Kernel) {
	fn := k.Asm(AVX2)
	w.p(`// func %s(nv, k int, x, p *float32, ldp int, c, y *float32)`, fn)
	w.p(`TEXT ·%s(SB), NOSPLIT, $0-56`, fn)
	w.in("MOVQ nv+0(FP), AX")
	w.in("MOVQ k+8(FP), CX")
	w.in("MOVQ x+16(FP), SI")
	w.in("MOVQ p+24(FP), DX")
	w.in("MOVQ ldp+32(FP), BX")
	w.in("SHLQ $2, BX")
	w.in("MOVQ c+40(FP), R8")
	w.in("MOVQ y+48(FP), DI")
	w.dispatch(fn+"nv", 8)
	for nv := 1; nv <= 8; nv++ {
		l := fmt.Sprintf("%snv%d", fn, nv)
		two := nv <= 4
		w.p("%s:", l)
		w.in("TESTQ R8, R8")
		w.in("JZ %szero", l)
		for v := range nv {
			w.in("VMOVUPS %d(R8), Y%d", 32*v, v)
		}
		w.in("JMP %sinit", l)
		w.p("%szero:", l)
		for v := range nv {
			w.in("VXORPS Y%d, Y%d, Y%d", v, v, v)
		}
		w.p("%sinit:", l)
		if two {
			for v := range nv {
				w.in("VXORPS Y%d, Y%d, Y%d", 4+v, 4+v, 4+v)
			}
			w.in("MOVQ CX, R9")
			w.in("SHRQ $1, R9")
			w.in("JZ %sodd", l)
			w.p("%sloop2:", l)
			w.in("VBROADCASTSS (SI), Y8")
			w.in("VBROADCASTSS 4(SI), Y9")
			for v := range nv {
				w.in("VFMADD231PS %d(DX), Y8, Y%d", 32*v, v)
				w.in("VFMADD231PS %d(DX)(BX*1), Y9, Y%d", 32*v, 4+v)
			}
			w.in("ADDQ $8, SI")
			w.in("LEAQ (DX)(BX*2), DX")
			w.in("DECQ R9")
			w.in("JNZ %sloop2", l)
			w.p("%sodd:", l)
			w.in("TESTQ $1, CX")
			w.in("JZ %ssum", l)
		} else {
			w.p("%sloop:", l)
		}
		w.in("VBROADCASTSS (SI), Y8")
		for v := range nv {
			w.in("VFMADD231PS %d(DX), Y8, Y%d", 32*v, v)
		}
		if !two {
			w.in("ADDQ $4, SI")
			w.in("ADDQ BX, DX")
			w.in("DECQ CX")
			w.in("JNZ %sloop", l)
		} else {
			w.p("%ssum:", l)
			for v := range nv {
				w.in("VADDPS Y%d, Y%d, Y%d", 4+v, v, v)
			}
		}
		for v := range nv {
			w.in("VMOVUPS Y%d, %d(DI)", v, 32*v)
		}
		w.in("VZEROUPPER")
		w.in("RET")
	}
	w.p("")
}

// avx512Gemv writes the Gemv kernel in AVX-512: one unrolled body per nv,
// ⌈nv/2⌉ zmm accumulators (the last masked by K1 to 8 lanes when nv is
// odd), the k loop unrolled by 2 into a second set (Z4…) summed at the
// end, so 2·⌈nv/2⌉ FMA chains are in flight; row k+1 has its own
// pointer (R10; BX then 2·ldp), as an indexed memory operand would split
// each fused multiply-add into more micro-ops. GPRs as avx2Gemv.
func avx512Gemv(w *asmw, k *Kernel) {
	fn := k.Asm(AVX512)
	w.p(`// func %s(nv, k int, x, p *float32, ldp int, c, y *float32)`, fn)
	w.p(`TEXT ·%s(SB), NOSPLIT, $0-56`, fn)
	w.in("MOVQ nv+0(FP), AX")
	w.in("MOVQ k+8(FP), CX")
	w.in("MOVQ x+16(FP), SI")
	w.in("MOVQ p+24(FP), DX")
	w.in("MOVQ ldp+32(FP), BX")
	w.in("SHLQ $2, BX")
	w.in("MOVQ c+40(FP), R8")
	w.in("MOVQ y+48(FP), DI")
	w.in("MOVQ $0xff, R9")
	w.in("KMOVW R9, K1")
	w.dispatch(fn+"nv", 8)
	for nv := 1; nv <= 8; nv++ {
		l := fmt.Sprintf("%snv%d", fn, nv)
		nz := (nv + 1) / 2
		odd := nv%2 == 1
		// fma adds src·V(b) into V(acc) for vector v (masked last).
		op := func(ins string, v int, args string) {
			if odd && v == nz-1 {
				i := strings.LastIndex(args, ", ")
				args = args[:i] + ", K1" + args[i:]
			}
			w.in("%s %s", ins, args)
		}
		w.p("%s:", l)
		w.in("TESTQ R8, R8")
		w.in("JZ %szero", l)
		for v := range nz {
			if odd && v == nz-1 {
				w.in("VMOVUPS.Z %d(R8), K1, Z%d", 64*v, v)
			} else {
				w.in("VMOVUPS %d(R8), Z%d", 64*v, v)
			}
		}
		w.in("JMP %sinit", l)
		w.p("%szero:", l)
		for v := range nz {
			w.in("VPXORD Z%d, Z%d, Z%d", v, v, v)
		}
		w.p("%sinit:", l)
		for v := range nz {
			w.in("VPXORD Z%d, Z%d, Z%d", 4+v, 4+v, 4+v)
		}
		w.in("MOVQ CX, R9")
		w.in("SHRQ $1, R9")
		w.in("JZ %sodd", l)
		w.in("LEAQ (DX)(BX*1), R10")
		w.in("SHLQ $1, BX")
		w.p("%sloop2:", l)
		w.in("VBROADCASTSS (SI), Z8")
		w.in("VBROADCASTSS 4(SI), Z9")
		for v := range nz {
			op("VFMADD231PS", v, fmt.Sprintf("%d(DX), Z8, Z%d", 64*v, v))
			op("VFMADD231PS", v, fmt.Sprintf("%d(R10), Z9, Z%d", 64*v, 4+v))
		}
		w.in("ADDQ $8, SI")
		w.in("ADDQ BX, DX")
		w.in("ADDQ BX, R10")
		w.in("DECQ R9")
		w.in("JNZ %sloop2", l)
		w.p("%sodd:", l)
		w.in("TESTQ $1, CX")
		w.in("JZ %ssum", l)
		w.in("VBROADCASTSS (SI), Z8")
		for v := range nz {
			op("VFMADD231PS", v, fmt.Sprintf("%d(DX), Z8, Z%d", 64*v, v))
		}
		w.p("%ssum:", l)
		for v := range nz {
			w.in("VADDPS Z%d, Z%d, Z%d", 4+v, v, v)
			if odd && v == nz-1 {
				w.in("VMOVUPS Z%d, K1, %d(DI)", v, 64*v)
			} else {
				w.in("VMOVUPS Z%d, %d(DI)", v, 64*v)
			}
		}
		w.in("VZEROUPPER")
		w.in("RET")
	}
	w.p("")
}

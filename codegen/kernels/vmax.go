package kernels

import "fmt"

// VMax: y[j] = max(y[j], x[j]) for j < len(y), NaN when either is NaN:
// the vertical step of a max pool (codegen/conv_pool.go), which reduces
// a window's rows column by column before its columns. Where the two are
// zeros of different signs the result may be either.
const VMax Op = 21

// vmaxKernel is the registered VMax kernel.
var vmaxKernel = &Kernel{
	Name: "avx512.vmax", Op: VMax, ISAs: []ISA{AVX512, AVX2}, MR: 1, NR: 16,
	PackA: Vector, PackB: Vector, Func: "simdVMax",
}

func init() {
	templates[VMax] = vmaxTemplate
	generators[AVX512][VMax] = avx512VMax
	generators[AVX2][VMax] = avx2VMax
}

var vmaxTemplate = template{
	wrapper: `
// FUNC sets y[j] = max(y[j], x[j]) for j < len(y), NaN when either is
// NaN (x must be as long).
func FUNC(y, x []float32) {
	n := len(y)
	if n == 0 {
		return
	}
	_ = x[n-1]
	DISPATCH
	TWIN(y, x)
}
`,
	calls: map[ISA]string{
		AVX512: `ASM(n, &y[0], &x[0])`,
		// AVX2: whole vectors; the tail in Go.
		AVX2: `m := n &^ 7
if m > 0 {
	ASM(m, &y[0], &x[0])
}
TWIN(y[m:], x[m:])`,
	},
	twin: `
// TWIN is FUNC in pure Go: the fallback and the assembly's test oracle.
func TWIN(y, x []float32) {
	x = x[:len(y)]
	for j, v := range x {
		y[j] = max(y[j], v)
	}
}
`,
	decl: `
// ASM is FUNC in _ISA_: n ≥ 1 (AVX2: a multiple of 8).
//
//go:noescape
func ASM(n int, y, x *float32)
`,
	stub: `
func ASM(n int, y, x *float32) {
	panic("ASM: no assembly in this build")
}
`,
}

// avx512VMax writes the VMax kernel in AVX-512: 16 columns at a time,
// the tail masked by K1. GPRs: CX n, DI y, SI x. VMAXPS returns its
// second source (x) when either is NaN; a NaN in y is blended back.
func avx512VMax(w *asmw, k *Kernel) {
	fn := k.Asm(AVX512)
	w.p(`// func %s(n int, y, x *float32)`, fn)
	w.p(`TEXT ·%s(SB), NOSPLIT, $0-24`, fn)
	w.in("MOVQ n+0(FP), CX")
	w.in("MOVQ y+8(FP), DI")
	w.in("MOVQ x+16(FP), SI")
	w.p("%sloop:", fn)
	w.in("CMPQ CX, $16")
	w.in("JLT %stail", fn)
	vmax512(w, "")
	w.in("ADDQ $64, DI")
	w.in("ADDQ $64, SI")
	w.in("SUBQ $16, CX")
	w.in("JNZ %sloop", fn)
	w.in("VZEROUPPER")
	w.in("RET")
	w.p("%stail:", fn)
	w.in("MOVQ $1, AX")
	w.in("SHLQ CX, AX")
	w.in("DECQ AX")
	w.in("KMOVW AX, K1")
	vmax512(w, "K1")
	w.in("VZEROUPPER")
	w.in("RET")
	w.p("")
}

// vmax512 is one vector of VMax, masked by mask unless "".
func vmax512(w *asmw, mask string) {
	ld, st := "VMOVUPS (DI), Z0", "VMOVUPS Z2, (DI)"
	ldx := "VMOVUPS (SI), Z1"
	if mask != "" {
		ld = fmt.Sprintf("VMOVUPS.Z (DI), %s, Z0", mask)
		ldx = fmt.Sprintf("VMOVUPS.Z (SI), %s, Z1", mask)
		st = fmt.Sprintf("VMOVUPS Z2, %s, (DI)", mask)
	}
	w.in("%s", ld)
	w.in("%s", ldx)
	w.in("VMAXPS Z1, Z0, Z2")
	w.in("VCMPPS $3, Z0, Z0, K2") // unordered: y is NaN
	w.in("VBLENDMPS Z0, Z2, K2, Z2")
	w.in("%s", st)
}

// avx2VMax writes the VMax kernel in AVX2: 8 columns at a time, n a
// multiple of 8. GPRs as avx512VMax.
func avx2VMax(w *asmw, k *Kernel) {
	fn := k.Asm(AVX2)
	w.p(`// func %s(n int, y, x *float32)`, fn)
	w.p(`TEXT ·%s(SB), NOSPLIT, $0-24`, fn)
	w.in("MOVQ n+0(FP), CX")
	w.in("MOVQ y+8(FP), DI")
	w.in("MOVQ x+16(FP), SI")
	w.p("%sloop:", fn)
	w.in("VMOVUPS (DI), Y0")
	w.in("VMOVUPS (SI), Y1")
	w.in("VMAXPS Y1, Y0, Y2")
	w.in("VCMPPS $3, Y0, Y0, Y3")
	w.in("VBLENDVPS Y3, Y0, Y2, Y2")
	w.in("VMOVUPS Y2, (DI)")
	w.in("ADDQ $32, DI")
	w.in("ADDQ $32, SI")
	w.in("SUBQ $8, CX")
	w.in("JNZ %sloop", fn)
	w.in("VZEROUPPER")
	w.in("RET")
	w.p("")
}

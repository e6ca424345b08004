package kernels

import (
	"fmt"
	"strings"
)

// The AVX2/FMA assembly generator (amd64, Go's assembler syntax).
//
// Registers are allocated from the kernel's block shape, not fixed:
//
//	ymm    Dot: row i's 16 partial sums in Y(2i), Y(2i+1), x in the next
//	       two, the scalar tails after them. (Gemm: gemmasm.go.)
//	rows   row i of the row-major operand is at base[i/3] + (i%3)·ld, the
//	       bases (SI, R8, R10, R11: up to 12 rows) 3·ld apart, so every
//	       load is one addressing mode: off(base), off(base)(DX*1),
//	       off(base)(DX*2), with DX = ld in bytes.
//
// Each kernel dispatches on r once and has one unrolled body per row
// count 1 ≤ r ≤ MR, so no row test runs inside the k loop.
//
// Numerics: Gemm accumulates each output over k in order, one fused
// multiply-add per term (the twin's order; FMA only skips the
// intermediate rounding). Dot keeps 16 partial sums per row (k ≡ j mod
// 16), adds them pairwise in a fixed order, then the scalar tail (k ≥
// K−K%8). Both are deterministic: the order depends only on the shapes.

// avx2Bases are the general registers holding row bases, in order.
var avx2Bases = []string{"SI", "R8", "R10", "R11"}

// avx2Registers returns the ymm registers a kernel needs and AVX2's 16;
// a block with more rows than the bases address reports 17. A Gemm
// kernel runs avx2Rows rows per pass, so it needs one row to fit.
func avx2Registers(k *Kernel) (need, have int) {
	switch k.Op {
	case Gemv:
		return 10, 16 // 8 accumulators, 2 broadcasts
	case Mean:
		return 14, 16 // 4 accumulators, 4 conversions, 2 tail masks, 3 tail loads, div
	case Depthwise, Act, Split, PoolMax, DWPlane, PoolAvg:
		return 9, 16
	}
	if k.Op == Dot {
		if (k.MR+2)/3 > len(avx2Bases) {
			return 17, 16
		}
		return 3*k.MR + 2, 16
	}
	nv := k.NR / 8
	return nv + nv + 1, 16
}

// avx2Rows is the rows of a Gemm kernel's block that one AVX2 pass
// computes: as many as fit the 16 ymm registers (nv accumulators per
// row, nv for the panel row, one broadcast) and the row bases. The
// generated wrapper runs ⌈r/avx2Rows⌉ passes.
func avx2Rows(k *Kernel) int {
	nv := k.NR / 8
	return max(1, min(k.MR, (16-nv-1)/nv, 3*len(avx2Bases)))
}

// asmw writes assembly lines.
type asmw struct{ b strings.Builder }

func (w *asmw) p(format string, args ...any) { fmt.Fprintf(&w.b, format+"\n", args...) }

// in writes one indented instruction.
func (w *asmw) in(format string, args ...any) { w.p("\t"+format, args...) }

// rowAddr is the address of row i of the row-major operand, plus off bytes.
func rowAddr(i, off int) string {
	base := avx2Bases[i/3]
	switch i % 3 {
	case 0:
		return fmt.Sprintf("%d(%s)", off, base)
	case 1:
		return fmt.Sprintf("%d(%s)(DX*1)", off, base)
	}
	return fmt.Sprintf("%d(%s)(DX*2)", off, base)
}

// setBases computes the row bases after SI (row 0) and DX (the stride).
func (w *asmw) setBases(mr int) {
	for j := 1; j < (mr+2)/3; j++ {
		w.in("LEAQ (%s)(DX*2), %s", avx2Bases[j-1], avx2Bases[j])
		w.in("ADDQ DX, %s", avx2Bases[j])
	}
}

// advance moves the bases of r rows on by n bytes.
func (w *asmw) advance(r, n int) {
	for j := 0; j < (r+2)/3; j++ {
		w.in("ADDQ $%d, %s", n, avx2Bases[j])
	}
}

// dispatch jumps to label+r for r (in AX) in 1..mr.
func (w *asmw) dispatch(label string, mr int) {
	for r := mr; r >= 2; r-- {
		w.in("CMPQ AX, $%d", r)
		w.in("JEQ %s%d", label, r)
	}
	w.in("JMP %s1", label)
}

// cpuProbe writes cpuISA, which returns the generated level constant of
// the best instruction set the CPU and OS support: 0 (none: pure Go),
// isaAVX2 (AVX2 and FMA, the OS saving ymm state) or isaAVX512 (also
// AVX-512 F, DQ, BW and VL, the OS saving the opmask and zmm state).
func cpuProbe(w *asmw) {
	w.p(`// func cpuISA() int`)
	w.p(`TEXT ·cpuISA(SB), NOSPLIT, $0-8`)
	w.in("MOVQ $0, ret+0(FP)")
	w.in("MOVL $1, AX")
	w.in("XORL CX, CX")
	w.in("CPUID")
	w.in("// ECX: FMA (bit 12), OSXSAVE (27), AVX (28).")
	w.in("ANDL $0x18001000, CX")
	w.in("CMPL CX, $0x18001000")
	w.in("JNE done")
	w.in("// XCR0: the OS saves xmm (bit 1) and ymm (bit 2) state; R8 keeps it.")
	w.in("XORL CX, CX")
	w.in("XGETBV")
	w.in("MOVL AX, R8")
	w.in("ANDL $6, AX")
	w.in("CMPL AX, $6")
	w.in("JNE done")
	w.in("// Leaf 7, EBX: AVX2 (bit 5).")
	w.in("MOVL $7, AX")
	w.in("XORL CX, CX")
	w.in("CPUID")
	w.in("TESTL $0x20, BX")
	w.in("JZ done")
	w.in("MOVQ $1, ret+0(FP)")
	w.in("// EBX: AVX512F (16), DQ (17), BW (30), VL (31).")
	w.in("ANDL $0xC0030000, BX")
	w.in("CMPL BX, $0xC0030000")
	w.in("JNE done")
	w.in("// XCR0: opmask (bit 5), upper halves of zmm0-15 (6), zmm16-31 (7).")
	w.in("ANDL $0xE0, R8")
	w.in("CMPL R8, $0xE0")
	w.in("JNE done")
	w.in("MOVQ $2, ret+0(FP)")
	w.p("done:")
	w.in("RET")
	w.p("")
}

// avx2Dot writes a Dot kernel. GPRs: AX r (then the out pointer), CX k,
// DI x, SI and the other bases the rows of w, DX ldw in bytes, R9 the
// k/16 counter.
func avx2Dot(w *asmw, k *Kernel) {
	xr := 2 * k.MR
	tail := func(i int) int { return 2*k.MR + 2 + i }
	fn := k.Asm(AVX2)
	w.p(`// func %s(r, k int, x *float32, w *float32, ldw int, out *float32)`, fn)
	w.p(`TEXT ·%s(SB), NOSPLIT, $0-48`, fn)
	w.in("MOVQ r+0(FP), AX")
	w.in("MOVQ k+8(FP), CX")
	w.in("MOVQ x+16(FP), DI")
	w.in("MOVQ w+24(FP), SI")
	w.in("MOVQ ldw+32(FP), DX")
	w.in("SHLQ $2, DX")
	w.setBases(k.MR)
	w.dispatch("dot", k.MR)
	adv := func(r, n int) {
		w.in("ADDQ $%d, DI", n)
		w.advance(r, n)
	}
	for r := 1; r <= k.MR; r++ {
		l := fmt.Sprintf("dot%d", r)
		w.p("%s:", l)
		for i := range r {
			w.in("VXORPS Y%d, Y%d, Y%d", 2*i, 2*i, 2*i)
			w.in("VXORPS Y%d, Y%d, Y%d", 2*i+1, 2*i+1, 2*i+1)
			w.in("VXORPS X%d, X%d, X%d", tail(i), tail(i), tail(i))
		}
		w.in("MOVQ CX, R9")
		w.in("SHRQ $4, R9")
		w.in("JZ %s8", l)
		w.p("%sloop16:", l)
		w.in("VMOVUPS (DI), Y%d", xr)
		w.in("VMOVUPS 32(DI), Y%d", xr+1)
		for i := range r {
			w.in("VFMADD231PS %s, Y%d, Y%d", rowAddr(i, 0), xr, 2*i)
			w.in("VFMADD231PS %s, Y%d, Y%d", rowAddr(i, 32), xr+1, 2*i+1)
		}
		adv(r, 64)
		w.in("DECQ R9")
		w.in("JNZ %sloop16", l)
		w.p("%s8:", l)
		w.in("TESTQ $8, CX")
		w.in("JZ %s1", l)
		w.in("VMOVUPS (DI), Y%d", xr)
		for i := range r {
			w.in("VFMADD231PS %s, Y%d, Y%d", rowAddr(i, 0), xr, 2*i)
		}
		adv(r, 32)
		w.p("%s1:", l)
		w.in("ANDQ $7, CX")
		w.in("JZ %ssum", l)
		w.p("%sloop1:", l)
		w.in("VMOVSS (DI), X%d", xr)
		for i := range r {
			w.in("VFMADD231SS %s, X%d, X%d", rowAddr(i, 0), xr, tail(i))
		}
		adv(r, 4)
		w.in("DECQ CX")
		w.in("JNZ %sloop1", l)
		w.p("%ssum:", l)
		w.in("MOVQ out+40(FP), AX")
		for i := range r {
			a, c := 2*i, 2*i+1
			w.in("VADDPS Y%d, Y%d, Y%d", c, a, a)
			w.in("VEXTRACTF128 $1, Y%d, X%d", a, c)
			w.in("VADDPS X%d, X%d, X%d", c, a, a)
			w.in("VHADDPS X%d, X%d, X%d", a, a, a)
			w.in("VHADDPS X%d, X%d, X%d", a, a, a)
			w.in("VADDSS X%d, X%d, X%d", tail(i), a, a)
			w.in("VMOVSS X%d, %d(AX)", a, 4*i)
		}
		w.in("VZEROUPPER")
		w.in("RET")
	}
	w.p("")
}

func log2(n int) int {
	l := 0
	for 1<<l < n {
		l++
	}
	return l
}

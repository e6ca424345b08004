package kernels

import (
	"fmt"
	"strings"
)

// The AVX2/FMA assembly generator (amd64, Go's assembler syntax).
//
// Registers are allocated from the kernel's block shape, not fixed:
//
//	ymm    Gemm: row i's NR columns accumulate in Y(i·nv) … Y(i·nv+nv−1)
//	       (nv = NR/8), the panel row in the next nv registers, then one
//	       broadcast register; Dot: row i's 16 partial sums in Y(2i),
//	       Y(2i+1), x in the next two, the scalar tails after them.
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
// a block with more rows than the bases address reports 17.
func avx2Registers(k *Kernel) (need, have int) {
	if (k.MR+2)/3 > len(avx2Bases) {
		return 17, 16
	}
	if k.Op == Dot {
		return 3*k.MR + 2, 16
	}
	nv := k.NR / k.Lanes
	return k.MR*nv + nv + 1, 16
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

// avx2Probe writes cpuHasAVX2FMA.
func avx2Probe(w *asmw) {
	w.p(`// func cpuHasAVX2FMA() bool`)
	w.p(`TEXT ·cpuHasAVX2FMA(SB), NOSPLIT, $0-1`)
	w.in("MOVL $1, AX")
	w.in("XORL CX, CX")
	w.in("CPUID")
	w.in("// ECX: FMA (bit 12), OSXSAVE (27), AVX (28).")
	w.in("ANDL $0x18001000, CX")
	w.in("CMPL CX, $0x18001000")
	w.in("JNE no")
	w.in("// XCR0: the OS saves xmm (bit 1) and ymm (bit 2) state.")
	w.in("XORL CX, CX")
	w.in("XGETBV")
	w.in("ANDL $6, AX")
	w.in("CMPL AX, $6")
	w.in("JNE no")
	w.in("// Leaf 7, EBX: AVX2 (bit 5).")
	w.in("MOVL $7, AX")
	w.in("XORL CX, CX")
	w.in("CPUID")
	w.in("ANDL $0x20, BX")
	w.in("JZ no")
	w.in("MOVB $1, ret+0(FP)")
	w.in("RET")
	w.p("no:")
	w.in("MOVB $0, ret+0(FP)")
	w.in("RET")
	w.p("")
}

// maxNaN sets Y(a) = max(Y(a), Y(t)), NaN when either is NaN (as the
// interpreter's max pool and the twin), the lower column on ties; Y(m) is
// clobbered. VMAXPS alone returns its second source when either is NaN,
// so a NaN in Y(t) is blended back in.
func (w *asmw) maxNaN(a, t, m int) {
	w.in("VCMPPS $3, Y%d, Y%d, Y%d", t, t, m) // unordered: t is NaN
	w.in("VMAXPS Y%d, Y%d, Y%d", a, t, a)
	w.in("VBLENDVPS Y%d, Y%d, Y%d, Y%d", m, t, a, a)
}

// avx2Gemm writes a Gemm kernel. GPRs: AX r (then the bias pointer), CX
// k, SI and the other bases the rows of a, DX lda in bytes, BX the
// panel, DI c, R9 the k/4 counter, R12 flags, R13 the pool level.
func avx2Gemm(w *asmw, k *Kernel) {
	nv := k.NR / k.Lanes
	acc := func(i, v int) int { return i*nv + v }
	breg := func(v int) int { return k.MR*nv + v }
	bc := k.MR*nv + nv
	fn := k.Asm()
	w.p(`// func %s(r, k int, a *float32, lda int, b *float32, c *float32, bias *float32, flags int)`, fn)
	w.p(`TEXT ·%s(SB), NOSPLIT, $0-64`, fn)
	w.in("MOVQ r+0(FP), AX")
	w.in("MOVQ k+8(FP), CX")
	w.in("MOVQ a+16(FP), SI")
	w.in("MOVQ lda+24(FP), DX")
	w.in("SHLQ $2, DX")
	w.in("MOVQ b+32(FP), BX")
	w.in("MOVQ c+40(FP), DI")
	w.setBases(k.MR)
	w.dispatch("gemm", k.MR)
	step := func(r, u int) {
		for v := range nv {
			w.in("VMOVUPS %d(BX), Y%d", u*4*k.NR+32*v, breg(v))
		}
		for i := range r {
			w.in("VBROADCASTSS %s, Y%d", rowAddr(i, u*4), bc)
			for v := range nv {
				w.in("VFMADD231PS Y%d, Y%d, Y%d", breg(v), bc, acc(i, v))
			}
		}
	}
	lg := log2(k.NR)
	for r := 1; r <= k.MR; r++ {
		l := fmt.Sprintf("gemm%d", r)
		w.p("%s:", l)
		for i := range r * nv {
			w.in("VXORPS Y%d, Y%d, Y%d", i, i, i)
		}
		w.in("MOVQ CX, R9")
		w.in("SHRQ $2, R9")
		w.in("JZ %stail", l)
		w.p("%sloop4:", l)
		for u := range 4 {
			step(r, u)
		}
		w.advance(r, 16)
		w.in("ADDQ $%d, BX", 16*k.NR)
		w.in("DECQ R9")
		w.in("JNZ %sloop4", l)
		w.p("%stail:", l)
		w.in("ANDQ $3, CX")
		w.in("JZ %sstore", l)
		w.p("%sloop1:", l)
		step(r, 0)
		w.advance(r, 4)
		w.in("ADDQ $%d, BX", 4*k.NR)
		w.in("DECQ CX")
		w.in("JNZ %sloop1", l)
		w.p("%sstore:", l)
		// Pool: max over groups of 2^p columns, the largest level
		// first: whole registers (p ≥ 4: nv ≥ 2), then 128-bit halves,
		// quads, pairs; each group's maximum ends in its first column.
		w.in("MOVQ flags+56(FP), R12")
		w.in("MOVQ R12, R13")
		w.in("SHRQ $2, R13")
		for p := lg; p >= 1; p-- {
			w.in("CMPQ R13, $%d", p)
			w.in("JLT %sp%d", l, p)
			for i := range r {
				switch {
				case p >= 4:
					half := 1 << (p - 4)
					for v := range nv {
						if v%(2*half) < half {
							w.maxNaN(acc(i, v), acc(i, v+half), breg(0))
						}
					}
				case p == 3:
					for v := range nv {
						w.in("VPERM2F128 $1, Y%d, Y%d, Y%d", acc(i, v), acc(i, v), bc)
						w.maxNaN(acc(i, v), bc, breg(0))
					}
				default:
					imm := map[int]string{2: "0x4E", 1: "0xB1"}[p]
					for v := range nv {
						w.in("VPERMILPS $%s, Y%d, Y%d", imm, acc(i, v), bc)
						w.maxNaN(acc(i, v), bc, breg(0))
					}
				}
			}
			w.p("%sp%d:", l, p)
		}
		w.in("TESTQ $1, R12")
		w.in("JZ %srelu", l)
		w.in("MOVQ bias+48(FP), AX")
		for i := range r {
			w.in("VBROADCASTSS %d(AX), Y%d", 4*i, bc)
			for v := range nv {
				w.in("VADDPS Y%d, Y%d, Y%d", bc, acc(i, v), acc(i, v))
			}
		}
		w.p("%srelu:", l)
		// max(0, v) keeps NaN and −0 like v < 0 ? 0 : v.
		w.in("TESTQ $2, R12")
		w.in("JZ %sout", l)
		w.in("VXORPS Y%d, Y%d, Y%d", bc, bc, bc)
		for i := range r * nv {
			w.in("VMAXPS Y%d, Y%d, Y%d", i, bc, i)
		}
		w.p("%sout:", l)
		for i := range r * nv {
			w.in("VMOVUPS Y%d, %d(DI)", i, 32*i)
		}
		w.in("VZEROUPPER")
		w.in("RET")
	}
	w.p("")
}

// avx2Dot writes a Dot kernel. GPRs: AX r (then the out pointer), CX k,
// DI x, SI and the other bases the rows of w, DX ldw in bytes, R9 the
// k/16 counter.
func avx2Dot(w *asmw, k *Kernel) {
	xr := 2 * k.MR
	tail := func(i int) int { return 2*k.MR + 2 + i }
	fn := k.Asm()
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

// avx2Asm is the kernels_amd64.s of the given AVX2 kernels.
func avx2Asm(ks []*Kernel) string {
	var w asmw
	w.p(`#include "textflag.h"`)
	w.p("")
	avx2Probe(&w)
	for _, k := range ks {
		switch k.Op {
		case Gemm:
			avx2Gemm(&w, k)
		case Dot:
			avx2Dot(&w, k)
		}
	}
	return strings.TrimRight(w.b.String(), "\n") + "\n"
}

func log2(n int) int {
	l := 0
	for 1<<l < n {
		l++
	}
	return l
}

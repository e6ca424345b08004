package codegen

import (
	"fmt"
	"strings"
)

// SIMD kernels. A node whose schedule has Vector == simdWidth (8 float32
// lanes: AVX2) calls two fixed micro-kernels instead of scalar loops:
//
//	simdGemm16(r, a, lda, b, c)  c[i·16+j] = Σ_k a[i·lda+k]·b[k·16+j]
//	                             for i < r ≤ 6, j < 16, k < len(b)/16:
//	                             r rows of a row-major matrix times one
//	                             packed panel of 16 columns (im2col conv)
//	simdDot(r, x, w, ldw, out)   out[i] = Σ_k x[k]·w[i·ldw+k] for i < r ≤ 4,
//	                             k < len(x): dot products of contiguous
//	                             rows (dense, any batch)
//
// They are the same for every model, so a generated package that uses
// them gets the same four files (simdFiles):
//
//	kernels_simd.go   the wrappers (bounds checked once) and the pure-Go
//	                  versions, built everywhere
//	kernels_amd64.go  the assembly declarations; haveSIMD is set at init
//	                  from CPUID (AVX2, FMA, and OS support for the ymm
//	                  state via XGETBV)                [amd64 && !purego]
//	kernels_amd64.s   the AVX2/FMA kernels and the CPUID probe
//	                                                   [amd64 && !purego]
//	kernels_other.go  haveSIMD = false               [!amd64 || purego]
//
// Numerics: simdGemm16 accumulates each output over k in order, one fused
// multiply-add per term (the scalar loop's order; FMA only skips the
// intermediate rounding). simdDot keeps 16 partial sums per row (two ymm
// registers, k ≡ j mod 16), adds them pairwise in a fixed order, then the
// scalar tail (k ≥ K−K%8). Both are deterministic: the order depends only
// on the shapes, never on data or timing.

// simdWidth is the Schedule.Vector that selects the SIMD kernels.
const simdWidth = 8

// simdNR is the panel width of simdGemm16 (two ymm registers), and
// simdMR its most rows.
const (
	simdNR = 16
	simdMR = 6
	// simdDotRows is the most rows of one simdDot call.
	simdDotRows = 4
)

func init() {
	for _, n := range []string{"simdGemm16", "simdGemm16Go", "simdGemm16AVX2", "simdDot", "simdDotGo",
		"simdDotAVX2", "haveSIMD", "cpuHasAVX2FMA"} {
		reserved[n] = true
	}
}

// usesSIMD reports whether generated Go source calls the SIMD kernels.
func usesSIMD(src []byte) bool {
	s := string(src)
	return strings.Contains(s, "simdGemm16(") || strings.Contains(s, "simdDot(")
}

// simdFiles adds the SIMD kernel files to a generated package when one of
// its Go files calls them.
func simdFiles(pkg string, files map[string][]byte) {
	used := false
	for name, b := range files {
		if strings.HasSuffix(name, ".go") && usesSIMD(b) {
			used = true
		}
	}
	if !used {
		return
	}
	head := Header + "\n\n"
	files["kernels_simd.go"] = []byte(head + "package " + pkg + "\n" + simdGoSource)
	files["kernels_amd64.go"] = []byte(head + "//go:build amd64 && !purego\n\npackage " + pkg + "\n" + simdAMD64Go)
	files["kernels_other.go"] = []byte(head + "//go:build !amd64 || purego\n\npackage " + pkg + "\n" + simdOtherGo)
	files["kernels_amd64.s"] = []byte(head + "//go:build amd64 && !purego\n\n" + simdAsm)
}

const simdGoSource = `
// The SIMD micro-kernels every layer scheduled with vector 8 calls. Each
// wrapper checks its slices once, then runs the AVX2 kernel when the CPU
// has it (haveSIMD) or the pure-Go loop otherwise.

// simdGemm16 sets c[i*16+j] = Σ_k a[i*lda+k]·b[k*16+j] for i < r (1..6),
// j < 16 and k < len(b)/16, accumulating each sum in k order, then
// applies flags to each row:
//
//	flags>>2 = p > 0  max over each group of 2^p columns (j>>p equal; NaN wins),
//	                  stored at the group's first column (at least)
//	flags&1           add bias[i]
//	flags&2           relu: v < 0 becomes 0
func simdGemm16(r int, a []float32, lda int, b []float32, c *[96]float32, bias []float32, flags int) {
	k := len(b) / 16
	if r < 1 || r > 6 || k < 1 || flags>>2 > 4 {
		panic("simdGemm16: bad shape")
	}
	_ = a[(r-1)*lda+k-1]
	var bp *float32
	if flags&1 != 0 {
		_ = bias[r-1]
		bp = &bias[0]
	}
	if haveSIMD {
		simdGemm16AVX2(r, k, &a[0], lda, &b[0], &c[0], bp, flags)
		return
	}
	simdGemm16Go(r, k, a, lda, b, c, bias, flags)
}

func simdGemm16Go(r, k int, a []float32, lda int, b []float32, c *[96]float32, bias []float32, flags int) {
	g := 1 << (flags >> 2)
	for i := range r {
		var acc [16]float32
		for kk, av := range a[i*lda : i*lda+k] {
			br := (*[16]float32)(b[kk*16:])
			for j := range 16 {
				acc[j] += av * br[j]
			}
		}
		for j0 := 0; j0 < 16; j0 += g {
			v := acc[j0]
			for _, u := range acc[j0+1 : j0+g] {
				if u > v || u != u { // NaN propagates
					v = u
				}
			}
			if flags&1 != 0 {
				v += bias[i]
			}
			if flags&2 != 0 && v < 0 {
				v = 0
			}
			acc[j0] = v
		}
		copy(c[i*16:], acc[:])
	}
}

// simdDot sets out[i] = Σ_k x[k]·w[i*ldw+k] for i < r (1..4) and
// k < len(x).
func simdDot(r int, x, w []float32, ldw int, out *[4]float32) {
	k := len(x)
	if r < 1 || r > 4 || k < 1 {
		panic("simdDot: bad shape")
	}
	_ = w[(r-1)*ldw+k-1]
	if haveSIMD {
		simdDotAVX2(r, k, &x[0], &w[0], ldw, &out[0])
		return
	}
	simdDotGo(r, x, w, ldw, out)
}

func simdDotGo(r int, x, w []float32, ldw int, out *[4]float32) {
	for i := range r {
		wr := w[i*ldw : i*ldw+len(x)]
		s := float32(0)
		for kk, xv := range x {
			s += xv * wr[kk]
		}
		out[i] = s
	}
}
`

const simdAMD64Go = `
// haveSIMD reports whether the CPU and OS support AVX2 and FMA.
var haveSIMD = cpuHasAVX2FMA()

// cpuHasAVX2FMA checks CPUID for AVX, AVX2, FMA and OSXSAVE, and XGETBV
// for the OS saving the xmm and ymm state.
func cpuHasAVX2FMA() bool

// simdGemm16AVX2 is simdGemm16 in AVX2: k ≥ 1, 1 ≤ r ≤ 6; bias may be
// nil when flags&1 == 0.
//
//go:noescape
func simdGemm16AVX2(r, k int, a *float32, lda int, b *float32, c *float32, bias *float32, flags int)

// simdDotAVX2 is simdDot in AVX2: k ≥ 1, 1 ≤ r ≤ 4.
//
//go:noescape
func simdDotAVX2(r, k int, x *float32, w *float32, ldw int, out *float32)
`

const simdOtherGo = `
// haveSIMD is false: no assembly on this architecture or with -tags purego.
const haveSIMD = false

func simdGemm16AVX2(r, k int, a *float32, lda int, b *float32, c *float32, bias *float32, flags int) {
	panic("simdGemm16AVX2: no assembly in this build")
}

func simdDotAVX2(r, k int, x *float32, w *float32, ldw int, out *float32) {
	panic("simdDotAVX2: no assembly in this build")
}
`

// maxNaN writes Y(a) = max(Y(a), Y(b)) with NaN propagating, as the
// interpreter's max pool (and torch) has it, using Y(tmp). VMAXPS alone
// returns its second source whenever either is NaN, so the result would
// depend on which lane holds the NaN. Taking the max both ways gives a
// NaN in one of the two whenever either input is NaN, and identical bits
// otherwise (up to the sign of a zero): OR-ing them keeps the max, or
// gives a NaN.
func maxNaN(p func(string, ...any), a, b, tmp int) {
	p("\tVMAXPS Y%d, Y%d, Y%d", b, a, tmp) // tmp = max(a, b), b if NaN
	p("\tVMAXPS Y%d, Y%d, Y%d", a, b, a)   // a = max(b, a), a if NaN
	p("\tVORPS Y%d, Y%d, Y%d", tmp, a, a)
}

// simdAsm is kernels_amd64.s, built once from the generators below.
var simdAsm = asmSource()

func asmSource() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p(`#include "textflag.h"`)
	p(``)
	p(`// func cpuHasAVX2FMA() bool`)
	p(`TEXT ·cpuHasAVX2FMA(SB), NOSPLIT, $0-1`)
	p("\tMOVL $1, AX")
	p("\tXORL CX, CX")
	p("\tCPUID")
	p("\t// ECX: FMA (bit 12), OSXSAVE (27), AVX (28).")
	p("\tANDL $0x18001000, CX")
	p("\tCMPL CX, $0x18001000")
	p("\tJNE no")
	p("\t// XCR0: the OS saves xmm (bit 1) and ymm (bit 2) state.")
	p("\tXORL CX, CX")
	p("\tXGETBV")
	p("\tANDL $6, AX")
	p("\tCMPL AX, $6")
	p("\tJNE no")
	p("\t// Leaf 7, EBX: AVX2 (bit 5).")
	p("\tMOVL $7, AX")
	p("\tXORL CX, CX")
	p("\tCPUID")
	p("\tANDL $0x20, BX")
	p("\tJZ no")
	p("\tMOVB $1, ret+0(FP)")
	p("\tRET")
	p("no:")
	p("\tMOVB $0, ret+0(FP)")
	p("\tRET")
	p(``)
	gemmAsm(p)
	dotAsm(p)
	return b.String()
}

// gemmAsm writes simdGemm16AVX2. Registers: SI row 0 of a, R8 row 3, DX
// lda in bytes (rows 1, 2, 4, 5 are (SI)(DX*1), (SI)(DX*2), ...), BX the
// panel, DI c, CX k, R9 the k/4 counter. Row i accumulates in Y(2i) (columns
// 0–7) and Y(2i+1) (8–15); Y12, Y13 hold the panel row, Y14 the broadcast.
func gemmAsm(p func(string, ...any)) {
	p(`// func simdGemm16AVX2(r, k int, a *float32, lda int, b *float32, c *float32, bias *float32, flags int)`)
	p(`TEXT ·simdGemm16AVX2(SB), NOSPLIT, $0-64`)
	p("\tMOVQ r+0(FP), AX")
	p("\tMOVQ k+8(FP), CX")
	p("\tMOVQ a+16(FP), SI")
	p("\tMOVQ lda+24(FP), DX")
	p("\tSHLQ $2, DX")
	p("\tMOVQ b+32(FP), BX")
	p("\tMOVQ c+40(FP), DI")
	p("\tLEAQ (SI)(DX*2), R8")
	p("\tADDQ DX, R8")
	for r := simdMR; r >= 2; r-- {
		p("\tCMPQ AX, $%d", r)
		p("\tJEQ gemm%d", r)
	}
	rowAddr := func(i, off int) string {
		base := "SI"
		if i >= 3 {
			base, i = "R8", i-3
		}
		switch i {
		case 0:
			return fmt.Sprintf("%d(%s)", off, base)
		case 1:
			return fmt.Sprintf("%d(%s)(DX*1)", off, base)
		}
		return fmt.Sprintf("%d(%s)(DX*2)", off, base)
	}
	step := func(r, u int) {
		p("\tVMOVUPS %d(BX), Y12", u*64)
		p("\tVMOVUPS %d(BX), Y13", u*64+32)
		for i := range r {
			p("\tVBROADCASTSS %s, Y14", rowAddr(i, u*4))
			p("\tVFMADD231PS Y12, Y14, Y%d", 2*i)
			p("\tVFMADD231PS Y13, Y14, Y%d", 2*i+1)
		}
	}
	for r := 1; r <= simdMR; r++ {
		l := fmt.Sprintf("gemm%d", r)
		if r == 1 {
			p("\tJMP %s", l) // falls here for r == 1
		}
		p("%s:", l)
		for i := range 2 * r {
			p("\tVXORPS Y%d, Y%d, Y%d", i, i, i)
		}
		p("\tMOVQ CX, R9")
		p("\tSHRQ $2, R9")
		p("\tJZ %stail", l)
		p("%sloop4:", l)
		for u := range 4 {
			step(r, u)
		}
		p("\tADDQ $16, SI")
		p("\tADDQ $16, R8")
		p("\tADDQ $256, BX")
		p("\tDECQ R9")
		p("\tJNZ %sloop4", l)
		p("%stail:", l)
		p("\tANDQ $3, CX")
		p("\tJZ %sstore", l)
		p("%sloop1:", l)
		step(r, 0)
		p("\tADDQ $4, SI")
		p("\tADDQ $4, R8")
		p("\tADDQ $64, BX")
		p("\tDECQ CX")
		p("\tJNZ %sloop1", l)
		p("%sstore:", l)
		// flags: pool max over groups of 2^(flags>>2) columns (the
		// cascade halves the group: pairs, quads, 128-bit halves, the
		// two registers; NaN propagates, see maxNaN), then bias, then
		// relu (max(0, v) keeps NaN and −0 like v < 0 ? 0 : v).
		p("\tMOVQ flags+56(FP), R12")
		p("\tMOVQ R12, R13")
		p("\tSHRQ $2, R13")
		p("\tCMPQ R13, $4")
		p("\tJLT %sp8", l)
		for i := range r {
			maxNaN(p, 2*i, 2*i+1, 14)
		}
		p("%sp8:", l)
		p("\tCMPQ R13, $3")
		p("\tJLT %sp4", l)
		for i := range 2 * r {
			p("\tVPERM2F128 $1, Y%d, Y%d, Y14", i, i)
			maxNaN(p, i, 14, 13)
		}
		p("%sp4:", l)
		p("\tCMPQ R13, $2")
		p("\tJLT %sp2", l)
		for i := range 2 * r {
			p("\tVPERMILPS $0x4E, Y%d, Y14", i)
			maxNaN(p, i, 14, 13)
		}
		p("%sp2:", l)
		p("\tCMPQ R13, $1")
		p("\tJLT %sbias", l)
		for i := range 2 * r {
			p("\tVPERMILPS $0xB1, Y%d, Y14", i)
			maxNaN(p, i, 14, 13)
		}
		p("%sbias:", l)
		p("\tTESTQ $1, R12")
		p("\tJZ %srelu", l)
		p("\tMOVQ bias+48(FP), R11")
		for i := range r {
			p("\tVBROADCASTSS %d(R11), Y14", 4*i)
			p("\tVADDPS Y14, Y%d, Y%d", 2*i, 2*i)
			p("\tVADDPS Y14, Y%d, Y%d", 2*i+1, 2*i+1)
		}
		p("%srelu:", l)
		p("\tTESTQ $2, R12")
		p("\tJZ %sout", l)
		p("\tVXORPS Y15, Y15, Y15")
		for i := range 2 * r {
			p("\tVMAXPS Y%d, Y15, Y%d", i, i)
		}
		p("%sout:", l)
		for i := range 2 * r {
			p("\tVMOVUPS Y%d, %d(DI)", i, 32*i)
		}
		p("\tVZEROUPPER")
		p("\tRET")
	}
	p(``)
}

// dotAsm writes simdDotAVX2. Registers: DI x, SI row 0 of w, R8 row 3,
// DX ldw in bytes, R10 out, CX k, R9 the k/16 counter. Row i accumulates
// in Y(2i) and Y(2i+1) (k mod 16 < 8 and ≥ 8) and X(10+i) (the scalar
// tail); Y8, Y9 hold x.
func dotAsm(p func(string, ...any)) {
	p(`// func simdDotAVX2(r, k int, x *float32, w *float32, ldw int, out *float32)`)
	p(`TEXT ·simdDotAVX2(SB), NOSPLIT, $0-48`)
	p("\tMOVQ r+0(FP), AX")
	p("\tMOVQ k+8(FP), CX")
	p("\tMOVQ x+16(FP), DI")
	p("\tMOVQ w+24(FP), SI")
	p("\tMOVQ ldw+32(FP), DX")
	p("\tSHLQ $2, DX")
	p("\tMOVQ out+40(FP), R10")
	p("\tLEAQ (SI)(DX*2), R8")
	p("\tADDQ DX, R8")
	for r := simdDotRows; r >= 2; r-- {
		p("\tCMPQ AX, $%d", r)
		p("\tJEQ dot%d", r)
	}
	rowAddr := func(i, off int) string {
		switch i {
		case 0:
			return fmt.Sprintf("%d(SI)", off)
		case 1:
			return fmt.Sprintf("%d(SI)(DX*1)", off)
		case 2:
			return fmt.Sprintf("%d(SI)(DX*2)", off)
		}
		return fmt.Sprintf("%d(R8)", off)
	}
	adv := func(n int) {
		p("\tADDQ $%d, DI", n)
		p("\tADDQ $%d, SI", n)
		p("\tADDQ $%d, R8", n)
	}
	for r := 1; r <= simdDotRows; r++ {
		l := fmt.Sprintf("dot%d", r)
		if r == 1 {
			p("\tJMP %s", l)
		}
		p("%s:", l)
		for i := range r {
			p("\tVXORPS Y%d, Y%d, Y%d", 2*i, 2*i, 2*i)
			p("\tVXORPS Y%d, Y%d, Y%d", 2*i+1, 2*i+1, 2*i+1)
			p("\tVXORPS X%d, X%d, X%d", 10+i, 10+i, 10+i)
		}
		p("\tMOVQ CX, R9")
		p("\tSHRQ $4, R9")
		p("\tJZ %s8", l)
		p("%sloop16:", l)
		p("\tVMOVUPS (DI), Y8")
		p("\tVMOVUPS 32(DI), Y9")
		for i := range r {
			p("\tVFMADD231PS %s, Y8, Y%d", rowAddr(i, 0), 2*i)
			p("\tVFMADD231PS %s, Y9, Y%d", rowAddr(i, 32), 2*i+1)
		}
		adv(64)
		p("\tDECQ R9")
		p("\tJNZ %sloop16", l)
		p("%s8:", l)
		p("\tTESTQ $8, CX")
		p("\tJZ %s1", l)
		p("\tVMOVUPS (DI), Y8")
		for i := range r {
			p("\tVFMADD231PS %s, Y8, Y%d", rowAddr(i, 0), 2*i)
		}
		adv(32)
		p("%s1:", l)
		p("\tANDQ $7, CX")
		p("\tJZ %ssum", l)
		p("%sloop1:", l)
		p("\tVMOVSS (DI), X8")
		for i := range r {
			p("\tVFMADD231SS %s, X8, X%d", rowAddr(i, 0), 10+i)
		}
		adv(4)
		p("\tDECQ CX")
		p("\tJNZ %sloop1", l)
		p("%ssum:", l)
		for i := range r {
			a, c := 2*i, 2*i+1
			p("\tVADDPS Y%d, Y%d, Y%d", c, a, a)
			p("\tVEXTRACTF128 $1, Y%d, X%d", a, c)
			p("\tVADDPS X%d, X%d, X%d", c, a, a)
			p("\tVHADDPS X%d, X%d, X%d", a, a, a)
			p("\tVHADDPS X%d, X%d, X%d", a, a, a)
			p("\tVADDSS X%d, X%d, X%d", 10+i, a, a)
			p("\tVMOVSS X%d, %d(R10)", a, 4*i)
		}
		p("\tVZEROUPPER")
		p("\tRET")
	}
}

package kernels

import "fmt"

// IGemm: the implicit GEMM of a convolution (codegen/conv_igemm.go),
//
//	C[i·ldc+j] = Σ_k A[i·lda+k]·B[offs[k]+j]   i < r ≤ MR, j < n
//
// then bias[i] (flags&1) and relu (flags&2); with a keep table, only
// the columns j whose bit keep[j/16]>>(j%16) is set are stored, packed:
// row i's kept columns at C[i·ldc], C[i·ldc+1], … (the outputs of a
// convolution without the columns between its output rows, which the
// virtual columns below include). B is not packed: row k of
// the product is B read from offs[k], so a convolution over a
// zero-bordered (and, for strides above 1, polyphase) copy of its input
// needs no im2col buffer at all: tap k of output column j is
// B[offs[k] + j]. n is any number of columns: the kernel walks them in
// panels of NR, the accumulators of an r×NR block in registers as the
// Gemm kernel's (gemmasm.go), masked past n (AVX-512) or staged through
// a block (AVX2, in the wrapper). Kept columns are stored by VCOMPRESSPS
// (AVX-512) or, on AVX2, copied out of a block per panel. Each sum adds
// its products in k order, one fused multiply-add per term.
const IGemm Op = 20

// igemmKernel is the registered IGemm kernel: Gemm's 12×32 block.
var igemmKernel = &Kernel{
	Name: "avx512.igemm12x32", Op: IGemm, ISAs: []ISA{AVX512, AVX2}, MR: 12, NR: 32,
	PackA: RowMajor, PackB: Vector, Epilogues: Bias | Relu,
	Func: "simdIGemm32",
}

func init() {
	templates[IGemm] = igemmTemplate
	generators[AVX512][IGemm] = func(w *asmw, k *Kernel) { igemmAsm(w, k, gemmISAs[AVX512]) }
	generators[AVX2][IGemm] = func(w *asmw, k *Kernel) { igemmAsm(w, k, gemmISAs[AVX2]) }
}

var igemmTemplate = template{
	wrapper: `
// FUNC sets c[i*ldc+j] = Σ_k a[i*lda+k]·b[offs[k]+j] for i < r (1.._MR_),
// j < n and k < kn, each sum in k order, then adds bias[i] (flags&1)
// and applies relu (flags&2: v < 0 becomes 0). It reads b[offs[k]+j]
// for j up to n rounded up to _NR_: b must hold them. keep, if not nil,
// marks the columns stored (bit j%16 of keep[j/16], none at or past n;
// (n+_NR_-1)/_NR_*_NR_/16 entries): row i's kept columns go to c[i*ldc],
// c[i*ldc+1], … in order.
func FUNC(r, n, kn int, a []float32, lda int, b []float32, offs []int32, c []float32, ldc int, bias []float32, flags int, keep []uint16) {
	if r < 1 || r > _MR_ || n < 1 || kn < 1 || lda < 0 || ldc < 0 || flags&^3 != 0 {
		panic("FUNC: bad shape")
	}
	_ = a[(r-1)*lda+kn-1]
	kept := n
	var kp *uint16
	if keep != nil {
		kept = FUNCKept(n, keep)
		if kept == 0 {
			return
		}
		kp = &keep[0]
	}
	_ = c[(r-1)*ldc+kept-1]
	hi := int32(0)
	for _, o := range offs[:kn] {
		if o < 0 {
			panic("FUNC: negative offset")
		}
		hi = max(hi, o)
	}
	_ = b[int(hi)+(n+_NR_-1)/_NR_*_NR_-1]
	var bp *float32
	if flags&1 != 0 {
		_ = bias[r-1]
		bp = &bias[0]
	}
	DISPATCH
	TWIN(r, n, kn, a, lda, b, offs, c, ldc, bias, flags, keep)
}

// FUNCKept returns the number of columns keep marks, checking that it
// covers the panels of n columns and marks none at or past n.
func FUNCKept(n int, keep []uint16) int {
	kept := 0
	for j, m := range keep[:(n+_NR_-1)/_NR_*_NR_/16] {
		if lo := n - 16*j; lo < 16 && m>>max(lo, 0) != 0 {
			panic("FUNC: keep marks a column past n")
		}
		for ; m != 0; m &= m - 1 {
			kept++
		}
	}
	return kept
}
`,
	calls: map[ISA]string{
		AVX512: `ASM(r, n, kn, &a[0], lda, &b[0], &offs[0], &c[0], ldc, bp, flags, kp)`,
		// AVX2: whole panels of _ROWS_ rows; the last, partial panel
		// through a block, and every panel when columns are dropped.
		AVX2: `if keep != nil {
	FUNCKeep(r, n, kn, a, lda, b, offs, c, ldc, bias, flags, keep)
	return
}
full := n / _NR_ * _NR_
for i := 0; i < r && full > 0; i += _ROWS_ {
	if flags&1 != 0 {
		bp = &bias[i]
	}
	ASM(min(_ROWS_, r-i), full, kn, &a[i*lda], lda, &b[0], &offs[0], &c[i*ldc], ldc, bp, flags, nil)
}
if full < n {
	FUNCNarrow(r, full, n, kn, a, lda, b, offs, c, ldc, bias, flags)
}`,
	},
	narrow: `
// FUNCNarrow computes columns [j0, n) of FUNC, fewer than _NR_, through
// a block: the AVX2 routine stores whole panels.
func FUNCNarrow(r, j0, n, kn int, a []float32, lda int, b []float32, offs []int32, c []float32, ldc int, bias []float32, flags int) {
	var blk [_CB_]float32
	FUNC(r, _NR_, kn, a, lda, b[j0:], offs, blk[:], _NR_, bias, flags, nil)
	for i := range r {
		copy(c[i*ldc+j0:i*ldc+n], blk[i*_NR_:])
	}
}

// FUNCKeep is FUNC with a keep table on AVX2: each panel through a
// block, its kept columns copied out packed.
func FUNCKeep(r, n, kn int, a []float32, lda int, b []float32, offs []int32, c []float32, ldc int, bias []float32, flags int, keep []uint16) {
	var blk [_CB_]float32
	o := 0
	for j0 := 0; j0 < n; j0 += _NR_ {
		FUNC(r, _NR_, kn, a, lda, b[j0:], offs, blk[:], _NR_, bias, flags, nil)
		cnt := 0
		for i := range r {
			ci := c[i*ldc+o:]
			cnt = 0
			for j, v := range blk[i*_NR_ : (i+1)*_NR_] {
				if keep[(j0+j)/16]>>((j0+j)%16)&1 != 0 {
					ci[cnt] = v
					cnt++
				}
			}
		}
		o += cnt
	}
}
`,
	twin: `
// TWIN is FUNC in pure Go: the fallback (purego, other GOARCH) and the
// assembly's test oracle: per row, eight columns at a time in registers
// (TWINRow8), each sum in k order; with keep, the kept ones stored
// packed.
func TWIN(r, n, kn int, a []float32, lda int, b []float32, offs []int32, c []float32, ldc int, bias []float32, flags int, keep []uint16) {
	offs = offs[:kn]
	for i := range r {
		ai := a[i*lda:][:kn]
		ci := c[i*ldc:]
		o := 0
		for j0 := 0; j0 < n; j0 += 8 {
			s := TWINRow8(ai, b[j0:], offs)
			for j := range min(8, n-j0) {
				if keep != nil && keep[(j0+j)/16]>>((j0+j)%16)&1 == 0 {
					continue
				}
				v := s[j]
				if flags&1 != 0 {
					v += bias[i]
				}
				if flags&2 != 0 && v < 0 {
					v = 0
				}
				ci[o] = v
				o++
			}
		}
	}
}

// TWINRow8 returns Σ_k a[k]·b[offs[k]+j] for j < 8: a leaf, so that its
// eight sums stay in registers.
func TWINRow8(a, b []float32, offs []int32) [8]float32 {
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	offs = offs[:len(a)]
	for k, x := range a {
		bk := (*[8]float32)(b[offs[k]:])
		s0 += x * bk[0]
		s1 += x * bk[1]
		s2 += x * bk[2]
		s3 += x * bk[3]
		s4 += x * bk[4]
		s5 += x * bk[5]
		s6 += x * bk[6]
		s7 += x * bk[7]
	}
	return [8]float32{s0, s1, s2, s3, s4, s5, s6, s7}
}
`,
	decl: `
// ASM is FUNC in _ISA_ (rows 1 ≤ r ≤ _ROWS_ of the _BLOCK_ block): kn ≥ 1;
// bias may be nil when flags&1 == 0; keep nil stores every column
// (AVX2 must have it nil).
//
//go:noescape
func ASM(r, n, k int, a *float32, lda int, b *float32, offs *int32, c *float32, ldc int, bias *float32, flags int, keep *uint16)
`,
	stub: `
func ASM(r, n, k int, a *float32, lda int, b *float32, offs *int32, c *float32, ldc int, bias *float32, flags int, keep *uint16) {
	panic("ASM: no assembly in this build")
}
`,
}

// igemmAsm writes one IGemm kernel for g: per row count r an unrolled
// body that walks the n columns in panels of NR. GPRs: AX r (then ldc
// and the bias pointer), CX k, DX lda in bytes, SI/R8/R10/R11 the row
// bases of a (rowAddr), BX the panel's b, R14 the offsets, R13 one
// offset (then the row pointer of c), R9 the k/4 counter, DI the
// panel's c, R12 the columns left, R15 the panel's keep entries (nil:
// every column), flags read from the frame. Vector registers as the Gemm
// kernel's (gemmRegs). AVX-512 masks the last panel's stores with
// K1 … K(nv), or with a keep table stores the kept columns of the panel
// packed (VCOMPRESSPS); AVX2 is only called on whole panels, without.
func igemmAsm(w *asmw, k *Kernel, g gemmISA) {
	x := gemmRegs{g: g, nv: k.NR >> g.lg, mr: g.rows(k), mask: g.isa == AVX512}
	if x.mask && x.nv > 2 {
		panic("kernels: IGemm keeps columns in at most two vectors per panel")
	}
	fn := k.Asm(g.isa)
	w.p(`// func %s(r, n, k int, a *float32, lda int, b *float32, offs *int32, c *float32, ldc int, bias *float32, flags int, keep *uint16)`, fn)
	w.p(`TEXT ·%s(SB), NOSPLIT, $0-96`, fn)
	w.in("MOVQ r+0(FP), AX")
	w.in("MOVQ k+16(FP), CX")
	w.in("MOVQ lda+32(FP), DX")
	w.in("SHLQ $2, DX")
	w.in("MOVQ keep+88(FP), R15")
	w.dispatch(fn+"r", x.mr)
	for r := 1; r <= x.mr; r++ {
		x.label = fmt.Sprintf("%sr%d", fn, r)
		igemmBody(w, k, x, r)
	}
	w.p("")
}

// igemmBody writes the code for exactly r rows. On AVX-512 a last panel
// of at most half NR columns runs with half the accumulators (igemmPanel
// for nv = 1, label suffix h): a plane of 8×8 outputs (78 virtual
// columns) computes 80 columns, not 96.
func igemmBody(w *asmw, k *Kernel, x gemmRegs, r int) {
	w.p("%s:", x.label)
	w.in("MOVQ n+8(FP), R12")
	w.in("MOVQ b+40(FP), BX")
	w.in("MOVQ c+56(FP), DI")
	half := x.mask && x.nv == 2
	h := x
	h.nv, h.label = 1, x.label+"h"
	igemmPanel(w, x, r, k.NR, half, h.label)
	if half {
		igemmPanel(w, h, r, k.NR/2, false, "")
	}
}

// igemmPanel writes the panel loop of nr columns for x (label x.label
// + "panel") down to the RET; with half, a panel of at most nr/2
// columns left jumps to hl instead.
func igemmPanel(w *asmw, x gemmRegs, r, nr int, half bool, hl string) {
	l := x.label
	w.p("%spanel:", l)
	if half {
		w.in("CMPQ R12, $%d", nr/2)
		w.in("JLE %spanel", hl)
	}
	if x.mask {
		// K(v+1): the panel's keep entries, or the columns of vector v
		// below min(R12, NR).
		w.in("TESTQ R15, R15")
		w.in("JZ %sn", l)
		for v := range x.nv {
			w.in("KMOVW %d(R15), %s", 2*v, x.kmask(v))
		}
		w.in("JMP %sk", l)
		w.p("%sn:", l)
		w.in("MOVQ R12, CX")
		w.in("CMPQ CX, $%d", nr)
		w.in("JLE %sm", l)
		w.in("MOVQ $%d, CX", nr)
		w.p("%sm:", l)
		w.in("MOVQ $1, R13")
		w.in("SHLQ CX, R13")
		w.in("DECQ R13")
		for v := range x.nv {
			w.in("KMOVW R13, %s", x.kmask(v))
			if v+1 < x.nv {
				w.in("SHRQ $16, R13")
			}
		}
		w.p("%sk:", l)
		w.in("MOVQ k+16(FP), CX")
	}
	w.in("MOVQ a+24(FP), SI")
	w.setBases(r)
	w.in("MOVQ offs+48(FP), R14")
	for i := range r {
		for v := range x.nv {
			w.in("%s %s, %s, %s", x.g.zero, x.acc(i, v), x.acc(i, v), x.acc(i, v))
		}
	}
	step := func(u int) {
		w.in("MOVLQSX %d(R14), R13", 4*u)
		for v := range x.nv {
			w.in("VMOVUPS %d(BX)(R13*4), %s", v*x.g.bytes, x.b(v))
		}
		for i := range r {
			w.in("VBROADCASTSS %s, %s", rowAddr(i, u*4), x.bc(i))
			for v := range x.nv {
				w.in("VFMADD231PS %s, %s, %s", x.b(v), x.bc(i), x.acc(i, v))
			}
		}
	}
	w.in("MOVQ CX, R9")
	w.in("SHRQ $2, R9")
	w.in("JZ %stail", l)
	w.p("%sloop4:", l)
	for u := range 4 {
		step(u)
	}
	w.in("ADDQ $16, R14")
	w.advance(r, 16)
	w.in("DECQ R9")
	w.in("JNZ %sloop4", l)
	w.p("%stail:", l)
	w.in("MOVQ CX, R9")
	w.in("ANDQ $3, R9")
	w.in("JZ %sstore", l)
	w.p("%sloop1:", l)
	step(0)
	w.in("ADDQ $4, R14")
	w.advance(r, 4)
	w.in("DECQ R9")
	w.in("JNZ %sloop1", l)
	w.p("%sstore:", l)
	igemmEpilogue(w, x, r)
	w.in("ADDQ $%d, BX", nr*4)
	w.in("SUBQ $%d, R12", nr)
	w.in("JGT %spanel", l)
	w.in("VZEROUPPER")
	w.in("RET")
}

// igemmEpilogue writes the bias, relu and the store of one panel, and
// moves DI past what it stored.
func igemmEpilogue(w *asmw, x gemmRegs, r int) {
	l := x.label
	w.in("MOVQ flags+80(FP), AX")
	w.in("TESTQ $1, AX")
	w.in("JZ %srelu", l)
	w.in("MOVQ bias+72(FP), AX")
	for i := range r {
		w.in("VBROADCASTSS %d(AX), %s", 4*i, x.bc(i))
		for v := range x.nv {
			w.in("VADDPS %s, %s, %s", x.bc(i), x.acc(i, v), x.acc(i, v))
		}
	}
	w.p("%srelu:", l)
	// max(0, v) keeps NaN and −0 like v < 0 ? 0 : v.
	w.in("MOVQ flags+80(FP), AX")
	w.in("TESTQ $2, AX")
	w.in("JZ %sout", l)
	z := x.bc(0)
	w.in("%s %s, %s, %s", x.g.zero, z, z, z)
	for i := range r {
		for v := range x.nv {
			w.in("VMAXPS %s, %s, %s", x.acc(i, v), z, x.acc(i, v))
		}
	}
	w.p("%sout:", l)
	if x.mask {
		// Kept columns: vector 1's packed after vector 0's (R9 bytes).
		w.in("TESTQ R15, R15")
		w.in("JZ %sall", l)
		w.in("KMOVW K1, R9")
		w.in("POPCNTL R9, R9")
		w.in("SHLQ $2, R9")
		w.gemmRows(r, func(i int) {
			for v := range x.nv {
				addr := "0(R13)"
				if v == 1 {
					addr = "0(R13)(R9*1)"
				}
				w.in("VCOMPRESSPS %s, %s, %s", x.acc(i, v), x.kmask(v), addr)
			}
		})
		if x.nv == 2 {
			w.in("KMOVW K2, CX")
			w.in("POPCNTL CX, CX")
			w.in("LEAQ (R9)(CX*4), R9")
		}
		w.in("ADDQ R9, DI")
		w.in("ADDQ $%d, R15", 2*x.nv)
		w.in("JMP %sdone", l)
		w.p("%sall:", l)
	}
	w.gemmRows(r, func(i int) {
		for v := range x.nv {
			addr := fmt.Sprintf("%d(R13)", v*x.g.bytes)
			if x.mask {
				w.in("VMOVUPS %s, %s, %s", x.acc(i, v), x.kmask(v), addr)
			} else {
				w.in("VMOVUPS %s, %s", x.acc(i, v), addr)
			}
		}
	})
	w.in("ADDQ $%d, DI", x.nv*x.g.bytes)
	w.p("%sdone:", l)
}

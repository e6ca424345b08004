package kernels

import "fmt"

// The Gemm generator, shared by AVX2 (ymm) and AVX-512 (zmm).
//
//	func ASM(r, n, k int, a *float32, lda int, b *float32, ldb int,
//	         c *float32, ldc int, bias *float32, flags int)
//
// Vector registers: row i's NR columns accumulate in V(i·nv) …
// V(i·nv+nv−1) (nv = NR/lanes), the panel row in the next nv registers,
// then the broadcast registers (AVX-512 alternates two). Rows of a use
// avx2Bases, 3 rows per base (rowAddr). GPRs: AX r (then ldc, then the
// bias pointer), CX k, DX lda in bytes, BX the panel, R14 ldb in bytes,
// DI c, R9 the k/4 counter, R12 flags, R13 the pool level and the row
// pointer of c.
//
// AVX-512 computes the whole MR×NR block, masking the loads and stores
// of c (and the column bias) past column n with K1 … K(nv); AVX2
// computes avx2Rows rows per call and always NR columns: the wrapper
// calls it per row group and stages a block narrower than NR.
//
// AVX-512 prefetches b's row 8 k ahead (PREFETCHT0 (BX)(R14*8)) with
// each row it loads: 2-4% of the FMA peak on panels streamed from L2.
//
// Order of work: c (flags&8) or zero, the products in k order (one fused
// multiply-add per term), the max over groups of 2^(flags>>4) columns,
// bias per row (flags&1) or per column (flags&4), relu (flags&2).

// gemmISA is what differs between the two instruction sets.
type gemmISA struct {
	isa   ISA
	v     string // register prefix
	bytes int    // of one vector
	lg    int    // log2 lanes
	zero  string // zeroing idiom
	nbc   int    // broadcast registers
	rows  func(k *Kernel) int
}

var gemmISAs = map[ISA]gemmISA{
	AVX2:   {isa: AVX2, v: "Y", bytes: 32, lg: 3, zero: "VXORPS", nbc: 1, rows: avx2Rows},
	AVX512: {isa: AVX512, v: "Z", bytes: 64, lg: 4, zero: "VPXORD", nbc: 2, rows: func(k *Kernel) int { return k.MR }},
}

func avx2GemmAsm(w *asmw, k *Kernel)   { gemmAsm(w, k, gemmISAs[AVX2]) }
func avx512GemmAsm(w *asmw, k *Kernel) { gemmAsm(w, k, gemmISAs[AVX512]) }

// gemmRegs names a kernel's vector registers.
type gemmRegs struct {
	g     gemmISA
	nv    int
	mr    int // rows per call
	mask  bool
	label string
}

func (x gemmRegs) acc(i, v int) string { return fmt.Sprintf("%s%d", x.g.v, i*x.nv+v) }
func (x gemmRegs) b(v int) string      { return fmt.Sprintf("%s%d", x.g.v, x.mr*x.nv+v) }
func (x gemmRegs) bc(i int) string {
	return fmt.Sprintf("%s%d", x.g.v, x.mr*x.nv+x.nv+i%x.g.nbc)
}

// kmask is the opmask of vector v of a row (AVX-512).
func (x gemmRegs) kmask(v int) string { return fmt.Sprintf("K%d", v+1) }

// gemmAsm writes one Gemm kernel for g.
func gemmAsm(w *asmw, k *Kernel, g gemmISA) {
	x := gemmRegs{g: g, nv: k.NR >> g.lg, mr: g.rows(k), mask: g.isa == AVX512}
	fn := k.Asm(g.isa)
	w.p(`// func %s(r, n, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, bias *float32, flags int, res *float32, lohi *float32, cmask int)`, fn)
	w.p(`TEXT ·%s(SB), NOSPLIT, $0-112`, fn)
	if x.mask {
		// K(v+1) = the columns of vector v kept: below n, (1<<n − 1) >> 16v,
		// or with flags&512 (compress) cmask >> 16v.
		w.in("MOVQ flags+80(FP), R12")
		w.in("MOVQ cmask+104(FP), R13")
		w.in("TESTQ $%d, R12", gemmCompress)
		w.in("JNZ masks")
		w.in("MOVQ n+8(FP), CX")
		w.in("MOVQ $1, R13")
		w.in("SHLQ CX, R13")
		w.in("DECQ R13")
		w.p("masks:")
		for v := range x.nv {
			w.in("KMOVW R13, %s", x.kmask(v))
			if v+1 < x.nv {
				w.in("SHRQ $16, R13")
			}
		}
	}
	w.in("MOVQ r+0(FP), AX")
	w.in("MOVQ k+16(FP), CX")
	w.in("MOVQ a+24(FP), SI")
	w.in("MOVQ lda+32(FP), DX")
	w.in("SHLQ $2, DX")
	w.in("MOVQ b+40(FP), BX")
	w.in("MOVQ ldb+48(FP), R14")
	w.in("SHLQ $2, R14")
	w.in("MOVQ c+56(FP), DI")
	w.in("MOVQ flags+80(FP), R12")
	w.setBases(x.mr)
	w.dispatch("gemm", x.mr)
	for r := 1; r <= x.mr; r++ {
		x.label = fmt.Sprintf("gemm%d", r)
		gemmBody(w, x, r)
	}
	w.p("")
}

// vload loads vector v of a row at addr into reg, masked past n.
func (w *asmw) vload(x gemmRegs, v int, addr, reg string) {
	if x.mask {
		w.in("VMOVUPS.Z %s, %s, %s", addr, x.kmask(v), reg)
		return
	}
	w.in("VMOVUPS %s, %s", addr, reg)
}

// gemmRows runs f(i) for each of r rows of c with R13 at the row.
func (w *asmw) gemmRows(r int, f func(i int)) {
	w.in("MOVQ DI, R13")
	w.in("MOVQ ldc+64(FP), AX")
	w.in("SHLQ $2, AX")
	for i := range r {
		f(i)
		if i+1 < r {
			w.in("ADDQ AX, R13")
		}
	}
}

// gemmBody writes the code for exactly r rows.
func gemmBody(w *asmw, x gemmRegs, r int) {
	l := x.label
	w.p("%s:", l)
	for i := range r {
		for v := range x.nv {
			w.in("%s %s, %s, %s", x.g.zero, x.acc(i, v), x.acc(i, v), x.acc(i, v))
		}
	}
	w.in("TESTQ $8, R12")
	w.in("JZ %sk", l)
	if x.mask && x.nv <= 2 {
		// Packed (flags&512): expanded into the kept lanes.
		w.in("TESTQ $%d, R12", gemmCompress)
		w.in("JZ %sacc", l)
		w.compressOff()
		w.gemmRows(r, func(i int) {
			for v := range x.nv {
				w.in("VEXPANDPS.Z %s, %s, %s", packedAddr(x, v, true), x.kmask(v), x.acc(i, v))
			}
		})
		w.in("JMP %sk", l)
		w.p("%sacc:", l)
	}
	w.gemmRows(r, func(i int) {
		for v := range x.nv {
			w.vload(x, v, fmt.Sprintf("%d(R13)", v*x.g.bytes), x.acc(i, v))
		}
	})
	w.p("%sk:", l)
	step := func(u int) {
		for v := range x.nv {
			w.in("VMOVUPS %d(BX), %s", v*x.g.bytes, x.b(v))
		}
		if x.mask {
			// AVX-512: b's row 8 k ahead into L1 (a dense layer's
			// panels and a 1×1 conv's input rows come from L2).
			for l := 0; l < x.nv*x.g.bytes; l += 64 {
				w.in("PREFETCHT0 %d(BX)(R14*8)", l)
			}
		}
		for i := range r {
			w.in("VBROADCASTSS %s, %s", rowAddr(i, u*4), x.bc(i))
			for v := range x.nv {
				w.in("VFMADD231PS %s, %s, %s", x.b(v), x.bc(i), x.acc(i, v))
			}
		}
		w.in("ADDQ R14, BX")
	}
	w.in("MOVQ CX, R9")
	w.in("SHRQ $2, R9")
	w.in("JZ %stail", l)
	w.p("%sloop4:", l)
	for u := range 4 {
		step(u)
	}
	w.advance(r, 16)
	w.in("DECQ R9")
	w.in("JNZ %sloop4", l)
	w.p("%stail:", l)
	w.in("ANDQ $3, CX")
	w.in("JZ %sstore", l)
	w.p("%sloop1:", l)
	step(0)
	w.advance(r, 4)
	w.in("DECQ CX")
	w.in("JNZ %sloop1", l)
	w.p("%sstore:", l)
	gemmPool(w, x, r)
	gemmEpilogue(w, x, r)
}

// gemmPool writes the max over groups of 2^p columns, the largest level
// first: pairs of whole registers, then halves of a register down to
// adjacent columns; each group's maximum ends in its first column.
func gemmPool(w *asmw, x gemmRegs, r int) {
	l := x.label
	w.in("MOVQ R12, R13")
	w.in("SHRQ $4, R13")
	w.in("ANDQ $7, R13")
	t := x.bc(0)
	for p := log2(x.nv << x.g.lg); p >= 1; p-- {
		w.in("CMPQ R13, $%d", p)
		w.in("JLT %sp%d", l, p)
		for i := range r {
			for v := range x.nv {
				switch {
				case p > x.g.lg: // whole registers
					half := 1 << (p - x.g.lg - 1)
					if v%(2*half) < half {
						w.maxNaN(x, x.acc(i, v), x.acc(i, v+half))
					}
					continue
				case p == x.g.lg && x.g.isa == AVX2: // 128-bit halves
					w.in("VPERM2F128 $1, %s, %s, %s", x.acc(i, v), x.acc(i, v), t)
				case p == 4: // zmm: 256-bit halves
					w.in("VSHUFF32X4 $0x4E, %s, %s, %s", x.acc(i, v), x.acc(i, v), t)
				case p == 3: // zmm: 128-bit quarters
					w.in("VSHUFF32X4 $0xB1, %s, %s, %s", x.acc(i, v), x.acc(i, v), t)
				default:
					imm := map[int]string{2: "0x4E", 1: "0xB1"}[p]
					w.in("VPERMILPS $%s, %s, %s", imm, x.acc(i, v), t)
				}
				w.maxNaN(x, x.acc(i, v), t)
			}
		}
		w.p("%sp%d:", l, p)
	}
}

// maxNaN sets a = max(a, t), NaN when either is NaN (as the
// interpreter's max pool and the twin), the lower column on ties. VMAXPS
// alone returns its second source when either is NaN, so a NaN in t is
// blended back in (AVX2 clobbers the first panel register, AVX-512 K7).
func (w *asmw) maxNaN(x gemmRegs, a, t string) {
	if x.mask {
		w.in("VCMPPS $3, %s, %s, K7", t, t) // unordered: t is NaN
		w.in("VMAXPS %s, %s, %s", a, t, a)
		w.in("VBLENDMPS %s, %s, K7, %s", t, a, a)
		return
	}
	m := x.b(0)
	w.in("VCMPPS $3, %s, %s, %s", t, t, m)
	w.in("VMAXPS %s, %s, %s", a, t, a)
	w.in("VBLENDVPS %s, %s, %s, %s", m, t, a, a)
}

// gemmEpilogue writes the bias, relu and the store.
func gemmEpilogue(w *asmw, x gemmRegs, r int) {
	l := x.label
	w.in("MOVQ bias+72(FP), AX")
	w.in("TESTQ $1, R12")
	w.in("JZ %scol", l)
	for i := range r {
		w.in("VBROADCASTSS %d(AX), %s", 4*i, x.bc(i))
		for v := range x.nv {
			w.in("VADDPS %s, %s, %s", x.bc(i), x.acc(i, v), x.acc(i, v))
		}
	}
	w.p("%scol:", l)
	w.in("TESTQ $4, R12")
	w.in("JZ %srelu", l)
	for v := range x.nv {
		w.vload(x, v, fmt.Sprintf("%d(AX)", v*x.g.bytes), x.b(v))
		for i := range r {
			w.in("VADDPS %s, %s, %s", x.b(v), x.acc(i, v), x.acc(i, v))
		}
	}
	w.p("%srelu:", l)
	if x.mask {
		gemmResidual(w, x, r)
	}
	// max(0, v) keeps NaN and −0 like v < 0 ? 0 : v.
	w.in("TESTQ $2, R12")
	w.in("JZ %sclamp", l)
	z := x.bc(0)
	w.in("%s %s, %s, %s", x.g.zero, z, z, z)
	for i := range r {
		for v := range x.nv {
			w.in("VMAXPS %s, %s, %s", x.acc(i, v), z, x.acc(i, v))
		}
	}
	w.p("%sclamp:", l)
	if x.mask {
		gemmClamp(w, x, r)
	}
	w.p("%sout:", l)
	if x.mask && x.nv <= 2 {
		gemmCompressStore(w, x, r)
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
	w.in("VZEROUPPER")
	w.in("RET")
}

// The extended epilogue of AVX-512 (FUNCE in templates.go; AVX2 and the
// twin run it in Go on a staged block): flags bits above the pool level.
const (
	gemmResid    = 128 // add res, laid out as c, after the biases
	gemmClampBit = 256 // clamp to [lohi[0], lohi[1]] after relu
	gemmCompress = 512 // store (and read res) only the columns of cmask, packed
)

// compressOff sets R15 to the byte offset of vector 1's packed columns:
// 4 × the columns of K1 (vector 0). Only for nv ≤ 2.
func (w *asmw) compressOff() {
	w.in("KMOVW K1, R15")
	w.in("POPCNTL R15, R15")
	w.in("SHLQ $2, R15")
}

// packedAddr is the address of vector v's columns from the row at R13:
// with flags&512 packed (vector 1 at R15), else v·64.
func packedAddr(x gemmRegs, v int, packed bool) string {
	if packed && v == 1 {
		return "0(R13)(R15*1)"
	}
	return fmt.Sprintf("%d(R13)", v*x.g.bytes)
}

// gemmResidual adds res (flags&128), row i at res + i·ldc, its columns
// masked like c's or, with flags&512, packed (expanded into the kept
// lanes).
func gemmResidual(w *asmw, x gemmRegs, r int) {
	l := x.label
	t := x.b(0)
	w.in("TESTQ $%d, R12", gemmResid)
	w.in("JZ %snores", l)
	rows := func(packed bool) {
		w.in("MOVQ res+88(FP), R13")
		w.in("MOVQ ldc+64(FP), AX")
		w.in("SHLQ $2, AX")
		for i := range r {
			for v := range x.nv {
				if packed {
					w.in("VEXPANDPS.Z %s, %s, %s", packedAddr(x, v, true), x.kmask(v), t)
				} else {
					w.in("VMOVUPS.Z %s, %s, %s", packedAddr(x, v, false), x.kmask(v), t)
				}
				w.in("VADDPS %s, %s, %s", t, x.acc(i, v), x.acc(i, v))
			}
			if i+1 < r {
				w.in("ADDQ AX, R13")
			}
		}
	}
	if x.nv <= 2 {
		w.in("TESTQ $%d, R12", gemmCompress)
		w.in("JZ %sresrow", l)
		w.compressOff()
		rows(true)
		w.in("JMP %snores", l)
		w.p("%sresrow:", l)
	}
	rows(false)
	w.p("%snores:", l)
}

// gemmClamp clamps to [lohi[0], lohi[1]] (flags&256): max then min, each
// keeping a NaN accumulator (its second source), so NaN stays NaN and
// min > max gives max, as the interpreter's clip.
func gemmClamp(w *asmw, x gemmRegs, r int) {
	l := x.label
	lo, hi := x.b(0), x.bc(0)
	w.in("TESTQ $%d, R12", gemmClampBit)
	w.in("JZ %sout", l)
	w.in("MOVQ lohi+96(FP), AX")
	w.in("VBROADCASTSS 0(AX), %s", lo)
	w.in("VBROADCASTSS 4(AX), %s", hi)
	for i := range r {
		for v := range x.nv {
			w.in("VMAXPS %s, %s, %s", x.acc(i, v), lo, x.acc(i, v))
			w.in("VMINPS %s, %s, %s", x.acc(i, v), hi, x.acc(i, v))
		}
	}
}

// gemmCompressStore stores the kept columns of each row packed
// (flags&512) and returns; otherwise falls through to the masked store.
func gemmCompressStore(w *asmw, x gemmRegs, r int) {
	l := x.label
	w.in("TESTQ $%d, R12", gemmCompress)
	w.in("JZ %smasked", l)
	w.compressOff()
	w.gemmRows(r, func(i int) {
		for v := range x.nv {
			w.in("VCOMPRESSPS %s, %s, %s", x.acc(i, v), x.kmask(v), packedAddr(x, v, true))
		}
	})
	w.in("VZEROUPPER")
	w.in("RET")
	w.p("%smasked:", l)
}

// avx512Registers returns the zmm registers a Gemm kernel needs and
// AVX-512's 32; a block with more rows than the bases address, or more
// than 48 columns (the column masks come from one 64-bit shift), reports
// 33.
func avx512Registers(k *Kernel) (need, have int) {
	switch k.Op {
	case Gemv:
		return 18, 32 // 8 accumulators twice, 2 broadcasts
	case Depthwise, Act, Split, VMax, PoolMax, DWPlane, PoolAvg, Mean:
		return 9, 32
	}
	nv := k.NR / 16
	if (k.MR+2)/3 > len(avx2Bases) || k.NR > 48 || k.Op != Gemm && k.Op != IGemm {
		return 33, 32
	}
	return k.MR*nv + nv + 2, 32
}

package kernels

import (
	"fmt"
	"strings"
)

// Depthwise kernels: one output plane of a KH×KW correlation of one input
// channel with stride S (both axes), for depthwise and grouped
// convolutions (codegen/conv.go), width in vector: each register holds 16
// (AVX-512) or 8 (AVX2) consecutive outputs of a row.
//
// The emitter first copies the input channel into a zero-bordered plane
// (the conv's padding, plus room for the vector over-read), so the kernel
// has no edge cases: output (r, j) reads tap (kh, kw) at
//
//	x[(r·S + kh)·ld + (kw mod S)·half + kw/S + j]
//
// With S = 1 that is the padded plane itself; with S = 2 each padded row
// is stored split by column parity, even columns at 0, odd ones at half,
// so the strided taps become contiguous vector loads.
//
// Each output starts from p[0] (the bias) or, with flags&1, from y (the
// sum over the previous input channels of a group), adds its taps in
// (kh, kw) order, and with flags&2 is clamped to [p[1], p[2]] (relu,
// relu6, clip; NaN stays NaN). Rows are processed in blocks of 4 vectors,
// then single vectors, then a masked tail, so ow needs no alignment.

// Depthwise computes one output plane (see above); Kernel.Taps and
// Kernel.Stride give the window.
const Depthwise Op = 16

// dwKernels are the registered depthwise kernels: the 3×3 and 5×5
// windows of MobileNet and EfficientNet, stride 1 and 2.
//
// The 3×3 ones run AVX-512 blocks of 8 output rows (dw512.go) where the
// CPU has it. The 5×5 ones stay AVX2 only: no model of the benchmarks
// has them, so their AVX-512 routines (25 weights broadcast at each FMA)
// are generated and tested in internal/asmtest but not measured.
var dwKernels = []*Kernel{
	dwKernel(3, 3, 1, AVX512, AVX2), dwKernel(3, 3, 2, AVX512, AVX2), dwKernel(5, 5, 1, AVX2), dwKernel(5, 5, 2, AVX2),
}

// dwKernel is the kh×kw stride-s Depthwise kernel for isas, best first.
func dwKernel(kh, kw, s int, isas ...ISA) *Kernel {
	return &Kernel{
		Name: fmt.Sprintf("%s.dw%dx%ds%d", isas[0], kh, kw, s), Op: Depthwise, ISAs: isas,
		MR: 1, NR: 32, Taps: [2]int{kh, kw}, Stride: s,
		PackA: RowMajor, PackB: Vector, Epilogues: Bias | Relu | Activation,
		Func: fmt.Sprintf("simdDW%dx%ds%d", kh, kw, s),
	}
}

// FindDepthwise returns the registered depthwise kernel for a kh×kw
// window and stride s, or nil.
func FindDepthwise(kh, kw, s int) *Kernel {
	for _, k := range registry {
		if k.Op == Depthwise && k.Taps == [2]int{kh, kw} && k.Stride == s {
			return k
		}
	}
	return nil
}

// DWWidth is the number of columns of one phase of a padded row that a
// depthwise kernel reads for ow outputs: whole vectors, plus the taps'
// reach.
func (k *Kernel) DWWidth(ow int) int {
	l := k.dwLanes()
	return (ow+l-1)/l*l + (k.Taps[1]-1)/k.Stride
}

// dwLanes is the widest vector of a depthwise kernel's instruction sets.
func (k *Kernel) dwLanes() int {
	l := 1
	for _, isa := range k.ISAs {
		l = max(l, Lanes(isa))
	}
	return l
}

// dwCheck reports why a depthwise kernel description cannot be generated.
func (k *Kernel) dwCheck() error {
	if k.Taps[0] < 1 || k.Taps[1] < 1 || k.Taps[0] > 5 || k.Stride < 1 || k.Stride > 2 {
		return fmt.Errorf("kernel %s: window %v stride %d: the generator has 5 row registers and strides 1, 2", k.Name, k.Taps, k.Stride)
	}
	return nil
}

// dwTemplate is the Go source of a depthwise kernel: the wrapper, its
// pure-Go twin (unrolled for the window), and the assembly declaration.
func dwTemplate(k *Kernel) template {
	kh, kw, s := k.Taps[0], k.Taps[1], k.Stride
	r := strings.NewReplacer("_KH_", fmt.Sprint(kh), "_KW_", fmt.Sprint(kw), "_S_", fmt.Sprint(s),
		"_KK_", fmt.Sprint(kh*kw), "_REACH_", fmt.Sprint((kw-1)/s), "_LANES_", fmt.Sprint(k.dwLanes()))
	return template{
		wrapper: r.Replace(`
// FUNC computes one output plane y[r*ow+j] (r < oh, j < ow) of a
// _KH_×_KW_ correlation with stride _S_ over a zero-bordered input plane x
// (codegen/kernels/dw.go): tap (kh, kw) of output (r, j) is
// x[(r*_S_+kh)*ld + (kw%_S_)*half + kw/_S_ + j]. Each output starts from
// p[0] (flags&1: from y), adds the taps in (kh, kw) order, and with
// flags&2 is clamped to [p[1], p[2]] (NaN stays NaN).
func FUNC(x []float32, ld, half int, w *[_KK_]float32, y []float32, oh, ow int, p *[3]float32, flags int) {
	width := (ow+_LANES_-1)/_LANES_*_LANES_ + _REACH_
	if oh < 1 || ow < 1 || half < 0 || (_S_ == 1 && ld < width) || (_S_ > 1 && (half < width || ld < _S_*half)) {
		panic("FUNC: bad shape")
	}
	_ = x[((oh-1)*_S_+_KH_-1)*ld+(_S_-1)*half+width-1]
	_ = y[oh*ow-1]
	DISPATCH
	TWIN(x, ld, half, w, y, oh, ow, p, flags)
}
`),
		calls: map[ISA]string{
			AVX2:   `ASM(&x[0], ld, half, &w[0], &y[0], oh, ow, &p[0], flags)`,
			AVX512: `ASM(&x[0], ld, half, &w[0], &y[0], oh, ow, &p[0], flags)`,
		},
		twin: dwTwin(k),
		decl: `
// ASM is FUNC in _ISA_: oh, ow ≥ 1, x and y long enough.
//
//go:noescape
func ASM(x *float32, ld, half int, w *float32, y *float32, oh, ow int, p *float32, flags int)
`,
		stub: `
func ASM(x *float32, ld, half int, w *float32, y *float32, oh, ow int, p *float32, flags int) {
	panic("ASM: no assembly in this build")
}
`,
	}
}

// dwTwin writes the pure-Go twin: per row, blocks of 4 outputs in four
// scalar accumulators with the taps unrolled and every load at a constant
// index of a fixed-size array (no bounds checks inside the block), then
// single outputs.
func dwTwin(k *Kernel) string {
	kh, kw, s := k.Taps[0], k.Taps[1], k.Stride
	var b strings.Builder
	p := func(f string, a ...any) { fmt.Fprintf(&b, f+"\n", a...) }
	p("\n// TWIN is FUNC in pure Go: the fallback and the assembly's test oracle.")
	p("func TWIN(x []float32, ld, half int, w *[%d]float32, y []float32, oh, ow int, p *[3]float32, flags int) {", kh*kw)
	// The weights in locals while they fit Go's float registers.
	inRegs := kh*kw <= 9
	wv := func(i int) string {
		if inRegs {
			return fmt.Sprintf("w%d", i)
		}
		return fmt.Sprintf("w[%d]", i)
	}
	if inRegs {
		for i := range kh * kw {
			p("w%d := w[%d]", i, i)
		}
	}
	p("bias, lo, hi := p[0], p[1], p[2]")
	p("for r := range oh {")
	p("yr := y[r*ow : r*ow+ow]")
	// rows[kh][phase]: the phase's slice of padded row r*S+kh.
	row := func(h, q int) string { return fmt.Sprintf("x%d_%d", h, q) }
	for h := range kh {
		for q := range min(s, kw) {
			p("%s := x[(r*%d+%d)*ld+%d*half:]", row(h, q), s, h, q)
		}
	}
	// block of n outputs from column j
	block := func(n int) {
		reach := n + (kw-1)/s
		for h := range kh {
			for q := range min(s, kw) {
				p("a%d_%d := (*[%d]float32)(%s[j:])", h, q, reach, row(h, q))
			}
		}
		for i := range n {
			p("s%d := bias", i)
		}
		p("if flags&1 != 0 {")
		for i := range n {
			p("s%d = yr[j+%d]", i, i)
		}
		p("}")
		for h := range kh {
			for c := range kw {
				for i := range n {
					p("s%d += %s * a%d_%d[%d]", i, wv(h*kw+c), h, c%s, c/s+i)
				}
			}
		}
		p("if flags&2 != 0 {")
		for i := range n {
			p("s%d = min(max(s%d, lo), hi)", i, i)
		}
		p("}")
		for i := range n {
			p("yr[j+%d] = s%d", i, i)
		}
	}
	p("j := 0")
	p("for ; j+4 <= ow; j += 4 {")
	block(4)
	p("}")
	p("for ; j < ow; j++ {")
	block(1)
	p("}")
	p("}")
	p("}")
	return b.String()
}

// simd names one instruction set's vector registers and sizes for the
// generators that are shared by AVX2 (ymm) and AVX-512 (zmm): depthwise,
// act, gemv. AVX-512 masks tails with K1 instead of a mask register.
type simd struct {
	isa   ISA
	v     string // register prefix
	bytes int    // of one vector
	lanes int
}

var simds = map[ISA]simd{AVX2: {AVX2, "Y", 32, 8}, AVX512: {AVX512, "Z", 64, 16}}

// r names vector register i.
func (s simd) r(i int) string { return fmt.Sprintf("%s%d", s.v, i) }

// avx512 reports whether s is AVX-512 (opmask tails).
func (s simd) avx512() bool { return s.isa == AVX512 }

// tailMask sets the tail mask from the count in reg (CX for AVX-512's
// shift; clobbered: it must hold n mod lanes, 1 ≤ n < lanes, on entry):
// AVX-512 K1 = 2^n − 1, through BX; AVX2 V(mreg) from the routine's mask
// table (avx2Mask), through BX.
func (s simd) tailMask(w *asmw, reg, table string, mreg int) {
	if s.avx512() {
		w.in("MOVQ $1, BX")
		w.in("SHLQ %s, BX", reg)
		w.in("DECQ BX")
		w.in("KMOVW BX, K1")
		return
	}
	w.in("NEGQ %s", reg)
	w.in("LEAQ %s<>(SB), BX", table)
	w.in("VMOVUPS 32(BX)(%s*4), Y%d", reg, mreg)
}

// load and store move one vector, masked (the tail: lanes past it read
// as 0 and are not written) or not.
func (s simd) load(w *asmw, masked bool, addr string, reg, mreg int) {
	switch {
	case !masked:
		w.in("VMOVUPS %s, %s", addr, s.r(reg))
	case s.avx512():
		w.in("VMOVUPS.Z %s, K1, %s", addr, s.r(reg))
	default:
		w.in("VMASKMOVPS %s, Y%d, Y%d", addr, mreg, reg)
	}
}

func (s simd) store(w *asmw, masked bool, reg int, addr string, mreg int) {
	switch {
	case !masked:
		w.in("VMOVUPS %s, %s", s.r(reg), addr)
	case s.avx512():
		w.in("VMOVUPS %s, K1, %s", s.r(reg), addr)
	default:
		w.in("VMASKMOVPS Y%d, Y%d, %s", reg, mreg, addr)
	}
}

func avx2Depthwise(w *asmw, k *Kernel) { dwAsm(w, k, simds[AVX2]) }

// dwAsm writes a depthwise kernel for s. GPRs: R8 the padded row of
// output row r, R9.. the KH rows of the block, DX half in bytes, SI w,
// DI y, BX the rows left, CX the blocks left, AX flags. V0–V3 the
// accumulators, V4 the broadcast weight, V5 bias, V6 lo, V7 hi, Y8 the
// AVX2 tail mask (AVX-512: K1). Blocks of 4 vectors, then single
// vectors, then a masked tail.
func dwAsm(w *asmw, k *Kernel, s simd) {
	kh, kw, st := k.Taps[0], k.Taps[1], k.Stride
	fn := k.Asm(s.isa)
	mask := fn + "mask"
	if !s.avx512() {
		avx2Mask(w, mask)
	}
	L, B := s.lanes, s.bytes
	rows := []string{"R9", "R10", "R11", "R12", "R13"}
	w.p(`// func %s(x *float32, ld, half int, w *float32, y *float32, oh, ow int, p *float32, flags int)`, fn)
	w.p(`TEXT ·%s(SB), NOSPLIT, $0-72`, fn)
	w.in("MOVQ x+0(FP), R8")
	w.in("MOVQ half+16(FP), DX")
	w.in("SHLQ $2, DX")
	w.in("MOVQ w+24(FP), SI")
	w.in("MOVQ y+32(FP), DI")
	w.in("MOVQ p+56(FP), AX")
	w.in("VBROADCASTSS 0(AX), %s", s.r(5))
	w.in("VBROADCASTSS 4(AX), %s", s.r(6))
	w.in("VBROADCASTSS 8(AX), %s", s.r(7))
	w.in("MOVQ ow+48(FP), CX")
	w.in("ANDQ $%d, CX", L-1)
	w.in("JZ %snomask", fn)
	s.tailMask(w, "CX", mask, 8)
	w.p("%snomask:", fn)
	w.in("MOVQ flags+64(FP), AX")
	w.in("MOVQ oh+40(FP), BX")
	l := fn
	w.p("%srow:", l)
	w.in("MOVQ ld+8(FP), CX")
	w.in("MOVQ R8, R9")
	for h := 1; h < kh; h++ {
		w.in("LEAQ (%s)(CX*4), %s", rows[h-1], rows[h])
	}
	// vectors computes n vectors (V0..) at the current column, the
	// tail masked.
	vectors := func(n int, tag string, masked bool) {
		w.in("TESTQ $1, AX")
		w.in("JNZ %s%sacc", l, tag)
		for v := range n {
			w.in("VMOVAPS %s, %s", s.r(5), s.r(v))
		}
		w.in("JMP %s%staps", l, tag)
		w.p("%s%sacc:", l, tag)
		for v := range n {
			s.load(w, masked, fmt.Sprintf("%d(DI)", B*v), v, 8)
		}
		w.p("%s%staps:", l, tag)
		for h := range kh {
			for c := range kw {
				w.in("VBROADCASTSS %d(SI), %s", 4*(h*kw+c), s.r(4))
				for v := range n {
					addr := fmt.Sprintf("%d(%s)", 4*(c/st)+B*v, rows[h])
					if c%st == 1 {
						addr += "(DX*1)"
					}
					w.in("VFMADD231PS %s, %s, %s", addr, s.r(4), s.r(v))
				}
			}
		}
		w.in("TESTQ $2, AX")
		w.in("JZ %s%sstore", l, tag)
		for v := range n {
			w.in("VMAXPS %s, %s, %s", s.r(v), s.r(6), s.r(v)) // NaN in V(v) is kept
			w.in("VMINPS %s, %s, %s", s.r(v), s.r(7), s.r(v))
		}
		w.p("%s%sstore:", l, tag)
		for v := range n {
			s.store(w, masked, v, fmt.Sprintf("%d(DI)", B*v), 8)
		}
	}
	planeLoop(w, s, l, "ow+48(FP)", st, rows[:kh], vectors)
}

// planeLoop writes the loop over the output plane shared by the
// depthwise and pool kernels, after their row set-up (label l, BX the
// rows left, R8 the padded row, DI y): per row, blocks of 4 vectors,
// then single vectors, then the masked tail, each by vectors(n, tag,
// masked), moving DI and the registers adv (the window's rows, …) along;
// then R8 moves down st rows. ow is the frame slot of the output width.
func planeLoop(w *asmw, s simd, l, ow string, st int, adv []string, vectors func(n int, tag string, masked bool)) {
	L, B := s.lanes, s.bytes
	advance := func(n int) {
		w.in("ADDQ $%d, DI", n)
		for _, r := range adv {
			w.in("ADDQ $%d, %s", n, r)
		}
	}
	lg := log2(L)
	w.in("MOVQ %s, CX", ow)
	w.in("SHRQ $%d, CX", lg+2)
	w.in("JZ %sones", l)
	w.p("%sblk:", l)
	vectors(4, "b", false)
	advance(4 * B)
	w.in("DECQ CX")
	w.in("JNZ %sblk", l)
	w.p("%sones:", l)
	w.in("MOVQ %s, CX", ow)
	w.in("ANDQ $%d, CX", 4*L-1)
	w.in("SHRQ $%d, CX", lg)
	w.in("JZ %stail", l)
	w.p("%sone:", l)
	vectors(1, "o", false)
	advance(B)
	w.in("DECQ CX")
	w.in("JNZ %sone", l)
	w.p("%stail:", l)
	w.in("MOVQ %s, CX", ow)
	w.in("ANDQ $%d, CX", L-1)
	w.in("JZ %snext", l)
	vectors(1, "t", true)
	w.in("LEAQ (DI)(CX*4), DI")
	w.p("%snext:", l)
	w.in("MOVQ ld+8(FP), CX")
	for range st {
		w.in("LEAQ (R8)(CX*4), R8")
	}
	w.in("DECQ BX")
	w.in("JNZ %srow", l)
	w.in("VZEROUPPER")
	w.in("RET")
	w.p("")
}

// avx2Mask writes a mask table for tails of up to 7 lanes (name<>):
// eight -1 then eight 0, so the 8 lanes from 8−t are -1 exactly below t.
func avx2Mask(w *asmw, name string) {
	for i := range 16 {
		v := "0xffffffff"
		if i >= 8 {
			v = "0"
		}
		w.p("DATA %s<>+%d(SB)/4, $%s", name, 4*i, v)
	}
	w.p("GLOBL %s<>(SB), RODATA|NOPTR, $64", name)
	w.p("")
}

// Split is the column-parity split of a stride-2 depthwise plane's rows:
// even[m], odd[m] = src[2m], src[2m+1] (the wrapper places the columns of
// a padded row from its first, pl).
const Split Op = 19

func init() { templates[Split] = splitTemplate }

// splitKernel is the registered Split kernel.
var splitKernel = &Kernel{
	Name: "avx2.split2", Op: Split, ISAs: []ISA{AVX2}, MR: 1, NR: 16,
	PackA: Vector, PackB: Vector, Func: "simdSplit2",
}

var splitTemplate = template{
	wrapper: `
// FUNC stores src, the columns pl, pl+1, … of a padded row, into dst
// split by column parity, column c at (c%2)*half + c/2: the layout the
// stride-2 depthwise kernels read (codegen/kernels/dw.go).
func FUNC(dst []float32, half int, src []float32, pl int) {
	n := len(src)
	if n == 0 {
		return
	}
	if pl < 0 || (pl+n+1)/2 > half {
		panic("FUNC: bad shape")
	}
	_ = dst[2*half-1]
	i := 0
	if pl%2 == 1 {
		dst[half+pl/2] = src[0]
		i = 1
	}
	base, pairs := (pl+i)/2, (n-i)/2
	if (n-i)%2 == 1 {
		dst[base+pairs] = src[n-1]
	}
	if pairs == 0 {
		return
	}
	DISPATCH
	TWIN(dst[base:base+pairs], dst[half+base:half+base+pairs], src[i:i+2*pairs])
}
`,
	calls: map[ISA]string{AVX2: `ASM(&dst[base], &dst[half+base], &src[i], pairs)`},
	twin: `
// TWIN sets even[m], odd[m] = src[2m], src[2m+1]: FUNC in pure Go.
func TWIN(even, odd, src []float32) {
	odd = odd[:len(even)]
	src = src[:2*len(even)]
	for m := range even {
		even[m], odd[m] = src[2*m], src[2*m+1]
	}
}
`,
	decl: `
// ASM is FUNC's pairs in _ISA_: n ≥ 1 of them.
//
//go:noescape
func ASM(even, odd, src *float32, n int)
`,
	stub: `
func ASM(even, odd, src *float32, n int) {
	panic("ASM: no assembly in this build")
}
`,
}

// avx2Split writes the Split kernel: 16 columns per iteration (two loads,
// one shuffle per parity, one lane permute each to put the 128-bit
// halves in order, two stores), then the rest one pair at a time.
func avx2Split(w *asmw, k *Kernel) {
	fn := k.Asm(AVX2)
	w.p(`// func %s(even, odd, src *float32, n int)`, fn)
	w.p(`TEXT ·%s(SB), NOSPLIT, $0-32`, fn)
	w.in("MOVQ even+0(FP), DI")
	w.in("MOVQ odd+8(FP), DX")
	w.in("MOVQ src+16(FP), SI")
	w.in("MOVQ n+24(FP), CX")
	w.in("MOVQ CX, BX")
	w.in("SHRQ $3, CX")
	w.in("JZ %srest", fn)
	w.p("%sloop:", fn)
	w.in("VMOVUPS (SI), Y0")
	w.in("VMOVUPS 32(SI), Y1")
	w.in("VSHUFPS $0x88, Y1, Y0, Y2") // a0 a2 b0 b2 | a4 a6 b4 b6
	w.in("VSHUFPS $0xDD, Y1, Y0, Y3") // a1 a3 b1 b3 | a5 a7 b5 b7
	w.in("VPERMPD $0xD8, Y2, Y2")
	w.in("VPERMPD $0xD8, Y3, Y3")
	w.in("VMOVUPS Y2, (DI)")
	w.in("VMOVUPS Y3, (DX)")
	w.in("ADDQ $64, SI")
	w.in("ADDQ $32, DI")
	w.in("ADDQ $32, DX")
	w.in("DECQ CX")
	w.in("JNZ %sloop", fn)
	w.in("VZEROUPPER")
	w.p("%srest:", fn)
	w.in("ANDQ $7, BX")
	w.in("JZ %sdone", fn)
	w.p("%spair:", fn)
	w.in("MOVL (SI), AX")
	w.in("MOVL AX, (DI)")
	w.in("MOVL 4(SI), AX")
	w.in("MOVL AX, (DX)")
	w.in("ADDQ $8, SI")
	w.in("ADDQ $4, DI")
	w.in("ADDQ $4, DX")
	w.in("DECQ BX")
	w.in("JNZ %spair", fn)
	w.p("%sdone:", fn)
	w.in("RET")
	w.p("")
}

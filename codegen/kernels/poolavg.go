package kernels

import (
	"fmt"
	"strings"
)

// PoolAvg kernels: one output plane of a KH×KW average pool with stride S
// (both axes, dilation 1) over a padded plane laid out as the max-pool
// kernels' (pool.go), its border zero: output (r, j) sums its taps
//
//	x[(r·S + kh)·ld + (kw mod S)·half + kw/S + j]
//
// in (kh, kw) order in float32, then divides the sum by its window's
// count, the product rdiv[r]·cdiv[j] (small integers, exact): the count
// of an average pool is separable, the taps inside the input (or inside
// the padded input, count_include_pad) along each axis (codegen/
// pool_simd.go computes both tables). A zero border adds nothing to a
// sum, so the padded taps and ceil_mode's windows past the end need no
// tests. NaN and ±Inf propagate as in the interpreter; the sum differs
// from the interpreter's float64 one by the float32 roundings of at most
// KH·KW−1 additions and the division.

// PoolAvg computes one average-pool output plane; Kernel.Taps and
// Kernel.Stride give the window.
const PoolAvg Op = 24

// avgPoolKernels are the registered average-pool kernels: LeNet's 2×2
// stride 2, 3×3 stride 2 and 1, 2×2 stride 1.
var avgPoolKernels = []*Kernel{
	avgPoolKernel(2, 2, 2, AVX512, AVX2), avgPoolKernel(3, 3, 2, AVX512, AVX2),
	avgPoolKernel(3, 3, 1, AVX512, AVX2), avgPoolKernel(2, 2, 1, AVX512, AVX2),
}

// avgPoolKernel is the kh×kw stride-s PoolAvg kernel for isas, best first.
func avgPoolKernel(kh, kw, s int, isas ...ISA) *Kernel {
	return &Kernel{
		Name: fmt.Sprintf("%s.avgpool%dx%ds%d", isas[0], kh, kw, s), Op: PoolAvg, ISAs: isas,
		MR: 1, NR: 16, Taps: [2]int{kh, kw}, Stride: s, PackA: Vector, PackB: Vector,
		Func: fmt.Sprintf("simdAvgPool%dx%ds%d", kh, kw, s),
	}
}

// FindPoolAvg returns the registered average-pool kernel for a kh×kw
// window and stride s, or nil.
func FindPoolAvg(kh, kw, s int) *Kernel {
	for _, k := range registry {
		if k.Op == PoolAvg && k.Taps == [2]int{kh, kw} && k.Stride == s {
			return k
		}
	}
	return nil
}

// AvgPoolCols is the length of an average-pool kernel's cdiv for ow
// output columns: whole vectors (the kernel reads them unmasked).
func (k *Kernel) AvgPoolCols(ow int) int {
	l := k.dwLanes()
	return (ow + l - 1) / l * l
}

// avgPoolTemplate is the Go source of an average-pool kernel.
func avgPoolTemplate(k *Kernel) template {
	kh, kw, s := k.Taps[0], k.Taps[1], k.Stride
	r := strings.NewReplacer("_KH_", fmt.Sprint(kh), "_KW_", fmt.Sprint(kw), "_S_", fmt.Sprint(s),
		"_REACH_", fmt.Sprint((kw-1)/s), "_LANES_", fmt.Sprint(k.dwLanes()))
	return template{
		wrapper: r.Replace(`
// FUNC computes one output plane y[r*ow+j] (r < oh, j < ow) of a
// _KH_×_KW_ average pool with stride _S_ over a padded input plane x whose
// border is zero (codegen/kernels/poolavg.go): the sum of the taps
// x[(r*_S_+kh)*ld + (kw%_S_)*half + kw/_S_ + j] in (kh, kw) order, in
// float32, divided by rdiv[r]*cdiv[j]. cdiv holds ow rounded up to
// _LANES_ values.
func FUNC(x []float32, ld, half int, y []float32, oh, ow int, rdiv, cdiv []float32) {
	width := (ow+_LANES_-1)/_LANES_*_LANES_ + _REACH_
	if oh < 1 || ow < 1 || half < 0 || (_S_ == 1 && ld < width) || (_S_ > 1 && (half < width || ld < _S_*half)) {
		panic("FUNC: bad shape")
	}
	_ = x[((oh-1)*_S_+_KH_-1)*ld+(_S_-1)*half+width-1]
	_ = y[oh*ow-1]
	_ = rdiv[oh-1]
	_ = cdiv[(ow+_LANES_-1)/_LANES_*_LANES_-1]
	DISPATCH
	TWIN(x, ld, half, y, oh, ow, rdiv, cdiv)
}
`),
		calls: map[ISA]string{
			AVX2:   `ASM(&x[0], ld, half, &y[0], oh, ow, &rdiv[0], &cdiv[0])`,
			AVX512: `ASM(&x[0], ld, half, &y[0], oh, ow, &rdiv[0], &cdiv[0])`,
		},
		twin: avgPoolTwin(k),
		decl: `
// ASM is FUNC in _ISA_: oh, ow ≥ 1, x, y, rdiv and cdiv long enough.
//
//go:noescape
func ASM(x *float32, ld, half int, y *float32, oh, ow int, rdiv, cdiv *float32)
`,
		stub: `
func ASM(x *float32, ld, half int, y *float32, oh, ow int, rdiv, cdiv *float32) {
	panic("ASM: no assembly in this build")
}
`,
	}
}

// avgPoolTwin writes the pure-Go twin: per output, the taps in (kh, kw)
// order, one float32 addition each, then the division.
func avgPoolTwin(k *Kernel) string {
	kh, kw, s := k.Taps[0], k.Taps[1], k.Stride
	var b strings.Builder
	p := func(f string, a ...any) { fmt.Fprintf(&b, f+"\n", a...) }
	p("\n// TWIN is FUNC in pure Go: the fallback and the assembly's test oracle.")
	p("func TWIN(x []float32, ld, half int, y []float32, oh, ow int, rdiv, cdiv []float32) {")
	p("cdiv = cdiv[:ow]")
	p("for r := range oh {")
	p("yr := y[r*ow : r*ow+ow]")
	p("dr := rdiv[r]")
	for h := range kh {
		for q := range min(s, kw) {
			p("x%d_%d := x[(r*%d+%d)*ld+%d*half:][:ow+%d]", h, q, s, h, q, (kw-1)/s)
		}
	}
	p("for j := range yr {")
	p("v := x0_0[j]")
	for h := range kh {
		for c := range kw {
			if h > 0 || c > 0 {
				p("v += x%d_%d[j+%d]", h, c%s, c/s)
			}
		}
	}
	p("yr[j] = v / (dr * cdiv[j])")
	p("}")
	p("}")
	p("}")
	return b.String()
}

func avx2PoolAvg(w *asmw, k *Kernel)   { avgPoolAsm(w, k, simds[AVX2]) }
func avx512PoolAvg(w *asmw, k *Kernel) { avgPoolAsm(w, k, simds[AVX512]) }

// avgPoolAsm writes an average-pool kernel for s. GPRs as poolAsm's, and
// SI the row's rdiv, R14 the column's cdiv. V0–V3 the sums, V8 the
// divisor, V9 the row's rdiv, Y10 the AVX2 tail mask (AVX-512: K1).
func avgPoolAsm(w *asmw, k *Kernel, s simd) {
	kh, kw, st := k.Taps[0], k.Taps[1], k.Stride
	fn := k.Asm(s.isa)
	mask := fn + "mask"
	if !s.avx512() {
		avx2Mask(w, mask)
	}
	B := s.bytes
	rows := []string{"R9", "R10", "R11", "R12", "R13"}
	w.p(`// func %s(x *float32, ld, half int, y *float32, oh, ow int, rdiv, cdiv *float32)`, fn)
	w.p(`TEXT ·%s(SB), NOSPLIT, $0-64`, fn)
	w.in("MOVQ x+0(FP), R8")
	w.in("MOVQ half+16(FP), DX")
	w.in("SHLQ $2, DX")
	w.in("MOVQ y+24(FP), DI")
	w.in("MOVQ rdiv+48(FP), SI")
	w.in("MOVQ ow+40(FP), CX")
	w.in("ANDQ $%d, CX", s.lanes-1)
	w.in("JZ %snomask", fn)
	s.tailMask(w, "CX", mask, 10)
	w.p("%snomask:", fn)
	w.in("MOVQ oh+32(FP), BX")
	l := fn
	w.p("%srow:", l)
	w.in("MOVQ ld+8(FP), CX")
	w.in("MOVQ R8, R9")
	for h := 1; h < kh; h++ {
		w.in("LEAQ (%s)(CX*4), %s", rows[h-1], rows[h])
	}
	w.in("VBROADCASTSS 0(SI), %s", s.r(9))
	w.in("ADDQ $4, SI")
	w.in("MOVQ cdiv+56(FP), R14")
	vectors := func(n int, tag string, masked bool) {
		for h := range kh {
			for c := range kw {
				for v := range n {
					addr := fmt.Sprintf("%d(%s)", 4*(c/st)+B*v, rows[h])
					if c%st == 1 {
						addr += "(DX*1)"
					}
					if h == 0 && c == 0 {
						w.in("VMOVUPS %s, %s", addr, s.r(v))
					} else {
						w.in("VADDPS %s, %s, %s", addr, s.r(v), s.r(v))
					}
				}
			}
		}
		for v := range n {
			w.in("VMULPS %d(R14), %s, %s", B*v, s.r(9), s.r(8))
			w.in("VDIVPS %s, %s, %s", s.r(8), s.r(v), s.r(v))
			s.store(w, masked, v, fmt.Sprintf("%d(DI)", B*v), 10)
		}
	}
	planeLoop(w, s, l, "ow+40(FP)", st, append(rows[:kh:kh], "R14"), vectors)
}

func init() {
	generators[AVX2][PoolAvg] = avx2PoolAvg
	generators[AVX512][PoolAvg] = avx512PoolAvg
}

// Mean: y[p] = float32(Σ_i float64(x[p·sp+i]) / div) for each plane p <
// len(y): a global average pool (div = sp). The sums are float64, as
// the interpreter's, in 16 partial sums (element i into sum i mod 16:
// two 8-lane zmm or four 4-lane ymm accumulators, the same partition)
// added up by the same tree on every instruction set, so AVX-512, AVX2
// and the twin agree bit for bit; against the interpreter's sequential
// sum only the float64 rounding order differs, far below float32's.
const Mean Op = 25

// meanKernel is the registered Mean kernel.
var meanKernel = &Kernel{
	Name: "avx512.mean", Op: Mean, ISAs: []ISA{AVX512, AVX2}, MR: 1, NR: 16,
	PackA: Vector, PackB: Vector, Func: "simdMean",
}

func init() {
	templates[Mean] = meanTemplate
	generators[AVX512][Mean] = avx512Mean
	generators[AVX2][Mean] = avx2Mean
}

var meanTemplate = template{
	wrapper: `
// FUNC sets y[p] = float32(Σ_i float64(x[p*sp+i]) / div) for p < len(y),
// i < sp: each plane's float64 sum, as 16 partial sums (i mod 16)
// added pairwise, divided by div.
func FUNC(x []float32, sp int, y []float32, div float64) {
	if sp < 1 {
		panic("FUNC: bad shape")
	}
	if len(y) == 0 {
		return
	}
	_ = x[len(y)*sp-1]
	DISPATCH
	TWIN(x, sp, y, div)
}
`,
	calls: map[ISA]string{
		AVX512: `ASM(&x[0], sp, &y[0], len(y), div)`,
		AVX2:   `ASM(&x[0], sp, &y[0], len(y), div)`,
	},
	twin: `
// TWIN is FUNC in pure Go: the fallback and the assembly's test oracle.
func TWIN(x []float32, sp int, y []float32, div float64) {
	for p := range y {
		var s [16]float64
		for i, v := range x[p*sp : (p+1)*sp] {
			s[i%16] += float64(v)
		}
		for w := 8; w >= 1; w /= 2 {
			for j := range w {
				s[j] += s[j+w]
			}
		}
		y[p] = float32(s[0] / div)
	}
}
`,
	decl: `
// ASM is FUNC in _ISA_: sp, planes ≥ 1.
//
//go:noescape
func ASM(x *float32, sp int, y *float32, planes int, div float64)
`,
	stub: `
func ASM(x *float32, sp int, y *float32, planes int, div float64) {
	panic("ASM: no assembly in this build")
}
`,
}

// meanHead writes the common start of a Mean routine: SI x, DI y, BX
// the planes left, X15 div.
func meanHead(w *asmw, fn string) {
	w.p(`// func %s(x *float32, sp int, y *float32, planes int, div float64)`, fn)
	w.p(`TEXT ·%s(SB), NOSPLIT, $0-40`, fn)
	w.in("MOVQ x+0(FP), SI")
	w.in("MOVQ y+16(FP), DI")
	w.in("VMOVSD div+32(FP), X15")
}

// meanTail writes the division, the store and the plane loop's end,
// with the sum in X0.
func meanTail(w *asmw, fn string) {
	w.in("VUNPCKHPD X0, X0, X1")
	w.in("VADDSD X1, X0, X0")
	w.in("VDIVSD X15, X0, X0")
	w.in("VCVTSD2SS X0, X0, X0")
	w.in("VMOVSS X0, (DI)")
	w.in("ADDQ $4, DI")
	w.in("DECQ BX")
	w.in("JNZ %splane", fn)
	w.in("VZEROUPPER")
	w.in("RET")
	w.p("")
}

// avx512Mean: Z0 the partial sums of elements 0–7 of each 16, Z1 of
// 8–15; K1 the tail's mask.
func avx512Mean(w *asmw, k *Kernel) {
	fn := k.Asm(AVX512)
	meanHead(w, fn)
	w.in("MOVQ sp+8(FP), CX")
	w.in("ANDQ $15, CX")
	w.in("MOVQ $1, BX")
	w.in("SHLQ CX, BX")
	w.in("DECQ BX")
	w.in("KMOVW BX, K1")
	w.in("MOVQ planes+24(FP), BX")
	w.p("%splane:", fn)
	w.in("VXORPD Z0, Z0, Z0")
	w.in("VXORPD Z1, Z1, Z1")
	w.in("MOVQ sp+8(FP), CX")
	w.in("SHRQ $4, CX")
	w.in("JZ %stail", fn)
	w.p("%sloop:", fn)
	w.in("VCVTPS2PD (SI), Z2")
	w.in("VCVTPS2PD 32(SI), Z3")
	w.in("VADDPD Z2, Z0, Z0")
	w.in("VADDPD Z3, Z1, Z1")
	w.in("ADDQ $64, SI")
	w.in("DECQ CX")
	w.in("JNZ %sloop", fn)
	w.p("%stail:", fn)
	w.in("MOVQ sp+8(FP), CX")
	w.in("ANDQ $15, CX")
	w.in("JZ %ssum", fn)
	w.in("VMOVUPS.Z (SI), K1, Z2")
	w.in("VEXTRACTF64X4 $1, Z2, Y3")
	w.in("VCVTPS2PD Y2, Z2")
	w.in("VCVTPS2PD Y3, Z3")
	w.in("VADDPD Z2, Z0, Z0")
	w.in("VADDPD Z3, Z1, Z1")
	w.in("LEAQ (SI)(CX*4), SI")
	w.p("%ssum:", fn)
	w.in("VADDPD Z1, Z0, Z0")
	w.in("VEXTRACTF64X4 $1, Z0, Y1")
	w.in("VADDPD Y1, Y0, Y0")
	w.in("VEXTRACTF128 $1, Y0, X1")
	w.in("VADDPD X1, X0, X0")
	meanTail(w, fn)
}

// avx2Mean: Y0–Y3 the partial sums of elements 0–3, 4–7, 8–11, 12–15 of
// each 16; Y8, Y9 the tail's masks for its two halves (from the mask
// table, 8 − lanes from its start).
func avx2Mean(w *asmw, k *Kernel) {
	fn := k.Asm(AVX2)
	mask := fn + "mask"
	avx2Mask(w, mask)
	meanHead(w, fn)
	w.in("LEAQ %s<>(SB), AX", mask)
	w.in("MOVQ sp+8(FP), CX")
	w.in("ANDQ $15, CX")
	w.in("MOVQ $8, DX")
	w.in("CMPQ CX, DX")
	w.in("CMOVQLT CX, DX") // DX = min(t, 8)
	w.in("SUBQ DX, CX")    // CX = t − DX
	w.in("NEGQ DX")
	w.in("VMOVUPS 32(AX)(DX*4), Y8")
	w.in("NEGQ CX")
	w.in("VMOVUPS 32(AX)(CX*4), Y9")
	w.in("MOVQ planes+24(FP), BX")
	w.p("%splane:", fn)
	for i := range 4 {
		w.in("VXORPD Y%d, Y%d, Y%d", i, i, i)
	}
	w.in("MOVQ sp+8(FP), CX")
	w.in("SHRQ $4, CX")
	w.in("JZ %stail", fn)
	w.p("%sloop:", fn)
	for i := range 4 {
		w.in("VCVTPS2PD %d(SI), Y%d", 16*i, 4+i)
	}
	for i := range 4 {
		w.in("VADDPD Y%d, Y%d, Y%d", 4+i, i, i)
	}
	w.in("ADDQ $64, SI")
	w.in("DECQ CX")
	w.in("JNZ %sloop", fn)
	w.p("%stail:", fn)
	w.in("MOVQ sp+8(FP), CX")
	w.in("ANDQ $15, CX")
	w.in("JZ %ssum", fn)
	w.in("VMASKMOVPS (SI), Y8, Y10")
	w.in("VMASKMOVPS 32(SI), Y9, Y11")
	w.in("VCVTPS2PD X10, Y4")
	w.in("VEXTRACTF128 $1, Y10, X5")
	w.in("VCVTPS2PD X5, Y5")
	w.in("VCVTPS2PD X11, Y6")
	w.in("VEXTRACTF128 $1, Y11, X12")
	w.in("VCVTPS2PD X12, Y7")
	for i := range 4 {
		w.in("VADDPD Y%d, Y%d, Y%d", 4+i, i, i)
	}
	w.in("LEAQ (SI)(CX*4), SI")
	w.p("%ssum:", fn)
	w.in("VADDPD Y2, Y0, Y0")
	w.in("VADDPD Y3, Y1, Y1")
	w.in("VADDPD Y1, Y0, Y0")
	w.in("VEXTRACTF128 $1, Y0, X1")
	w.in("VADDPD X1, X0, X0")
	meanTail(w, fn)
}

package kernels

import (
	"fmt"
	"strings"
)

// PoolMax kernels: one output plane of a KH×KW max pool with stride S
// (both axes, dilation 1) over a padded plane laid out as the depthwise
// kernels' (dw.go): output (r, j) reads tap (kh, kw) at
//
//	x[(r·S + kh)·ld + (kw mod S)·half + kw/S + j]
//
// The emitter (codegen/pool_simd.go) fills the plane's border with −Inf,
// so padding never wins, as the interpreter skips padded taps. The result
// is NaN when any tap is NaN (the interpreter's v > m || v != v): each
// vector also collects its taps' unordered compares and ORs them into the
// maximum at the end (an all-ones lane is a NaN). Ties between ±0 may
// keep either zero.

// PoolMax computes one max-pool output plane; Kernel.Taps and
// Kernel.Stride give the window.
const PoolMax Op = 22

// poolKernels are the registered max-pool kernels: the 3×3 stride-2 pool
// of ResNet and GoogLeNet, 2×2 stride 2, 3×3 stride 1.
var poolKernels = []*Kernel{
	poolKernel(3, 3, 2, AVX512, AVX2), poolKernel(2, 2, 2, AVX512, AVX2), poolKernel(3, 3, 1, AVX512, AVX2),
}

// poolKernel is the kh×kw stride-s PoolMax kernel for isas, best first.
func poolKernel(kh, kw, s int, isas ...ISA) *Kernel {
	return &Kernel{
		Name: fmt.Sprintf("%s.maxpool%dx%ds%d", isas[0], kh, kw, s), Op: PoolMax, ISAs: isas,
		MR: 1, NR: 16, Taps: [2]int{kh, kw}, Stride: s, PackA: Vector, PackB: Vector,
		Func: fmt.Sprintf("simdMaxPool%dx%ds%d", kh, kw, s),
	}
}

// FindPoolMax returns the registered max-pool kernel for a kh×kw window
// and stride s, or nil.
func FindPoolMax(kh, kw, s int) *Kernel {
	for _, k := range registry {
		if k.Op == PoolMax && k.Taps == [2]int{kh, kw} && k.Stride == s {
			return k
		}
	}
	return nil
}

// poolTemplate is the Go source of a max-pool kernel.
func poolTemplate(k *Kernel) template {
	kh, kw, s := k.Taps[0], k.Taps[1], k.Stride
	r := strings.NewReplacer("_KH_", fmt.Sprint(kh), "_KW_", fmt.Sprint(kw), "_S_", fmt.Sprint(s),
		"_REACH_", fmt.Sprint((kw-1)/s), "_LANES_", fmt.Sprint(k.dwLanes()))
	return template{
		wrapper: r.Replace(`
// FUNC computes one output plane y[r*ow+j] (r < oh, j < ow) of a
// _KH_×_KW_ max pool with stride _S_ over a padded input plane x whose
// border holds −Inf (codegen/kernels/pool.go): tap (kh, kw) of output
// (r, j) is x[(r*_S_+kh)*ld + (kw%_S_)*half + kw/_S_ + j]. An output is
// NaN when any of its taps is.
func FUNC(x []float32, ld, half int, y []float32, oh, ow int) {
	width := (ow+_LANES_-1)/_LANES_*_LANES_ + _REACH_
	if oh < 1 || ow < 1 || half < 0 || (_S_ == 1 && ld < width) || (_S_ > 1 && (half < width || ld < _S_*half)) {
		panic("FUNC: bad shape")
	}
	_ = x[((oh-1)*_S_+_KH_-1)*ld+(_S_-1)*half+width-1]
	_ = y[oh*ow-1]
	DISPATCH
	TWIN(x, ld, half, y, oh, ow)
}
`),
		calls: map[ISA]string{
			AVX2:   `ASM(&x[0], ld, half, &y[0], oh, ow)`,
			AVX512: `ASM(&x[0], ld, half, &y[0], oh, ow)`,
		},
		twin: poolTwin(k),
		decl: `
// ASM is FUNC in _ISA_: oh, ow ≥ 1, x and y long enough.
//
//go:noescape
func ASM(x *float32, ld, half int, y *float32, oh, ow int)
`,
		stub: `
func ASM(x *float32, ld, half int, y *float32, oh, ow int) {
	panic("ASM: no assembly in this build")
}
`,
	}
}

// poolTwin writes the pure-Go twin: per output, the taps in (kh, kw)
// order through the interpreter's comparison.
func poolTwin(k *Kernel) string {
	kh, kw, s := k.Taps[0], k.Taps[1], k.Stride
	var b strings.Builder
	p := func(f string, a ...any) { fmt.Fprintf(&b, f+"\n", a...) }
	p("\n// TWIN is FUNC in pure Go: the fallback and the assembly's test oracle.")
	p("func TWIN(x []float32, ld, half int, y []float32, oh, ow int) {")
	p("for r := range oh {")
	p("yr := y[r*ow : r*ow+ow]")
	for h := range kh {
		for q := range min(s, kw) {
			p("x%d_%d := x[(r*%d+%d)*ld+%d*half:][:ow+%d]", h, q, s, h, q, (kw-1)/s)
		}
	}
	p("for j := range yr {")
	p("m := x0_0[j]")
	for h := range kh {
		for c := range kw {
			if h == 0 && c == 0 {
				continue
			}
			p("if v := x%d_%d[j+%d]; v > m || v != v {\nm = v\n}", h, c%s, c/s)
		}
	}
	p("yr[j] = m")
	p("}")
	p("}")
	p("}")
	return b.String()
}

func avx2PoolMax(w *asmw, k *Kernel)   { poolAsm(w, k, simds[AVX2]) }
func avx512PoolMax(w *asmw, k *Kernel) { poolAsm(w, k, simds[AVX512]) }

// poolAsm writes a max-pool kernel for s. GPRs as dwAsm: R8 the padded
// row of output row r, R9.. the KH rows, DX half in bytes, DI y, BX the
// rows left, CX the blocks left. V0–V3 the maxima, V4–V7 their taps'
// unordered compares (all ones: NaN seen), V8 the tap, V9 its compare,
// Y10 the AVX2 tail mask (AVX-512: K1; K2 the compare).
func poolAsm(w *asmw, k *Kernel, s simd) {
	kh, kw, st := k.Taps[0], k.Taps[1], k.Stride
	fn := k.Asm(s.isa)
	mask := fn + "mask"
	if !s.avx512() {
		avx2Mask(w, mask)
	}
	L, B := s.lanes, s.bytes
	rows := []string{"R9", "R10", "R11", "R12", "R13"}
	w.p(`// func %s(x *float32, ld, half int, y *float32, oh, ow int)`, fn)
	w.p(`TEXT ·%s(SB), NOSPLIT, $0-48`, fn)
	w.in("MOVQ x+0(FP), R8")
	w.in("MOVQ half+16(FP), DX")
	w.in("SHLQ $2, DX")
	w.in("MOVQ y+24(FP), DI")
	w.in("MOVQ ow+40(FP), CX")
	w.in("ANDQ $%d, CX", L-1)
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
	// unord sets V(u) to all ones where V(t) is NaN (first: else zero),
	// else ORs that in.
	unord := func(t, u int, first bool) {
		dst := u
		if !first {
			dst = 9
		}
		if s.avx512() {
			w.in("VCMPPS $3, %s, %s, K2", s.r(t), s.r(t))
			w.in("VPMOVM2D K2, %s", s.r(dst))
		} else {
			w.in("VCMPPS $3, %s, %s, %s", s.r(t), s.r(t), s.r(dst))
		}
		if !first {
			w.in("VPOR%s %s, %s, %s", map[bool]string{true: "D", false: ""}[s.avx512()], s.r(9), s.r(u), s.r(u))
		}
	}
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
						unord(v, 4+v, true)
						continue
					}
					w.in("VMOVUPS %s, %s", addr, s.r(8))
					unord(8, 4+v, false)
					w.in("VMAXPS %s, %s, %s", s.r(8), s.r(v), s.r(v))
				}
			}
		}
		for v := range n {
			if s.avx512() {
				w.in("VPORD %s, %s, %s", s.r(4+v), s.r(v), s.r(v))
			} else {
				w.in("VPOR %s, %s, %s", s.r(4+v), s.r(v), s.r(v))
			}
			s.store(w, masked, v, fmt.Sprintf("%d(DI)", B*v), 10)
		}
	}
	planeLoop(w, s, l, "ow+40(FP)", st, rows[:kh], vectors)
}

func init() {
	generators[AVX2][PoolMax] = avx2PoolMax
	generators[AVX512][PoolMax] = avx512PoolMax
}

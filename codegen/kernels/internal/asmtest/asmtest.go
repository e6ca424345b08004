// Package asmtest holds every kernel of codegen/kernels, generated as a
// generated model package would hold it (plus a few block shapes no
// layer uses yet), so its tests can call the assembly and the pure-Go
// twins directly, without building a model. The kernels_* files are
// generated: edit codegen/kernels and run go generate here;
// kernels.TestAsmTestFresh fails when they are stale.
package asmtest

//go:generate go run ./gen

// gemmFunc is the signature of a Gemm kernel's wrapper and twin.
type gemmFunc = func(r, n, kn int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, bias []float32, flags int)

// gemmExtFunc is the signature of a Gemm kernel's extended wrapper
// (kernels.Kernel.GemmExt) and its staged form.
type gemmExtFunc = func(r, n, kn int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, bias []float32, flags int, res []float32, lohi *[2]float32, cmask uint32)

// gemmKernel is a Gemm kernel: its wrapper, twin and assembly routines,
// and the extended wrapper with its staged (Go epilogue) path.
type gemmKernel struct {
	name        string
	mr, nr      int
	call, twin  gemmFunc
	ext, staged gemmExtFunc
	asm         []gemmAsm
}

// gemmAsm is one instruction set's routine of a Gemm kernel, which runs
// when cpuLevel >= level (it panics in builds without assembly). It
// computes up to rows rows per call; full: always all nr columns.
type gemmAsm struct {
	isa   string
	level int
	rows  int
	full  bool
	f     func(r, n, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, bias *float32, flags int, res *float32, lohi *float32, cmask int)
}

// dotKernel is a Dot kernel (AVX2 only; the assembly runs when
// cpuLevel >= isaAVX2).
type dotKernel struct {
	name string
	mr   int
	call func(r int, x, w []float32, ldw int, out []float32)
	twin func(r int, x, w []float32, ldw int, out []float32)
	asm  func(r, k int, x *float32, w *float32, ldw int, out *float32)
}

// dwKernel is a Depthwise kernel (kh×kw window, stride s; its widest
// routine's lanes).
type dwKernel struct {
	name      string
	kh, kw, s int
	lanes     int
	call      func(x []float32, ld, half int, w, y []float32, oh, ow int, p *[3]float32, flags int)
	twin      func(x []float32, ld, half int, w, y []float32, oh, ow int, p *[3]float32, flags int)
	asm       []dwAsm
}

// dwAsm, splitAsm, actAsm and gemvAsm are one instruction set's routine
// of a kernel, which runs when cpuLevel >= level.
type dwAsm struct {
	isa   string
	level int
	f     func(x *float32, ld, half int, w *float32, y *float32, oh, ow int, p *float32, flags int)
}

type splitAsm struct {
	isa   string
	level int
	f     func(even, odd, src *float32, n int)
}

// splitKernel is a Split kernel.
// poolKernel is a PoolMax kernel (kernels.PoolMax) and its window.
type poolKernel struct {
	name       string
	kh, kw, s  int
	lanes      int
	call, twin func(x []float32, ld, half int, y []float32, oh, ow int)
	asm        []poolAsm
}

type poolAsm struct {
	isa   string
	level int
	f     func(x *float32, ld, half int, y *float32, oh, ow int)
}

// avgPoolKernel is a PoolAvg kernel (kernels.PoolAvg) and its window.
type avgPoolKernel struct {
	name       string
	kh, kw, s  int
	lanes      int
	call, twin func(x []float32, ld, half int, y []float32, oh, ow int, rdiv, cdiv []float32)
	asm        []avgPoolAsm
}

type avgPoolAsm struct {
	isa   string
	level int
	f     func(x *float32, ld, half int, y *float32, oh, ow int, rdiv, cdiv *float32)
}

type splitKernel struct {
	name string
	call func(dst []float32, half int, src []float32, pl int)
	twin func(even, odd, src []float32)
	asm  []splitAsm
}

type actAsm struct {
	isa   string
	level int
	f     func(fn, n int, a, b, y, p *float32)
}

// actKernel is an Act kernel: call is its form with parameters (FUNCP).
type actKernel struct {
	name       string
	call, twin func(fn int, p [2]float32, a, b, y []float32)
	asm        []actAsm
}

type gemvAsm struct {
	isa   string
	level int
	f     func(nv, k int, x, p *float32, ldp int, c, y *float32)
}

// gemvKernel is a Gemv kernel.
type gemvKernel struct {
	name       string
	call, twin func(nv int, x, p []float32, ldp int, c, y []float32)
	asm        []gemvAsm
}

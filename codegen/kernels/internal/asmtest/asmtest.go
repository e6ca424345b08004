// Package asmtest holds every kernel of codegen/kernels, generated as a
// generated model package would hold it (plus a few block shapes no
// layer uses yet), so its tests can call the assembly and the pure-Go
// twins directly, without building a model. The kernels_* files are
// generated: edit codegen/kernels and run go generate here;
// kernels.TestAsmTestFresh fails when they are stale.
package asmtest

//go:generate go run ./gen

// gemmKernel is a Gemm kernel: its wrapper, twin and assembly (which
// panics in builds without it; call it only when haveSIMD).
type gemmKernel struct {
	name   string
	mr, nr int
	call   func(r int, a []float32, lda int, b, c, bias []float32, flags int)
	twin   func(r, k int, a []float32, lda int, b, c, bias []float32, flags int)
	asm    func(r, k int, a *float32, lda int, b *float32, c *float32, bias *float32, flags int)
}

// dotKernel is a Dot kernel.
type dotKernel struct {
	name string
	mr   int
	call func(r int, x, w []float32, ldw int, out []float32)
	twin func(r int, x, w []float32, ldw int, out []float32)
	asm  func(r, k int, x *float32, w *float32, ldw int, out *float32)
}

package asmtest

// igemmFunc is the signature of an IGemm kernel's wrapper and twin.
type igemmFunc = func(r, n, kn int, a []float32, lda int, b []float32, offs []int32, c []float32, ldc int, bias []float32, flags int, keep []uint16)

// igemmKernel is an IGemm kernel: its wrapper, twin and assembly routines.
type igemmKernel struct {
	name       string
	call, twin igemmFunc
	asm        []igemmAsm
}

// igemmAsm is one instruction set's routine of an IGemm kernel, which
// runs when cpuLevel >= level.
type igemmAsm struct {
	isa   string
	level int
	f     func(r, n, k int, a *float32, lda int, b *float32, offs *int32, c *float32, ldc int, bias *float32, flags int, keep *uint16)
}

// vmaxKernel is a VMax kernel.
type vmaxKernel struct {
	name       string
	call, twin func(y, x []float32)
	asm        []vmaxAsm
}

// vmaxAsm is one instruction set's routine of a VMax kernel, which runs
// when cpuLevel >= level.
type vmaxAsm struct {
	isa   string
	level int
	f     func(n int, y, x *float32)
}

// meanKernel is a Mean kernel.
type meanKernel struct {
	name       string
	call, twin func(x []float32, sp int, y []float32, div float64)
	asm        []meanAsm
}

// meanAsm is one instruction set's routine of a Mean kernel, which runs
// when cpuLevel >= level.
type meanAsm struct {
	isa   string
	level int
	f     func(x *float32, sp int, y *float32, planes int, div float64)
}

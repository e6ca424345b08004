package asmtest

// dwPlaneKernel is a DWPlane kernel (kernels.DWPlane).
type dwPlaneKernel struct {
	name string
	call func(dst []float32, ld, half int, src []float32, lds, rows, cols, pt, pl, s int)
	twin func(dst []float32, ld, half int, src []float32, lds, rows, cols, pt, pl, s int)
	asm  []dwPlaneAsm
}

// dwPlaneAsm is one instruction set's routine of a DWPlane kernel, which
// runs when cpuLevel >= level.
type dwPlaneAsm struct {
	isa   string
	level int
	f     func(e, o *float32, ld int, src *float32, lds, rows, cols, s, masks int)
}

package codegen

import (
	"github.com/dlcompiler/dlc/codegen/kernels"
	"github.com/dlcompiler/dlc/ir"
)

// MatMul on a Gemm kernel (Schedule.Kernel, chosen by the tiling pass when
// the right operand's rows are whole blocks of NR columns): the right
// operand [K][N] row-major is already the k-major layout the kernel reads
// (ldb = N), so per batch, blocks of up to MR rows of the left operand
// times NR columns run straight into the output rows, k innermost. No
// packing, no scratch.

// matmulGemm returns the Gemm kernel a matmul node's schedule names when
// its shapes fit it, or nil.
func matmulGemm(n *ir.Node) *kernels.Kernel {
	kn := kernelOf(n.Schedule)
	b := n.Inputs[1].Type.Shape
	if kn == nil || kn.Op != kernels.Gemm || n.Out().Type.DType != ir.F32 || len(b) < 2 || len(n.Inputs[0].Type.Shape) < 2 || b[len(b)-1]%kn.NR != 0 {
		return nil
	}
	return kn
}

// emitMatMulGemm writes the block loops of one batch element (the loop
// nest of emitMatMul gives yo, ao, bo).
func emitMatMulGemm(k *kctx, kn *kernels.Kernel, M, K, N int) {
	lo, hi := k.span("m", M, kn.MR) // threads.go: this worker's rows
	k.l("for m0 := %s; m0 < %s; m0 += %d {", lo, hi, kn.MR)
	k.l("r := min(%d, %s-m0)", kn.MR, hi)
	k.l("for n0 := 0; n0 < %d; n0 += %d {", N, kn.NR)
	k.l("%s(r, %d, %d, x0[ao+m0*%d:], %d, x1[bo+n0:], %d, y[yo+m0*%d+n0:], %d, nil, 0)", kn.Func, kn.NR, K, K, K, N, N, N)
	k.l("}")
	k.l("}")
}

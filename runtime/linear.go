package runtime

import (
	"github.com/dlcompiler/dlc/ir"
)

// Matrix products. Dot products accumulate in float64 and round once.

func init() {
	register("dense", floatLayer(dense[float32], dense[float64]))
	register("matmul", matmul)
}

// dense computes y = x·Wᵀ + b over the last axis of x; weight is
// [out, in] (torch.nn.Linear).
func dense[T float32 | float64](n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x, w, b := in[0], in[1], optional(in, 2)
	out, k := w.Shape[0], w.Shape[1]
	rows := prod(x.Shape[:len(x.Shape)-1])
	yShape := x.Shape.Clone()
	yShape[len(yShape)-1] = out
	y := ir.NewTensor(x.DType, yShape)
	xd, wd, yd := ir.Elems[T](x), ir.Elems[T](w), ir.Elems[T](y)
	for r := 0; r < rows; r++ {
		xr := xd[r*k : (r+1)*k]
		for o := 0; o < out; o++ {
			wo := wd[o*k : (o+1)*k]
			var s float64
			if b != nil {
				s = float64(ir.Elems[T](b)[o])
			}
			for i, v := range xr {
				s += float64(v) * float64(wo[i])
			}
			yd[r*out+o] = T(s)
		}
	}
	return one(y)
}

// matmul is numpy's matmul: a 1-D left operand is a row vector and a 1-D
// right operand a column vector (the added axis is dropped from the
// result); leading batch axes broadcast.
func matmul(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	a, b := in[0], in[1]
	yShape, err := ir.MatMulShape(a.Shape, b.Shape)
	if err != nil {
		return nil, err
	}
	as, bs := a.Shape.Clone(), b.Shape.Clone()
	if len(as) == 1 {
		as = ir.Shape{1, as[0]}
	}
	if len(bs) == 1 {
		bs = ir.Shape{bs[0], 1}
	}
	m, k := as[len(as)-2], as[len(as)-1]
	nn := bs[len(bs)-1]
	aBatch, bBatch := as[:len(as)-2], bs[:len(bs)-2]
	batch, err := ir.BroadcastShapes(aBatch, bBatch)
	if err != nil {
		return nil, err
	}
	ia, ib := broadcastIndex(batch, aBatch), broadcastIndex(batch, bBatch)
	y := ir.NewTensor(a.DType, yShape)
	if a.DType == ir.F64 {
		matmulOf(a.F64(), b.F64(), y.F64(), ia, ib, m, k, nn)
	} else {
		matmulOf(a.F32(), b.F32(), y.F32(), ia, ib, m, k, nn)
	}
	return one(y)
}

// matmulOf multiplies the batches of a and b (batch p reads a's ia[p]
// and b's ib[p]) into y, summing in float64 and rounding once.
func matmulOf[T float32 | float64](a, b, y []T, ia, ib []int, m, k, nn int) {
	for p := range ia {
		am := a[ia[p]*m*k:]
		bm := b[ib[p]*k*nn:]
		ym := y[p*m*nn:]
		for i := 0; i < m; i++ {
			for j := 0; j < nn; j++ {
				var s float64
				for q := 0; q < k; q++ {
					s += float64(am[i*k+q]) * float64(bm[q*nn+j])
				}
				ym[i*nn+j] = T(s)
			}
		}
	}
}

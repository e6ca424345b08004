package runtime

import (
	"math"

	"github.com/dlcompiler/dlc/ir"
)

// Normalization: inference batch norm and (log-)softmax. These kernels,
// and those of norm2.go, loss.go, hardmax and rnn.go, are written once
// over float32 and float64 (floatKind): the arithmetic is float64 in both,
// rounded once to the dtype, so the f32 results are those of the f32-only
// kernels they replaced, bit for bit.

func init() {
	register("batchnorm", batchNorm)
	register("softmax", softmaxKernel(false))
	register("log_softmax", softmaxKernel(true))
}

// floatKind is the element type of the f32/f64 kernels.
type floatKind interface{ float32 | float64 }

// floatsOf returns t's elements as []T, nil for an absent tensor.
func floatsOf[T floatKind](t *ir.Tensor) []T {
	if t == nil {
		return nil
	}
	return ir.Elems[T](t)
}

// batchNorm computes (x-mean)/sqrt(var+eps)*scale + bias per channel
// (axis 1) in float64, rounding once.
func batchNorm(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	if in[0].DType == ir.F64 {
		return batchNormOf[float64](n, in)
	}
	return batchNormOf[float32](n, in)
}

func batchNormOf[T floatKind](n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	xs, scale, bias, mean, variance := floatsOf[T](x), floatsOf[T](in[1]), floatsOf[T](in[2]), floatsOf[T](in[3]), floatsOf[T](in[4])
	eps := n.Attrs.Float("epsilon")
	N, C := x.Shape[0], x.Shape[1]
	inner := prod(x.Shape[2:])
	y := ir.NewTensor(x.DType, x.Shape)
	ys := ir.Elems[T](y)
	for c := 0; c < C; c++ {
		k := float64(scale[c]) / math.Sqrt(float64(variance[c])+eps)
		mu, beta := float64(mean[c]), float64(bias[c])
		for b := 0; b < N; b++ {
			off := (b*C + c) * inner
			for i := off; i < off+inner; i++ {
				ys[i] = T((float64(xs[i])-mu)*k + beta)
			}
		}
	}
	return one(y)
}

// softmaxKernel makes softmax (or log_softmax when log is set) along the
// node's axis. The maximum is subtracted before exponentiating, so large
// inputs do not overflow; sums are float64.
func softmaxKernel(log bool) Kernel {
	return func(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
		if in[0].DType == ir.F64 {
			return softmaxOf[float64](n, in[0], log)
		}
		return softmaxOf[float32](n, in[0], log)
	}
}

func softmaxOf[T floatKind](n *ir.Node, x *ir.Tensor, log bool) ([]*ir.Tensor, error) {
	axis, err := ir.NormAxis(n.Attrs.Int("axis"), len(x.Shape))
	if err != nil {
		return nil, err
	}
	outer, size, inner := prod(x.Shape[:axis]), x.Shape[axis], prod(x.Shape[axis+1:])
	y := ir.NewTensor(x.DType, x.Shape)
	xs, ys := ir.Elems[T](x), ir.Elems[T](y)
	for o := 0; o < outer; o++ {
		for j := 0; j < inner; j++ {
			// Element i of this slice is at base + i*inner.
			base := o*size*inner + j
			m := math.Inf(-1)
			for i := 0; i < size; i++ {
				m = math.Max(m, float64(xs[base+i*inner]))
			}
			if math.IsInf(m, -1) {
				m = 0 // a slice of all -inf gives 0/0 = NaN, as in torch
			}
			var s float64
			for i := 0; i < size; i++ {
				s += math.Exp(float64(xs[base+i*inner]) - m)
			}
			for i := 0; i < size; i++ {
				d := float64(xs[base+i*inner]) - m
				if log {
					ys[base+i*inner] = T(d - math.Log(s))
				} else {
					ys[base+i*inner] = T(math.Exp(d) / s)
				}
			}
		}
	}
	return one(y)
}

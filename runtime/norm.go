package runtime

import (
	"math"

	"github.com/dlcompiler/dlc/ir"
)

// Normalization: inference batch norm and (log-)softmax.

func init() {
	register("batchnorm", batchNorm)
	register("softmax", softmaxKernel(false))
	register("log_softmax", softmaxKernel(true))
}

// batchNorm computes (x-mean)/sqrt(var+eps)*scale + bias per channel
// (axis 1) in float64, rounding once.
func batchNorm(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x, scale, bias, mean, variance := in[0], in[1], in[2], in[3], in[4]
	eps := n.Attrs.Float("epsilon")
	N, C := x.Shape[0], x.Shape[1]
	inner := prod(x.Shape[2:])
	y := newF32(x.Shape)
	for c := 0; c < C; c++ {
		k := float64(scale.F32()[c]) / math.Sqrt(float64(variance.F32()[c])+eps)
		mu, beta := float64(mean.F32()[c]), float64(bias.F32()[c])
		for b := 0; b < N; b++ {
			off := (b*C + c) * inner
			for i := off; i < off+inner; i++ {
				y.F32()[i] = float32((float64(x.F32()[i])-mu)*k + beta)
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
		x := in[0]
		axis, err := ir.NormAxis(n.Attrs.Int("axis"), len(x.Shape))
		if err != nil {
			return nil, err
		}
		outer, size, inner := prod(x.Shape[:axis]), x.Shape[axis], prod(x.Shape[axis+1:])
		y := newF32(x.Shape)
		for o := 0; o < outer; o++ {
			for j := 0; j < inner; j++ {
				// Element i of this slice is at base + i*inner.
				base := o*size*inner + j
				m := math.Inf(-1)
				for i := 0; i < size; i++ {
					m = math.Max(m, float64(x.F32()[base+i*inner]))
				}
				if math.IsInf(m, -1) {
					m = 0 // a slice of all -inf gives 0/0 = NaN, as in torch
				}
				var s float64
				for i := 0; i < size; i++ {
					s += math.Exp(float64(x.F32()[base+i*inner]) - m)
				}
				for i := 0; i < size; i++ {
					d := float64(x.F32()[base+i*inner]) - m
					if log {
						y.F32()[base+i*inner] = float32(d - math.Log(s))
					} else {
						y.F32()[base+i*inner] = float32(math.Exp(d) / s)
					}
				}
			}
		}
		return one(y)
	}
}

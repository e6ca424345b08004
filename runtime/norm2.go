package runtime

import (
	"math"

	"github.com/dlcompiler/dlc/ir"
)

// layernorm, rmsnorm and groupnorm (ir/ops_norm2.go): each row of the
// input (ir.NormRows) is normalized on its own with float64 statistics
// accumulated in order, then scaled and shifted, rounding once.

func init() {
	register("layernorm", normKernel)
	register("rmsnorm", normKernel)
	register("groupnorm", normKernel)
}

func normKernel(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	if in[0].DType == ir.F64 {
		return normOf[float64](n, in)
	}
	return normOf[float32](n, in)
}

func normOf[T floatKind](n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	rows, size := ir.NormRows(n)
	eps := n.Attrs.Float("epsilon")
	rms := n.Op == "rmsnorm"
	scale, bias := floatsOf[T](optional(in, 1)), floatsOf[T](optional(in, 2))
	// The affine parameter of element j of row r: per position in the
	// row, or per channel for groupnorm.
	param := func(r, j int) int { return j }
	if n.Op == "groupnorm" {
		c := x.Shape[1]
		spatial := x.Shape[2:].NumElems()
		per := c / n.Attrs.Int("num_groups")
		param = func(r, j int) int { return (r%(c/per))*per + j/spatial }
	}
	y := ir.NewTensor(x.DType, x.Shape)
	stats := rows
	if !n.Attrs.Bool("stats") {
		stats = 0
	}
	means, invs := make([]T, stats), make([]T, stats)
	xs, ys := ir.Elems[T](x), ir.Elems[T](y)
	for r := range rows {
		row := xs[r*size : (r+1)*size]
		mean, inv := rowStats(row, eps, rms)
		if stats > 0 {
			means[r], invs[r] = T(mean), T(inv)
		}
		for j, v := range row {
			o := (float64(v) - mean) * inv
			if scale != nil {
				o *= float64(scale[param(r, j)])
			}
			if bias != nil {
				o += float64(bias[param(r, j)])
			}
			ys[r*size+j] = T(o)
		}
	}
	if stats == 0 {
		return one(y)
	}
	outs := []*ir.Tensor{y}
	for _, s := range [][]T{means, invs} {
		outs = append(outs, &ir.Tensor{DType: x.DType, Shape: n.Outputs[1].Type.Shape.Clone(), Data: s})
	}
	return outs, nil
}

// rowStats returns a row's mean (0 for rmsnorm) and 1/sqrt(var + eps),
// the variance biased (the mean of the squares for rmsnorm).
func rowStats[T floatKind](row []T, eps float64, rms bool) (mean, inv float64) {
	if !rms {
		var s float64
		for _, v := range row {
			s += float64(v)
		}
		mean = s / float64(len(row))
	}
	var ss float64
	for _, v := range row {
		d := float64(v) - mean
		ss += d * d
	}
	return mean, 1 / math.Sqrt(ss/float64(len(row))+eps)
}

func init() { register("lrn", lrnKernel) }

// lrnKernel sums the squares of the window's channels in float64, in
// channel order, and divides by (bias + alpha/size·sum)^beta.
func lrnKernel(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	if in[0].DType == ir.F64 {
		return lrnOf[float64](n, in[0])
	}
	return lrnOf[float32](n, in[0])
}

func lrnOf[T floatKind](n *ir.Node, x *ir.Tensor) ([]*ir.Tensor, error) {
	N, C, S := x.Shape[0], x.Shape[1], x.Shape[2:].NumElems()
	size := n.Attrs.Int("size")
	alpha, beta, bias := n.Attrs.Float("alpha"), n.Attrs.Float("beta"), n.Attrs.Float("bias")
	y := ir.NewTensor(x.DType, x.Shape)
	xs, ys := ir.Elems[T](x), ir.Elems[T](y)
	for b := range N {
		for c := range C {
			lo, hi := ir.LRNWindow(c, C, size)
			for s := range S {
				var sum float64
				for k := lo; k < hi; k++ {
					v := float64(xs[(b*C+k)*S+s])
					sum += v * v
				}
				at := (b*C+c)*S + s
				ys[at] = T(float64(xs[at]) / math.Pow(bias+alpha/float64(size)*sum, beta))
			}
		}
	}
	return one(y)
}

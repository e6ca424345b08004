package runtime

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// argmax, argmin and cumsum (ir/ops_reduce2.go).

func init() {
	register("argmax", argKernel(false))
	register("argmin", argKernel(true))
	register("cumsum", cumsumKernel)
	register("cumprod", cumsumKernel)
}

// ArgBetter reports whether v replaces the best value b so far in an
// argmax (argmin when min): NaN beats every number and the first NaN
// stays (torch and numpy); last also takes ties.
func ArgBetter(v, b float32, min, last bool) bool {
	switch {
	case b != b:
		return false
	case v != v:
		return true
	case last && v == b:
		return true
	case min:
		return v < b
	}
	return v > b
}

func argKernel(min bool) Kernel {
	return func(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
		x := in[0]
		a, err := ir.NormAxis(n.Attrs.Int("axis"), len(x.Shape))
		if err != nil {
			return nil, err
		}
		outer, size, inner := ir.AxisSplit(x.Shape, a)
		last := n.Attrs.Bool("select_last_index")
		y := ir.NewTensor(ir.I64, n.Outputs[0].Type.Shape)
		xs, ys := x.F32(), y.I64()
		for o := range outer {
			for i := range inner {
				base := o*size*inner + i
				best, at := xs[base], 0
				for k := 1; k < size; k++ {
					if v := xs[base+k*inner]; ArgBetter(v, best, min, last) {
						best, at = v, k
					}
				}
				ys[o*inner+i] = int64(at)
			}
		}
		return one(y)
	}
}

// cumsumKernel runs the sum (cumsum) or product (cumprod) along the axis
// in float64 (floats, rounding each output once to the dtype) or int64
// (integers, wrapped to the width).
func cumsumKernel(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	a, err := ir.NormAxis(n.Attrs.Int("axis"), len(x.Shape))
	if err != nil {
		return nil, err
	}
	outer, size, inner := ir.AxisSplit(x.Shape, a)
	excl, rev := n.Attrs.Bool("exclusive"), n.Attrs.Bool("reverse")
	prod := n.Op == "cumprod"
	fop := func(a, b float64) float64 { return a + b }
	iop := func(a, b int64) int64 { return a + b }
	var f0, i0 float64 = 0, 0
	if prod {
		fop = func(a, b float64) float64 { return a * b }
		iop = func(a, b int64) int64 { return a * b }
		f0, i0 = 1, 1
	}
	y := ir.NewTensor(x.DType, x.Shape)
	for o := range outer {
		for i := range inner {
			fs, is := f0, int64(i0)
			for j := range size {
				k := j
				if rev {
					k = size - 1 - j
				}
				at := (o*size+k)*inner + i
				if !x.DType.IsFloat() {
					v := x.Int(at)
					if !excl {
						is = iop(is, v)
					}
					y.SetInt(at, is)
					if excl {
						is = iop(is, v)
					}
					continue
				}
				v := x.Float(at)
				if !excl {
					fs = fop(fs, v)
				}
				y.SetFloat(at, fs)
				if excl {
					fs = fop(fs, v)
				}
			}
		}
	}
	return one(y)
}

func init() { register("hardmax", hardmaxKernel) }

// hardmaxKernel puts 1 at the argmax of each slice along the axis.
func hardmaxKernel(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	a, err := ir.NormAxis(n.Attrs.Int("axis"), len(x.Shape))
	if err != nil {
		return nil, err
	}
	y := ir.NewTensor(x.DType, x.Shape)
	if x.DType == ir.F64 {
		hardmaxOf(x.F64(), y.F64(), x.Shape, a, func(v, b float64) bool { return b == b && (v != v || v > b) })
	} else {
		hardmaxOf(x.F32(), y.F32(), x.Shape, a, func(v, b float32) bool { return ArgBetter(v, b, false, false) })
	}
	return one(y)
}

// hardmaxOf writes 1 at the first element of each slice along axis a that
// no later one is better than.
func hardmaxOf[T floatKind](xs, ys []T, s ir.Shape, a int, better func(v, b T) bool) {
	outer, size, inner := ir.AxisSplit(s, a)
	for o := range outer {
		for i := range inner {
			base := o*size*inner + i
			if size == 0 {
				continue
			}
			best, at := xs[base], 0
			for k := 1; k < size; k++ {
				if v := xs[base+k*inner]; better(v, best) {
					best, at = v, k
				}
			}
			ys[base+at*inner] = 1
		}
	}
}

func init() { register("topk", topkKernel) }

// topkKernel keeps each slice's best k in its outputs, sorted, inserting
// every element after those it does not rank before.
func topkKernel(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	a, err := ir.NormAxis(n.Attrs.Int("axis"), len(x.Shape))
	if err != nil {
		return nil, err
	}
	vals := ir.NewTensor(x.DType, n.Outputs[0].Type.Shape)
	idx := ir.NewTensor(ir.I64, n.Outputs[1].Type.Shape)
	k, largest := n.Attrs.Int("k"), n.Attrs.Bool("largest")
	switch xs := x.Data.(type) {
	case []float32:
		topkOf(xs, vals.F32(), idx.I64(), x.Shape, a, k, func(v, w float32) bool { return ir.TopKBefore(v, w, largest) })
	case []float64:
		topkOf(xs, vals.F64(), idx.I64(), x.Shape, a, k, func(v, w float64) bool {
			if largest {
				return v > w || v != v && w == w
			}
			return v < w || w != w && v == v
		})
	case []int8:
		topkInt(xs, ir.Elems[int8](vals), idx.I64(), x.Shape, a, k, largest)
	case []int16:
		topkInt(xs, ir.Elems[int16](vals), idx.I64(), x.Shape, a, k, largest)
	case []int32:
		topkInt(xs, ir.Elems[int32](vals), idx.I64(), x.Shape, a, k, largest)
	case []int64:
		topkInt(xs, ir.Elems[int64](vals), idx.I64(), x.Shape, a, k, largest)
	case []uint8:
		topkInt(xs, ir.Elems[uint8](vals), idx.I64(), x.Shape, a, k, largest)
	case []uint16:
		topkInt(xs, ir.Elems[uint16](vals), idx.I64(), x.Shape, a, k, largest)
	case []uint32:
		topkInt(xs, ir.Elems[uint32](vals), idx.I64(), x.Shape, a, k, largest)
	case []uint64:
		topkInt(xs, ir.Elems[uint64](vals), idx.I64(), x.Shape, a, k, largest)
	default:
		return nil, fmt.Errorf("topk of %v is not supported", x.DType)
	}
	return []*ir.Tensor{vals, idx}, nil
}

// topkInt is topkOf with the integers' order.
func topkInt[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64](xs, vs []T, is []int64, s ir.Shape, a, k int, largest bool) {
	topkOf(xs, vs, is, s, a, k, func(v, w T) bool { return largest && v > w || !largest && v < w })
}

// topkOf is topk along axis a of shape s, with before the ranking.
func topkOf[T any](xs, vs []T, is []int64, s ir.Shape, a, k int, before func(v, w T) bool) {
	outer, size, inner := ir.AxisSplit(s, a)
	for o := range outer {
		for i := range inner {
			at := func(p int) int { return (o*k+p)*inner + i }
			have := 0
			for j := range size {
				v := xs[(o*size+j)*inner+i]
				p := have
				for p > 0 && before(v, vs[at(p-1)]) {
					p--
				}
				if p >= k {
					continue
				}
				for q := min(have, k-1); q > p; q-- {
					vs[at(q)], is[at(q)] = vs[at(q-1)], is[at(q-1)]
				}
				vs[at(p)], is[at(p)] = v, int64(j)
				have = min(have+1, k)
			}
		}
	}
}

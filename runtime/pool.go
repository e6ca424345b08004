package runtime

import (
	"math"

	"github.com/dlcompiler/dlc/ir"
)

// Pooling over 1, 2 or 3 spatial axes with torch.nn's rules for padding,
// dilation and ceil_mode.

func init() {
	register("maxpool", floatLayer(maxPool[float32], maxPool[float64]))
	register("avgpool", floatLayer(avgPool[float32], avgPool[float64]))
	register("global_avgpool", floatLayer(globalPool[float32](false), globalPool[float64](false)))
	register("global_maxpool", floatLayer(globalPool[float32](true), globalPool[float64](true)))
}

// poolWindow reads the window of a pooling node over input x.
func poolWindow(n *ir.Node, x *ir.Tensor) window {
	k := n.Attrs.Ints("kernel")
	st, pads, dil := n.Attrs.Ints("strides"), n.Attrs.Ints("pads"), n.Attrs.Ints("dilations")
	ceil := n.Attrs.Bool("ceil_mode")
	r := len(k)
	out := make([]int, r)
	for i := 0; i < r; i++ {
		out[i] = ir.WindowOut(x.Shape[2+i], k[i], st[i], pads[i], pads[r+i], dil[i], ceil)
	}
	return newWindow(x.Shape[2:], out, k, st, pads, dil)
}

// poolOutput allocates the output of a pooling node: [N, C, out...].
func poolOutput(x *ir.Tensor, win *window) *ir.Tensor {
	r := len(x.Shape) - 2
	shape := x.Shape[:2].Clone()
	shape = append(shape, win.out[3-r:]...)
	return ir.NewTensor(x.DType, shape)
}

// maxPool takes the maximum over the taps of each window that fall inside
// the input; padding never wins. A window with no tap inside the input
// (possible only with dilation) yields -inf, as in PyTorch.
//
// With the indices attribute it also returns, as i64, where each maximum
// is: ONNX MaxPool's Indices, a flat index into the whole input x
// (batch and channel offsets included): with storage_order 0,
// ((n*C + c)*H + h)*W + w for 2-D; with storage_order 1 the spatial part is
// column major, (n*C + c)*H*W + w*H + h. The first maximum in scan order
// wins a tie (a later NaN replaces the maximum, as in torch). A window
// with no tap inside the input gets -1. (torch's return_indices instead
// gives h*W + w within each [n, c] plane.)
func maxPool[T float32 | float64](n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	win := poolWindow(n, x)
	y := poolOutput(x, &win)
	var idx *ir.Tensor
	if n.Attrs.Bool("indices") {
		idx = ir.NewTensor(ir.I64, y.Shape.Clone())
	}
	colMajor := n.Attrs.Int("storage_order") == 1
	planes := x.Shape[0] * x.Shape[1]
	inSize, outSize := win.inSize(), win.outSize()
	for p := 0; p < planes; p++ {
		xp := ir.Elems[T](x)[p*inSize : (p+1)*inSize]
		yp := ir.Elems[T](y)[p*outSize : (p+1)*outSize]
		for o0 := 0; o0 < win.out[0]; o0++ {
			for o1 := 0; o1 < win.out[1]; o1++ {
				for o2 := 0; o2 < win.out[2]; o2++ {
					m := T(math.Inf(-1))
					at := -1
					win.taps(o0, o1, o2, func(i int) {
						// NaN propagates, as in torch.
						if v := xp[i]; v > m || v != v {
							m, at = v, i
						}
					})
					o := (o0*win.out[1]+o1)*win.out[2] + o2
					yp[o] = m
					if idx != nil {
						g := int64(-1)
						if at >= 0 {
							if colMajor {
								at = win.colMajor(at)
							}
							g = int64(p*inSize + at)
						}
						idx.I64()[p*outSize+o] = g
					}
				}
			}
		}
	}
	if idx != nil {
		return []*ir.Tensor{y, idx}, nil
	}
	return one(y)
}

// colMajor converts a row-major flat spatial index to the column-major one
// (first spatial axis fastest).
func (w *window) colMajor(i int) int {
	p2 := i % w.in[2]
	p1 := i / w.in[2] % w.in[1]
	p0 := i / (w.in[2] * w.in[1])
	return p0 + w.in[0]*(p1+w.in[1]*p2)
}

// avgPool averages each window. The divisor follows PyTorch: with
// count_include_pad it is the number of taps inside the padded input
// (so a ceil_mode window that runs past the end padding is divided by its
// clipped size), otherwise the number of taps inside the input itself.
// Sums are float64. A window with a zero divisor (possible only with
// dilation, which torch's avg_pool does not have) yields 0.
func avgPool[T float32 | float64](n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	win := poolWindow(n, x)
	y := poolOutput(x, &win)
	includePad := n.Attrs.Bool("count_include_pad")
	planes := x.Shape[0] * x.Shape[1]
	inSize, outSize := win.inSize(), win.outSize()
	for p := 0; p < planes; p++ {
		xp := ir.Elems[T](x)[p*inSize : (p+1)*inSize]
		yp := ir.Elems[T](y)[p*outSize : (p+1)*outSize]
		for o0 := 0; o0 < win.out[0]; o0++ {
			for o1 := 0; o1 < win.out[1]; o1++ {
				for o2 := 0; o2 < win.out[2]; o2++ {
					var s float64
					count := 0
					win.taps(o0, o1, o2, func(i int) {
						s += float64(xp[i])
						count++
					})
					if includePad {
						count = win.paddedTaps(o0, o1, o2)
					}
					var v float64
					if count > 0 {
						v = s / float64(count)
					}
					yp[(o0*win.out[1]+o1)*win.out[2]+o2] = T(v)
				}
			}
		}
	}
	return one(y)
}

// taps calls f with the flat spatial input index of every tap of the
// window at (o0, o1, o2) that lies inside the input.
func (w *window) taps(o0, o1, o2 int, f func(i int)) {
	for j0 := 0; j0 < w.k[0]; j0++ {
		p0 := w.pos(0, o0, j0)
		if p0 < 0 || p0 >= w.in[0] {
			continue
		}
		for j1 := 0; j1 < w.k[1]; j1++ {
			p1 := w.pos(1, o1, j1)
			if p1 < 0 || p1 >= w.in[1] {
				continue
			}
			for j2 := 0; j2 < w.k[2]; j2++ {
				p2 := w.pos(2, o2, j2)
				if p2 < 0 || p2 >= w.in[2] {
					continue
				}
				f((p0*w.in[1]+p1)*w.in[2] + p2)
			}
		}
	}
}

// paddedTaps counts the taps of the window at (o0, o1, o2) that lie inside
// the padded input [-padBegin, in+padEnd) on every axis.
func (w *window) paddedTaps(o0, o1, o2 int) int {
	count := 1
	for a, o := range [3]int{o0, o1, o2} {
		c := 0
		for j := 0; j < w.k[a]; j++ {
			if p := w.pos(a, o, j); p >= -w.padBegin[a] && p < w.in[a]+w.padEnd[a] {
				c++
			}
		}
		count *= c
	}
	return count
}

// globalPool makes the kernel of global_maxpool (max) or global_avgpool
// (float64 mean) over all spatial positions of each [N, C] plane.
func globalPool[T float32 | float64](max bool) Kernel {
	return func(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
		x := in[0]
		shape := x.Shape[:2].Clone()
		for range x.Shape[2:] {
			shape = append(shape, 1)
		}
		y := ir.NewTensor(x.DType, shape)
		xd, yd := ir.Elems[T](x), ir.Elems[T](y)
		size := prod(x.Shape[2:])
		for p := range yd {
			xp := xd[p*size : (p+1)*size]
			if max {
				m := T(math.Inf(-1))
				for _, v := range xp {
					if v > m || v != v {
						m = v
					}
				}
				yd[p] = m
				continue
			}
			var s float64
			for _, v := range xp {
				s += float64(v)
			}
			if size > 0 {
				yd[p] = T(s / float64(size))
			}
		}
		return one(y)
	}
}

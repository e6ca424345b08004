package runtime

import (
	"math"

	"github.com/dlcompiler/dlc/ir"
)

// The gradient ops that passes/autodiff emits for convolution and pooling.
// The convolution gradients are gathers: each output element is one
// float64 sum, rounded once, like the forward conv. The pooling gradients
// scatter dy into a zeroed dx in its dtype (f32 or f64), windows in scan
// order, so that generated code adding in the same order agrees bit for
// bit.

func init() {
	register("conv_grad_input", floatLayer(convGradInput[float32], convGradInput[float64]))
	register("conv_grad_weight", floatLayer(convGradWeight[float32], convGradWeight[float64]))
	register("maxpool_grad", floatLayer(maxPoolGrad[float32], maxPoolGrad[float64]))
	register("avgpool_grad", floatLayer(avgPoolGrad[float32], avgPoolGrad[float64]))
}

// gradWindow is the forward window of a gradient node whose forward input
// has spatial sizes x and kernel k.
func gradWindow(n *ir.Node, x, k []int, ceil bool) window {
	st, pads, dil := n.Attrs.Ints("strides"), n.Attrs.Ints("pads"), n.Attrs.Ints("dilations")
	r := len(k)
	out := make([]int, r)
	for i := range r {
		out[i] = ir.WindowOut(x[i], k[i], st[i], pads[i], pads[r+i], dil[i], ceil)
	}
	return newWindow(x, out, k, st, pads, dil)
}

// outOf returns the output coordinate along axis a whose tap j reads input
// coordinate p, and whether there is one.
func (w *window) outOf(a, p, j int) (int, bool) {
	q := p + w.padBegin[a] - j*w.dil[a]
	if q < 0 || q%w.stride[a] != 0 || q/w.stride[a] >= w.out[a] {
		return 0, false
	}
	return q / w.stride[a], true
}

// convGradInput: dx[b, c, p] = Σ over the out channels m of c's group and
// the taps j that read p from output o: dy[b, m, o] · w[m, c mod cg, j].
func convGradInput[T float32 | float64](n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	dy, w := in[0], in[1]
	xs := ir.Shape(n.Attrs.Ints("shape"))
	N, C, M := xs[0], xs[1], w.Shape[0]
	groups := n.Attrs.Int("groups")
	cg, mg := C/groups, M/groups
	win := gradWindow(n, xs[2:], w.Shape[2:], false)
	dx := ir.NewTensor(dy.DType, xs)
	inSize, outSize, kSize := win.inSize(), win.outSize(), win.kSize()
	dys, ws, dxs := ir.Elems[T](dy), ir.Elems[T](w), ir.Elems[T](dx)
	for b := range N {
		for c := range C {
			g := c / cg
			for p0 := range win.in[0] {
				for p1 := range win.in[1] {
					for p2 := range win.in[2] {
						var s float64
						for m := g * mg; m < (g+1)*mg; m++ {
							dym := dys[(b*M+m)*outSize:]
							wm := ws[(m*cg+c%cg)*kSize:]
							win.gather(p0, p1, p2, func(o, j int) {
								s += float64(dym[o]) * float64(wm[j])
							})
						}
						dxs[(b*C+c)*inSize+(p0*win.in[1]+p1)*win.in[2]+p2] = T(s)
					}
				}
			}
		}
	}
	return one(dx)
}

// gather calls f(o, j) for every tap j (flat over the kernel) and output
// position o (flat) whose window reads input position (p0, p1, p2), taps
// in order.
func (w *window) gather(p0, p1, p2 int, f func(o, j int)) {
	for j0 := range w.k[0] {
		o0, ok := w.outOf(0, p0, j0)
		if !ok {
			continue
		}
		for j1 := range w.k[1] {
			o1, ok := w.outOf(1, p1, j1)
			if !ok {
				continue
			}
			for j2 := range w.k[2] {
				o2, ok := w.outOf(2, p2, j2)
				if !ok {
					continue
				}
				f((o0*w.out[1]+o1)*w.out[2]+o2, (j0*w.k[1]+j1)*w.k[2]+j2)
			}
		}
	}
}

// convGradWeight: dw[m, c, j] = Σ over the batch and the output positions
// o whose tap j is inside the input: dy[b, m, o] · x[b, g·cg + c, pos(o, j)].
func convGradWeight[T float32 | float64](n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x, dy := in[0], in[1]
	k := n.Attrs.Ints("kernel")
	N, C, M := x.Shape[0], x.Shape[1], dy.Shape[1]
	groups := n.Attrs.Int("groups")
	cg, mg := C/groups, M/groups
	win := gradWindow(n, x.Shape[2:], k, false)
	dw := ir.NewTensor(x.DType, append(ir.Shape{M, cg}, k...))
	inSize, outSize, kSize := win.inSize(), win.outSize(), win.kSize()
	xs, dys, dws := ir.Elems[T](x), ir.Elems[T](dy), ir.Elems[T](dw)
	for m := range M {
		g := m / mg
		for c := range cg {
			for j0 := range win.k[0] {
				for j1 := range win.k[1] {
					for j2 := range win.k[2] {
						var s float64
						for b := range N {
							xc := xs[(b*C+g*cg+c)*inSize:]
							dym := dys[(b*M+m)*outSize:]
							win.scan(j0, j1, j2, func(o, i int) {
								s += float64(dym[o]) * float64(xc[i])
							})
						}
						dws[(m*cg+c)*kSize+(j0*win.k[1]+j1)*win.k[2]+j2] = T(s)
					}
				}
			}
		}
	}
	return one(dw)
}

// scan calls f(o, i) for every output position o (flat, in order) whose
// tap (j0, j1, j2) reads the input inside, with that input's flat index i.
func (w *window) scan(j0, j1, j2 int, f func(o, i int)) {
	for o0 := range w.out[0] {
		p0 := w.pos(0, o0, j0)
		if p0 < 0 || p0 >= w.in[0] {
			continue
		}
		for o1 := range w.out[1] {
			p1 := w.pos(1, o1, j1)
			if p1 < 0 || p1 >= w.in[1] {
				continue
			}
			for o2 := range w.out[2] {
				p2 := w.pos(2, o2, j2)
				if p2 < 0 || p2 >= w.in[2] {
					continue
				}
				f((o0*w.out[1]+o1)*w.out[2]+o2, (p0*w.in[1]+p1)*w.in[2]+p2)
			}
		}
	}
}

// maxPoolGrad adds each dy to the input element the forward maxpool chose
// (the first maximum in scan order; a NaN replaces it). A window with no
// tap inside the input passes nothing back.
func maxPoolGrad[T float32 | float64](n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x, dy := in[0], in[1]
	win := gradWindow(n, x.Shape[2:], n.Attrs.Ints("kernel"), n.Attrs.Bool("ceil_mode"))
	dx := ir.NewTensor(x.DType, x.Shape)
	xd, dxd, dyd := ir.Elems[T](x), ir.Elems[T](dx), ir.Elems[T](dy)
	planes := x.Shape[0] * x.Shape[1]
	inSize, outSize := win.inSize(), win.outSize()
	for p := range planes {
		xp, dxp := xd[p*inSize:(p+1)*inSize], dxd[p*inSize:(p+1)*inSize]
		dyp := dyd[p*outSize : (p+1)*outSize]
		o := 0
		for o0 := range win.out[0] {
			for o1 := range win.out[1] {
				for o2 := range win.out[2] {
					m, at := T(math.Inf(-1)), -1
					win.taps(o0, o1, o2, func(i int) {
						if v := xp[i]; v > m || v != v {
							m, at = v, i
						}
					})
					if at >= 0 {
						dxp[at] += dyp[o]
					}
					o++
				}
			}
		}
	}
	return one(dx)
}

// avgPoolGrad adds dy / divisor to every tap inside the input of each
// window, with avgpool's divisor.
func avgPoolGrad[T float32 | float64](n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	dy := in[0]
	xs := ir.Shape(n.Attrs.Ints("shape"))
	win := gradWindow(n, xs[2:], n.Attrs.Ints("kernel"), n.Attrs.Bool("ceil_mode"))
	includePad := n.Attrs.Bool("count_include_pad")
	dx := ir.NewTensor(dy.DType, xs)
	dxd, dyd := ir.Elems[T](dx), ir.Elems[T](dy)
	planes := xs[0] * xs[1]
	inSize, outSize := win.inSize(), win.outSize()
	for p := range planes {
		dxp := dxd[p*inSize : (p+1)*inSize]
		dyp := dyd[p*outSize : (p+1)*outSize]
		o := 0
		for o0 := range win.out[0] {
			for o1 := range win.out[1] {
				for o2 := range win.out[2] {
					count := 0
					win.taps(o0, o1, o2, func(int) { count++ })
					if includePad {
						count = win.paddedTaps(o0, o1, o2)
					}
					if count > 0 {
						v := T(float64(dyp[o]) / float64(count))
						win.taps(o0, o1, o2, func(i int) { dxp[i] += v })
					}
					o++
				}
			}
		}
	}
	return one(dx)
}

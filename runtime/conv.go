package runtime

import (
	"github.com/dlcompiler/dlc/ir"
)

func init() { register("conv", floatLayer(conv[float32], conv[float64])) }

// conv is a direct N-d convolution (cross-correlation, as in
// torch.nn.Conv1d/2d/3d) of x [N, C, spatial...] with weight
// [M, C/groups, k...] and optional bias [M]. Padding is zero, pads are
// listed as all begins then all ends, and each output element is one
// float64 sum rounded once.
func conv[T float32 | float64](n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x, w, b := in[0], in[1], optional(in, 2)
	r := len(w.Shape) - 2
	N, C, M := x.Shape[0], x.Shape[1], w.Shape[0]
	groups := n.Attrs.Int("groups")
	cg, mg := C/groups, M/groups // channels per group, in and out

	outSpatial := make([]int, r)
	st, pads, dil := n.Attrs.Ints("strides"), n.Attrs.Ints("pads"), n.Attrs.Ints("dilations")
	for i := 0; i < r; i++ {
		outSpatial[i] = ir.WindowOut(x.Shape[2+i], w.Shape[2+i], st[i], pads[i], pads[r+i], dil[i], false)
	}
	win := newWindow(x.Shape[2:], outSpatial, w.Shape[2:], st, pads, dil)
	y := ir.NewTensor(x.DType, append(ir.Shape{N, M}, outSpatial...))
	xd, wd, yd := ir.Elems[T](x), ir.Elems[T](w), ir.Elems[T](y)

	inSize, outSize, kSize := win.inSize(), win.outSize(), win.kSize()
	for bi := 0; bi < N; bi++ {
		for m := 0; m < M; m++ {
			g := m / mg
			wm := wd[m*cg*kSize : (m+1)*cg*kSize]
			ym := yd[(bi*M+m)*outSize : (bi*M+m+1)*outSize]
			for o0 := 0; o0 < win.out[0]; o0++ {
				for o1 := 0; o1 < win.out[1]; o1++ {
					for o2 := 0; o2 < win.out[2]; o2++ {
						var s float64
						if b != nil {
							s = float64(ir.Elems[T](b)[m])
						}
						for c := 0; c < cg; c++ {
							xc := xd[(bi*C+g*cg+c)*inSize : (bi*C+g*cg+c+1)*inSize]
							wc := wm[c*kSize : (c+1)*kSize]
							s += windowDot(&win, xc, wc, o0, o1, o2)
						}
						ym[(o0*win.out[1]+o1)*win.out[2]+o2] = T(s)
					}
				}
			}
		}
	}
	return one(y)
}

// windowDot is the float64 sum of x·w over the taps of the window at
// output position (o0, o1, o2) of one channel; taps in the padding read
// zero and are skipped.
func windowDot[T float32 | float64](win *window, x, w []T, o0, o1, o2 int) float64 {
	var s float64
	for j0 := 0; j0 < win.k[0]; j0++ {
		p0 := win.pos(0, o0, j0)
		if p0 < 0 || p0 >= win.in[0] {
			continue
		}
		for j1 := 0; j1 < win.k[1]; j1++ {
			p1 := win.pos(1, o1, j1)
			if p1 < 0 || p1 >= win.in[1] {
				continue
			}
			for j2 := 0; j2 < win.k[2]; j2++ {
				p2 := win.pos(2, o2, j2)
				if p2 < 0 || p2 >= win.in[2] {
					continue
				}
				s += float64(x[(p0*win.in[1]+p1)*win.in[2]+p2]) * float64(w[(j0*win.k[1]+j1)*win.k[2]+j2])
			}
		}
	}
	return s
}

// floatLayer is the kernel of a layer that takes f32 or f64: k64 when an
// input is f64 (a layer's float inputs share one dtype; embedding's ids
// are integers), else k32, each an instance of one generic kernel, so the
// f32 results are the same bits as before f64 existed. It reads the
// inputs, not the node's outputs, which the synthetic nodes of the fused
// kernels (fused.go) do not have.
func floatLayer(k32, k64 Kernel) Kernel {
	return func(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
		for _, t := range in {
			if t != nil && t.DType == ir.F64 {
				return k64(n, in)
			}
		}
		return k32(n, in)
	}
}

package runtime

import (
	"github.com/dlcompiler/dlc/ir"
)

func init() {
	register("conv_transpose", floatLayer(convTranspose[float32], convTranspose[float64]))
	register("resize", floatLayer(resize[float32], resize[float64]))
	register("adaptive_avgpool", floatLayer(adaptiveAvgpool[float32], adaptiveAvgpool[float64]))
}

// adaptiveAvgpool averages PyTorch's adaptive bins through the tables of
// ir.AdaptiveAvgTables, summed as resize sums its taps.
func adaptiveAvgpool[T float32 | float64](n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	tabs := ir.AdaptiveAvgTables(x.Shape, n.Attrs.Ints("output_size"))
	return one(applyTables[T](x, tabs, 0))
}

// dims3 pads a list of 1 to 3 spatial values to three, with fill in front.
func dims3(v []int, fill int) [3]int {
	d := [3]int{fill, fill, fill}
	copy(d[3-len(v):], v)
	return d
}

// convTranspose is the transposed convolution of x [N, C, spatial...]
// with weight [C, M/groups, k...] and optional bias [M], as
// torch.nn.ConvTranspose1d/2d/3d: input position i and tap j add
// x[i]·w[j] to the output at i*stride + j*dilation - padBegin. It is
// written as a gather: each output element is one float64 sum (bias,
// then input channels, then taps in order) rounded once.
func convTranspose[T float32 | float64](n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x, w, b := in[0], in[1], optional(in, 2)
	r := len(w.Shape) - 2
	N, C := x.Shape[0], x.Shape[1]
	G := n.Attrs.Int("groups")
	Cg, Mg := C/G, w.Shape[1]
	M := Mg * G
	st, pads, dil, op := n.Attrs.Ints("strides"), n.Attrs.Ints("pads"), n.Attrs.Ints("dilations"), n.Attrs.Ints("output_padding")
	outSp := make([]int, r)
	for i := range r {
		outSp[i] = ir.ConvTransposeOut(x.Shape[2+i], w.Shape[2+i], st[i], pads[i], pads[r+i], dil[i], op[i])
	}
	y := ir.NewTensor(x.DType, append(ir.Shape{N, M}, outSp...))
	is, os, ks := dims3(x.Shape[2:], 1), dims3(outSp, 1), dims3(w.Shape[2:], 1)
	ss, ds, pb := dims3(st, 1), dims3(dil, 1), dims3(pads[:r], 0)
	inSize, outSize, kSize := is[0]*is[1]*is[2], os[0]*os[1]*os[2], ks[0]*ks[1]*ks[2]
	// src returns the input index that tap j of axis a reads for output
	// index o, or -1 when none does.
	src := func(a, o, j int) int {
		p := o + pb[a] - j*ds[a]
		if p < 0 || p%ss[a] != 0 || p/ss[a] >= is[a] {
			return -1
		}
		return p / ss[a]
	}
	xd, wd, yd := ir.Elems[T](x), ir.Elems[T](w), ir.Elems[T](y)
	for bi := range N {
		for m := range M {
			g, mm := m/Mg, m%Mg
			for o := range outSize {
				o0, o1, o2 := o/(os[1]*os[2]), o/os[2]%os[1], o%os[2]
				var s float64
				if b != nil {
					s = float64(ir.Elems[T](b)[m])
				}
				for c := g * Cg; c < (g+1)*Cg; c++ {
					xc := xd[(bi*C+c)*inSize:]
					wc := wd[(c*Mg+mm)*kSize:]
					for j0 := range ks[0] {
						i0 := src(0, o0, j0)
						if i0 < 0 {
							continue
						}
						for j1 := range ks[1] {
							i1 := src(1, o1, j1)
							if i1 < 0 {
								continue
							}
							for j2 := range ks[2] {
								i2 := src(2, o2, j2)
								if i2 < 0 {
									continue
								}
								s += float64(xc[(i0*is[1]+i1)*is[2]+i2]) * float64(wc[(j0*ks[1]+j1)*ks[2]+j2])
							}
						}
					}
				}
				yd[(bi*M+m)*outSize+o] = T(s)
			}
		}
	}
	return one(y)
}

// resize interpolates with the per-axis tables of ir.ResizeTables: each
// output element is the float64 sum, over every combination of one tap
// per axis, of the product of the taps' weights times the input element
// they index, rounded once; an index mapped outside the input
// (tf_crop_and_resize) gives the extrapolation value.
func resize[T float32 | float64](n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	return one(applyTables(x, ir.ResizeTables(x.Shape, n.Attrs), T(n.Attrs.Float("extrapolation_value"))))
}

// applyTables computes every output element from per-axis tables (see
// ir.ResizeAxis): ext where an index is outside, else the sum of taps.
func applyTables[T float32 | float64](x *ir.Tensor, tabs []ir.ResizeAxis, ext T) *ir.Tensor {
	out := make(ir.Shape, len(tabs))
	for a := range tabs {
		out[a] = len(tabs[a].Start) - 1
	}
	y := ir.NewTensor(x.DType, out)
	xs := x.Shape.Strides()
	idx := make([]int, len(out))
	xd, yd := ir.Elems[T](x), ir.Elems[T](y)
	for e := range yd {
		rem, outside := e, false
		for a := len(out) - 1; a >= 0; a-- {
			idx[a] = rem % out[a]
			rem /= out[a]
			outside = outside || tabs[a].Outside[idx[a]]
		}
		if outside {
			yd[e] = ext
			continue
		}
		yd[e] = T(resizeSum(tabs, idx, xs, xd, 0, 0, 1))
	}
	return y
}

// resizeSum sums the taps of axes a.. for output index idx, at input
// offset off and weight w so far.
func resizeSum[T float32 | float64](tabs []ir.ResizeAxis, idx, xs []int, x []T, a, off int, w float64) float64 {
	if a == len(tabs) {
		return w * float64(x[off])
	}
	t := &tabs[a]
	k0, k1 := t.Start[idx[a]], t.Start[idx[a]+1]
	if k0 == k1 {
		return 0
	}
	// The first term starts the sum, so one tap of weight 1 (nearest)
	// copies -0 as -0.
	s := resizeSum(tabs, idx, xs, x, a+1, off+t.Idx[k0]*xs[a], w*t.W[k0])
	for k := k0 + 1; k < k1; k++ {
		s += resizeSum(tabs, idx, xs, x, a+1, off+t.Idx[k]*xs[a], w*t.W[k])
	}
	return s
}

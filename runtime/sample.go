package runtime

import (
	"fmt"
	"math"

	"github.com/dlcompiler/dlc/ir"
)

// Sampling ops (ir/ops_sample.go).

func init() {
	register("grid_sample", gridSample)
	register("affine_grid", affineGrid)
	register("col2im", col2im)
	register("max_unpool", maxUnpool)
}

// gsTap is one input element a grid_sample output reads: its offset in
// the channel plane and its weight.
type gsTap struct {
	off int
	w   float64
}

// gridSample follows PyTorch's grid_sampler (ONNX GridSample's reference
// agrees on its tests): coordinates are unnormalized in float32; for
// linear and nearest the padding mode moves the coordinate into the
// image first (border clamps, reflection reflects about the edges and
// clamps), for cubic it applies to each of the 4 taps per axis. Taps
// outside the image add nothing (zeros). Nearest rounds half to even
// (std::nearbyint) over any number of axes, as ONNX's test data does;
// torch 1.13 rounds half away from zero over 3 spatial axes (std::round),
// which differs only at coordinates exactly halfway. Each output is a
// float64 sum of weight products over the taps, in tap order, rounded
// once.
func gridSample(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x, grid := in[0], in[1]
	xs, gs := x.F32(), grid.F32()
	N, C := x.Shape[0], x.Shape[1]
	dims := x.Shape[2:]
	r := len(dims)
	plane := dims.NumElems()
	strides := dims.Strides()
	P := grid.Shape[1 : r+1].NumElems()
	y := newF32(n.Outputs[0].Type.Shape)
	ys := y.F32()
	mode, pad, align := n.Attrs.String("mode"), n.Attrs.String("padding_mode"), n.Attrs.Bool("align_corners")
	var taps, next []gsTap
	for b := range N {
		for p := range P {
			taps = append(taps[:0], gsTap{0, 1})
			for d := range r {
				u := gs[(b*P+p)*r+r-1-d]
				next = next[:0]
				for _, t := range taps {
					for _, a := range gsAxisTaps(u, dims[d], mode, pad, align) {
						if a.off >= 0 {
							next = append(next, gsTap{t.off + a.off*strides[d], t.w * a.w})
						}
					}
				}
				taps, next = next, taps
			}
			for c := range C {
				xp := xs[(b*C+c)*plane:]
				s := 0.0
				for _, t := range taps {
					s += t.w * float64(xp[t.off])
				}
				ys[(b*C+c)*P+p] = float32(s)
			}
		}
	}
	return one(y)
}

// gsAxisTaps returns the taps of one axis of length L at normalized
// coordinate u: index and weight, index -1 for a tap outside (zeros).
func gsAxisTaps(u float32, L int, mode, pad string, align bool) []gsTap {
	var x float32
	if align {
		x = (u + 1) / 2 * float32(L-1)
	} else {
		x = ((u+1)*float32(L) - 1) / 2
	}
	if mode != "cubic" {
		x = gsPad(x, L, pad, align)
	}
	switch mode {
	case "nearest":
		i := float32(math.RoundToEven(float64(x)))
		return []gsTap{{gsIndex(i, L, "zeros", align), 1}}
	case "linear":
		x0 := float32(math.Floor(float64(x)))
		return []gsTap{{gsIndex(x0, L, "zeros", align), float64(x0 + 1 - x)}, {gsIndex(x0+1, L, "zeros", align), float64(x - x0)}}
	}
	x0 := float32(math.Floor(float64(x)))
	t := x - x0
	c := cubicCoeffs(t)
	out := make([]gsTap, 4)
	for k := range 4 {
		out[k] = gsTap{gsIndex(x0+float32(k-1), L, pad, align), float64(c[k])}
	}
	return out
}

// cubicCoeffs are Keys' cubic convolution weights (a = -0.75) of the taps
// at -1, 0, 1, 2 for a fraction t, in float32 as torch computes them.
func cubicCoeffs(t float32) [4]float32 {
	const A = -0.75
	conv1 := func(x float32) float32 { return ((A+2)*x-(A+3))*x*x + 1 }
	conv2 := func(x float32) float32 { return ((A*x-5*A)*x+8*A)*x - 4*A }
	return [4]float32{conv2(t + 1), conv1(t), conv1(1 - t), conv2(2 - t)}
}

// gsPad moves a coordinate into the image by the padding mode (border,
// reflection); zeros leaves it.
func gsPad(x float32, L int, pad string, align bool) float32 {
	switch pad {
	case "border":
		return clampF32(x, 0, float32(L-1))
	case "reflection":
		if align {
			x = reflectF32(x, 0, float32(L-1))
		} else {
			x = reflectF32(x, -0.5, float32(L)-0.5)
		}
		return clampF32(x, 0, float32(L-1))
	}
	return x
}

// gsIndex is the index of an integral coordinate after padding, or -1
// when it falls outside (NaN included).
func gsIndex(x float32, L int, pad string, align bool) int {
	x = gsPad(x, L, pad, align)
	if !(x >= 0 && x <= float32(L-1)) {
		return -1
	}
	return int(x)
}

// clampF32 is min(max(x, lo), hi), NaN staying NaN.
func clampF32(x, lo, hi float32) float32 {
	if x < lo {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}

// reflectF32 reflects x about lo and hi until it lies between them, as
// torch's reflect_coordinates (a zero span gives 0).
func reflectF32(x, lo, hi float32) float32 {
	if lo == hi {
		return 0
	}
	span := hi - lo
	in := float32(math.Abs(float64(x - lo)))
	extra := float32(math.Mod(float64(in), float64(span)))
	flips := int(math.Floor(float64(in / span)))
	if flips%2 == 0 {
		return extra + lo
	}
	return span - extra + lo
}

// affineGrid is F.affine_grid: the base grid (linspace(-1, 1, d), scaled
// by (d-1)/d without align_corners; 0 when d is 1) in x, y[, z] order,
// times theta's rows, summed in float64 and rounded once.
func affineGrid(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	th := in[0].F32()
	size := n.Attrs.Ints("size")
	dims := size[2:]
	r := len(dims)
	P := ir.Shape(dims).NumElems()
	y := newF32(n.Outputs[0].Type.Shape)
	ys := y.F32()
	base := make([]float64, r+1)
	for b := range size[0] {
		for p := range P {
			q := p
			for d := r - 1; d >= 0; d-- {
				base[r-1-d] = ir.AffineGridBase(q%dims[d], dims[d], n.Attrs.Bool("align_corners"))
				q /= dims[d]
			}
			base[r] = 1
			for i := range r {
				s := 0.0
				for j := range r + 1 {
					s += float64(th[(b*r+i)*(r+1)+j]) * base[j]
				}
				ys[(b*P+p)*r+i] = float32(s)
			}
		}
	}
	return one(y)
}

// col2im is F.fold: each column element adds into its image position;
// each output is summed in float64 over blocks in column order.
func col2im(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	xs := x.F32()
	image, block := n.Attrs.Ints("image"), n.Attrs.Ints("block")
	st, dil, pads := n.Attrs.Ints("strides"), n.Attrs.Ints("dilations"), n.Attrs.Ints("pads")
	r := len(image)
	L := ir.Col2ImBlocks(image, block, st, dil, pads)
	N, CB, nL := x.Shape[0], x.Shape[1], x.Shape[2]
	nb := ir.Shape(block).NumElems()
	C := CB / nb
	plane := ir.Shape(image).NumElems()
	istr := ir.Shape(image).Strides()
	acc := make([]float64, N*C*plane)
	pos := make([]int, r)
	for b := range N {
		for ch := range CB {
			c, k := ch/nb, ch%nb
			for l := range nL {
				off, ok := 0, true
				kk, ll := k, l
				for d := r - 1; d >= 0; d-- {
					pos[d] = (ll%L[d])*st[d] - pads[d] + (kk%block[d])*dil[d]
					kk, ll = kk/block[d], ll/L[d]
					if pos[d] < 0 || pos[d] >= image[d] {
						ok = false
					}
					off += pos[d] * istr[d]
				}
				if ok {
					acc[(b*C+c)*plane+off] += float64(xs[(b*CB+ch)*nL+l])
				}
			}
		}
	}
	y := newF32(n.Outputs[0].Type.Shape)
	ys := y.F32()
	for i, v := range acc {
		ys[i] = float32(v)
	}
	return one(y)
}

// maxUnpool writes each x element at its index into zeros shaped
// [N, C, size...], then places that at the start of [N, C, out...]. An
// index outside [0, N·C·∏size) fails; a later element at a repeated
// index wins.
func maxUnpool(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x, idx := in[0], in[1]
	xs := x.F32()
	size, out := n.Attrs.Ints("size"), n.Attrs.Ints("out")
	total := x.Shape[0] * x.Shape[1] * ir.Shape(size).NumElems()
	y := newF32(n.Outputs[0].Type.Shape)
	ys := y.F32()
	for e, v := range xs {
		i := idx.Int(e)
		if i < 0 || i >= int64(total) {
			return nil, fmt.Errorf("index %d at position %d is out of range [0, %d)", i, e, total)
		}
		ys[ir.UnpoolOffset(int(i), size, out)] = v
	}
	return one(y)
}

func init() { register("deform_conv", deformConv) }

// deformConv is torchvision's deform_conv2d as a direct sum: each output
// one float64 sum (bias, then input channels, then taps in order) of
// weight · (mask · the bilinear sample at the tap's offset position),
// rounded once.
func deformConv(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x, w, off, bias, mask := in[0], in[1], in[2], optional(in, 3), optional(in, 4)
	xs, ws, offs := x.F32(), w.F32(), off.F32()
	N, C, H, W := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	M, Cg, KH, KW := w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3]
	G, OG := n.Attrs.Int("groups"), n.Attrs.Int("offset_groups")
	st, pads, dil := n.Attrs.Ints("strides"), n.Attrs.Ints("pads"), n.Attrs.Ints("dilations")
	y := newF32(n.Outputs[0].Type.Shape)
	ys := y.F32()
	OH, OW := y.Shape[2], y.Shape[3]
	taps, P := KH*KW, OH*OW
	for b := range N {
		for oc := range M {
			g := oc / (M / G)
			for p := range P {
				oh, ow := p/OW, p%OW
				acc := 0.0
				if bias != nil {
					acc = float64(bias.F32()[oc])
				}
				for ci := range Cg {
					c := g*Cg + ci
					og := c / (C / OG)
					plane := xs[(b*C+c)*H*W : (b*C+c+1)*H*W]
					for t := range taps {
						kh, kw := t/KW, t%KW
						dy := float64(offs[((b*OG+og)*2*taps+2*t)*P+p])
						dx := float64(offs[((b*OG+og)*2*taps+2*t+1)*P+p])
						yy := float64(oh*st[0]-pads[0]+kh*dil[0]) + dy
						xx := float64(ow*st[1]-pads[1]+kw*dil[1]) + dx
						v := ir.DeformBilinear(plane, H, W, yy, xx)
						if mask != nil {
							v *= float64(mask.F32()[((b*OG+og)*taps+t)*P+p])
						}
						acc += float64(ws[(oc*Cg+ci)*taps+t]) * v
					}
				}
				ys[(b*M+oc)*P+p] = float32(acc)
			}
		}
	}
	return one(y)
}

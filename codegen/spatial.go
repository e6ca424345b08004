package codegen

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dlcompiler/dlc/ir"
)

// Transposed convolution and resize.
//
// conv_transpose is written as a scatter, the form whose inner loop reads
// contiguous input: for each output-channel block, input channel and
// kernel tap (kd, kh), the tap row kw is unrolled at generation time, so
// each tap's valid input range [lo, hi) along the innermost axis is a
// constant and the inner loop is y[iw*stride + offset] += w·x[iw] (for
// stride 1 both sides are contiguous). Each output element receives bias,
// then input channels, then taps in order, as the interpreter sums them.
// Schedule: Unroll is the output-channel register block (default 4).
//
// resize reads the per-axis tables of ir.ResizeTables, fixed at
// generation time. Nearest resizing is a gather through one offset table
// per axis (emitAxisGather, plumbing.go); linear and cubic sum, for each
// output element, the taps of every axis in float64, with the leading
// axes copied unchanged as one outer loop (emitResizeTaps).
// adaptive_avgpool is the same sum over the tables of
// ir.AdaptiveAvgTables.

func init() {
	register("conv_transpose", withF64(emitter{emit: emitConvTranspose}, emitConvTranspose64))
	register("resize", emitter{emit: emitResize})
	register("adaptive_avgpool", emitter{emit: func(k *kctx) error {
		x, y := k.inShape(0), k.outShape(0)
		emitResizeTaps(k, x, y, ir.AdaptiveAvgTables(x, k.n.Attrs.Ints("output_size")), "0")
		return nil
	}})
}

// tspan returns, for each tap t of axis a of a transposed convolution,
// the input range [lo, hi) whose output position i*s + t*d - pb lies
// inside the output.
func (w win3) tspan(a int) (lo, hi []int) {
	for t := range w.k[a] {
		off := t*w.d[a] - w.pb[a]
		l, h := 0, w.in[a]
		for l < h && l*w.s[a]+off < 0 {
			l++
		}
		for h > l && (h-1)*w.s[a]+off >= w.out[a] {
			h--
		}
		lo, hi = append(lo, l), append(hi, h)
	}
	return lo, hi
}

func emitConvTranspose(k *kctx) error {
	k.in = padNames(k.in, 3)
	x, wsh, y := k.inShape(0), k.inShape(1), k.outShape(0)
	a := k.n.Attrs
	w := window3(x, y, wsh[2:], a.Ints("strides"), a.Ints("pads"), a.Ints("dilations"))
	NB, C, OC, G := x[0], x[1], y[1], a.Int("groups")
	Cg, OCg := C/G, OC/G
	ISP, OSP := w.in[0]*w.in[1]*w.in[2], w.out[0]*w.out[1]*w.out[2]
	KD, KH, KW := w.k[0], w.k[1], w.k[2]
	IH, IW := w.in[1], w.in[2]
	OH, OW := w.out[1], w.out[2]
	X, W, B, Y := k.in[0], k.in[1], k.in[2], k.out[0]
	R := max(1, min(resolve(k.n.Schedule, nil, nil, 4).reg, OCg))
	dlo, dhi := w.tspan(0)
	hlo, hhi := w.tspan(1)
	wlo, whi := w.tspan(2)
	k.l("dlo, dhi := [%d]int{%s}, [%d]int{%s}", KD, intList(dlo), KD, intList(dhi))
	k.l("hlo, hhi := [%d]int{%s}, [%d]int{%s}", KH, intList(hlo), KH, intList(hhi))
	k.l("for b := range %d {", NB)
	k.l("for g := range %d {", G)
	block := func(r int) {
		for j := range r {
			k.l("y%d := (*[%d]float32)(%s[(b*%d+g*%d+oc0+%d)*%d:])", j, OSP, Y, OC, OCg, j, OSP)
			if B != "" {
				k.l("b%d := %s[g*%d+oc0+%d]", j, B, OCg, j)
				k.l("for i := range %d {\ny%d[i] = b%d\n}", OSP, j, j)
			} else {
				k.l("*y%d = [%d]float32{}", j, OSP)
			}
		}
		k.l("for ic := range %d {", Cg)
		k.l("xc := (*[%d]float32)(%s[(b*%d+g*%d+ic)*%d:])", ISP, X, C, Cg, ISP)
		k.l("for kd := range %d {", KD)
		k.l("for kh := range %d {", KH)
		for j := range r {
			// weight [C, OC/G, KD, KH, KW]
			k.l("wb%d := ((((g*%d+ic)*%d+oc0+%d)*%d+kd)*%d + kh) * %d", j, Cg, OCg, j, KD, KH, KW)
			var ws []string
			for kw := range KW {
				if wlo[kw] < whi[kw] {
					ws = append(ws, fmt.Sprintf("w%d_%d := %s[wb%d+%d]", j, kw, W, j, kw))
				}
			}
			ws = append(ws, fmt.Sprintf("_ = wb%d", j))
			k.l("%s", strings.Join(ws, "\n"))
		}
		k.l("for id := dlo[kd]; id < dhi[kd]; id++ {")
		k.l("od := id*%d + kd*%d - %d", w.s[0], w.d[0], w.pb[0])
		k.l("for ih := hlo[kh]; ih < hhi[kh]; ih++ {")
		k.l("oh := ih*%d + kh*%d - %d", w.s[1], w.d[1], w.pb[1])
		k.l("xr := (*[%d]float32)(xc[(id*%d+ih)*%d:])", IW, IH, IW)
		k.l("_ = xr")
		for j := range r {
			k.l("yr%d := (*[%d]float32)(y%d[(od*%d+oh)*%d:])", j, OW, j, OH, OW)
			k.l("_ = yr%d", j)
		}
		for kw := range KW {
			if wlo[kw] >= whi[kw] {
				continue
			}
			yi := term("iw", w.s[2])
			if off := kw*w.d[2] - w.pb[2]; off > 0 {
				yi += fmt.Sprintf("+%d", off)
			} else if off < 0 {
				yi += fmt.Sprintf("-%d", -off)
			}
			k.l("for iw := %d; iw < %d; iw++ {", wlo[kw], whi[kw])
			k.l("xv := xr[iw]")
			for j := range r {
				k.l("yr%d[%s] += w%d_%d * xv", j, yi, j, kw)
			}
			k.l("}")
		}
		k.l("}\n}\n}\n}\n}") // ih, id, kh, kd, ic
	}
	k.l("oc0 := 0")
	if R > 1 {
		k.l("for ; oc0+%d <= %d; oc0 += %d {", R, OCg, R)
		block(R)
		k.l("}")
	}
	k.l("for ; oc0 < %d; oc0++ {", OCg)
	block(1)
	k.l("}")
	k.l("}\n}") // g, b
	return nil
}

func emitResize(k *kctx) error {
	x, y := k.inShape(0), k.outShape(0)
	tabs := ir.ResizeTables(x, k.n.Attrs)
	ext := elemLiteral(k.n.Out().Type.DType, k.n.Attrs.Float("extrapolation_value"))
	nearest := true
	for a := range tabs {
		t := &tabs[a]
		for o := 0; o+1 < len(t.Start); o++ {
			nearest = nearest && (t.Start[o+1]-t.Start[o] == 1 && t.W[t.Start[o]] == 1 || t.Outside[o])
		}
	}
	if nearest {
		idx := make([][]int, len(tabs))
		for a := range tabs {
			for o, out := range tabs[a].Outside {
				i := -1
				if !out {
					i = tabs[a].Idx[tabs[a].Start[o]]
				}
				idx[a] = append(idx[a], i)
			}
		}
		emitAxisGather(k, x, y, idx, ext)
		return nil
	}
	emitResizeTaps(k, x, y, tabs, ext)
	return nil
}

// emitResizeTaps sums, for each output element, the product of one tap's
// weight per axis times the input element the taps index, in float64.
// Leading axes copied unchanged are one outer loop.
func emitResizeTaps(k *kctx, x, y ir.Shape, tabs []ir.ResizeAxis, ext string) {
	xs, ys := x.Strides(), y.Strides()
	p := 0
	for p < len(tabs) && tabs[p].Identity() {
		p++
	}
	for a := p; a < len(tabs); a++ {
		t := &tabs[a]
		offs := make([]int, len(t.Idx))
		for i, v := range t.Idx {
			offs[i] = v * xs[a]
		}
		k.l("off%d := [%d]int{%s}", a, max(len(offs), 1), intList(offs))
		k.l("st%d := [%d]int{%s}", a, len(t.Start), intList(t.Start))
		k.l("w%d := [%d]float64{%s}", a, max(len(t.W), 1), floatList(t.W))
		if hasTrue(t.Outside) {
			var bs []string
			for _, b := range t.Outside {
				bs = append(bs, strconv.FormatBool(b))
			}
			k.l("out%d := [%d]bool{%s}", a, len(bs), strings.Join(bs, ", "))
		}
	}
	k.l("for o := range %d {", x[:p].NumElems())
	k.l("x%d, y%d := o*%d, o*%d", p, p, x[p:].NumElems(), y[p:].NumElems())
	for a := p; a < len(tabs); a++ {
		k.l("for o%d := range %d {", a, len(tabs[a].Start)-1)
		k.l("y%d := y%d + %s", a+1, a, term(fmt.Sprintf("o%d", a), ys[a]))
		if hasTrue(tabs[a].Outside) {
			k.l("if out%d[o%d] {", a, a)
			k.l("for i := range %d {\ny[y%d+i] = %s\n}", y[a+1:].NumElems(), a+1, ext)
			k.l("continue\n}")
		}
	}
	k.l("var s float64")
	for a := p; a < len(tabs); a++ {
		wprev := "1"
		if a > p {
			wprev = fmt.Sprintf("v%d", a)
		}
		k.l("for t%d := st%d[o%d]; t%d < st%d[o%d+1]; t%d++ {", a, a, a, a, a, a, a)
		k.l("x%d := x%d + off%d[t%d]", a+1, a, a, a)
		k.l("v%d := %s * w%d[t%d]", a+1, wprev, a, a)
	}
	k.l("s += v%d * float64(x[x%d])", len(tabs), len(tabs))
	k.l("%s", strings.Repeat("}\n", len(tabs)-p))
	k.l("y[y%d] = %s(s)", len(tabs), elemType(k.n.Out().Type.DType))
	k.l("%s}", strings.Repeat("}\n", len(tabs)-p))
}

func hasTrue(bs []bool) bool {
	for _, b := range bs {
		if b {
			return true
		}
	}
	return false
}

// floatList writes float64 constants that read back exactly.
func floatList(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return strings.Join(s, ", ")
}

// fmtF32Lit is an f32 constant expression (NaN and infinities included).
func fmtF32Lit(v float64) string {
	f := float32(v)
	switch {
	case f != f:
		return "float32(@math.NaN())"
	case f > 3.4e38:
		return "float32(@math.Inf(1))"
	case f < -3.4e38:
		return "float32(@math.Inf(-1))"
	}
	return "float32(" + strconv.FormatFloat(float64(f), 'g', -1, 32) + ")"
}

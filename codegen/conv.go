package codegen

import (
	"fmt"
	"strings"

	"github.com/dlcompiler/dlc/ir"
)

// Convolution and pooling over 1, 2 or 3 spatial axes. Every rank is
// handled as 3-D with leading axes of size 1, so there is one emitter per
// op, not three.
//
// Convolution is direct: for each output channel block, input channel and
// kernel tap (kd, kh), the kernel row kw is unrolled at generation time so
// each tap's valid output range [lo, hi) along the innermost axis is a
// constant (padding needs no test in the inner loop), and the inner loop
// is y[ow] += w·x[ow*stride + offset]. Each output sums bias, then input
// channels, then taps in order, like the interpreter. Schedule: Unroll is
// the output-channel register block (default 4: four output rows share
// each x load); Tiles["oh"] splits the output rows so a tile of y stays in
// cache across input channels. Order is ignored: there is one sensible
// loop order for this form.

func init() {
	register("conv", withF64(emitter{emit: emitConvAlgo, scratch: convScratch}, emitConv64))
	register("maxpool", withF64(emitter{emit: emitMaxPool, scratch: maxPoolScratch}, // pool_simd.go
		func(k *kctx) error { return emitPool(k, false) }))
	register("avgpool", withF64(emitter{emit: emitAvgPool, scratch: avgPoolScratch}, // pool_simd.go
		func(k *kctx) error { return emitPool(k, true) }))
	register("global_avgpool", emitter{emit: func(k *kctx) error { return emitGlobalPool(k, true) }})
	register("global_maxpool", emitter{emit: func(k *kctx) error { return emitGlobalPool(k, false) }})
}

// win3 is a sliding window normalized to three spatial axes.
type win3 struct {
	in, out, k, s, pb, pe, d [3]int
}

func window3(x, y ir.Shape, kernel, strides, pads, dil []int) win3 {
	r := len(kernel)
	var w win3
	for i := range 3 {
		w.in[i], w.out[i], w.k[i], w.s[i], w.d[i] = 1, 1, 1, 1, 1
	}
	for i := range r {
		j := 3 - r + i
		w.in[j], w.out[j], w.k[j], w.s[j], w.d[j] = x[2+i], y[2+i], kernel[i], strides[i], dil[i]
		w.pb[j], w.pe[j] = pads[i], pads[r+i]
	}
	return w
}

// span returns, for each tap t of axis a, the output range [lo, hi) whose
// input position o*s + t*d - pb lies inside the input.
func (w win3) span(a int) (lo, hi []int) {
	for t := range w.k[a] {
		off := t*w.d[a] - w.pb[a]
		l, h := 0, w.out[a]
		for l < h && l*w.s[a]+off < 0 {
			l++
		}
		for h > l && (h-1)*w.s[a]+off >= w.in[a] {
			h--
		}
		lo, hi = append(lo, l), append(hi, h)
	}
	return lo, hi
}

func intList(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

// useGEMM reports whether a conv node's schedule asks for a matrix
// product: im2col, or im2row (conv_rows.go; im2col where it does not
// apply).
func useGEMM(n *ir.Node) bool {
	return n.Schedule != nil && (n.Schedule.Algo == "im2col" || n.Schedule.Algo == "im2row")
}

func convScratch(n *ir.Node) int {
	if p := dwPlan(n); p != nil {
		return p.scratch()
	}
	if useIGemm(n) {
		return igemmScratch(n, nil)
	}
	if useTGemm(n) {
		return tgemmScratch(n)
	}
	if !useGEMM(n) {
		return 0
	}
	return gemmPlan(n, nil).scratch()
}

// emitConvAlgo emits a conv node by the algorithm its schedule chooses.
func emitConvAlgo(k *kctx) error {
	k.in = padNames(k.in, 3) // a conv without bias may have two inputs
	if useIGemm(k.n) {
		emitIGemm(k, k.n, igemmPlan(k.n, 0), epiOf(k, k.in[2], ""), k.out[0], nil)
		return nil
	}
	if useTGemm(k.n) {
		return emitTGemm(k, k.n, epiOf(k, k.in[2], ""))
	}
	if useGEMM(k.n) {
		return emitConvGEMM(k, k.n, nil, epiOf(k, k.in[2], ""))
	}
	return emitConv(k)
}

// emitConv is the direct convolution.
func emitConv(k *kctx) error {
	if p := dwPlan(k.n); p != nil {
		p.emit(k, 0, false, 0, 0)
		return nil
	}
	x, wsh, y := k.inShape(0), k.inShape(1), k.outShape(0)
	a := k.n.Attrs
	w := window3(x, y, wsh[2:], a.Ints("strides"), a.Ints("pads"), a.Ints("dilations"))
	NB, C, OC, G := x[0], x[1], y[1], a.Int("groups")
	Cg, OCg := C/G, OC/G
	ISP, OSP := w.in[0]*w.in[1]*w.in[2], w.out[0]*w.out[1]*w.out[2]
	KD, KH, KW := w.k[0], w.k[1], w.k[2]
	ID, IH, IW := w.in[0], w.in[1], w.in[2]
	OH, OW := w.out[1], w.out[2]
	bias := k.in[2] != ""
	X, W, B, Y := k.in[0], k.in[1], k.in[2], k.out[0]
	t := resolve(k.n.Schedule, []string{"oh"}, map[string]int{"oh": OH}, 1)
	R := max(1, min(t.reg, OCg))
	ohTile := t.tile["oh"]

	dlo, dhi := w.span(0)
	hlo, hhi := w.span(1)
	wlo, whi := w.span(2)
	k.l("dlo, dhi := [%d]int{%s}, [%d]int{%s}", KD, intList(dlo), KD, intList(dhi))
	k.l("hlo, hhi := [%d]int{%s}, [%d]int{%s}", KH, intList(hlo), KH, intList(hhi))
	k.l("for b := range %d {", NB)
	k.l("for g := range %d {", G)
	block := func(r int) {
		k.l("oc := g*%d + oc0", OCg)
		for j := range r {
			k.l("y%d := (*[%d]float32)(%s[(b*%d+oc+%d)*%d:])", j, OSP, Y, OC, j, OSP)
			if bias {
				k.l("b%d := %s[oc+%d]", j, B, j)
				k.l("for i := range %d {\ny%d[i] = b%d\n}", OSP, j, j)
			} else {
				k.l("*y%d = [%d]float32{}", j, OSP)
			}
		}
		ohLo, ohHi := "hlo[kh]", "hhi[kh]"
		if ohTile > 0 {
			k.l("for oht := 0; oht < %d; oht += %d {", OH, ohTile)
			k.l("ohEnd := min(oht+%d, %d)", ohTile, OH)
			ohLo, ohHi = "max(hlo[kh], oht)", "min(hhi[kh], ohEnd)"
		}
		k.l("for ic := range %d {", Cg)
		k.l("xc := (*[%d]float32)(%s[(b*%d+g*%d+ic)*%d:])", ISP, X, C, Cg, ISP)
		k.l("for kd := range %d {", KD)
		k.l("for kh := range %d {", KH)
		for j := range r {
			k.l("wb%d := ((((oc+%d)*%d+ic)*%d+kd)*%d + kh) * %d", j, j, Cg, KD, KH, KW)
			var ws []string
			for kw := range KW {
				if wlo[kw] < whi[kw] {
					ws = append(ws, fmt.Sprintf("w%d_%d := %s[wb%d+%d]", j, kw, W, j, kw))
				}
			}
			ws = append(ws, fmt.Sprintf("_ = wb%d", j))
			k.l("%s", strings.Join(ws, "\n"))
		}
		k.l("for od := dlo[kd]; od < dhi[kd]; od++ {")
		k.l("id := od*%d + kd*%d - %d", w.s[0], w.d[0], w.pb[0])
		k.l("for oh := %s; oh < %s; oh++ {", ohLo, ohHi)
		k.l("ih := oh*%d + kh*%d - %d", w.s[1], w.d[1], w.pb[1])
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
			off := kw*w.d[2] - w.pb[2]
			xi := term("ow", w.s[2])
			switch {
			case off > 0:
				xi += fmt.Sprintf("+%d", off)
			case off < 0:
				xi += fmt.Sprintf("-%d", -off)
			}
			k.l("for ow := %d; ow < %d; ow++ {", wlo[kw], whi[kw])
			k.l("xv := xr[%s]", xi)
			for j := range r {
				k.l("yr%d[ow] += w%d_%d * xv", j, j, kw)
			}
			k.l("}")
		}
		k.l("}") // oh
		k.l("}") // od
		k.l("}") // kh
		k.l("}") // kd
		k.l("}") // ic
		if ohTile > 0 {
			k.l("}")
		}
	}
	_ = ID
	lo, hi := k.span("oc", OCg, R) // threads.go: this worker's channels
	k.l("oc0 := %s", lo)
	if R > 1 {
		k.l("for ; oc0+%d <= %s; oc0 += %d {", R, hi, R)
		block(R)
		k.l("}")
	}
	k.l("for ; oc0 < %s; oc0++ {", hi)
	block(1)
	k.l("}")
	k.l("}") // g
	k.l("}") // b
	return nil
}

func emitPool(k *kctx, avg bool) error {
	x, y := k.inShape(0), k.outShape(0)
	a := k.n.Attrs
	w := window3(x, y, a.Ints("kernel"), a.Ints("strides"), a.Ints("pads"), a.Ints("dilations"))
	NC := x[0] * x[1]
	ISP, OSP := w.in[0]*w.in[1]*w.in[2], w.out[0]*w.out[1]*w.out[2]
	include := avg && a.Bool("count_include_pad")
	// maxpool indices (ONNX's Indices): the flat index into x of each
	// maximum, batch and channel offsets included, spatial part row major
	// or (storage_order 1) column major; -1 for a window with no tap inside
	// x. As in the interpreter, a NaN replaces the maximum.
	indices := !avg && len(k.out) > 1
	// f64 takes the loop below, the interpreter's, whatever the outputs.
	et := elemType(k.n.Out().Type.DType)
	if !indices && et == "float32" {
		emitPoolFast(k, w, fmt.Sprint(NC), avg, include)
		return nil
	}
	k.l("for nc := range %d {", NC)
	k.l("xc := (*[%d]%s)(%s[nc*%d:])", ISP, et, k.in[0], ISP)
	k.l("yc := (*[%d]%s)(%s[nc*%d:])", OSP, et, k.out[0], OSP)
	if indices {
		k.l("ic := (*[%d]int64)(%s[nc*%d:])", OSP, k.out[1], OSP)
	}
	k.l("o := 0")
	axes := []string{"d", "h", "w"}
	for i, ax := range axes {
		k.l("for o%s := range %d {", ax, w.out[i])
		k.l("%s0 := o%s*%d - %d", ax, ax, w.s[i], w.pb[i])
	}
	if avg {
		k.l("var s float64")
		k.l("cnt := 0")
	} else {
		k.l("m := %s(@math.Inf(-1))", et)
		if indices {
			k.l("at := -1")
		}
	}
	for i, ax := range axes {
		k.l("for k%s := range %d {", ax, w.k[i])
		k.l("i%s := %s0 + k%s*%d", ax, ax, ax, w.d[i])
		if include {
			k.l("if i%s >= %d {\nbreak\n}", ax, w.in[i]+w.pe[i])
			k.l("p%s := i%s >= 0 && i%s < %d", ax, ax, ax, w.in[i])
		} else {
			k.l("if i%s < 0 || i%s >= %d {\ncontinue\n}", ax, ax, w.in[i])
		}
	}
	idx := fmt.Sprintf("(id*%d+ih)*%d + iw", w.in[1], w.in[2])
	switch {
	case include:
		k.l("cnt++")
		k.l("if pd && ph && pw {\ns += float64(xc[%s])\n}", idx)
	case avg:
		k.l("cnt++")
		k.l("s += float64(xc[%s])", idx)
	case indices:
		sp := idx
		if a.Int("storage_order") == 1 {
			sp = fmt.Sprintf("id + %d*(ih+%d*iw)", w.in[0], w.in[1])
		}
		k.l("if v := xc[%s]; v > m || v != v {\nm, at = v, %s\n}", idx, sp)
	default:
		k.l("if v := xc[%s]; v > m || v != v {\nm = v\n}", idx) // NaN propagates, as in torch
	}
	for range axes {
		k.l("}")
	}
	if avg {
		k.l("if cnt > 0 {\nyc[o] = %s(s / float64(cnt))\n} else {\nyc[o] = 0\n}", et)
	} else {
		k.l("yc[o] = m")
		if indices {
			k.l("if at >= 0 {\nat += nc * %d\n}", ISP)
			k.l("ic[o] = int64(at)")
		}
	}
	k.l("o++")
	for range axes {
		k.l("}")
	}
	k.l("}")
	return nil
}

func emitGlobalPool(k *kctx, avg bool) error {
	x := k.inShape(0)
	NC := x[0] * x[1]
	SP := x[2:].NumElems()
	if avg && emitMean(k, NC, SP) { // pool_simd.go: float32
		return nil
	}
	et := elemType(k.n.Out().Type.DType)
	k.l("for nc := range %d {", NC)
	k.l("xc := (*[%d]%s)(x[nc*%d:])", SP, et, SP)
	if avg {
		k.l("var s float64")
		k.l("for _, v := range xc {\ns += float64(v)\n}")
		k.l("y[nc] = %s(s / %d)", et, SP)
	} else {
		// Four independent chains of Go's max (branch-free; NaN
		// propagates): one chain would wait on each max's latency.
		k.l("m0, m1, m2, m3 := xc[0], xc[0], xc[0], xc[0]")
		k.l("for i := 0; i+4 <= %d; i += 4 {", SP)
		k.l("m0, m1, m2, m3 = max(m0, xc[i]), max(m1, xc[i+1]), max(m2, xc[i+2]), max(m3, xc[i+3])")
		k.l("}")
		for i := SP / 4 * 4; i < SP; i++ {
			k.l("m0 = max(m0, xc[%d])", i)
		}
		k.l("y[nc] = max(max(m0, m1), max(m2, m3))")
	}
	k.l("}")
	return nil
}

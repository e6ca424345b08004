package codegen

import (
	"fmt"

	"github.com/dlcompiler/dlc/codegen/kernels"
)

// Max and average pooling without indices, split so the common case runs
// without a bound test per tap. Per output row (od, oh) the valid input
// rows (kd, kh) are listed once; the output columns whose every kw tap
// lies inside the input (the interior, known at generation time) read
// each row through a fixed-size array view with the KW taps unrolled at
// constant offsets; the few border columns keep the per-tap tests. Taps
// are visited in the interpreter's order (kd, kh, kw) and an average sums
// in float64 like the interpreter, so its results are bit-identical. A
// maximum is Go's max, without a branch (a data-dependent branch per tap
// mispredicted most of the time: vgg_bn's 3×3 pool took longer than the
// convolution before it): NaN if any tap is NaN, as in the interpreter,
// and +0 where a window's maximum is a zero of both signs, where the
// interpreter keeps the first (the only difference, invisible to any
// tolerance).

// poolInterior returns the output columns [lo, hi) of axis 2 whose taps
// all lie inside the input.
func poolInterior(w win3) (lo, hi int) {
	span := (w.k[2]-1)*w.d[2] + 1
	lo = min((w.pb[2]+w.s[2]-1)/w.s[2], w.out[2])
	hi = lo
	for hi < w.out[2] && hi*w.s[2]-w.pb[2]+span <= w.in[2] {
		hi++
	}
	return lo, hi
}

// emitPoolFast writes a max or average pool (no indices output) of the
// NC planes (a constant or an expression) of k.in[0] into k.out[0]; the
// window is w, include says an average counts padded taps.
func emitPoolFast(k *kctx, w win3, NC string, avg, include bool) {
	ISP, OSP := w.in[0]*w.in[1]*w.in[2], w.out[0]*w.out[1]*w.out[2]
	IW, OW := w.in[2], w.out[2]
	span := (w.k[2]-1)*w.d[2] + 1
	lo, hi := poolInterior(w)
	R := w.k[0] * w.k[1]
	k.l("for nc := range %s {", NC)
	k.l("xc := (*[%d]float32)(%s[nc*%d:])", ISP, k.in[0], ISP)
	k.l("yc := (*[%d]float32)(%s[nc*%d:])", OSP, k.out[0], OSP)
	k.l("for od := range %d {", w.out[0])
	k.l("d0 := od*%d - %d", w.s[0], w.pb[0])
	k.l("for oh := range %d {", w.out[1])
	k.l("h0 := oh*%d - %d", w.s[1], w.pb[1])
	// rows: offsets of the valid input rows; npad: rows an including
	// average counts (inside the padded input).
	k.l("var rows [%d]int", R)
	k.l("nr, npad := 0, 0")
	k.l("for kd := range %d {", w.k[0])
	k.l("id := d0 + kd*%d", w.d[0])
	k.l("for kh := range %d {", w.k[1])
	k.l("ih := h0 + kh*%d", w.d[1])
	k.l("if id < %d && ih < %d {\nnpad++\n}", w.in[0]+w.pe[0], w.in[1]+w.pe[1])
	k.l("if uint(id) < %d && uint(ih) < %d {", w.in[0], w.in[1])
	k.l("rows[nr] = (id*%d + ih) * %d", w.in[1], IW)
	k.l("nr++")
	k.l("}")
	k.l("}\n}")
	k.l("_ = npad")
	k.l("yr := (*[%d]float32)(yc[(od*%d+oh)*%d:])", OW, w.out[1], OW)
	if !avg {
		emitMaxPoolRow(k, w, lo, hi)
		k.l("}\n}\n}") // oh od nc
		return
	}
	// element writes one output column; inner, without tests.
	element := func(inner bool) {
		k.l("w0 := ow*%d - %d", w.s[2], w.pb[2])
		if avg {
			k.l("var s float64")
			k.l("cnt := 0")
		} else {
			k.l("m := float32(@math.Inf(-1))")
		}
		k.l("for _, ro := range rows[:nr] {")
		if inner {
			k.l("xs := (*[%d]float32)(xc[ro+w0:])", span)
		}
		for kw := range w.k[2] {
			off := kw * w.d[2]
			v := fmt.Sprintf("xs[%d]", off)
			if !inner {
				k.l("if iw := w0 + %d; uint(iw) < %d {", off, IW)
				v = "xc[ro+iw]"
			}
			if avg {
				k.l("s += float64(%s)", v)
				if !inner && !include {
					k.l("cnt++")
				}
			} else {
				k.l("m = max(m, %s)", v) // branch-free; NaN propagates
			}
			if !inner {
				k.l("}")
			}
		}
		k.l("}") // rows
		if avg {
			switch {
			case include:
				// Columns inside the padded input, times the rows.
				k.l("cw := 0")
				k.l("for kw := range %d {\nif w0+kw*%d < %d {\ncw++\n}\n}", w.k[2], w.d[2], IW+w.pe[2])
				k.l("cnt = cw * npad")
			case inner:
				k.l("cnt = %d * nr", w.k[2])
			}
			k.l("if cnt > 0 {\nyr[ow] = float32(s / float64(cnt))\n} else {\nyr[ow] = 0\n}")
		} else {
			k.l("yr[ow] = m")
		}
	}
	if lo > 0 {
		k.l("for ow := range %d {", lo)
		element(false)
		k.l("}")
	}
	if hi > lo {
		k.l("for ow := %d; ow < %d; ow++ {", lo, hi)
		element(true)
		k.l("}")
	}
	if hi < OW {
		k.l("for ow := %d; ow < %d; ow++ {", max(hi, lo), OW)
		element(false)
		k.l("}")
	}
	k.l("}\n}\n}") // oh od nc
}

// maxTree is a balanced tree of Go max calls over the expressions v.
func maxTree(v []string) string {
	if len(v) == 1 {
		return v[0]
	}
	h := len(v) / 2
	return "max(" + maxTree(v[:h]) + ", " + maxTree(v[h:]) + ")"
}

// emitMaxPoolRow writes one output row yr of a max pool, its window's
// valid input rows listed in rows[:nr]: first their maximum column by
// column into vrow on the VMax kernel (codegen/kernels/vmax.go), then
// per output the maximum of vrow over the window's columns (with tests
// at the border columns, outside [lo, hi); a balanced tree of Go max
// calls inside, so that their latency does not add up). NaN if any tap
// is NaN, as in the interpreter; where a maximum is a zero of both signs
// its sign may differ from the interpreter's (which keeps the first).
func emitMaxPoolRow(k *kctx, w win3, lo, hi int) {
	IW, OW := w.in[2], w.out[2]
	k.l("var vrow [%d]float32", IW)
	k.l("if nr == 0 {\nfor ow := range yr {\nyr[ow] = float32(@math.Inf(-1))\n}\ncontinue\n}")
	k.l("vrow = *(*[%d]float32)(xc[rows[0]:])", IW)
	k.l("for _, ro := range rows[1:nr] {")
	k.l("%s(vrow[:], xc[ro:ro+%d])", vmaxKernel.Func, IW)
	k.l("}")
	border := func(from, to int) {
		if from >= to {
			return
		}
		k.l("for ow := %d; ow < %d; ow++ {", from, to)
		k.l("m := float32(@math.Inf(-1))")
		k.l("for kw := range %d {", w.k[2])
		k.l("if iw := ow*%d - %d + kw*%d; uint(iw) < %d {\nm = max(m, vrow[iw])\n}", w.s[2], w.pb[2], w.d[2], IW)
		k.l("}")
		k.l("yr[ow] = m")
		k.l("}")
	}
	border(0, lo)
	if hi > lo {
		var taps []string
		for kw := range w.k[2] {
			taps = append(taps, fmt.Sprintf("vrow[w0+%d]", kw*w.d[2]))
		}
		k.l("for ow := %d; ow < %d; ow++ {", lo, hi)
		k.l("w0 := ow*%d - %d", w.s[2], w.pb[2])
		k.l("yr[ow] = %s", maxTree(taps))
		k.l("}")
	}
	border(max(hi, lo), OW)
}

// vmaxKernel is the registered VMax kernel.
var vmaxKernel = kernels.Find(kernels.VMax, kernels.AVX512)

package codegen

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// emitGemmTile emits the product of one tile of columns (no pool) on the
// Gemm kernel c.kern, in passes of KC terms (Schedule Tiles["k"]):
//
//	for each pass k0:         the weights' columns k0…k0+KC
//	  for each block of ≤ MR output channels:   its KC weights in L1
//	    for each panel of the tile:             KC×NR values from L2
//	      one call: r × NR outputs, stored into y (im2row: packed)
//
// so each weight is read once per tile however many panels it has (the
// last stages of a network: a few panels against megabytes of weights),
// and the panels' pass stays in L2 while every channel block reads it.
// A pass after the first adds to what the previous one stored (the
// kernel's flags&8, in k order: the same sum as one pass); the last
// applies the epilogue (bias, residual, relu or clip in the kernel, an
// activation it lacks in Go after it). In scope: b, g, n0, nEnd, m0,
// mEnd, xg (direct) and tmp, the tile's panels.
func emitGemmTile(k *kctx, c gemmConv, e epi) {
	W, Y := k.in[1], k.out[0]
	KN := c.K * c.NR
	bias, last, lohi, rest := kernelEpi(c, e, k.n)
	first := 0
	if c.rows {
		first = gemmCompress
		last |= gemmCompress
	}
	ext := last >= gemmResidual
	if ext {
		k.l("lohi := [2]float32{%s, %s}", ir.GoFloat(lohi[0]), ir.GoFloat(lohi[1]))
	}
	// The panels of the tile: their columns (im2row: the output columns'
	// mask and first position).
	k.l("np := (nEnd - n0 + %d) / %d", c.NR-1, c.NR)
	switch {
	case c.rows:
		k.l("var pcm [%d]uint32", c.panels)
		k.l("var pq, pnv [%d]int", c.panels)
		k.l("for p := range np {")
		k.l("nb := n0 + p*%d", c.NR)
		k.l("nv := 0")
		emitRowsMask(k, c)
		k.l("pcm[p], pq[p], pnv[p] = cm, q0, nv")
		k.l("}")
	case c.direct && c.OSP%c.NR != 0:
		// b is the input from column nb, but a last panel would read
		// past the group's input: its columns are copied.
		k.l("if nEnd == %d {", c.OSP)
		k.l("nb := n0 + (np-1)*%d", c.NR)
		k.l("for ic := range %d {\ncopy(tmp[ic*%d:ic*%d+%d-nb], xg[ic*%d+nb:(ic+1)*%d])\n}", c.K, c.NR, c.NR, c.OSP, c.OSP, c.OSP)
		k.l("}")
	}
	k.l("for k0 := 0; k0 < %d; k0 += %d {", c.K, c.KC)
	k.l("kc := min(%d, %d-k0)", c.KC, c.K)
	k.l("fl := %d", first)
	k.l("if k0 > 0 {\nfl |= 8\n}")
	k.l("if k0+kc == %d {\nfl = %d\nif k0 > 0 {\nfl |= 8\n}\n}", c.K, last)
	k.l("mb := (mEnd - m0 + %d) / %d", c.MR-1, c.MR)
	k.l("for bi, m := 0, m0; bi < mb; bi++ {")
	k.l("r := (mEnd - m0) / mb")
	k.l("if bi < (mEnd-m0)%%mb {\nr++\n}")
	k.l("wr := %s[(g*%d+m)*%d+k0:]", W, c.OCg, c.K)
	k.l("for p := range np {")
	if !c.rows {
		k.l("nb := n0 + p*%d", c.NR)
	}
	ldb, at, cmask := fmt.Sprint(c.NR), "nb", "0"
	switch {
	case c.rows:
		k.l("nv, cm := pnv[p], pcm[p]")
		k.l("if nv == 0 {\ncontinue\n}")
		k.l("pc := tmp[p*%d+k0*%d:]", KN, c.NR)
		at, cmask = "pq[p]", "cm"
	case c.direct:
		k.l("nv := min(%d, nEnd-nb)", c.NR)
		k.l("pc, ldb := xg[nb+k0*%d:], %d", c.OSP, c.OSP)
		k.l("if nb+%d > %d {\npc, ldb = tmp[k0*%d:%d], %d\n}", c.NR, c.OSP, c.NR, KN, c.NR)
		ldb = "ldb"
	default:
		k.l("nv := min(%d, nEnd-nb)", c.NR)
		k.l("pc := tmp[p*%d+k0*%d:]", KN, c.NR)
	}
	k.l("yo := (b*%d+g*%d+m)*%d + %s", c.OC, c.OCg, c.OSP, at)
	res := "nil"
	if last&gemmResidual != 0 {
		res = e.residual + "[yo:]"
	}
	args := fmt.Sprintf("r, nv, kc, wr, %d, pc, %s, %s[yo:], %d, %s, fl", c.K, ldb, Y, c.OSP, bias)
	if ext {
		k.l("%s(%s, %s, &lohi, %s)", c.kern.GemmExt(), args, res, cmask)
	} else {
		k.l("%s(%s)", c.kern.Func, args)
	}
	emitRestRows(k, c, rest, fmt.Sprint(c.K))
	k.l("}") // p
	k.l("m += r")
	k.l("}") // bi
	k.l("}") // k0
}

// emitRestRows applies, after the last pass (k0+kc == K), what of the
// epilogue the kernel did not to the r stored rows of nv values at yo.
func emitRestRows(k *kctx, c gemmConv, rest epi, K string) {
	Y := k.out[0]
	call := rowEpilogue(k.n, rest, Y)
	a := rest.apply("oc", "yo+j")
	if call == "" && a == "" {
		return
	}
	k.l("if k0+kc == %s {", K)
	if call != "" {
		// The activation (after the residual) on the Act kernel, one
		// stored row at a time (act_simd.go).
		k.l("for range r {\n%s\nyo += %d\n}", call, c.OSP)
	} else {
		k.l("for i := range r {")
		k.l("oc := g*%d + m + i", c.OCg)
		k.l("_ = oc")
		k.l("yr := %s[yo : yo+nv]", Y)
		k.l("for j := range yr {")
		k.l("v := yr[j]")
		k.l("%s", a)
		k.l("yr[j] = v")
		k.l("}") // j
		k.l("yo += %d", c.OSP)
		k.l("}") // i
	}
	k.l("}")
}

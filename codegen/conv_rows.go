package codegen

import "fmt"

// im2row: the im2col of a stride-1 convolution (Schedule.Algo "im2row")
// over virtual columns. The group's input is first copied into a
// zero-bordered buffer xp of PD×PH×PW per channel (gemm.go, padDims), and
// the product is computed for every position n' = od·PH·PW + oh·PW + ow of
// that buffer's grid below the last output, including the PW−OW columns
// (and PH−OH rows) that are not outputs. Tap (ic, kd, kh, kw) of column n'
// then reads xp[ic·PS + kd·dd·PH·PW + kh·dh·PW + kw·dw + n']: affine in n',
// so each row of a panel is one contiguous NR-value copy, whatever the
// output width (plain im2col gathers NR scattered values once a panel
// spans output rows). The kernel stores the tile's virtual columns into
// yv (OCg × NT, bias and relu applied); the output rows are then copied
// out of it, the residual and the rest of the activation applied on the
// way. The cost is the (PW−OW)/PW wasted columns, which the tiling pass
// weighs against the gather (passes/tile.go, convSchedule). A tile is
// whole rows of PW virtual columns, so every output row lies in one tile.

// virtualCols is the number of virtual columns: up to the last output
// position.
func (c gemmConv) virtualCols() int {
	pd, o := c.padDims(), c.w.out
	return (o[0]-1)*pd[1]*pd[2] + (o[1]-1)*pd[2] + o[2]
}

// emitIm2rowSIMD fills the tile's panels from xp: per panel and tap, one
// copy of NR values.
func emitIm2rowSIMD(k *kctx, c gemmConv) {
	w := c.w
	pd := c.padDims()
	PS := c.padSize()
	KN := c.K * c.NR
	k.l("for p := 0; p*%d < nEnd-n0; p++ {", c.NR)
	k.l("xs := xp[n0+p*%d:]", c.NR)
	k.l("pc := tmp[p*%d : (p+1)*%d]", KN, KN)
	k.l("kk := 0")
	k.l("for ic := range %d {", c.Cg)
	k.l("for kd := range %d {", w.k[0])
	k.l("for kh := range %d {", w.k[1])
	k.l("base := ic*%d + kd*%d + kh*%d", PS, w.d[0]*pd[1]*pd[2], w.d[1]*pd[2])
	k.l("for kw := range %d {", w.k[2])
	k.l("*(*[%d]float32)(pc[kk:]) = *(*[%d]float32)(xs[base+kw*%d:])", c.NR, c.NR, w.d[2])
	k.l("kk += %d", c.NR)
	k.l("}\n}\n}\n}") // kw kh kd ic
	k.l("}")          // p
}

// emitRowsStore copies the output rows of the tile [n0, nEnd) and the
// channels [mlo, mhi) (this worker's, threads.go) out of yv and applies
// what of e the kernel did not (the residual, an activation after it).
func emitRowsStore(k *kctx, c gemmConv, e epi, mlo, mhi string) {
	Y := k.out[0]
	w := c.w
	pd := c.padDims()
	OW := w.out[2]
	_, _, rest := kernelEpi(c, e)
	fn, vact := simdActFn(rest.act)
	k.l("for oc := %s; oc < %s; oc++ {", mlo, mhi)
	k.l("yc := %s[(b*%d+g*%d+oc)*%d:][:%d]", Y, c.OC, c.OCg, c.OSP, c.OSP)
	if rest.residual != "" {
		k.l("rc := %s[(b*%d+g*%d+oc)*%d:][:%d]", rest.residual, c.OC, c.OCg, c.OSP, c.OSP)
	}
	k.l("for vr := n0 / %d; vr*%d < nEnd; vr++ {", pd[2], pd[2])
	k.l("od, oh := vr/%d, vr%%%d", pd[1], pd[1])
	k.l("if oh >= %d {\ncontinue\n}", w.out[1])
	k.l("yo := (od*%d + oh) * %d", w.out[1], OW)
	k.l("yr := yc[yo : yo+%d]", OW)
	k.l("copy(yr, yv[oc*%d+vr*%d-n0:][:%d])", c.NT, pd[2], OW)
	switch {
	case vact && rest.bias == "":
		res := "nil"
		if rest.residual != "" {
			res = fmt.Sprintf("rc[yo : yo+%d]", OW)
		}
		k.l("simdAct(%d, yr, %s, yr)", fn, res)
	case rest.bias != "" || rest.residual != "" || rest.act != "":
		if rest.residual != "" {
			k.l("rr := rc[yo : yo+%d]", OW)
			rest.residual = "rr"
		}
		k.l("for j := range yr {")
		k.l("v := yr[j]")
		k.l("%s", rest.apply(fmt.Sprintf("g*%d+oc", c.OCg), "j"))
		k.l("yr[j] = v")
		k.l("}")
	}
	k.l("}") // vr
	k.l("}") // oc
}

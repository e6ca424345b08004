package codegen

// im2row: the im2col of a stride-1 convolution (Schedule.Algo "im2row")
// over virtual columns. The group's input is first copied into a
// zero-bordered buffer xp of PD×PH×PW per channel (gemm.go, padDims), and
// the product is computed for every position n' = od·PH·PW + oh·PW + ow of
// that buffer's grid below the last output, including the PW−OW columns
// (and PH−OH rows) that are not outputs. Tap (ic, kd, kh, kw) of column n'
// then reads xp[ic·PS + kd·dd·PH·PW + kh·dh·PW + kw·dw + n']: affine in n',
// so each row of a panel is one contiguous NR-value copy, whatever the
// output width (plain im2col gathers NR scattered values once a panel
// spans output rows). The kernel computes whole panels of virtual
// columns and stores only their output columns, packed (a compressed
// store: FUNCE with a column mask, codegen/kernels/gemm_ext.go), with the
// bias, residual and relu or clip applied in registers. The cost is the
// (PW−OW)/PW wasted columns, which the tiling pass weighs against the
// gather (passes/tile.go, convSchedule). Tiles are whole panels.

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

// emitRowsMask sets cm, the panel's output columns (bit j: virtual
// column nb+j, below the tile's end nEnd), nv, how many, and q0, the
// output position of the first: the kernel stores them packed from there
// (the outputs of a panel are consecutive in the output plane). A panel
// of padding columns only is skipped. In scope: nb, nEnd.
func emitRowsMask(k *kctx, c gemmConv) {
	pd, o := c.padDims(), c.w.out
	k.l("var cm uint32")
	k.l("q0 := -1")
	k.l("nv = 0")
	k.l("for j := range min(%d, nEnd-nb) {", c.NR)
	k.l("v := nb + j")
	k.l("od, oh, ow := v/%d, v/%d%%%d, v%%%d", pd[1]*pd[2], pd[2], pd[1], pd[2])
	k.l("if oh < %d && ow < %d {", o[1], o[2])
	k.l("if q0 < 0 {\nq0 = (od*%d+oh)*%d + ow\n}", o[1], o[2])
	k.l("cm |= 1 << j")
	k.l("nv++")
	k.l("}")
	k.l("}")
	k.l("if cm == 0 {\ncontinue\n}")
}

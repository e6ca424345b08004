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
// spans output rows). The kernel computes whole panels of virtual
// columns and stores only their output columns, packed (a compressed
// store: FUNCE with a column mask, codegen/kernels/gemm_ext.go), with the
// bias, residual and relu or clip applied in registers. The cost is the
// (PW−OW)/PW wasted columns, which the tiling pass weighs against the
// gather (passes/tile.go, convSchedule). Tiles are whole panels.

// Stride 2 (dilation 1 on that axis) reads the zero-bordered input split
// by the parity of its positions: per channel, one phase plane per
// combination of parities (the two column phases adjacent), each of the
// grid Q = ⌈PD/s⌉×⌈PH/s⌉×⌈PW/s⌉. Tap t of output o reads padded position
// o·2 + t, which is position o + t/2 of phase t mod 2: affine in the
// virtual column n' = od·QH·QW + oh·QW + ow again, so stride-2 layers
// (ResNet's stem and downsampling convs) copy rows instead of gathering.

// rowStrides reports whether w's strides are 1 or 2 on every axis, with
// dilation 1 where 2: the windows im2row takes.
func rowStrides(w win3) bool {
	for i := range 3 {
		if w.s[i] != 1 && (w.s[i] != 2 || w.d[i] != 1) {
			return false
		}
	}
	return true
}

// rowGrid is the extent of one phase plane (the zero-bordered input's
// when every stride is 1).
func (c gemmConv) rowGrid() [3]int {
	pd := c.padDims()
	for i := range 3 {
		pd[i] = (pd[i] + c.w.s[i] - 1) / c.w.s[i]
	}
	return pd
}

// rowChan is the elements of one channel in xp: its phase planes.
func (c gemmConv) rowChan() int {
	q := c.rowGrid()
	return c.w.s[0] * c.w.s[1] * c.w.s[2] * q[0] * q[1] * q[2]
}

// rowSlack is the zeros after xp's planes: the NR values the last panel
// reads past the end, and for a column split one plane (the split's
// destination reaches a plane past its row).
func (c gemmConv) rowSlack() int {
	if c.w.s[2] == 2 {
		q := c.rowGrid()
		return c.NR + q[0]*q[1]*q[2]
	}
	return c.NR
}

// virtualCols is the number of virtual columns: up to the last output
// position.
func (c gemmConv) virtualCols() int {
	q, o := c.rowGrid(), c.w.out
	return (o[0]-1)*q[1]*q[2] + (o[1]-1)*q[2] + o[2]
}

// emitRowsInput copies the group's input into xp, the zero-bordered
// phase planes after the tile's panels.
func emitRowsInput(k *kctx, c gemmConv) {
	w := c.w
	q := c.rowGrid()
	QS := q[0] * q[1] * q[2]
	off := c.K * c.panels * c.NR
	k.l("xp := tmp[%d:%d]", off, off+c.Cg*c.rowChan()+c.rowSlack())
	k.l("clear(xp)")
	k.l("for ic := range %d {", c.Cg)
	k.l("for id := range %d {", w.in[0])
	k.l("pd := id + %d", w.pb[0])
	k.l("for ih := range %d {", w.in[1])
	k.l("ph := ih + %d", w.pb[1])
	k.l("so := (ic*%d+id)*%d + ih*%d", w.in[0], w.in[1]*w.in[2], w.in[2])
	// The row's phase plane (column phase 0) and its offset there.
	k.l("do := ic*%d + ((pd%%%d)*%d+ph%%%d)*%d + (pd/%d)*%d + (ph/%d)*%d", c.rowChan(),
		w.s[0], w.s[1], w.s[1], w.s[2]*QS, w.s[0], q[1]*q[2], w.s[1], q[2])
	if w.s[2] == 1 {
		k.l("copy(xp[do+%d:do+%d], xg[so:so+%d])", w.pb[2], w.pb[2]+w.in[2], w.in[2])
	} else {
		k.l("%s(xp[do:], %d, xg[so:so+%d], %d)", dwSplitKernel.Func, QS, w.in[2], w.pb[2])
	}
	k.l("}\n}\n}")
}

// emitIm2rowSIMD fills the tile's panels from xp: per panel and tap, one
// copy of NR values.
func emitIm2rowSIMD(k *kctx, c gemmConv) {
	w := c.w
	q := c.rowGrid()
	QS := q[0] * q[1] * q[2]
	KN := c.K * c.NR
	// tap returns axis i's (phase, offset in the phase plane) of tap t.
	tap := func(i int, t string) (string, string) {
		if w.s[i] == 2 {
			return t + "%2", t + "/2"
		}
		return "0", fmt.Sprintf("%s*%d", t, w.d[i])
	}
	fd, od := tap(0, "kd")
	fh, oh := tap(1, "kh")
	k.l("for p := 0; p*%d < nEnd-n0; p++ {", c.NR)
	k.l("xs := xp[n0+p*%d:]", c.NR)
	k.l("pc := tmp[p*%d : (p+1)*%d]", KN, KN)
	k.l("kk := 0")
	k.l("for ic := range %d {", c.Cg)
	k.l("for kd := range %d {", w.k[0])
	k.l("for kh := range %d {", w.k[1])
	k.l("base := ic*%d + ((%s)*%d+%s)*%d + (%s)*%d + (%s)*%d", c.rowChan(), fd, w.s[1], fh, w.s[2]*QS, od, q[1]*q[2], oh, q[2])
	for kw := range w.k[2] {
		o := kw * w.d[2]
		if w.s[2] == 2 {
			o = (kw%2)*QS + kw/2
		}
		k.l("*(*[%d]float32)(pc[kk+%d:]) = *(*[%d]float32)(xs[base+%d:])", c.NR, kw*c.NR, c.NR, o)
	}
	k.l("kk += %d", w.k[2]*c.NR)
	k.l("}\n}\n}") // kh kd ic
	k.l("}")       // p
}

// emitRowsMask sets cm, the panel's output columns (bit j: virtual
// column nb+j, below the tile's end nEnd), nv, how many, and q0, the
// output position of the first: the kernel stores them packed from there
// (the outputs of a panel are consecutive in the output plane). A panel
// of padding columns only is skipped. In scope: nb, nEnd.
func emitRowsMask(k *kctx, c gemmConv) {
	pd, o := c.rowGrid(), c.w.out
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

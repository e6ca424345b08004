package codegen

import (
	"fmt"
	"math"
	"strings"

	"github.com/dlcompiler/dlc/codegen/kernels"
	"github.com/dlcompiler/dlc/ir"
)

// Convolution as im2col + a register-blocked matrix product, chosen by
// Schedule.Algo == "im2col". Per batch row and group the convolution is
//
//	Y[oc, n] = Σ_k W[oc, k] · col[k, n]     k = (ic, kd, kh, kw), n = output position
//
// with W the weights as stored (rows of K = Cg·KD·KH·KW contiguous values)
// and col the im2col matrix, built in scratch one tile of columns at a
// time and packed in panels of NR columns: panel p holds col[k, p·NR+j] at
// k·NR+j, so the micro-kernel reads it sequentially. The micro-kernel
// computes MR output channels × NR positions in local variables with the
// k loop innermost (every bound a constant, so Go removes the bounds
// checks), then applies the epilogue at the store: bias, residual,
// activation, and, for a fused_conv that pools, the pool itself — the
// columns are then ordered window by window (n = window·P + tap), so each
// window's P values are reduced in registers and the pre-pool tensor is
// never written.
//
// Schedule: Unroll = MR (output channels per register block), Vector = NR
// (positions per block; with a pool it must divide the window size P,
// else 1), Tiles["n"] = columns per im2col tile (the scratch holds K × n
// values), Tiles["m"] = output channels per tile (the weight rows reused
// across one panel). In pure Go, tall thin blocks (MR 4–6, NR 1) beat
// square ones: the compiler spills the accumulators of a 4×4 block.
//
// Schedule.Kernel naming a Gemm kernel of the registry (codegen/kernels,
// e.g. avx512.gemm12x32) selects the SIMD path: NR is the kernel's and up
// to its MR rows run per call, the channel blocks balanced in height. The
// im2col reads a zero-bordered copy of the group's input (no bounds tests
// per tap): per panel the NR columns' offsets, per tap one copy when the
// columns are consecutive positions, else NR loads. The kernel applies
// bias, relu and a max pool's window reduction (P = 2 … NR columns) in
// registers and stores r rows of up to NR columns straight into the
// output (masked past its end); the rest of the epilogue runs in Go on
// the stored rows.

// gemmConv holds the resolved shapes of an im2col convolution.
type gemmConv struct {
	w                  win3
	NB, C, OC, G       int
	Cg, OCg, K, N, OSP int
	MR, NR, NT, MT     int
	KC                 int // SIMD: k per pass over a tile (Tiles["k"]; K: one pass)
	panels             int // panels per full tile
	pool               *win3
	P, POSP            int
	avg                bool
	// simd: the product runs on kern, a Gemm kernel (Schedule.Kernel):
	// NR is its NR, MR at most its MR, and with a pool the window size
	// must divide the panel width or be a multiple of it.
	simd bool
	kern *kernels.Kernel
	// direct: a 1×1 convolution (stride 1, no padding, no pool) whose
	// input is the kernel's b itself, ldb = OSP: no im2col, only the
	// last, partial panel is copied.
	direct bool
	npad   int // N rounded up to whole units (panels, or pool windows)
	// rows: Algo "im2row" on a stride-1 SIMD conv without a pool (see
	// conv_rows.go): N counts virtual columns over the zero-bordered
	// input's rows, and a tile is whole rows of it.
	rows bool
	unit int // columns per unit: NR, or the pool window (SIMD: max(P, NR))
}

// gemmPlan resolves the schedule of an im2col convolution conv (a conv
// node, or the conv inside a fused_conv) whose result pool reduces, if
// pool is non-nil.
func gemmPlan(conv, pool *ir.Node) gemmConv {
	x, wsh, y := conv.Inputs[0].Type.Shape, conv.Inputs[1].Type.Shape, conv.Outputs[0].Type.Shape
	a := conv.Attrs
	c := gemmConv{w: window3(x, y, wsh[2:], a.Ints("strides"), a.Ints("pads"), a.Ints("dilations"))}
	c.NB, c.C, c.OC, c.G = x[0], x[1], y[1], a.Int("groups")
	c.Cg, c.OCg = c.C/c.G, c.OC/c.G
	c.K = wsh[1:].NumElems()
	c.OSP = c.w.out[0] * c.w.out[1] * c.w.out[2]
	c.N = c.OSP
	s := conv.Schedule
	if s == nil {
		s = &ir.Schedule{}
	}
	c.MR = max(1, min(s.Unroll, 8, c.OCg))
	c.NR = max(1, min(s.Vector, 16))
	if pool != nil {
		py := pool.Outputs[0].Type.Shape
		pw := window3(y, py, pool.Attrs.Ints("kernel"), pool.Attrs.Ints("strides"), pool.Attrs.Ints("pads"), pool.Attrs.Ints("dilations"))
		c.pool = &pw
		c.P = pw.k[0] * pw.k[1] * pw.k[2]
		c.POSP = pw.out[0] * pw.out[1] * pw.out[2]
		c.N = c.POSP * c.P
		c.avg = pool.Op == "avgpool"
	}
	if kn := kernelOf(s); kn != nil && kn.Op == kernels.Gemm && (pool == nil || kn.PoolOK(c.P)) {
		c.simd, c.kern = true, kn
		c.NR = kn.NR
		c.MR = kn.MR
		if s.Unroll > 0 {
			c.MR = min(s.Unroll, kn.MR)
		}
		c.MR = max(1, min(c.MR, c.OCg))
	} else if pool != nil && c.P%c.NR != 0 {
		c.NR = 1
	}
	c.direct = c.simd && pool == nil && c.K == c.Cg && c.OSP == c.w.in[0]*c.w.in[1]*c.w.in[2] && !c.padded() &&
		c.w.s == [3]int{1, 1, 1}
	c.rows = s.Algo == "im2row" && c.simd && pool == nil && !c.direct && rowStrides(c.w)
	if c.rows {
		c.N = c.virtualCols()
	}
	c.unit = c.NR
	if pool != nil {
		c.unit = c.P
		if c.simd {
			c.unit = max(c.P, c.NR)
		}
	}
	c.npad = (c.N + c.unit - 1) / c.unit * c.unit
	c.NT = c.npad
	if t := s.Tiles["n"]; t > 0 && t < c.npad {
		c.NT = max(c.unit, t/c.unit*c.unit)
	}
	c.panels = (c.NT + c.NR - 1) / c.NR
	c.KC = c.K
	if t := s.Tiles["k"]; c.simd && t > 0 && t < c.K {
		c.KC = t
	}
	c.MT = c.OCg
	if t := s.Tiles["m"]; t > 0 && t < c.OCg {
		c.MT = max(c.MR, t/c.MR*c.MR)
	}
	return c
}

// scratch is the im2col buffer size in elements: K rows × one tile of
// columns, rounded up to whole panels.
func (c gemmConv) scratch() int {
	if c.direct {
		return c.K * c.NR // the last panel
	}
	n := c.K * c.panels * c.NR
	if c.rows {
		return n + c.Cg*c.rowChan() + c.rowSlack()
	}
	if c.simd && c.padded() {
		n += c.Cg * c.padSize()
	}
	return n
}

// padded reports whether the SIMD im2col first copies a group's input
// into a zero-bordered buffer (the conv pads).
func (c gemmConv) padded() bool {
	for i := range 3 {
		if c.w.pb[i] != 0 || c.w.pe[i] != 0 {
			return true
		}
	}
	return false
}

// padDims are the extents of one channel of the zero-bordered input: every
// position a tap reads, (o·s + t·d − pb) + pb, lies inside.
func (c gemmConv) padDims() [3]int {
	var d [3]int
	for i := range 3 {
		w := c.w
		d[i] = max(w.in[i]+w.pb[i]+w.pe[i], (w.out[i]-1)*w.s[i]+(w.k[i]-1)*w.d[i]+1)
		if !c.padded() {
			d[i] = w.in[i]
		}
	}
	return d
}

func (c gemmConv) padSize() int { d := c.padDims(); return d[0] * d[1] * d[2] }

// poolSimple reports whether a fused pool's windows tile the conv output
// without padding or overlap, which the fusion pass guarantees; the im2col
// kernel relies on it.
func poolSimple(pool *ir.Node) bool {
	k, s, d := pool.Attrs.Ints("kernel"), pool.Attrs.Ints("strides"), pool.Attrs.Ints("dilations")
	for i := range k {
		if s[i] != k[i] || d[i] != 1 {
			return false
		}
	}
	for _, p := range pool.Attrs.Ints("pads") {
		if p != 0 {
			return false
		}
	}
	return !pool.Attrs.Bool("ceil_mode")
}

// epi is an epilogue applied at the store: v = act(v + bias + residual).
type epi struct {
	bias, residual string // input names, "" when absent
	act            string
	code           string // the activation's statement on v (its template)
	monotone       bool   // act is non-decreasing: it commutes with a max
}

func epiOf(k *kctx, bias, residual string) epi {
	e := epi{bias: bias, residual: residual}
	if k.n.Op == "fused_conv" || k.n.Op == "fused_dense" {
		e.act = k.n.Attrs.String("act")
		// A row-wise act (softmax) has no code: emitFusedDense applies it.
		e.code, e.monotone, _ = actCode(k.n)
	}
	return e
}

// apply returns the statements that turn v (the product) into the
// stored value; bi and ri are the bias and residual index expressions.
func (e epi) apply(bi, ri string) string {
	var s []string
	if e.bias != "" {
		s = append(s, fmt.Sprintf("v += %s[%s]", e.bias, bi))
	}
	if e.residual != "" {
		s = append(s, fmt.Sprintf("v += %s[%s]", e.residual, ri))
	}
	if e.act != "" {
		s = append(s, e.code)
	}
	return strings.Join(s, "\n")
}

// emitConvGEMM writes an im2col convolution into k.out[0] with epilogue
// e; pool, if non-nil, is the fused pool reading the activated result.
func emitConvGEMM(k *kctx, conv, pool *ir.Node, e epi) error {
	c := gemmPlan(conv, pool)
	w := c.w
	X := k.in[0]
	ISP := w.in[0] * w.in[1] * w.in[2]
	k.l("for b := range %d {", c.NB)
	k.l("for g := range %d {", c.G)
	k.l("xg := (*[%d]float32)(%s[(b*%d+g*%d)*%d:])", c.Cg*ISP, X, c.C, c.Cg, ISP)
	if c.rows {
		emitRowsInput(k, c)
	} else if c.simd && c.padded() {
		// The group's channels with a zero border, after the panels
		// (im2row: and NR zeros the last panel reads past the end).
		pd := c.padDims()
		PS := c.padSize()
		off := c.K * c.panels * c.NR
		k.l("xp := tmp[%d:%d]", off, off+c.Cg*PS)
		k.l("clear(xp)")
		k.l("for ic := range %d {", c.Cg)
		k.l("for id := range %d {", w.in[0])
		k.l("for ih := range %d {", w.in[1])
		k.l("so := (ic*%d+id)*%d + ih*%d", w.in[0], w.in[1]*w.in[2], w.in[2])
		k.l("do := ic*%d + (id+%d)*%d + (ih+%d)*%d + %d", PS, w.pb[0], pd[1]*pd[2], w.pb[1], pd[2], w.pb[2])
		k.l("copy(xp[do:do+%d], xg[so:so+%d])", w.in[2], w.in[2])
		k.l("}\n}\n}")
	} else if c.simd && !c.direct {
		k.l("xp := xg[:]")
	}
	tiled := c.NT < c.npad
	// threads.go: this worker's columns, or (splitM) its output channels.
	splitM := convSplitM(k, c)
	nlo, nhi := "0", fmt.Sprint(c.N)
	if !splitM {
		unit := c.unit
		if c.rows {
			unit = c.rowGrid()[2] // whole virtual rows
		}
		nlo, nhi = k.span("n", c.N, unit)
	}
	if tiled || nlo != "0" {
		k.l("for n0 := %s; n0 < %s; n0 += %d {", nlo, nhi, c.NT)
		k.l("nEnd := min(n0+%d, %s)", c.NT, nhi)
	} else {
		k.l("{")
		k.l("n0, nEnd := 0, %d", c.N)
	}
	switch {
	case c.direct:
	case c.rows:
		emitIm2rowSIMD(k, c)
	case c.simd:
		emitIm2colSIMD(k, c)
	default:
		emitIm2col(k, c)
	}
	// The product, MT output channels at a time.
	mtiled := c.MT < c.OCg
	mlo, mhi := "0", fmt.Sprint(c.OCg)
	if splitM {
		mlo, mhi = k.span("m", c.OCg, c.MR)
	}
	if mtiled || mlo != "0" {
		k.l("for m0 := %s; m0 < %s; m0 += %d {", mlo, mhi, c.MT)
		k.l("mEnd := min(m0+%d, %s)", c.MT, mhi)
	} else {
		k.l("{")
		k.l("m0, mEnd := 0, %d", c.OCg)
	}
	if c.simd {
		emitGemmSIMD(k, c, e)
		k.l("}") // m tile
		k.l("}") // n tile
		k.l("}") // g
		k.l("}") // b
		return nil
	}
	emitGemmScalar(k, c, e)
	return nil
}

// emitIm2colSIMD fills the tile's panels from xp, the group's input (with
// its zero border when the conv pads): per panel, the 16 columns' input
// offsets, then per tap (the rows of the panel, in weight order) 16 loads,
// or one 64-byte copy when the columns are 16 consecutive positions.
// Columns past the end repeat the last one: their products are dropped.
func emitIm2colSIMD(k *kctx, c gemmConv) {
	w := c.w
	pd := c.padDims()
	PS := c.padSize()
	KN := c.K * c.NR
	k.l("for p := 0; p*%d < nEnd-n0; p++ {", c.NR)
	k.l("var noff [%d]int", c.NR)
	k.l("for j := range %d {", c.NR)
	k.l("n := min(n0+p*%d+j, nEnd-1)", c.NR)
	if c.pool != nil {
		pw := c.pool
		k.l("q, r := n/%d, n%%%d", c.P, c.P)
		k.l("od := (q/%d)*%d + r/%d", pw.out[1]*pw.out[2], pw.k[0], pw.k[1]*pw.k[2])
		k.l("oh := (q/%d%%%d)*%d + r/%d%%%d", pw.out[2], pw.out[1], pw.k[1], pw.k[2], pw.k[1])
		k.l("ow := (q%%%d)*%d + r%%%d", pw.out[2], pw.k[2], pw.k[2])
	} else {
		k.l("od, oh, ow := n/%d, n/%d%%%d, n%%%d", w.out[1]*w.out[2], w.out[2], w.out[1], w.out[2])
	}
	k.l("noff[j] = od*%d + oh*%d + ow*%d", w.s[0]*pd[1]*pd[2], w.s[1]*pd[2], w.s[2])
	k.l("}")
	k.l("contig := true")
	k.l("for j := range %d {\ncontig = contig && noff[j] == noff[0]+j\n}", c.NR)
	k.l("pc := tmp[p*%d : (p+1)*%d]", KN, KN)
	k.l("kk := 0")
	k.l("for ic := range %d {", c.Cg)
	k.l("for kd := range %d {", w.k[0])
	k.l("for kh := range %d {", w.k[1])
	k.l("for kw := range %d {", w.k[2])
	k.l("base := ic*%d + kd*%d + kh*%d + kw*%d", PS, w.d[0]*pd[1]*pd[2], w.d[1]*pd[2], w.d[2])
	k.l("d := (*[%d]float32)(pc[kk*%d:])", c.NR, c.NR)
	k.l("if contig {\n*d = *(*[%d]float32)(xp[base+noff[0]:])\n} else {", c.NR)
	k.l("for j, o := range noff {\nd[j] = xp[base+o]\n}")
	k.l("}")
	k.l("kk++")
	k.l("}\n}\n}\n}") // kw kh kd ic
	k.l("}")          // p
}

// emitIm2col fills the tile's panels for the scalar kernel.
func emitIm2col(k *kctx, c gemmConv) {
	w := c.w
	ISP := w.in[0] * w.in[1] * w.in[2]
	KN := c.K * c.NR
	// im2col: one column at a time, the taps in weight order.
	k.l("for n := n0; n < nEnd; n++ {")
	k.l("pc := (*[%d]float32)(tmp[(n-n0)/%d*%d:])", KN, c.NR, KN)
	if c.pool != nil {
		pw := c.pool
		k.l("q, r := n/%d, n%%%d", c.P, c.P)
		k.l("od := (q/%d)*%d + r/%d", pw.out[1]*pw.out[2], pw.k[0], pw.k[1]*pw.k[2])
		k.l("oh := (q/%d%%%d)*%d + r/%d%%%d", pw.out[2], pw.out[1], pw.k[1], pw.k[2], pw.k[1])
		k.l("ow := (q%%%d)*%d + r%%%d", pw.out[2], pw.k[2], pw.k[2])
	} else {
		k.l("od, oh, ow := n/%d, n/%d%%%d, n%%%d", w.out[1]*w.out[2], w.out[2], w.out[1], w.out[2])
	}
	k.l("id0, ih0, iw0 := od*%d-%d, oh*%d-%d, ow*%d-%d", w.s[0], w.pb[0], w.s[1], w.pb[1], w.s[2], w.pb[2])
	k.l("_, _, _ = id0, ih0, iw0")
	k.l("o := (n - n0) %% %d", c.NR)
	k.l("for ic := range %d {", c.Cg)
	k.l("xc := (*[%d]float32)(xg[ic*%d:])", ISP, ISP)
	k.l("for kd := range %d {", w.k[0])
	k.l("id := id0 + kd*%d", w.d[0])
	k.l("for kh := range %d {", w.k[1])
	k.l("ih := ih0 + kh*%d", w.d[1])
	k.l("rowOK := uint(id) < %d && uint(ih) < %d", w.in[0], w.in[1])
	k.l("for kw := range %d {", w.k[2])
	k.l("iw := iw0 + kw*%d", w.d[2])
	k.l("v := float32(0)")
	k.l("if rowOK && uint(iw) < %d {\nv = xc[(id*%d+ih)*%d+iw]\n}", w.in[2], w.in[1], w.in[2])
	k.l("pc[o] = v")
	k.l("o += %d", c.NR)
	k.l("}\n}\n}\n}") // kw kh kd ic
	k.l("}")          // n
	if c.N%c.NR != 0 {
		// Zero the unused columns of the last panel.
		k.l("for n := nEnd; n%%%d != 0; n++ {", c.NR)
		k.l("pc := (*[%d]float32)(tmp[(n-n0)/%d*%d:])", KN, c.NR, KN)
		k.l("for o := (n - n0) %% %d; o < %d; o += %d {\npc[o] = 0\n}", c.NR, KN, c.NR)
		k.l("}")
	}
}

// emitGemmScalar emits the scalar register-blocked product of a tile.
func emitGemmScalar(k *kctx, c gemmConv, e epi) {
	W, Y := k.in[1], k.out[0]
	KN := c.K * c.NR
	// block emits an r × NR register block at channel m of panel(s).
	micro := func(r int, pexpr string) {
		var acc []string
		for i := range r {
			for j := range c.NR {
				acc = append(acc, fmt.Sprintf("c%d_%d", i, j))
			}
		}
		k.l("pc := (*[%d]float32)(tmp[(%s)*%d:])", KN, pexpr, KN)
		k.l("var %s float32", strings.Join(acc, ", "))
		k.l("for k := range %d {", c.K)
		for j := range c.NR {
			k.l("b%d := pc[k*%d+%d]", j, c.NR, j)
		}
		for i := range r {
			k.l("a%d := w%d[k]", i, i)
			for j := range c.NR {
				k.l("c%d_%d += a%d * b%d", i, j, i, j)
			}
		}
		k.l("}")
	}
	block := func(r int) {
		for i := range r {
			k.l("w%d := (*[%d]float32)(%s[(g*%d+m+%d)*%d:])", i, c.K, W, c.OCg, i, c.K)
		}
		if c.pool == nil {
			micro(r, "p")
			for i := range r {
				k.l("yr%d := (*[%d]float32)(%s[(b*%d+g*%d+m+%d)*%d:])", i, c.OSP, Y, c.OC, c.OCg, i, c.OSP)
			}
			for j := range c.NR {
				if c.N%c.NR != 0 {
					k.l("if nb+%d < %d {", j, c.N)
				} else {
					k.l("{")
				}
				for i := range r {
					ri := fmt.Sprintf("(b*%d+g*%d+m+%d)*%d+nb+%d", c.OC, c.OCg, i, c.OSP, j)
					k.l("{\nv := c%d_%d\n%s\nyr%d[nb+%d] = v\n}", i, j, e.apply(fmt.Sprintf("g*%d+m+%d", c.OCg, i), ri), i, j)
				}
				k.l("}")
			}
			return
		}
		// Pool: reduce each window's P columns, NR at a time.
		for i := range r {
			if c.avg {
				k.l("var s%d float64", i)
			} else {
				k.l("s%d := float32(@math.Inf(-1))", i)
			}
		}
		k.l("for j := range %d {", c.P/c.NR)
		k.l("{")
		micro(r, fmt.Sprintf("wq*%d+j", c.P/c.NR))
		for j := range c.NR {
			for i := range r {
				k.l("{\nv := c%d_%d\n%s", i, j, e.apply(fmt.Sprintf("g*%d+m+%d", c.OCg, i), ""))
				if c.avg {
					k.l("s%d += float64(v)", i)
				} else {
					k.l("if v > s%d || v != v {\ns%d = v\n}", i, i) // NaN propagates
				}
				k.l("}")
			}
		}
		k.l("}")
		k.l("}")
		for i := range r {
			idx := fmt.Sprintf("(b*%d+g*%d+m+%d)*%d+q", c.OC, c.OCg, i, c.POSP)
			if c.avg {
				k.l("%s[%s] = float32(s%d / %d)", Y, idx, i, c.P)
			} else {
				k.l("%s[%s] = s%d", Y, idx, i)
			}
		}
	}
	mloops := func() {
		k.l("m := m0")
		if c.MR > 1 {
			k.l("for ; m+%d <= mEnd; m += %d {", c.MR, c.MR)
			block(c.MR)
			k.l("}")
		}
		k.l("for ; m < mEnd; m++ {")
		block(1)
		k.l("}")
	}
	if c.pool == nil {
		k.l("for p := 0; p*%d < nEnd-n0; p++ {", c.NR)
		k.l("nb := n0 + p*%d", c.NR)
		mloops()
		k.l("}")
	} else {
		k.l("for wq := 0; wq*%d < nEnd-n0; wq++ {", c.P)
		k.l("q := (n0 + wq*%d) / %d", c.P, c.P)
		mloops()
		k.l("}")
	}
	k.l("}") // m tile
	k.l("}") // n tile
	k.l("}") // g
	k.l("}") // b
}

// simdActFn returns the Act kernel's function number for an activation
// it computes (codegen/kernels/act.go states its error: within 3 ulp).
func simdActFn(act string) (int, bool) {
	switch act {
	case "tanh":
		return kernels.ActTanh, true
	case "sigmoid":
		return kernels.ActSigmoid, true
	}
	return 0, false
}

// kernelEpi splits the epilogue e between the Gemm kernel and Go: the
// kernel's bias slice (in scope: g, m), flags and clamp bounds, and the
// rest, which Go applies to the stored values. Without a pool the
// kernel's extended epilogue (FUNCE) adds the residual, laid out as the
// output, and applies relu or a clip; an activation it lacks runs after
// it in Go (or on the Act kernel) over the stored rows.
func kernelEpi(c gemmConv, e epi, n *ir.Node) (bias string, flags int, lohi [2]float64, rest epi) {
	ep := c.kern.Epilogues
	bias, rest = "nil", e
	if e.bias != "" && ep&kernels.Bias != 0 {
		bias = fmt.Sprintf("%s[g*%d+m:]", e.bias, c.OCg)
		flags |= 1
		rest.bias = ""
	}
	if c.pool != nil || rest.bias != "" {
		if e.act == "relu" && e.residual == "" && rest.bias == "" && ep&kernels.Relu != 0 {
			flags |= 2
			rest.act = ""
		}
		return bias, flags, lohi, rest
	}
	if e.residual != "" {
		flags |= gemmResidual
		rest.residual = ""
	}
	if lo, hi, ok := gemmClamp(n); ok {
		if lo == 0 && math.IsInf(hi, 1) {
			flags |= 2
		} else {
			flags |= gemmClampBit
			lohi = [2]float64{lo, hi}
		}
		rest.act = ""
	}
	return bias, flags, lohi, rest
}

// The extended epilogue's flags (codegen/kernels/gemm_ext.go).
const (
	gemmResidual = 128 // add the residual
	gemmClampBit = 256 // clamp to lohi
	gemmCompress = 512 // store the columns of a mask, packed
)

// gemmClamp returns the bounds of a fused node's relu or clip.
func gemmClamp(n *ir.Node) (lo, hi float64, ok bool) {
	if n.Op != "fused_conv" {
		return 0, 0, false
	}
	switch act := n.Attrs.String("act"); act {
	case "relu":
		return 0, math.Inf(1), true
	case "clip":
		sub, err := ir.SubNode(n, act, []*ir.Value{n.Out()})
		if err != nil {
			return 0, 0, false
		}
		return sub.Attrs.Float("min"), sub.Attrs.Float("max"), true
	}
	return 0, 0, false
}

// emitGemmSIMD emits the product of an im2col tile on the Gemm kernel
// c.kern: for each panel (or pool unit) and block of output channels, one
// call computes the r × NR block into cb and applies what of the epilogue it
// can (bias, relu, a max pool's reduction), then Go applies the rest. The
// channel blocks are balanced: ⌈M/MR⌉ blocks of nearly equal height, so
// 32 channels run as 6,6,5,5,5,5 rather than 6,6,6,6,6,2. In scope: b, g,
// n0, nEnd, m0, mEnd and tmp, the tile's panels.
func emitGemmSIMD(k *kctx, c gemmConv, e epi) {
	W, Y := k.in[1], k.out[0]
	KN := c.K * c.NR
	wrow := fmt.Sprintf("%s[(g*%d+m)*%d:]", W, c.OCg, c.K)
	ep := c.kern.Epilogues
	bias, flags, _, rest := kernelEpi(c, e, k.n)
	mblocks := func(body func()) {
		k.l("mb := (mEnd - m0 + %d) / %d", c.MR-1, c.MR)
		k.l("for bi, m := 0, m0; bi < mb; bi++ {")
		k.l("r := (mEnd - m0) / mb")
		k.l("if bi < (mEnd-m0)%%mb {\nr++\n}")
		body()
		k.l("m += r")
		k.l("}")
	}
	if c.pool == nil {
		emitGemmTile(k, c, e)
		return
	}
	if !c.avg && c.P <= c.NR && e.residual == "" && e.monotone &&
		ep&kernels.MaxPool != 0 && rest.bias == "" {
		// Max pool: the kernel reduces each window's P columns and adds
		// the bias; a monotonic activation commutes with the max
		// (act(max_t v_t + b) = max_t act(v_t + b)), so Go applies it to
		// the 16/P window values only.
		lg := 0
		for 1<<lg < c.P {
			lg++
		}
		flags |= lg << 4
		W16 := c.NR / c.P
		k.l("var cb [%d]float32", c.kern.CBlock())
		k.l("for u := 0; u*%d < nEnd-n0; u++ {", c.NR)
		k.l("q0 := (n0 + u*%d) / %d", c.NR, c.P)
		k.l("nq := min(%d, %d-q0)", W16, c.POSP)
		k.l("pc := tmp[u*%d : (u+1)*%d]", KN, KN)
		mblocks(func() {
			k.l("%s(r, %d, %d, %s, %d, pc, %d, cb[:], %d, %s, %d)", c.kern.Func, c.NR, c.K, wrow, c.K, c.NR, c.NR, bias, flags)
			k.l("for i := range r {")
			k.l("yr := %s[(b*%d+g*%d+m+i)*%d+q0:][:nq]", Y, c.OC, c.OCg, c.POSP)
			k.l("for t := range yr {")
			k.l("v := cb[i*%d+t*%d]", c.NR, c.P)
			if a := rest.apply("", ""); a != "" {
				k.l("%s", a)
			}
			k.l("yr[t] = v")
			k.l("}") // t
			k.l("}") // i
		})
		k.l("}") // u
		return
	}
	// Other pools: the epilogue per column in Go, then the window's
	// reduction (a window may span panels). A sigmoid or tanh runs on
	// the Act kernel over the whole block, after the kernel's bias.
	U := c.unit
	kbias, kflags := "nil", 0
	fn, vact := simdActFn(e.act)
	if vact && e.residual == "" && (e.bias == "" || ep&kernels.Bias != 0) {
		kbias, kflags = bias, flags&1
		e = epi{}
	} else {
		vact = false
	}
	k.l("var cb [%d]float32", c.kern.CBlock())
	k.l("for u := 0; u*%d < nEnd-n0; u++ {", U)
	k.l("q0 := (n0 + u*%d) / %d", U, c.P)
	mblocks(func() {
		if c.avg {
			k.l("var s [%d]float64", c.MR)
		} else {
			k.l("var s [%d]float32", c.MR)
			k.l("for i := range s {\ns[i] = float32(@math.Inf(-1))\n}")
		}
		k.l("for j := range %d {", U/c.NR)
		k.l("pc := tmp[(u*%d+j)*%d : (u*%d+j+1)*%d]", U/c.NR, KN, U/c.NR, KN)
		k.l("%s(r, %d, %d, %s, %d, pc, %d, cb[:], %d, %s, %d)", c.kern.Func, c.NR, c.K, wrow, c.K, c.NR, c.NR, kbias, kflags)
		if vact {
			k.l("simdAct(%d, cb[:r*%d], nil, cb[:r*%d])", fn, c.NR, c.NR)
		}
		k.l("for i := range r {")
		k.l("oc := g*%d + m + i", c.OCg)
		k.l("for t := range %d {", c.NR)
		k.l("v := cb[i*%d+t]", c.NR)
		if a := e.apply("oc", ""); a != "" {
			k.l("%s", a)
		}
		if c.avg {
			k.l("s[i] += float64(v)")
		} else {
			k.l("if v > s[i] || v != v {\ns[i] = v\n}") // NaN propagates
		}
		k.l("if n := j*%d + t; (n+1)%%%d == 0 {", c.NR, c.P)
		k.l("if q := q0 + n/%d; q < %d {", c.P, c.POSP)
		if c.avg {
			k.l("%s[(b*%d+oc)*%d+q] = float32(s[i] / %d)", Y, c.OC, c.POSP, c.P)
			k.l("}")
			k.l("s[i] = 0")
		} else {
			k.l("%s[(b*%d+oc)*%d+q] = s[i]", Y, c.OC, c.POSP)
			k.l("}")
			k.l("s[i] = float32(@math.Inf(-1))")
		}
		k.l("}") // window end
		k.l("}") // t
		k.l("}") // i
		k.l("}") // j
	})
	k.l("}") // u
}

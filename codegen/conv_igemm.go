package codegen

import (
	"fmt"
	"strings"

	"github.com/dlcompiler/dlc/codegen/kernels"
	"github.com/dlcompiler/dlc/ir"
)

// Convolution as an implicit GEMM (Schedule.Algo "igemm", the IGemm
// kernel of codegen/kernels/igemm.go): the product of the weights as
// stored (OCg rows of K = Cg·KD·KH·KW) with the im2col matrix, without
// ever building that matrix. Per batch row and group the input is copied
// once into a zero-bordered, polyphase buffer xp: along an axis of
// stride s, padded position P = i + pad goes to phase P mod s at index
// P div s, each phase a block of PD0×PD1×PD2 values (one block when
// every stride is 1). Output (o0, o1, o2) is then the virtual column
//
//	n' = o0·PD1·PD2 + o1·PD2 + o2
//
// and its tap t = (ic, t0, t1, t2) reads xp[off[t] + n'], where off[t]
// (a constant table) is the channel, the phase of t·d and the index of
// t·d div s. Every tap is an affine function of n', so the kernel reads
// row t of the product straight from xp at off[t], for whole panels of
// consecutive columns. The columns between output rows (n' with o2 ≥ OW,
// or o1 ≥ OH) are computed and dropped: a constant keep table marks the
// outputs among the virtual columns, and the kernel stores each row's
// kept columns packed (VCOMPRESSPS on AVX-512), which is the output
// channel's plane in order, straight into y: no staging buffer, no row
// copies. Bias and relu run in the kernel, what is left of the epilogue
// (residual, activation) in one pass over the block's channels after it;
// a fused pool reads the finished (activated) output from scratch
// (emitPool). Each output sums its
// products in the order of the weights, like the interpreter, one fused
// multiply-add per term.
//
// The tiling pass (passes/tile.go) chooses it for small convolutions,
// whose input and virtual output per group fit half of L2: the copy is
// as large as the input (im2col's buffer is K times the output), and no
// panel is packed per tile.

// useIGemm reports whether a conv node's schedule asks for the implicit
// GEMM, on a kernel of the registry.
func useIGemm(n *ir.Node) bool {
	if n.Schedule == nil || n.Schedule.Algo != "igemm" {
		return false
	}
	kn := kernelOf(n.Schedule)
	return kn != nil && kn.Op == kernels.IGemm
}

// igemmConv is the resolved plan of an implicit-GEMM convolution.
type igemmConv struct {
	w                 win3
	kn                *kernels.Kernel
	NB, C, OC, G      int
	Cg, OCg, K        int
	ISP, OSP          int
	pd                [3]int // extent of one phase block along each axis
	PP, PS            int    // values per phase block, per channel
	N                 int    // virtual columns
	copyIn            bool   // xp is a copy (pads or strides), else the input
	junk              bool   // virtual columns that are not outputs: a keep table
	MR                int
	xpLen, xpOff, end int // scratch: xp's length and offset, the end of ours
	pre               int // scratch before ours (a fused pool's input)
}

// igemmPlan resolves an implicit-GEMM conv node; pre is the scratch
// that comes before the plan's own (a fused pool's input).
func igemmPlan(conv *ir.Node, pre int) igemmConv {
	x, wsh, y := conv.Inputs[0].Type.Shape, conv.Inputs[1].Type.Shape, conv.Outputs[0].Type.Shape
	a := conv.Attrs
	c := igemmConv{w: window3(x, y, wsh[2:], a.Ints("strides"), a.Ints("pads"), a.Ints("dilations")),
		kn: kernelOf(conv.Schedule), pre: pre}
	c.NB, c.C, c.OC, c.G = x[0], x[1], y[1], a.Int("groups")
	c.Cg, c.OCg, c.K = c.C/c.G, c.OC/c.G, wsh[1:].NumElems()
	w := c.w
	c.ISP, c.OSP = w.in[0]*w.in[1]*w.in[2], w.out[0]*w.out[1]*w.out[2]
	phases := 1
	for i := range 3 {
		c.pd[i] = w.out[i] + (w.k[i]-1)*w.d[i]/w.s[i]
		phases *= w.s[i]
		c.copyIn = c.copyIn || w.s[i] != 1 || w.pb[i] != 0 || w.pe[i] != 0
	}
	c.PP = c.pd[0] * c.pd[1] * c.pd[2]
	c.PS = phases * c.PP
	c.N = (w.out[0]-1)*c.pd[1]*c.pd[2] + (w.out[1]-1)*c.pd[2] + w.out[2]
	c.junk = c.N != c.OSP
	c.MR = max(1, min(c.kn.MR, c.OCg, max(conv.Schedule.Unroll, 1)))
	if !c.copyIn && c.N%c.kn.NR != 0 {
		// The last panel would read past the group's input: copy it.
		c.copyIn = true
	}
	if c.copyIn {
		hi := int32(0)
		for _, o := range c.offsets() {
			hi = max(hi, o)
		}
		c.xpLen = max(c.Cg*c.PS, int(hi)+c.panels()*c.kn.NR)
	}
	if c.copyIn && c.w.s[2] == 2 {
		c.xpLen += c.PP // the Split kernel checks two phase blocks from each row
	}
	c.xpOff = alignUp(pre)
	c.end = alignUp(c.xpOff + c.xpLen)
	return c
}

func alignUp(n int) int { return (n + align - 1) / align * align }

// panels is the number of NR-column panels over the virtual columns.
func (c igemmConv) panels() int { return (c.N + c.kn.NR - 1) / c.kn.NR }

// scratch is the plan's scratch in elements, pre included.
func (c igemmConv) scratch() int { return c.end }

// keep is the kernel's keep table: bit n'%16 of entry n'/16 is set when
// virtual column n' is an output (o1 < OH, o2 < OW), over whole panels.
func (c igemmConv) keep() []uint16 {
	keep := make([]uint16, c.panels()*c.kn.NR/16)
	for v := range c.N {
		if v%c.pd[2] < c.w.out[2] && v/c.pd[2]%c.pd[1] < c.w.out[1] {
			keep[v/16] |= 1 << (v % 16)
		}
	}
	return keep
}

// offsets is the table off[t] in weight order: tap (ic, t0, t1, t2)
// reads xp[off[t] + n'].
func (c igemmConv) offsets() []int32 {
	w := c.w
	var offs []int32
	for ic := range c.Cg {
		for t0 := range w.k[0] {
			for t1 := range w.k[1] {
				for t2 := range w.k[2] {
					t := [3]int{t0, t1, t2}
					ph, idx := 0, 0
					for i := range 3 {
						q := t[i] * w.d[i]
						ph = ph*w.s[i] + q%w.s[i]
						idx = idx*c.pd[i] + q/w.s[i]
					}
					offs = append(offs, int32(ic*c.PS+ph*c.PP+idx))
				}
			}
		}
	}
	return offs
}

// igemmEpi splits e between the kernel (its flags: bias, relu) and Go.
func igemmEpi(e epi) (flags int, rest epi) {
	rest = e
	if e.bias != "" {
		flags |= 1
		rest.bias = ""
	}
	if e.act == "relu" && e.residual == "" {
		flags |= 2
		rest.act, rest.code = "", ""
	}
	return flags, rest
}

// emitIGemm writes the implicit-GEMM convolution conv into Y (k.out[0],
// or the scratch a fused pool reads) with epilogue e; pool, if non-nil,
// then reduces each block of channels from Y into k.out[0] while it is
// in cache.
func emitIGemm(k *kctx, conv *ir.Node, c igemmConv, e epi, Y string, pool *ir.Node) {
	X, W := k.in[0], k.in[1]
	offs := c.offsets()
	var rows []string
	for i := 0; i < len(offs); i += 16 {
		rows = append(rows, strings.Trim(fmt.Sprint(offs[i:min(i+16, len(offs))]), "[]"))
	}
	k.l("offs := [%d]int32{\n%s,\n}", len(offs), strings.ReplaceAll(strings.Join(rows, ",\n"), " ", ", "))
	keep := "nil"
	if c.junk {
		emitIGemmKeep(k, c.keep())
		keep = "keep[:]"
	}
	k.l("for b := range %d {", c.NB)
	k.l("for g := range %d {", c.G)
	k.l("xg := %s[(b*%d+g*%d)*%d:][:%d]", X, c.C, c.Cg, c.ISP, c.Cg*c.ISP)
	xp := "xg"
	if c.copyIn {
		emitIGemmCopy(k, c)
		xp = "xp"
	}
	flags, rest := igemmEpi(e)
	bias := "nil"
	if flags&1 != 0 {
		bias = fmt.Sprintf("%s[g*%d+m:]", e.bias, c.OCg)
	}
	mlo, mhi := k.span("m", c.OCg, c.MR) // threads.go: this worker's channels
	k.l("mb := (%s - %s + %d) / %d", mhi, mlo, c.MR-1, c.MR)
	k.l("for bi, m := 0, %s; bi < mb; bi++ {", mlo)
	k.l("r := (%s - %s) / mb", mhi, mlo)
	k.l("if bi < (%s-%s)%%mb {\nr++\n}", mhi, mlo)
	wrow := fmt.Sprintf("%s[(g*%d+m)*%d:]", W, c.OCg, c.K)
	k.l("yo := (b*%d+g*%d+m)*%d", c.OC, c.OCg, c.OSP)
	k.l("%s(r, %d, %d, %s, %d, %s, offs[:], %s[yo:], %d, %s, %d, %s)", c.kn.Func, c.N, c.K, wrow, c.K, xp, Y, c.OSP, bias, flags, keep)
	emitIGemmRest(k, c, rest, Y)
	if pool != nil {
		emitIGemmPool(k, c, pool, Y)
	}
	k.l("m += r")
	k.l("}") // blocks
	k.l("}") // g
	k.l("}") // b
}

// emitIGemmCopy fills xp with the group's input, zero-bordered and split
// into phases (see above). Input positions past what any tap reads are
// left out.
func emitIGemmCopy(k *kctx, c igemmConv) {
	w := c.w
	k.l("xp := tmp[%d:%d]", c.xpOff, c.xpOff+c.xpLen)
	k.l("clear(xp)")
	// n[i]: the input positions along axis i that land in the buffer.
	var n [3]int
	for i := range 3 {
		n[i] = max(0, min(w.in[i], w.s[i]*c.pd[i]-w.pb[i]))
	}
	if n[0] == 0 || n[1] == 0 || n[2] == 0 {
		k.l("_ = xg")
		return
	}
	// used[i]: the phases along axis i that some tap reads (a 1×1
	// stride-2 convolution reads one of four); the others stay zero.
	var used [3]int
	for i := range 3 {
		for t := range w.k[i] {
			used[i] |= 1 << (t * w.d[i] % w.s[i])
		}
	}
	skip := func(i int, p string) {
		if used[i] != 1<<w.s[i]-1 {
			k.l("if %d>>(%s%%%d)&1 == 0 {\ncontinue\n}", used[i], p, w.s[i])
		}
	}
	k.l("for ic := range %d {", c.Cg)
	k.l("for i0 := range %d {", n[0])
	k.l("p0 := i0 + %d", w.pb[0])
	skip(0, "p0")
	k.l("for i1 := range %d {", n[1])
	k.l("p1 := i1 + %d", w.pb[1])
	skip(1, "p1")
	k.l("src := xg[(ic*%d+i0*%d+i1)*%d:][:%d]", w.in[0]*w.in[1], w.in[1], w.in[2], n[2])
	k.l("dst := ic*%d + ((p0%%%d)*%d+p1%%%d)*%d + (p0/%d)*%d + (p1/%d)*%d",
		c.PS, w.s[0], w.s[1], w.s[1], w.s[2]*c.PP, w.s[0], c.pd[1]*c.pd[2], w.s[1], c.pd[2])
	switch {
	case w.s[2] == 1:
		// A fixed-size copy: moves inline, not a memmove call per row.
		k.l("*(*[%d]float32)(xp[dst+%d:]) = *(*[%d]float32)(src)", n[2], w.pb[2], n[2])
	case w.s[2] == 2 && used[2] == 3:
		// Both column phases: the Split kernel (codegen/kernels/dw.go).
		k.l("%s(xp[dst:], %d, src, %d)", splitKernel.Func, c.PP, w.pb[2])
	default:
		// Per phase φ, the inputs i2 ≡ φ − pad (mod s), one index apart.
		for ph := range w.s[2] {
			i2 := ((ph-w.pb[2])%w.s[2] + w.s[2]) % w.s[2]
			if i2 >= n[2] || used[2]>>ph&1 == 0 {
				continue
			}
			k.l("for i2, d := %d, dst+%d; i2 < %d; i2, d = i2+%d, d+1 {", i2, ph*c.PP+(i2+w.pb[2])/w.s[2], n[2], w.s[2])
			k.l("xp[d] = src[i2]")
			k.l("}")
		}
	}
	k.l("}\n}\n}") // i1 i0 ic
}

// emitIGemmKeep writes the keep table as a constant array, 16 entries a
// line.
func emitIGemmKeep(k *kctx, keep []uint16) {
	var b strings.Builder
	for i := 0; i < len(keep); i += 16 {
		for j, v := range keep[i:min(i+16, len(keep))] {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%#x", v)
		}
		b.WriteString(",\n")
	}
	k.l("keep := [%d]uint16{\n%s}", len(keep), b.String())
}

// emitIGemmRest applies rest to the r output channels the kernel stored
// into Y: one Act kernel call over the block when it has the activation.
func emitIGemmRest(k *kctx, c igemmConv, rest epi, Y string) {
	if rest.residual == "" && rest.act == "" {
		return
	}
	blk := fmt.Sprintf("%s[yo : yo+r*%d]", Y, c.OSP)
	res := ""
	if rest.residual != "" {
		res = fmt.Sprintf("%s[yo : yo+r*%d]", rest.residual, c.OSP)
	}
	if call := epilogueCall(k.n, blk, res, blk); call != "" && rest.act != "" {
		k.l("%s", call)
		return
	}
	k.l("yr := %s", blk)
	if rest.residual != "" {
		k.l("rr := %s", res)
		k.l("rr = rr[:len(yr)]")
		rest.residual = "rr"
	}
	k.l("for j, v := range yr {")
	k.l("%s", rest.apply("", "j"))
	k.l("yr[j] = v")
	k.l("}")
}

// emitFusedIGemm writes a fused_conv on the implicit GEMM: the conv with
// its epilogue, into the output or, when it pools, into scratch that the
// pool then reads, block by block.
func emitFusedIGemm(k *kctx, conv, pool *ir.Node, e epi) {
	if pool == nil {
		emitIGemm(k, conv, igemmPlan(conv, 0), e, k.out[0], nil)
		return
	}
	emitIGemm(k, conv, igemmPlan(conv, conv.Out().Type.Shape.NumElems()), e, "tmp", pool)
}

// emitIGemmPool pools the block's r channels of the conv output Y into
// k.out[0].
func emitIGemmPool(k *kctx, c igemmConv, pool *ir.Node, Y string) {
	py := pool.Outputs[0].Type.Shape
	a := pool.Attrs
	pw := window3(pool.Inputs[0].Type.Shape, py, a.Ints("kernel"), a.Ints("strides"), a.Ints("pads"), a.Ints("dilations"))
	POSP := pw.out[0] * pw.out[1] * pw.out[2]
	avg := pool.Op == "avgpool"
	in := fmt.Sprintf("%s[(b*%d+g*%d+m)*%d:]", Y, c.OC, c.OCg, c.OSP)
	out := fmt.Sprintf("%s[(b*%d+g*%d+m)*%d:]", k.out[0], c.OC, c.OCg, POSP)
	if p := fusedPoolPlan(pool); p != nil {
		emitPoolPlanes(k, p, c.scratch(), in, out, "r")
		return
	}
	sub := &kctx{gen: k.gen, n: pool, b: k.b, in: []string{in}, out: []string{out}}
	emitPoolFast(sub, pw, "r", avg, avg && a.Bool("count_include_pad"))
}

// igemmScratch is the scratch of a conv or fused_conv node on the
// implicit GEMM (pool: the pool it ends with, or nil): a pool on a
// PoolMax or PoolAvg kernel has its padded plane after the plan's.
func igemmScratch(conv, pool *ir.Node) int {
	if pool == nil {
		return igemmPlan(conv, 0).scratch()
	}
	n := igemmPlan(conv, conv.Out().Type.Shape.NumElems()).scratch()
	if p := fusedPoolPlan(pool); p != nil {
		n += p.scratch()
	}
	return n
}

// splitKernel is the registered Split kernel.
var splitKernel = kernels.Find(kernels.Split, kernels.AVX2)

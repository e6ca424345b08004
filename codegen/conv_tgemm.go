package codegen

import (
	"fmt"
	"math"

	"github.com/dlcompiler/dlc/codegen/kernels"
	"github.com/dlcompiler/dlc/ir"
)

// Convolution as a transposed GEMM (Schedule.Algo "tgemm"): the product
// with output channels along the vector lanes and output positions
// broadcast, for the late stages of a network where the positions are
// few (7×7 = 49, 14×14 = 196) and im2col's panels of NR positions would
// leave lanes idle (49 = 32 + 17). Per batch row,
//
//	Yᵀ[n, oc] = Σ_t Σ_ic X[ic, n@t] · W[oc, ic, t]     t = (kd, kh, kw)
//
// on the Gemm kernel (Schedule.Kernel, e.g. avx512.gemm12x32) with its
// roles swapped: a is the input, copied once into a zero-bordered NHWC
// buffer xp (channels innermost), so that for tap t the r positions of
// one output row are r rows of a, C values each, lda = C·stride apart,
// read in place (no im2col); b is the weights, packed at compile time
// into panels of NR output channels (WeightLayout tgemmLayout: panel p
// holds W[p·NR+j, ic, t] at ((p·T+t)·C+ic)·NR+j, zero past OC), so tap
// t's slice is a k-major C×NR panel; c is a scratch tile yt of OSP×NR
// (positions × the panel's channels). The taps accumulate into yt
// (flags&8) in order; the last adds the bias per column (flags&4) and,
// without a residual, applies relu (flags&2). Then yt is transposed
// into the panel's NR output rows of y, adding the residual and applying
// the other activations on the way.
//
// Every output channel sums its products tap by tap, each tap's over
// the input channels in order, one fused multiply-add per term (the
// kernel's k order), then the bias: the same terms as the interpreter,
// in another order. With -threads the panels are split among the
// workers, each with its own xp and yt (the input copy is repeated per
// worker), so every output is computed alike whatever the split.
//
// When another node reads the weights as stored (plan.laidOut false),
// the emitter falls back to im2col on the same kernel (gemm.go); the
// scratch is sized for both.

// tgemmLayout is the weight layout of tgemm, for a Gemm kernel of nr
// columns.
func tgemmLayout(nr int) string { return fmt.Sprintf("tpanel%d", nr) }

func init() {
	for _, kn := range kernels.All() {
		if kn.Op != kernels.Gemm {
			continue
		}
		nr := kn.NR
		weightLayouts[tgemmLayout(nr)] = struct {
			inputs func(n *ir.Node) []int
			pack   func(t *ir.Tensor) *ir.Tensor
		}{inputs: tgemmWeight, pack: func(t *ir.Tensor) *ir.Tensor { return tgemmPack(t, nr) }}
	}
}

// useTGemm reports whether a conv (or the conv of a fused_conv, whose
// schedule it shares) runs as a transposed GEMM: Algo "tgemm" on a Gemm
// kernel with its panel layout, one group, constant weights and no pool
// or row-wise activation.
func useTGemm(n *ir.Node) bool {
	s := n.Schedule
	if s == nil || s.Algo != "tgemm" || len(n.Inputs) < 2 || n.Inputs[1] == nil {
		return false
	}
	kn := kernelOf(s)
	if kn == nil || kn.Op != kernels.Gemm || s.WeightLayout != tgemmLayout(kn.NR) {
		return false
	}
	x := n.Inputs[0].Type.Shape
	if len(x) < 3 || len(x) > 5 || n.Attrs.Int("groups") != 1 || n.Inputs[1].Data == nil {
		return false
	}
	if n.Op == "fused_conv" {
		if n.Attrs.String("pool") != "" {
			return false
		}
		if code, _, err := actCode(n); err != nil || n.Attrs.String("act") != "" && code == "" {
			return false
		}
	}
	return true
}

// tgemmWeight is the weight input of a conv or fused_conv on tgemm.
func tgemmWeight(n *ir.Node) []int {
	if (n.Op == "conv" || n.Op == "fused_conv") && useTGemm(n) {
		return []int{1}
	}
	return nil
}

// tgemmPack packs conv weights [OC, C, taps…] into panels of nr output
// channels, k-major by (tap, input channel): see the comment above.
func tgemmPack(t *ir.Tensor, nr int) *ir.Tensor {
	w := t.F32()
	OC, C := t.Shape[0], t.Shape[1]
	T := t.Shape[2:].NumElems()
	np := (OC + nr - 1) / nr
	out := make([]float32, np*T*C*nr)
	for oc := range OC {
		p, j := oc/nr, oc%nr
		for ic := range C {
			for tp := range T {
				out[((p*T+tp)*C+ic)*nr+j] = w[(oc*C+ic)*T+tp]
			}
		}
	}
	return &ir.Tensor{DType: ir.F32, Shape: ir.Shape{len(out)}, Data: out}
}

// tgemmConv is the resolved plan of a transposed-GEMM convolution.
type tgemmConv struct {
	w        win3
	kn       *kernels.Kernel
	NB, C    int
	OC, T    int
	ISP, OSP int
	pd       [3]int // extents of the zero-bordered input
	padded   bool
	sub      bool     // xp holds every st-th position only (strided 1×1)
	st, xin  [3]int   // strides of the products in xp; xp's unpadded extents
	panels   int      // ⌈OC/NR⌉
	blocks   [][2]int // (first position, rows) of the blocks of an output row
	xpLen    int
	KC       int // input channels per pass (Tiles["k"]; C: one pass)
}

func tgemmPlan(conv *ir.Node) tgemmConv {
	x, wsh, y := conv.Inputs[0].Type.Shape, conv.Inputs[1].Type.Shape, conv.Outputs[0].Type.Shape
	a := conv.Attrs
	c := tgemmConv{w: window3(x, y, wsh[2:], a.Ints("strides"), a.Ints("pads"), a.Ints("dilations")),
		kn: kernelOf(conv.Schedule)}
	w := c.w
	c.NB, c.C, c.OC, c.T = x[0], x[1], y[1], wsh[2:].NumElems()
	c.ISP, c.OSP = w.in[0]*w.in[1]*w.in[2], w.out[0]*w.out[1]*w.out[2]
	// A strided 1×1 conv without padding reads only every s-th position:
	// xp holds those, and the products read it at stride 1.
	c.sub = w.k == [3]int{1, 1, 1} && w.s != [3]int{1, 1, 1} && w.pb == [3]int{} && w.pe == [3]int{}
	c.st = w.s
	if c.sub {
		c.st = [3]int{1, 1, 1}
	}
	for i := range 3 {
		c.xin[i] = w.in[i]
		if c.sub {
			c.xin[i] = w.out[i]
		}
		c.pd[i] = max(c.xin[i]+w.pb[i]+w.pe[i], (w.out[i]-1)*c.st[i]+(w.k[i]-1)*w.d[i]+1)
		c.padded = c.padded || c.pd[i] != c.xin[i]
	}
	c.xpLen = (c.pd[0]*c.pd[1]*c.pd[2]*c.C + align - 1) / align * align
	c.panels = (c.OC + c.kn.NR - 1) / c.kn.NR
	c.KC = c.C
	if t := conv.Schedule.Tiles["k"]; t > 0 && t < c.C {
		c.KC = t
	}
	// The output row in balanced blocks of at most MR positions.
	OW := w.out[2]
	nb := (OW + c.kn.MR - 1) / c.kn.MR
	for i, o := 0, 0; i < nb; i++ {
		r := OW / nb
		if i < OW%nb {
			r++
		}
		c.blocks = append(c.blocks, [2]int{o, r})
		o += r
	}
	return c
}

// scratch: xp, then yt (OSP×NR).
func (c tgemmConv) scratch() int { return c.xpLen + c.OSP*c.kn.NR }

// tgemmScratch is a tgemm conv's scratch, enough for the im2col
// fallback too.
func tgemmScratch(conv *ir.Node) int {
	return max(tgemmPlan(conv).scratch(), gemmPlan(conv, nil).scratch())
}

// emitTGemm writes the conv into k.out[0] with epilogue e, or its im2col
// fallback when the weights are not packed.
func emitTGemm(k *kctx, conv *ir.Node, e epi) error {
	if !k.gen.plan.laidOut[conv.Inputs[1]] {
		return emitConvGEMM(k, conv, nil, e)
	}
	c := tgemmPlan(conv)
	w := c.w
	X, W, Y := k.in[0], k.in[1], k.out[0]
	NR, C := c.kn.NR, c.C
	// The kernel's share of the epilogue (on the last tap): the bias per
	// column, and unless a residual comes first, relu or a clip (the
	// extended epilogue, FUNCE).
	last, rest, bias := 0, e, "nil"
	var lohi [2]float64
	if e.bias != "" {
		last |= 4
		bias = e.bias + "[m0:]"
		rest.bias = ""
	}
	if lo, hi, ok := gemmClamp(k.n); ok && e.residual == "" {
		if lo == 0 && math.IsInf(hi, 1) {
			last |= 2
		} else {
			last |= gemmClampBit
			lohi = [2]float64{lo, hi}
		}
		rest.act = ""
	}
	call := c.kn.Func + "(%d, nv, kc, xp[xo+%d:], %d, wt, %d, yt[yo+%d:], %d, %s, fl)"
	if last&gemmClampBit != 0 {
		k.l("lohi := [2]float32{%s, %s}", ir.GoFloat(lohi[0]), ir.GoFloat(lohi[1]))
		call = c.kn.GemmExt() + "(%d, nv, kc, xp[xo+%d:], %d, wt, %d, yt[yo+%d:], %d, %s, fl, nil, &lohi, 0)"
	}
	k.l("for b := range %d {", c.NB)
	emitTGemmInput(k, c, X)
	plo, phi := k.span("p", c.panels, 1)
	// The taps' offsets in xp, and the blocks of an output row.
	offs := make([]int, 0, c.T)
	for kd := range w.k[0] {
		for kh := range w.k[1] {
			for kw := range w.k[2] {
				offs = append(offs, ((kd*w.d[0]*c.pd[1]+kh*w.d[1])*c.pd[2]+kw*w.d[2])*C)
			}
		}
	}
	k.l("toff := [%d]int{%s}", c.T, intList(offs))
	k.l("yt := tmp[%d:%d]", c.xpLen, c.xpLen+c.OSP*NR)
	k.l("for p := %s; p < %s; p++ {", plo, phi)
	k.l("m0 := p * %d", NR)
	k.l("nv := min(%d, %d-m0)", NR, c.OC)
	k.l("wp := %s[p*%d:]", W, c.T*C*NR)
	k.l("for t, to := range toff {")
	k.l("fl := 0")
	k.l("if t > 0 {\nfl = 8\n}")
	if last != 0 {
		k.l("if t == %d {\nfl |= %d\n}", c.T-1, last)
	}
	k.l("for k0 := 0; k0 < %d; k0 += %d {", C, c.KC)
	k.l("kc := min(%d, %d-k0)", c.KC, C)
	k.l("fl := fl")
	if c.KC < C {
		// Passes of KC input channels: the first of tap 0 starts the sum,
		// the epilogue waits for the last of the last tap.
		k.l("if k0 > 0 {\nfl |= 8\n}")
		if last != 0 {
			k.l("if k0+%d < %d {\nfl &^= %d\n}", c.KC, C, last)
		}
	}
	k.l("wt := wp[(t*%d+k0)*%d:]", C, NR)
	k.l("for od := range %d {", w.out[0])
	k.l("for oh := range %d {", w.out[1])
	k.l("xo := (od*%d+oh*%d)*%d + to + k0", c.st[0]*c.pd[1], c.st[1], c.pd[2]*C)
	k.l("yo := (od*%d + oh*%d) * %d", w.out[1]*w.out[2], w.out[2], NR)
	for _, bl := range c.blocks {
		k.l(call, bl[1], bl[0]*c.st[2]*C, c.st[2]*C, NR, bl[0]*NR, NR, bias)
	}
	k.l("}\n}") // oh od
	k.l("}")    // k0
	k.l("}")    // t
	// yt's columns into the panel's output rows, with the rest of the
	// epilogue.
	k.l("for j := range nv {")
	k.l("yr := %s[(b*%d+m0+j)*%d:][:%d]", Y, c.OC, c.OSP, c.OSP)
	if rest.residual != "" {
		k.l("rr := %s[(b*%d+m0+j)*%d:][:%d]", rest.residual, c.OC, c.OSP, c.OSP)
		rest.residual = "rr"
	}
	k.l("col := yt[j:]")
	k.l("for n := range yr {")
	k.l("v := col[n*%d]", NR)
	if a := rest.apply("m0+j", "n"); a != "" {
		k.l("%s", a)
	}
	k.l("yr[n] = v")
	k.l("}") // n
	k.l("}") // j
	k.l("}") // p
	k.l("}") // b
	return nil
}

// emitTGemmInput copies batch row b of X into xp, channels innermost,
// with a zero border.
func emitTGemmInput(k *kctx, c tgemmConv, X string) {
	w := c.w
	C := c.C
	k.l("xp := tmp[:%d]", c.xpLen)
	if c.padded {
		k.l("clear(xp)")
	}
	k.l("xb := %s[b*%d:][:%d]", X, C*c.ISP, C*c.ISP)
	// Input position (id, ih, iw)·ss of xp's (id, ih, iw).
	ss := [3]int{1, 1, 1}
	if c.sub {
		ss = w.s
	}
	k.l("for id := range %d {", c.xin[0])
	k.l("for ih := range %d {", c.xin[1])
	k.l("do := ((id+%d)*%d + ih + %d) * %d + %d", w.pb[0], c.pd[1], w.pb[1], c.pd[2]*C, w.pb[2]*C)
	k.l("so := (id*%d + ih*%d) * %d", ss[0]*w.in[1], ss[1], w.in[2])
	k.l("for ic := range %d {", C)
	k.l("src := xb[ic*%d+so:][:%d]", c.ISP, (c.xin[2]-1)*ss[2]+1)
	k.l("dst := xp[do+ic:]")
	k.l("for iw := range %d {\ndst[iw*%d] = src[iw*%d]\n}", c.xin[2], C, ss[2])
	k.l("}\n}\n}") // ic ih id
}

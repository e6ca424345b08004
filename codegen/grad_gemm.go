package codegen

import (
	"github.com/dlcompiler/dlc/codegen/kernels"
	"github.com/dlcompiler/dlc/ir"
)

// conv_grad_weight on the Gemm kernel, when the node's schedule names it
// (GradGemmKernel; package train sets it on training steps, see
// UseGemmGrads): per batch element b and group g, dw[m, (c, j)] +=
// Σ_o dy[b, m, o] · x[b, c, o·s + j·d - p] is a product of dy[b]'s rows
// (row-major [M][O] as they are: no packing) by a panel of the input
// gathered for 32 of the (c, j) columns at a time, P[o][col], zero where
// the tap reads padding. The sums accumulate in float32 in the kernel's
// scratch, b then o in order as the interpreter's, and are copied into dw
// at the end. The panel is O·32 floats: the packing is one pass over the
// im2col matrix, not the whole-plane kernel's 32-column row padding that
// the convolution form of this product gets from conv's row schedule.
//
// Without that schedule the emitter keeps the float64 gather form
// (grad.go), which matches the interpreter to the default tolerance
// whatever the sum's length: a float32 sum over B·O products (50176 for
// LeNet-5's first layer at batch 64) drifts from the float64 one by about
// √(B·O) float32 ulps of its terms, more than 1e-5 of a result that
// cancels. Training tolerates that, as PyTorch's own float32 backward
// does; the self-test's contract does not, so the choice is the caller's.

// GradGemmKernel is the registry name of the kernel conv_grad_weight runs
// on when its node's Schedule.Kernel names it.
const GradGemmKernel = "avx512.gemm12x32"

// gradGemm is the kernel conv_grad_weight runs on.
func gradGemm() *kernels.Kernel { return kernels.Lookup(GradGemmKernel) }

// convGradWeightGEMM reports whether n runs on the Gemm kernel.
func convGradWeightGEMM(n *ir.Node) bool {
	kn := gradGemm()
	return n.Schedule != nil && n.Schedule.Kernel == GradGemmKernel && kn != nil && kn.Epilogues&kernels.Accumulate != 0 && kn.NR == 32 &&
		len(n.Inputs[0].Type.Shape) <= 5
}

// UseGemmGrads gives g's conv_grad_weight nodes the Gemm kernel (see
// above): for training steps, after the passes (which may replace
// schedules), before code generation.
func UseGemmGrads(g *ir.Graph) {
	for _, n := range g.Nodes {
		if n.Op != "conv_grad_weight" || n.Out().Type.DType != ir.F32 {
			continue // f64: the scalar form (grad.go)
		}
		if n.Schedule == nil {
			n.Schedule = &ir.Schedule{}
		}
		n.Schedule.Kernel = GradGemmKernel
	}
}

// gradGemmGeom is the layout of the Gemm form: the panel (O·32), the
// accumulator (M rows of the columns rounded up to 32) and, when the
// convolution pads, a zero-bordered copy of one batch element's input
// channels of a group (so the gather needs no bounds tests).
type gradGemmGeom struct {
	wn              win3
	C, M, G, cg, mg int
	IS, OS, KS      int
	NC, NP          int
	padded          bool
	pd              [3]int // padded plane sizes
	PS              int    // padded plane elements
}

func gradGemmGeomOf(n *ir.Node) gradGemmGeom {
	x, dy, kern := n.Inputs[0].Type.Shape, n.Inputs[1].Type.Shape, n.Attrs.Ints("kernel")
	a := n.Attrs
	r := len(kern)
	y := x[:2].Clone()
	st, p, d := a.Ints("strides"), a.Ints("pads"), a.Ints("dilations")
	for i := range r {
		y = append(y, ir.WindowOut(x[2+i], kern[i], st[i], p[i], p[r+i], d[i], a.Bool("ceil_mode")))
	}
	gm := gradGemmGeom{wn: window3(x, y, kern, st, p, d), C: x[1], M: dy[1], G: a.Int("groups")}
	wn := gm.wn
	gm.cg, gm.mg = gm.C/gm.G, gm.M/gm.G
	gm.IS, gm.OS, gm.KS = wn.in[0]*wn.in[1]*wn.in[2], wn.out[0]*wn.out[1]*wn.out[2], wn.k[0]*wn.k[1]*wn.k[2]
	gm.NC = gm.cg * gm.KS
	gm.NP = (gm.NC + 31) / 32 * 32
	gm.PS = 1
	for i := range 3 {
		// The last tap of the last output reads (out-1)·s + (k-1)·d - pb.
		gm.pd[i] = max(wn.in[i]+wn.pb[i], (wn.out[i]-1)*wn.s[i]+(wn.k[i]-1)*wn.d[i]+1)
		gm.padded = gm.padded || gm.pd[i] != wn.in[i] || wn.pb[i] != 0
		gm.PS *= gm.pd[i]
	}
	if !gm.padded {
		gm.pd, gm.PS = wn.in, gm.IS
	}
	return gm
}

func (gm gradGemmGeom) scratch() int {
	s := gm.OS*32 + gm.M*gm.NP
	if gm.padded {
		s += gm.cg * gm.PS
	}
	return s
}

// offsets are the gather offsets of the NC columns (c, tap) from an
// output's first tap in the (padded) planes.
func (gm gradGemmGeom) offsets() []int {
	wn := gm.wn
	offs := make([]int, gm.NC)
	for cj := range offs {
		c, j := cj/gm.KS, cj%gm.KS
		jd, jh, jw := j/(wn.k[1]*wn.k[2]), j/wn.k[2]%wn.k[1], j%wn.k[2]
		offs[cj] = c*gm.PS + (jd*wn.d[0]*gm.pd[1]+jh*wn.d[1])*gm.pd[2] + jw*wn.d[2]
	}
	return offs
}

// convGradWeightScratch is the Gemm form's scratch (gradGemmGeom).
func convGradWeightScratch(n *ir.Node) int {
	if !convGradWeightGEMM(n) {
		return 0
	}
	return gradGemmGeomOf(n).scratch()
}

func emitConvGradWeightAny(k *kctx) error {
	if convGradWeightGEMM(k.n) {
		return emitConvGradWeightGEMM(k)
	}
	return emitConvGradWeight(k)
}

// emitConvGradWeightGEMM: per batch element and group, the padded copy
// of the input channels (when padding), then per panel of 32 columns the
// gather of each output's taps (a constant offset table) into the panel
// row by row, and the product of dy's rows by it into acc.
func emitConvGradWeightGEMM(k *kctx) error {
	kn := gradGemm()
	gm := gradGemmGeomOf(k.n)
	wn := gm.wn
	B := k.inShape(0)[0]
	X, DY, DW, T := k.in[0], k.in[1], k.out[0], k.tmp
	off := gm.OS*32 + gm.M*gm.NP
	k.l("pc, acc := %s[:%d], %s[%d:%d]", T, gm.OS*32, T, gm.OS*32, off)
	k.l("offs := [%d]int{%s}", gm.NC, intList(gm.offsets()))
	k.l("clear(acc)")
	k.l("clear(pc) // the columns past the last (c, tap) stay zero")
	if gm.padded {
		k.l("xp := %s[%d:%d]", T, off, off+gm.cg*gm.PS)
		k.l("clear(xp) // the borders stay zero")
	}
	k.l("for b := range %d {", B)
	k.l("for g := range %d {", gm.G)
	k.l("xg := %s[(b*%d+g*%d)*%d:]", X, gm.C, gm.cg, gm.IS)
	if gm.padded {
		k.l("for c := range %d {\nfor id := range %d {\nfor ih := range %d {", gm.cg, wn.in[0], wn.in[1])
		k.l("so, do := ((c*%d+id)*%d+ih)*%d, ((c*%d+id+%d)*%d+ih+%d)*%d+%d", wn.in[0], wn.in[1], wn.in[2], gm.pd[0], wn.pb[0], gm.pd[1], wn.pb[1], gm.pd[2], wn.pb[2])
		k.l("copy(xp[do:do+%d], xg[so:so+%d])", wn.in[2], wn.in[2])
		k.l("}\n}\n}")
	} else {
		k.l("xp := xg")
	}
	k.l("for p := range %d {", gm.NP/32)
	k.l("po := offs[p*32 : min(p*32+32, %d)]", gm.NC)
	k.l("for od := range %d {\nfor oh := range %d {\nfor ow := range %d {", wn.out[0], wn.out[1], wn.out[2])
	k.l("base := (od*%d*%d+oh*%d)*%d + ow*%d", wn.s[0], gm.pd[1], wn.s[1], gm.pd[2], wn.s[2])
	k.l("dst := pc[((od*%d+oh)*%d+ow)*32:][:len(po)]", wn.out[1], wn.out[2])
	k.l("for col, o := range po {\ndst[col] = xp[base+o]\n}")
	k.l("}\n}\n}")
	k.l("for m0 := 0; m0 < %d; m0 += %d {", gm.mg, kn.MR)
	k.l("r := min(%d, %d-m0)", kn.MR, gm.mg)
	k.l("%s(r, 32, %d, %s[(b*%d+g*%d+m0)*%d:], %d, pc, 32, acc[(g*%d+m0)*%d+p*32:], %d, nil, 8)", kn.Func, gm.OS, DY, gm.M, gm.mg, gm.OS, gm.OS, gm.mg, gm.NP, gm.NP)
	k.l("}\n}\n}\n}")
	k.l("for m := range %d {\ncopy(%s[m*%d:(m+1)*%d], acc[m*%d:])\n}", gm.M, DW, gm.NC, gm.NC, gm.NP)
	return nil
}

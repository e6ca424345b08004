package codegen

import (
	"fmt"
	"strings"

	"github.com/dlcompiler/dlc/codegen/kernels"
	"github.com/dlcompiler/dlc/ir"
)

// Max pooling on a PoolMax kernel of the registry (codegen/kernels/pool.go),
// chosen when a 2-D maxpool's Schedule.Kernel names one (the tiling pass
// does for the windows it has, dilation 1, the same stride on both axes,
// no indices output). Per channel, the input is copied into a plane whose
// border holds −Inf (for stride 2 each row split by column parity, as the
// depthwise kernels read it: conv_dw.go), then the kernel computes the
// whole output plane. −Inf never wins a maximum, so the border stands for
// the taps the interpreter skips (padding, ceil_mode's windows past the
// end); NaN propagates as in the interpreter.

// Average pooling runs the same way on a PoolAvg kernel (poolavg.go),
// the border zero: a zero adds nothing to a window's sum, and the
// kernel divides each sum by its window's count, separable into a count
// of rows and one of columns (the taps inside the input, or inside the
// padded input with count_include_pad) that the emitter computes here
// and writes as two constant tables. A pool fused into an implicit-GEMM
// convolution (conv_igemm.go) runs its planes the same way, block by
// block of channels.

// poolPlane is the padded plane of a pool on a PoolMax or PoolAvg kernel.
type poolPlane struct {
	kn                 *kernels.Kernel
	w                  win3
	NC, ISP, OSP       int
	ld, half, rows     int
	copyRows, copyCols int
	pt, pl             int
	rdiv, cdiv         []float32 // an average's window counts (PoolAvg)
}

// maxPoolPlan returns the plan of a maxpool node whose schedule names a
// PoolMax kernel that fits it, or nil.
func maxPoolPlan(n *ir.Node) *poolPlane {
	kn := kernelOf(n.Schedule)
	if kn == nil || kn.Op != kernels.PoolMax || len(n.Outputs) > 1 {
		return nil
	}
	return planePlan(n, kn)
}

// avgPoolPlan returns the plan of an avgpool node on the PoolAvg kernel
// of its window, or nil: the tiling pass's kernel, or for a float32 pool
// fused into a convolution on a kernel of the registry (fused: the pool
// has no schedule of its own) the registry's.
func avgPoolPlan(n *ir.Node, fused bool) *poolPlane {
	kn := kernelOf(n.Schedule)
	if k := n.Attrs.Ints("kernel"); fused && len(k) == 2 && n.Out().Type.DType == ir.F32 {
		kn = kernels.FindPoolAvg(k[0], k[1], n.Attrs.Ints("strides")[0])
	}
	if kn == nil || kn.Op != kernels.PoolAvg {
		return nil
	}
	p := planePlan(n, kn)
	if p == nil {
		return nil
	}
	include := n.Attrs.Bool("count_include_pad")
	// count is the taps of output o's window along axis i inside the
	// input, or inside the padded input.
	count := func(i, o int) float32 {
		w, c := p.w, 0
		for t := range w.k[i] {
			q := o*w.s[i] - w.pb[i] + t
			if include && q < w.in[i]+w.pe[i] || !include && q >= 0 && q < w.in[i] {
				c++
			}
		}
		return float32(c)
	}
	for o := range p.w.out[1] {
		p.rdiv = append(p.rdiv, count(1, o))
	}
	for o := range kn.AvgPoolCols(p.w.out[2]) {
		p.cdiv = append(p.cdiv, 1)
		if o < p.w.out[2] {
			p.cdiv[o] = count(2, o)
		}
	}
	for _, c := range append(p.rdiv, p.cdiv...) {
		if c == 0 {
			return nil // a window of padding only: the interpreter's 0
		}
	}
	return p
}

// fusedPoolPlan returns the plane plan of a float32 pool fused into a
// convolution on the registry's kernel of its window, or nil.
func fusedPoolPlan(pool *ir.Node) *poolPlane {
	if pool.Op == "avgpool" {
		return avgPoolPlan(pool, true)
	}
	k := pool.Attrs.Ints("kernel")
	if len(k) != 2 || len(pool.Outputs) > 1 || pool.Out().Type.DType != ir.F32 {
		return nil
	}
	if kn := kernels.FindPoolMax(k[0], k[1], pool.Attrs.Ints("strides")[0]); kn != nil {
		return planePlan(pool, kn)
	}
	return nil
}

// planePlan lays out the padded plane of a 2-D pool n on kn, or returns
// nil when kn does not have n's window.
func planePlan(n *ir.Node, kn *kernels.Kernel) *poolPlane {
	x, y := n.Inputs[0].Type.Shape, n.Outputs[0].Type.Shape
	if len(x) != 4 {
		return nil
	}
	a := n.Attrs
	w := window3(x, y, a.Ints("kernel"), a.Ints("strides"), a.Ints("pads"), a.Ints("dilations"))
	S := kn.Stride
	if w.k[1] != kn.Taps[0] || w.k[2] != kn.Taps[1] || w.s[1] != S || w.s[2] != S || w.d[1] != 1 || w.d[2] != 1 {
		return nil
	}
	p := &poolPlane{kn: kn, w: w, NC: x[0] * x[1], ISP: w.in[1] * w.in[2], OSP: w.out[1] * w.out[2]}
	width := kn.DWWidth(w.out[2])
	p.ld = S * width
	if S > 1 {
		p.half = width
	}
	p.rows = (w.out[1]-1)*S + w.k[1]
	p.pt, p.pl = w.pb[1], w.pb[2]
	p.copyRows = max(0, min(w.in[1], p.rows-p.pt))
	p.copyCols = max(0, min(w.in[2], S*width-p.pl))
	return p
}

// scratch is the plane's length in elements, aligned.
func (p *poolPlane) scratch() int { return alignUp(p.rows * p.ld) }

func maxPoolScratch(n *ir.Node) int {
	if p := maxPoolPlan(n); p != nil {
		return p.scratch()
	}
	return 0
}

func avgPoolScratch(n *ir.Node) int {
	if p := avgPoolPlan(n, false); p != nil {
		return p.scratch()
	}
	return 0
}

// emitMaxPool emits a maxpool on its PoolMax kernel, else as emitPool.
func emitMaxPool(k *kctx) error {
	p := maxPoolPlan(k.n)
	if p == nil {
		return emitPool(k, false)
	}
	emitPoolPlanes(k, p, 0, k.in[0], k.out[0], fmt.Sprint(p.NC))
	return nil
}

// emitAvgPool emits an avgpool on its PoolAvg kernel, else as emitPool.
func emitAvgPool(k *kctx) error {
	p := avgPoolPlan(k.n, false)
	if p == nil {
		return emitPool(k, true)
	}
	emitPoolPlanes(k, p, 0, k.in[0], k.out[0], fmt.Sprint(p.NC))
	return nil
}

// emitPoolPlanes pools the NC planes (a constant or an expression) of X
// into Y through p's padded plane at tmp[off:]: the border filled once
// (−Inf for a maximum, zero for an average), the inside per plane.
func emitPoolPlanes(k *kctx, p *poolPlane, off int, X, Y, NC string) {
	IW, OH, OW := p.w.in[2], p.w.out[1], p.w.out[2]
	n := p.rows * p.ld
	avg := p.kn.Op == kernels.PoolAvg
	k.l("pad := (*[%d]float32)(tmp[%d:])", n, off)
	if avg {
		k.l("clear(pad[:]) // the border; each plane fills the inside")
		k.l("rdiv := [%d]float32{%s}", len(p.rdiv), countList(p.rdiv))
		k.l("cdiv := [%d]float32{%s}", len(p.cdiv), countList(p.cdiv))
	} else {
		k.l("for i := range pad {\npad[i] = float32(@math.Inf(-1)) // the border; each channel fills the inside\n}")
	}
	k.l("for nc := range %s {", NC)
	k.l("xc := (*[%d]float32)(%s[nc*%d:])", p.ISP, X, p.ISP)
	if p.copyRows > 0 && p.copyCols > 0 {
		k.l("for ih := range %d {", p.copyRows)
		k.l("src := (*[%d]float32)(xc[ih*%d:])", IW, IW)
		k.l("dst := (*[%d]float32)(pad[(ih+%d)*%d:])", p.ld, p.pt, p.ld)
		if p.kn.Stride == 1 {
			k.l("copy(dst[%d:%d], src[:%d])", p.pl, p.pl+p.copyCols, p.copyCols)
		} else {
			k.l("%s(dst[:], %d, src[:%d], %d)", dwSplitKernel.Func, p.half, p.copyCols, p.pl)
		}
		k.l("}")
	}
	divs := ""
	if avg {
		divs = ", rdiv[:], cdiv[:]"
	}
	k.l("%s(pad[:], %d, %d, %s[nc*%d:(nc+1)*%d], %d, %d%s)", p.kn.Func, p.ld, p.half, Y, p.OSP, p.OSP, OH, OW, divs)
	k.l("}")
}

// countList writes window counts (small integers) as a Go list.
func countList(v []float32) string {
	s := make([]string, len(v))
	for i, f := range v {
		s[i] = fmt.Sprint(f)
	}
	return strings.Join(s, ", ")
}

// meanKernel is the global average pools' kernel (kernels.Mean).
var meanKernel = kernels.Find(kernels.Mean, kernels.AVX512)

// emitMean writes a float32 global average pool of NC planes of SP values
// as one call of the Mean kernel (float64 sums, like the interpreter's,
// in SIMD lanes) and reports whether it did.
func emitMean(k *kctx, NC, SP int) bool {
	if meanKernel == nil || k.n.Out().Type.DType != ir.F32 {
		return false
	}
	k.l("%s(%s[:%d], %d, %s[:%d], %d)", meanKernel.Func, k.in[0], NC*SP, SP, k.out[0], NC, SP)
	return true
}

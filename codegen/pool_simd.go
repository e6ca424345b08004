package codegen

import (
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

// poolPlane is the padded plane of a max pool on a PoolMax kernel.
type poolPlane struct {
	kn                 *kernels.Kernel
	w                  win3
	NC, ISP, OSP       int
	ld, half, rows     int
	copyRows, copyCols int
	pt, pl             int
}

// maxPoolPlan returns the plan of a maxpool node whose schedule names a
// PoolMax kernel that fits it, or nil.
func maxPoolPlan(n *ir.Node) *poolPlane {
	kn := kernelOf(n.Schedule)
	x, y := n.Inputs[0].Type.Shape, n.Outputs[0].Type.Shape
	if kn == nil || kn.Op != kernels.PoolMax || len(x) != 4 || len(n.Outputs) > 1 {
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

func maxPoolScratch(n *ir.Node) int {
	if p := maxPoolPlan(n); p != nil {
		return (p.rows*p.ld + align - 1) / align * align
	}
	return 0
}

// emitMaxPool emits a maxpool on its PoolMax kernel, else as emitPool.
func emitMaxPool(k *kctx) error {
	p := maxPoolPlan(k.n)
	if p == nil {
		return emitPool(k, false)
	}
	X, Y := k.in[0], k.out[0]
	IW, OH, OW := p.w.in[2], p.w.out[1], p.w.out[2]
	n := p.rows * p.ld
	k.l("pad := (*[%d]float32)(tmp[0:])", n)
	k.l("for i := range pad {\npad[i] = float32(@math.Inf(-1)) // the border; each channel fills the inside\n}")
	k.l("for nc := range %d {", p.NC)
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
	k.l("%s(pad[:], %d, %d, %s[nc*%d:(nc+1)*%d], %d, %d)", p.kn.Func, p.ld, p.half, Y, p.OSP, p.OSP, OH, OW)
	k.l("}")
	return nil
}

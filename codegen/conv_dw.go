package codegen

import (
	"github.com/dlcompiler/dlc/codegen/kernels"
	"github.com/dlcompiler/dlc/ir"
)

// Depthwise and grouped convolution on a Depthwise kernel of the registry
// (codegen/kernels/dw.go), chosen when a direct conv's Schedule.Kernel
// names one (the tiling pass does for 2-D windows it has, dilation 1, the
// same stride on both axes).
// Per batch row and input channel, one DWPlane kernel call copies the
// channel into a zero-bordered plane in scratch (for stride 2 each row
// split by column parity, so strided taps are contiguous loads), then the
// depthwise kernel computes the whole output plane of every output
// channel of the group reading that channel: the first input channel
// starts from the bias, the others add to the plane (flags&1), in the
// interpreter's order (bias, input channels, taps). A relu or clip
// epilogue without residual runs in the kernel as a clamp on the last
// input channel; any other epilogue runs in Go over the finished output
// (fused.go).

// dwConv is the resolved plan of a depthwise-kernel convolution.
type dwConv struct {
	kn                 *kernels.Kernel
	w                  win3
	NB, C, OC, G       int
	Cg, OCg            int
	ISP, OSP           int
	ld, half, rows     int // padded plane: row stride, phase offset, rows
	cols               int // padded columns kept (ld: both phases)
	copyRows, copyCols int // input rows and columns inside the kept plane
	pt, pl             int
}

// dwPlan returns the depthwise plan of a conv node whose schedule names a
// Depthwise kernel that fits it, or nil.
func dwPlan(conv *ir.Node) *dwConv {
	kn := kernelOf(conv.Schedule)
	if kn == nil || kn.Op != kernels.Depthwise {
		return nil
	}
	x, wsh, y := conv.Inputs[0].Type.Shape, conv.Inputs[1].Type.Shape, conv.Outputs[0].Type.Shape
	if len(x) != 4 {
		return nil
	}
	a := conv.Attrs
	w := window3(x, y, wsh[2:], a.Ints("strides"), a.Ints("pads"), a.Ints("dilations"))
	if w.k[1] != kn.Taps[0] || w.k[2] != kn.Taps[1] || w.s[1] != kn.Stride || w.s[2] != kn.Stride || w.d[1] != 1 || w.d[2] != 1 {
		return nil
	}
	p := &dwConv{kn: kn, w: w, NB: x[0], C: x[1], OC: y[1], G: a.Int("groups")}
	p.Cg, p.OCg = p.C/p.G, p.OC/p.G
	p.ISP, p.OSP = w.in[1]*w.in[2], w.out[1]*w.out[2]
	S := kn.Stride
	width := kn.DWWidth(w.out[2])
	p.ld, p.cols = S*width, S*width
	if S > 1 {
		p.half = width
	}
	p.rows = (w.out[1]-1)*S + w.k[1]
	p.pt, p.pl = w.pb[1], w.pb[2]
	p.copyRows = max(0, min(w.in[1], p.rows-p.pt))
	p.copyCols = max(0, min(w.in[2], p.cols-p.pl))
	return p
}

// dwSplitKernel splits the rows of a stride-2 plane by column parity.
var dwSplitKernel = kernels.Find(kernels.Split, kernels.AVX2)

// dwPlaneKernel copies a channel into the padded plane (split by column
// parity for stride 2), one call per channel.
var dwPlaneKernel = kernels.Find(kernels.DWPlane, kernels.AVX512)

// scratch is the padded plane's size in elements.
func (p *dwConv) scratch() int { return (p.rows*p.ld + align - 1) / align * align }

// dwClamp returns the bounds of a fused node's activation when the
// depthwise kernel can apply it (relu, clip; no residual to add first).
func dwClamp(n *ir.Node, residual string) (lo, hi float64, ok bool) {
	if residual != "" {
		return 0, 0, false
	}
	return gemmClamp(n)
}

// emit writes the convolution of k (a conv node, output k.out[0]) with
// the padded plane at tmp[off:]; clamp applies [lo, hi] in the kernel.
func (p *dwConv) emit(k *kctx, off int, clamp bool, lo, hi float64) {
	X, W, B, Y := k.in[0], k.in[1], k.in[2], k.out[0]
	S, KK := p.kn.Stride, p.kn.Taps[0]*p.kn.Taps[1]
	IW, OH, OW := p.w.in[2], p.w.out[1], p.w.out[2]
	n := p.rows * p.ld
	k.l("pad := (*[%d]float32)(tmp[%d:])", n, off)
	k.l("*pad = [%d]float32{} // the border stays zero; each channel fills the inside", n)
	k.l("var dwp [3]float32")
	if clamp {
		k.l("dwp[1], dwp[2] = float32(%s), float32(%s)", ir.GoFloat(lo), ir.GoFloat(hi))
	}
	k.l("for b := range %d {", p.NB)
	if glo, ghi := k.span("g", p.G, 1); glo != "0" { // threads.go: this worker's groups
		k.l("for g := %s; g < %s; g++ {", glo, ghi)
	} else {
		k.l("for g := range %d {", p.G)
	}
	k.l("for ic := range %d {", p.Cg)
	k.l("xc := (*[%d]float32)(%s[(b*%d+g*%d+ic)*%d:])", p.ISP, X, p.C, p.Cg, p.ISP)
	if p.copyRows > 0 && p.copyCols > 0 {
		k.l("%s(pad[:], %d, %d, xc[:], %d, %d, %d, %d, %d, %d)", dwPlaneKernel.Func, p.ld, p.half, IW, p.copyRows, p.copyCols, p.pt, p.pl, S)
	}
	k.l("for j := range %d {", p.OCg)
	k.l("oc := g*%d + j", p.OCg)
	if B != "" {
		k.l("dwp[0] = %s[oc]", B)
	}
	flags := "0"
	if p.Cg > 1 {
		k.l("flags := 0")
		k.l("if ic > 0 {\nflags = 1\n}")
		flags = "flags"
		if clamp {
			k.l("if ic == %d {\nflags |= 2\n}", p.Cg-1)
		}
	} else if clamp {
		flags = "2"
	}
	k.l("yc := %s[(b*%d+oc)*%d : (b*%d+oc+1)*%d]", Y, p.OC, p.OSP, p.OC, p.OSP)
	k.l("%s(pad[:], %d, %d, (*[%d]float32)(%s[(oc*%d+ic)*%d:]), yc, %d, %d, &dwp, %s)",
		p.kn.Func, p.ld, p.half, KK, W, p.Cg, KK, OH, OW, flags)
	k.l("}") // j
	k.l("}") // ic
	k.l("}") // g
	k.l("}") // b
}

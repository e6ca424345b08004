package passes

import (
	"github.com/dlcompiler/dlc/codegen/kernels"
	"github.com/dlcompiler/dlc/ir"
)

// igemmKernel is the implicit-GEMM kernel of small convolutions
// (codegen/conv_igemm.go).
var igemmKernel = kernels.Lookup("avx512.igemm12x32")

// Limits of the implicit GEMM: a group's zero-bordered (polyphase) input
// and its virtual output each fit half of L2, so the kernel's reads of
// the one and writes of the other stay in cache across the channel
// blocks; and at most igemmMaxChannels input and output channels per
// group, beyond which the im2col tiles of the Gemm kernel (packed panels,
// k and m blocks) pay for their copies.
const igemmMaxChannels = 64

// igemmSchedule returns the implicit-GEMM schedule of a conv or
// fused_conv, or nil when it is not small enough (above) or is depthwise
// (one input channel per group, or a few channels per group where a
// Depthwise kernel has the window: those kernels).
//
// Measured in bench/ort against im2col/im2row on the same kernel block
// (one core, the machine loaded, same rounds): see bench/README.md,
// "Session 5: small convolutions".
func igemmSchedule(n *ir.Node) *ir.Schedule {
	kn := igemmKernel
	x, w, y := n.Inputs[0].Type.Shape, n.Inputs[1].Type.Shape, n.Out().Type.Shape
	if kn == nil || len(x) < 3 || len(x) > 5 {
		return nil
	}
	groups := n.Attrs.Int("groups")
	cg, ocg := x[1]/groups, w[0]/groups
	if cg == 1 && groups > 1 || cg > igemmMaxChannels || ocg > igemmMaxChannels {
		return nil
	}
	if K := w[1:].NumElems(); groups > 1 && (ocg < minGEMMChannels || K < minGEMMTaps) && dwKernelFor(n) != nil {
		return nil // a few channels per group: the Depthwise kernels
	}
	if n.Op == "fused_conv" && n.Attrs.String("pool") != "" {
		// y is the pooled output; the conv's is what the kernel writes.
		y = convOut(n)
	}
	st, dil := n.Attrs.Ints("strides"), n.Attrs.Ints("dilations")
	r := len(x) - 2
	plane, virt, phases := 1, 0, 1
	for i := range r {
		pd := y[2+i] + (w[2+i]-1)*dil[i]/st[i]
		plane *= pd
		phases *= st[i]
		virt = virt*pd + y[2+i] - 1
	}
	virt++
	if f32Bytes*cg*plane*phases > cacheL2/2 || f32Bytes*ocg*virt > cacheL2/2 {
		return nil
	}
	return &ir.Schedule{Algo: "igemm", Unroll: min(kn.MR, ocg), Kernel: kn.Name, Threads: 1, Tiles: map[string]int{}}
}

// convOut is the shape of the convolution inside a fused_conv that pools,
// before the pool.
func convOut(n *ir.Node) ir.Shape {
	x, w := n.Inputs[0].Type.Shape, n.Inputs[1].Type.Shape
	st, pads, dil := n.Attrs.Ints("strides"), n.Attrs.Ints("pads"), n.Attrs.Ints("dilations")
	r := len(x) - 2
	y := ir.Shape{x[0], w[0]}
	for i := range r {
		span := (w[2+i]-1)*dil[i] + 1
		y = append(y, (x[2+i]+pads[i]+pads[r+i]-span)/st[i]+1)
	}
	return y
}

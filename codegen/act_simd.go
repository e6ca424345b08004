package codegen

import (
	"fmt"
	"math"

	"github.com/dlcompiler/dlc/codegen/kernels"
	"github.com/dlcompiler/dlc/ir"
)

// Activations on the Act kernel (codegen/kernels/act.go): element-wise
// ops (elementwise.go) and the epilogues of fused convolutions and dense
// layers (fused.go, gemm.go) whose activation the kernel has call it over
// whole rows, y = f(x + residual), instead of a scalar loop over the
// op's Go template. The kernel's exp-based functions are approximations
// within the bounds act.go states (a few ulp; gelu within 1.1e-7
// absolute), which the equivalence tests' 1e-5 relative / 1e-6 absolute
// tolerance covers; clip, relu and hardswish are exact or within 2 ulp.

// actKernelFn returns the Act kernel's function and parameters for the
// element-wise op with attributes a, or ok false when it has none.
func actKernelFn(op string, a ir.Attrs) (fn int, p [2]float32, ok bool) {
	f32 := func(v float64) float32 { return float32(v) }
	switch op {
	case "sigmoid":
		return kernels.ActSigmoid, p, true
	case "tanh":
		return kernels.ActTanh, p, true
	case "exp":
		return kernels.ActExp, p, true
	case "relu":
		return kernels.ActClip, [2]float32{0, float32(math.Inf(1))}, true
	case "clip":
		// float32 bounds clamp a float32 like the float64 ones: no
		// float32 lies strictly between a bound and its rounding.
		return kernels.ActClip, [2]float32{f32(a.Float("min")), f32(a.Float("max"))}, true
	case "hardsigmoid":
		return kernels.ActHardSigmoid, [2]float32{f32(a.Float("alpha")), f32(a.Float("beta"))}, true
	case "hardswish":
		return kernels.ActHardSwish, p, true
	case "silu":
		return kernels.ActSiLU, [2]float32{f32(a.Float("alpha")), 0}, true
	case "gelu":
		if a.String("approximate") == "tanh" {
			return kernels.ActGELUTanh, p, true
		}
		return kernels.ActGELU, p, true
	}
	return 0, p, false
}

// actKernel is the registered Act kernel.
var actKernel = kernels.Find(kernels.Act, kernels.AVX512)

// actCall returns the statement y = f(x + b) over slices (b "" for none)
// on the Act kernel, f the op with attributes a, or "" when the kernel
// lacks it.
func actCall(op string, a ir.Attrs, x, b, y string) string {
	fn, p, ok := actKernelFn(op, a)
	if !ok || actKernel == nil {
		return ""
	}
	if b == "" {
		b = "nil"
	}
	return fmt.Sprintf("%sP(%d, [2]float32{%s, %s}, %s, %s, %s) // %s", actKernel.Func, fn,
		goFloat32(p[0]), goFloat32(p[1]), x, b, y, op)
}

// goFloat32 is a float32 constant expression of v.
func goFloat32(v float32) string {
	if math.IsInf(float64(v), 0) {
		return "float32(" + ir.GoFloat(float64(v)) + ")"
	}
	return ir.GoFloat(float64(v))
}

// epilogueCall returns the Act kernel call applying the activation of a
// fused node n to y = f(x + b) over slices, or "" when n has none the
// kernel has.
func epilogueCall(n *ir.Node, x, b, y string) string {
	act := n.Attrs.String("act")
	if act == "" {
		return ""
	}
	sub, err := ir.SubNode(n, act, []*ir.Value{n.Out()})
	if err != nil {
		return ""
	}
	return actCall(act, sub.Attrs, x, b, y)
}

// rowEpilogue returns the Act kernel call that applies what is left of a
// Gemm kernel's epilogue e (an activation, after a residual) to the
// output row y[yo : yo+nv] in place, or "" when a bias is left or the
// kernel lacks the activation.
func rowEpilogue(n *ir.Node, e epi, y string) string {
	if e.act == "" || e.bias != "" {
		return ""
	}
	row := y + "[yo : yo+nv]"
	res := ""
	if e.residual != "" {
		res = e.residual + "[yo : yo+nv]"
	}
	return epilogueCall(n, row, res, row)
}

// softmaxRows emits the softmax of O contiguous rows of A values of X
// into Y (which may be X): per row the max (as the interpreter finds
// it), e^(x − max) on the Act kernel (ActExp with the shift, within the
// bound act.go states), the sum in float64, then the scale by its
// inverse. NaN and ±Inf propagate as in the interpreter: a NaN or a +Inf
// makes the row NaN (Inf − Inf), an all −Inf row is NaN.
func softmaxRows(k *kctx, O, A int, X, Y string) {
	k.l("for o := range %d {", O)
	k.l("xr := %s[o*%d : (o+1)*%d]", X, A, A)
	k.l("yr := %s[o*%d : (o+1)*%d]", Y, A, A)
	k.l("m := xr[0]")
	k.l("for _, v := range xr[1:] {\nif v > m {\nm = v\n}\n}")
	k.l("%sP(%d, [2]float32{-m, 0}, xr, nil, yr) // exp(x - max)", actKernel.Func, kernels.ActExp)
	k.l("var s float64")
	k.l("for _, v := range yr {\ns += float64(v)\n}")
	k.l("inv := float32(1 / s)")
	k.l("for j := range yr {\nyr[j] *= inv\n}")
	k.l("}")
}

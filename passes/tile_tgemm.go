package passes

import "github.com/dlcompiler/dlc/ir"

// The cost model between the transposed GEMM (codegen/conv_tgemm.go:
// output channels along the vector lanes, positions broadcast) and the
// Gemm kernel's usual orientation (im2col, im2row or a 1×1 conv's input
// read in place: positions along the lanes), in multiply-adds:
//
//	usual   OC × ⌈N/NR⌉·NR × K, N the output positions (im2row: the
//	        virtual columns), plus per value its im2col gathers copyMACs
//	        and per value it copies in rows (im2row's zero-bordered
//	        input, im2col panels inside output rows) copyCycles; a 1×1
//	        stride-1 conv without padding copies nothing
//	tgemm   ⌈OC/NR⌉·NR × N × K, plus copyMACs per value of the two
//	        transposes: the input into its zero-bordered NHWC copy and
//	        the output tile back into NCHW
//
// copyMACs is what one scalar copy with a strided load or store costs
// against the kernel's multiply-adds: im2rowWins' gather of 32 values in
// gatherCycles, at 32 multiply-adds a cycle (two 16-lane FMAs); a row
// copy of 32 values takes copyCycles, so copyCycles per value. tgemm is
// chosen when its estimate is below 9/10 of the other's: the model is
// rough and the usual paths are the better measured.
const copyMACs = gatherCycles

// tgemmSchedule returns the transposed-GEMM schedule of a conv or
// fused_conv whose estimated cost is below the usual orientation's, or
// nil. One group, constant weights, no fused pool.
func tgemmSchedule(n *ir.Node) *ir.Schedule {
	kn := gemmKernel
	x, w, y := n.Inputs[0].Type.Shape, n.Inputs[1].Type.Shape, n.Out().Type.Shape
	if kn == nil || len(x) < 3 || len(x) > 5 || n.Attrs.Int("groups") != 1 || w[0] < kn.NR ||
		n.Inputs[1].Kind != ir.Param && n.Inputs[1].Kind != ir.Const {
		return nil
	}
	if n.Op == "fused_conv" && n.Attrs.String("pool") != "" {
		return nil
	}
	C, OC, K := x[1], w[0], w[1:].NumElems()
	N := y[2:].NumElems()
	st, pads := n.Attrs.Ints("strides"), n.Attrs.Ints("pads")
	r := len(x) - 2
	one, unit, padded := w[2:].NumElems() == 1, true, false
	for i := range r {
		unit = unit && st[i] == 1
		padded = padded || pads[i] != 0 || pads[r+i] != 0
	}
	// The transposes: the (sampled, for a strided 1×1) zero-bordered
	// input and the output.
	in := C
	for i := range r {
		if one && !unit && !padded {
			in *= y[2+i]
		} else {
			in *= x[2+i] + pads[i] + pads[r+i]
		}
	}
	roundUp := func(v, m int) int { return (v + m - 1) / m * m }
	tg := roundUp(OC, kn.NR)*N*K + copyMACs*(in+OC*N)
	var usual int
	switch {
	case one && unit && !padded:
		usual = OC * roundUp(N, kn.NR) * K
	case im2rowWins(n, kn.NR):
		nv, grid := rowGrid(x, w, y, st, pads, n.Attrs.Ints("dilations"))
		usual = OC*roundUp(nv, kn.NR)*K + copyCycles*C*grid
	case y[len(y)-1]%kn.NR == 0 && st[r-1] == 1:
		usual = OC*roundUp(N, kn.NR)*K + copyCycles*N*K
	default:
		usual = OC*roundUp(N, kn.NR)*K + copyMACs*N*K
	}
	if 10*tg >= 9*usual {
		return nil
	}
	s := &ir.Schedule{Algo: "tgemm", Unroll: kn.MR, Kernel: kn.Name, Threads: 1,
		WeightLayout: tgemmLayoutName(kn.NR), Tiles: map[string]int{}}
	if C > tgemmKC*3/2 {
		// Passes of about tgemmKC input channels, of equal length: a
		// tap's slice of a weight panel, KC×NR, stays in L1 while the
		// positions' blocks read it.
		passes := (C + tgemmKC - 1) / tgemmKC
		s.Tiles["k"] = (C + passes - 1) / passes
	}
	return s
}

// tgemmLayoutName is codegen's weight layout of tgemm for a Gemm kernel
// of nr columns (codegen/conv_tgemm.go: tgemmLayout).
func tgemmLayoutName(nr int) string { return "tpanel" + itoa(nr) }

// rowGrid returns im2row's virtual columns and the values per channel of
// its zero-bordered copy (all phase planes), as im2rowWins computes them.
func rowGrid(x, w, y ir.Shape, st, pads, dil []int) (nv, grid int) {
	r := len(x) - 2
	g := make([]int, r)
	grid = 1
	for i := range r {
		g[i] = max(x[2+i]+pads[i]+pads[r+i], (y[2+i]-1)*st[i]+(w[2+i]-1)*dil[i]+1)
		g[i] = (g[i] + st[i] - 1) / st[i]
		grid *= g[i] * st[i]
	}
	stride := 1
	for i := r - 1; i >= 0; i-- {
		nv += (y[2+i] - 1) * stride
		stride *= g[i]
	}
	return nv + 1, grid
}

// tgemmKC is the input channels per pass of a tgemm conv (Tiles["k"]):
// a tap's KC×NR slice of a weight panel, 32 KiB, stays in L1.
const tgemmKC = 256

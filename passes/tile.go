package passes

import (
	"github.com/dlcompiler/dlc/codegen/kernels"
	"github.com/dlcompiler/dlc/ir"
)

// The cache model of the tiling pass. It is fixed rather than read from
// the machine so that the compiled output is the same everywhere: AMD
// Zen 5's per-core 48 KiB L1 data cache and 1 MiB L2 (Intel's recent
// cores have the same 48 KiB and 1–2 MiB). Tile sizes are chosen so a
// kernel's working set fits half of a level, leaving room for the other
// operands and the output.
const (
	cacheL1  = 48 << 10 // bytes of L1 data cache
	cacheL2  = 1 << 20  // bytes of L2 cache
	f32Bytes = 4        // bytes per element
)

// The cache blocks of a dense layer on gemmKernel (bench -gemm -cpu,
// session 6, each against the others in one process): KC, the whole of
// k up to denseKMax — a block of 12 rows of x then holds at most 48 KiB
// (L1; from L2 once it is not) and no pass reads back the partial sums
// of y, 2-6% faster than passes of 256 at 384³-1024³ — else balanced
// passes of at most denseKC; NC, whole panels whose KC×NC weights fill
// at most half of L2, balanced too (16 panels of 10 run as 8 and 8).
const (
	denseKMax = cacheL1 / (12 * f32Bytes)
	denseKC   = 512
)

// Register blocks. Generated kernels are pure Go, whose register
// allocator spills the accumulators of square blocks (4×4 runs at a third
// of the speed of 4×1 on amd64), so the micro-kernel is tall and thin:
// gemmRows output channels (or dense rows) × gemmCols positions.
const (
	gemmRows = 4
	gemmCols = 1
)

// SIMD. Generated packages carry micro-kernels from codegen/kernels'
// registry (AVX-512 or AVX2/FMA assembly chosen at init by CPUID, with a
// pure-Go twin); a schedule names one in Kernel, and the tiles below are sized
// from its register block. The choice does not depend on the compiling
// machine: every package is the same everywhere.
//
//	im2col conv: gemmKernel, an MR × NR register block, k innermost over
//	             a packed panel of NR columns; a fused pool's window must
//	             divide NR or be a multiple of it (Kernel.PoolOK).
//	dense:       dotKernel, dot products of up to MR weight rows at once
//	             over the whole of k (no k tiles: the partial sums stay
//	             in registers).
var (
	gemmKernel = kernels.Lookup("avx512.gemm12x32")
	dotKernel  = kernels.Lookup("avx2.dot4")
)

const (
	// minSIMDChannels is the fewest output channels per group for the
	// SIMD im2col kernel (below, direct loops: packing would cost more
	// than the product saves); minSIMDDense the shortest dot product.
	minSIMDChannels = 4
	minSIMDDense    = 16
	// minGEMMRows is the fewest rows (batch × positions) for which a
	// dense layer runs as a matrix product on gemmKernel; one row runs as
	// dot products over the weights as stored.
	minGEMMRows = 2
)

// tile chooses, for every conv, fused_conv, dense, fused_dense and matmul,
// how code generation arranges its loops, and records it in n.Schedule
// (printed by ir.Print; overridable per layer with dlc compile --tile):
//
//	conv   an implicit GEMM (Algo "igemm", Kernel igemmKernel: no im2col
//	       buffer) when a group's input and output are small
//	       (tile_igemm.go); else a transposed GEMM (Algo "tgemm",
//	       Kernel gemmKernel with output channels along its lanes,
//	       WeightLayout its panels; tile_tgemm.go) when the positions
//	       are few and its cost model's estimate wins; else
//	       SIMD im2col (Kernel gemmKernel) when a group has at least
//	       minSIMDChannels output channels, K ≥ minGEMMTaps and a fused
//	       pool fits the kernel's panels: Unroll = its MR rows, tiles as
//	       below in whole panels. Otherwise, scalar:
//	       Algo "im2col" (a matrix product over an im2col buffer) when
//	       each output channel sums at least minGEMMTaps products and a
//	       group has at least minGEMMChannels output channels (building
//	       the buffer costs about 1/OCg of the product); else "direct"
//	       (depthwise, narrow layers). im2col: Unroll × Vector is the register
//	       block (output channels × positions), Tiles["n"] the columns per
//	       im2col tile (K×n values in ½ L2), Tiles["m"] the output
//	       channels whose weight rows stay in ¼ L2 while the tile's
//	       columns stream past. direct: Unroll output channels share
//	       each input load, Tiles["oh"] keeps their output rows in ½ L1.
//	dense  with at least minGEMMRows rows, constant weights, K ≥
//	       minSIMDDense and N ≥ minSIMDChannels: Kernel gemmKernel over
//	       the weights pre-packed at compile time (WeightLayout, the
//	       kernel's panels); Tiles["k"] = KC: a KC×NR weight panel the
//	       size of L1 (MR×KC of x stays in L1 while the block's panels
//	       stream past from L2; measured best of 128, 256, 384 at
//	       256³–1024³), Tiles["n"] = NC: KC×NC weights in ½ L2. Else Kernel
//	       dotKernel (SIMD dot products, no k tiles) when K ≥ minSIMDDense;
//	       else Unroll weight rows per register block; Tiles["k"] splits
//	       the dot products when Unroll+1 rows of K overflow ½ L1.
//	matmul Kernel gemmKernel over the right operand as stored (k-major)
//	       when its rows are whole NR-column blocks, the left operand a
//	       matrix and K ≥ minSIMDDense; else Tiles["k"] and ["n"] keep a
//	       block of the right operand in ½ L2.
//	rnn, lstm, gru (without peepholes)
//	       Kernel gemvKernel with its weights transposed at compile time
//	       (WeightLayout) when every gate block the emitter multiplies is
//	       whole vectors (lstm: H even; rnn, gru: H a multiple of 8), else
//	       dotKernel over the weights as stored; the gates on the Act
//	       kernel (codegen/rnn_simd.go).
//
// Every schedule runs on one worker (Threads 1; with -threads, threads
// in threads.go splits the large ones) and, but for dense layers on
// gemmKernel, reads the weights as stored (WeightLayout "").
// f64 conv, dense and maxpool get no schedule: codegen writes them as
// plain scalar loops (codegen/layers64.go) that no kernel, tile or
// weight layout applies to.
//
// A schedule never changes which terms are summed, only their order.
func tile(g *ir.Graph) error {
	for _, n := range g.Nodes {
		if (n.Op == "conv" || n.Op == "dense" || n.Op == "maxpool") && n.Out().Type.DType != ir.F32 {
			continue // f64 layers are plain scalar loops (codegen/layers64.go): no schedule
		}
		switch n.Op {
		case "conv", "fused_conv":
			n.Schedule = convSchedule(n)
		case "dense", "fused_dense":
			n.Schedule = denseSchedule(n)
		case "matmul":
			n.Schedule = matmulSchedule(n)
		case "maxpool":
			n.Schedule = maxPoolSchedule(n)
		case "avgpool":
			n.Schedule = avgPoolSchedule(n) // tile_pool.go
		case "rnn", "lstm", "gru":
			// f32 only: an f64 layer runs codegen's scalar float64 loops.
			if !ir.RNNPeepholes(n) && n.Inputs[0].Type.DType == ir.F32 {
				n.Schedule = rnnSchedule(n)
			}
		}
	}
	return nil
}

// gemvKernel is the recurrent layers' vector-matrix kernel.
var gemvKernel = kernels.Lookup("avx2.gemv64")

func rnnSchedule(n *ir.Node) *ir.Schedule {
	H := n.Attrs.Int("hidden_size")
	whole := H%8 == 0 || n.Op == "lstm" && H%2 == 0
	if kn := gemvKernel; whole {
		return &ir.Schedule{Kernel: kn.Name, WeightLayout: kn.WeightLayout, Threads: 1, Tiles: map[string]int{}}
	}
	return &ir.Schedule{Kernel: dotKernel.Name, Threads: 1, Tiles: map[string]int{}}
}

// The cost model between im2col and im2row (codegen/conv_rows.go) for a
// stride-1 SIMD convolution, in cycles per tap and panel of NR columns,
// against the product's OCg (one FMA cycle per output channel: two
// 16-lane FMAs per cycle over a 32-column panel):
//
//	im2col  gatherCycles per panel that spans output rows (scattered loads
//	        and stores); a panel inside one row is one copy
//	im2row  copyCycles per panel, plus the product over the virtual
//	        columns that are not outputs: (NV − N)/N of it
//
// Estimates from the loops' instructions (a 32-value gather is 32 loads
// and 32 stores with their index arithmetic; a copy is eight 16-byte
// moves), checked against bench/ort's vgg_bn and resnet18 layers.
const (
	gatherCycles = 40
	copyCycles   = 8
)

// im2rowWins reports whether a SIMD conv (no pool) runs faster as im2row
// than as im2col on a Gemm kernel of nr columns.
func im2rowWins(n *ir.Node, nr int) bool {
	x, w, y := n.Inputs[0].Type.Shape, n.Inputs[1].Type.Shape, n.Out().Type.Shape
	st, pads, dil := n.Attrs.Ints("strides"), n.Attrs.Ints("pads"), n.Attrs.Ints("dilations")
	r := len(x) - 2
	for i, s := range st {
		if s != 1 && (s != 2 || dil[i] != 1) {
			return false // strides 1, or 2 without dilation (phase planes)
		}
	}
	padded := false
	for _, p := range pads {
		padded = padded || p != 0
	}
	if w[2:].NumElems() == 1 && !padded {
		return false // 1×1 without padding: the input itself is the panel
	}
	// The zero-bordered grid, as codegen's padDims (per phase plane:
	// divided by the stride, rowGrid).
	grid := make([]int, r)
	for i := range r {
		grid[i] = max(x[2+i]+pads[i]+pads[r+i], (y[2+i]-1)*st[i]+(w[2+i]-1)*dil[i]+1)
		grid[i] = (grid[i] + st[i] - 1) / st[i]
	}
	N := y[2:].NumElems()
	nv, stride := 0, 1
	for i := r - 1; i >= 0; i-- {
		nv += (y[2+i] - 1) * stride
		stride *= grid[i]
	}
	nv++
	ocg := float64(w[0] / n.Attrs.Int("groups"))
	// Panels of plain im2col that span output rows.
	ow := y[len(y)-1]
	spans := min(1, float64(nr)/float64(ow))
	if ow%nr == 0 {
		spans = 0
	}
	if st[r-1] != 1 {
		spans = 1 // strided columns: every panel gathers
	}
	rows := float64(nv-N)/float64(N) + copyCycles/ocg
	return rows < spans*gatherCycles/ocg
}

// The passes of a SIMD convolution with a long reduction, as a dense
// layer's (denseKMax, denseKC): one pass up to 1024 terms (12 weight rows
// in L1, no partial sums read back), else balanced passes of at most 512
// (ResNet-18 at batch 1, session 6: 5% faster than passes of about 256),
// and at most convPanels bytes of im2col panels per tile (written once,
// then read one pass at a time from L2/L3).
const convPanels = 4 << 20

// minGEMMTaps is the smallest reduction length (input channels per group
// × kernel taps) worth building an im2col buffer for.
const minGEMMTaps = 16

// minGEMMChannels is the fewest output channels per group for im2col.
const minGEMMChannels = 8

func convSchedule(n *ir.Node) *ir.Schedule {
	x, w, y := n.Inputs[0].Type.Shape, n.Inputs[1].Type.Shape, n.Out().Type.Shape
	groups := n.Attrs.Int("groups")
	ocg := w[0] / groups
	K := w[1:].NumElems()
	// im2col: N columns (output positions, or pool windows × taps).
	N := y[2:].NumElems()
	P := 0
	if n.Op == "fused_conv" && n.Attrs.String("pool") != "" {
		P = ir.Shape(n.Attrs.Ints("pool_kernel")).NumElems()
		N = y[2:].NumElems() * P // y is the pooled output here
	}
	if s := igemmSchedule(n); s != nil {
		return s // small: an implicit GEMM (tile_igemm.go)
	}
	if s := tgemmSchedule(n); s != nil {
		return s // few positions: a transposed GEMM (tile_tgemm.go)
	}
	if kn := gemmKernel; ocg >= minSIMDChannels && K >= minGEMMTaps && (P == 0 || kn.PoolOK(P)) {
		unit := kn.NR
		if P > 0 {
			unit = max(P, kn.NR)
		}
		s := &ir.Schedule{Algo: "im2col", Unroll: min(kn.MR, ocg), Kernel: kn.Name, Threads: 1,
			WeightLayout: kn.WeightLayout, Tiles: map[string]int{}}
		if P == 0 && im2rowWins(n, kn.NR) {
			s.Algo = "im2row"
		}
		kc := K
		if P == 0 && K > denseKMax {
			// Passes of equal length (codegen/gemm_tile.go): a tile
			// of columns as wide as its pass fits ½ L2, so the weights
			// are read once per tile, not once per panel; the tile's
			// panels (K × n) within convPanels.
			kc = balanced(K, denseKC, 16)
			s.Tiles["k"] = kc
		}
		if t := min(cacheL2/2/(f32Bytes*kc), convPanels/(f32Bytes*K)); t < N {
			s.Tiles["n"] = max(unit, t/unit*unit)
		}
		if t := cacheL2 / 4 / (f32Bytes * kc); t < ocg {
			s.Tiles["m"] = max(s.Unroll, t/s.Unroll*s.Unroll)
		}
		return s
	}
	if ocg < minGEMMChannels || K < minGEMMTaps {
		// Direct: Unroll output channels; rows of the output tile in ½ L1.
		ow := x[len(x)-1]
		if len(y) >= 3 {
			ow = y[len(y)-1]
		}
		r := min(gemmRows, ocg)
		s := &ir.Schedule{Algo: "direct", Unroll: r, Threads: 1, Tiles: map[string]int{}}
		if kn := dwKernelFor(n); kn != nil {
			s.Kernel, s.Unroll = kn.Name, 1
			return s
		}
		if len(y) >= 4 {
			oh := y[len(y)-2]
			if t := cacheL1 / 2 / (f32Bytes * r * ow); t < oh {
				s.Tiles["oh"] = max(1, t)
			}
		}
		return s
	}
	unit := gemmCols
	if P > 0 {
		unit = P
	}
	s := &ir.Schedule{Algo: "im2col", Unroll: min(gemmRows, ocg), Vector: gemmCols, Threads: 1, Tiles: map[string]int{}}
	if t := cacheL2 / 2 / (f32Bytes * K); t < N {
		s.Tiles["n"] = max(unit, t/unit*unit)
	}
	if t := cacheL2 / 4 / (f32Bytes * K); t < ocg {
		s.Tiles["m"] = max(s.Unroll, t/s.Unroll*s.Unroll)
	}
	return s
}

// maxPoolSchedule names the PoolMax kernel of a 2-D max pool without
// indices whose window it has (dilation 1, one stride), else nil.
func maxPoolSchedule(n *ir.Node) *ir.Schedule {
	k, st, d := n.Attrs.Ints("kernel"), n.Attrs.Ints("strides"), n.Attrs.Ints("dilations")
	if len(k) != 2 || len(n.Outputs) > 1 || st[0] != st[1] || d[0] != 1 || d[1] != 1 {
		return nil
	}
	if kn := kernels.FindPoolMax(k[0], k[1], st[0]); kn != nil {
		return &ir.Schedule{Kernel: kn.Name, Threads: 1, Tiles: map[string]int{}}
	}
	return nil
}

// dwKernelFor returns the Depthwise kernel for a direct 2-D conv whose
// window it has, with dilation 1 and the same stride on both axes, or nil.
func dwKernelFor(n *ir.Node) *kernels.Kernel {
	w := n.Inputs[1].Type.Shape
	st, d := n.Attrs.Ints("strides"), n.Attrs.Ints("dilations")
	if len(w) != 4 || st[0] != st[1] || d[0] != 1 || d[1] != 1 {
		return nil
	}
	return kernels.FindDepthwise(w[2], w[3], st[0])
}

// balanced splits n into the fewest blocks of at most most, of equal
// size rounded up to a multiple of unit.
func balanced(n, most, unit int) int {
	blocks := (n + most - 1) / most
	b := (n + blocks - 1) / blocks
	return (b + unit - 1) / unit * unit
}

func denseSchedule(n *ir.Node) *ir.Schedule {
	w := n.Inputs[1].Type.Shape
	N, K := w[0], w[1]
	M := n.Inputs[0].Type.Shape.NumElems() / max(K, 1)
	r := min(gemmRows, N)
	if kn := gemmKernel; M >= minGEMMRows && K >= minSIMDDense && N >= minSIMDChannels &&
		(n.Inputs[1].Kind == ir.Param || n.Inputs[1].Kind == ir.Const) {
		// A matrix product over the weights pre-packed in panels.
		s := &ir.Schedule{Unroll: min(kn.MR, M), Kernel: kn.Name, Threads: 1,
			WeightLayout: kn.PanelLayout(), Tiles: map[string]int{}}
		kc := K
		if K > denseKMax {
			kc = balanced(K, denseKC, 16)
			s.Tiles["k"] = kc
		}
		np := (N + kn.NR - 1) / kn.NR
		if nc := max(1, cacheL2/2/(f32Bytes*kc*kn.NR)); nc < np {
			s.Tiles["n"] = balanced(np, nc, 1) * kn.NR
		}
		return s
	}
	if K >= minSIMDDense {
		return &ir.Schedule{Unroll: min(dotKernel.MR, N), Kernel: dotKernel.Name, Threads: 1,
			WeightLayout: dotKernel.WeightLayout, Tiles: map[string]int{}}
	}
	s := &ir.Schedule{Unroll: r, Threads: 1, Tiles: map[string]int{}}
	if (r+1)*K*f32Bytes > cacheL1/2 {
		s.Tiles["k"] = cacheL1 / 2 / ((r + 1) * f32Bytes)
	}
	return s
}

func matmulSchedule(n *ir.Node) *ir.Schedule {
	b := n.Inputs[1].Type.Shape
	if len(b) < 2 {
		return &ir.Schedule{Threads: 1, Tiles: map[string]int{}}
	}
	K, N := b[len(b)-2], b[len(b)-1]
	if kn := gemmKernel; n.Out().Type.DType == ir.F32 && N%kn.NR == 0 && len(n.Inputs[0].Type.Shape) >= 2 && K >= minSIMDDense {
		return &ir.Schedule{Kernel: kn.Name, Threads: 1, Tiles: map[string]int{}}
	}
	s := &ir.Schedule{Unroll: 1, Threads: 1, Tiles: map[string]int{}}
	if K*N*f32Bytes > cacheL2/2 {
		// Rows of a k×n block of b reused across every row of a.
		tn := min(N, cacheL1/2/f32Bytes)
		s.Tiles["n"] = tn
		s.Tiles["k"] = max(1, cacheL2/2/(f32Bytes*tn))
	}
	return s
}

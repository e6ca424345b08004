package passes

import (
	"github.com/dlcompiler/dlc/ir"
)

// The cache model of the tiling pass. It is fixed rather than read from
// the machine so that the compiled output is the same everywhere; these
// are typical of current x86-64 and arm64 cores (per-core L1 data cache
// and L2). Tile sizes are chosen so a kernel's working set fits half of a
// level, leaving room for the other operands and the output.
const (
	cacheL1  = 32 << 10  // bytes of L1 data cache
	cacheL2  = 512 << 10 // bytes of L2 cache
	f32Bytes = 4         // bytes per element
)

// Register blocks. Generated kernels are pure Go, whose register
// allocator spills the accumulators of square blocks (4×4 runs at a third
// of the speed of 4×1 on amd64), so the micro-kernel is tall and thin:
// gemmRows output channels (or dense rows) × gemmCols positions.
const (
	gemmRows = 4
	gemmCols = 1
)

// SIMD. Generated packages carry fixed AVX2/FMA micro-kernels (codegen's
// simd.go), chosen at init by CPUID, with a pure-Go fallback; a schedule
// asks for them with Vector = simdVector. The choice does not depend on
// the compiling machine: every package is the same everywhere.
//
//	im2col conv: a simdRows × 16 register block (12 ymm accumulators),
//	             k innermost over a packed panel of 16 columns; a fused
//	             pool's window must divide 16 or be a multiple of it.
//	dense:       dot products of up to 4 weight rows at once over the
//	             whole of k (no k tiles: the partial sums stay in
//	             registers).
const (
	simdVector = 8
	simdRows   = 6
	simdCols   = 16
	// minSIMDChannels is the fewest output channels per group for the
	// SIMD im2col kernel (below, direct loops: packing would cost more
	// than the product saves); minSIMDDense the shortest dot product.
	minSIMDChannels = 4
	minSIMDDense    = 16
)

// simdPool reports whether the SIMD kernel can fuse a pool of p taps.
func simdPool(p int) bool { return p > 0 && (simdCols%p == 0 || p%simdCols == 0) }

// tile chooses, for every conv, fused_conv, dense, fused_dense and matmul,
// how code generation arranges its loops, and records it in n.Schedule
// (printed by ir.Print; overridable per layer with dlc compile --tile):
//
//	conv   SIMD im2col (Vector 8, see simdVector) when a group has at
//	       least minSIMDChannels output channels, K ≥ minGEMMTaps and a
//	       fused pool fits the 16-column panels: Unroll = 6 rows, tiles
//	       as below in whole panels. Otherwise, scalar:
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
//	dense  Vector 8 (SIMD dot products, no k tiles) when K ≥ minSIMDDense;
//	       else Unroll weight rows per register block; Tiles["k"] splits
//	       the dot products when Unroll+1 rows of K overflow ½ L1.
//	matmul Tiles["k"] and ["n"] keep a block of the right operand in ½ L2.
//
// A schedule never changes which terms are summed, only their order.
func tile(g *ir.Graph) error {
	for _, n := range g.Nodes {
		switch n.Op {
		case "conv", "fused_conv":
			n.Schedule = convSchedule(n)
		case "dense", "fused_dense":
			n.Schedule = denseSchedule(n)
		case "matmul":
			n.Schedule = matmulSchedule(n)
		}
	}
	return nil
}

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
	if ocg >= minSIMDChannels && K >= minGEMMTaps && (P == 0 || simdPool(P)) {
		unit := simdCols
		if P > 0 {
			unit = max(P, simdCols)
		}
		s := &ir.Schedule{Algo: "im2col", Unroll: min(simdRows, ocg), Vector: simdVector, Tiles: map[string]int{}}
		if t := cacheL2 / 2 / (f32Bytes * K); t < N {
			s.Tiles["n"] = max(unit, t/unit*unit)
		}
		if t := cacheL2 / 4 / (f32Bytes * K); t < ocg {
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
		s := &ir.Schedule{Algo: "direct", Unroll: r, Tiles: map[string]int{}}
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
	s := &ir.Schedule{Algo: "im2col", Unroll: min(gemmRows, ocg), Vector: gemmCols, Tiles: map[string]int{}}
	if t := cacheL2 / 2 / (f32Bytes * K); t < N {
		s.Tiles["n"] = max(unit, t/unit*unit)
	}
	if t := cacheL2 / 4 / (f32Bytes * K); t < ocg {
		s.Tiles["m"] = max(s.Unroll, t/s.Unroll*s.Unroll)
	}
	return s
}

func denseSchedule(n *ir.Node) *ir.Schedule {
	w := n.Inputs[1].Type.Shape
	N, K := w[0], w[1]
	r := min(gemmRows, N)
	if K >= minSIMDDense {
		return &ir.Schedule{Unroll: r, Vector: simdVector, Tiles: map[string]int{}}
	}
	s := &ir.Schedule{Unroll: r, Tiles: map[string]int{}}
	if (r+1)*K*f32Bytes > cacheL1/2 {
		s.Tiles["k"] = cacheL1 / 2 / ((r + 1) * f32Bytes)
	}
	return s
}

func matmulSchedule(n *ir.Node) *ir.Schedule {
	b := n.Inputs[1].Type.Shape
	if len(b) < 2 {
		return &ir.Schedule{Tiles: map[string]int{}}
	}
	K, N := b[len(b)-2], b[len(b)-1]
	s := &ir.Schedule{Unroll: 1, Tiles: map[string]int{}}
	if K*N*f32Bytes > cacheL2/2 {
		// Rows of a k×n block of b reused across every row of a.
		tn := min(N, cacheL1/2/f32Bytes)
		s.Tiles["n"] = tn
		s.Tiles["k"] = max(1, cacheL2/2/(f32Bytes*tn))
	}
	return s
}

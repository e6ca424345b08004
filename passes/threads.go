package passes

import (
	"github.com/dlcompiler/dlc/codegen/kernels"
	"github.com/dlcompiler/dlc/ir"
)

// minParallelMACs is the least work (multiply-adds) of a kernel split
// across threads. A split costs a wake-up: a channel send to a parked
// worker, its futex wake, and the join, a few microseconds, and the
// worker starts with cold caches. Measured with single dense layers at
// batch 64 (M=64, N=K), -threads 2 against 1 (--tile fc:threads=2),
// 7 interleaved rounds of BenchmarkRun, medians, on a machine loaded
// by other jobs (load average 20-25 on 2 cores, so noisy):
//
//	N=K=32   65K MACs  9.6 µs → 16.2 µs  0.60× (one panel: all the work on
//	                                        one part, so this is the cost
//	                                        of the wake-up, 2-6 µs)
//	N=K=64  262K MACs  31.9 → 28.6 µs    1.12×
//	N=K=96  590K MACs  61.5 → 50.7 µs    1.21×
//	N=K=128   1M MACs  112 → 115 µs      0.97× (its one-thread rounds
//	                                        ranged 72-226 µs: the load)
//	N=K=256   4M MACs  537 → 357 µs      1.51×
//
// That table put the break-even near half a million multiply-adds, but
// whole networks on the idle benchmark VM (bench/README.md, "After
// session 4": -threads 2 against 1, same rounds) lost with it:
// resnet_small 309 → 455 µs over its four split convolutions (0.59–1.18M
// MACs each), vgg_bn 814 → 985 µs over four (0.78–4.1M), while
// resnet18 (layers of 50–230M MACs) gained 1.44× and mlp64 (12.8M) 1.35×.
// Waking a parked worker there costs some 35–45 µs per split (the idle
// second vCPU must be woken by the hypervisor), not a few: a split saves
// macs/(2·rate) against that, so at the kernels' 20–50 GMAC/s it pays
// from about 2–4M multiply-adds. The threshold is the upper end, so that
// no model gets slower with -threads 2 than with 1.
const minParallelMACs = 1 << 22

// tileOpt is the tiling pass with its options: tile, then threads.
func tileOpt(g *ir.Graph, opt Options) error {
	if err := tile(g); err != nil {
		return err
	}
	threads(g, opt.Threads)
	return nil
}

// threads sets Schedule.Threads (at most max) on the kernels that code
// generation can split along an output dimension and whose work pays for
// waking the workers (minParallelMACs): each worker then gets at least
// one whole unit of that dimension, the unit the emitter splits by
//
//	im2col conv     output positions, whole panels of the kernel's NR
//	                columns (or pool windows); when those are few,
//	                output channels, whole register blocks
//	direct conv     output channels, whole register blocks (Unroll)
//	tgemm conv      output channels, whole panels of the kernel's NR
//	depthwise conv  groups (channels)
//	dense on GEMM   output features, whole panels of NR
//	matmul on GEMM  rows of the left operand, whole blocks of MR
//
// Other kernels (dense as dot products at batch 1, recurrent layers,
// element-wise ops) keep one thread. Splitting never splits a sum, so
// results are bit-identical whatever the number of threads.
func threads(g *ir.Graph, max int) {
	if max <= 1 {
		return
	}
	for _, n := range g.Nodes {
		s := n.Schedule
		if s == nil {
			continue
		}
		units, macs := splitUnits(n)
		if units >= 2 && macs >= minParallelMACs {
			s.Threads = min(max, units)
		}
	}
}

// splitUnits returns how many units a node's kernel can be split into
// (see threads) and its multiply-adds.
func splitUnits(n *ir.Node) (units, macs int) {
	s := n.Schedule
	switch n.Op {
	case "conv", "fused_conv":
		w, y := n.Inputs[1].Type.Shape, n.Out().Type.Shape
		K := w[1:].NumElems()
		pos := y[2:].NumElems() // output (pooled) positions
		P := 1
		if n.Op == "fused_conv" && n.Attrs.String("pool") != "" {
			P = ir.Shape(n.Attrs.Ints("pool_kernel")).NumElems()
		}
		macs = y[0] * w[0] * pos * P * K
		switch kn := kernels.Lookup(s.Kernel); {
		case s.Algo == "im2col":
			// Columns or, when they are fewer, output channels (codegen's
			// convSplitM).
			unit := max(s.Vector, 1)
			if kn != nil && kn.Op == kernels.Gemm {
				unit = kn.NR
			}
			ocg := w[0] / n.Attrs.Int("groups")
			return max(ceilDiv(pos*P, max(unit, P)), ceilDiv(ocg, max(s.Unroll, 1))), macs
		case s.Algo == "tgemm" && kn != nil:
			return ceilDiv(w[0], kn.NR), macs // panels of output channels
		case kn != nil && kn.Op == kernels.Depthwise:
			return n.Attrs.Int("groups"), macs
		default:
			return ceilDiv(w[0]/n.Attrs.Int("groups"), max(s.Unroll, 1)), macs
		}
	case "dense", "fused_dense":
		w := n.Inputs[1].Type.Shape
		N, K := w[0], w[1]
		M := n.Inputs[0].Type.Shape.NumElems() / max(K, 1)
		if kn := kernels.Lookup(s.Kernel); kn != nil && kn.Op == kernels.Gemm {
			return ceilDiv(N, kn.NR), M * N * K
		}
	case "matmul":
		a, y := n.Inputs[0].Type.Shape, n.Out().Type.Shape
		if kn := kernels.Lookup(s.Kernel); kn != nil && kn.Op == kernels.Gemm && len(a) >= 2 {
			M, K := a[len(a)-2], a[len(a)-1]
			return ceilDiv(M, kn.MR), y.NumElems() * K
		}
	}
	return 1, 0
}

func ceilDiv(a, b int) int { return (a + b - 1) / max(b, 1) }

package codegen

import (
	"strings"

	"github.com/dlcompiler/dlc/codegen/kernels"
	"github.com/dlcompiler/dlc/ir"
)

// Weights stored in another layout than the graph's, chosen by a node's
// Schedule.WeightLayout and done once here, at compile time: weights.bin
// holds the packed data and the node's emitter reads it so. A parameter
// that another node also reads, or that is a graph output, keeps the
// graph's layout, and the emitter, not finding it in plan.laidOut, reads
// it as stored.
//
//	rnn-wT  the W_ih and W_hh of rnn, lstm and gru, [rows][K] transposed
//	        to k-major panels of 64 rows (rnnPanels), so the Gemv kernel
//	        reads a step's W_hh·h as 8 columns per vector from one
//	        contiguous block per call (codegen/rnn_simd.go).
//	panelNR the weights [N][K] of dense and fused_dense on a Gemm kernel
//	        of NR columns, in ⌈N/NR⌉ panels of K×NR (kernels.PackPanels,
//	        zero-padded past row N): the kernel's b, so dense at batch > 1
//	        is a GEMM with no packing at run time (codegen/linear.go).
//	tpanelNR the weights [OC][C][taps…] of a conv on the transposed GEMM
//	        (conv_tgemm.go): panels of NR output channels, k-major by
//	        (tap, input channel), zero-padded past OC.

// weightLayouts are the packings, by layout name: which inputs of a node
// they apply to, and the packing of one such input.
var weightLayouts = map[string]struct {
	inputs func(n *ir.Node) []int
	pack   func(t *ir.Tensor) *ir.Tensor
}{
	"rnn-wT": {inputs: rnnMatrices, pack: rnnPanels},
}

func init() {
	for _, kn := range kernels.All() {
		if kn.Op == kernels.Gemm {
			nr := kn.NR
			weightLayouts[kn.PanelLayout()] = struct {
				inputs func(n *ir.Node) []int
				pack   func(t *ir.Tensor) *ir.Tensor
			}{inputs: denseWeight, pack: func(t *ir.Tensor) *ir.Tensor {
				w := kernels.PackPanels(t.F32(), t.Shape[0], t.Shape[1], nr)
				return &ir.Tensor{DType: ir.F32, Shape: ir.Shape{len(w)}, Data: w}
			}}
		}
	}
}

// denseWeight is the weight input of a dense or fused_dense node on a
// Gemm kernel whose panel layout the schedule asks for.
func denseWeight(n *ir.Node) []int {
	if denseOnGemm(n) != nil {
		return []int{1}
	}
	return nil
}

// denseOnGemm is the Gemm kernel a dense or fused_dense node's schedule
// names with its panel layout, or nil.
func denseOnGemm(n *ir.Node) *kernels.Kernel {
	kn := kernelOf(n.Schedule)
	if kn == nil || kn.Op != kernels.Gemm || n.Schedule.WeightLayout != kn.PanelLayout() || (n.Op != "dense" && n.Op != "fused_dense") {
		return nil
	}
	return kn
}

// rnnMatrices are the input indices of every W_ih and W_hh of a
// recurrent node that the Gemv kernel can multiply: every gate block it
// is given whole vectors of 8 rows (rnnGemvOK); none otherwise.
func rnnMatrices(n *ir.Node) []int {
	if !rnnGemvOK(n) {
		return nil
	}
	per, base := ir.RNNWeightsPer(n), 1+ir.RNNStates(n.Op)
	var idx []int
	for i := base; i+1 < len(n.Inputs); i += per {
		idx = append(idx, i, i+1)
	}
	return idx
}

// layoutWeights returns the data in its new layout of every parameter
// that every node reading it wants in the same layout.
func layoutWeights(g *ir.Graph) map[*ir.Value]*ir.Tensor {
	want := map[*ir.Value]string{} // "" once two readers disagree
	for _, v := range g.Outputs {
		want[v] = ""
	}
	for _, n := range g.Nodes {
		var mine map[int]bool
		if s := n.Schedule; s != nil && s.WeightLayout != "" {
			if l, ok := weightLayouts[s.WeightLayout]; ok {
				mine = map[int]bool{}
				for _, i := range l.inputs(n) {
					mine[i] = true
				}
			}
		}
		for i, v := range n.Inputs {
			if v == nil || v.Data == nil {
				continue
			}
			layout := ""
			if mine[i] {
				layout = n.Schedule.WeightLayout
			}
			if prev, seen := want[v]; seen && prev != layout {
				layout = ""
			}
			want[v] = layout
		}
	}
	out := map[*ir.Value]*ir.Tensor{}
	for v, layout := range want {
		if layout != "" && v.Type.DType == ir.F32 && (len(v.Type.Shape) == 2 || strings.HasPrefix(layout, "tpanel")) {
			out[v] = weightLayouts[layout].pack(v.Data)
		}
	}
	return out
}

// rnnGemvOK reports whether the row ranges rnn_simd.go multiplies are
// whole vectors: lstm's 4H, rnn's H, gru's 2H and H.
// Peepholes keep rnn.go's float64 gates, which read the weights as stored.
func rnnGemvOK(n *ir.Node) bool {
	H := n.Attrs.Int("hidden_size")
	return !ir.RNNPeepholes(n) && (H%8 == 0 || n.Op == "lstm" && H%2 == 0)
}

package passes

import (
	"math"

	"github.com/dlcompiler/dlc/ir"
)

// foldBatchNorm rewrites
//
//	conv|dense → batchnorm   ⇒   conv|dense with scaled weights and a new bias
//
// when the batch-norm is the only reader of the layer's output, the layer's
// weights and the statistics are constants, and (for dense) the channel
// axis of the batch-norm is the dense layer's feature axis. A batch-norm
// anywhere else stays: it is a per-channel scale and shift.
func foldBatchNorm(g *ir.Graph) error {
	uses := g.Uses()
	removed := map[*ir.Node]bool{}
	for _, bn := range g.Nodes {
		if bn.Op != "batchnorm" {
			continue
		}
		x := bn.Inputs[0]
		prev := x.Def
		if prev == nil || (prev.Op != "conv" && prev.Op != "dense") || len(uses[x]) != 1 || g.IsOutput(x) || x.Type.DType != ir.F32 {
			continue
		}
		if prev.Op == "dense" && len(x.Type.Shape) != 2 {
			continue
		}
		consts := true
		for _, v := range append(append([]*ir.Value(nil), bn.Inputs[1:]...), prev.Inputs[1:]...) {
			if v != nil && !g.IsFixed(v) {
				consts = false
			}
		}
		if !consts {
			continue
		}
		scale, shift := bn.Inputs[1].Data.F32(), bn.Inputs[2].Data.F32()
		mean, variance := bn.Inputs[3].Data.F32(), bn.Inputs[4].Data.F32()
		eps := bn.Attrs.Float("epsilon")
		w := prev.Inputs[1]
		cout := w.Type.Shape[0]
		per := w.Type.Shape.NumElems() / cout
		nw := ir.NewTensor(ir.F32, w.Type.Shape)
		nb := ir.NewTensor(ir.F32, ir.Shape{cout})
		for c := 0; c < cout; c++ {
			s := float64(scale[c]) / math.Sqrt(float64(variance[c])+eps)
			for i := 0; i < per; i++ {
				nw.F32()[c*per+i] = float32(float64(w.Data.F32()[c*per+i]) * s)
			}
			b := 0.0
			if len(prev.Inputs) > 2 && prev.Inputs[2] != nil {
				b = float64(prev.Inputs[2].Data.F32()[c])
			}
			nb.F32()[c] = float32((b-float64(mean[c]))*s + float64(shift[c]))
		}
		wv := g.AddParam(uniqueName(g, prev.Name+".weight_bn"), ir.Const, w.Type, nw, "", w.Pos)
		bv := g.AddParam(uniqueName(g, prev.Name+".bias_bn"), ir.Const, ir.TensorType{DType: ir.F32, Shape: ir.Shape{cout}}, nb, "", bn.Pos)
		if len(prev.Inputs) < 3 {
			prev.Inputs = append(prev.Inputs, nil)
		}
		prev.Inputs[1], prev.Inputs[2] = wv, bv
		// The layer now produces the batch-norm's output value.
		out := bn.Outputs[0]
		out.Def = prev
		prev.Outputs[0] = out
		removed[bn] = true
	}
	if len(removed) == 0 {
		return nil
	}
	nodes := g.Nodes[:0]
	for _, n := range g.Nodes {
		if !removed[n] {
			nodes = append(nodes, n)
		}
	}
	g.Nodes = nodes
	return dce(g)
}

// uniqueName returns base, or base with a numeric suffix, unused by any
// value in g.
func uniqueName(g *ir.Graph, base string) string {
	used := map[string]bool{}
	for _, v := range g.Values() {
		used[v.Name] = true
	}
	name := base
	for i := 2; used[name]; i++ {
		name = base + "_" + itoa(i)
	}
	return name
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

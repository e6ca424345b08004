package passes

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/runtime"
)

// foldLimit bounds the size of a tensor that folding may create, so that a
// small constant broadcast to a huge shape is not materialized.
const foldLimit = 1 << 24

// fold evaluates, with the reference interpreter, every node whose inputs
// are all constants, and turns its outputs into constants. In a training
// graph params are not constants (g.IsFixed): folding one would turn a
// trainable weight into a frozen const.
func fold(g *ir.Graph) error {
	nodes := g.Nodes[:0]
	for _, n := range g.Nodes {
		if !foldable(g, n) {
			nodes = append(nodes, n)
			continue
		}
		outs, err := runtime.EvalNode(n)
		if err != nil {
			return fmt.Errorf("%s: folding %s: %w", n.Name, n.Op, err)
		}
		for i, o := range n.Outputs {
			o.Kind = ir.Const
			o.Data = outs[i]
			o.Def = nil
			g.Params = append(g.Params, o)
		}
	}
	g.Nodes = nodes
	return nil
}

func foldable(g *ir.Graph, n *ir.Node) bool {
	if !n.Def().IsPure() {
		return false // random or stateful: its value is not known at compile time
	}
	any := false
	for _, in := range n.Inputs {
		if in == nil {
			continue
		}
		if !g.IsFixed(in) {
			return false
		}
		any = true
	}
	if !any {
		return false
	}
	for _, o := range n.Outputs {
		if o.Type.Shape.NumElems() > foldLimit {
			return false
		}
	}
	return true
}

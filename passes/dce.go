package passes

import "github.com/dlcompiler/dlc/ir"

// dce removes nodes whose outputs no graph output depends on, and params
// and constants nothing reads (ir.Graph.Prune).
func dce(g *ir.Graph) error {
	g.Prune()
	return nil
}

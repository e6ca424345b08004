package passes

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// inferShapes recomputes every node's output types from its inputs with
// the op table's shape rules, so later passes and code generation can
// trust them; a frontend that got a shape wrong is caught here.
func inferShapes(g *ir.Graph) error {
	for _, n := range g.Nodes {
		def := n.Def()
		if def == nil {
			return fmt.Errorf("%s: unknown op %q", n.Name, n.Op)
		}
		if err := def.CheckAttrs(n); err != nil {
			return fmt.Errorf("%s %s: %w", n.Pos, n.Name, err)
		}
		ts, err := def.InferNode(n)
		if err != nil {
			return fmt.Errorf("%s %s: %w", n.Pos, n.Name, err)
		}
		for i, o := range n.Outputs {
			o.Type = ts[i]
		}
	}
	return nil
}

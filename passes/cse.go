package passes

import (
	"fmt"
	"strings"

	"github.com/dlcompiler/dlc/ir"
)

// cse merges nodes that apply the same op with the same attributes to the
// same inputs: the later node's outputs are replaced by the earlier's.
// Constants with identical contents are merged first, so that two layers
// folded to the same weights still count as the same input.
func cse(g *ir.Graph) error {
	repl := map[*ir.Value]*ir.Value{}
	seen := map[string]*ir.Node{}
	for _, n := range g.Nodes {
		for i, in := range n.Inputs {
			if r, ok := repl[in]; ok {
				n.Inputs[i] = r
			}
		}
		if !n.Def().IsPure() {
			continue // two calls of an impure op may differ
		}
		k := nodeKey(n)
		if prev, ok := seen[k]; ok {
			for i, o := range n.Outputs {
				repl[o] = prev.Outputs[i]
			}
			continue
		}
		seen[k] = n
	}
	if len(repl) == 0 {
		return nil
	}
	for i, o := range g.Outputs {
		if r, ok := repl[o]; ok {
			g.Outputs[i] = r
		}
	}
	// The replaced nodes are now dead.
	return dce(g)
}

func nodeKey(n *ir.Node) string {
	var b strings.Builder
	b.WriteString(n.Op)
	for _, in := range n.Inputs {
		fmt.Fprintf(&b, "|%p", in)
	}
	for _, k := range n.Attrs.Keys() {
		fmt.Fprintf(&b, "|%s=%s", k, ir.FormatAttr(n.Attrs[k]))
	}
	return b.String()
}

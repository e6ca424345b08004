package ir

import (
	"fmt"
	"strings"
)

// DOT returns the graph in Graphviz's language: inputs and outputs as
// ellipses, nodes as boxes labelled with name, op and output shape,
// parameters folded into their node's label to keep the picture readable.
func DOT(g *Graph) string {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %q {\n", g.Name)
	b.WriteString("  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n")
	id := map[*Value]string{}
	for i, v := range g.Inputs {
		k := fmt.Sprintf("in%d", i)
		id[v] = k
		fmt.Fprintf(&b, "  %s [shape=ellipse, style=filled, fillcolor=\"#dbeafe\", label=%q];\n", k, v.Name+"\n"+v.Type.String())
	}
	for i, n := range g.Nodes {
		k := fmt.Sprintf("n%d", i)
		var params []string
		for _, in := range n.Inputs {
			if in != nil && (in.Kind == Param || in.Kind == Const) {
				params = append(params, in.Type.Shape.String())
			}
		}
		label := n.Name + "\n" + n.Op
		if n.Op == "fused_conv" || n.Op == "fused_dense" {
			if len(n.Inputs) > 3 && n.Inputs[3] != nil {
				label += " +residual"
			}
			if a := n.Attrs.String("act"); a != "" {
				label += " +" + a
			}
			if p := n.Attrs.String("pool"); p != "" {
				label += " +" + p + "pool"
			}
		}
		if n.Op == "fused_ewise" {
			label += " " + n.Attrs.String("steps")
		}
		if len(params) > 0 && len(params) <= 4 {
			label += " " + strings.Join(params, " ")
		}
		if n.Schedule != nil {
			label += "\n" + n.Schedule.String()
		}
		fmt.Fprintf(&b, "  %s [shape=box, style=\"rounded,filled\", fillcolor=\"#f3f4f6\", label=%q];\n", k, label)
		for _, in := range n.Inputs {
			if src, ok := id[in]; ok && in != nil {
				fmt.Fprintf(&b, "  %s -> %s [label=%q];\n", src, k, in.Type.Shape.String())
			}
		}
		for _, o := range n.Outputs {
			id[o] = k
		}
	}
	for i, o := range g.Outputs {
		k := fmt.Sprintf("out%d", i)
		fmt.Fprintf(&b, "  %s [shape=ellipse, style=filled, fillcolor=\"#dcfce7\", label=%q];\n", k, g.OutputNames[i]+"\n"+o.Type.String())
		if src, ok := id[o]; ok {
			fmt.Fprintf(&b, "  %s -> %s [label=%q];\n", src, k, o.Type.Shape.String())
		}
	}
	b.WriteString("}\n")
	return b.String()
}

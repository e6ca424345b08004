package main

import (
	"fmt"
	"strings"

	"github.com/dlcompiler/dlc/ir"
)

// Two linear layers in a row compute one linear map: W2·(W1·x + b1) + b2
// = (W2·W1)·x + (W2·b1 + b2), so the first adds parameters and work but
// no expressive power. dlc check warns, naming both, when one feeds the
// other through nothing but ops that keep the map affine (views,
// dropout, inference batch norm, average pooling).

// linearLayer reports whether n is a dense, convolution or matmul by a
// weight: an affine map of its data input.
func linearLayer(n *ir.Node) bool {
	switch n.Op {
	case "dense", "conv", "conv_transpose":
		return true
	case "matmul":
		return len(n.Inputs) == 2 && (n.Inputs[0].Kind == ir.Param || n.Inputs[1].Kind == ir.Param)
	}
	return false
}

// affineThrough reports whether n passes an affine map on (of its first
// input).
func affineThrough(n *ir.Node) bool {
	if d := ir.Lookup(n.Op); d != nil && d.View {
		return true
	}
	switch n.Op {
	case "dropout", "identity", "batchnorm", "avgpool", "global_avgpool", "adaptive_avgpool":
		return true
	}
	return false
}

// linearCollapses returns one warning for every pair of linear layers
// with only affine ops between them.
func linearCollapses(g *ir.Graph) []string {
	users := map[*ir.Value][]*ir.Node{}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			if in != nil {
				users[in] = append(users[in], n)
			}
		}
	}
	var warns []string
	for _, first := range g.Nodes {
		if !linearLayer(first) {
			continue
		}
		var walk func(v *ir.Value, via []string)
		walk = func(v *ir.Value, via []string) {
			for _, u := range users[v] {
				switch {
				case linearLayer(u) && u.Inputs[0] == v:
					how := "directly"
					if len(via) > 0 {
						how = "through " + strings.Join(via, ", ")
					}
					warns = append(warns, fmt.Sprintf("%s: layers %s (%s) and %s (%s) follow each other with no non-linearity between them (%s): together they compute one linear map, which one layer could compute (the pair adds no expressive power); put an activation (e.g. relu) between them",
						u.Pos, first.Name, first.Op, u.Name, u.Op, how))
				case affineThrough(u) && u.Inputs[0] == v:
					walk(u.Out(), append(via[:len(via):len(via)], u.Name))
				}
			}
		}
		walk(first.Out(), nil)
	}
	return warns
}

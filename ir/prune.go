package ir

// Prune removes the nodes whose outputs no graph output depends on, and
// the params nothing reads. The dce pass is this; the training loop calls
// it directly on a differentiated graph that skips the pipeline.
func (g *Graph) Prune() {
	live := map[*Value]bool{}
	for _, o := range g.Outputs {
		live[o] = true
	}
	keep := make([]bool, len(g.Nodes))
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		n := g.Nodes[i]
		for _, o := range n.Outputs {
			if live[o] {
				keep[i] = true
			}
		}
		if keep[i] {
			for _, in := range n.Inputs {
				if in != nil {
					live[in] = true
				}
			}
		}
	}
	nodes := g.Nodes[:0]
	for i, n := range g.Nodes {
		if keep[i] {
			nodes = append(nodes, n)
		}
	}
	g.Nodes = nodes
	params := g.Params[:0]
	for _, p := range g.Params {
		if live[p] {
			params = append(params, p)
		}
	}
	g.Params = params
}

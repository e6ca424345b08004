package ir

// MACs estimates the multiply-accumulates a node performs: the work
// measure `dlc check` reports and GFLOP/s figures are based on (one MAC is
// two floating-point operations). Ops that only move or copy data (views,
// dataMovement) count 0; other ops without multiplications count the
// elements they compute, so that no computation shows as free.
func MACs(n *Node) int64 {
	out := int64(0)
	if len(n.Outputs) > 0 {
		out = int64(n.Outputs[0].Type.Shape.NumElems())
	}
	switch n.Op {
	case "dense":
		w := n.Inputs[1].Type.Shape
		return out * int64(w[1])
	case "matmul":
		a := n.Inputs[0].Type.Shape
		return out * int64(a[len(a)-1])
	case "conv":
		w := n.Inputs[1].Type.Shape
		return out * int64(w[1:].NumElems())
	case "conv_transpose":
		// every input element meets every tap of its group's output channels
		w := n.Inputs[1].Type.Shape
		return int64(n.Inputs[0].Type.Shape.NumElems()) * int64(w[1:].NumElems())
	case "adaptive_avgpool":
		return int64(n.Inputs[0].Type.Shape.NumElems())
	case "maxpool", "avgpool":
		return out * int64(Shape(n.Attrs.Ints("kernel")).NumElems())
	case "global_avgpool", "global_maxpool":
		return int64(n.Inputs[0].Type.Shape.NumElems())
	case "rnn", "lstm", "gru":
		var total int64
		for _, v := range n.Inputs[1+RNNStates(n.Op):] {
			if len(v.Type.Shape) == 2 { // weight matrices, once per step and batch row
				total += int64(v.Type.Shape.NumElems())
			}
		}
		x := n.Inputs[0].Type.Shape
		return total * int64(x[0]*x[1])
	}
	if dataMovement[n.Op] {
		return 0
	}
	switch d := n.Def(); {
	case d.View:
		return 0
	case d.Reduction != nil:
		return int64(n.Inputs[0].Type.Shape.NumElems())
	}
	return out
}

// dataMovement are the ops that copy elements without computing on them:
// a transpose or an embedding lookup is no multiply-accumulate.
var dataMovement = map[string]bool{
	"transpose": true, "concat": true, "expand": true, "pad": true, "cast": true, "trilu": true,
	"embedding": true, "gather": true, "gather_elements": true, "gather_nd": true,
	"scatter_elements": true, "scatter_nd": true, "one_hot": true,
}

// ParamCount is the number of elements in a graph's params (not consts).
func ParamCount(g *Graph) int64 {
	var n int64
	for _, p := range g.Params {
		if p.Kind == Param {
			n += int64(p.Type.Shape.NumElems())
		}
	}
	return n
}

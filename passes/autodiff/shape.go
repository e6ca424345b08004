package autodiff

import (
	"github.com/dlcompiler/dlc/ir"
)

// Gradient rules of the shape ops: the gradient takes the inverse
// rearrangement.

func init() {
	back := func(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
		b := newBuilder(g, n)
		return []*ir.Value{b.reshape(dys[0], n.Inputs[0].Type.Shape)}, b.err
	}
	for _, op := range []string{"reshape", "flatten", "squeeze", "unsqueeze"} {
		rule(op, back)
	}
	rule("transpose", func(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
		b := newBuilder(g, n)
		return []*ir.Value{b.op("transpose", ir.Attrs{"perm": inv(n.Attrs.Ints("perm"))}, dys[0])}, b.err
	})
	rule("concat", concatGrad)
}

// concatGrad hands each input its slice of dy, taken by a gather of the
// input's index range along the axis.
func concatGrad(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
	b := newBuilder(g, n)
	dy := dys[0]
	axis, err := ir.NormAxis(n.Attrs.Int("axis"), len(dy.Type.Shape))
	if err != nil {
		return nil, err
	}
	grads := make([]*ir.Value, len(n.Inputs))
	off := 0
	for i, in := range n.Inputs {
		size := in.Type.Shape[axis]
		idx := ir.NewTensor(ir.I64, ir.Shape{size})
		for j := range size {
			idx.I64()[j] = int64(off + j)
		}
		off += size
		if !in.Type.DType.IsFloat() {
			continue
		}
		iv := g.AddParam(b.name(), ir.Const, ir.TensorType{DType: ir.I64, Shape: ir.Shape{size}}, idx, "", n.Pos)
		grads[i] = b.op("gather", ir.Attrs{"axis": axis}, dy, iv)
	}
	return grads, b.err
}

func init() { rule("embedding", embeddingGrad) }

// embeddingGrad: dW is dy's rows added into zeros at their ids (a
// scatter_nd with add; repeated ids sum, in order), which costs the size
// of dy whatever the vocabulary. Ids get no gradient.
func embeddingGrad(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
	ids, w, dy := n.Inputs[0], n.Inputs[1], dys[0]
	b := newBuilder(g, n)
	at := b.op("unsqueeze", ir.Attrs{"axes": []int{len(ids.Type.Shape)}}, ids)
	dw := b.op("scatter_nd", ir.Attrs{"reduction": "add"}, b.fill(w.Type.Shape, 0), at, dy)
	return []*ir.Value{nil, dw}, b.err
}

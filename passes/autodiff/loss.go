package autodiff

import "github.com/dlcompiler/dlc/ir"

// Gradient rule of nll_loss, by expansion: the picked -x[n, t, ...] are
// x times a one-hot mask of the targets (zeroed at ignore_index, scaled
// by the class weights), summed over the classes, then reduced.

func init() { rule("nll_loss", expandRule(nllExpand)) }

func nllExpand(e *expansion) ([]*ir.Value, error) {
	n := e.n
	x, t := n.Inputs[0], n.Inputs[1]
	xs := x.Type.Shape
	C := xs[1]
	vals := ir.NewTensor(x.Type.DType, ir.Shape{2})
	vals.SetFloat(1, 1)
	vv := e.g.AddParam(e.name(), ir.Const, vals.Type(), vals, "", n.Pos)
	oh := e.op("one_hot", ir.Attrs{"depth": C, "axis": 1}, t, vv) // [N, C, d...]
	if ig := n.Attrs.Int("ignore_index"); ig >= -C && ig < C {
		// An ignored target inside [-C, C) would pick a class: mask it.
		it := ir.NewTensor(t.Type.DType, ir.Shape{})
		it.SetInt(0, int64(ig))
		iv := e.g.AddParam(e.name(), ir.Const, it.Type(), it, "", n.Pos)
		keep := e.op("where", nil, e.op("eq", nil, t, iv), e.scalar(0), e.scalar(1))
		oh = e.mul(oh, e.op("unsqueeze", ir.Attrs{"axes": []int{1}}, keep))
	}
	if len(n.Inputs) > 2 && n.Inputs[2] != nil {
		oh = e.mul(oh, e.reshape(n.Inputs[2], chanShape(xs)))
	}
	per := e.unary("neg", e.op("reduce_sum", ir.Attrs{"axes": []int{1}}, e.mul(x, oh)))
	switch n.Attrs.String("reduction") {
	case "sum":
		per = e.op("reduce_sum", nil, per)
	case "mean":
		per = e.div(e.op("reduce_sum", nil, per), e.op("reduce_sum", nil, oh))
	}
	return []*ir.Value{per}, e.err
}

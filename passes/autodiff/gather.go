package autodiff

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// Gradient rules of the indexing ops: a gather's gradient is a
// scatter-add of dy into zeros of the data's shape (duplicate indices
// sum, in index order), a scatter's is a gather of dy. The indices get
// no gradient.

func init() {
	rule("gather", gatherGrad)
	rule("gather_elements", func(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
		b := newBuilder(g, n)
		x, idx := n.Inputs[0], n.Inputs[1]
		dx := b.op("scatter_elements", ir.Attrs{"axis": n.Attrs.Int("axis"), "reduction": "add"},
			b.fill(x.Type.Shape, 0), idx, dys[0])
		return []*ir.Value{dx, nil}, b.err
	})
	rule("gather_nd", func(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
		b := newBuilder(g, n)
		x, idx := n.Inputs[0], n.Inputs[1]
		if bd := n.Attrs.Int("batch_dims"); bd > 0 {
			idx = b.batchTuples(idx, bd)
		}
		dx := b.op("scatter_nd", ir.Attrs{"reduction": "add"}, b.fill(x.Type.Shape, 0), idx, dys[0])
		return []*ir.Value{dx, nil}, b.err
	})
	rule("scatter_elements", scatterGrad("scatter_elements", "gather_elements"))
	rule("scatter_nd", scatterGrad("scatter_nd", "gather_nd"))
	rule("topk", func(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
		// The values' gradient goes back to the positions the indices output names.
		if dys[0] == nil {
			return []*ir.Value{nil}, nil
		}
		b := newBuilder(g, n)
		x := n.Inputs[0]
		dx := b.op("scatter_elements", ir.Attrs{"axis": n.Attrs.Int("axis"), "reduction": "add"},
			b.fill(x.Type.Shape, 0), n.Outputs[1], dys[0])
		return []*ir.Value{dx}, b.err
	})
}

// gatherGrad: with the gathered axis moved first, dx is scatter_nd of dy
// (its index axes moved first too) at the indices, one per tuple, added
// into zeros; then the axis goes back in place.
func gatherGrad(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
	b := newBuilder(g, n)
	x, idx, dy := n.Inputs[0], n.Inputs[1], dys[0]
	xs := x.Type.Shape
	a, err := ir.NormAxis(n.Attrs.Int("axis"), len(xs))
	if err != nil {
		return nil, err
	}
	ri := len(idx.Type.Shape)
	// p moves data axis a first; q moves dy's index axes first.
	p := []int{a}
	q := []int{}
	for i := range ri {
		q = append(q, a+i)
	}
	for i := range len(dy.Type.Shape) {
		if i < a || i >= a+ri {
			q = append(q, i)
		}
	}
	for i := range xs {
		if i != a {
			p = append(p, i)
		}
	}
	zs := ir.Shape{xs[a]}
	for _, i := range p[1:] {
		zs = append(zs, xs[i])
	}
	d := dy
	if a != 0 {
		d = b.op("transpose", ir.Attrs{"perm": q}, dy)
	}
	ids := b.op("unsqueeze", ir.Attrs{"axes": []int{ri}}, idx)
	dx := b.op("scatter_nd", ir.Attrs{"reduction": "add"}, b.fill(zs, 0), ids, d)
	if a != 0 {
		dx = b.op("transpose", ir.Attrs{"perm": inv(p)}, dx)
	}
	return []*ir.Value{dx, nil}, b.err
}

// scatterGrad: with reduction none, data's gradient is dy with the
// written positions zeroed and the updates' is dy gathered there (as
// torch's scatter); with add, data's is dy itself; max and min share dy
// evenly among the elements equal to the result (torch's scatter_reduce
// amax, amin). mul has no rule.
func scatterGrad(scatter, gather string) ir.GradFunc {
	return func(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
		b := newBuilder(g, n)
		idx, upd, dy := n.Inputs[1], n.Inputs[2], dys[0]
		a := ir.Attrs{}
		if ax, ok := n.Attrs["axis"]; ok {
			a["axis"] = ax
		}
		du := b.op(gather, a.Clone(), dy, idx)
		switch red := n.Attrs.String("reduction"); red {
		case "none":
			z := a.Clone()
			z["reduction"] = "none"
			return []*ir.Value{b.op(scatter, z, dy, idx, b.fill(upd.Type.Shape, 0)), nil, du}, b.err
		case "add":
			return []*ir.Value{dy, nil, du}, b.err
		case "max", "min":
			return b.scatterExtremumGrad(n, dy, scatter, gather, a), b.err
		default:
			return nil, fmt.Errorf("no rule for reduction %s (none, add, max and min have one)", red)
		}
	}
}

// one_hot: values[1]'s gradient is the sum of dy where the index is, and
// values[0]'s the sum elsewhere; the indices get none.
func init() {
	rule("one_hot", func(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
		b := newBuilder(g, n)
		dy := dys[0]
		if !dy.Type.DType.IsFloat() {
			return []*ir.Value{nil, nil}, nil
		}
		onOff := ir.NewTensor(dy.Type.DType, ir.Shape{2})
		onOff.SetFloat(1, 1)
		vv := g.AddParam(b.name(), ir.Const, onOff.Type(), onOff, "", n.Pos)
		m := b.op("one_hot", n.Attrs.Clone(), n.Inputs[0], vv)
		on := b.op("reduce_sum", ir.Attrs{"keepdims": false}, b.mul(dy, m))
		off := b.sub(b.op("reduce_sum", nil, dy), on)
		return []*ir.Value{nil, b.op("concat", ir.Attrs{"axis": 0}, b.reshape(off, ir.Shape{1}), b.reshape(on, ir.Shape{1}))}, b.err
	})
}

// batchTuples turns the index tuples of a gather_nd with bd batch axes
// into whole tuples (scatter_nd has no batch axes): each is prefixed by
// its batch coordinates, a constant, as i64.
func (b *builder) batchTuples(idx *ir.Value, bd int) *ir.Value {
	s := idx.Type.Shape
	lead := s[:len(s)-1]
	coords := ir.NewTensor(ir.I64, append(lead.Clone(), bd))
	per := lead[bd:].NumElems()
	bs := lead[:bd]
	for t := range lead.NumElems() {
		q := t / per
		for j := bd - 1; j >= 0; j-- {
			coords.I64()[t*bd+j] = int64(q % bs[j])
			q /= bs[j]
		}
	}
	cv := b.g.AddParam(b.name(), ir.Const, coords.Type(), coords, "", b.n.Pos)
	if idx.Type.DType != ir.I64 {
		idx = b.op("cast", ir.Attrs{"to": "i64"}, idx)
	}
	return b.op("concat", ir.Attrs{"axis": len(s) - 1}, cv, idx)
}

// scatterExtremumGrad: each result element's dy is shared evenly by the
// data element and the updates that equal it.
func (b *builder) scatterExtremumGrad(n *ir.Node, dy *ir.Value, scatter, gather string, a ir.Attrs) []*ir.Value {
	x, idx, upd, y := n.Inputs[0], n.Inputs[1], n.Inputs[2], n.Out()
	dt := ir.Attrs{"to": b.dtype().String()}
	md := b.op("cast", dt, b.op("eq", nil, x, y))
	mu := b.op("cast", dt.Clone(), b.op("eq", nil, upd, b.op(gather, a.Clone(), y, idx)))
	add := a.Clone()
	add["reduction"] = "add"
	count := b.add(md, b.op(scatter, add, b.fill(x.Type.Shape, 0), idx, mu))
	share := b.div(dy, count)
	return []*ir.Value{b.mul(share, md), nil, b.mul(b.op(gather, a.Clone(), share, idx), mu)}
}

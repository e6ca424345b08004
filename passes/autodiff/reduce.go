package autodiff

import "github.com/dlcompiler/dlc/ir"

// Gradient rules of the reductions beyond sum and mean (norm.go): dy and
// y are reshaped to keepdims form and broadcast against x.

func init() {
	red := func(f func(b *builder, x, y, dy *ir.Value, axes []int) *ir.Value) ir.GradFunc {
		return func(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
			b := newBuilder(g, n)
			x := n.Inputs[0]
			axes, err := ir.ReduceAxes(n, len(x.Type.Shape))
			if err != nil {
				return nil, err
			}
			kept := x.Type.Shape.Clone()
			for _, a := range axes {
				kept[a] = 1
			}
			dx := f(b, x, b.reshape(n.Out(), kept), b.reshape(dys[0], kept), axes)
			return []*ir.Value{b.expand(dx, x.Type.Shape)}, b.err
		}
	}
	rule("reduce_sum_square", red(func(b *builder, x, _, dy *ir.Value, _ []int) *ir.Value {
		return b.mul(b.smul(x, 2), dy)
	}))
	rule("reduce_l1", red(func(b *builder, x, _, dy *ir.Value, _ []int) *ir.Value {
		return b.mul(b.unary("sign", x), dy)
	}))
	// x/‖x‖·dy, 0 where the norm is 0 (torch's masked_fill).
	rule("reduce_l2", red(func(b *builder, x, y, dy *ir.Value, _ []int) *ir.Value {
		zero := b.scalar(0)
		q := b.op("where", nil, b.op("eq", nil, y, zero), zero, b.div(dy, y))
		return b.mul(x, q)
	}))
	rule("reduce_log_sum", red(func(b *builder, x, y, dy *ir.Value, _ []int) *ir.Value {
		return b.div(dy, b.unary("exp", y))
	}))
	rule("reduce_log_sum_exp", red(func(b *builder, x, y, dy *ir.Value, _ []int) *ir.Value {
		return b.mul(dy, b.unary("exp", b.sub(x, y)))
	}))
	// amax/amin: dy shared evenly by the elements equal to the extremum.
	extremum := red(func(b *builder, x, y, dy *ir.Value, axes []int) *ir.Value {
		m := b.op("cast", ir.Attrs{"to": b.dtype().String()}, b.op("eq", nil, x, y))
		cnt := b.op("reduce_sum", ir.Attrs{"axes": axes, "keepdims": true}, m)
		return b.mul(m, b.div(dy, cnt))
	})
	rule("reduce_max", extremum)
	rule("reduce_min", extremum)
	rule("reduce_prod", prodGrad)
}

// prodGrad: dx_i = dy·Π_{j≠i} x_j, the product of an exclusive running
// product from each end, exact where some x_j are 0. The reduced axes are
// moved last and flattened into one.
func prodGrad(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
	b := newBuilder(g, n)
	x := n.Inputs[0]
	xs := x.Type.Shape
	axes, err := ir.ReduceAxes(n, len(xs))
	if err != nil {
		return nil, err
	}
	red := map[int]bool{}
	for _, a := range axes {
		red[a] = true
	}
	var p []int
	keep, k := ir.Shape{}, 1
	kept := xs.Clone()
	for i := range xs {
		if !red[i] {
			p = append(p, i)
			keep = append(keep, xs[i])
		}
	}
	for _, a := range axes {
		p = append(p, a)
		k *= xs[a]
		kept[a] = 1
	}
	moved := ir.Shape{}
	for _, i := range p {
		moved = append(moved, xs[i])
	}
	v := b.op("transpose", ir.Attrs{"perm": p}, x)
	v = b.reshape(v, append(keep.Clone(), k))
	last := len(keep)
	fw := b.op("cumprod", ir.Attrs{"axis": last, "exclusive": true}, v)
	bw := b.op("cumprod", ir.Attrs{"axis": last, "exclusive": true, "reverse": true}, v)
	others := b.op("transpose", ir.Attrs{"perm": inv(p)}, b.reshape(b.mul(fw, bw), moved))
	return []*ir.Value{b.mul(others, b.reshape(dys[0], kept))}, b.err
}

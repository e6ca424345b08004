package autodiff

import "github.com/dlcompiler/dlc/ir"

// Gradient rules of softmax, log_softmax, the reductions and inference
// batch normalization (training mode rewrites batchnorm into these ops
// first: see TrainMode).

func init() {
	rule("softmax", func(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
		// dx = y·(dy - Σ_axis dy·y)
		b := newBuilder(g, n)
		y, dy := n.Out(), dys[0]
		s := b.op("reduce_sum", ir.Attrs{"axes": []int{n.Attrs.Int("axis")}, "keepdims": true}, b.mul(dy, y))
		return []*ir.Value{b.mul(y, b.sub(dy, s))}, b.err
	})
	rule("log_softmax", func(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
		// dx = dy - exp(y)·Σ_axis dy
		b := newBuilder(g, n)
		y, dy := n.Out(), dys[0]
		s := b.op("reduce_sum", ir.Attrs{"axes": []int{n.Attrs.Int("axis")}, "keepdims": true}, dy)
		return []*ir.Value{b.sub(dy, b.mul(b.unary("exp", y), s))}, b.err
	})
	rule("reduce_sum", reduceGrad(false))
	rule("reduce_mean", reduceGrad(true))
	rule("batchnorm", batchnormGrad)
}

// reduceGrad spreads dy back over the reduced axes (divided by their size
// for a mean).
func reduceGrad(mean bool) ir.GradFunc {
	return func(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
		b := newBuilder(g, n)
		x := n.Inputs[0].Type.Shape
		axes, err := ir.ReduceAxes(n, len(x))
		if err != nil {
			return nil, err
		}
		kept := x.Clone()
		count := 1
		for _, a := range axes {
			count *= kept[a]
			kept[a] = 1
		}
		dy := b.reshape(dys[0], kept)
		if mean {
			dy = b.smul(dy, 1/float64(count))
		}
		return []*ir.Value{b.expand(dy, x)}, b.err
	}
}

// batchnormGrad differentiates inference batch normalization:
// dx = dy·scale/√(var+ε), dscale = Σ dy·x̂, dbias = Σ dy, and (for a
// graph that trains them, which torch does not) dmean = -Σ dy·scale/√(var+ε),
// dvar = -½ Σ dy·x̂·scale/(var+ε), sums over every axis but the channels.
func batchnormGrad(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
	b := newBuilder(g, n)
	x, scale, mean, vr, dy := n.Inputs[0], n.Inputs[1], n.Inputs[3], n.Inputs[4], dys[0]
	ch := chanShape(x.Type.Shape)
	inv := b.unary("reciprocal", b.unary("sqrt", b.sadd(vr, n.Attrs.Float("epsilon"))))
	invc := b.reshape(inv, ch)
	dx := b.mul(dy, b.mul(b.reshape(scale, ch), invc))
	xhat := b.mul(b.sub(x, b.reshape(mean, ch)), invc)
	axes := chanAxes(x.Type.Shape)
	dscale := b.op("reduce_sum", ir.Attrs{"axes": axes}, b.mul(dy, xhat))
	dbias := b.op("reduce_sum", ir.Attrs{"axes": axes}, dy)
	dmean := b.unary("neg", b.op("reduce_sum", ir.Attrs{"axes": axes}, dx))
	dvar := b.smul(b.mul(b.mul(dscale, scale), b.mul(inv, inv)), -0.5)
	return []*ir.Value{dx, dscale, dbias, dmean, dvar}, b.err
}

// chanShape is [C, 1, 1, ...] for input shape [N, C, spatial...], the
// shape a per-channel vector broadcasts from.
func chanShape(x ir.Shape) ir.Shape {
	s := ir.Shape{x[1]}
	for range x[2:] {
		s = append(s, 1)
	}
	return s
}

// chanAxes lists every axis but 1.
func chanAxes(x ir.Shape) []int {
	axes := []int{0}
	for i := 2; i < len(x); i++ {
		axes = append(axes, i)
	}
	return axes
}

package autodiff

import "github.com/dlcompiler/dlc/ir"

// Gradient rules of dense and matmul: matrix products with a transposed
// operand, and a sum over the rows for a bias.

func init() {
	rule("dense", denseGrad)
	rule("matmul", matmulGrad)
}

// denseGrad: y = x·Wᵀ + b over the last axis. dx = dy·W and
// dW = dy2ᵀ·x2, db = Σ_rows dy2, with x2, dy2 the inputs flattened to
// rows. The products are dense ops on transposed operands (dense(a, b) is
// a·bᵀ), so they get dense's SIMD schedules; the transposes are small
// beside them.
func denseGrad(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
	b := newBuilder(g, n)
	x, w, dy := n.Inputs[0], n.Inputs[1], dys[0]
	in, out := w.Type.Shape[1], w.Type.Shape[0]
	t := func(v *ir.Value) *ir.Value { return b.op("transpose", ir.Attrs{"perm": []int{1, 0}}, v) }
	dx := b.op("dense", nil, dy, t(w))
	x2 := b.reshape(x, ir.Shape{x.Type.Shape.NumElems() / in, in})
	dy2 := b.reshape(dy, ir.Shape{dy.Type.Shape.NumElems() / out, out})
	dw := b.op("dense", nil, t(dy2), t(x2))
	grads := []*ir.Value{dx, dw}
	if len(n.Inputs) > 2 && n.Inputs[2] != nil {
		grads = append(grads, b.op("reduce_sum", ir.Attrs{"axes": []int{0}}, dy2))
	}
	return grads, b.err
}

// matmulGrad: y = a·c (batched, broadcast batch axes). da = dy·cᵀ and
// dc = aᵀ·dy, summed back over broadcast batch axes. A 1-D operand is
// taken as a matrix of one row (a) or one column (c), dy reshaped to
// match, and its gradient reshaped back.
func matmulGrad(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
	a, c, dy := n.Inputs[0], n.Inputs[1], dys[0]
	b := newBuilder(g, n)
	a2, c2 := a, c
	if len(a.Type.Shape) == 1 {
		a2 = b.reshape(a, ir.Shape{1, a.Type.Shape[0]})
	}
	if len(c.Type.Shape) == 1 {
		c2 = b.reshape(c, ir.Shape{c.Type.Shape[0], 1})
	}
	if a2 != a || c2 != c {
		as, cs := a2.Type.Shape, c2.Type.Shape
		batch, err := ir.BroadcastShapes(as[:len(as)-2], cs[:len(cs)-2])
		if err != nil {
			return nil, err
		}
		dy = b.reshape(dy, append(batch, as[len(as)-2], cs[len(cs)-1]))
	}
	t := func(v *ir.Value) *ir.Value {
		r := len(v.Type.Shape)
		p := make([]int, r)
		for i := range p {
			p[i] = i
		}
		p[r-2], p[r-1] = r-1, r-2
		return b.op("transpose", ir.Attrs{"perm": p}, v)
	}
	da := b.op("matmul", nil, dy, t(c2))
	dc := b.op("matmul", nil, t(a2), dy)
	da, dc = b.sumTo(da, a2.Type.Shape), b.sumTo(dc, c2.Type.Shape)
	return []*ir.Value{b.reshape(da, a.Type.Shape), b.reshape(dc, c.Type.Shape)}, b.err
}

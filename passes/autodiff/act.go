package autodiff

import "github.com/dlcompiler/dlc/ir"

// Gradient rules of the activations of ir/ops_act.go, as torch's
// backward functions compute them (the masks are strict where torch's
// comparisons are).

func init() {
	rules := map[string]func(b *builder, n *ir.Node, x, y *ir.Value) *ir.Value{
		"hardsigmoid": func(b *builder, n *ir.Node, x, _ *ir.Value) *ir.Value {
			al := n.Attrs.Float("alpha")
			u := b.sadd(b.smul(x, al), n.Attrs.Float("beta"))
			return b.smul(b.mul(b.step(u), b.step(b.rsub(1, u))), al)
		},
		"hardswish": func(b *builder, _ *ir.Node, x, _ *ir.Value) *ir.Value {
			above := b.step(b.sadd(x, -3))
			inside := b.mul(b.step(b.sadd(x, 3)), b.rsub(1, above))
			return b.add(b.mul(inside, b.sadd(b.smul(x, 1.0/3), 0.5)), above)
		},
		"elu": func(b *builder, n *ir.Node, x, y *ir.Value) *ir.Value {
			return negPart(b, x, b.sadd(y, n.Attrs.Float("alpha")), 1)
		},
		"selu": func(b *builder, n *ir.Node, x, y *ir.Value) *ir.Value {
			ga := n.Attrs.Float("gamma")
			return negPart(b, x, b.sadd(y, ga*n.Attrs.Float("alpha")), ga)
		},
		"celu": func(b *builder, n *ir.Node, x, y *ir.Value) *ir.Value {
			return negPart(b, x, b.sadd(b.smul(y, 1/n.Attrs.Float("alpha")), 1), 1)
		},
		"softplus": func(b *builder, n *ir.Node, x, _ *ir.Value) *ir.Value {
			bx := b.smul(x, n.Attrs.Float("beta"))
			lin := b.step(b.sadd(bx, -n.Attrs.Float("threshold")))
			return b.add(lin, b.mul(b.rsub(1, lin), b.unary("sigmoid", bx)))
		},
		"softsign": func(b *builder, _ *ir.Node, x, _ *ir.Value) *ir.Value {
			d := b.sadd(b.unary("abs", x), 1)
			return b.unary("reciprocal", b.mul(d, d))
		},
		"mish": func(b *builder, _ *ir.Node, x, _ *ir.Value) *ir.Value {
			t := b.unary("tanh", b.op("softplus", nil, x))
			return b.add(t, b.mul(b.mul(x, b.rsub(1, b.mul(t, t))), b.unary("sigmoid", x)))
		},
		"silu": func(b *builder, n *ir.Node, x, _ *ir.Value) *ir.Value {
			ax := b.smul(x, n.Attrs.Float("alpha"))
			s := b.unary("sigmoid", ax)
			return b.mul(s, b.sadd(b.mul(ax, b.rsub(1, s)), 1))
		},
		"threshold": func(b *builder, n *ir.Node, x, _ *ir.Value) *ir.Value {
			return b.step(b.sadd(x, -n.Attrs.Float("threshold")))
		},
		"shrink": func(b *builder, n *ir.Node, x, _ *ir.Value) *ir.Value {
			l := n.Attrs.Float("lambd")
			return b.add(b.step(b.rsub(-l, x)), b.step(b.sadd(x, -l)))
		},
	}
	for op, d := range rules {
		rule(op, dyTimes(d))
	}
	// prelu: dx = dy where x > 0, dy·slope elsewhere; dslope = Σ dy·x
	// where x ≤ 0, summed back to the slope's shape.
	rule("prelu", func(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
		b := newBuilder(g, n)
		x, s, dy := n.Inputs[0], n.Inputs[1], dys[0]
		pos := b.step(x)
		neg := b.rsub(1, pos)
		dx := b.mul(dy, b.add(pos, b.mul(neg, s)))
		ds := b.sumTo(b.mul(dy, b.mul(neg, x)), s.Type.Shape)
		return []*ir.Value{dx, ds}, b.err
	})
}

// negPart is pos where x > 0 and d elsewhere (elu, selu, celu, whose
// negative-side derivative is computed from y).
func negPart(b *builder, x, d *ir.Value, pos float64) *ir.Value {
	p := b.step(x)
	return b.add(b.smul(p, pos), b.mul(b.rsub(1, p), d))
}

package autodiff

import (
	"math"

	"github.com/dlcompiler/dlc/ir"
)

// Gradient rules of the element-wise ops: dx = dy · f'(x), with f'
// written in existing ops, from the output y where that is cheaper (relu,
// sigmoid, tanh, exp, sqrt) so that x need not be kept. The step function
// of relu, leaky_relu and clip is sign(relu(·)), which is 0 at NaN and at
// 0 as torch's masks (x > 0) are.

// unaryRule makes a rule from dx = f(b, x, y, dy).
func unaryRule(f func(b *builder, n *ir.Node, x, y, dy *ir.Value) *ir.Value) ir.GradFunc {
	return func(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
		b := newBuilder(g, n)
		dx := f(b, n, n.Inputs[0], n.Out(), dys[0])
		return []*ir.Value{dx}, b.err
	}
}

// zeroRule is the rule of a piecewise constant op: no gradient reaches x.
func zeroRule(*ir.Graph, *ir.Node, []*ir.Value) ([]*ir.Value, error) { return []*ir.Value{nil}, nil }

// passRule passes dy through unchanged (identity, dropout at inference).
func passRule(_ *ir.Graph, _ *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
	return []*ir.Value{dys[0]}, nil
}

// dyTimes is the common form dx = dy · f'(x, y).
func dyTimes(d func(b *builder, n *ir.Node, x, y *ir.Value) *ir.Value) ir.GradFunc {
	return unaryRule(func(b *builder, n *ir.Node, x, y, dy *ir.Value) *ir.Value {
		return b.mul(dy, d(b, n, x, y))
	})
}

func init() {
	rule("identity", passRule)
	rule("dropout", passRule)
	for _, op := range []string{"floor", "ceil", "round", "sign"} {
		rule(op, zeroRule)
	}
	rule("neg", unaryRule(func(b *builder, _ *ir.Node, _, _, dy *ir.Value) *ir.Value { return b.unary("neg", dy) }))
	rules1 := map[string]func(b *builder, n *ir.Node, x, y *ir.Value) *ir.Value{
		"relu":    func(b *builder, _ *ir.Node, _, y *ir.Value) *ir.Value { return b.unary("sign", y) },
		"sigmoid": func(b *builder, _ *ir.Node, _, y *ir.Value) *ir.Value { return b.mul(y, b.rsub(1, y)) },
		"tanh":    func(b *builder, _ *ir.Node, _, y *ir.Value) *ir.Value { return b.rsub(1, b.mul(y, y)) },
		"leaky_relu": func(b *builder, n *ir.Node, x, _ *ir.Value) *ir.Value {
			a := n.Attrs.Float("alpha")
			return b.sadd(b.smul(b.step(x), 1-a), a)
		},
		"clip": clipMask,
		"gelu": geluGrad,
		"exp":  func(_ *builder, _ *ir.Node, _, y *ir.Value) *ir.Value { return y },
		"log":  func(b *builder, _ *ir.Node, x, _ *ir.Value) *ir.Value { return b.unary("reciprocal", x) },
		"sqrt": func(b *builder, _ *ir.Node, _, y *ir.Value) *ir.Value { return b.unary("reciprocal", b.smul(y, 2)) },
		"abs":  func(b *builder, _ *ir.Node, x, _ *ir.Value) *ir.Value { return b.unary("sign", x) },
		"reciprocal": func(b *builder, _ *ir.Node, _, y *ir.Value) *ir.Value {
			return b.unary("neg", b.mul(y, y))
		},
		"erf": func(b *builder, _ *ir.Node, x, _ *ir.Value) *ir.Value {
			return b.smul(b.unary("exp", b.unary("neg", b.mul(x, x))), 2/math.SqrtPi)
		},
		"sin": func(b *builder, _ *ir.Node, x, _ *ir.Value) *ir.Value { return b.unary("cos", x) },
		"cos": func(b *builder, _ *ir.Node, x, _ *ir.Value) *ir.Value { return b.unary("neg", b.unary("sin", x)) },
		"tan": func(b *builder, _ *ir.Node, _, y *ir.Value) *ir.Value { return b.sadd(b.mul(y, y), 1) },
		"asin": func(b *builder, _ *ir.Node, x, _ *ir.Value) *ir.Value {
			return b.unary("reciprocal", b.unary("sqrt", b.rsub(1, b.mul(x, x))))
		},
		"acos": func(b *builder, _ *ir.Node, x, _ *ir.Value) *ir.Value {
			return b.unary("neg", b.unary("reciprocal", b.unary("sqrt", b.rsub(1, b.mul(x, x)))))
		},
		"atan": func(b *builder, _ *ir.Node, x, _ *ir.Value) *ir.Value {
			return b.unary("reciprocal", b.sadd(b.mul(x, x), 1))
		},
		"sinh": func(b *builder, _ *ir.Node, x, _ *ir.Value) *ir.Value { return b.unary("cosh", x) },
		"cosh": func(b *builder, _ *ir.Node, x, _ *ir.Value) *ir.Value { return b.unary("sinh", x) },
		"asinh": func(b *builder, _ *ir.Node, x, _ *ir.Value) *ir.Value {
			return b.unary("reciprocal", b.unary("sqrt", b.sadd(b.mul(x, x), 1)))
		},
		"acosh": func(b *builder, _ *ir.Node, x, _ *ir.Value) *ir.Value {
			return b.unary("reciprocal", b.unary("sqrt", b.sadd(b.mul(x, x), -1)))
		},
		"atanh": func(b *builder, _ *ir.Node, x, _ *ir.Value) *ir.Value {
			return b.unary("reciprocal", b.rsub(1, b.mul(x, x)))
		},
	}
	for op, d := range rules1 {
		rule(op, dyTimes(d))
	}
	binaryRules()
}

// clipMask is 1 where min ≤ x ≤ max (torch.clamp's gradient mask, bounds
// included), from 1 - step(min - x) and 1 - step(x - max).
func clipMask(b *builder, n *ir.Node, x, _ *ir.Value) *ir.Value {
	lo, hi := n.Attrs.Float("min"), n.Attrs.Float("max")
	m := b.fill(x.Type.Shape, 1)
	if !isInf(lo) {
		m = b.mul(m, b.rsub(1, b.step(b.rsub(lo, x))))
	}
	if !isInf(hi) {
		m = b.mul(m, b.rsub(1, b.step(b.sadd(x, -hi))))
	}
	return m
}

func isInf(f float64) bool { return f > 1e308 || f < -1e308 }

// geluGrad is d/dx of x·Φ(x) = Φ(x) + x·φ(x); for the tanh form,
// 0.5(1+t) + 0.5·x·(1-t²)·β(1+3κx²) with t = tanh(β(x+κx³)).
func geluGrad(b *builder, n *ir.Node, x, _ *ir.Value) *ir.Value {
	x2 := b.mul(x, x)
	if n.Attrs.String("approximate") == "tanh" {
		t := b.unary("tanh", b.smul(b.add(x, b.smul(b.mul(x2, x), geluKappa)), geluBeta))
		inner := b.smul(b.sadd(b.smul(x2, 3*geluKappa), 1), geluBeta)
		right := b.mul(b.smul(x, 0.5), b.mul(b.rsub(1, b.mul(t, t)), inner))
		return b.add(b.smul(b.sadd(t, 1), 0.5), right)
	}
	cdf := b.smul(b.sadd(b.unary("erf", b.smul(x, invSqrt2)), 1), 0.5)
	pdf := b.smul(b.unary("exp", b.smul(x2, -0.5)), invSqrt2Pi)
	return b.add(cdf, b.mul(x, pdf))
}

// binRule makes the rule of a broadcasting binary op from the
// gradients f gives its operands, each summed back to its operand's
// shape; integer results get none.
func binRule(f func(b *builder, a, c, y, dy *ir.Value) (da, dc *ir.Value)) ir.GradFunc {
	return func(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
		if !n.Out().Type.DType.IsFloat() {
			return []*ir.Value{nil, nil}, nil
		}
		b := newBuilder(g, n)
		a, c := n.Inputs[0], n.Inputs[1]
		da, dc := f(b, a, c, n.Out(), dys[0])
		return []*ir.Value{b.sumTo(da, a.Type.Shape), b.sumTo(dc, c.Type.Shape)}, b.err
	}
}

// binaryRules: the broadcasting arithmetic.
func binaryRules() {
	bin := binRule
	rule("add", bin(func(_ *builder, _, _, _, dy *ir.Value) (*ir.Value, *ir.Value) { return dy, dy }))
	rule("sub", bin(func(b *builder, _, _, _, dy *ir.Value) (*ir.Value, *ir.Value) {
		return dy, b.unary("neg", dy)
	}))
	rule("mul", bin(func(b *builder, a, c, _, dy *ir.Value) (*ir.Value, *ir.Value) {
		return b.mul(dy, c), b.mul(dy, a)
	}))
	// d(a/c)/dc = -a/c² = -y/c.
	rule("div", bin(func(b *builder, _, c, y, dy *ir.Value) (*ir.Value, *ir.Value) {
		da := b.div(dy, c)
		return da, b.unary("neg", b.mul(da, y))
	}))
}

// fmod and remainder: a - q·b with q = trunc(a/b) (fmod) or floor(a/b)
// (remainder), piecewise constant: da = dy, db = -dy·q (torch's rules).
func init() {
	mod := func(trunc bool) ir.GradFunc {
		return binRule(func(b *builder, a, c, _, dy *ir.Value) (*ir.Value, *ir.Value) {
			q := b.div(a, c)
			if trunc {
				q = b.mul(b.unary("sign", q), b.unary("floor", b.unary("abs", q)))
			} else {
				q = b.unary("floor", q)
			}
			return dy, b.unary("neg", b.mul(dy, q))
		})
	}
	rule("fmod", mod(true))
	rule("remainder", mod(false))
}

package autodiff

import "github.com/dlcompiler/dlc/ir"

// Gradient rules of pow, maximum and minimum (ir/ops_act.go), as torch's:
// pow gives a the gradient b·a^(b-1) and b the gradient a^b·log a, taken
// as 0 where a = 0 (the log's argument becomes 1 there); maximum and
// minimum send the gradient to the operand chosen, split in halves on a
// tie.

func init() {
	bin := binRule
	rule("pow", bin(func(b *builder, a, c, y, dy *ir.Value) (*ir.Value, *ir.Value) {
		da := b.mul(dy, b.mul(c, b.op("pow", nil, a, b.sadd(c, -1))))
		nz := b.unary("sign", b.unary("abs", a)) // 1 where a ≠ 0
		dc := b.mul(dy, b.mul(y, b.unary("log", b.add(a, b.rsub(1, nz)))))
		return da, dc
	}))
	pick := func(first bool) ir.GradFunc {
		return bin(func(b *builder, a, c, _, dy *ir.Value) (*ir.Value, *ir.Value) {
			ga, gc := b.step(b.sub(a, c)), b.step(b.sub(c, a))
			if !first {
				ga, gc = gc, ga
			}
			half := b.smul(b.rsub(1, b.add(ga, gc)), 0.5)
			return b.mul(dy, b.add(ga, half)), b.mul(dy, b.add(gc, half))
		})
	}
	rule("maximum", pick(true))
	rule("minimum", pick(false))
}

package codegen

import (
	"github.com/dlcompiler/dlc/ir"
)

// Losses (ir/ops_loss.go), as the interpreter computes them
// (runtime/loss.go).

func init() {
	register("nll_loss", emitter{emit: emitNLLLoss, fails: func(n *ir.Node) bool { return !n.Inputs[1].IsConst() }})
}

// emitNLLLoss walks the targets in order, in float64 like the
// interpreter; a target out of range returns an error naming the layer (a
// constant one is refused now).
func emitNLLLoss(k *kctx) error {
	x := k.inShape(0)
	C, inner := x[1], x[2:].NumElems()
	N := x[0]
	ignore := k.n.Attrs.Int("ignore_index")
	red := k.n.Attrs.String("reduction")
	X, T, Y := k.in[0], k.in[1], k.out[0]
	ft := elemType(k.n.Out().Type.DType)
	t := k.n.Inputs[1]
	if t.IsConst() {
		for e := range t.Data.Len() {
			if c := t.Data.Int(e); c != int64(ignore) && (c < 0 || c >= int64(C)) {
				return k.errorf("target %d at position %d of %s is out of range for %d classes", c, e, t.Name, C)
			}
		}
	}
	if red != "none" {
		k.l("var sum, wsum float64")
	}
	k.l("for b := range %d {", N)
	k.l("for i := range %d {", inner)
	k.l("e := b*%d + i", inner)
	k.l("c := int(%s[e])", T)
	k.l("if c == %d {", ignore)
	if red == "none" {
		k.l("%s[e] = 0", Y)
	}
	k.l("continue\n}")
	if !t.IsConst() {
		k.l("if c < 0 || c >= %d {", C)
		k.l("return @fmt.Errorf(\"layer %s: target %%d at position %%d is out of range for %d classes\", c, e)", k.n.Name, C)
		k.l("}")
	}
	wt := "1.0"
	if k.in[2] != "" {
		wt = "float64(" + k.in[2] + "[c])"
	}
	k.l("wt := %s", wt)
	k.l("l := -float64(%s[(b*%d+c)*%d+i]) * wt", X, C, inner)
	if red == "none" {
		k.l("%s[e] = %s(l)", Y, ft)
	} else {
		k.l("sum += l")
		k.l("wsum += wt")
	}
	k.l("}")
	k.l("}")
	switch red {
	case "sum":
		k.l("_ = wsum")
		k.l("%s[0] = %s(sum)", Y, ft)
	case "mean":
		k.l("%s[0] = %s(sum / wsum)", Y, ft)
	}
	return nil
}

package codegen

import "github.com/dlcompiler/dlc/ir"

// tensor_scatter: copy the cache, then each step's row of the update to
// its write position; a linear write past the cache's end returns the
// interpreter's error.

func init() {
	register("tensor_scatter", emitter{emit: emitTensorScatter, fails: func(n *ir.Node) bool {
		return n.Attrs.String("mode") != "circular" && len(n.Inputs) > 2 && n.Inputs[2] != nil
	}})
}

func emitTensorScatter(k *kctx) error {
	a, err := ir.TensorScatterAxis(k.n)
	if err != nil {
		return k.errorf("%v", err)
	}
	cs, us := k.inShape(0), k.inShape(1)
	outer, inner := cs[:a].NumElems(), cs[a+1:].NumElems()
	per, max := outer/cs[0], cs[a]
	y, u := k.out[0], k.in[1]
	k.l("copy(%s[:], %s[:])", y, k.in[0])
	k.l("for o := range %d {", outer)
	if len(k.n.Inputs) > 2 && k.n.Inputs[2] != nil {
		k.l("w := %s[o/%d]", k.in[2], per)
	} else {
		k.l("w := int64(0)")
	}
	k.l("for s := range %d {", us[a])
	k.l("p := w + int64(s)")
	if k.n.Attrs.String("mode") == "circular" {
		k.l("p = (p%%%d + %d) %% %d", max, max, max)
	} else if len(k.n.Inputs) > 2 && k.n.Inputs[2] != nil { // else p = s fits
		k.l("if p < 0 || p >= %d {", max)
		k.l("return @fmt.Errorf(\"layer %s: write position %%d (write index %%d + step %%d) is outside the cache's %d steps\", p, w, s)", k.n.Name, max)
		k.l("}")
	}
	k.l("d, src := (o*%d+int(p))*%d, (o*%d+s)*%d", max, inner, us[a], inner)
	k.l("copy(%s[d:d+%d], %s[src:src+%d])", y, inner, u, inner)
	k.l("}\n}")
	return nil
}

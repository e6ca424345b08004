package codegen

import (
	"fmt"
	"strings"

	"github.com/dlcompiler/dlc/ir"
)

// einsum: one loop per letter of the equation, the output's outermost,
// an accumulator per output element summing the product of the
// operands over the summed letters in the interpreter's order (float64,
// or int64 for integers, converted once), so results are bit-identical.

func init() { register("einsum", emitter{emit: emitEinsum}) }

func emitEinsum(k *kctx) error {
	shapes := make([]ir.Shape, len(k.n.Inputs))
	for i, v := range k.n.Inputs {
		shapes[i] = v.Type.Shape
	}
	e, err := ir.ParseEinsum(k.n.Attrs.String("equation"), shapes)
	if err != nil {
		return k.errorf("%v", err)
	}
	dt := k.n.Out().Type.DType
	acc, conv := "float64", func(x string) string { return "float64(" + x + ")" }
	if dt.IsInt() {
		acc, conv = "int64", func(x string) string { return "int64(" + x + ")" }
	}
	for _, s := range e.Sizes {
		if s == 0 {
			k.l("clear(%s[:])", k.out[0])
			return nil
		}
	}
	index := func(st []int) string {
		var terms []string
		for l, s := range st {
			if s != 0 {
				terms = append(terms, term(fmt.Sprintf("l%d", l), s))
			}
		}
		if len(terms) == 0 {
			return "0"
		}
		return strings.Join(terms, " + ")
	}
	loop := func(l int) {
		k.l("for l%d := range %d {", l, e.Sizes[l])
	}
	for l := range e.Out {
		loop(l)
	}
	k.l("var acc %s", acc)
	for l := len(e.Out); l < len(e.Sizes); l++ {
		loop(l)
	}
	prod := make([]string, len(k.n.Inputs))
	for i := range prod {
		prod[i] = conv(fmt.Sprintf("%s[%s]", k.in[i], index(e.Strides(i))))
	}
	k.l("acc += %s", strings.Join(prod, " * "))
	for l := len(e.Out); l < len(e.Sizes); l++ {
		k.l("}")
	}
	k.l("%s[%s] = %s", k.out[0], index(e.Strides(-1)), elemType(dt)+"(acc)")
	for range e.Out {
		k.l("}")
	}
	return nil
}

package codegen

import (
	"fmt"
	"strings"

	"github.com/dlcompiler/dlc/ir"
)

// tfidf: the interpreter's loops (runtime/tfidf.go) over the n-gram
// list, held in local constant arrays.

func init() { register("tfidf", emitter{emit: emitTfIdf}) }

func emitTfIdf(k *kctx) error {
	a := k.n.Attrs
	x, y := k.in[0], k.out[0]
	xs := k.inShape(0)
	C := xs[len(xs)-1]
	out, maxN := a.Int("output_size"), a.Int("max_gram_length")
	glen, idx := a.Ints("gram_len"), a.Ints("index")
	list := func(v []int) string {
		s := make([]string, len(v))
		for i, e := range v {
			s[i] = fmt.Sprint(e)
		}
		return strings.Join(s, ", ")
	}
	offs := make([]int, len(glen))
	for g := 1; g < len(glen); g++ {
		offs[g] = offs[g-1] + glen[g-1]
	}
	k.l("clear(%s[:])", y)
	if len(glen) > 0 && C > 0 && ir.TfIdfMinLen(a, 1) <= maxN {
		k.l("grams := [...]int64{%s}", list(a.Ints("grams")))
		k.l("glen := [...]int{%s}", list(glen))
		k.l("goff := [...]int{%s}", list(offs))
		k.l("col := [...]int{%s}", list(idx))
		k.l("for r := range %d {", k.inShape(0).NumElems()/C)
		k.l("row := %s[r*%d : (r+1)*%d]", x, C, C)
		for d := 1; d <= a.Int("max_skip_count")+1; d++ {
			minN := ir.TfIdfMinLen(a, d)
			if minN > maxN {
				break
			}
			k.l("for s := range %d {", C)
			k.l("for g, l := range glen {")
			k.l("if l < %d || l > %d || s+(l-1)*%d >= %d {\ncontinue\n}", minN, maxN, d, C)
			k.l("match := true")
			k.l("for j := 0; match && j < l; j++ {\nmatch = int64(row[s+j*%d]) == grams[goff[g]+j]\n}", d)
			k.l("if match {\n%s[r*%d+col[g]]++\n}", y, out)
			k.l("}\n}")
		}
		k.l("}")
	}
	w := a.Floats("weights")
	weight := func(i string) string {
		if len(w) == 0 {
			return "1"
		}
		ws := make([]string, len(w))
		for j, v := range w {
			ws[j] = fmt.Sprint(float32(v))
		}
		k.l("ws := [...]float32{%s}", strings.Join(ws, ", "))
		return "ws[" + i + "]"
	}
	switch a.String("mode") {
	case "IDF":
		wi := weight("i%" + fmt.Sprint(out))
		k.l("for i, f := range %s {\nif f > 0 {\n%[1]s[i] = %s\n}\n}", y, wi)
	case "TFIDF":
		wi := weight("i%" + fmt.Sprint(out))
		k.l("for i, f := range %s {\n%[1]s[i] = float32(float64(%s) * float64(f))\n}", y, wi)
	}
	return nil
}

package codegen

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// Ops that move data: transpose, concat, gather, embedding. (flatten,
// reshape, squeeze, unsqueeze, identity and dropout are views, registered
// in elementwise.go: the memory plan gives them their input's storage.)
//
// gather and embedding check their indices. Indices that are constants
// are checked at generation time; indices computed from an input are
// checked at run time and an out-of-range one makes the call return an
// error (the generated API then returns errors).

func init() {
	register("transpose", emitter{emit: emitTranspose})
	register("concat", emitter{emit: emitConcat})
	register("gather", emitter{emit: emitGather, fails: func(n *ir.Node) bool { return !n.Inputs[1].IsConst() }})
	register("embedding", emitter{emit: emitEmbedding, fails: func(n *ir.Node) bool { return !n.Inputs[0].IsConst() }})
}

func emitTranspose(k *kctx) error {
	x, y := k.inShape(0), k.outShape(0)
	perm := k.n.Attrs.Ints("perm")
	is := x.Strides()
	ps := make([]int, len(perm))
	for i, p := range perm {
		ps[i] = is[p]
	}
	dims, st := collapse(y, [][]int{y.Strides(), ps})
	loopNest(k, dims, st, func(idx []string) {
		k.l("y[%s] = x[%s]", idx[0], idx[1])
	})
	return nil
}

func emitConcat(k *kctx) error {
	y := k.outShape(0)
	a, err := ir.NormAxis(k.n.Attrs.Int("axis"), len(y))
	if err != nil {
		return k.errorf("%v", err)
	}
	outer, inner := y[:a].NumElems(), y[a+1:].NumElems()
	row := y[a] * inner
	off := 0
	for j := range k.n.Inputs {
		b := k.inShape(j)[a] * inner
		k.l("for o := range %d {", outer)
		k.l("copy(y[o*%d+%d:o*%d+%d], %s[o*%d:o*%d+%d])", row, off, row, off+b, k.in[j], b, b, b)
		k.l("}")
		off += b
	}
	return nil
}

func emitGather(k *kctx) error {
	d, idx := k.inShape(0), k.inShape(1)
	a, err := ir.NormAxis(k.n.Attrs.Int("axis"), len(d))
	if err != nil {
		return k.errorf("%v", err)
	}
	A := d[a]
	outer, inner, NI := d[:a].NumElems(), d[a+1:].NumElems(), idx.NumElems()
	if v := k.n.Inputs[1]; v.IsConst() {
		for j := range v.Data.Len() { // i32 or i64
			if x := v.Data.Int(j); x < -int64(A) || x >= int64(A) {
				return k.errorf("index %d at position %d of %s is out of range for axis %d of size %d", x, j, v.Name, a, A)
			}
		}
	} else {
		k.l("for j, v := range x1 {")
		k.l("if v < -%d || v >= %d {", A, A)
		k.l("return @fmt.Errorf(\"layer %s: index %%d at position %%d is out of range for axis %d of size %d\", v, j)", k.n.Name, a, A)
		k.l("}")
		k.l("}")
	}
	k.l("for o := range %d {", outer)
	k.l("for j, v := range x1 {")
	k.l("i := int(v)")
	k.l("if i < 0 {\ni += %d\n}", A)
	k.l("copy(y[(o*%d+j)*%d:(o*%d+j+1)*%d], x0[(o*%d+i)*%d:(o*%d+i+1)*%d])", NI, inner, NI, inner, A, inner, A, inner)
	k.l("}")
	k.l("}")
	return nil
}

func emitEmbedding(k *kctx) error {
	w := k.inShape(1)
	V, D := w[0], w[1]
	if v := k.n.Inputs[0]; v.IsConst() {
		for j := range v.Data.Len() {
			if x := v.Data.Int(j); x < 0 || x >= int64(V) {
				return k.errorf("id %d at position %d of %s is out of range [0, %d)", x, j, v.Name, V)
			}
		}
	}
	k.l("for j, v := range x0 {")
	if !k.n.Inputs[0].IsConst() {
		k.l("if v < 0 || v >= %d {", V)
		k.l("return @fmt.Errorf(\"layer %s: id %%d at position %%d is out of range [0, %d)\", v, j)", k.n.Name, V)
		k.l("}")
	}
	k.l("i := int(v)")
	k.l("copy(y[j*%d:(j+1)*%d], x1[i*%d:(i+1)*%d])", D, D, D, D)
	k.l("}")
	return nil
}

var _ = fmt.Sprint

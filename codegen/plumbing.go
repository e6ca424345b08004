package codegen

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/dlcompiler/dlc/ir"
)

// Tensor plumbing: expand and pad (and nearest resize, in spatial.go) are
// gathers through one index table per axis, fixed at generation time
// (emitAxisGather); trilu copies the kept run of each row and fills the
// rest. They move elements of any dtype.

func init() {
	register("expand", emitter{emit: emitExpand})
	register("pad", emitter{emit: emitPad})
	register("trilu", emitter{emit: emitTrilu})
}

func emitExpand(k *kctx) error {
	x, y := k.inShape(0), k.outShape(0)
	off := len(y) - len(x)
	tabs := make([][]int, len(y))
	xs := make(ir.Shape, len(y)) // x aligned right, with 1s in front
	for a := range y {
		xs[a] = 1
		if a >= off {
			xs[a] = x[a-off]
		}
		tabs[a] = make([]int, y[a])
		for o := range tabs[a] {
			if xs[a] != 1 {
				tabs[a][o] = o
			}
		}
	}
	emitAxisGather(k, xs, y, tabs, "")
	return nil
}

func emitPad(k *kctx) error {
	x, y := k.inShape(0), k.outShape(0)
	p := k.n.Attrs.Ints("pads")
	r := len(x)
	tabs := make([][]int, r)
	for a := range r {
		tabs[a] = make([]int, y[a])
		for o := range tabs[a] {
			tabs[a][o] = ir.PadIndex(k.n.Attrs.String("mode"), o, p[a], x[a])
		}
	}
	emitAxisGather(k, x, y, tabs, elemLiteral(k.n.Out().Type.DType, k.n.Attrs.Float("value")))
	return nil
}

// emitAxisGather writes y[o0, o1, ...] = x[tabs[0][o0], tabs[1][o1], ...],
// or fill where an index is -1. Leading axes that copy their input whole
// are one outer loop and trailing ones one copy, so a gather along a few
// middle axes moves contiguous runs.
func emitAxisGather(k *kctx, x, y ir.Shape, tabs [][]int, fill string) {
	r := len(y)
	ident := func(a int) bool {
		if x[a] != y[a] {
			return false
		}
		for o, i := range tabs[a] {
			if i != o {
				return false
			}
		}
		return true
	}
	p, q := 0, r // axes [p, q) are gathered
	for p < r && ident(p) {
		p++
	}
	for q > p && ident(q-1) {
		q--
	}
	if p == r {
		k.l("*y = *x")
		return
	}
	xst, yst := x.Strides(), y.Strides()
	inner := y[q:].NumElems()
	for a := p; a < q; a++ {
		offs := make([]int, len(tabs[a]))
		for o, i := range tabs[a] {
			offs[o] = -1
			if i >= 0 {
				offs[o] = i * xst[a]
			}
		}
		k.l("off%d := [%d]int{%s}", a, len(offs), intList(offs))
	}
	k.l("for o := range %d {", y[:p].NumElems())
	k.l("x%d, y%d := o*%d, o*%d", p, p, x[p:].NumElems(), y[p:].NumElems())
	for a := p; a < q; a++ {
		k.l("for o%d, xo := range off%d {", a, a)
		k.l("y%d := y%d + %s", a+1, a, term(fmt.Sprintf("o%d", a), yst[a]))
		if hasNeg(tabs[a]) {
			k.l("if xo < 0 {")
			if n := y[a+1:].NumElems(); n == 1 {
				k.l("y[y%d] = %s", a+1, fill)
			} else {
				k.l("for i := range %d {\ny[y%d+i] = %s\n}", n, a+1, fill)
			}
			k.l("continue\n}")
		}
		k.l("x%d := x%d + xo", a+1, a)
	}
	if inner == 1 {
		k.l("y[y%d] = x[x%d]", q, q)
	} else {
		k.l("copy(y[y%d:y%d+%d], x[x%d:x%d+%d])", q, q, inner, q, q, inner)
	}
	k.l("%s}", strings.Repeat("}\n", q-p))
}

func hasNeg(v []int) bool {
	for _, x := range v {
		if x < 0 {
			return true
		}
	}
	return false
}

// emitTrilu keeps, in row i of each matrix, the columns j with j-i <= k
// (lower) or j-i >= k (upper): one run [lo, hi) per row, copied, and the
// rest filled with zero.
func emitTrilu(k *kctx) error {
	x := k.inShape(0)
	r := len(x)
	H, W := x[r-2], x[r-1]
	K := k.n.Attrs.Int("k")
	zero := elemLiteral(k.n.Out().Type.DType, 0)
	k.l("for m := range %d {", x[:r-2].NumElems())
	k.l("for i := range %d {", H)
	k.l("row := (m*%d + i) * %d", H, W)
	if k.n.Attrs.Bool("upper") {
		k.l("lo, hi := min(max(i+%d, 0), %d), %d", K, W, W)
	} else {
		k.l("lo, hi := 0, min(max(i+%d, 0), %d)", K+1, W)
	}
	k.l("copy(y[row+lo:row+hi], x[row+lo:row+hi])")
	k.l("for j := 0; j < lo; j++ {\ny[row+j] = %s\n}", zero)
	k.l("for j := hi; j < %d; j++ {\ny[row+j] = %s\n}", W, zero)
	k.l("}\n}")
	return nil
}

// elemLiteral is a Go constant expression of v in dtype dt's storage
// type, converted by ir's rules (f16 and bf16 as their bits).
func elemLiteral(dt ir.DType, v float64) string {
	t := ir.NewTensor(dt, ir.Shape{1})
	t.SetFloat(0, v)
	switch s := t.Data.(type) {
	case []float32:
		return fmtF32Lit(float64(s[0]))
	case []float64:
		switch f := s[0]; {
		case math.IsNaN(f):
			return "@math.NaN()"
		case math.IsInf(f, 0):
			return fmt.Sprintf("@math.Inf(%d)", int(math.Copysign(1, f)))
		default:
			return "float64(" + strconv.FormatFloat(f, 'g', -1, 64) + ")"
		}
	case []bool:
		return strconv.FormatBool(s[0])
	}
	return fmt.Sprintf("%s(%v)", elemType(dt), reflectFirst(t))
}

// reflectFirst is element 0 of an integer tensor's storage.
func reflectFirst(t *ir.Tensor) any {
	switch s := t.Data.(type) {
	case []int8:
		return s[0]
	case []int16:
		return s[0]
	case []int32:
		return s[0]
	case []int64:
		return s[0]
	case []uint8:
		return s[0]
	case []uint16:
		return s[0]
	case []uint32:
		return s[0]
	case []uint64:
		return s[0]
	}
	return 0
}

// The gathers and scatters read indices at run time: an index out of
// range makes the call return an error naming the layer (a constant one
// is refused when generating, by the same check run on its data).
func init() {
	idxFails := func(n *ir.Node) bool { return !n.Inputs[1].IsConst() }
	register("gather_elements", emitter{emit: func(k *kctx) error { return emitElements(k, false) }, fails: idxFails})
	register("scatter_elements", emitter{emit: func(k *kctx) error { return emitElements(k, true) }, fails: idxFails})
	register("gather_nd", emitter{emit: func(k *kctx) error { return emitND(k, false) }, fails: idxFails})
	register("scatter_nd", emitter{emit: func(k *kctx) error { return emitND(k, true) }, fails: idxFails})
	register("one_hot", emitter{emit: emitOneHot})
}

// checkIndex emits the range check of index variable v against size,
// naming the position pos, and wraps a negative index. With constant
// indices it checks now instead, those at positions comp modulo ncomp
// (one component of gather_nd's index tuples).
func checkIndex(k *kctx, v, pos string, size, comp, ncomp int) error {
	if idx := k.n.Inputs[1]; idx.IsConst() {
		for j := comp; j < idx.Data.Len(); j += ncomp {
			if x := idx.Data.Int(j); x < -int64(size) || x >= int64(size) {
				return k.errorf("index %d at position %d of %s is out of range for size %d", x, j, idx.Name, size)
			}
		}
	} else {
		k.l("if %s < -%d || %s >= %d {", v, size, v, size)
		k.l("return @fmt.Errorf(\"layer %s: index %%d at position %%d is out of range for size %d\", %s, %s)", k.n.Name, size, v, pos)
		k.l("}")
	}
	k.l("if %s < 0 {\n%s += %d\n}", v, v, size)
	return nil
}

// combine is the statement applying update u to y[t] by reduction red.
func combine(red, t, u string) string {
	switch red {
	case "add":
		return fmt.Sprintf("y[%s] += %s", t, u)
	case "mul":
		return fmt.Sprintf("y[%s] *= %s", t, u)
	case "max":
		return fmt.Sprintf("y[%s] = max(y[%s], %s)", t, t, u)
	case "min":
		return fmt.Sprintf("y[%s] = min(y[%s], %s)", t, t, u)
	}
	return fmt.Sprintf("y[%s] = %s", t, u)
}

// emitElements walks indices (and updates, of its shape) and reads or
// writes data at the same position with the axis coordinate replaced by
// the index.
func emitElements(k *kctx, scatter bool) error {
	d, idx := k.inShape(0), k.inShape(1)
	a, err := ir.NormAxis(k.n.Attrs.Int("axis"), len(d))
	if err != nil {
		return k.errorf("%v", err)
	}
	ds := d.Strides()
	st := append([]int(nil), ds...)
	st[a] = 0
	if scatter {
		k.l("*y = *x0")
	}
	dims, strides := collapse(idx, [][]int{idx.Strides(), st})
	var ferr error
	loopNest(k, dims, strides, func(ix []string) {
		k.l("i := int(x1[%s])", ix[0])
		if ferr = checkIndex(k, "i", ix[0], d[a], 0, 1); ferr != nil {
			return
		}
		t := fmt.Sprintf("%s + %s", ix[1], term("i", ds[a]))
		if scatter {
			k.l("%s", combine(k.n.Attrs.String("reduction"), t, fmt.Sprintf("x2[%s]", ix[0])))
		} else {
			k.l("y[%s] = x0[%s]", ix[0], t)
		}
	})
	return ferr
}

// emitND walks the index tuples: each names a block of data (after the
// batch axes), copied out (gather_nd) or combined with updates
// (scatter_nd).
func emitND(k *kctx, scatter bool) error {
	d, idx := k.inShape(0), k.inShape(1)
	b := k.n.Attrs.Int("batch_dims")
	last := idx[len(idx)-1]
	block := d[b+last:].NumElems()
	ds := d.Strides()
	tuples := idx.NumElems() / last
	per := tuples / max(d[:b].NumElems(), 1)
	if scatter {
		k.l("*y = *x0")
	}
	k.l("for t := range %d {", tuples)
	k.l("off := t / %d * %d", max(per, 1), d[b:].NumElems())
	for j := range last {
		k.l("{")
		k.l("i := int(x1[t*%d+%d])", last, j)
		if err := checkIndex(k, "i", fmt.Sprintf("t*%d+%d", last, j), d[b+j], j, last); err != nil {
			return err
		}
		k.l("off += %s", term("i", ds[b+j]))
		k.l("}")
	}
	switch {
	case !scatter:
		k.l("copy(y[t*%d:(t+1)*%d], x0[off:off+%d])", block, block, block)
	case k.n.Attrs.String("reduction") == "none":
		k.l("copy(y[off:off+%d], x2[t*%d:(t+1)*%d])", block, block, block)
	default:
		k.l("for j := range %d {", block)
		k.l("%s", combine(k.n.Attrs.String("reduction"), "off+j", fmt.Sprintf("x2[t*%d+j]", block)))
		k.l("}")
	}
	k.l("}")
	return nil
}

// emitOneHot fills values[0], then writes values[1] at each in-range
// index (negative counts from the end; float indices truncate).
func emitOneHot(k *kctx) error {
	idx := k.inShape(0)
	depth := k.n.Attrs.Int("depth")
	a, err := ir.NormAxis(k.n.Attrs.Int("axis"), len(idx)+1)
	if err != nil {
		return k.errorf("%v", err)
	}
	outer, inner := idx[:a].NumElems(), idx[a:].NumElems()
	k.l("for i := range y {\ny[i] = x1[0]\n}")
	k.l("for o := range %d {", outer)
	k.l("for j := range %d {", inner)
	switch dt := k.n.Inputs[0].Type.DType; {
	case dt == ir.F32 || dt == ir.F64:
		// As the interpreter: NaN and indices past ±depth are off, the
		// others truncate toward zero.
		k.l("f := float64(x0[o*%d+j])", inner)
		k.l("if !(f > -%d && f < %d) {\ncontinue\n}", depth+1, depth)
		k.l("v := int64(f)")
	case dt.IsFloat():
		return k.errorf("one_hot indices of %v are not supported in generated code", dt)
	default:
		k.l("v := int64(x0[o*%d+j])", inner)
	}
	k.l("if v < 0 {\nv += %d\n}", depth)
	k.l("if v >= 0 && v < %d {", depth)
	k.l("y[(o*%d+int(v))*%d+j] = x1[1]", depth, inner)
	k.l("}\n}\n}")
	return nil
}

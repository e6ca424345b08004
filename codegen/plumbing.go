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

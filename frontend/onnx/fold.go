package onnx

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/runtime"
)

// Constant propagation: the helpers below compute on values known at
// import time and emit an ir node otherwise. maxFold bounds the size of a
// folded result; bigger ones are left to the graph.
const maxFold = 1 << 24

// evalKnown computes op on known tensors with the interpreter's kernel, so
// that folding at import means exactly what the op means at run time
// (one implementation of every op's arithmetic: runtime's).
func evalKnown(op string, attrs ir.Attrs, ins ...*ir.Tensor) (*ir.Tensor, error) {
	outs, err := evalKnownAll(op, attrs, ins...)
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

// evalKnownAll is evalKnown returning every output.
func evalKnownAll(op string, attrs ir.Attrs, ins ...*ir.Tensor) ([]*ir.Tensor, error) {
	g := ir.NewGraph("fold")
	vs := make([]*ir.Value, len(ins))
	for i, t := range ins {
		vs[i] = g.AddParam(fmt.Sprintf("in%d", i), ir.Const, t.Type(), t, "", ir.Pos{})
	}
	n, err := g.AddNode(op, op, vs, attrs, ir.Pos{})
	if err != nil {
		return nil, err
	}
	return runtime.EvalNode(n)
}

// elemOf is the ONNX element type of values of dtype dt.
func elemOf(dt ir.DType) int32 { return onnxType(dt) }

// emit adds an ir node reading ins and returns its outputs as vals. An
// input of a dtype the ir op does not take is a refusal naming both.
func (c *nctx) emit(op, suffix string, ins []*val, attrs ir.Attrs) ([]*val, error) {
	if err := checkDTypes(op, ins); err != nil {
		return nil, err
	}
	vs := make([]*ir.Value, len(ins))
	for i, x := range ins {
		if x != nil {
			vs[i] = c.im.materialize(x)
		}
	}
	n, err := c.im.g.AddNode(op, c.name(suffix), vs, attrs, ir.Pos{})
	if err != nil {
		return nil, err
	}
	c.im.origin[n] = origin{onnx: c.n, idx: c.idx, suffix: suffix}
	for _, o := range n.Outputs {
		c.im.used[o.Name] = true
	}
	out := make([]*val, len(n.Outputs))
	for i, o := range n.Outputs {
		out[i] = &val{name: o.Name, v: o, elem: elemOf(o.Type.DType)}
	}
	return out, nil
}

// checkDTypes refuses an input whose dtype op's slot does not take:
// "input "x" is uint8; dlc's maxpool takes {f32}".
func checkDTypes(op string, ins []*val) error {
	d := ir.Lookup(op)
	if d == nil || len(d.Inputs) == 0 {
		return nil
	}
	for i, x := range ins {
		if x == nil || x.pad != nil {
			continue
		}
		slot := d.Inputs[min(i, len(d.Inputs)-1)]
		if dt := x.typ().DType; !slot.DTypes.Has(dt) {
			return unsup("input %q is %s; dlc's %s supports %v for %s", x.name, strings.ToLower(dtName(onnxType(dt))), op, slot.DTypes, slot.Name)
		}
	}
	return nil
}

// emit1 is emit for single-output ops.
func (c *nctx) emit1(op, suffix string, ins []*val, attrs ir.Attrs) (*val, error) {
	out, err := c.emit(op, suffix, ins, attrs)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// known wraps a tensor computed at import time. elem, the ONNX type the
// caller means, is t's own: the val takes its ONNX type from t's dtype.
func (c *nctx) known(t *ir.Tensor, elem int32, weight bool) *val {
	name := c.n.name
	if name == "" {
		name = fmt.Sprintf("%s_%d", c.n.opType, c.idx)
	}
	return &val{name: name + "_const", c: t, elem: elemOf(t.DType), weight: weight, key: contentKey(t, weight)}
}

// contentKey keys a small computed constant (gather indices, a scale) by
// its contents; bigger ones are not shared.
func contentKey(t *ir.Tensor, weight bool) string {
	if t.Len() > 64 {
		return ""
	}
	return fmt.Sprintf("const:%v:%v%v", weight, t.Type(), t.Data)
}

// derivedKey keys the fold of op over keyed values; "" if one has none.
func derivedKey(op string, attr any, xs ...*val) string {
	k := fmt.Sprintf("%s%v(", op, attr)
	for _, x := range xs {
		if x == nil || x.key == "" {
			return ""
		}
		k += x.key + ","
	}
	return k + ")"
}

func allKnown(xs ...*val) bool {
	for _, x := range xs {
		if x != nil && x.c == nil {
			return false
		}
	}
	return true
}

func i64s(v ...int) *ir.Tensor {
	t := &ir.Tensor{DType: ir.I64, Shape: ir.Shape{len(v)}, Data: make([]int64, len(v))}
	for i, x := range v {
		t.I64()[i] = int64(x)
	}
	return t
}

func scalarF32(f float64) *ir.Tensor {
	return &ir.Tensor{DType: ir.F32, Shape: ir.Shape{}, Data: []float32{float32(f)}}
}

// reshape gives x a new shape (already resolved, no -1 or 0).
func (c *nctx) reshape(x *val, shape ir.Shape, suffix string) (*val, error) {
	if x.shape().Equal(shape) {
		return x, nil
	}
	if x.c != nil {
		if shape.NumElems() != x.c.Len() {
			return nil, fmt.Errorf("cannot reshape %v to %v", x.c.Shape, shape)
		}
		t := &ir.Tensor{DType: x.c.DType, Shape: shape.Clone(), Data: x.c.Data}
		return &val{name: x.name, c: t, elem: x.elem, weight: x.weight, key: derivedKey("reshape", shape, x)}, nil
	}
	return c.emit1("reshape", suffix, []*val{x}, ir.Attrs{"shape": []int(shape.Clone())})
}

// transpose permutes x's axes.
func (c *nctx) transpose(x *val, perm []int, suffix string) (*val, error) {
	r := x.rank()
	if len(perm) != r {
		return nil, fmt.Errorf("perm %v has %d axes, the input %v has %d", perm, len(perm), x.shape(), r)
	}
	seen := make([]bool, r)
	identity := true
	for i, p := range perm {
		if p < 0 || p >= r || seen[p] {
			return nil, fmt.Errorf("perm %v is not a permutation of 0..%d", perm, r-1)
		}
		seen[p] = true
		identity = identity && p == i
	}
	if identity {
		return x, nil
	}
	if x.c != nil {
		res, err := evalKnown("transpose", ir.Attrs{"perm": append([]int(nil), perm...)}, x.c)
		if err != nil {
			return nil, err
		}
		return &val{name: x.name, c: res, elem: x.elem, weight: x.weight, key: derivedKey("transpose", perm, x)}, nil
	}
	return c.emit1("transpose", suffix, []*val{x}, ir.Attrs{"perm": append([]int(nil), perm...)})
}

// gather takes slices of x along axis at the i64 indices idx (numpy take),
// folding when x is known.
func (c *nctx) gather(x *val, idx *val, axis int, suffix string) (*val, error) {
	s := x.shape()
	a, err := ir.NormAxis(axis, len(s))
	if err != nil {
		return nil, err
	}
	if !ir.Indices.Has(idx.typ().DType) {
		return nil, fmt.Errorf("indices must be int32 or int64, got %v", idx.typ())
	}
	if allKnown(x, idx) && s[:a].NumElems()*idx.c.Len()*s[a+1:].NumElems() <= maxFold {
		res, err := evalKnown("gather", ir.Attrs{"axis": a}, x.c, idx.c)
		if err != nil {
			return nil, err
		}
		return &val{name: x.name, c: res, elem: x.elem, weight: x.weight, key: derivedKey("gather", a, x, idx)}, nil
	}
	if idx.c != nil {
		for q := range idx.c.Len() {
			if j := idx.c.Int(q); j < -int64(s[a]) || j >= int64(s[a]) {
				return nil, fmt.Errorf("index %d is out of range for axis %d of size %d", j, a, s[a])
			}
		}
	}
	return c.emit1("gather", suffix, []*val{x, idx}, ir.Attrs{"axis": a})
}

// concat joins xs along axis.
func (c *nctx) concat(xs []*val, axis int, suffix string) (*val, error) {
	if len(xs) == 0 {
		return nil, fmt.Errorf("concat of nothing")
	}
	first := xs[0].typ()
	a, err := ir.NormAxis(axis, len(first.Shape))
	if err != nil {
		return nil, err
	}
	// Known parts of no elements add nothing (an empty Split output).
	if kept := slices.DeleteFunc(slices.Clone(xs), func(x *val) bool { return x.c != nil && x.c.Len() == 0 }); len(kept) > 0 {
		xs = kept
	}
	if len(xs) == 1 {
		return xs[0], nil
	}
	if !allKnown(xs...) {
		return c.emit1("concat", suffix, xs, ir.Attrs{"axis": a})
	}
	out := first.Shape.Clone()
	out[a] = 0
	for _, x := range xs {
		t := x.typ()
		if t.DType != first.DType || len(t.Shape) != len(first.Shape) {
			return nil, fmt.Errorf("concat of %v and %v", first, t)
		}
		for d := range t.Shape {
			if d != a && t.Shape[d] != first.Shape[d] {
				return nil, fmt.Errorf("concat along axis %d of %v and %v", a, first.Shape, t.Shape)
			}
		}
		out[a] += t.Shape[a]
	}
	if out.NumElems() > maxFold {
		return c.emit1("concat", suffix, xs, ir.Attrs{"axis": a})
	}
	ts := make([]*ir.Tensor, len(xs))
	for i, x := range xs {
		ts[i] = x.c
	}
	res, err := evalKnown("concat", ir.Attrs{"axis": a}, ts...)
	if err != nil {
		return nil, err
	}
	weight := false
	for _, x := range xs {
		weight = weight || x.weight
	}
	return &val{name: xs[0].name, c: res, elem: xs[0].elem, weight: weight, key: derivedKey("concat", a, xs...)}, nil
}

// binary applies add, sub, mul or div with numpy broadcasting, folding
// when both operands are known.
func (c *nctx) binary(op string, a, b *val, suffix string) (*val, error) {
	ta, tb := a.typ(), b.typ()
	if ta.DType != tb.DType {
		return nil, fmt.Errorf("%s of %v and %v: operand dtypes differ", op, ta, tb)
	}
	if err := checkDTypes(op, []*val{a, b}); err != nil {
		return nil, err
	}
	if !allKnown(a, b) {
		return c.emit1(op, suffix, []*val{a, b}, nil)
	}
	out, err := ir.BroadcastShapes(ta.Shape, tb.Shape)
	if err != nil {
		return nil, err
	}
	if out.NumElems() > maxFold {
		return c.emit1(op, suffix, []*val{a, b}, nil)
	}
	res, err := evalKnown(op, nil, a.c, b.c)
	if err != nil {
		return nil, err
	}
	return &val{name: a.name, c: res, elem: a.elem, weight: a.weight || b.weight, key: derivedKey(op, "", a, b)}, nil
}

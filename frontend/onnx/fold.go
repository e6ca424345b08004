package onnx

import (
	"fmt"
	"math"

	"github.com/dlcompiler/dlc/ir"
)

// Constant propagation: the helpers below compute on values known at
// import time and emit an ir node otherwise. maxFold bounds the size of a
// folded result; bigger ones are left to the graph.
const maxFold = 1 << 24

func elemOf(dt ir.DType) int32 {
	if dt == ir.I64 {
		return dtInt64
	}
	return dtFloat
}

// emit adds an ir node reading ins and returns its outputs as vals.
func (c *nctx) emit(op, suffix string, ins []*val, attrs ir.Attrs) ([]*val, error) {
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
	if len(ins) > 0 && ins[0] != nil && out[0].v.Type.DType == ins[0].typ().DType {
		out[0].elem = ins[0].elem
	}
	return out, nil
}

// emit1 is emit for single-output ops.
func (c *nctx) emit1(op, suffix string, ins []*val, attrs ir.Attrs) (*val, error) {
	out, err := c.emit(op, suffix, ins, attrs)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// known wraps a tensor computed at import time.
func (c *nctx) known(t *ir.Tensor, elem int32, weight bool) *val {
	name := c.n.name
	if name == "" {
		name = fmt.Sprintf("%s_%d", c.n.opType, c.idx)
	}
	return &val{name: name + "_const", c: t, elem: elem, weight: weight}
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
	t := &ir.Tensor{DType: ir.I64, Shape: ir.Shape{len(v)}, I64: make([]int64, len(v))}
	for i, x := range v {
		t.I64[i] = int64(x)
	}
	return t
}

func scalarF32(f float64) *ir.Tensor {
	return &ir.Tensor{DType: ir.F32, Shape: ir.Shape{}, F32: []float32{float32(f)}}
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
		t := &ir.Tensor{DType: x.c.DType, Shape: shape.Clone(), F32: x.c.F32, I64: x.c.I64}
		return &val{name: x.name, c: t, elem: x.elem, weight: x.weight}, nil
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
		t := x.c
		in := t.Shape
		out := make(ir.Shape, r)
		for i, p := range perm {
			out[i] = in[p]
		}
		res := ir.NewTensor(t.DType, out)
		ist := in.Strides()
		ost := out.Strides()
		idx := make([]int, r)
		for o := 0; o < res.Len(); o++ {
			rem, src := o, 0
			for i := 0; i < r; i++ {
				idx[i] = rem / ost[i]
				rem %= ost[i]
				src += idx[i] * ist[perm[i]]
			}
			if t.DType == ir.F32 {
				res.F32[o] = t.F32[src]
			} else {
				res.I64[o] = t.I64[src]
			}
		}
		return &val{name: x.name, c: res, elem: x.elem, weight: x.weight}, nil
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
	if idx.typ().DType != ir.I64 {
		return nil, fmt.Errorf("indices must be integers, got %v", idx.typ())
	}
	if allKnown(x, idx) {
		outer, inner := s[:a].NumElems(), s[a+1:].NumElems()
		k := idx.c.Len()
		if outer*k*inner <= maxFold {
			out := append(s[:a].Clone(), idx.c.Shape...)
			out = append(out, s[a+1:]...)
			res := ir.NewTensor(x.c.DType, out)
			o := 0
			for i := 0; i < outer; i++ {
				for _, j := range idx.c.I64 {
					if j < -int64(s[a]) || j >= int64(s[a]) {
						return nil, fmt.Errorf("index %d is out of range for axis %d of size %d", j, a, s[a])
					}
					if j < 0 {
						j += int64(s[a])
					}
					src := (i*s[a] + int(j)) * inner
					if x.c.DType == ir.F32 {
						copy(res.F32[o:o+inner], x.c.F32[src:src+inner])
					} else {
						copy(res.I64[o:o+inner], x.c.I64[src:src+inner])
					}
					o += inner
				}
			}
			return &val{name: x.name, c: res, elem: x.elem, weight: x.weight}, nil
		}
	}
	if idx.c != nil {
		for _, j := range idx.c.I64 {
			if j < -int64(s[a]) || j >= int64(s[a]) {
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
	res := ir.NewTensor(first.DType, out)
	outer := out[:a].NumElems()
	o := 0
	for i := 0; i < outer; i++ {
		for _, x := range xs {
			blk := x.c.Shape[a:].NumElems()
			if first.DType == ir.F32 {
				copy(res.F32[o:], x.c.F32[i*blk:(i+1)*blk])
			} else {
				copy(res.I64[o:], x.c.I64[i*blk:(i+1)*blk])
			}
			o += blk
		}
	}
	weight := false
	for _, x := range xs {
		weight = weight || x.weight
	}
	return &val{name: xs[0].name, c: res, elem: xs[0].elem, weight: weight}, nil
}

// binary applies add, sub, mul or div with numpy broadcasting, folding
// when both operands are known.
func (c *nctx) binary(op string, a, b *val, suffix string) (*val, error) {
	ta, tb := a.typ(), b.typ()
	if ta.DType != tb.DType {
		return nil, fmt.Errorf("%s of %v and %v: operand dtypes differ", op, ta, tb)
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
	res := ir.NewTensor(ta.DType, out)
	ost := out.Strides()
	bidx := func(s ir.Shape, o int) int {
		// Index into an operand of shape s broadcast to out.
		st := s.Strides()
		off := len(out) - len(s)
		src := 0
		for i := range s {
			k := (o / ost[off+i]) % out[off+i]
			if s[i] != 1 {
				src += k * st[i]
			}
		}
		return src
	}
	for o := 0; o < res.Len(); o++ {
		i, j := bidx(ta.Shape, o), bidx(tb.Shape, o)
		if ta.DType == ir.F32 {
			x, y := a.c.F32[i], b.c.F32[j]
			var r float32
			switch op {
			case "add":
				r = x + y
			case "sub":
				r = x - y
			case "mul":
				r = x * y
			case "div":
				r = x / y
			}
			res.F32[o] = r
			continue
		}
		x, y := a.c.I64[i], b.c.I64[j]
		var r int64
		switch op {
		case "add":
			r = x + y
		case "sub":
			r = x - y
		case "mul":
			r = x * y
		case "div":
			if y == 0 {
				return nil, fmt.Errorf("integer division by zero")
			}
			if !(x == math.MinInt64 && y == -1) {
				r = x / y
			}
		}
		res.I64[o] = r
	}
	return &val{name: a.name, c: res, elem: a.elem, weight: a.weight || b.weight}, nil
}

// scale multiplies a known f32 tensor by s.
func scale(t *ir.Tensor, s float64) *ir.Tensor {
	r := t.Clone()
	for i := range r.F32 {
		r.F32[i] = float32(float64(r.F32[i]) * s)
	}
	return r
}

// castTensor converts known contents to the ONNX type to.
func castTensor(t *ir.Tensor, to int32) (*ir.Tensor, error) {
	dt, err := irDType(to)
	if err != nil {
		return nil, err
	}
	res := ir.NewTensor(dt, t.Shape)
	for i := 0; i < t.Len(); i++ {
		if t.DType == ir.F32 {
			f := t.F32[i]
			if dt == ir.F32 {
				if to == dtFloat16 {
					f = toHalf(f)
				}
				res.F32[i] = f
				continue
			}
			if to == dtBool {
				if f != 0 {
					res.I64[i] = 1
				}
				continue
			}
			if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) || math.Abs(float64(f)) >= 1<<63 {
				return nil, fmt.Errorf("cannot cast %v to %s", f, dtName(to))
			}
			res.I64[i] = wrapInt(int64(f), to)
			continue
		}
		v := t.I64[i]
		if dt == ir.F32 {
			f := float32(v)
			if to == dtFloat16 {
				f = toHalf(f)
			}
			res.F32[i] = f
			continue
		}
		res.I64[i] = wrapInt(v, to)
	}
	return res, nil
}

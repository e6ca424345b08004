package dl

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// PyTorch's indexing, x[-1], x[:, 0], x[..., :3], x[:, None], x[idx],
// lowered onto the ops select and index_select use: an int index is a
// gather with a scalar index (the axis goes), a slice a gather with the
// list of its indices (the axis stays), a tensor of i64 indices a gather
// along its axis, None an unsqueeze.

// axisOp is what indexing does to one axis of the input.
type axisOp struct {
	axis  int
	index int   // itemIndex with an int: the index, normalized
	keep  []int // itemSlice: the indices kept
	idx   *ir.Value
	pos   ir.Pos
}

func (l *lowerer) index(sc *scope, e *indexExpr) (val, error) {
	xv, err := l.value(sc, e.x)
	if err != nil {
		return val{}, err
	}
	if xv.kind != vTensor {
		return val{}, errAt(e.pos, "only tensors can be indexed, got %s", xv.describe())
	}
	x := xv.ts[0]
	ops, newAxes, err := l.indexPlan(sc, e, x)
	if err != nil {
		return val{}, err
	}
	// Last axis first, so that dropping an axis leaves the axes before
	// it where they are.
	y := x
	for i := len(ops) - 1; i >= 0; i-- {
		op := ops[i]
		name := l.genName(sc.prefix, "index")
		c := &call{l: l, kind: "index", name: name, pos: op.pos}
		idx := op.idx
		if idx == nil {
			t := &ir.Tensor{DType: ir.I64, Shape: ir.Shape{}, Data: []int64{int64(op.index)}}
			if op.keep != nil {
				data := make([]int64, len(op.keep))
				for j, k := range op.keep {
					data[j] = int64(k)
				}
				t = &ir.Tensor{DType: ir.I64, Shape: ir.Shape{len(data)}, Data: data}
			}
			if err := l.claim(name+".index", op.pos); err != nil {
				return val{}, err
			}
			idx = l.g.AddParam(name+".index", ir.Const, t.Type(), t, "", op.pos)
		}
		v, err := c.node("gather", []*ir.Value{y, idx}, ir.Attrs{"axis": op.axis})
		if err != nil {
			return val{}, err
		}
		y = v.ts[0]
	}
	if len(newAxes) > 0 {
		c := &call{l: l, kind: "index", name: l.genName(sc.prefix, "index"), pos: e.pos}
		v, err := c.node("unsqueeze", []*ir.Value{y}, ir.Attrs{"axes": newAxes})
		if err != nil {
			return val{}, err
		}
		y = v.ts[0]
	}
	return tensorVal(y), nil
}

// indexPlan works out, for x[items], the gather of each axis that changes
// (in axis order) and the output positions of the None axes.
func (l *lowerer) indexPlan(sc *scope, e *indexExpr, x *ir.Value) ([]axisOp, []int, error) {
	s := x.Type.Shape
	used, ellipsis := 0, -1
	for i, it := range e.items {
		switch it.kind {
		case itemIndex, itemSlice:
			used++
		case itemEllipsis:
			if ellipsis >= 0 {
				return nil, nil, errAt(it.pos, "an index has at most one ...")
			}
			ellipsis = i
		}
	}
	if used > len(s) {
		return nil, nil, errAt(e.pos, "too many indices for %s %v: %d for %d axes", x.Name, x.Type, used, len(s))
	}
	var ops []axisOp
	var newAxes []int
	axis, out, tensors := 0, 0, 0
	for _, it := range e.items {
		switch it.kind {
		case itemEllipsis:
			n := len(s) - used
			axis += n
			out += n
		case itemNewAxis:
			newAxes = append(newAxes, out)
			out++
		case itemSlice:
			keep, err := l.sliceIndices(sc, it, s[axis], axis, x)
			if err != nil {
				return nil, nil, err
			}
			if keep != nil {
				ops = append(ops, axisOp{axis: axis, keep: keep, pos: it.pos})
			}
			axis++
			out++
		case itemIndex:
			v, err := l.value(sc, it.idx)
			if err != nil {
				return nil, nil, err
			}
			switch {
			case v.kind == vInt:
				d := s[axis]
				if v.i < int64(-d) || v.i >= int64(d) {
					return nil, nil, errAt(it.pos, "index %d is out of range for axis %d of %s %v (size %d)", v.i, axis, x.Name, x.Type, d)
				}
				i := int(v.i)
				if i < 0 {
					i += d
				}
				ops = append(ops, axisOp{axis: axis, index: i, pos: it.pos})
			case v.kind == vTensor && v.ts[0].Type.DType == ir.I64:
				tensors++
				if tensors > 1 {
					return nil, nil, errAt(it.pos, "one tensor of indices per index: index again, as x[i][:, j], or use gather_elements")
				}
				t := v.ts[0]
				ops = append(ops, axisOp{axis: axis, idx: t, pos: it.pos})
				out += len(t.Type.Shape) // its axes replace the indexed one
			default:
				return nil, nil, errAt(it.pos, "an index is an int, a slice (start:stop:step), ..., None or an i64 tensor, got %s", v.describe())
			}
			axis++
		}
	}
	return ops, newAxes, nil
}

// sliceIndices is the indices start:stop:step keeps of an axis of size
// d (Python's rules: negative counts from the end, out of range clamps),
// or nil when it keeps the whole axis.
func (l *lowerer) sliceIndices(sc *scope, it indexItem, d, axis int, x *ir.Value) ([]int, error) {
	bound := func(e expr, def int) (int, error) {
		if e == nil {
			return def, nil
		}
		v, err := l.value(sc, e)
		if err != nil {
			return 0, err
		}
		if v.kind != vInt || v.i < -maxDim || v.i > maxDim {
			return 0, errAt(e.exprPos(), "a slice bound is an int, got %s", v.describe())
		}
		return int(v.i), nil
	}
	step, err := bound(it.step, 1)
	if err != nil {
		return nil, err
	}
	if step < 1 {
		return nil, errAt(it.pos, "slice step must be positive, got %d (as in PyTorch)", step)
	}
	clamp := func(b int) int {
		if b < 0 {
			b += d
		}
		return max(0, min(b, d))
	}
	start, err := bound(it.start, 0)
	if err != nil {
		return nil, err
	}
	stop, err := bound(it.stop, d)
	if err != nil {
		return nil, err
	}
	b, e := clamp(start), clamp(stop)
	var keep []int
	for i := b; i < e; i += step {
		keep = append(keep, i)
	}
	if len(keep) == 0 {
		return nil, errAt(it.pos, "slice %s of axis %d of %s %v (size %d) is empty", sliceText(it, start, stop, step), axis, x.Name, x.Type, d)
	}
	if len(keep) == d {
		return nil, nil
	}
	return keep, nil
}

func sliceText(it indexItem, start, stop, step int) string {
	s := ""
	if it.start != nil {
		s = fmt.Sprint(start)
	}
	s += ":"
	if it.stop != nil {
		s += fmt.Sprint(stop)
	}
	if it.step != nil {
		s += fmt.Sprintf(":%d", step)
	}
	return s
}

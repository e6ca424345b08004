package onnx

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/dlcompiler/dlc/ir"
)

// Ops whose output shape depends on input values (Unique, NonZero,
// Compress) and ReverseSequence. dlc's IR has static shapes, so these
// are specialized on the values that decide the shape, as `dlc run` and
// `dlc compile --bind` specialize on given inputs (issue 10 item 4):
//
//   - Compress needs only its condition known: it becomes a gather of
//     the selected indices, and the data stays a run-time input.
//   - ReverseSequence needs its sequence_lens known: a gather of a known
//     permutation of the elements.
//   - Unique and NonZero need their input known: every output is then a
//     constant, computed here at import (their outputs' sizes are the
//     whole of their meaning).
//
// An input they need that is a graph input is reported for binding
// (constIn), and the conformance runner and `dlc run` bind it from the
// values given.

func init() {
	for k, v := range map[string]opConv{
		"Compress": {2, nil, compress}, "ReverseSequence": {2, nil, reverseSequence},
		"Unique": {1, nil, unique}, "NonZero": {1, nil, nonZero},
	} {
		opTable[k] = v
	}
}

// compress keeps the slices along axis (of the flattened input when
// axis is absent) whose condition is true; a condition shorter than the
// axis drops the rest.
func compress(c *nctx) error {
	x := c.in(0)
	cond, err := c.constIn(1, "condition")
	if err != nil {
		return err
	}
	if len(cond.Shape) != 1 {
		return fmt.Errorf("condition %v must be 1-D", cond.Shape)
	}
	if !c.has("axis") {
		if x, err = c.reshape(x, ir.Shape{x.shape().NumElems()}, "flat"); err != nil {
			return err
		}
	}
	axis, err := c.int("axis", 0)
	if err != nil {
		return err
	}
	s := x.shape()
	if axis, err = ir.NormAxis(axis, len(s)); err != nil {
		return err
	}
	if cond.Len() > s[axis] {
		return fmt.Errorf("condition has %d values, axis %d of %v only %d", cond.Len(), axis, s, s[axis])
	}
	var idx []int
	for i := range cond.Len() {
		if cond.Float(i) != 0 {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		e := s.Clone()
		e[axis] = 0
		c.set(0, c.known(ir.NewTensor(x.typ().DType, e), x.elem, false))
		return nil
	}
	y, err := c.gather(x, c.known(i64s(idx...), dtInt64, false), axis, "")
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

// reverseSequence reverses the first sequence_lens[b] steps along
// time_axis of every batch entry b (batch_axis), leaving the rest: a
// gather of the known source of every element of the flattened input.
func reverseSequence(c *nctx) error {
	x := c.in(0)
	lens, _, err := c.constInts(1, "sequence_lens")
	if err != nil {
		return err
	}
	ta, err := c.int("time_axis", 0)
	if err != nil {
		return err
	}
	ba, err := c.int("batch_axis", 1)
	if err != nil {
		return err
	}
	s := x.shape()
	if len(s) < 2 || ta == ba || ta < 0 || ba < 0 || ta > 1 || ba > 1 {
		return fmt.Errorf("time_axis %d and batch_axis %d must be 0 and 1 in some order, of an input of rank >= 2 (%v)", ta, ba, s)
	}
	if len(lens) != s[ba] {
		return fmt.Errorf("sequence_lens has %d values for a batch of %d", len(lens), s[ba])
	}
	for _, l := range lens {
		if l < 0 || l > s[ta] {
			return fmt.Errorf("sequence length %d is outside 0..%d", l, s[ta])
		}
	}
	st := s.Strides()
	src := make([]int, s.NumElems())
	for i := range src {
		t, b := i/st[ta]%s[ta], i/st[ba]%s[ba]
		j := i
		if t < lens[b] {
			j += (lens[b] - 1 - 2*t) * st[ta]
		}
		src[i] = j
	}
	flat, err := c.reshape(x, ir.Shape{len(src)}, "flat")
	if err != nil {
		return err
	}
	y, err := c.gather(flat, c.known(i64s(src...), dtInt64, false), 0, "")
	if err != nil {
		return err
	}
	if y, err = c.reshape(y, s, "shape"); err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

// nonZero lists the indices of the non-zero elements of a known input,
// one row per axis, in C order.
func nonZero(c *nctx) error {
	x, err := c.constIn(0, "the input of NonZero (its output size depends on its values)")
	if err != nil {
		return err
	}
	var at []int
	for i := range x.Len() {
		if x.Float(i) != 0 {
			at = append(at, i)
		}
	}
	r := len(x.Shape)
	y := ir.NewTensor(ir.I64, ir.Shape{r, len(at)})
	st := x.Shape.Strides()
	for k, i := range at {
		for d := range r {
			y.I64()[d*len(at)+k] = int64(i / st[d] % x.Shape[d])
		}
	}
	c.set(0, c.known(y, dtInt64, false))
	return nil
}

// unique finds the distinct slices along axis (the distinct elements of
// the flattened input without axis) of a known input: sorted as numpy
// sorts them, or in order of first occurrence, with the index of each
// first occurrence, the inverse (the unique slice of every input slice)
// and the counts.
func unique(c *nctx) error {
	x, err := c.constIn(0, "the input of Unique (its output size depends on its values)")
	if err != nil {
		return err
	}
	sorted, err := c.int("sorted", 1)
	if err != nil {
		return err
	}
	s := x.Shape
	axis := -1
	if c.has("axis") {
		if axis, err = c.int("axis", 0); err != nil {
			return err
		}
		if axis, err = ir.NormAxis(axis, len(s)); err != nil {
			return err
		}
	}
	outer, n, inner := s.NumElems(), s.NumElems(), 1
	if axis >= 0 {
		outer, n, inner = ir.AxisSplit(s, axis)
	} else {
		outer = 1
	}
	// key(j, e) is element e of slice j (outer × inner elements).
	key := func(j, e int) float64 { return x.Float((e/inner*n+j)*inner + e%inner) }
	if x.DType.IsInt() {
		key = func(j, e int) float64 { return float64(x.Int((e/inner*n+j)*inner + e%inner)) }
	}
	cmpSlices := func(a, b int) int {
		for e := range outer * inner {
			if d := cmp.Compare(key(a, e), key(b, e)); d != 0 {
				return d
			}
		}
		return 0
	}
	var first []int // first occurrence of each distinct slice
	inverse := make([]int, n)
	counts := map[int]int{}
	for j := range n {
		u := slices.IndexFunc(first, func(f int) bool { return cmpSlices(f, j) == 0 })
		if u < 0 {
			u = len(first)
			first = append(first, j)
		}
		inverse[j] = u
		counts[u]++
	}
	order := make([]int, len(first)) // output position → distinct slice
	for i := range order {
		order[i] = i
	}
	if sorted != 0 {
		slices.SortStableFunc(order, func(a, b int) int { return cmpSlices(first[a], first[b]) })
	}
	pos := make([]int, len(first)) // distinct slice → output position
	for p, u := range order {
		pos[u] = p
	}
	return c.setUnique(x, axis, first, order, pos, inverse, counts)
}

// setUnique binds Unique's four outputs.
func (c *nctx) setUnique(x *ir.Tensor, axis int, first, order, pos, inverse []int, counts map[int]int) error {
	k := len(first)
	idx, cnt := make([]int, k), make([]int, k)
	for p, u := range order {
		idx[p], cnt[p] = first[u], counts[u]
	}
	inv := make([]int, len(inverse))
	for j, u := range inverse {
		inv[j] = pos[u]
	}
	src, a := x, axis
	if axis < 0 {
		src, a = &ir.Tensor{DType: x.DType, Shape: ir.Shape{x.Len()}, Data: x.Data}, 0
	}
	y, err := evalKnown("gather", ir.Attrs{"axis": a}, src, i64s(idx...))
	if err != nil {
		return err
	}
	c.set(0, c.known(y, c.in(0).elem, false))
	for i, v := range [][]int{idx, inv, cnt} {
		c.set(i+1, c.known(i64s(v...), dtInt64, false))
	}
	return nil
}

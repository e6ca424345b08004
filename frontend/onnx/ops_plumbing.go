package onnx

import (
	"fmt"
	"math"

	"github.com/dlcompiler/dlc/ir"
)

// Tensor plumbing written with ir's data-movement ops, which move every
// dtype alike: DepthToSpace and SpaceToDepth are reshape, transpose,
// reshape; Split is a gather of known indices per output (as Slice);
// Tile is a reshape, an expand and a reshape; Size and Range of known
// values fold; Trilu, the gathers and scatters and OneHot are ir ops.

func init() {
	for k, v := range map[string]opConv{
		"DepthToSpace": {1, nil, depthToSpace}, "SpaceToDepth": {1, nil, spaceToDepth},
		"Split": {1, nil, split}, "Size": {1, nil, sizeOp}, "Range": {3, nil, rangeOp}, "Tile": {2, nil, tile},
		"Trilu":          {1, nil, triluOp},
		"GatherElements": {2, nil, sameAttrsOp("gather_elements")}, "ScatterElements": {3, nil, sameAttrsOp("scatter_elements")},
		"Scatter": {3, nil, sameAttrsOp("scatter_elements")}, "GatherND": {2, nil, sameAttrsOp("gather_nd")},
		"ScatterND": {3, nil, sameAttrsOp("scatter_nd")}, "OneHot": {3, nil, oneHotOp},
	} {
		opTable[k] = v
	}
}

// blockArgs checks a 4-D input and a positive blocksize.
func (c *nctx) blockArgs() (ir.Shape, int, error) {
	s := c.in(0).shape()
	b, err := c.int("blocksize", 0)
	if err != nil {
		return nil, 0, err
	}
	if len(s) != 4 {
		return nil, 0, fmt.Errorf("input %v must be 4-D [N, C, H, W]", s)
	}
	if b < 1 {
		return nil, 0, fmt.Errorf("blocksize %d must be positive", b)
	}
	return s, b, nil
}

// reshapeTranspose is reshape to mid, transpose by perm, reshape to out.
func (c *nctx) reshapeTranspose(mid ir.Shape, perm []int, out ir.Shape) error {
	x, err := c.reshape(c.in(0), mid, "split")
	if err != nil {
		return err
	}
	if x, err = c.transpose(x, perm, "perm"); err != nil {
		return err
	}
	if x, err = c.reshape(x, out, ""); err != nil {
		return err
	}
	c.set(0, x)
	return nil
}

// depthToSpace moves channel blocks into space: DCR (the default) takes
// the block offset from the outer channel bits, CRD from the inner.
func depthToSpace(c *nctx) error {
	s, b, err := c.blockArgs()
	if err != nil {
		return err
	}
	mode, err := c.str("mode", "DCR")
	if err != nil {
		return err
	}
	n, ch, h, w := s[0], s[1], s[2], s[3]
	if ch%(b*b) != 0 {
		return fmt.Errorf("channels %d are not a multiple of blocksize² %d", ch, b*b)
	}
	out := ir.Shape{n, ch / (b * b), h * b, w * b}
	switch mode {
	case "DCR":
		return c.reshapeTranspose(ir.Shape{n, b, b, ch / (b * b), h, w}, []int{0, 3, 4, 1, 5, 2}, out)
	case "CRD":
		return c.reshapeTranspose(ir.Shape{n, ch / (b * b), b, b, h, w}, []int{0, 1, 4, 2, 5, 3}, out)
	}
	return unsup("mode %q is not DCR or CRD", mode)
}

func spaceToDepth(c *nctx) error {
	s, b, err := c.blockArgs()
	if err != nil {
		return err
	}
	n, ch, h, w := s[0], s[1], s[2], s[3]
	if h%b != 0 || w%b != 0 {
		return fmt.Errorf("spatial size %dx%d is not a multiple of blocksize %d", h, w, b)
	}
	return c.reshapeTranspose(ir.Shape{n, ch, h / b, b, w / b, b}, []int{0, 3, 5, 1, 2, 4}, ir.Shape{n, ch * b * b, h / b, w / b})
}

// split cuts the input along axis into the sizes of split (an attribute
// before opset 13, an input from it), else into num_outputs parts (opset
// 18; the last may be smaller), else into equal parts, one per output.
func split(c *nctx) error {
	x := c.in(0)
	s := x.shape()
	axis, err := c.int("axis", 0)
	if err != nil {
		return err
	}
	if axis, err = ir.NormAxis(axis, len(s)); err != nil {
		return err
	}
	var parts []int
	if c.opset < 13 {
		parts, err = c.ints("split", nil)
	} else {
		parts, _, err = c.constInts(1, "split")
	}
	if err != nil {
		return err
	}
	d, n := s[axis], len(c.n.outputs)
	if parts == nil {
		k, err := c.int("num_outputs", n)
		if err != nil {
			return err
		}
		if k < 1 {
			return fmt.Errorf("num_outputs %d must be positive", k)
		}
		step := (d + k - 1) / k
		if !c.has("num_outputs") && d%k != 0 {
			return fmt.Errorf("axis %d of %v does not split into %d equal parts", axis, s, k)
		}
		for off := 0; off < d; off += step {
			parts = append(parts, min(step, d-off))
		}
	}
	sum := 0
	for _, p := range parts {
		if p < 0 {
			return fmt.Errorf("split %v has a negative size", parts)
		}
		sum += p
	}
	if sum != d || len(parts) != n {
		return fmt.Errorf("split %v: want %d sizes summing to %d (axis %d of %v)", parts, n, d, axis, s)
	}
	off := 0
	for i, p := range parts {
		idx := make([]int, p)
		for j := range idx {
			idx[j] = off + j
		}
		off += p
		if !c.hasOut(i) {
			continue
		}
		if p == d {
			c.set(i, x)
			continue
		}
		if p == 0 {
			// An empty part has no ir value (ir tensors are not
			// empty): a known tensor of no elements, which concat
			// leaves out (RotaryEmbedding's function body splits off
			// a pass-through part of size 0 and concatenates it back).
			e := s.Clone()
			e[axis] = 0
			c.set(i, c.known(ir.NewTensor(x.typ().DType, e), x.elem, false))
			continue
		}
		y, err := c.gather(x, c.known(i64s(idx...), dtInt64, false), axis, fmt.Sprintf("part%d", i))
		if err != nil {
			return err
		}
		c.set(i, y)
	}
	return nil
}

// sizeOp folds Size: shapes are static.
func sizeOp(c *nctx) error {
	t := &ir.Tensor{DType: ir.I64, Shape: ir.Shape{}, Data: []int64{int64(c.in(0).shape().NumElems())}}
	c.set(0, c.known(t, dtInt64, false))
	return nil
}

// rangeOp folds Range of known start, limit and delta: max(ceil((limit
// - start)/delta), 0) values start + i·delta.
func rangeOp(c *nctx) error {
	var ts [3]*ir.Tensor
	for i, what := range []string{"start", "limit", "delta"} {
		t, err := c.constIn(i, what)
		if err != nil {
			return err
		}
		if t == nil || t.Len() != 1 {
			return fmt.Errorf("%s must be a scalar", what)
		}
		ts[i] = t
	}
	dt := ts[0].DType
	if ts[1].DType != dt || ts[2].DType != dt {
		return fmt.Errorf("start, limit and delta must have one dtype, got %v, %v and %v", dt, ts[1].DType, ts[2].DType)
	}
	if dt.IsFloat() {
		start, limit, delta := ts[0].Float(0), ts[1].Float(0), ts[2].Float(0)
		if delta == 0 || math.IsNaN(start+limit+delta) {
			return fmt.Errorf("Range(%g, %g, %g) has no length", start, limit, delta)
		}
		n := math.Max(math.Ceil((limit-start)/delta), 0)
		if n > maxFold {
			return unsup("a Range of %g values is too large to fold", n)
		}
		t := ir.NewTensor(dt, ir.Shape{int(n)})
		for i := range int(n) {
			t.SetFloat(i, start+float64(i)*delta)
		}
		c.set(0, c.known(t, c.in(0).elem, false))
		return nil
	}
	start, limit, delta := ts[0].Int(0), ts[1].Int(0), ts[2].Int(0)
	if delta == 0 {
		return fmt.Errorf("delta must not be 0")
	}
	n := max((limit-start+delta-sign(delta))/delta, 0) // ceil((limit-start)/delta)
	if n > maxFold {
		return unsup("a Range of %d values is too large to fold", n)
	}
	t := ir.NewTensor(dt, ir.Shape{int(n)})
	for i := range int(n) {
		t.SetInt(i, start+int64(i)*delta)
	}
	c.set(0, c.known(t, c.in(0).elem, false))
	return nil
}

func sign(v int64) int64 {
	if v < 0 {
		return -1
	}
	return 1
}

// tile repeats the input: reshape [d0, d1, ...] to [1, d0, 1, d1, ...],
// expand to [r0, d0, r1, d1, ...] and reshape to [r0·d0, r1·d1, ...].
func tile(c *nctx) error {
	x := c.in(0)
	s := x.shape()
	reps, ok, err := c.constInts(1, "repeats")
	if err != nil {
		return err
	}
	if !ok || len(reps) != len(s) {
		return fmt.Errorf("repeats %v: want one value per axis of %v", reps, s)
	}
	var mid, big, out ir.Shape
	for i, d := range s {
		if reps[i] < 0 {
			return fmt.Errorf("repeats %v must not be negative", reps)
		}
		mid = append(mid, 1, d)
		big = append(big, reps[i], d)
		out = append(out, reps[i]*d)
	}
	if out.NumElems() > maxElems {
		return unsup("tiling to %v is too large", out)
	}
	if out.NumElems() == 0 {
		return unsup("tiling to the empty shape %v", out)
	}
	y, err := c.reshape(x, mid, "rows")
	if err != nil {
		return err
	}
	if y, err = c.broadcastTo(y, big); err != nil {
		return err
	}
	if y, err = c.reshape(y, out, ""); err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

// triluOp maps Trilu: upper (default 1) keeps the upper triangle from
// diagonal k, a known optional input (default 0).
func triluOp(c *nctx) error {
	upper, err := c.int("upper", 1)
	if err != nil {
		return err
	}
	k := 0
	if ks, ok, err := c.constInts(1, "k"); err != nil {
		return err
	} else if ok {
		if len(ks) != 1 {
			return fmt.Errorf("k must be one value, got %v", ks)
		}
		k = ks[0]
	}
	y, err := c.emit1("trilu", "", []*val{c.in(0)}, ir.Attrs{"upper": upper != 0, "k": k})
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

// sameAttrsOp maps an ONNX op whose inputs and attributes are those of
// ir op (the gathers and scatters).
func sameAttrsOp(op string) func(c *nctx) error {
	return func(c *nctx) error {
		attrs, err := c.sameAttrs(ir.Lookup(op))
		if err != nil {
			return err
		}
		var ins []*val
		for i := range c.n.inputs {
			ins = append(ins, c.in(i))
		}
		y, err := c.emit1(op, "", ins, attrs)
		if err != nil {
			return err
		}
		c.set(0, y)
		return nil
	}
}

// oneHotOp maps OneHot; depth must be known (it sets the output shape).
func oneHotOp(c *nctx) error {
	t, err := c.constIn(1, "depth")
	if err != nil {
		return err
	}
	if t == nil || t.Len() != 1 {
		return fmt.Errorf("depth must be one value")
	}
	depth := t.Float(0)
	if depth < 1 || depth > maxElems {
		return fmt.Errorf("depth %g is out of range", depth)
	}
	axis, err := c.int("axis", -1)
	if err != nil {
		return err
	}
	y, err := c.emit1("one_hot", "", []*val{c.in(0), c.in(2)}, ir.Attrs{"depth": int(depth), "axis": axis})
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

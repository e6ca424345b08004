package runtime

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// Ops that move data without arithmetic. They work on every dtype alike.

func init() {
	register("flatten", viewKernel(flattenShape))
	register("reshape", viewKernel(func(n *ir.Node, in ir.Shape) (ir.Shape, error) {
		return ir.ReshapeShape(in, n.Attrs.Ints("shape"))
	}))
	register("squeeze", viewKernel(squeezeShape))
	register("unsqueeze", viewKernel(unsqueezeShape))
	register("transpose", transpose)
	register("concat", concat)
	register("gather", gather)
	register("embedding", embedding)
}

// viewKernel makes the kernel of an op that keeps the elements in order
// and only changes the shape (flatten, reshape, squeeze, unsqueeze). The
// shape comes from the input and the attributes, not from the node's
// inferred output, so kernels also run on synthetic nodes.
func viewKernel(shape func(n *ir.Node, in ir.Shape) (ir.Shape, error)) Kernel {
	return func(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
		s, err := shape(n, in[0].Shape)
		if err != nil {
			return nil, err
		}
		t, err := withShape(in[0], s)
		if err != nil {
			return nil, err
		}
		return one(t)
	}
}

// flattenShape is [prod(in[:axis]), prod(in[axis:])]; axis may equal the rank.
func flattenShape(n *ir.Node, in ir.Shape) (ir.Shape, error) {
	a := n.Attrs.Int("axis")
	if a < 0 {
		a += len(in)
	}
	if a < 0 || a > len(in) {
		return nil, fmt.Errorf("flatten axis %d is out of range for rank %d", n.Attrs.Int("axis"), len(in))
	}
	return ir.Shape{prod(in[:a]), prod(in[a:])}, nil
}

// squeezeShape drops the listed axes (each of size 1), or every axis of
// size 1 when none are listed.
func squeezeShape(n *ir.Node, in ir.Shape) (ir.Shape, error) {
	axes := n.Attrs.Ints("axes")
	drop := make([]bool, len(in))
	for _, a := range axes {
		na, err := ir.NormAxis(a, len(in))
		if err != nil {
			return nil, err
		}
		if in[na] != 1 {
			return nil, fmt.Errorf("squeeze axis %d has size %d, want 1", a, in[na])
		}
		drop[na] = true
	}
	out := ir.Shape{}
	for i, d := range in {
		if !drop[i] && (len(axes) > 0 || d != 1) {
			out = append(out, d)
		}
	}
	return out, nil
}

// unsqueezeShape inserts axes of size 1 at the listed output positions.
func unsqueezeShape(n *ir.Node, in ir.Shape) (ir.Shape, error) {
	axes := n.Attrs.Ints("axes")
	r := len(in) + len(axes)
	ins := make([]bool, r)
	for _, a := range axes {
		na, err := ir.NormAxis(a, r)
		if err != nil {
			return nil, err
		}
		if ins[na] {
			return nil, fmt.Errorf("unsqueeze axes %v repeat axis %d", axes, na)
		}
		ins[na] = true
	}
	out := make(ir.Shape, 0, r)
	j := 0
	for i := 0; i < r; i++ {
		if ins[i] {
			out = append(out, 1)
		} else {
			out = append(out, in[j])
			j++
		}
	}
	return out, nil
}

// transpose permutes axes: output axis i is input axis perm[i].
func transpose(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	perm := n.Attrs.Ints("perm")
	if len(perm) != len(x.Shape) {
		return nil, fmt.Errorf("perm %v does not match input rank %d", perm, len(x.Shape))
	}
	xs := x.Shape.Strides()
	out := make(ir.Shape, len(perm))
	st := make([]int, len(perm)) // input stride along each output axis
	for i, p := range perm {
		if p < 0 || p >= len(perm) {
			return nil, fmt.Errorf("perm %v is not a permutation", perm)
		}
		out[i], st[i] = x.Shape[p], xs[p]
	}
	return one(take(x, out, strideWalk(out, st)))
}

// concat joins its inputs along axis.
func concat(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	first := in[0]
	axis, err := ir.NormAxis(n.Attrs.Int("axis"), len(first.Shape))
	if err != nil {
		return nil, err
	}
	out := first.Shape.Clone()
	out[axis] = 0
	for _, t := range in {
		if t.DType != first.DType || len(t.Shape) != len(first.Shape) {
			return nil, fmt.Errorf("cannot concat %v with %v", first.Type(), t.Type())
		}
		out[axis] += t.Shape[axis]
	}
	outer, inner := prod(first.Shape[:axis]), prod(first.Shape[axis+1:])
	y := ir.NewTensor(first.DType, out)
	at := 0 // offset of the current input's block within an output row
	row := out[axis] * inner
	for _, t := range in {
		chunk := t.Shape[axis] * inner
		for o := 0; o < outer; o++ {
			copyElems(y, o*row+at, t, o*chunk, chunk)
		}
		at += chunk
	}
	return one(y)
}

// gather is numpy's take along axis: the output shape is
// data.shape[:axis] + indices.shape + data.shape[axis+1:]. Negative
// indices count from the end; an index out of range is an error.
func gather(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	data, indices := in[0], in[1]
	axis, err := ir.NormAxis(n.Attrs.Int("axis"), len(data.Shape))
	if err != nil {
		return nil, err
	}
	dim := data.Shape[axis]
	outer, inner := prod(data.Shape[:axis]), prod(data.Shape[axis+1:])
	rows := make([]int, indices.Len())
	for q := range rows {
		v := indices.Int(q)
		if v < -int64(dim) || v >= int64(dim) {
			return nil, fmt.Errorf("index %d at position %d of indices %v is out of range for axis %d of size %d (want %d..%d)",
				v, q, indices.Shape, axis, dim, -dim, dim-1)
		}
		if v < 0 {
			v += int64(dim)
		}
		rows[q] = int(v)
	}
	shape := append(data.Shape[:axis].Clone(), indices.Shape...)
	shape = append(shape, data.Shape[axis+1:]...)
	src := make([]int, 0, shape.NumElems())
	for o := 0; o < outer; o++ {
		for _, r := range rows {
			for j := 0; j < inner; j++ {
				src = append(src, (o*dim+r)*inner+j)
			}
		}
	}
	return one(take(data, shape, src))
}

// embedding looks up rows of weight [vocab, dim] by id; the output shape
// is ids.shape + [dim]. An id outside [0, vocab) is an error.
func embedding(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	ids, w := in[0], in[1]
	vocab, dim := w.Shape[0], w.Shape[1]
	y := ir.NewTensor(w.DType, append(ids.Shape.Clone(), dim))
	for q := range ids.Len() {
		id := ids.Int(q)
		if id < 0 || id >= int64(vocab) {
			why := ""
			if id < 0 {
				why = "; as in PyTorch's nn.Embedding, ids do not count from the end (gather does)"
			}
			return nil, fmt.Errorf("token id %d at position %d of ids %v is out of range for vocabulary size %d (want 0..%d%s)",
				id, q, ids.Shape, vocab, vocab-1, why)
		}
		copyElems(y, q*dim, w, int(id)*dim, dim)
	}
	return one(y)
}

package passes

import (
	"sort"

	"github.com/dlcompiler/dlc/ir"
)

// planAlign aligns every buffer to 16 elements (64 bytes for f32: one cache
// line).
const planAlign = 16

// plan assigns every intermediate value an offset in one arena per dtype
// (g.Memory), reusing the memory of values that are no longer needed:
//
//   - a view (an op marked View: reshape, flatten, ...) of an intermediate shares its input's
//     memory and extends its lifetime; a view of a graph input or a
//     parameter gets no offset (it reads that storage), unless it is a
//     graph output, which must live in the arena;
//   - an op marked InPlace in the op table (element-wise; softmax, whose
//     rows are read in full before they are written) whose input 0 dies
//     at it writes over that input, unless another input of the op
//     shares the buffer;
//   - every other value gets the best-fitting gap among the buffers live
//     during its lifetime (from its node to its last reader), else the
//     end of the arena.
//
// Graph outputs live to the end, so they stay valid after a call. Kernel
// scratch (im2col buffers, ...) is code generation's business and goes
// after the arena.
func plan(g *ir.Graph) error {
	type interval struct {
		start, end int
		size       int
	}
	root := map[*ir.Value]*ir.Value{} // value → the value owning its memory
	rootOf := func(v *ir.Value) *ir.Value {
		if r, ok := root[v]; ok {
			return r
		}
		return nil
	}
	isOut := map[*ir.Value]bool{}
	for _, o := range g.Outputs {
		isOut[o] = true
	}
	// Last reader of every value, by node index (outputs: forever).
	last := map[*ir.Value]int{}
	for i, n := range g.Nodes {
		for _, in := range n.Inputs {
			if in != nil {
				last[in] = i
			}
		}
	}
	for _, o := range g.Outputs {
		last[o] = len(g.Nodes)
	}
	var order []*ir.Value
	ivs := map[*ir.Value]*interval{}
	naive := 0
	for i, n := range g.Nodes {
		for _, in := range n.Inputs {
			if r := rootOf(in); r != nil && ivs[r].end < i {
				ivs[r].end = i
			}
		}
		for _, o := range n.Outputs {
			naive += o.Type.Bytes()
			var r *ir.Value
			x := n.Inputs[0]
			switch {
			case n.Def().View && x != nil && x.Type.DType == o.Type.DType:
				if r = rootOf(x); r == nil && !isOut[o] {
					continue // reads the input or parameter directly
				}
			case n.Def().InPlace && x != nil && x.Type.Equal(o.Type) && rootOf(x) != nil:
				rx := rootOf(x)
				ok := ivs[rx].end <= i // x and every view of it die here
				for _, other := range n.Inputs[1:] {
					if other != nil && other != x && rootOf(other) == rx {
						ok = false
					}
				}
				if ok {
					r = rx
				}
			}
			if r == nil {
				r = o
				ivs[o] = &interval{start: i, end: i, size: o.Type.Shape.NumElems()}
				order = append(order, o)
			}
			root[o] = r
			if e := max(last[o], i); e > ivs[r].end {
				ivs[r].end = e
			}
		}
	}
	p := &ir.MemoryPlan{Offset: map[*ir.Value]int{}, Size: map[ir.DType]int{}, Naive: naive}
	type block struct{ off, size, end int }
	live := map[ir.DType][]block{}
	for _, v := range order {
		iv := ivs[v]
		dt := v.Type.DType
		size := (iv.size + planAlign - 1) / planAlign * planAlign
		// Blocks still live at this value's start, by offset.
		var keep []block
		for _, b := range live[dt] {
			if b.end >= iv.start {
				keep = append(keep, b)
			}
		}
		sort.Slice(keep, func(i, j int) bool { return keep[i].off < keep[j].off })
		// Best fit among the gaps between live blocks; else the end.
		best, bestSize := -1, 0
		prev := 0
		for _, b := range keep {
			if gap := b.off - prev; gap >= size && (best < 0 || gap < bestSize) {
				best, bestSize = prev, gap
			}
			if e := b.off + b.size; e > prev {
				prev = e
			}
		}
		if best < 0 {
			best = prev
		}
		p.Offset[v] = best
		if best+size > p.Size[dt] {
			p.Size[dt] = best + size
		}
		live[dt] = append(keep, block{best, size, iv.end})
	}
	for v, r := range root {
		p.Offset[v] = p.Offset[r]
	}
	g.Memory = p
	return nil
}

package passes

import (
	"sort"

	"github.com/dlcompiler/dlc/ir"
)

// planAlign aligns every buffer to 16 elements (64 bytes for f32: one cache
// line).
const planAlign = 16

// plan assigns every intermediate value an offset in one arena per dtype,
// reusing the memory of values that are no longer needed (liveness-based,
// best fit). A view (reshape, flatten, ...) of an intermediate shares its
// input's memory and extends its lifetime. Graph outputs live to the end,
// so they stay valid after a call.
func plan(g *ir.Graph) error {
	type interval struct {
		root       *ir.Value
		start, end int
		size       int
	}
	root := map[*ir.Value]*ir.Value{}
	var order []*ir.Value
	ivs := map[*ir.Value]*interval{}
	naive := 0
	for i, n := range g.Nodes {
		for _, o := range n.Outputs {
			naive += o.Type.Bytes()
			r := o
			if ir.IsView(n.Op) && n.Inputs[0].Kind == ir.Temp && n.Inputs[0].Type.DType == o.Type.DType {
				r = root[n.Inputs[0]]
			}
			root[o] = r
			if r == o {
				ivs[o] = &interval{root: o, start: i, end: i, size: o.Type.Shape.NumElems()}
				order = append(order, o)
			}
		}
		for _, in := range n.Inputs {
			if r, ok := root[in]; ok && ivs[r].end < i {
				ivs[r].end = i
			}
		}
	}
	for _, o := range g.Outputs {
		if r, ok := root[o]; ok {
			ivs[r].end = len(g.Nodes)
		}
	}
	p := &ir.MemoryPlan{Offset: map[*ir.Value]int{}, Size: map[ir.DType]int{}, Naive: naive}
	type block struct{ off, size, end int }
	live := map[ir.DType][]block{}
	for _, v := range order {
		iv := ivs[v]
		dt := v.Type.DType
		size := (iv.size + planAlign - 1) / planAlign * planAlign
		// Blocks still live at this node's start, by offset.
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

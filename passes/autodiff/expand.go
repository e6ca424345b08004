package autodiff

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// Rules by expansion: an op whose gradient is long to write by hand
// (recurrent layers unrolled through time, the normalizations, nll_loss)
// has its forward rebuilt in the backward graph from differentiable ops,
// and the gradient is taken through that rebuilt forward with the other
// rules. The forward is computed twice (once by the op's own kernel,
// once by the expansion, for the gradient only), which costs time but
// keeps a single source of truth per gradient: every rule the expansion
// uses is itself checked against finite differences and PyTorch.
//
// Slices of one value into equal parts (the time steps of a sequence,
// the gate blocks of a weight) would each get a gather's gradient, a
// scatter into a zero tensor of the whole value, and the sum of all of
// them would cost parts² times the value's size. An expansion takes them
// with split instead, and the parts' gradients are joined by one concat.

// expansion is a rebuilt forward under construction.
type expansion struct {
	*builder
	start  int                 // len(g.Nodes) when the expansion began
	splits []*splitGroup       // in creation order
	partOf map[*ir.Node]bool   // the gather nodes of splits, skipped by backprop
	groups map[*ir.Value][]int // split source -> indices into splits
}

// splitGroup is a value cut into parts along an axis; squeezed parts
// dropped the axis (each was one index wide).
type splitGroup struct {
	src      *ir.Value
	axis     int
	parts    []*ir.Value
	sizes    []int
	squeezed bool
}

func newExpansion(g *ir.Graph, n *ir.Node) *expansion {
	return &expansion{builder: newBuilder(g, n), start: len(g.Nodes), partOf: map[*ir.Node]bool{}, groups: map[*ir.Value][]int{}}
}

// split cuts v along axis into parts of the given sizes (summing to the
// axis), each a gather of its index range; squeeze (every size 1) drops
// the axis.
func (e *expansion) split(v *ir.Value, axis int, sizes []int, squeeze bool) []*ir.Value {
	if e.err != nil {
		return make([]*ir.Value, len(sizes))
	}
	sg := &splitGroup{src: v, axis: axis, sizes: sizes, squeezed: squeeze}
	off := 0
	for _, s := range sizes {
		var p *ir.Value
		if squeeze {
			t := ir.NewTensor(ir.I64, ir.Shape{})
			t.I64()[0] = int64(off)
			iv := e.g.AddParam(e.name(), ir.Const, t.Type(), t, "", e.n.Pos)
			p = e.op("gather", ir.Attrs{"axis": axis}, v, iv)
		} else {
			idx := make([]int, s)
			for j := range idx {
				idx[j] = off + j
			}
			p = e.take(v, axis, idx)
		}
		if e.err == nil {
			e.partOf[e.g.Nodes[len(e.g.Nodes)-1]] = true
		}
		sg.parts = append(sg.parts, p)
		off += s
	}
	e.groups[v] = append(e.groups[v], len(e.splits))
	e.splits = append(e.splits, sg)
	return sg.parts
}

// gradients backpropagates dys (the gradients of outs, the expansion's
// values standing for n's outputs) through the expansion and returns the
// gradients of n's inputs in input order, each once (a value that is
// several inputs gets its gradient at its first slot).
func (e *expansion) gradients(outs, dys []*ir.Value) ([]*ir.Value, error) {
	if e.err != nil {
		return nil, e.err
	}
	n, g := e.n, e.g
	sub := append([]*ir.Node(nil), g.Nodes[e.start:]...)
	dep := map[*ir.Value]bool{}
	for _, in := range n.Inputs {
		if in != nil && in.Type.DType.IsFloat() {
			dep[in] = true
		}
	}
	for _, m := range sub {
		for _, in := range m.Inputs {
			if in != nil && dep[in] {
				for _, o := range m.Outputs {
					dep[o] = true
				}
			}
		}
	}
	grads := map[*ir.Value]*ir.Value{}
	for j, o := range outs {
		if j < len(dys) && dys[j] != nil && o != nil {
			e.accumulate(grads, o, dys[j])
		}
	}
	for i := len(sub) - 1; i >= 0; i-- {
		m := sub[i]
		for _, o := range m.Outputs {
			e.joinSplits(grads, o)
		}
		if e.partOf[m] {
			continue
		}
		if err := backNode(g, m, dep, grads); err != nil {
			return nil, err
		}
	}
	out := make([]*ir.Value, len(n.Inputs))
	seen := map[*ir.Value]bool{}
	for i, in := range n.Inputs {
		if in == nil || seen[in] {
			continue
		}
		seen[in] = true
		e.joinSplits(grads, in)
		out[i] = grads[in]
	}
	return out, e.err
}

// accumulate adds d to grads[v].
func (e *expansion) accumulate(grads map[*ir.Value]*ir.Value, v, d *ir.Value) {
	if prev := grads[v]; prev != nil {
		d = e.add(prev, d)
	}
	grads[v] = d
}

// joinSplits adds to grads[v] the gradients of v's split parts, joined
// by a concat (zeros for a part without one), once.
func (e *expansion) joinSplits(grads map[*ir.Value]*ir.Value, v *ir.Value) {
	for _, k := range e.groups[v] {
		sg := e.splits[k]
		var parts []*ir.Value
		any := false
		for j, p := range sg.parts {
			s := v.Type.Shape.Clone()
			s[sg.axis] = sg.sizes[j]
			d := grads[p]
			if d == nil {
				d = e.fill(s, 0)
			} else {
				any = true
				d = e.reshape(d, s)
			}
			parts = append(parts, d)
		}
		if any {
			j := parts[0]
			if len(parts) > 1 {
				j = e.op("concat", ir.Attrs{"axis": sg.axis}, parts...)
			}
			e.accumulate(grads, v, j)
		}
	}
	delete(e.groups, v)
}

// expandRule makes a rule from an expansion: build rebuilds n's forward
// and returns the values standing for its outputs.
func expandRule(build func(e *expansion) ([]*ir.Value, error)) ir.GradFunc {
	return func(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
		e := newExpansion(g, n)
		outs, err := build(e)
		if err != nil {
			return nil, err
		}
		if e.err != nil {
			return nil, e.err
		}
		if len(outs) != len(n.Outputs) {
			return nil, fmt.Errorf("autodiff: internal error: the expansion of %s has %d outputs, the op %d", n.Op, len(outs), len(n.Outputs))
		}
		for j, o := range outs {
			if o != nil && !o.Type.Equal(n.Outputs[j].Type) {
				return nil, fmt.Errorf("autodiff: internal error: the expansion of %s gives output %d as %v, the op %v", n.Op, j, o.Type, n.Outputs[j].Type)
			}
		}
		return e.gradients(outs, dys)
	}
}

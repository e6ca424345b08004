package passes

import (
	"github.com/dlcompiler/dlc/ir"
)

// fuse merges chains of ops into single kernels whose intermediates never
// reach memory. The rules, tried on every conv and dense layer and then on
// every remaining element-wise op:
//
//	conv → [+residual] → [act] → [pool]  ⇒  fused_conv   (pool only without residual,
//	                                                      and only non-overlapping windows)
//	dense → [+residual] → [act|softmax]  ⇒  fused_dense
//	elementwise → elementwise → …         ⇒  fused_ewise  (two or more steps)
//
// Each absorbed intermediate must have exactly one reader and not be a
// graph output; otherwise someone still needs it in memory, and the chain
// stops there. Which consumers an op absorbs is read from the op table,
// never from op names: an epilogue takes an op with Act set (with all its
// attributes), a chain takes ops with a Unary or Binary form.
func fuse(g *ir.Graph) error {
	f := &fuser{g: g, uses: g.Uses(), dead: map[*ir.Node]bool{}}
	for _, n := range append([]*ir.Node(nil), g.Nodes...) {
		if f.dead[n] {
			continue
		}
		if (n.Op == "conv" || n.Op == "dense") && n.Out().Type.DType != ir.F32 {
			continue // the fused kernels are f32 (f64 layers: codegen/layers64.go)
		}
		switch n.Op {
		case "conv":
			f.layer(n, "fused_conv")
		case "dense":
			f.layer(n, "fused_dense")
		}
	}
	for _, n := range append([]*ir.Node(nil), g.Nodes...) {
		if !f.dead[n] && f.stepOf(n, nil) != nil {
			f.chain(n)
		}
	}
	f.sweep()
	return nil
}

type fuser struct {
	g    *ir.Graph
	uses map[*ir.Value][]*ir.Node
	dead map[*ir.Node]bool
	// at maps a fused node to the node whose place it takes.
	at []placement
}

type placement struct{ fused, at *ir.Node }

// next returns the only reader of v, or nil when v has several readers or
// is a graph output.
func (f *fuser) next(v *ir.Value) *ir.Node {
	if f.g.IsOutput(v) || len(f.uses[v]) != 1 {
		return nil
	}
	u := f.uses[v][0]
	if f.dead[u] {
		return nil
	}
	return u
}

func (f *fuser) layer(p *ir.Node, fusedOp string) {
	attrs := p.Attrs.Clone()
	inputs := append([]*ir.Value(nil), p.Inputs...)
	for len(inputs) < 3 {
		inputs = append(inputs, nil)
	}
	cur := p.Out()
	last := p
	absorbed := []*ir.Node{}
	// +residual: an add of the layer's output and another tensor of the same type.
	if u := f.next(cur); u != nil && u.Op == "add" {
		other := u.Inputs[1]
		if other == cur {
			other = u.Inputs[0]
		}
		if other != cur && other.Type.Equal(cur.Type) && u.Out().Type.Equal(cur.Type) {
			inputs = append(inputs, other)
			absorbed = append(absorbed, u)
			cur, last = u.Out(), u
		}
	}
	// activation
	if u := f.next(cur); u != nil && actOK(u, fusedOp, cur) {
		attrs["act"] = u.Op
		if u.Def().Act == ir.ActElementwise {
			for k, v := range u.Attrs {
				attrs[k] = v
			}
		}
		absorbed = append(absorbed, u)
		cur, last = u.Out(), u
	}
	// pool, for a conv without residual, when the windows tile the input exactly
	if u := f.next(cur); u != nil && fusedOp == "fused_conv" && len(inputs) == 3 && poolTiles(u) {
		attrs["pool"] = u.Op[:3]
		for k, v := range ir.FusedPoolAttrs {
			if x, ok := u.Attrs[v]; ok {
				attrs[k] = x
			}
		}
		absorbed = append(absorbed, u)
		cur, last = u.Out(), u
	}
	if len(absorbed) == 0 {
		return
	}
	if len(inputs) == 3 && inputs[2] == nil {
		inputs = inputs[:2]
	}
	fn := &ir.Node{Name: p.Name, Op: fusedOp, Inputs: inputs, Attrs: attrs, Pos: p.Pos, Schedule: p.Schedule}
	if err := fn.Def().CheckAttrs(fn); err != nil {
		return // not expressible: leave the chain alone
	}
	if ts, err := fn.Def().InferNode(fn); err != nil || !ts[0].Equal(cur.Type) {
		return
	}
	cur.Def = fn
	fn.Outputs = []*ir.Value{cur}
	f.dead[p] = true
	for _, a := range absorbed {
		f.dead[a] = true
	}
	f.at = append(f.at, placement{fn, last})
	f.refreshUses(fn)
}

// actOK reports whether u, reading cur, can be the activation of a
// fusedOp epilogue: any element-wise activation, or a row-wise one
// (softmax) over the last axis of a dense.
func actOK(u *ir.Node, fusedOp string, cur *ir.Value) bool {
	switch u.Def().Act {
	case ir.ActElementwise:
		return u.Inputs[0] == cur
	case ir.ActRows:
		ax, _ := ir.NormAxis(u.Attrs.Int("axis"), len(cur.Type.Shape))
		return fusedOp == "fused_dense" && ax == len(cur.Type.Shape)-1
	}
	return false
}

// poolTiles reports whether u is a max or average pool whose windows
// cover the input without overlap or padding (e.g. 2x2 stride 2), so a
// fused kernel computes every conv output exactly once. A maxpool that
// also returns its argmax indices (a second output) is never absorbed.
func poolTiles(u *ir.Node) bool {
	if u.Op != "maxpool" && u.Op != "avgpool" {
		return false
	}
	if len(u.Outputs) != 1 {
		return false
	}
	k, s := u.Attrs.Ints("kernel"), u.Attrs.Ints("strides")
	for i := range k {
		if k[i] != s[i] || u.Attrs.Ints("dilations")[i] != 1 {
			return false
		}
	}
	for _, p := range u.Attrs.Ints("pads") {
		if p != 0 {
			return false
		}
	}
	return !u.Attrs.Bool("ceil_mode")
}

// stepOf returns the fused_ewise step n contributes when the running
// value is cur (nil: n starts a chain, and its first input is the running
// value), or nil if n cannot join: ops with a Unary form join as they
// are, ops with a Binary form when the other operand broadcasts to the
// running value.
func (f *fuser) stepOf(n *ir.Node, cur *ir.Value) *ir.Step {
	d := n.Def()
	switch {
	case n.Out().Type.DType != ir.F32:
		return nil // chains compute in float32
	case d.Unary != nil:
		return &ir.Step{Op: n.Op, Attrs: n.Attrs.Clone()}
	case d.Binary != nil:
		run := n.Inputs[0]
		if cur != nil {
			run = cur
		}
		if !n.Out().Type.Equal(run.Type) {
			return nil
		}
		if cur != nil && n.Inputs[0] != cur && !d.Binary.Commutative {
			return nil // the running value must be the left operand
		}
		if n.Inputs[0] == n.Inputs[1] {
			return nil
		}
		return &ir.Step{Op: n.Op}
	}
	return nil
}

func (f *fuser) chain(start *ir.Node) {
	inputs := []*ir.Value{start.Inputs[0]}
	var steps []ir.Step
	var absorbed []*ir.Node
	var cur *ir.Value
	for n := start; n != nil; n = f.next(cur) {
		st := f.stepOf(n, cur)
		if st == nil || (cur != nil && !contains(n.Inputs, cur)) {
			break
		}
		if n.Def().Binary != nil {
			other := n.Inputs[1]
			if cur != nil && n.Inputs[1] == cur {
				other = n.Inputs[0]
			}
			inputs = append(inputs, other)
			st.Input = len(inputs) - 1
		}
		steps = append(steps, *st)
		absorbed = append(absorbed, n)
		cur = n.Out()
	}
	if len(steps) < 2 {
		return
	}
	fn := &ir.Node{Name: start.Name, Op: "fused_ewise", Inputs: inputs, Attrs: ir.Attrs{"steps": ir.FormatSteps(steps)}, Pos: start.Pos}
	if err := fn.Def().CheckAttrs(fn); err != nil {
		return
	}
	if ts, err := fn.Def().InferNode(fn); err != nil || !ts[0].Equal(cur.Type) {
		return
	}
	cur.Def = fn
	fn.Outputs = []*ir.Value{cur}
	for _, a := range absorbed {
		f.dead[a] = true
	}
	f.at = append(f.at, placement{fn, absorbed[len(absorbed)-1]})
	f.refreshUses(fn)
}

func contains(vs []*ir.Value, v *ir.Value) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

func (f *fuser) refreshUses(fn *ir.Node) {
	for _, in := range fn.Inputs {
		if in == nil {
			continue
		}
		var us []*ir.Node
		for _, u := range f.uses[in] {
			if !f.dead[u] {
				us = append(us, u)
			}
		}
		f.uses[in] = append(us, fn)
	}
}

// sweep puts each fused node in the place of the last node it absorbed
// (where all its inputs exist) and drops the absorbed nodes.
func (f *fuser) sweep() {
	place := map[*ir.Node]*ir.Node{}
	for _, p := range f.at {
		place[p.at] = p.fused
	}
	var nodes []*ir.Node
	var walk func(n *ir.Node)
	walk = func(n *ir.Node) {
		if fn, ok := place[n]; ok {
			// A fused node may itself have been absorbed by a later chain.
			if !f.dead[fn] {
				nodes = append(nodes, fn)
			}
			return
		}
		if !f.dead[n] {
			nodes = append(nodes, n)
		}
	}
	for _, n := range f.g.Nodes {
		walk(n)
	}
	f.g.Nodes = nodes
}

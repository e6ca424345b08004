package onnx

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// Control flow, specialized at import: dlc's graphs have static shapes
// and no branches, so If, Loop and Scan become the ir nodes of the
// subgraphs they run.
//
//   - If needs its condition known (bound like any value needed at
//     compile time, see constIn) and inlines the branch taken.
//   - Scan is unrolled over its sequence axis, whose length is static:
//     each step's slices are gathers of the scan inputs, the states flow
//     from one copy of the body to the next, and the scan outputs are
//     stacked with concat.
//   - Loop needs its trip count, or else its condition after every
//     iteration, known at import, and is unrolled as Scan is.
//
// An unrolled body is converted once per step, so its ops are the ops
// the importer knows; the graph grows with the trip count (maxUnroll
// bounds it).

const maxUnroll = 4096

func init() {
	for k, v := range map[string]opConv{
		"If":   {1, checkSubgraphs("then_branch", "else_branch"), ifOp},
		"Scan": {0, checkScan, scanOp}, "Loop": {2, checkSubgraphs("body"), loopOp},
	} {
		opTable[k] = v
	}
}

// checkSubgraphs refuses a node whose graph attributes are missing.
func checkSubgraphs(names ...string) func(c *nctx) error {
	return func(c *nctx) error {
		for _, name := range names {
			if a := c.attrs[name]; a == nil || a.g == nil {
				return fmt.Errorf("attribute %s (a graph) is required", name)
			}
		}
		return nil
	}
}

// checkScan refuses Scan before opset 9 (a batch axis and
// sequence_lens).
func checkScan(c *nctx) error {
	if c.opset < 9 {
		return unsup("Scan before opset 9 (batched, with sequence_lens) is not supported")
	}
	return checkSubgraphs("body")(c)
}

// inline converts the nodes of subgraph g after binding its inputs to
// ins (in order), and returns the vals of its outputs.
func (c *nctx) inline(g *graph, ins []*val) ([]*val, error) {
	im := c.im
	if len(ins) != len(g.inputs) {
		return nil, fmt.Errorf("subgraph %q takes %d inputs, given %d", g.name, len(g.inputs), len(ins))
	}
	for i, in := range g.inputs {
		im.vals[in.name] = ins[i]
	}
	for _, t := range g.inits {
		d, err := tensorData(t, im.dir)
		if err != nil {
			return nil, fmt.Errorf("subgraph %q initializer %q: %w", g.name, t.name, err)
		}
		im.vals[t.name] = &val{name: t.name, c: d, elem: t.dataType, weight: true, key: "init:" + t.name}
	}
	for i, n := range g.nodes {
		for _, in := range n.inputs {
			if im.poison[in] {
				// An outer value the subgraph reads failed to import:
				// that node's error says why.
				return nil, unsup("subgraph %q reads %q, which could not be imported", g.name, in)
			}
		}
		if msg := im.static(n); msg != "" {
			return nil, unsup("subgraph %q: %s: %s", g.name, nodeLabel(n, i, im.opset), msg)
		}
		if err := im.convert(n, i); err != nil {
			return nil, fmt.Errorf("subgraph %q: %s: %w", g.name, nodeLabel(n, i, im.opset), err)
		}
	}
	outs := make([]*val, len(g.outputs))
	for i, o := range g.outputs {
		if outs[i] = im.vals[o.name]; outs[i] == nil {
			return nil, fmt.Errorf("subgraph %q output %q is not produced by any node", g.name, o.name)
		}
	}
	return outs, nil
}

// ifOp inlines the branch its known condition picks.
func ifOp(c *nctx) error {
	cond, err := c.constIn(0, "the condition of If")
	if err != nil {
		return err
	}
	if cond.Len() != 1 {
		return fmt.Errorf("the condition has %d values, want one", cond.Len())
	}
	branch := c.attrs["else_branch"].g
	if cond.Float(0) != 0 {
		branch = c.attrs["then_branch"].g
	}
	outs, err := c.inline(branch, nil)
	if err != nil {
		return err
	}
	for i, y := range outs {
		c.set(i, y)
	}
	return nil
}

// scanOp unrolls Scan (opset 9 and later: no batch axis, per-input axes
// and directions).
func scanOp(c *nctx) error {
	body := c.attrs["body"].g
	m, err := c.int("num_scan_inputs", 0)
	if err != nil {
		return err
	}
	n := len(c.n.inputs) - m
	if m < 1 || n < 0 {
		return fmt.Errorf("num_scan_inputs %d does not fit %d inputs", m, len(c.n.inputs))
	}
	inDirs, err := c.ints("scan_input_directions", make([]int, m))
	if err != nil {
		return err
	}
	inAxes, err := c.ints("scan_input_axes", make([]int, m))
	if err != nil {
		return err
	}
	k := len(body.outputs) - n
	outDirs, err := c.ints("scan_output_directions", make([]int, k))
	if err != nil {
		return err
	}
	outAxes, err := c.ints("scan_output_axes", make([]int, k))
	if err != nil {
		return err
	}
	if len(inDirs) != m || len(inAxes) != m || len(outDirs) != k || len(outAxes) != k || k < 0 {
		return fmt.Errorf("scan directions and axes do not match %d scan inputs and %d scan outputs", m, k)
	}
	T := -1
	for j := range m {
		x := c.in(n + j)
		a, err := ir.NormAxis(inAxes[j], x.rank())
		if err != nil {
			return err
		}
		inAxes[j] = a
		if T >= 0 && x.shape()[a] != T {
			return fmt.Errorf("scan inputs have %d and %d steps", T, x.shape()[a])
		}
		T = x.shape()[a]
	}
	if T < 1 || T > maxUnroll {
		return unsup("Scan over %d steps is not supported (1..%d are unrolled)", T, maxUnroll)
	}
	states := make([]*val, n)
	for i := range states {
		states[i] = c.in(i)
	}
	scans := make([][]*val, k)
	for t := range T {
		ins := append([]*val{}, states...)
		for j := range m {
			at := t
			if inDirs[j] != 0 {
				at = T - 1 - t
			}
			x, err := c.gather(c.in(n+j), c.known(&ir.Tensor{DType: ir.I64, Shape: ir.Shape{}, Data: []int64{int64(at)}}, dtInt64, false), inAxes[j], fmt.Sprintf("step%d", t))
			if err != nil {
				return err
			}
			ins = append(ins, x)
		}
		outs, err := c.inline(body, ins)
		if err != nil {
			return err
		}
		copy(states, outs[:n])
		for q := range k {
			scans[q] = append(scans[q], outs[n+q])
		}
	}
	for i, s := range states {
		c.set(i, s)
	}
	for q := range k {
		y, err := c.stack(scans[q], outAxes[q], outDirs[q] != 0, fmt.Sprintf("scan%d", q))
		if err != nil {
			return err
		}
		c.set(n+q, y)
	}
	return nil
}

// stack joins same-shaped values along a new axis (reversed: last
// first).
func (c *nctx) stack(xs []*val, axis int, reverse bool, suffix string) (*val, error) {
	if len(xs) == 0 {
		return nil, unsup("a scan output of no steps")
	}
	s := xs[0].shape()
	a, err := ir.NormAxis(axis, len(s)+1)
	if err != nil {
		return nil, err
	}
	one := append(append(s[:a:a].Clone(), 1), s[a:]...)
	parts := make([]*val, len(xs))
	for i, x := range xs {
		if !x.shape().Equal(s) {
			return nil, fmt.Errorf("scan output steps have shapes %v and %v", s, x.shape())
		}
		j := i
		if reverse {
			j = len(xs) - 1 - i
		}
		if parts[j], err = c.reshape(x, one, fmt.Sprintf("%s_%d", suffix, i)); err != nil {
			return nil, err
		}
	}
	return c.concat(parts, a, suffix)
}

// loopOp unrolls Loop: the trip count M (else the condition after each
// iteration) must be known at import; the scan outputs stack along a
// new first axis.
func loopOp(c *nctx) error {
	body := c.attrs["body"].g
	trips := maxUnroll
	if c.in(0) != nil {
		m, err := c.constIn(0, "the trip count of Loop")
		if err != nil {
			return err
		}
		if m.Len() != 1 || m.Int(0) < 0 || m.Int(0) > maxUnroll {
			return unsup("a Loop of %v iterations is not unrolled (at most %d)", m.Data, maxUnroll)
		}
		trips = int(m.Int(0))
	}
	cond := true
	if c.in(1) != nil {
		t, err := c.constIn(1, "the condition of Loop")
		if err != nil {
			return err
		}
		cond = t.Float(0) != 0
	}
	n := len(c.n.inputs) - 2
	k := len(body.outputs) - 1 - n
	if n < 0 || k < 0 || len(body.inputs) != n+2 {
		return fmt.Errorf("the body's %d inputs and %d outputs do not fit %d loop-carried values", len(body.inputs), len(body.outputs), n)
	}
	states := make([]*val, n)
	for i := range states {
		states[i] = c.in(2 + i)
	}
	scans := make([][]*val, k)
	for it := 0; it < trips && cond; it++ {
		iter := c.known(&ir.Tensor{DType: ir.I64, Shape: ir.Shape{}, Data: []int64{int64(it)}}, dtInt64, false)
		cv := c.known(&ir.Tensor{DType: ir.Bool, Shape: ir.Shape{}, Data: []bool{true}}, 9, false)
		outs, err := c.inline(body, append([]*val{iter, cv}, states...))
		if err != nil {
			return err
		}
		if outs[0].c == nil {
			if c.in(0) == nil {
				return unsup("Loop's condition must be known at import after every iteration when it has no trip count")
			}
		} else {
			cond = outs[0].c.Float(0) != 0
		}
		copy(states, outs[1:1+n])
		for q := range k {
			scans[q] = append(scans[q], outs[1+n+q])
		}
		if it == maxUnroll-1 && cond {
			return unsup("a Loop of more than %d iterations is not unrolled", maxUnroll)
		}
	}
	for i, s := range states {
		c.set(i, s)
	}
	for q := range k {
		y, err := c.stack(scans[q], 0, false, fmt.Sprintf("scan%d", q))
		if err != nil {
			return err
		}
		c.set(n+q, y)
	}
	return nil
}

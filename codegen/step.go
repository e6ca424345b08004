package codegen

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"
	"github.com/dlcompiler/dlc/ir"
)

// Streaming: a model with rnn, lstm or gru layers gets, besides the
// whole-sequence Run/Predict, a Step method that consumes one time step
// and keeps the recurrent state in the Model between calls, and Reset.
//
// A model is streamable when every recurrent layer is unidirectional and
// the graph is per-time-step around it. analyzeStream decides this by
// giving every value a time kind:
//
//	static  does not depend on the sequence (weights, inputs without a time axis)
//	seq(a)  has the time axis a, and its slice at t depends only on inputs at
//	        t and on recurrent state up to t (embeddings, dense and
//	        element-wise ops on per-step values, a recurrent layer's y)
//	final   depends on the state after the last step (h_n, c_n, y[:, -1])
//
// op by op (streamRule), trying the axes of the graph inputs whose extent
// is the sequence length. Mixing seq and final values, or an op that reads
// across the time axis (softmax or concat over it, a reshape merging it,
// a convolution along it), makes the model not streamable, and the package
// doc says why.
//
// The step graph is the model with the time axis set to 1: a clone whose
// sequence inputs have extent 1 there, shapes re-inferred by every op's
// shape rule, each recurrent layer's h0/c0 replaced by a graph input that
// the generated code binds to state arrays owned by the Model, and h_n/c_n
// copied back into them after the layer. Views on per-step values become
// reshapes to their explicit one-step shape, and selecting the last time
// step (gather with index -1 or T-1 along the time axis) becomes a reshape
// dropping the length-1 axis. The step graph is generated with the same
// emitters into kernels_step.go, with its own arena (type stepModel) and
// the main package's weights.

func init() {
	reserved["stepModel"] = true // the streaming state type
}

type timeKind uint8

const (
	tStatic timeKind = iota
	tSeq
	tFinal
)

type tinfo struct {
	k    timeKind
	axis int // the time axis of a tSeq value
}

// stream is the streaming analysis of a recurrent model and, when it is
// streamable, its step graph and generator.
type stream struct {
	reason string // why there is no Step API; "" when streamable
	T      int    // sequence length of the whole-sequence model

	g      *ir.Graph // the original graph
	info   map[*ir.Value]tinfo
	sg     *ir.Graph // step graph
	sgen   *gen
	orig   map[*ir.Value]*ir.Value // step-graph value → original value
	user   []int                   // step-graph input i (< len(user)) is original input user[i]
	states []stateSlot
}

// stateSlot is one recurrent state array kept by the Model.
type stateSlot struct {
	field string   // stepModel field
	n     int      // elements
	node  *ir.Node // step-graph recurrent node
	out   int      // output index holding the final state (1 = h, 2 = c)
	input int      // step-graph input index bound to the state
	init  *ir.Value
	what  string // "h0" or "c0"
}

func isRecurrent(op string) bool { return ir.Lookup(op).Stream == ir.StreamRecurrent }

// streaming returns the streaming analysis of the generator's graph (nil
// for a graph without recurrent layers), computed once.
func (gn *gen) streaming() *stream {
	if gn.streamDone {
		return gn.stream
	}
	gn.streamDone = true
	gn.stream = analyzeStream(gn)
	return gn.stream
}

// streamable reports whether the package gets Step and Reset.
func (gn *gen) streamable() bool {
	s := gn.streaming()
	return s != nil && s.reason == ""
}

func analyzeStream(gn *gen) *stream {
	g := gn.g
	s := &stream{g: g}
	var recs []*ir.Node
	for _, n := range g.Nodes {
		if isRecurrent(n.Op) {
			recs = append(recs, n)
		}
	}
	if len(recs) == 0 {
		return nil
	}
	for _, n := range recs {
		if dt := n.Out().Type.DType; dt != ir.F32 {
			s.reason = fmt.Sprintf("layer %s (%s) is %v: the Step API keeps f32 states.", n.Name, n.Op, dt)
			return s
		}
		if ir.RNNDirs(n) > 1 {
			s.reason = fmt.Sprintf("layer %s (%s) is bidirectional: its reverse direction starts from the end of the sequence, so it cannot run one step at a time.", n.Name, n.Op)
			return s
		}
		t := rnnShape(n).T
		if s.T != 0 && t != s.T {
			s.reason = fmt.Sprintf("recurrent layers run over sequences of different lengths (%d and %d).", s.T, t)
			return s
		}
		s.T = t
	}
	if s.T < 2 {
		s.reason = "the sequence length is 1, so Run already processes a single step."
		return s
	}
	cands := timeAxisCandidates(g, s.T)
	combos := 1
	for _, c := range cands {
		combos *= len(c)
	}
	if combos > 256 {
		combos = 256
	}
	first := ""
	pick := make([]int, len(g.Inputs))
	for k := range combos {
		r := k
		for i, c := range cands {
			pick[i] = c[r%len(c)]
			r /= len(c)
		}
		info, err := propagate(g, s.T, pick)
		if err == "" {
			s.info = info
			break
		}
		if first == "" {
			first = err
		}
	}
	if s.info == nil {
		s.reason = first
		return s
	}
	if err := s.build(gn); err != "" {
		s.reason = err
	}
	return s
}

// timeAxisCandidates lists, per graph input, the axes that may be its
// time axis (those of extent T; none for an input only used as an
// initial state), then -1 (static).
func timeAxisCandidates(g *ir.Graph, T int) [][]int {
	uses := g.Uses()
	var cands [][]int
	for _, v := range g.Inputs {
		onlyState := len(uses[v]) > 0
		for _, n := range uses[v] {
			for i, x := range n.Inputs {
				if x == v && !(isRecurrent(n.Op) && i >= 1 && i <= ir.RNNStates(n.Op)) {
					onlyState = false
				}
			}
		}
		var c []int
		if !onlyState {
			for a, d := range v.Type.Shape {
				if d == T {
					c = append(c, a)
				}
			}
		}
		cands = append(cands, append(c, -1))
	}
	return cands
}

// propagate gives every value a time kind, the graph inputs' time axes
// being axes (-1 for static). It returns why the graph is not per-step.
func propagate(g *ir.Graph, T int, axes []int) (map[*ir.Value]tinfo, string) {
	info := map[*ir.Value]tinfo{}
	for i, v := range g.Inputs {
		if axes[i] >= 0 {
			info[v] = tinfo{tSeq, axes[i]}
		}
	}
	for _, n := range g.Nodes {
		outs, err := streamRule(n, T, info)
		if err != "" {
			return nil, fmt.Sprintf("layer %s (%s) %s.", n.Name, n.Op, err)
		}
		for i, o := range n.Outputs {
			info[o] = outs[i]
		}
	}
	for _, n := range g.Nodes {
		if isRecurrent(n.Op) {
			if x := info[n.Inputs[0]]; x.k != tSeq || x.axis != rnnTimeAxis(n) {
				return nil, fmt.Sprintf("layer %s (%s) does not read a sequence whose time axis comes from the inputs step by step.", n.Name, n.Op)
			}
		}
	}
	return info, ""
}

// input is n's input i, or nil when it is absent: an optional input may
// be nil or, when trailing, left out of n.Inputs altogether.
func input(n *ir.Node, i int) *ir.Value {
	if i < len(n.Inputs) {
		return n.Inputs[i]
	}
	return nil
}

func rnnTimeAxis(n *ir.Node) int {
	if n.Attrs.Bool("batch_first") {
		return 1
	}
	return 0
}

// streamRule is the time kind of a node's outputs from its inputs', or
// why the node is not per-step.
func streamRule(n *ir.Node, T int, info map[*ir.Value]tinfo) ([]tinfo, string) {
	all := func(t tinfo) []tinfo {
		ts := make([]tinfo, len(n.Outputs))
		for i := range ts {
			ts[i] = t
		}
		return ts
	}
	var seq, final bool
	for _, v := range n.Inputs {
		if v == nil {
			continue
		}
		switch info[v].k {
		case tSeq:
			seq = true
		case tFinal:
			final = true
		}
	}
	if isRecurrent(n.Op) {
		return recurrentRule(n, info, all(tinfo{k: tFinal}))
	}
	switch {
	case seq && final:
		return nil, "mixes per-step values with final states"
	case !seq && final:
		return all(tinfo{k: tFinal}), ""
	case !seq:
		return all(tinfo{}), ""
	}
	x := info[n.Inputs[0]]
	in0 := n.Inputs[0].Type.Shape
	out0 := n.Out().Type.Shape
	switch n.Def().Stream {
	case ir.StreamPointwise:
		return broadcastRule(n, T, info)
	case ir.StreamLinear:
		if x.k != tSeq || x.axis == len(in0)-1 {
			return nil, "sums over the time axis"
		}
		// weight, then the optional bias, which a node may leave out
		// (dense(bias=false) has two inputs).
		for _, v := range []*ir.Value{input(n, 1), input(n, 2)} {
			if v != nil && info[v].k != tStatic {
				return nil, "has weights that change per step"
			}
		}
		if r := input(n, 3); r != nil {
			if _, err := broadcastAt(r, len(out0), x.axis, info); err != "" {
				return nil, err
			}
		}
		return all(x), ""
	case ir.StreamMatmul:
		b := n.Inputs[1]
		if x.k != tSeq || info[b].k != tStatic || len(b.Type.Shape) != 2 || len(in0) < 2 || x.axis >= len(in0)-1 {
			return nil, "multiplies along the time axis"
		}
		return all(x), ""
	case ir.StreamLookup:
		if x.k != tSeq {
			return nil, "looks up rows of a per-step table"
		}
		return all(x), ""
	case ir.StreamGather:
		ax, _ := ir.NormAxis(n.Attrs.Int("axis"), len(in0))
		idx := n.Inputs[1]
		ix := info[idx]
		switch {
		case x.k == tSeq && ix.k == tSeq:
			return nil, "indexes a sequence with per-step indices"
		case x.k == tSeq && ax == x.axis:
			if lastStep(idx, T) {
				return all(tinfo{k: tFinal}), ""
			}
			return nil, "selects time steps other than the last"
		case x.k == tSeq && ax < x.axis:
			return all(tinfo{tSeq, x.axis - 1 + len(idx.Type.Shape)}), ""
		case x.k == tSeq:
			return all(x), ""
		default: // static data, per-step indices
			return all(tinfo{tSeq, ax + ix.axis}), ""
		}
	case ir.StreamReshape:
		if b := viewAxis(in0, out0, x.axis, T); b >= 0 {
			return all(tinfo{tSeq, b}), ""
		}
		return nil, "reshapes across the time axis"
	case ir.StreamTranspose:
		for b, p := range n.Attrs.Ints("perm") {
			if p == x.axis {
				return all(tinfo{tSeq, b}), ""
			}
		}
	case ir.StreamConcat:
		ax, _ := ir.NormAxis(n.Attrs.Int("axis"), len(in0))
		for _, v := range n.Inputs {
			if i := info[v]; i.k != tSeq || i.axis != x.axis {
				return nil, "joins per-step values with values that are not"
			}
		}
		if ax == x.axis {
			return nil, "concatenates along the time axis"
		}
		return all(x), ""
	case ir.StreamAlongAxis:
		if ax, _ := ir.NormAxis(n.Attrs.Int("axis"), len(in0)); ax == x.axis {
			return nil, "normalizes over the time axis"
		}
		return all(x), ""
	case ir.StreamChannels:
		if x.axis == 1 {
			return nil, "normalizes with per-time-step statistics (axis 1 is the time axis)"
		}
		return all(x), ""
	case ir.StreamWindows:
		if x.k != tSeq || x.axis != 0 {
			return nil, "slides a window over the time axis"
		}
		if len(n.Outputs) > 1 {
			return nil, "returns indices that count the time (batch) axis"
		}
		for _, v := range n.Inputs[1:] {
			if v != nil && info[v].k != tStatic {
				return nil, "adds a per-step residual"
			}
		}
		return all(x), ""
	case ir.StreamReduce:
		return reduceRule(n, x)
	}
	return nil, "is not known to act on each time step independently"
}

// reduceRule: a reduction is per-step unless it reduces the time axis,
// which moves left by the reduced axes before it unless they are kept.
func reduceRule(n *ir.Node, x tinfo) ([]tinfo, string) {
	axes, _ := ir.ReduceAxes(n, len(n.Inputs[0].Type.Shape))
	b := x.axis
	for _, a := range axes {
		switch {
		case a == x.axis:
			return nil, "reduces over the time axis"
		case a < x.axis && !n.Attrs.Bool("keepdims"):
			b--
		}
	}
	return []tinfo{{tSeq, b}}, ""
}

// recurrentRule is streamRule for a recurrent layer: y is a sequence
// along the input's time axis and the final states are final (ts holds
// one tFinal per output); the initial states must be static inputs or
// constants, which the Model's state arrays replace.
func recurrentRule(n *ir.Node, info map[*ir.Value]tinfo, ts []tinfo) ([]tinfo, string) {
	for i := 1; i <= ir.RNNStates(n.Op); i++ {
		v := input(n, i)
		if v == nil {
			continue
		}
		if info[v].k != tStatic || !(v.Kind == ir.Input || v.IsConst()) {
			return nil, "takes its initial state from another layer; only absent, input or constant initial states can become the streaming state"
		}
	}
	x := info[n.Inputs[0]]
	if x.k != tSeq || x.axis != rnnTimeAxis(n) {
		return nil, "reads an input that is not a sequence along its time axis"
	}
	ts[0] = x
	return ts, ""
}

// broadcastRule handles element-wise ops with numpy broadcasting: the
// sequence inputs must share the time axis and the others must broadcast
// along it.
func broadcastRule(n *ir.Node, T int, info map[*ir.Value]tinfo) ([]tinfo, string) {
	R := len(n.Out().Type.Shape)
	axis := -1
	for _, v := range n.Inputs {
		if v != nil && info[v].k == tSeq {
			a := R - len(v.Type.Shape) + info[v].axis
			if axis >= 0 && a != axis {
				return nil, "combines sequences with different time axes"
			}
			axis = a
		}
	}
	for _, v := range n.Inputs {
		if v != nil {
			if _, err := broadcastAt(v, R, axis, info); err != "" {
				return nil, err
			}
		}
	}
	ts := make([]tinfo, len(n.Outputs))
	for i := range ts {
		ts[i] = tinfo{tSeq, axis}
	}
	return ts, ""
}

// broadcastAt checks that v, broadcast to rank R, is a sequence along
// axis or constant along it.
func broadcastAt(v *ir.Value, R, axis int, info map[*ir.Value]tinfo) (bool, string) {
	i := info[v]
	a := axis - (R - len(v.Type.Shape))
	if i.k == tSeq {
		if i.axis != a {
			return false, "combines sequences with different time axes"
		}
		return true, ""
	}
	if a >= 0 && v.Type.Shape[a] != 1 {
		return false, fmt.Sprintf("combines the sequence with %s, which varies along the time axis", v.Name)
	}
	return false, ""
}

// lastStep reports whether idx is a constant selecting only the last of T
// steps (-1 or T-1), as a scalar or a one-element index.
func lastStep(idx *ir.Value, T int) bool {
	if !idx.IsConst() || idx.Data == nil || idx.Data.Len() != 1 || len(idx.Type.Shape) > 1 {
		return false
	}
	v := idx.Data.Int(0)
	return v == -1 || v == int64(T-1)
}

// viewAxis is the time axis of a view's output when the view keeps every
// time step's elements contiguous and in order (the dimensions before the
// time axis keep their product and the time axis its extent), else -1.
func viewAxis(in, out ir.Shape, a, T int) int {
	pre := 1
	for _, d := range in[:a] {
		pre *= d
	}
	p := 1
	for b, d := range out {
		if p == pre && d == T {
			return b
		}
		p *= d
	}
	return -1
}

// stepShape is v's shape in the step graph.
func (s *stream) stepShape(v *ir.Value) ir.Shape {
	sh := v.Type.Shape.Clone()
	if i := s.info[v]; i.k == tSeq {
		sh[i.axis] = 1
	}
	return sh
}

// build makes the step graph and its generator.
func (s *stream) build(gn *gen) string {
	g := s.g
	sg := g.Clone()
	s.sg = sg
	s.orig = map[*ir.Value]*ir.Value{}
	fwd := map[*ir.Value]*ir.Value{}
	pair := func(o, c *ir.Value) { s.orig[c], fwd[o] = o, c }
	for i, v := range g.Inputs {
		pair(v, sg.Inputs[i])
		sg.Inputs[i].Type.Shape = s.stepShape(v)
	}
	for i, v := range g.Params {
		pair(v, sg.Params[i])
	}
	var stateIns []*ir.Value
	for i, n := range g.Nodes {
		sn := sg.Nodes[i]
		for j, o := range n.Outputs {
			pair(o, sn.Outputs[j])
		}
		ins, err := s.stepNode(n, sn)
		if err != "" {
			return err
		}
		stateIns = append(stateIns, ins...)
	}
	// Inputs: the original inputs still read, then the states.
	used := map[*ir.Value]bool{}
	for _, n := range sg.Nodes {
		for _, v := range n.Inputs {
			used[v] = true
		}
	}
	for _, v := range sg.Outputs {
		used[v] = true
	}
	var ins []*ir.Value
	for i, v := range sg.Inputs {
		if used[v] {
			ins = append(ins, v)
			s.user = append(s.user, i)
		}
	}
	for i := range s.states {
		s.states[i].input = len(ins) + i
	}
	sg.Inputs = append(ins, stateIns...)
	if err := ir.Verify(sg); err != nil {
		return fmt.Sprintf("internal error: the step graph does not verify: %v", err)
	}
	sgen, err := newGen(sg, gn.pkg, Options{Package: gn.pkg})
	if err != nil {
		return fmt.Sprintf("internal error: step graph: %v", err)
	}
	s.sgen = sgen
	sgen.serial = true // one step is too little work to split
	// Step kernels read the main package's weights.
	for v, l := range sgen.plan.loc {
		if l.kind != locWeight {
			continue
		}
		ml, ok := gn.plan.loc[s.orig[v]]
		if !ok {
			return fmt.Sprintf("internal error: step graph reads %s, which the model does not", v.Name)
		}
		sgen.plan.loc[v] = ml
	}
	// Kernel names distinct from the main kernels' and the reserved names.
	names := map[string]bool{}
	for _, k := range gn.kname {
		names[k] = true
	}
	for _, n := range sg.Nodes {
		k := sgen.kname[n]
		sgen.kname[n] = kernelName("step"+strings.ToUpper(k[:1])+k[1:], names)
	}
	return ""
}

// stepNode turns sn, the step graph's copy of node n, into its one-step
// form: views and the selection of the last step become reshapes to the
// explicit one-step shape, a recurrent layer's initial states become new
// graph inputs (returned, and recorded in s.states), and the output types
// are re-inferred and checked against the one-step shapes.
func (s *stream) stepNode(n, sn *ir.Node) (stateIns []*ir.Value, err string) {
	x := s.info[n.Inputs[0]]
	switch {
	case x.k == tSeq && (n.Def().View || n.Op == "gather" && s.info[n.Out()].k == tFinal):
		// Explicit one-step shape: a default squeeze or a -1 would
		// otherwise see the length-1 time axis.
		sn.Op = "reshape"
		sn.Inputs = sn.Inputs[:1]
		sn.Attrs = ir.Attrs{"shape": []int(s.stepShape(n.Out()))}
		if err := sn.Def().CheckAttrs(sn); err != nil {
			return nil, fmt.Sprintf("internal error: step graph: layer %s: %v", n.Name, err)
		}
	case isRecurrent(n.Op):
		d := rnnShape(n)
		for k := 1; k <= d.ns; k++ {
			what := []string{"", "h0", "c0"}[k]
			sv := &ir.Value{Name: n.Name + ".state_" + what, Kind: ir.Input,
				Type: ir.TensorType{DType: ir.F32, Shape: ir.Shape{d.L, d.N, d.H}}}
			sn.Inputs[k] = sv
			stateIns = append(stateIns, sv)
			s.states = append(s.states, stateSlot{field: fmt.Sprintf("s%d", len(s.states)), n: d.L * d.N * d.H,
				node: sn, out: k, init: input(n, k), what: what})
		}
	}
	types, ierr := sn.Def().InferNode(sn)
	if ierr != nil {
		return nil, fmt.Sprintf("layer %s (%s) has no one-step form: %v.", n.Name, n.Op, ierr)
	}
	for j, o := range sn.Outputs {
		want := ir.TensorType{DType: n.Outputs[j].Type.DType, Shape: s.stepShape(n.Outputs[j])}
		if !types[j].Equal(want) {
			return nil, fmt.Sprintf("layer %s (%s) gives %v for one time step, not %v.", n.Name, n.Op, types[j], want)
		}
		o.Type = types[j]
	}
	return stateIns, ""
}

// learnedInit reports whether some state starts from a constant.
func (s *stream) learnedInit() bool {
	for _, st := range s.states {
		if st.init != nil && st.init.Kind != ir.Input {
			return true
		}
	}
	return false
}

// stepAPI emits stepModel, its forward and getters (api.go emits Step and
// Reset, which call them).
func (s *stream) stepAPI(f *jen.File, gn *gen) {
	s.stepModelType(f)
	s.stepForward(f)
}

// stepModelType emits stepModel: the one-step arena and the states.
func (s *stream) stepModelType(f *jen.File) {
	p := s.sgen.plan
	var fields []jen.Code
	for _, dt := range dtypesOf(p.arena) {
		if p.arena[dt] > 0 {
			fields = append(fields, src(fmt.Sprintf("%s [%d]%s", arenaName(dt), p.arena[dt], elemType(dt))))
		}
	}
	for _, st := range s.states {
		fields = append(fields, doc("%s is layer %s's running %s state.", st.field, st.node.Name, st.what), src(fmt.Sprintf("%s [%d]float32", st.field, st.n)))
	}
	if s.learnedInit() {
		fields = append(fields, doc("started is set by Reset, which loads the learned initial states."), src("started bool"))
	}
	f.Add(doc("stepModel is the streaming state of a Model: the one-step arena and the\nrecurrent states carried from one Step to the next."))
	f.Type().Id("stepModel").Struct(fields...)
	f.Line()
}

// stepForward emits stepModel's forward, which calls the one-step kernels
// as the Model's forward calls the whole-sequence ones (callKernels) and
// stores the new states, and the getters of Step's outputs.
func (s *stream) stepForward(f *jen.File) {
	sg, sgen, p := s.sg, s.sgen, s.sgen.plan
	ref := func(l loc) string {
		if l.kind == locInput {
			if l.idx < len(s.user) {
				return fmt.Sprintf("in%d", l.idx)
			}
			return "&m." + s.states[l.idx-len(s.user)].field
		}
		return sgen.ref(l)
	}
	var b body
	sgen.callKernels(&b, ref, func(n *ir.Node) {
		for _, st := range s.states {
			if st.node == n {
				b.l("m.%s = *%s", st.field, ref(p.loc[n.Outputs[st.out]]))
			}
		}
	})
	sgen.forwardMethod(f, "m *stepModel", "forward runs one time step through the one-step kernels and stores\nthe new recurrent states.", len(s.user), &b)
	for i, v := range sg.Outputs {
		l, ok := p.outCopy[i]
		if !ok {
			l = p.loc[v]
		}
		f.Add(doc("out%d returns Step's output %s in the step arena.", i, s.g.OutputNames[i]))
		f.Func().Params(src("m *stepModel")).Id(fmt.Sprintf("out%d", i)).Params().Id(arrType(v.Type.DType, l.n)).Block(src("return " + ref(l)))
		f.Line()
	}
}

// stepFiles adds kernels_step.go, the one-step kernels, to files. Helpers
// the main kernels.go already defines are dropped from it.
func (gn *gen) stepFiles(files map[string][]byte) error {
	if !gn.streamable() {
		return nil
	}
	s := gn.stream
	kf, err := s.sgen.kernelsFile()
	if err != nil {
		return err
	}
	name := "kernels_step.go"
	if _, dup := files[name]; dup {
		name = "kernels_stream.go"
	}
	b, err := render(name, kf)
	if err != nil {
		return err
	}
	b, err = dropDuplicateFuncs(b, files["kernels.go"])
	if err != nil {
		return fmt.Errorf("codegen: %s: %w", name, err)
	}
	files[name] = b
	return nil
}

// dropDuplicateFuncs removes from src the top-level functions that main
// also declares (shared helpers), and the imports no longer used.
func dropDuplicateFuncs(src, main []byte) ([]byte, error) {
	fset := token.NewFileSet()
	mf, err := parser.ParseFile(fset, "main.go", main, 0)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, d := range mf.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil {
			have[fd.Name.Name] = true
		}
	}
	f, err := parser.ParseFile(fset, "step.go", src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	var decls []ast.Decl
	drop := map[*ast.CommentGroup]bool{}
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && have[fd.Name.Name] {
			if fd.Doc != nil {
				drop[fd.Doc] = true
			}
			continue
		}
		decls = append(decls, d)
	}
	f.Decls = decls
	var cs []*ast.CommentGroup
	for _, c := range f.Comments {
		if !drop[c] {
			cs = append(cs, c)
		}
	}
	f.Comments = cs
	// Unused imports.
	usedPkg := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if se, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := se.X.(*ast.Ident); ok {
				usedPkg[id.Name] = true
			}
		}
		return true
	})
	var keep []ast.Decl
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.IMPORT {
			keep = append(keep, d)
			continue
		}
		var specs []ast.Spec
		for _, sp := range gd.Specs {
			is := sp.(*ast.ImportSpec)
			path, _ := strconv.Unquote(is.Path.Value)
			name := path[strings.LastIndex(path, "/")+1:]
			if is.Name != nil {
				name = is.Name.Name
			}
			if usedPkg[name] {
				specs = append(specs, sp)
			}
		}
		if len(specs) > 0 {
			gd.Specs = specs
			keep = append(keep, gd)
		}
	}
	f.Decls = keep
	var out bytes.Buffer
	if err := format.Node(&out, fset, f); err != nil {
		return nil, err
	}
	return format.Source(out.Bytes())
}

// wrap breaks text into lines of at most width bytes at spaces.
func wrap(text string, width int) string {
	var b strings.Builder
	n := 0
	for i, w := range strings.Fields(text) {
		if i > 0 {
			if n+1+len(w) > width {
				b.WriteByte('\n')
				n = 0
			} else {
				b.WriteByte(' ')
				n++
			}
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}

package codegen

import (
	"fmt"
	"go/types"
	"regexp"
	"sort"
	"strings"

	"github.com/dave/jennifer/jen"
	"github.com/dlcompiler/dlc/codegen/kernels"
	"github.com/dlcompiler/dlc/ir"
)

// An emitter writes the body of one node's kernel. The kernel is a Go
// function named after the layer whose parameters are fixed-size array
// pointers, one per input (absent optional inputs are nil pointers) and one
// per output, plus a scratch array when the emitter asks for one. The
// emitter writes the math; loop arrangement comes from the node's Schedule
// through the helpers in schedule.go.
type emitter struct {
	emit func(k *kctx) error
	// view: the output is input 0 with another shape; no code unless the
	// plan must copy (see plan.copyNode). Set from ir.OpDef.View.
	view bool
	// inplace: the output may overwrite input 0. Set from
	// ir.OpDef.InPlace.
	inplace bool
	// scratch returns the temporary elements the kernel needs, f32 unless
	// scratchDT says otherwise (an f64 kernel's float64 scratch).
	scratch   func(n *ir.Node) int
	scratchDT func(n *ir.Node) ir.DType
	// fails reports whether the kernel can fail at run time (ids from an
	// input out of range); such kernels return an error.
	fails func(n *ir.Node) bool
}

// emitters is the op → emitter table. TestEveryOpHasEmitter walks
// ir.Ops() and fails on any op missing here.
var emitters = map[string]emitter{}

// scratchType is the dtype of n's scratch elements.
func (e emitter) scratchType(n *ir.Node) ir.DType {
	if e.scratchDT != nil {
		return e.scratchDT(n)
	}
	return ir.F32
}

func register(op string, e emitter) {
	if _, dup := emitters[op]; dup {
		panic("codegen: emitter registered twice: " + op)
	}
	// What the plan may do with the kernel's memory is the op table's.
	def := ir.Lookup(op)
	if def == nil {
		panic("codegen: emitter for an op not in the op table: " + op)
	}
	e.view, e.inplace = def.View, def.InPlace
	emitters[op] = e
}

// kctx is what an emitter sees of its node.
type kctx struct {
	gen *gen
	n   *ir.Node
	in  []string // parameter names of the inputs; "" for an absent one
	out []string // parameter names of the outputs
	tmp string   // scratch parameter name, if any
	b   *body
	// noSplit: code after this emitter's loops reads the whole output
	// (a fused tail), so it must not split them (span, threads.go).
	noSplit bool
}

// inShape returns input i's shape.
func (k *kctx) inShape(i int) ir.Shape { return k.n.Inputs[i].Type.Shape }

// outShape returns output i's shape.
func (k *kctx) outShape(i int) ir.Shape { return k.n.Outputs[i].Type.Shape }

func (k *kctx) l(format string, args ...any) { k.b.l(format, args...) }

// errorf is an emit-time error naming the layer.
func (k *kctx) errorf(format string, args ...any) error {
	return fmt.Errorf("codegen: %s (%s): %s", k.n.Name, k.n.Op, fmt.Sprintf(format, args...))
}

// gen holds the state of one Generate call.
type gen struct {
	g      *ir.Graph
	pkg    string
	opt    Options
	plan   *plan
	kname  map[*ir.Node]string // kernel function names
	hasErr bool                // some kernel can fail: the API returns errors
	// stream is the streaming (Step) analysis of a recurrent model; see
	// step.go. streamDone records that it was computed.
	stream     *stream
	streamDone bool
	// serial: every kernel runs on one worker (the one-step kernels of
	// Step). split holds the kernels split into parts (threads.go), by
	// their number of workers; pname the names of their part functions.
	serial bool
	split  map[*ir.Node]int
	pname  map[*ir.Node]string
	// splitting: span split the kernel being emitted.
	splitting bool
}

// reserved are the package-level names the generated files declare or
// import themselves, and the local names of the methods that call
// kernels: a kernel named after a layer must differ from all of them.
// TestReservedNames generates packages with every feature (SIMD, Step,
// self-test) and fails when a generated file declares a name missing here.
var reserved = setOf(
	// api.go (the per-dtype weight slices are added by init, from the dtype table)
	"weightsBin", "weightsChecksum", "weightsOnce", "loadWeights",
	"weightView", "Model", "New", "Input", "Output", "StepInput", "StepOutput",
	"errClosed",
	// threads.go
	"pool", "newPool",
	// selftest.go
	"selfTestData", "loadSelfTest", "compare", "compare64", "compareHalf", "relTol", "absTol", "Example",
	// step.go, emit.go helpers (simd.go adds the kernels' names)
	"stepModel", "affine64", "affine64d", "sigmoid64", "errIndex",
	// special functions
	"init", "main",
	// locals of forward and run, which call the kernels
	"m", "err", "in", "out", "worker",
)

// importNames are the names of every package a generated file may import
// (stdPaths, plus embed, sync and unsafe, written without @markers).
var importNames = func() map[string]bool {
	m := setOf("embed", "sync", "unsafe")
	for name := range stdPaths {
		m[name] = true
	}
	return m
}()

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// inParamRe matches forward's parameters (in0, in1, ...).
var inParamRe = regexp.MustCompile(`^in[0-9]+$`)

// taken reports whether a kernel may not be called name: a keyword, a
// predeclared identifier, an imported package, a name of the generated
// package itself, or a local of a method calling the kernels.
func taken(name string) bool {
	return name == "_" || goKeywords[name] || types.Universe.Lookup(name) != nil ||
		importNames[name] || reserved[name] || inParamRe.MatchString(name)
}

func init() {
	for _, dt := range ir.DTypes() {
		reserved[weightsName(dt)] = true
	}
	for h := range helperSource {
		reserved[h] = true
	}
}

func newGen(g *ir.Graph, pkg string, opt Options) (*gen, error) {
	for _, v := range g.Values() {
		if !v.Type.DType.Valid() {
			return nil, fmt.Errorf("codegen: %s: %s has dtype %v, outside dlc's dtype table", v.Pos, v.Name, v.Type.DType)
		}
	}
	for _, n := range g.Nodes {
		if _, ok := emitters[n.Op]; !ok {
			return nil, fmt.Errorf("codegen: %s: layer %s: op %q has no emitter", n.Pos, n.Name, n.Op)
		}
		if s := n.Schedule; s != nil && s.Kernel != "" && kernelOf(s) == nil {
			return nil, fmt.Errorf("codegen: %s: layer %s: the schedule names kernel %q, which is not registered (codegen/kernels: %s)",
				n.Pos, n.Name, s.Kernel, strings.Join(kernels.Names(), ", "))
		}
	}
	p, err := makePlan(g)
	if err != nil {
		return nil, err
	}
	gn := &gen{g: g, pkg: pkg, opt: opt, plan: p, kname: map[*ir.Node]string{}, split: map[*ir.Node]int{}, pname: map[*ir.Node]string{}}
	used := map[string]bool{}
	for _, n := range g.Nodes {
		gn.kname[n] = kernelName(n.Name, used)
		if e := emitters[n.Op]; e.fails != nil && e.fails(n) {
			gn.hasErr = true
		}
	}
	for _, n := range g.Nodes {
		if n.Schedule.Workers() > 1 {
			gn.pname[n] = kernelName(gn.kname[n]+"Part", used)
		}
	}
	return gn, nil
}

// kernelName is the unexported Go name of a layer's kernel, distinct from
// every name in used (to which it is added) and from every taken name:
// "fc1" → "fc1", "Conv" → "conv", "math" → "mathLayer", a second "fc" → "fc2".
// Names are given in node order, so they are deterministic.
func kernelName(layer string, used map[string]bool) string {
	name := ident(layer)
	if name[0] >= 'A' && name[0] <= 'Z' {
		name = strings.ToLower(name[:1]) + name[1:]
	}
	if taken(name) {
		name += "Layer"
	}
	base := name
	for i := 2; used[name] || taken(name); i++ {
		name = fmt.Sprintf("%s%d", base, i)
	}
	used[name] = true
	return name
}

// elemType is the Go element type of a dtype: its storage type in ir's
// dtype table ("uint16" holds f16 and bf16 bits). newGen refuses a graph
// with a dtype outside the table, so the panic is an internal error.
func elemType(dt ir.DType) string {
	info, ok := dt.Info()
	if !ok {
		panic(fmt.Sprintf("codegen: no Go type for %v", dt))
	}
	return info.Storage
}

// arrType is the array pointer type of a value with n elements.
func arrType(dt ir.DType, n int) string { return fmt.Sprintf("*[%d]%s", n, elemType(dt)) }

// ref is the Go expression of a value's storage as an array pointer, in
// the forward method (m is the model, inK the inputs).
func (gn *gen) ref(l loc) string {
	t := arrType(l.dt, l.n)
	switch l.kind {
	case locInput:
		return fmt.Sprintf("in%d", l.idx)
	case locWeight:
		return fmt.Sprintf("(%s)(%s[%d:%d])", t, weightsName(l.dt), l.off, l.off+l.n)
	}
	return fmt.Sprintf("(%s)(m.%s[%d:%d])", t, arenaName(l.dt), l.off, l.off+l.n)
}

// callKernels writes the body of a forward method: the call of every
// kernel in node order, with the plan's storage as arguments (ref turns a
// location into a Go expression in the method), returning a kernel's
// error, then the copies of graph outputs that are inputs or params.
// after, if not nil, adds code after a node's call. The whole-model
// forward (api.go) and the one-step forward (step.go) both use it, so a
// change to how kernels are called (threads, say) is made once.
func (gn *gen) callKernels(b *body, ref func(loc) string, after func(n *ir.Node)) {
	p := gn.plan
	for _, n := range gn.g.Nodes {
		e := emitters[n.Op]
		if e.view && !p.copyNode[n] {
			continue
		}
		if gn.split[n] > 0 {
			gn.callSplit(b, n) // threads.go
			if after != nil {
				after(n)
			}
			continue
		}
		call := fmt.Sprintf("%s(%s)", gn.kname[n], strings.Join(gn.kernelArgs(n, ref), ", "))
		if e.fails != nil && e.fails(n) {
			b.l("if err := %s; err != nil {\nreturn err\n}", call)
		} else {
			b.l("%s", call)
		}
		if after != nil {
			after(n)
		}
	}
	for i, v := range gn.g.Outputs {
		if l, ok := p.outCopy[i]; ok {
			b.l("*%s = *%s", ref(l), ref(p.loc[v]))
		}
	}
}

// kernelArgs are the arguments of n's kernel: its inputs, outputs and
// scratch as ref writes their locations.
func (gn *gen) kernelArgs(n *ir.Node, ref func(loc) string) []string {
	p := gn.plan
	var args []string
	for _, v := range n.Inputs {
		if v != nil { // kernels take no parameter for an absent input
			args = append(args, ref(p.loc[v]))
		}
	}
	for _, o := range n.Outputs {
		args = append(args, ref(p.loc[o]))
	}
	if s, ok := p.scratch[n]; ok {
		args = append(args, ref(s))
	}
	return args
}

// forwardMethod emits method forward on recv (e.g. "m *Model") with body
// b: its parameters in0, in1, ... are the first nIn graph inputs as array
// pointers, and it returns an error when a kernel can fail.
func (gn *gen) forwardMethod(f *jen.File, recv, docText string, nIn int, b *body) {
	var params []jen.Code
	for i, v := range gn.g.Inputs[:nIn] {
		params = append(params, src(fmt.Sprintf("in%d %s", i, arrType(v.Type.DType, v.Type.Shape.NumElems()))))
	}
	f.Add(doc("%s", docText))
	fn := f.Func().Params(src(recv)).Id("forward").Params(params...)
	if gn.hasErr {
		b.l("return nil")
		fn.Error()
	}
	fn.Block(b.code...)
	f.Line()
}

// kernelsFile emits one function per node.
func (gn *gen) kernelsFile() (*jen.File, error) {
	f := newFile(gn.pkg)
	f.Comment("Kernels: one function per layer, every bound a constant.")
	f.Line()
	helpers := map[string]bool{}
	for _, n := range gn.g.Nodes {
		e := emitters[n.Op]
		if e.view && !gn.plan.copyNode[n] {
			continue
		}
		k := &kctx{gen: gn, n: n, b: &body{}}
		var params []jen.Code
		for i, v := range n.Inputs {
			name := fmt.Sprintf("x%d", i)
			if len(n.Inputs) == 1 {
				name = "x"
			}
			if v == nil {
				k.in = append(k.in, "")
				continue
			}
			k.in = append(k.in, name)
			n := v.Type.Shape.NumElems()
			if l, ok := gn.plan.loc[v]; ok && l.kind == locWeight {
				n = l.n // pre-packed weights may be longer
			}
			params = append(params, src(name+" "+arrType(v.Type.DType, n)))
		}
		// Trailing optional inputs may be left out of a node (a dense
		// without bias has two inputs): emitters see them as absent.
		if def := n.Def(); len(def.Inputs) > 0 && !def.Inputs[len(def.Inputs)-1].Variadic {
			for len(k.in) < len(def.Inputs) {
				k.in = append(k.in, "")
			}
		}
		for i, o := range n.Outputs {
			name := "y"
			if i > 0 {
				name = ident(n.Def().OutputNames(n)[i]) + "Out"
			}
			k.out = append(k.out, name)
			params = append(params, src(name+" "+arrType(o.Type.DType, o.Type.Shape.NumElems())))
		}
		if s, ok := gn.plan.scratch[n]; ok {
			k.tmp = "tmp"
			params = append(params, src("tmp "+arrType(s.dt, s.n)))
		}
		var err error
		gn.splitting = false
		if gn.plan.copyNode[n] {
			k.l("*y = *x")
		} else {
			err = e.emit(k)
		}
		if err != nil {
			return nil, err
		}
		for _, h := range kernelHelpers(k.b) {
			helpers[h] = true
		}
		fails := e.fails != nil && e.fails(n)
		var ins []string
		for _, v := range n.Inputs {
			if v != nil {
				ins = append(ins, fmt.Sprintf("%s %v", v.Name, v.Type))
			}
		}
		var outs []string
		for _, o := range n.Outputs {
			outs = append(outs, fmt.Sprintf("%s %v", o.Name, o.Type))
		}
		d := fmt.Sprintf("%s computes layer %s (%s): %s → %s.", gn.kname[n], n.Name, n.Op, strings.Join(ins, ", "), strings.Join(outs, ", "))
		if a := attrSummary(n); a != "" {
			d += "\nAttributes: " + a + "."
		}
		if n.Schedule != nil {
			d += "\nSchedule: " + scheduleString(n.Schedule) + "."
		}
		switch {
		case gn.splitting:
			d += fmt.Sprintf("\nIt computes part worker of %d: its share of the outputs.", k.workers())
		case n.Schedule.Workers() > 1:
			d += "\nIt runs on one worker: this path of the emitter has no split."
		}
		if gn.plan.inplace[n] {
			d += "\ny may be x: the plan runs this kernel in place."
		}
		f.Add(doc("%s", d))
		if gn.splitting {
			params = gn.splitKernel(k, params)
		}
		fn := f.Func().Id(gn.kname[n]).Params(params...)
		if fails {
			fn.Error()
			k.l("return nil")
		}
		fn.Block(k.b.code...)
		f.Line()
	}
	names := make([]string, 0, len(helpers))
	for h := range helpers {
		names = append(names, h)
	}
	sort.Strings(names)
	for _, h := range names {
		f.Add(src(helperSource[h]))
		f.Line()
	}
	return f, nil
}

func attrSummary(n *ir.Node) string {
	var parts []string
	for _, k := range n.Attrs.Keys() {
		parts = append(parts, k+"="+ir.FormatAttr(n.Attrs[k]))
	}
	return strings.Join(parts, " ")
}

func scheduleString(s *ir.Schedule) string {
	var parts []string
	keys := make([]string, 0, len(s.Tiles))
	for k := range s.Tiles {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("tile %s=%d", k, s.Tiles[k]))
	}
	if len(s.Order) > 0 {
		parts = append(parts, "order "+strings.Join(s.Order, ","))
	}
	if s.Unroll > 0 {
		parts = append(parts, fmt.Sprintf("unroll %d", s.Unroll))
	}
	if s.Vector > 0 {
		parts = append(parts, fmt.Sprintf("vector %d", s.Vector))
	}
	if s.Algo != "" {
		parts = append(parts, "algo "+s.Algo)
	}
	if s.Kernel != "" {
		parts = append(parts, "kernel "+s.Kernel)
	}
	if s.Threads > 1 {
		parts = append(parts, fmt.Sprintf("threads %d", s.Threads))
	}
	if s.WeightLayout != "" {
		parts = append(parts, "weights "+s.WeightLayout)
	}
	if len(parts) == 0 {
		return "default"
	}
	return strings.Join(parts, ", ")
}

// Package-level helpers that kernels call, emitted once when used.
var helperSource = map[string]string{
	"affine64": `// affine64 returns bias + Σ w[j]·v[j], accumulated in float64 in index
// order as the reference interpreter does for recurrent gates.
func affine64(w []float32, bias float32, v []float32) float64 {
	s := float64(bias)
	w = w[:len(v)]
	for j, vj := range v {
		s += float64(w[j]) * float64(vj)
	}
	return s
}`,
	"affine64d": `// affine64d is affine64 over a float64 vector.
func affine64d(w []float32, bias float32, v []float64) float64 {
	s := float64(bias)
	w = w[:len(v)]
	for j, vj := range v {
		s += float64(w[j]) * vj
	}
	return s
}`,
	"sigmoid64": `// sigmoid64 is the logistic function in float64.
func sigmoid64(v float64) float64 { return 1 / (1 + @math.Exp(-v)) }`,
}

// kernelHelpers lists the helpers a body calls.
func kernelHelpers(b *body) []string {
	var out []string
	for h := range helperSource {
		if strings.Contains(b.text.String(), h+"(") {
			out = append(out, h)
		}
	}
	return out
}

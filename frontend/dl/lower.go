package dl

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/weights"
)

// Limits that keep any input cheap to reject.
const (
	maxInt        = 1 << 53 // largest integer literal or computed integer
	maxDim        = 1 << 31 // largest dimension or integer layer argument
	maxElems      = 1 << 31 // largest tensor, in elements
	maxLayers     = 20000   // layers instantiated, counting repeats and blocks
	maxRepeat     = 1000    // largest repeat(n)
	maxBlockDepth = 50      // blocks calling blocks
	maxAlloc      = 1 << 22 // elements of constant data made without a weights file
	maxSource     = 4 << 20 // bytes of source
)

// Options for Load.
type Options struct {
	// Set overrides `const` parameters, e.g. {"batch": 8}.
	Set map[string]int
	// NoWeights skips the weights file: params get their initializers
	// (for `dlc check` without weights, or training from scratch).
	NoWeights bool
}

// LoadFile reads a .dl model and, unless opt.NoWeights is set, the
// weights file it names (relative to the .dl file's directory).
func LoadFile(path string, opt Options) (*ir.Graph, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Load(path, src, opt)
}

// Load compiles the .dl source src into a verified graph. filename is used
// in error positions and to find the weights file. A failure returns an
// *ErrorList.
func Load(filename string, src []byte, opt Options) (*ir.Graph, error) {
	e := newErrs(filename, src)
	if len(src) > maxSource {
		e.add(ir.Pos{File: filename}, fmt.Sprintf("file is too large (%d bytes, limit %d)", len(src), maxSource))
		return nil, e.err()
	}
	stmts := parse(filename, src, e)
	if len(e.list) > 0 {
		return nil, e.err()
	}
	l := &lowerer{
		e: e, file: filename, opt: opt,
		consts: map[string]val{}, blocks: map[string]*blockStmt{},
		used: map[string]ir.Pos{}, reserved: map[string]bool{}, gen: map[string]int{},
		initName: "he",
	}
	g := l.lower(stmts)
	if len(e.list) > 0 {
		return nil, e.err()
	}
	if err := ir.Verify(g); err != nil {
		e.add(ir.Pos{File: filename}, "internal error: the graph does not verify: "+err.Error())
		return nil, e.err()
	}
	return g, nil
}

// vkind is the kind of a value computed while lowering.
type vkind uint8

const (
	vBad    vkind = iota // the result of a statement that failed
	vTensor              // one or more graph values (several for lstm)
	vInt
	vFloat
	vBool
	vString
	vList
)

// val is a value in the .dl program: tensors, numbers, strings, lists.
type val struct {
	kind vkind
	ts   []*ir.Value
	i    int64
	f    float64
	b    bool
	s    string
	list []val
	// bare marks a string made from an unbound identifier, such as
	// nonlinearity=relu.
	bare bool
}

func tensorVal(vs ...*ir.Value) val { return val{kind: vTensor, ts: vs} }

func (v val) num() (float64, bool) {
	switch v.kind {
	case vInt:
		return float64(v.i), true
	case vFloat:
		return v.f, true
	}
	return 0, false
}

// describe names a value for error messages: "int 3", "tensor h f32[1,3]".
func (v val) describe() string {
	switch v.kind {
	case vTensor:
		return "tensor " + v.ts[0].Name + " " + v.ts[0].Type.String()
	case vInt:
		return "int " + strconv.FormatInt(v.i, 10)
	case vFloat:
		return "number " + strconv.FormatFloat(v.f, 'g', -1, 64)
	case vBool:
		return "bool " + strconv.FormatBool(v.b)
	case vString:
		if v.bare {
			return "undefined name " + v.s
		}
		return "string " + strconv.Quote(v.s)
	case vList:
		var parts []string
		for _, e := range v.list {
			parts = append(parts, e.short())
		}
		return "list [" + strings.Join(parts, ", ") + "]"
	}
	return "an invalid value"
}

func (v val) short() string {
	switch v.kind {
	case vInt:
		return strconv.FormatInt(v.i, 10)
	case vFloat:
		return strconv.FormatFloat(v.f, 'g', -1, 64)
	case vString:
		return strconv.Quote(v.s)
	case vTensor:
		return v.ts[0].Name
	}
	return v.describe()
}

// posErr is an error at a source position.
type posErr struct {
	pos ir.Pos
	msg string
	// inBlock is set once the message names the block instance it came from.
	inBlock bool
}

func (e *posErr) Error() string { return e.msg }

func errAt(pos ir.Pos, format string, args ...any) error {
	return &posErr{pos: pos, msg: fmt.Sprintf(format, args...)}
}

// errReported stands for an error already reported (a use of a variable
// whose statement failed), so that one mistake gives one message.
var errReported = errors.New("reported")

// scope holds the variables of the top level or of one block instance.
type scope struct {
	vars   map[string]val
	prefix string // "" at the top level, "layer1.0." inside a block
	// splice, inside a block spliced into a seq (*block(...)), numbers
	// the block's layers in the seq.
	splice *spliceCtx
}

// spliceCtx is the numbering of a seq that layers are spliced into.
type spliceCtx struct {
	seq  string // the seq's full name
	next *int   // the seq's next item number
}

// take names the next layer of the seq: its label, or its number.
func (s *spliceCtx) take(label string) string {
	n := strconv.Itoa(*s.next)
	*s.next++
	if label != "" {
		n = label
	}
	return s.seq + "." + n
}

type lowerer struct {
	e    *errs
	file string
	opt  Options
	g    *ir.Graph

	consts map[string]val
	blocks map[string]*blockStmt

	wfile    *weights.File
	wname    string // the weights file as written in the source
	renames  []rename
	renUsed  []bool
	initName string // default initializer of weights
	initSet  bool   // an init statement set initName

	used     map[string]ir.Pos // node, value and prefix names taken
	reserved map[string]bool   // layer labels written anywhere
	gen      map[string]int    // next number for generated names

	layers  int            // layers instantiated so far
	missing []missingParam // parameters not in the weights file
	// splicing is the seq numbering the next block use is spliced into
	// (set by applySplice, taken by applyBlock).
	splicing *spliceCtx
	alloc    int      // elements of constant data allocated
	stack    []string // blocks being expanded
}

func (l *lowerer) report(err error) {
	var pe *posErr
	switch {
	case err == nil, errors.Is(err, errReported):
	case errors.As(err, &pe):
		l.e.add(pe.pos, pe.msg)
	default:
		l.e.add(ir.Pos{File: l.file}, err.Error())
	}
}

func (l *lowerer) lower(stmts []stmt) *ir.Graph {
	name := strings.TrimSuffix(filepath.Base(l.file), filepath.Ext(l.file))
	if name == "" || name == "." || name == string(filepath.Separator) {
		name = "model"
	}
	l.g = ir.NewGraph(name)
	var (
		modelPos, weightsPos, initPos, labelsPos ir.Pos
		wstmt                                    *weightsStmt
		labels                                   *labelsStmt
	)
	// Declarations first: they may appear anywhere in the file.
	once := func(prev *ir.Pos, pos ir.Pos, what string) bool {
		if prev.IsValid() {
			l.report(errAt(pos, "second %s statement (the first is at %d:%d)", what, prev.Line, prev.Col))
			return false
		}
		*prev = pos
		return true
	}
	for _, s := range stmts {
		switch s := s.(type) {
		case *modelStmt:
			if once(&modelPos, s.pos, "model") {
				l.g.Name = s.name
			}
		case *blockStmt:
			switch {
			case l.blocks[s.name] != nil:
				p := l.blocks[s.name].pos
				l.report(errAt(s.pos, "block %s is defined twice (first at %d:%d)", s.name, p.Line, p.Col))
			case lookupLayer(s.name) != nil || s.name == "seq" || s.name == "repeat":
				l.report(errAt(s.pos, "block %s: the name is a built-in layer", s.name))
			default:
				l.blocks[s.name] = s
			}
		case *weightsStmt:
			if once(&weightsPos, s.pos, "weights") {
				wstmt = s
			}
		case *initStmt:
			if once(&initPos, s.pos, "init") {
				if !validInit(s.name) {
					l.report(errAt(s.pos, "unknown initializer %q (want %s)", s.name, strings.Join(initNames, ", ")))
				} else {
					l.initName, l.initSet = s.name, true
				}
			}
		case *labelsStmt:
			if once(&labelsPos, s.pos, "labels") {
				labels = s
			}
		case *constStmt:
			l.constStmt(s)
		}
	}
	var setKeys []string
	for k := range l.opt.Set {
		setKeys = append(setKeys, k)
	}
	sort.Strings(setKeys)
	for _, k := range setKeys {
		if _, ok := l.consts[k]; !ok {
			var names []string
			for n := range l.consts {
				names = append(names, n)
			}
			sort.Strings(names)
			has := "it declares no consts"
			if len(names) > 0 {
				has = "it has " + strings.Join(names, ", ")
			}
			l.report(errAt(ir.Pos{File: l.file}, "--set %s: the model has no const %s (%s)", k, k, has))
		}
	}
	if b, ok := l.consts["batch"]; ok && b.kind == vInt {
		l.g.Batch = int(b.i)
	}
	walkLabels(stmts, l.reserved)
	if wstmt != nil {
		l.loadWeights(wstmt)
	}
	top := &scope{vars: map[string]val{}}
	for _, s := range stmts {
		if l.e.full {
			break
		}
		switch s := s.(type) {
		case *inputStmt:
			l.inputStmt(top, s)
		case *tensorStmt:
			l.tensorStmt(top, s)
		case *multiInput:
			for _, in := range s.list {
				l.inputStmt(top, in)
			}
		case *assignStmt:
			l.report(l.assign(top, s))
		case *outputStmt:
			l.outputStmt(top, s)
		}
	}
	if l.e.full {
		return l.g
	}
	l.reportMissing()
	clean := len(l.e.list) == 0
	for i, r := range l.renames {
		if !l.renUsed[i] && clean {
			l.report(errAt(r.pos, "weights: no parameter of the model is called %s (or starts with %s.)", r.from, r.from))
		}
	}
	if len(l.g.Outputs) == 0 && len(l.e.list) == 0 {
		l.report(errAt(ir.Pos{File: l.file, Line: 1, Col: 1}, "the model has no output statement (write e.g. `output logits`)"))
	}
	if labels != nil {
		l.g.Labels = labels.labels
		if len(l.g.Outputs) > 0 {
			s := l.g.Outputs[0].Type.Shape
			if len(s) == 0 || s[len(s)-1] != len(labels.labels) {
				l.report(errAt(labels.pos, "%d labels, but the first output %s is %v", len(labels.labels), l.g.OutputNames[0], l.g.Outputs[0].Type))
			}
		}
	}
	return l.g
}

// walkLabels collects every layer label so that generated names avoid them.
func walkLabels(stmts []stmt, into map[string]bool) {
	var walkLayer func(*layer)
	var walkExpr func(expr)
	walkLayer = func(ly *layer) {
		if ly == nil {
			return
		}
		if ly.label != "" {
			into[ly.label] = true
		}
		for _, a := range ly.args {
			walkExpr(a.val)
		}
		for _, s := range ly.seq {
			walkLayer(s)
		}
		walkLayer(ly.inner)
	}
	walkExpr = func(e expr) {
		switch e := e.(type) {
		case *pipeExpr:
			walkExpr(e.x)
			for _, s := range e.stages {
				walkLayer(s)
			}
		case *layerExpr:
			walkLayer(e.l)
		case *binaryExpr:
			walkExpr(e.x)
			walkExpr(e.y)
		case *unaryExpr:
			walkExpr(e.x)
		case *indexExpr:
			walkExpr(e.x)
			for _, it := range e.items {
				for _, x := range []expr{it.idx, it.start, it.stop, it.step} {
					walkExpr(x)
				}
			}
		case *listExpr:
			for _, x := range e.elems {
				walkExpr(x)
			}
		}
	}
	for _, s := range stmts {
		switch s := s.(type) {
		case *assignStmt:
			walkExpr(s.val)
		case *outputStmt:
			for _, it := range s.items {
				walkExpr(it.val)
			}
		case *blockStmt:
			walkLabels(s.body, into)
		case *returnStmt:
			for _, v := range s.vals {
				walkExpr(v)
			}
		}
	}
}

var initNames = []string{"he", "xavier", "zeros", "ones", "normal"}

func validInit(s string) bool {
	for _, n := range initNames {
		if n == s {
			return true
		}
	}
	return false
}

func (l *lowerer) constStmt(s *constStmt) {
	if _, dup := l.consts[s.name]; dup {
		l.report(errAt(s.pos, "const %s is declared twice", s.name))
		return
	}
	if v, ok := l.opt.Set[s.name]; ok {
		if v < 1-maxDim || v > maxDim {
			l.report(errAt(s.pos, "--set %s=%d is out of range", s.name, v))
			l.consts[s.name] = val{}
			return
		}
		l.consts[s.name] = val{kind: vInt, i: int64(v)}
		return
	}
	v, err := l.eval(&scope{}, s.val)
	if err == nil && v.kind != vInt && v.kind != vFloat && v.kind != vBool && v.kind != vString {
		err = errAt(s.pos, "const %s must be a number, bool or string, got %s", s.name, v.describe())
	}
	if err == nil && v.bare {
		err = errAt(s.val.exprPos(), "undefined: %s", v.s)
	}
	if err == nil && s.name == "batch" && (v.kind != vInt || v.i < 1 || v.i > maxDim) {
		err = errAt(s.val.exprPos(), "const batch must be a positive int, got %s", v.describe())
	}
	if err != nil {
		l.report(err)
		v = val{}
	}
	l.consts[s.name] = v
}

func (l *lowerer) loadWeights(s *weightsStmt) {
	l.wname = s.path
	l.renames = s.renames
	l.renUsed = make([]bool, len(s.renames))
	if l.opt.NoWeights {
		return
	}
	path := s.path
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(l.file), path)
	}
	f, err := weights.ReadSafetensors(path)
	if err != nil {
		l.report(errAt(s.pos, "weights: %v", err))
		return
	}
	l.wfile = f
}

// claim takes a name for a node, value or layer prefix.
func (l *lowerer) claim(name string, pos ir.Pos) error {
	if p, ok := l.used[name]; ok {
		if p.IsValid() {
			return errAt(pos, "name %s is already used (at %d:%d)", name, p.Line, p.Col)
		}
		return errAt(pos, "name %s is already used", name)
	}
	l.used[name] = pos
	return nil
}

// genName returns an unused name prefix+base_k for an unnamed layer.
func (l *lowerer) genName(prefix, base string) string {
	key := prefix + base
	for {
		l.gen[key]++
		b := base + "_" + strconv.Itoa(l.gen[key])
		if l.reserved[b] {
			continue
		}
		if _, ok := l.used[prefix+b]; !ok {
			return prefix + b
		}
	}
}

func (l *lowerer) inputStmt(sc *scope, s *inputStmt) {
	fail := func(err error) {
		l.report(err)
		sc.vars[s.name] = val{}
	}
	dt, ok := ir.ParseDType(s.dtype)
	if !ok {
		fail(errAt(s.dpos, "unknown dtype %q (want one of %s)", s.dtype, dtypeList()))
		return
	}
	if _, ok := l.consts[s.name]; ok {
		fail(errAt(s.pos, "input %s: the name is a const", s.name))
		return
	}
	var shape ir.Shape
	for _, d := range s.dims {
		v, err := l.eval(sc, d)
		if err != nil {
			fail(err)
			return
		}
		if v.kind != vInt || v.i < 1 || v.i > maxDim {
			fail(errAt(d.exprPos(), "input %s: dimension must be a positive int, got %s", s.name, v.describe()))
			return
		}
		shape = append(shape, int(v.i))
	}
	if _, ok := numElems(shape); !ok {
		fail(errAt(s.pos, "input %s: shape %v is too large (more than %d elements)", s.name, shape, maxElems))
		return
	}
	if err := l.claim(s.name, s.pos); err != nil {
		fail(err)
		return
	}
	v := l.g.AddInput(s.name, ir.TensorType{DType: dt, Shape: shape}, s.pos)
	sc.vars[s.name] = tensorVal(v)
}

// numElems is the product of the dimensions, or false beyond maxElems.
func numElems(s ir.Shape) (int, bool) {
	n := 1
	for _, d := range s {
		if d < 0 || d > maxElems {
			return 0, false
		}
		n *= d
		if n > maxElems {
			return 0, false
		}
	}
	return n, true
}

func (l *lowerer) assign(sc *scope, s *assignStmt) error {
	bad := func() {
		for _, t := range s.targets {
			if t != "_" {
				sc.vars[t] = val{}
			}
		}
	}
	for i, t := range s.targets {
		if _, ok := l.consts[t]; ok {
			bad()
			return errAt(s.tpos[i], "cannot assign to const %s", t)
		}
	}
	v, err := l.eval(sc, s.val)
	if err != nil {
		bad()
		return err
	}
	if v.bare {
		bad()
		return l.undefined(sc, s.val.exprPos(), v.s)
	}
	if len(s.targets) == 1 && s.groups == nil {
		if s.targets[0] != "_" {
			sc.vars[s.targets[0]] = v
		}
		return nil
	}
	if v.kind != vTensor || len(v.ts) != len(s.targets) {
		bad()
		n, what := 1, v.describe()
		if v.kind == vTensor {
			n = len(v.ts)
			var names []string
			for _, t := range v.ts {
				names = append(names, t.Name)
			}
			what = strings.Join(names, ", ")
		}
		return errAt(s.tpos[0], "%d names on the left, but the right side gives %d value(s) (%s)", len(s.targets), n, what)
	}
	if err := checkGroups(s, v); err != nil {
		bad()
		return err
	}
	for i, t := range s.targets {
		if t != "_" {
			sc.vars[t] = tensorVal(v.ts[i])
		}
	}
	return nil
}

// checkGroups checks the parentheses of y, (h, c) = x | lstm(...)
// against PyTorch's nesting of the layer's results: an LSTM returns
// (output, (h_n, c_n)); other layers a flat tuple.
func checkGroups(s *assignStmt, v val) error {
	if s.groups == nil {
		return nil
	}
	want := []int{}
	for range v.ts {
		want = append(want, 1)
	}
	op, pytorch := "", ""
	if d := v.ts[0].Def; d != nil && len(v.ts) == len(d.Outputs) {
		op = d.Op
	}
	if op == "lstm" {
		want, pytorch = []int{1, 2}, "y, (h, c)"
	}
	if fmt.Sprint(want) == fmt.Sprint(s.groups) {
		return nil
	}
	if pytorch != "" {
		return errAt(s.tpos[0], "%s gives its results nested as %s, as PyTorch does, or flat: y, h, c", op, pytorch)
	}
	what := "its results"
	if op != "" {
		what = op + "'s results"
	}
	return errAt(s.tpos[0], "%s are not nested: write the %d names without parentheses", what, len(v.ts))
}

func (l *lowerer) outputStmt(sc *scope, s *outputStmt) {
	for _, it := range s.items {
		var v val
		var err error
		if it.val == nil {
			v, err = l.eval(sc, &identExpr{pos: it.pos, name: it.name})
		} else {
			v, err = l.eval(sc, it.val)
		}
		if err == nil && v.kind != vTensor {
			p := it.pos
			if it.val != nil {
				p = it.val.exprPos()
			}
			err = errAt(p, "output %s must be a tensor, got %s", it.name, v.describe())
		}
		if err == nil {
			for _, n := range l.g.OutputNames {
				if n == it.name {
					err = errAt(it.pos, "output %s is declared twice", it.name)
				}
			}
		}
		if err != nil {
			l.report(err)
			continue
		}
		l.g.AddOutput(it.name, v.ts[0])
		if it.classes {
			if err := classScores(it, v.ts[0]); err != nil {
				l.report(err)
				continue
			}
			l.g.ClassScores = append(l.g.ClassScores, it.name)
		}
	}
}

// classScores checks an output declared as class scores: floats whose
// last axis holds the classes.
func classScores(it outItem, v *ir.Value) error {
	s := v.Type.Shape
	if !v.Type.DType.IsFloat() || len(s) == 0 || s[len(s)-1] < 2 {
		return errAt(it.pos, "output %s: classes are scores along the last axis of a float tensor with at least 2 of them, got %v", it.name, v.Type)
	}
	return nil
}

// undefined reports an unknown name, suggesting close ones.
func (l *lowerer) undefined(sc *scope, pos ir.Pos, name string) error {
	if name == "_" {
		return errAt(pos, "_ is the throwaway name: a value assigned to it is dropped, and it cannot be used")
	}
	if lookupLayer(name) != nil || l.blocks[name] != nil {
		return errAt(pos, "%s is a layer, not a value: write x | %s or %s(x)", name, name, name)
	}
	var cands []string
	for n := range sc.vars {
		cands = append(cands, n)
	}
	for n := range l.consts {
		cands = append(cands, n)
	}
	return errAt(pos, "undefined: %s%s", name, didYouMean(name, cands))
}

// didYouMean returns " (did you mean a or b?)" for the candidates close
// to name, or "".
func didYouMean(name string, cands []string) string {
	type scored struct {
		s string
		d int
	}
	var best []scored
	for _, c := range cands {
		d := editDistance(name, c)
		if d <= 2 || d <= len(name)/3 || strings.HasPrefix(c, name) && len(name) >= 3 {
			best = append(best, scored{c, d})
		}
	}
	if len(best) == 0 {
		return ""
	}
	sort.Slice(best, func(i, j int) bool {
		if best[i].d != best[j].d {
			return best[i].d < best[j].d
		}
		return best[i].s < best[j].s
	})
	if len(best) > 3 {
		best = best[:3]
	}
	var names []string
	for _, b := range best {
		names = append(names, b.s)
	}
	if len(names) > 1 {
		return " (did you mean " + strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1] + "?)"
	}
	return " (did you mean " + names[0] + "?)"
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		if a == b {
			return 0
		}
		return 100
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			c = min(c, prev[j]+1, cur[j-1]+1)
			cur[j] = c
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// dtypeList is the .dl spellings of every dtype, for error messages.
func dtypeList() string {
	var names []string
	for _, dt := range ir.DTypes() {
		names = append(names, dt.String())
	}
	return strings.Join(names, ", ")
}

// Package onnx imports ONNX models (model.onnx) into dlc's IR.
//
// The protobuf wire format is decoded by hand with protowire (decode.go):
// no generated code, every error carries the byte offset and the field
// being read, and no buffer is sized from a length the file claims before
// the bytes are known to be there (tensor.go).
//
// Import maps ONNX ops (default domain, opsets 7 to 28) onto ir ops,
// converting ONNX conventions into dlc's PyTorch ones: recurrent gate
// order and weight layout, explicit pooling strides, flatten-style softmax
// before opset 13. Arithmetic on values known at import time (shapes,
// initializers, Constant nodes) is folded, so shape computations such as
// Shape → Gather → Concat → Reshape disappear, and so do the zero
// initial states PyTorch builds for recurrent layers called without one
// (ConstantOfShape or Expand of zeros: the layer gets no initial state).
// dlc has no pad op: a zero Pad of spatial axes is folded into the Conv
// or AveragePool after it (pad.go). Symbolic batch dimensions of graph
// inputs are bound by Options.Batch (default 1). Nodes and parameters
// take PyTorch's module names (names.go). A model with unsupported ops or
// attributes is refused with one error listing every such node.
package onnx

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dlcompiler/dlc/ir"
)

// Opset range the importer accepts. Up to opset 25 every mapped op's
// conversion follows each of its versions; above it, an op is imported
// only if newerVersions says its versions there changed nothing dlc
// computes.
const (
	minOpset = 7
	maxOpset = 28
	// checkedOpset is the newest opset whose every op version the
	// conversions were written against.
	checkedOpset = 25
)

// Opsets returns the range of ai.onnx opsets the importer accepts.
func Opsets() (lo, hi int) { return minOpset, maxOpset }

// opVersion is one version of an ONNX op defined above checkedOpset.
type opVersion struct {
	since     int64
	typesOnly bool   // it only adds element types; semantics are unchanged
	note      string // what changed, for the refusal
}

// newerVersions lists, per op, its versions defined in opsets
// checkedOpset+1 .. maxOpset (ONNX 1.21 to 1.23; the ops whose node tests
// were regenerated then). An op not listed has no version above
// checkedOpset, so its newest version at or below 25 holds. A version
// that is not typesOnly is refused until its conversion is written.
var newerVersions = map[string][]opVersion{
	"Range": {{27, true, "adds float16 and bfloat16"}},
	"Celu":  {{28, true, "adds float16 and bfloat16"}},
}

// opsetProblem says why op cannot be imported at the model's opset, or "".
func opsetProblem(op string, opset int64) string {
	if opset < minOpset || opset > maxOpset {
		return fmt.Sprintf("opset %d is outside the supported range %d..%d", opset, minOpset, maxOpset)
	}
	for _, v := range newerVersions[op] {
		if v.since <= opset && !v.typesOnly {
			return fmt.Sprintf("%s-%d (%s) is not supported; dlc implements its versions up to opset %d", op, v.since, v.note, v.since-1)
		}
	}
	return ""
}

// Load reads path and imports the model; external data files are looked
// up in the model's folder.
func Load(path string) (*ir.Graph, error) {
	return LoadWith(path, Options{})
}

// LoadWith is Load with options.
func LoadWith(path string, opt Options) (*ir.Graph, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ImportWith(path, data, filepath.Dir(path), opt)
}

// Import converts a serialized ONNX ModelProto to an ir.Graph. filename is
// used in messages and to name the graph; dir is the folder external
// tensor data is read from ("" refuses external data). The graph inputs
// are the ONNX graph inputs that are not initializers, in order; the
// outputs keep their ONNX names.
func Import(filename string, data []byte, dir string) (*ir.Graph, error) {
	return ImportWith(filename, data, dir, Options{})
}

// Options adjust an import.
type Options struct {
	// Constants gives values to graph inputs by ONNX name: they are
	// treated like initializers and are no longer graph inputs. Models
	// that compute a shape, axes or bounds at run time (as ONNX's own node
	// tests do) import once those inputs are fixed.
	Constants map[string]*ir.Tensor
	// Batch is the size given to the batch dimension of graph inputs
	// that the model leaves symbolic (torch.onnx.export with
	// dynamic_axes={"input": {0: "batch"}}); 0 means 1. The batch
	// dimension is every symbolic dimension whose name mentions "batch"
	// (any axis, so sequence-first inputs work) or, when no input names
	// one so, every symbolic or unknown first dimension. The graph's
	// Batch is set to the size used. Static dimensions are never changed.
	Batch int
	// Dims gives sizes to other symbolic dimensions by name (a dynamic
	// sequence length, say); it takes precedence over Batch.
	Dims map[string]int
}

// ImportWith is Import with options.
func ImportWith(filename string, data []byte, dir string, opt Options) (g *ir.Graph, err error) {
	defer func() {
		if r := recover(); r != nil {
			g, err = nil, fmt.Errorf("%s: internal error: panic: %v", filename, r)
		}
	}()
	m, err := decodeModel(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filename, err)
	}
	g, err = build(m, filename, dir, opt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filename, err)
	}
	return g, nil
}

// val is an ONNX value during import: an ir value, or contents known at
// import time (materialized as a param or const only when a node reads
// it), or both.
type val struct {
	name   string     // ONNX name
	v      *ir.Value  // nil until needed for a known value
	c      *ir.Tensor // contents when known at import time
	elem   int32      // ONNX element type
	weight bool       // derived from an initializer (f32 becomes a Param)
	// key names how known contents were computed (an initializer, a
	// small constant, a fold of keyed values), so that the same weight
	// derived twice, as by two GRU nodes sharing one initializer, becomes
	// one ir value; "" for contents never shared.
	key string
	// pad is set on the output of a constant zero Pad of spatial axes,
	// which has no ir value: the Conv or AveragePool reading it takes
	// the padding into its own pads (see pad.go).
	pad *padded
}

func (x *val) typ() ir.TensorType {
	if x.pad != nil {
		return x.pad.typ
	}
	if x.c != nil {
		return x.c.Type()
	}
	return x.v.Type
}

func (x *val) shape() ir.Shape { return x.typ().Shape }
func (x *val) rank() int       { return len(x.typ().Shape) }

// errUnsupported marks conversion failures that mean "dlc cannot express
// this", as opposed to a malformed model.
type errUnsupported struct{ msg string }

func (e *errUnsupported) Error() string { return e.msg }

func unsup(format string, args ...any) error {
	return &errUnsupported{fmt.Sprintf(format, args...)}
}

type importer struct {
	g      *ir.Graph
	m      *model
	opset  int64
	dir    string
	vals   map[string]*val
	poison map[string]bool // outputs of nodes that failed
	used   map[string]bool // ir node, value and param names
	// needConst lists graph inputs some node needs to know at import.
	needConst []string
	// For rename: the ONNX node of every ir node, the name of the val
	// every param was made from, and the initializer names.
	origin    map[*ir.Node]origin
	paramSrc  map[*ir.Value]string
	initNames map[string]bool
	// byKey is the ir value made for each val key (see val.key).
	byKey map[string]*ir.Value
}

// sanitize turns an ONNX name into an identifier of letters, digits and
// underscores.
func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := b.String()
	if out == "" || (out[0] >= '0' && out[0] <= '9') {
		out = "v" + out
	}
	return out
}

// uniq returns a name not yet used in the graph, derived from s. (The
// final names are given by rename.)
func (im *importer) uniq(s string) string {
	s = cleanName(s)
	name := s
	for k := 2; im.used[name]; k++ {
		name = fmt.Sprintf("%s_%d", s, k)
	}
	im.used[name] = true
	return name
}

// materialize returns x's ir value, adding a param (f32 derived from
// initializers) or const for known contents on first use.
func (im *importer) materialize(x *val) *ir.Value {
	if x.v != nil {
		return x.v
	}
	if x.pad != nil {
		// convert and build materialize a pending pad before any reader.
		panic(fmt.Sprintf("the output of Pad %q was not materialized", x.pad.node))
	}
	// Weights derived the same way are one value; small computed
	// constants (indices) are keyed only to key what is derived from them.
	key := ""
	if x.weight {
		key = x.key
	}
	if v := im.byKey[key]; v != nil && key != "" {
		x.v = v
		return v
	}
	kind := ir.Const
	if x.weight && x.c.DType == ir.F32 {
		kind = ir.Param
	}
	x.v = im.g.AddParam(im.uniq(x.name), kind, x.c.Type(), x.c, "", ir.Pos{})
	im.paramSrc[x.v] = x.name
	if key != "" {
		im.byKey[key] = x.v
	}
	return x.v
}

// UnsupportedError lists every node of a model that dlc cannot import,
// one line each: node name, op type, opset and what is missing.
type UnsupportedError struct {
	Nodes []string
	// ConstInputs names graph inputs that would make some of the nodes
	// importable if their values were known (see Options.Constants).
	ConstInputs []string
	// GraphInputs names the model's graph inputs that are neither
	// initializers nor bound by Options.Constants, in order (set with
	// ConstInputs).
	GraphInputs []string
}

func (e *UnsupportedError) Error() string {
	s := "unsupported node"
	if len(e.Nodes) > 1 {
		s = fmt.Sprintf("%d unsupported nodes", len(e.Nodes))
	}
	return s + ":\n  " + strings.Join(e.Nodes, "\n  ")
}

func build(m *model, filename, dir string, opt Options) (*ir.Graph, error) {
	opset, ok := m.opsets[""]
	if !ok {
		opset, ok = m.opsets["ai.onnx"]
	}
	if !ok {
		doms := slices.Sorted(maps.Keys(m.opsets))
		return nil, fmt.Errorf("the model imports no ai.onnx opset; domains %q are not supported", doms)
	}
	gp := m.graph
	name := gp.name
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(filename), filepath.Ext(filename))
	}
	im := &importer{g: ir.NewGraph(sanitize(name)), m: m, opset: opset, dir: dir,
		vals: map[string]*val{}, poison: map[string]bool{}, used: map[string]bool{},
		origin: map[*ir.Node]origin{}, paramSrc: map[*ir.Value]string{}, initNames: map[string]bool{},
		byKey: map[string]*ir.Value{}}
	if gp.sparseInit > 0 {
		return nil, fmt.Errorf("sparse initializers are not supported")
	}
	for i, t := range gp.inits {
		if t.name == "" {
			return nil, fmt.Errorf("initializer %d has no name", i)
		}
		d, err := tensorData(t, dir)
		if err != nil {
			return nil, fmt.Errorf("initializer %q (offset %d): %w", t.name, t.offset, err)
		}
		im.vals[t.name] = &val{name: t.name, c: d, elem: t.dataType, weight: true, key: "init:" + t.name}
		im.initNames[t.name] = true
	}
	dims, err := bindDims(gp, im.vals, opt)
	if err != nil {
		return nil, err
	}
	for _, in := range gp.inputs {
		if _, isInit := im.vals[in.name]; isInit {
			continue
		}
		if c, ok := opt.Constants[in.name]; ok {
			if err := checkBound(in, c); err != nil {
				return nil, fmt.Errorf("the value bound to graph input %q: %w", in.name, err)
			}
			im.vals[in.name] = &val{name: in.name, c: c, elem: in.elem}
			continue
		}
		t, err := inputType(in, dims)
		if err != nil {
			return nil, fmt.Errorf("graph input %q (offset %d): %w", in.name, in.offset, err)
		}
		v := im.g.AddInput(im.uniq(in.name), t, ir.Pos{})
		im.vals[in.name] = &val{name: in.name, v: v, elem: in.elem}
	}
	if dims.batchUsed {
		im.g.Batch = dims.batch
	}
	if err := checkBindNames(gp, im.initNames, opt.Constants); err != nil {
		return nil, err
	}

	// First pass: every node whose op or attributes dlc cannot express,
	// so that one error lists them all.
	var problems []string
	for i, n := range gp.nodes {
		if msg := im.static(n); msg != "" {
			problems = append(problems, nodeLabel(n, i, im.opset)+": "+msg)
		}
	}
	if len(problems) > 0 {
		return nil, &UnsupportedError{Nodes: problems}
	}
	var errs []string
	for i, n := range gp.nodes {
		skip := false
		for _, s := range n.inputs {
			if s != "" && im.poison[s] {
				skip = true
			}
		}
		if !skip {
			err := im.convert(n, i)
			if err == nil {
				continue
			}
			var u *errUnsupported
			if errors.As(err, &u) {
				problems = append(problems, nodeLabel(n, i, im.opset)+": "+err.Error())
			} else {
				errs = append(errs, nodeLabel(n, i, im.opset)+": "+err.Error())
			}
		}
		for _, o := range n.outputs {
			if o != "" {
				im.poison[o] = true
			}
		}
	}
	if len(problems) > 0 {
		u := &UnsupportedError{Nodes: problems, ConstInputs: im.needConst}
		if len(u.ConstInputs) > 0 {
			for _, in := range gp.inputs {
				if x := im.vals[in.name]; x != nil && x.v != nil && x.v.Kind == ir.Input {
					u.GraphInputs = append(u.GraphInputs, in.name)
				}
			}
		}
		if len(errs) == 0 {
			return nil, u
		}
		errs = append([]string{u.Error()}, errs...)
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "\n"))
	}
	for _, o := range gp.outputs {
		x := im.vals[o.name]
		if x == nil {
			return nil, fmt.Errorf("graph output %q is not produced by any node", o.name)
		}
		x, err := im.materializePad(o.name, x, len(gp.nodes))
		if err != nil {
			return nil, fmt.Errorf("graph output %q: %w", o.name, err)
		}
		if dt, err := irDType(o.elem); o.isTensor && err == nil && dt != x.typ().DType {
			return nil, fmt.Errorf("internal error: graph output %q is computed as %v, the model declares %s", o.name, x.typ().DType, dtName(o.elem))
		}
		im.g.AddOutput(o.name, im.materialize(x))
	}
	if len(im.g.Outputs) == 0 {
		return nil, fmt.Errorf("the graph has no outputs")
	}
	im.rename()
	if err := ir.Verify(im.g); err != nil {
		return nil, fmt.Errorf("internal error: imported graph does not verify: %w", err)
	}
	return im.g, nil
}

func nodeLabel(n *node, i int, opset int64) string {
	name := n.name
	if name == "" {
		name = fmt.Sprintf("#%d", i)
	}
	return fmt.Sprintf("node %q (%s, opset %d)", name, n.opType, opset)
}

// checkBound checks a value given for graph input in (Options.Constants)
// against its declared type: same dtype and rank, and the same size on
// every dimension the model fixes (symbolic ones take the value's size).
func checkBound(in *valueInfo, c *ir.Tensor) error {
	if c == nil || c.Check() != nil {
		return fmt.Errorf("not a valid tensor")
	}
	if !in.isTensor {
		return fmt.Errorf("the input is not a tensor")
	}
	dt, err := irDType(in.elem)
	if err != nil {
		return err
	}
	if c.DType != dt {
		return fmt.Errorf("dtype %v, the model declares %v", c.DType, dt)
	}
	if !in.hasShape {
		return nil
	}
	if len(in.dims) != len(c.Shape) {
		return fmt.Errorf("shape %v has rank %d, the model declares rank %d", c.Shape, len(c.Shape), len(in.dims))
	}
	for i, d := range in.dims {
		if d.known && d.value != int64(c.Shape[i]) {
			return fmt.Errorf("shape %v: dimension %d is %d in the model", c.Shape, i, d.value)
		}
	}
	return nil
}

// checkBindNames refuses values given for names that are not graph
// inputs (a typo would otherwise be ignored).
func checkBindNames(gp *graph, inits map[string]bool, consts map[string]*ir.Tensor) error {
	var names []string
	have := map[string]bool{}
	for _, in := range gp.inputs {
		if !inits[in.name] {
			names = append(names, in.name)
			have[in.name] = true
		}
	}
	for _, k := range slices.Sorted(maps.Keys(consts)) {
		if !have[k] {
			return fmt.Errorf("a value is bound to %q, but the model has no graph input of that name (it has %s)", k, strings.Join(names, ", "))
		}
	}
	return nil
}

// dimBinding sizes the symbolic dimensions of graph inputs (see
// Options.Batch and Options.Dims).
type dimBinding struct {
	named     map[string]int
	batch     int
	byName    bool // some input names its batch dimension
	batchUsed bool // some dimension was bound to batch
}

func isBatchName(s string) bool { return strings.Contains(strings.ToLower(s), "batch") }

func bindDims(gp *graph, inits map[string]*val, opt Options) (*dimBinding, error) {
	if opt.Batch < 0 || opt.Batch > maxElems {
		return nil, fmt.Errorf("batch %d is out of range", opt.Batch)
	}
	b := &dimBinding{named: map[string]int{}, batch: max(opt.Batch, 1)}
	for k, v := range opt.Dims {
		if v < 1 || v > maxElems {
			return nil, fmt.Errorf("size %d of dimension %q is out of range", v, k)
		}
		b.named[k] = v
	}
	for _, in := range gp.inputs {
		if _, isInit := inits[in.name]; isInit {
			continue
		}
		for _, d := range in.dims {
			if !d.known && isBatchName(d.param) {
				b.byName = true
			}
		}
	}
	return b, nil
}

// size returns the size bound to dimension i of a graph input, or false.
func (b *dimBinding) size(i int, d dim) (int, bool) {
	if b == nil {
		return 0, false
	}
	if v, ok := b.named[d.param]; ok && d.param != "" {
		return v, true
	}
	if (b.byName && isBatchName(d.param)) || (!b.byName && i == 0) {
		b.batchUsed = true
		return b.batch, true
	}
	return 0, false
}

// inputType converts a graph input's declared type; dlc needs a tensor of
// a supported dtype with every dimension known or bound by dims.
func inputType(v *valueInfo, dims *dimBinding) (ir.TensorType, error) {
	if !v.isTensor {
		if v.kind == "" {
			return ir.TensorType{}, fmt.Errorf("no type given")
		}
		return ir.TensorType{}, fmt.Errorf("%s inputs are not supported", v.kind)
	}
	dt, err := irDType(v.elem)
	if err != nil {
		return ir.TensorType{}, err
	}
	if !v.hasShape {
		return ir.TensorType{}, fmt.Errorf("no shape given; dlc needs static shapes")
	}
	out := make([]int64, len(v.dims))
	for i, d := range v.dims {
		if !d.known {
			if n, ok := dims.size(i, d); ok {
				out[i] = int64(n)
				continue
			}
			if d.param != "" {
				return ir.TensorType{}, fmt.Errorf("dimension %d is symbolic (%q); dlc needs static shapes: give its size in Options.Dims", i, d.param)
			}
			return ir.TensorType{}, fmt.Errorf("dimension %d is unknown; dlc needs static shapes", i)
		}
		out[i] = d.value
	}
	s, _, err := shapeOf(out)
	if err != nil {
		return ir.TensorType{}, err
	}
	return ir.TensorType{DType: dt, Shape: s}, nil
}

// nctx is the conversion context of one ONNX node.
type nctx struct {
	im    *importer
	n     *node
	idx   int
	opset int64
	base  string
	attrs map[string]*attribute
}

func newCtx(im *importer, n *node, i int) *nctx {
	c := &nctx{im: im, n: n, idx: i, opset: im.opset, attrs: map[string]*attribute{}}
	for _, a := range n.attrs {
		c.attrs[a.name] = a
	}
	return c
}

// name returns a fresh ir node name for this ONNX node; suffix tells
// apart the several ir nodes one ONNX node may become.
func (c *nctx) name(suffix string) string {
	if c.base == "" {
		c.base = c.n.name
		if c.base == "" {
			c.base = fmt.Sprintf("%s_%d", c.n.opType, c.idx)
		}
	}
	if suffix == "" {
		return c.im.uniq(c.base)
	}
	return c.im.uniq(c.base + "_" + suffix)
}

// in returns input i, or nil when it is absent.
func (c *nctx) in(i int) *val {
	if i >= len(c.n.inputs) || c.n.inputs[i] == "" {
		return nil
	}
	return c.im.vals[c.n.inputs[i]]
}

// hasOut reports whether output i is requested.
func (c *nctx) hasOut(i int) bool { return i < len(c.n.outputs) && c.n.outputs[i] != "" }

// set binds output i to x.
func (c *nctx) set(i int, x *val) {
	if c.hasOut(i) {
		c.im.vals[c.n.outputs[i]] = x
	}
}

func (c *nctx) has(name string) bool { _, ok := c.attrs[name]; return ok }

func (c *nctx) attrErr(a *attribute, want string) error {
	return fmt.Errorf("attribute %s (offset %d) is not %s", a.name, a.offset, want)
}

func (c *nctx) int(name string, def int) (int, error) {
	a, ok := c.attrs[name]
	if !ok {
		return def, nil
	}
	if a.typ != 0 && a.typ != atInt {
		return 0, c.attrErr(a, "an int")
	}
	if a.i > maxElems || a.i < -maxElems {
		return 0, fmt.Errorf("attribute %s: %d is out of range", name, a.i)
	}
	return int(a.i), nil
}

func (c *nctx) ints(name string, def []int) ([]int, error) {
	a, ok := c.attrs[name]
	if !ok {
		return def, nil
	}
	if a.typ != 0 && a.typ != atInts {
		return nil, c.attrErr(a, "a list of ints")
	}
	out := make([]int, len(a.ints))
	for i, v := range a.ints {
		if v > maxElems || v < -maxElems {
			return nil, fmt.Errorf("attribute %s: %d is out of range", name, v)
		}
		out[i] = int(v)
	}
	return out, nil
}

func (c *nctx) float(name string, def float64) (float64, error) {
	a, ok := c.attrs[name]
	if !ok {
		return def, nil
	}
	if a.typ != 0 && a.typ != atFloat {
		return 0, c.attrErr(a, "a float")
	}
	return float64(a.f), nil
}

func (c *nctx) str(name, def string) (string, error) {
	a, ok := c.attrs[name]
	if !ok {
		return def, nil
	}
	if a.typ != 0 && a.typ != atString {
		return "", c.attrErr(a, "a string")
	}
	return string(a.s), nil
}

func (c *nctx) strs(name string) ([]string, error) {
	a, ok := c.attrs[name]
	if !ok {
		return nil, nil
	}
	if a.typ != 0 && a.typ != atStrings {
		return nil, c.attrErr(a, "a list of strings")
	}
	var out []string
	for _, s := range a.strings {
		out = append(out, string(s))
	}
	return out, nil
}

// static returns why node n cannot be imported judging by its op type,
// domain, opset and attributes alone, or "".
func (im *importer) static(n *node) string {
	if n.domain != "" && n.domain != "ai.onnx" {
		return fmt.Sprintf("domain %q is not supported", n.domain)
	}
	if msg := opsetProblem(n.opType, im.opset); msg != "" {
		return msg
	}
	op, ok := opTable[n.opType]
	if !ok {
		return "op " + n.opType + " is not supported"
	}
	for _, a := range n.attrs {
		if a.refAttr != "" {
			return "attribute references (functions) are not supported"
		}
	}
	if op.check != nil {
		c := newCtx(im, n, 0)
		if err := op.check(c); err != nil {
			return err.Error()
		}
	}
	return ""
}

func (im *importer) convert(n *node, i int) error {
	for k, s := range n.inputs {
		if s != "" && im.vals[s] == nil {
			return fmt.Errorf("input %d %q is not defined before use", k, s)
		}
	}
	for k, s := range n.inputs {
		if x := im.vals[s]; s != "" && x.pad != nil && !readsPad(n.opType, k) {
			if _, err := im.materializePad(s, x, i); err != nil {
				return err
			}
		}
	}
	c := newCtx(im, n, i)
	op := opTable[n.opType]
	if len(n.inputs) < op.minIn || c.in(0) == nil && op.minIn > 0 {
		return fmt.Errorf("takes at least %d inputs, got %d", op.minIn, len(n.inputs))
	}
	return op.conv(c)
}

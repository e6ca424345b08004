package dl

import (
	"math"
	"strconv"
	"strings"

	"github.com/dlcompiler/dlc/ir"
)

// eval computes an expression. Tensor expressions add nodes to the graph.
// An unbound identifier becomes a bare string (callers that want a value
// reject it), so that nonlinearity=relu reads like the PyTorch it mirrors.
func (l *lowerer) eval(sc *scope, e expr) (val, error) {
	switch e := e.(type) {
	case nil:
		return val{}, errReported
	case *identExpr:
		if v, ok := sc.vars[e.name]; ok {
			if v.kind == vBad {
				return v, errReported
			}
			return v, nil
		}
		if v, ok := l.consts[e.name]; ok {
			if v.kind == vBad {
				return v, errReported
			}
			return v, nil
		}
		return val{kind: vString, s: e.name, bare: true}, nil
	case *numExpr:
		if e.float {
			return val{kind: vFloat, f: e.f}, nil
		}
		return val{kind: vInt, i: e.i}, nil
	case *strExpr:
		return val{kind: vString, s: e.s}, nil
	case *boolExpr:
		return val{kind: vBool, b: e.b}, nil
	case *listExpr:
		v := val{kind: vList}
		for _, x := range e.elems {
			ev, err := l.value(sc, x)
			if err != nil {
				return val{}, err
			}
			v.list = append(v.list, ev)
		}
		return v, nil
	case *unaryExpr:
		x, err := l.value(sc, e.x)
		if err != nil {
			return val{}, err
		}
		if e.op == "+" {
			if _, ok := x.num(); !ok && x.kind != vTensor {
				return val{}, errAt(e.pos, "unary + needs a number or tensor, got %s", x.describe())
			}
			return x, nil
		}
		switch x.kind {
		case vInt:
			return val{kind: vInt, i: -x.i}, nil
		case vFloat:
			return val{kind: vFloat, f: -x.f}, nil
		case vTensor:
			return l.arith(sc, e.pos, "*", x, val{kind: vInt, i: -1})
		}
		return val{}, errAt(e.pos, "unary - needs a number or tensor, got %s", x.describe())
	case *binaryExpr:
		x, err := l.value(sc, e.x)
		if err != nil {
			return val{}, err
		}
		y, err := l.value(sc, e.y)
		if err != nil {
			return val{}, err
		}
		return l.arith(sc, e.pos, e.op, x, y)
	case *pipeExpr:
		x, err := l.value(sc, e.x)
		if err != nil {
			return val{}, err
		}
		if x.kind != vTensor {
			return val{}, errAt(e.x.exprPos(), "a pipeline starts with a tensor, got %s", x.describe())
		}
		for _, st := range e.stages {
			if st == nil {
				return val{}, errReported
			}
			x, err = l.apply(sc, st, "", x.ts[:1])
			if err != nil {
				return val{}, err
			}
		}
		return x, nil
	case *layerExpr:
		return l.apply(sc, e.l, "", nil)
	case *indexExpr:
		return l.index(sc, e)
	}
	return val{}, errAt(e.exprPos(), "internal error: unknown expression %T", e)
}

// value is eval for places that need a value: an unbound name is an error.
func (l *lowerer) value(sc *scope, e expr) (val, error) {
	v, err := l.eval(sc, e)
	if err == nil && v.bare {
		return val{}, l.undefined(sc, e.exprPos(), v.s)
	}
	return v, err
}

// arith applies + - * / to numbers (folded) or tensors (a node; a number
// operand becomes a scalar constant).
func (l *lowerer) arith(sc *scope, pos ir.Pos, op string, x, y val) (val, error) {
	if x.kind == vTensor || y.kind == vTensor {
		name := map[string]string{"+": "add", "-": "sub", "*": "mul", "/": "div"}[op]
		return l.binaryNode(sc, pos, name, l.genName(sc.prefix, name), x, y)
	}
	a, okA := x.num()
	b, okB := y.num()
	if !okA || !okB {
		return val{}, errAt(pos, "%s needs numbers or tensors, got %s and %s", op, x.describe(), y.describe())
	}
	if x.kind == vInt && y.kind == vInt {
		var r int64
		switch op {
		case "+":
			r = x.i + y.i
		case "-":
			r = x.i - y.i
		case "*":
			if x.i != 0 && (abs64(y.i) > maxInt/abs64(x.i)) {
				return val{}, errAt(pos, "integer overflow in %d * %d", x.i, y.i)
			}
			r = x.i * y.i
		case "/":
			if y.i == 0 {
				return val{}, errAt(pos, "division by zero")
			}
			if x.i%y.i != 0 {
				return val{kind: vFloat, f: a / b}, nil
			}
			r = x.i / y.i
		}
		if abs64(r) > maxInt {
			return val{}, errAt(pos, "integer overflow (%s)", strconv.FormatInt(r, 10))
		}
		return val{kind: vInt, i: r}, nil
	}
	var r float64
	switch op {
	case "+":
		r = a + b
	case "-":
		r = a - b
	case "*":
		r = a * b
	case "/":
		if b == 0 {
			return val{}, errAt(pos, "division by zero")
		}
		r = a / b
	}
	if math.IsInf(r, 0) || math.IsNaN(r) {
		return val{}, errAt(pos, "arithmetic overflow")
	}
	return val{kind: vFloat, f: r}, nil
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// binaryNode adds an add/sub/mul/div node; a number operand becomes a
// scalar f32 constant named after the node.
func (l *lowerer) binaryNode(sc *scope, pos ir.Pos, op, name string, x, y val) (val, error) {
	c := &call{l: l, kind: op, name: name, pos: pos}
	// A number operand takes the dtype of the tensor operand: idx + 1 on
	// an i64 tensor adds an i64 1.
	dt := ir.F32
	for _, v := range []val{x, y} {
		if v.kind == vTensor {
			dt = v.ts[0].Type.DType
		}
	}
	var ins []*ir.Value
	for _, v := range []val{x, y} {
		if v.kind == vTensor {
			ins = append(ins, v.ts[0])
			continue
		}
		if _, ok := v.num(); !ok {
			return val{}, errAt(pos, "%s needs numbers or tensors, got %s", op, v.describe())
		}
		cv, err := c.scalar(dt, v)
		if err != nil {
			return val{}, err
		}
		ins = append(ins, cv)
	}
	return c.node(op, ins, nil)
}

// apply instantiates a layer on inputs piped into it (none when the
// layer is called like a function). name is the layer's full name, or ""
// to take it from the label or generate one.
func (l *lowerer) apply(sc *scope, ly *layer, name string, piped []*ir.Value) (val, error) {
	if ly == nil {
		return val{}, errReported
	}
	l.layers++
	if l.layers > maxLayers {
		return val{}, errAt(ly.pos, "the model is too large (more than %d layers)", maxLayers)
	}
	switch {
	case ly.splice && l.blocks[ly.kind] != nil:
		// Not named: its layers take the seq's numbers (applySplice).
	case name == "" && sc.splice != nil:
		name = sc.splice.take(ly.label)
	case name == "" && ly.label != "":
		name = sc.prefix + ly.label
	}
	switch {
	case ly.isSeq:
		return l.applySeq(sc, ly, name, piped)
	case ly.count != nil:
		return l.applyRepeat(sc, ly, name, piped)
	}
	ins := append([]*ir.Value(nil), piped...)
	var pos []argVal
	kw := map[string]argVal{}
	var kwOrder []string
	for i, a := range ly.args {
		v, err := l.eval(sc, a.val)
		if err != nil {
			return val{}, err
		}
		av := argVal{v: v, pos: a.val.exprPos()}
		if a.name != "" {
			av.pos = a.pos
			if _, dup := kw[a.name]; dup {
				return val{}, errAt(a.pos, "%s: argument %s is given twice", ly.kind, a.name)
			}
			kw[a.name] = av
			kwOrder = append(kwOrder, a.name)
			continue
		}
		if v.kind == vTensor && len(pos) == 0 {
			ins = append(ins, v.ts[0])
			continue
		}
		if len(kwOrder) > 0 {
			return val{}, errAt(a.pos, "%s: positional argument %d follows a keyword argument", ly.kind, i+1)
		}
		pos = append(pos, av)
	}
	if b := l.blocks[ly.kind]; b != nil {
		return l.applyBlock(sc, ly, b, name, ins, pos, kw, kwOrder)
	}
	def := lookupLayer(ly.kind)
	if def == nil {
		var cands []string
		for n := range layerTable {
			cands = append(cands, n)
		}
		for n := range aliases {
			cands = append(cands, n)
		}
		for n := range l.blocks {
			cands = append(cands, n)
		}
		if _, ok := sc.vars[ly.kind]; ok {
			return val{}, errAt(ly.pos, "%s is a value, not a layer", ly.kind)
		}
		if h := torchHint(ly.kind, l.blocks); h != "" {
			return val{}, errAt(ly.pos, "unknown layer %s: %s", ly.kind, h)
		}
		return val{}, errAt(ly.pos, "unknown layer %s%s", ly.kind, didYouMean(ly.kind, cands))
	}
	if name == "" {
		name = l.genName(sc.prefix, ly.kind)
	}
	c := &call{l: l, kind: ly.kind, def: def, name: name, pos: ly.pos, in: ins, label: ly.label, posArgs: pos}
	for _, k := range kwOrder {
		c.kwArgs = append(c.kwArgs, kwArg{name: k, argVal: kw[k]})
	}
	if err := c.bindArgs(pos, kw, kwOrder); err != nil {
		return val{}, c.torchOrder(err, true)
	}
	switch {
	case def.inputs >= 0 && len(ins) != def.inputs:
		return val{}, c.errorf("takes %d input tensor(s), got %d%s", def.inputs, len(ins), pipeHint(piped))
	case def.inputs < 0 && len(ins) == 0:
		return val{}, c.errorf("needs an input tensor%s", pipeHint(piped))
	}
	if err := c.torchOrder(nil, false); err != nil {
		return val{}, err
	}
	v, err := def.build(c)
	if err != nil {
		return val{}, c.torchOrder(err, true)
	}
	return v, nil
}

// kwArg is a keyword argument as written.
type kwArg struct {
	name string
	argVal
}

func pipeHint(piped []*ir.Value) string {
	if len(piped) == 0 {
		return " (pipe one in, as in x | layer, or pass it first, as in layer(x, ...))"
	}
	return ""
}

// argVal is an evaluated argument with its position.
type argVal struct {
	v   val
	pos ir.Pos
}

func (l *lowerer) applySeq(sc *scope, ly *layer, name string, piped []*ir.Value) (val, error) {
	if len(piped) != 1 {
		return val{}, errAt(ly.pos, "seq needs one input tensor piped in (x | seq { ... })")
	}
	if name == "" {
		name = l.genName(sc.prefix, "seq")
	}
	if err := l.claim(name, ly.pos); err != nil {
		return val{}, err
	}
	next := 0
	return l.applyItems(sc, ly.seq, &spliceCtx{seq: name, next: &next}, piped[0])
}

// applyItems pipes x through a seq's items in order, each numbered by
// num; a starred item splices its layers into the same numbering.
func (l *lowerer) applyItems(sc *scope, items []*layer, num *spliceCtx, x *ir.Value) (val, error) {
	cur := tensorVal(x)
	for _, item := range items {
		if item == nil {
			return val{}, errReported
		}
		var v val
		var err error
		if item.splice {
			v, err = l.applySplice(sc, item, num, cur.ts[0])
		} else {
			v, err = l.apply(sc, item, num.take(item.label), cur.ts[:1])
		}
		if err != nil {
			return val{}, err
		}
		cur = v
	}
	return cur, nil
}

// applySplice applies a seq item written *item: the layers of a block's
// body, of a seq's items or of every copy of a repeat take the next
// numbers of the enclosing seq, as nn.Sequential(*layers) numbers a
// Python list built by a helper (layers += conv_bn_relu(64)). A layer
// with a label takes that name instead of a number (its number is used
// up, as in a seq).
func (l *lowerer) applySplice(sc *scope, ly *layer, num *spliceCtx, x *ir.Value) (val, error) {
	l.layers++
	if l.layers > maxLayers {
		return val{}, errAt(ly.pos, "the model is too large (more than %d layers)", maxLayers)
	}
	cur := tensorVal(x)
	switch {
	case ly.isSeq:
		// *seq { ... } splices its items: each is one layer of the seq
		// (a block among them is one item), unless itself starred.
		return l.applyItems(sc, ly.seq, num, x)
	case ly.count != nil:
		n, err := l.value(sc, ly.count)
		if err != nil {
			return val{}, err
		}
		if n.kind != vInt || n.i < 1 || n.i > maxRepeat {
			return val{}, errAt(ly.count.exprPos(), "repeat count must be an int from 1 to %d, got %s", maxRepeat, n.describe())
		}
		// *repeat(n) X is *X n times.
		if ly.inner == nil {
			return val{}, errReported
		}
		starred := *ly.inner
		starred.splice = true
		for i := 0; i < int(n.i); i++ {
			v, err := l.applySplice(sc, &starred, num, cur.ts[0])
			if err != nil {
				return val{}, err
			}
			cur = v
		}
		return cur, nil
	case l.blocks[ly.kind] != nil:
		// The block's arguments are evaluated here; applyBlock takes the
		// numbering from l.splicing.
		l.splicing = num
		defer func() { l.splicing = nil }()
		return l.apply(sc, ly, "", []*ir.Value{x})
	}
	// A built-in layer spliced is the layer itself.
	return l.apply(sc, ly, num.take(ly.label), []*ir.Value{x})
}

func (l *lowerer) applyRepeat(sc *scope, ly *layer, name string, piped []*ir.Value) (val, error) {
	n, err := l.value(sc, ly.count)
	if err != nil {
		return val{}, err
	}
	if n.kind != vInt || n.i < 1 || n.i > maxRepeat {
		return val{}, errAt(ly.count.exprPos(), "repeat count must be an int from 1 to %d, got %s", maxRepeat, n.describe())
	}
	if len(piped) != 1 {
		return val{}, errAt(ly.pos, "repeat needs one input tensor piped in (x | repeat(n) layer)")
	}
	if name == "" {
		name = l.genName(sc.prefix, "repeat")
	}
	if err := l.claim(name, ly.pos); err != nil {
		return val{}, err
	}
	cur := tensorVal(piped[0])
	for i := 0; i < int(n.i); i++ {
		v, err := l.apply(sc, ly.inner, name+"."+strconv.Itoa(i), cur.ts[:1])
		if err != nil {
			return val{}, err
		}
		cur = v
	}
	return cur, nil
}

func (l *lowerer) applyBlock(sc *scope, ly *layer, b *blockStmt, name string, ins []*ir.Value, pos []argVal, kw map[string]argVal, kwOrder []string) (val, error) {
	for i, s := range l.stack {
		if s == b.name {
			chain := append(append([]string(nil), l.stack[i:]...), b.name)
			return val{}, errAt(ly.pos, "block %s calls itself (%s)", b.name, strings.Join(chain, " → "))
		}
	}
	if len(l.stack) >= maxBlockDepth {
		return val{}, errAt(ly.pos, "blocks nested too deeply (more than %d)", maxBlockDepth)
	}
	if len(ins) != len(b.inputs) {
		return val{}, errAt(ly.pos, "block %s takes %d input tensor(s), got %d%s", b.name, len(b.inputs), len(ins), pipeHint(ins))
	}
	var splice *spliceCtx
	if ly.splice {
		splice, l.splicing = l.splicing, nil
	}
	if name == "" && splice == nil {
		name = l.genName(sc.prefix, b.name)
	}
	inner := &scope{vars: map[string]val{}, prefix: name + "."}
	if splice != nil {
		// Spliced into a seq: no name of its own; its layers are
		// numbered in the seq, its other nodes named under it.
		inner.prefix, inner.splice, name = splice.seq+".", splice, splice.seq+" (spliced)"
	}
	for i, in := range b.inputs {
		inner.vars[in.name] = tensorVal(ins[i])
	}
	if len(pos) > len(b.params) {
		return val{}, errAt(pos[len(b.params)].pos, "block %s takes %d parameter(s) (%s), got %d", b.name, len(b.params), paramNames(b), len(pos))
	}
	for i, a := range pos {
		inner.vars[b.params[i].name] = a.v
	}
	for _, k := range kwOrder {
		i := -1
		for j, p := range b.params {
			if p.name == k {
				i = j
			}
		}
		if i < 0 {
			return val{}, errAt(kw[k].pos, "block %s has no parameter %s (it has %s)", b.name, k, paramNames(b))
		}
		if i < len(pos) {
			return val{}, errAt(kw[k].pos, "block %s: parameter %s is given twice", b.name, k)
		}
		inner.vars[k] = kw[k].v
	}
	for _, p := range b.params {
		if _, ok := inner.vars[p.name]; ok {
			continue
		}
		if p.def == nil {
			return val{}, errAt(ly.pos, "block %s needs parameter %s", b.name, p.name)
		}
		v, err := l.value(&scope{}, p.def)
		if err != nil {
			return val{}, err
		}
		inner.vars[p.name] = v
	}
	if splice == nil {
		if err := l.claim(name, ly.pos); err != nil {
			return val{}, err
		}
	}
	l.stack = append(l.stack, b.name)
	defer func() { l.stack = l.stack[:len(l.stack)-1] }()
	annotate := func(err error) error {
		if pe, ok := err.(*posErr); ok && !pe.inBlock {
			pe.msg += " (in " + name + ", block " + b.name + ")"
			pe.inBlock = true
		}
		return err
	}
	for _, s := range b.body {
		switch s := s.(type) {
		case *assignStmt:
			if err := l.assign(inner, s); err != nil {
				return val{}, annotate(err)
			}
		case *returnStmt:
			var out []*ir.Value
			for _, e := range s.vals {
				v, err := l.value(inner, e)
				if err != nil {
					return val{}, annotate(err)
				}
				if v.kind != vTensor {
					return val{}, annotate(errAt(e.exprPos(), "block %s must return tensors, got %s", b.name, v.describe()))
				}
				if len(s.vals) == 1 {
					return v, nil
				}
				out = append(out, v.ts[0])
			}
			return tensorVal(out...), nil
		}
	}
	return val{}, errAt(b.pos, "block %s has no return statement", b.name)
}

func paramNames(b *blockStmt) string {
	if len(b.params) == 0 {
		return "none"
	}
	var ns []string
	for _, p := range b.params {
		ns = append(ns, p.name)
	}
	return strings.Join(ns, ", ")
}

// bindArgs matches arguments to the layer's parameters and converts them.
func (c *call) bindArgs(pos []argVal, kw map[string]argVal, kwOrder []string) error {
	c.args = map[string]any{}
	c.argPos = map[string]ir.Pos{}
	specs := c.def.args
	if c.def.params {
		specs = append(append([]argSpec(nil), specs...), argSpec{name: "init", kind: aString, opt: true})
	}
	positional := 0
	for _, s := range specs {
		if s.kind != aTensor && !s.kwOnly {
			positional++
		}
	}
	given := map[string]argVal{}
	var variadic []argVal
	k := 0
	for _, s := range specs {
		if k >= len(pos) {
			break
		}
		if s.kind == aTensor || s.kwOnly {
			continue
		}
		if s.kind == aIntsVar {
			variadic = pos[k:]
			k = len(pos)
			given[s.name] = argVal{v: val{kind: vList}, pos: pos[0].pos}
			break
		}
		given[s.name] = pos[k]
		k++
	}
	if k < len(pos) {
		if pos[k].v.kind == vTensor {
			return c.errorAt(pos[k].pos, "input tensors come before the other arguments, got %s", pos[k].v.describe())
		}
		return c.errorAt(pos[k].pos, "takes at most %d positional argument(s) (%s), got %d", positional, specNames(specs, true), len(pos))
	}
	for _, name := range kwOrder {
		var spec *argSpec
		for i := range specs {
			if specs[i].name == name || specs[i].alias != "" && specs[i].alias == name {
				spec = &specs[i]
			}
		}
		if spec == nil && name == "inplace" && inplaceLayers[c.def.name] {
			// nn.ReLU(inplace=True): dlc's memory plan decides what is
			// computed in place.
			if v := kw[name].v; v.kind != vBool {
				return c.errorAt(kw[name].pos, "argument inplace: want bool, got %s", v.describe())
			}
			continue
		}
		if spec == nil {
			if len(specs) == 0 {
				return c.errorAt(kw[name].pos, "takes no arguments, got %s=", name)
			}
			var names []string
			for _, s := range specs {
				names = append(names, s.name)
			}
			return c.errorAt(kw[name].pos, "unknown argument %s%s (it takes %s)", name, didYouMean(name, names), specNames(specs, false))
		}
		if _, dup := given[spec.name]; dup {
			return c.errorAt(kw[name].pos, "argument %s is given twice", spec.name)
		}
		given[spec.name] = kw[name]
	}
	for _, s := range specs {
		a, ok := given[s.name]
		if !ok {
			switch {
			case s.def != nil:
				c.args[s.name] = s.def
			case !s.opt:
				return c.errorf("needs argument %s (%s)", s.name, s.kind)
			}
			continue
		}
		if s.kind == aIntsVar && len(variadic) > 0 {
			var list []val
			for _, v := range variadic {
				list = append(list, v.v)
			}
			if len(variadic) == 1 && variadic[0].v.kind == vList {
				list = variadic[0].v.list
			}
			a = argVal{v: val{kind: vList, list: list}, pos: variadic[0].pos}
		}
		x, err := convert(a.v, s)
		if err != nil {
			return c.errorAt(a.pos, "argument %s: %v", s.name, err)
		}
		c.args[s.name] = x
		c.argPos[s.name] = a.pos
	}
	return nil
}

func specNames(specs []argSpec, positionalOnly bool) string {
	var ns []string
	for _, s := range specs {
		if positionalOnly && (s.kind == aTensor || s.kwOnly) {
			continue
		}
		ns = append(ns, s.name)
	}
	if len(ns) == 0 {
		return "none"
	}
	return strings.Join(ns, ", ")
}

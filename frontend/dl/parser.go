package dl

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/dlcompiler/dlc/ir"
)

// maxDepth bounds the nesting of expressions, lists and layers, so that
// no input can exhaust the stack.
const maxDepth = 100

// parser is a recursive-descent parser over the whole token list. After a
// syntax error it sets failed; every parse function then returns at once,
// and the statement loop skips to the next line.
type parser struct {
	toks   []token
	i      int
	errs   *errs
	failed bool
	depth  int
	// inIndex is set inside x[ ... ], where NAME: starts a slice
	// (x[a:b]), not a labelled layer.
	inIndex bool
}

func parse(file string, src []byte, e *errs) []stmt {
	lx := &lexer{src: src, file: file, line: 1, errs: e}
	p := &parser{errs: e}
	for {
		t := lx.next()
		p.toks = append(p.toks, t)
		if t.kind == tEOF {
			break
		}
	}
	var stmts []stmt
	for !e.full {
		p.skipNewlines()
		if p.peek().kind == tEOF {
			break
		}
		s := p.topStmt()
		if !p.failed {
			p.endStmt()
		}
		if p.failed {
			p.sync()
			p.failed = false
			if p.peek().is("}") {
				// The } closing a { } the bad statement opened: at the top
				// level nothing else can close, and it is no new error.
				p.advance()
			}
			continue
		}
		stmts = append(stmts, s)
	}
	return stmts
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) peekAt(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) advance() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) skipNewlines() {
	for p.peek().kind == tNewline {
		p.i++
	}
}

func (p *parser) errorf(pos ir.Pos, format string, args ...any) {
	if p.failed {
		return
	}
	p.failed = true
	p.errs.add(pos, fmt.Sprintf(format, args...))
}

// unexpected reports the next token as a syntax error.
func (p *parser) unexpected(want string) {
	t := p.peek()
	p.errorf(t.pos, "syntax error: want %s, found %s", want, t.describe())
}

// endStmt expects the end of a statement.
func (p *parser) endStmt() {
	switch t := p.peek(); {
	case t.kind == tNewline:
		p.advance()
	case t.kind == tEOF, t.is("}"):
	case t.is("["):
		// x | layer[0]: the index would bind to the layer.
		p.errorf(t.pos, "syntax error: want end of line, found '[': to index a pipeline's result, put it in parentheses, (x | layer)[0], or pipe it into select(dim, index)")
	default:
		p.unexpected("end of line")
	}
}

// sync skips the rest of a bad statement, including any { } it opens,
// but not a } that closes an enclosing block.
func (p *parser) sync() {
	depth := 0
	for {
		t := p.peek()
		switch {
		case t.kind == tEOF:
			return
		case t.is("{"):
			depth++
		case t.is("}"):
			if depth == 0 {
				return
			}
			depth--
		case t.kind == tNewline && depth == 0:
			p.advance()
			return
		}
		p.advance()
	}
}

func (p *parser) expect(punct string) token {
	if p.failed {
		return token{}
	}
	t := p.peek()
	if !t.is(punct) {
		p.unexpected("'" + punct + "'")
		return t
	}
	return p.advance()
}

func (p *parser) ident(what string) token {
	if p.failed {
		return token{}
	}
	t := p.peek()
	if t.kind != tIdent {
		p.unexpected(what)
		return t
	}
	return p.advance()
}

// plainIdent is an identifier without dots: variables, layer names.
func (p *parser) plainIdent(what string) token {
	t := p.ident(what)
	if !p.failed && strings.Contains(t.text, ".") {
		p.errorf(t.pos, "%s %q must not contain '.'", what, t.text)
	}
	return t
}

func (p *parser) enter() bool {
	p.depth++
	if p.depth > maxDepth {
		p.errorf(p.peek().pos, "nested too deeply (more than %d levels)", maxDepth)
		return false
	}
	return true
}

func (p *parser) leave() { p.depth-- }

var keywords = map[string]bool{"model": true, "const": true, "param": true, "input": true, "weights": true, "init": true, "labels": true, "output": true, "block": true, "return": true}

// isKeyword reports whether the next token starts a keyword statement
// (a keyword not followed by = or , so that it is not an assignment).
func (p *parser) isKeyword() bool {
	t := p.peek()
	if t.kind != tIdent || !keywords[t.text] {
		return false
	}
	n := p.peekAt(1)
	return !n.is("=") && !n.is(",")
}

func (p *parser) topStmt() stmt {
	if !p.isKeyword() {
		return p.assign()
	}
	kw := p.advance()
	switch kw.text {
	case "model":
		t := p.peek()
		if t.kind != tIdent && t.kind != tString {
			p.unexpected("a model name")
			return nil
		}
		p.advance()
		return &modelStmt{pos: kw.pos, name: t.text}
	case "const":
		name := p.plainIdent("a const name")
		if p.peek().is(":") {
			return p.tensorDecl(kw, name)
		}
		p.expect("=")
		v := p.expr()
		return &constStmt{pos: name.pos, name: name.text, val: v}
	case "param":
		name := p.plainIdent("a param name")
		if !p.failed && !p.peek().is(":") {
			p.unexpected("':' and the tensor type, as in param w: f32[4, 3]")
			return nil
		}
		return p.tensorDecl(kw, name)
	case "input":
		return p.inputStmt(kw)
	case "weights":
		return p.weightsStmt(kw)
	case "init":
		t := p.peek()
		if t.kind != tIdent && t.kind != tString {
			p.unexpected("an initializer (he, xavier, zeros or normal)")
			return nil
		}
		p.advance()
		return &initStmt{pos: t.pos, name: t.text}
	case "labels":
		s := &labelsStmt{pos: kw.pos}
		for !p.failed {
			t := p.peek()
			if t.kind != tString {
				p.unexpected("a label string")
				break
			}
			p.advance()
			s.labels = append(s.labels, t.text)
			if !p.peek().is(",") {
				break
			}
			p.advance()
		}
		return s
	case "output":
		s := &outputStmt{pos: kw.pos}
		for !p.failed {
			name := p.plainIdent("an output name")
			it := outItem{pos: name.pos, name: name.text}
			if p.peek().is(":") {
				// output logits: classes declares class scores.
				p.advance()
				if t := p.peek(); t.kind != tIdent || t.text != "classes" {
					p.unexpected("classes (output NAME: classes declares class scores)")
					break
				}
				p.advance()
				it.classes = true
			}
			if p.peek().is("=") {
				p.advance()
				it.val = p.expr()
			}
			s.items = append(s.items, it)
			if !p.peek().is(",") {
				break
			}
			p.advance()
		}
		return s
	case "block":
		return p.blockStmt(kw)
	case "return":
		p.errorf(kw.pos, "return outside a block")
		return nil
	}
	return nil
}

func (p *parser) inputStmt(kw token) stmt {
	// input a: f32[...], b: i64[...] declares several inputs.
	var list []*inputStmt
	for !p.failed {
		name := p.plainIdent("an input name")
		p.expect(":")
		dt := p.ident("a dtype (f32, i64, bool, ...)")
		s := &inputStmt{pos: name.pos, name: name.text, dtype: dt.text, dpos: dt.pos}
		p.expect("[")
		for !p.failed && !p.peek().is("]") {
			s.dims = append(s.dims, p.expr())
			if !p.peek().is(",") {
				break
			}
			p.advance()
		}
		p.expect("]")
		list = append(list, s)
		if !p.peek().is(",") {
			break
		}
		p.advance()
	}
	if p.failed {
		return nil
	}
	if len(list) == 1 {
		return list[0]
	}
	return &multiInput{pos: kw.pos, list: list}
}

// tensorDecl parses the rest of `const NAME: dtype[dims] [= value]` or
// `param NAME: dtype[dims] [= value]` after the name.
func (p *parser) tensorDecl(kw, name token) stmt {
	p.expect(":")
	dt := p.ident("a dtype (f32, i64, bool, ...)")
	s := &tensorStmt{pos: name.pos, param: kw.text == "param", name: name.text, dtype: dt.text, dpos: dt.pos}
	p.expect("[")
	for !p.failed && !p.peek().is("]") {
		s.dims = append(s.dims, p.expr())
		if !p.peek().is(",") {
			break
		}
		p.advance()
	}
	p.expect("]")
	if !p.failed && p.peek().is("=") {
		p.advance()
		s.val = p.expr()
	}
	if p.failed {
		return nil
	}
	return s
}

// multiInput is an input statement declaring several inputs.
type multiInput struct {
	pos  ir.Pos
	list []*inputStmt
}

func (s *multiInput) stmtPos() ir.Pos { return s.pos }

func (p *parser) weightsStmt(kw token) stmt {
	t := p.peek()
	if t.kind != tString {
		p.unexpected("a weights file name in quotes")
		return nil
	}
	p.advance()
	s := &weightsStmt{pos: t.pos, path: t.text}
	if !p.peek().is("{") {
		return s
	}
	p.advance()
	for !p.failed {
		p.skipNewlines()
		if p.peek().is("}") {
			p.advance()
			break
		}
		from := p.ident("a parameter name such as fc3.weight")
		p.expect("=")
		to := p.peek()
		if !p.failed && to.kind != tString {
			p.unexpected("the tensor's name in the file, in quotes")
		}
		if p.failed {
			break
		}
		p.advance()
		s.renames = append(s.renames, rename{pos: from.pos, from: from.text, to: to.text})
		if !p.peek().is("}") {
			if p.peek().kind != tNewline {
				p.unexpected("end of line")
			}
		}
	}
	return s
}

func (p *parser) blockStmt(kw token) stmt {
	name := p.plainIdent("a block name")
	s := &blockStmt{pos: name.pos, name: name.text}
	p.expect("(")
	params := &s.inputs
	for !p.failed && !p.peek().is(")") {
		n := p.plainIdent("a parameter name")
		bp := blockParam{pos: n.pos, name: n.text}
		if p.peek().is("=") {
			if params == &s.inputs {
				p.errorf(p.peek().pos, "block inputs (before ';') take no defaults")
				break
			}
			p.advance()
			bp.def = p.expr()
		}
		*params = append(*params, bp)
		switch {
		case p.peek().is(","):
			p.advance()
		case p.peek().is(";") && params == &s.inputs:
			p.advance()
			params = &s.params
		case !p.peek().is(")"):
			p.unexpected("',', ';' or ')'")
		}
	}
	p.expect(")")
	p.expect("{")
	for !p.failed {
		p.skipNewlines()
		if p.peek().is("}") {
			p.advance()
			break
		}
		if p.peek().kind == tEOF {
			p.unexpected("'}' closing block " + s.name)
			break
		}
		var st stmt
		if t := p.peek(); t.kind == tIdent && t.text == "return" && !p.peekAt(1).is("=") {
			p.advance()
			r := &returnStmt{pos: t.pos}
			for !p.failed {
				r.vals = append(r.vals, p.expr())
				if !p.peek().is(",") {
					break
				}
				p.advance()
			}
			st = r
		} else if p.isKeyword() {
			p.errorf(p.peek().pos, "%s is not allowed inside a block (only assignments and return)", p.peek().text)
			break
		} else {
			st = p.assign()
		}
		p.endStmt()
		if p.failed {
			break
		}
		s.body = append(s.body, st)
	}
	return s
}

func (p *parser) assign() stmt {
	s := &assignStmt{pos: p.peek().pos}
	paren := false
	for !p.failed {
		// PyTorch's y, (h, c) = lstm(x): a parenthesized group of names.
		if p.peek().is("(") {
			p.advance()
			paren = true
			n := 0
			for !p.failed {
				t := p.plainIdent("a name")
				s.targets = append(s.targets, t.text)
				s.tpos = append(s.tpos, t.pos)
				n++
				if !p.peek().is(",") {
					break
				}
				p.advance()
			}
			p.expect(")")
			s.groups = append(s.groups, n)
		} else {
			t := p.plainIdent("a statement (model, const, input, weights, init, labels, output, block or NAME = ...)")
			s.targets = append(s.targets, t.text)
			s.tpos = append(s.tpos, t.pos)
			s.groups = append(s.groups, 1)
		}
		if !p.peek().is(",") {
			break
		}
		p.advance()
	}
	if !paren {
		s.groups = nil
	}
	p.expect("=")
	s.val = p.expr()
	if p.failed {
		return nil
	}
	return s
}

func (p *parser) expr() expr {
	if p.failed || !p.enter() {
		return nil
	}
	defer p.leave()
	x := p.sum()
	if !p.peek().is("|") || p.failed {
		return x
	}
	pe := &pipeExpr{pos: x.exprPos(), x: x}
	for !p.failed && p.peek().is("|") {
		p.advance()
		pe.stages = append(pe.stages, p.stage())
	}
	return pe
}

func (p *parser) sum() expr {
	x := p.term()
	for !p.failed && (p.peek().is("+") || p.peek().is("-")) {
		op := p.advance()
		y := p.term()
		x = &binaryExpr{pos: op.pos, op: op.text, x: x, y: y}
	}
	return x
}

func (p *parser) term() expr {
	x := p.unary()
	for !p.failed && (p.peek().is("*") || p.peek().is("/")) {
		op := p.advance()
		y := p.unary()
		x = &binaryExpr{pos: op.pos, op: op.text, x: x, y: y}
	}
	return x
}

func (p *parser) unary() expr {
	if p.failed || !p.enter() {
		return nil
	}
	defer p.leave()
	if t := p.peek(); t.is("-") || t.is("+") {
		p.advance()
		return &unaryExpr{pos: t.pos, op: t.text, x: p.unary()}
	}
	x := p.primary()
	for !p.failed && p.peek().is("[") {
		x = p.index(x)
	}
	return x
}

// index parses the [ ... ] after a value: indices, start:stop:step
// slices, ... and None, as in PyTorch.
func (p *parser) index(x expr) expr {
	e := &indexExpr{pos: p.advance().pos, x: x}
	defer func(was bool) { p.inIndex = was }(p.inIndex)
	p.inIndex = true
	for !p.failed && !p.peek().is("]") {
		t := p.peek()
		it := indexItem{pos: t.pos, kind: itemIndex}
		switch {
		case t.is("..."):
			p.advance()
			it.kind = itemEllipsis
		case t.kind == tIdent && t.text == "None" && (p.peekAt(1).is(",") || p.peekAt(1).is("]")):
			p.advance()
			it.kind = itemNewAxis
		default:
			// [start] [":" [stop] [":" [step]]]
			bound := func() expr {
				if t := p.peek(); t.is(":") || t.is(",") || t.is("]") {
					return nil
				}
				return p.expr()
			}
			it.idx = bound()
			if p.peek().is(":") {
				p.advance()
				it.kind, it.start, it.idx = itemSlice, it.idx, nil
				it.stop = bound()
				if p.peek().is(":") {
					p.advance()
					it.step = bound()
				}
			} else if it.idx == nil {
				p.unexpected("an index, a slice (start:stop:step), ... or None")
			}
		}
		e.items = append(e.items, it)
		if !p.peek().is(",") {
			break
		}
		p.advance()
	}
	p.expect("]")
	return e
}

func (p *parser) primary() expr {
	if p.failed {
		return nil
	}
	t := p.peek()
	switch t.kind {
	case tInt:
		p.advance()
		i, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil || i > maxInt {
			p.errorf(t.pos, "number %s is too large", t.text)
			return nil
		}
		return &numExpr{pos: t.pos, i: i}
	case tFloat:
		p.advance()
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil || math.IsInf(f, 0) {
			p.errorf(t.pos, "number %s is out of range", t.text)
			return nil
		}
		return &numExpr{pos: t.pos, float: true, f: f}
	case tString:
		p.advance()
		return &strExpr{pos: t.pos, s: t.text}
	case tIdent:
		switch t.text {
		case "true", "True":
			p.advance()
			return &boolExpr{pos: t.pos, b: true}
		case "false", "False":
			p.advance()
			return &boolExpr{pos: t.pos, b: false}
		}
		n := p.peekAt(1)
		switch {
		case n.is(":") && !p.inIndex, n.is("("), t.text == "seq" && n.is("{"):
			return &layerExpr{p.stage()}
		}
		p.advance()
		return &identExpr{pos: t.pos, name: t.text}
	case tPunct:
		switch t.text {
		case "[", "(":
			p.advance()
			closer := "]"
			if t.text == "(" {
				closer = ")"
			}
			l := &listExpr{pos: t.pos}
			tuple := t.text == "["
			for !p.failed && !p.peek().is(closer) {
				l.elems = append(l.elems, p.expr())
				if !p.peek().is(",") {
					break
				}
				tuple = true
				p.advance()
			}
			p.expect(closer)
			if !tuple && len(l.elems) == 1 {
				return l.elems[0] // (x) is x
			}
			return l
		}
	}
	p.unexpected("a value")
	return nil
}

// stage is one layer of a pipeline: [label ':'] layer.
func (p *parser) stage() *layer {
	if p.failed || !p.enter() {
		return nil
	}
	defer p.leave()
	var label token
	if p.peek().kind == tIdent && p.peekAt(1).is(":") {
		label = p.plainIdent("a layer name")
		p.advance()
	}
	l := p.layerTerm()
	if l != nil && label.text != "" {
		l.label, l.labelPos = label.text, label.pos
	}
	return l
}

// seqItem is a stage of a seq, or *stage: a block, seq or repeat whose
// layers are spliced into the seq's numbering.
func (p *parser) seqItem() *layer {
	star := p.peek()
	if !star.is("*") {
		return p.stage()
	}
	p.advance()
	l := p.stage()
	if l != nil {
		if l.label != "" {
			p.errorf(l.labelPos, "a spliced item has no name of its own: its layers take the seq's numbers (drop %s: or the *)", l.label)
			return nil
		}
		l.splice = true
	}
	return l
}

func (p *parser) layerTerm() *layer {
	if p.failed || !p.enter() {
		return nil
	}
	defer p.leave()
	k := p.ident("a layer")
	if p.failed {
		return nil
	}
	l := &layer{pos: k.pos, kind: k.text}
	switch {
	case k.text == "seq" && p.peek().is("{"):
		p.advance()
		l.isSeq = true
		for !p.failed {
			p.skipNewlines()
			if p.peek().is("}") {
				p.advance()
				break
			}
			l.seq = append(l.seq, p.seqItem())
			for !p.failed && p.peek().is("|") {
				p.advance()
				l.seq = append(l.seq, p.seqItem())
			}
			if !p.failed && !p.peek().is("}") && p.peek().kind != tNewline {
				p.unexpected("end of line or '}'")
			}
		}
		return l
	case k.text == "repeat" && p.peek().is("("):
		p.advance()
		l.count = p.expr()
		p.expect(")")
		l.inner = p.layerTerm()
		return l
	}
	if strings.Contains(k.text, ".") {
		p.errorf(k.pos, "%s", dottedHint(k.text))
		return nil
	}
	if !p.peek().is("(") {
		return l
	}
	p.advance()
	for !p.failed && !p.peek().is(")") {
		a := arg{pos: p.peek().pos}
		if p.peek().kind == tIdent && p.peekAt(1).is("=") {
			a.name = p.advance().text
			p.advance()
		}
		a.val = p.expr()
		l.args = append(l.args, a)
		if !p.peek().is(",") {
			break
		}
		p.advance()
	}
	p.expect(")")
	if p.failed {
		return nil
	}
	return l
}

package dl

import "github.com/dlcompiler/dlc/ir"

// The syntax tree. Statements and expressions carry the position of
// their first token; layers carry the position of their kind (the word
// "conv2d" in "conv1: conv2d(6, 5)"), which is where layer errors point.

type stmt interface{ stmtPos() ir.Pos }

type modelStmt struct {
	pos  ir.Pos
	name string
}

type constStmt struct {
	pos  ir.Pos
	name string
	val  expr
}

type inputStmt struct {
	pos   ir.Pos
	name  string
	dtype string
	dpos  ir.Pos
	dims  []expr
}

// tensorStmt declares a tensor variable: `const NAME: dtype[dims]` (a
// constant) or `param NAME: f32[dims]` (a trainable parameter), read from
// the weights file under NAME or given inline after '='.
type tensorStmt struct {
	pos   ir.Pos
	param bool
	name  string
	dtype string
	dpos  ir.Pos
	dims  []expr
	val   expr // nil: from the weights file
}

type rename struct {
	pos      ir.Pos
	from, to string
}

type weightsStmt struct {
	pos     ir.Pos
	path    string
	renames []rename
}

type initStmt struct {
	pos  ir.Pos
	name string
}

type labelsStmt struct {
	pos    ir.Pos
	labels []string
}

type outItem struct {
	pos     ir.Pos
	name    string
	val     expr // nil: the variable called name
	classes bool // output NAME: classes
}

type outputStmt struct {
	pos   ir.Pos
	items []outItem
}

type blockParam struct {
	pos  ir.Pos
	name string
	def  expr // nil: required
}

type blockStmt struct {
	pos    ir.Pos
	name   string
	inputs []blockParam
	params []blockParam
	body   []stmt // assignStmt and returnStmt
}

type assignStmt struct {
	pos     ir.Pos
	targets []string
	tpos    []ir.Pos
	val     expr
	// groups is the number of targets in each comma-separated part when
	// a part is parenthesized, as in y, (h, c) = ...: [1, 2]; nil
	// without parentheses.
	groups []int
}

type returnStmt struct {
	pos  ir.Pos
	vals []expr
}

func (s *modelStmt) stmtPos() ir.Pos   { return s.pos }
func (s *constStmt) stmtPos() ir.Pos   { return s.pos }
func (s *inputStmt) stmtPos() ir.Pos   { return s.pos }
func (s *tensorStmt) stmtPos() ir.Pos  { return s.pos }
func (s *weightsStmt) stmtPos() ir.Pos { return s.pos }
func (s *initStmt) stmtPos() ir.Pos    { return s.pos }
func (s *labelsStmt) stmtPos() ir.Pos  { return s.pos }
func (s *outputStmt) stmtPos() ir.Pos  { return s.pos }
func (s *blockStmt) stmtPos() ir.Pos   { return s.pos }
func (s *assignStmt) stmtPos() ir.Pos  { return s.pos }
func (s *returnStmt) stmtPos() ir.Pos  { return s.pos }

type expr interface{ exprPos() ir.Pos }

type identExpr struct {
	pos  ir.Pos
	name string
}

type numExpr struct {
	pos   ir.Pos
	float bool
	i     int64
	f     float64
}

type strExpr struct {
	pos ir.Pos
	s   string
}

type boolExpr struct {
	pos ir.Pos
	b   bool
}

// listExpr is [a, b] or (a, b).
type listExpr struct {
	pos   ir.Pos
	elems []expr
}

type unaryExpr struct {
	pos ir.Pos
	op  string
	x   expr
}

type binaryExpr struct {
	pos  ir.Pos // the operator
	op   string
	x, y expr
}

// pipeExpr is x | layer | layer ...
type pipeExpr struct {
	pos    ir.Pos
	x      expr
	stages []*layer
}

// layerExpr is a layer used as a function: relu(h + x), fc: dense(h, 10).
type layerExpr struct{ l *layer }

// indexExpr is PyTorch's indexing: h[-1], x[:, 0], x[..., :3], x[:, None].
type indexExpr struct {
	pos   ir.Pos // the '['
	x     expr
	items []indexItem
}

// indexItem is one comma-separated part of an index.
type indexItem struct {
	pos  ir.Pos
	kind indexKind
	// idx is the index (an int or an i64 tensor) of itemIndex; start,
	// stop and step those of itemSlice, nil when left out.
	idx, start, stop, step expr
}

type indexKind uint8

const (
	itemIndex    indexKind = iota // 3, -1, a tensor of indices
	itemSlice                     // start:stop:step
	itemEllipsis                  // ...
	itemNewAxis                   // None
)

func (e *identExpr) exprPos() ir.Pos  { return e.pos }
func (e *numExpr) exprPos() ir.Pos    { return e.pos }
func (e *strExpr) exprPos() ir.Pos    { return e.pos }
func (e *boolExpr) exprPos() ir.Pos   { return e.pos }
func (e *listExpr) exprPos() ir.Pos   { return e.pos }
func (e *unaryExpr) exprPos() ir.Pos  { return e.pos }
func (e *binaryExpr) exprPos() ir.Pos { return e.pos }
func (e *pipeExpr) exprPos() ir.Pos   { return e.pos }
func (e *layerExpr) exprPos() ir.Pos  { return e.l.pos }
func (e *indexExpr) exprPos() ir.Pos  { return e.x.exprPos() }

type arg struct {
	pos  ir.Pos
	name string // "" for a positional argument
	val  expr
}

// layer is one use of a layer: a built-in, a block, seq { ... } or
// repeat(n) layer.
type layer struct {
	pos      ir.Pos // of the kind
	label    string // "conv1" in conv1: conv2d(...); "" when unnamed
	labelPos ir.Pos
	kind     string // conv2d, a block name, "seq" or "repeat"
	args     []arg
	isSeq    bool
	seq      []*layer // seq's items, in order
	// splice marks a seq item written *item: its layers take the seq's
	// next numbers, as nn.Sequential(*layers) numbers a list's.
	splice bool
	count  expr   // repeat's count
	inner  *layer // repeat's layer
}

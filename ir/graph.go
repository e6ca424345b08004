package ir

import (
	"fmt"
	"strconv"
)

// Pos is a source position, for error messages. The zero Pos means unknown.
type Pos struct {
	File      string
	Line, Col int
}

// IsValid reports whether the position is known.
func (p Pos) IsValid() bool { return p.Line > 0 }

// String formats the position as file:line:col.
func (p Pos) String() string {
	if !p.IsValid() {
		return p.File
	}
	return p.File + ":" + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
}

// ValueKind says where a value comes from.
type ValueKind uint8

// The kinds of value.
const (
	// Temp is the output of a node.
	Temp ValueKind = iota
	// Input is a graph input, supplied at every call.
	Input
	// Param is a trainable parameter (weights, biases): Data holds its values,
	// or Data is nil and Init names an initializer for training.
	Param
	// Const is constant data that training does not change (batch-norm
	// running statistics, folded constants).
	Const
)

var kindNames = [...]string{Temp: "temp", Input: "input", Param: "param", Const: "const"}

// String returns the printer's keyword for the kind.
func (k ValueKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is a tensor in the graph: a graph input, a parameter, a constant, or
// the output of a node.
type Value struct {
	Name string
	Type TensorType
	Kind ValueKind
	// Data holds the contents of Param and Const values. A Param without
	// Data has an Init instead.
	Data *Tensor
	// Init names the initializer of a Param without data: "he", "xavier",
	// "zeros", "ones" or "normal".
	Init string
	// Def is the node that produces a Temp value.
	Def *Node
	// Pos is where the value was declared, for errors.
	Pos Pos
}

// IsConst reports whether the value's contents are known at compile time.
func (v *Value) IsConst() bool { return (v.Kind == Param || v.Kind == Const) && v.Data != nil }

// IsFixed reports whether v has data that cannot change in g: any constant
// in an inference graph, only Const values in a training graph (whose
// params are trained).
func (g *Graph) IsFixed(v *Value) bool {
	return v.IsConst() && (v.Kind == Const || !g.Training)
}

// Node applies one op to its inputs.
type Node struct {
	// Name is the layer name (unique in the graph), e.g. "conv1".
	Name string
	// Op names a row of the op table.
	Op string
	// Inputs in the order the op table gives; an absent optional input is nil.
	Inputs []*Value
	// Outputs in the order the op table gives.
	Outputs []*Value
	// Attrs holds every attribute of the op, defaults filled in.
	Attrs Attrs
	// Pos is where the layer was written, for errors.
	Pos Pos
	// Schedule tells code generation how to arrange the kernel's loops;
	// nil means the default.
	Schedule *Schedule
}

// Out returns the node's first output.
func (n *Node) Out() *Value { return n.Outputs[0] }

// Def returns the op table row of the node's op, or nil.
func (n *Node) Def() *OpDef { return Lookup(n.Op) }

// Schedule is how a kernel's loops are arranged: filled by the tiling pass,
// obeyed by code generation. A schedule never changes results beyond
// floating-point reassociation.
type Schedule struct {
	// Tiles gives tile sizes by loop name (e.g. "m", "n", "k", "oc", "oh").
	Tiles map[string]int
	// Order lists loop names outermost first; empty means the emitter's default.
	Order []string
	// Vector is the vector width in elements of the emitter's own loops
	// (the columns of a pure-Go register block; 0 or 1 means scalar). A
	// Kernel brings its own width.
	Vector int
	// Unroll is the unroll factor of the innermost loop (the rows of the
	// register block; at most the Kernel's).
	Unroll int
	// Algo chooses among algorithms for the op, e.g. "direct" or "im2col".
	Algo string
	// Kernel names the micro-kernel, from codegen/kernels' registry, that
	// computes the innermost block (e.g. "avx2.gemm6x16"); "" means the
	// emitter's own pure-Go loops.
	Kernel string
	// Threads is the number of workers that share the kernel's outer loops,
	// each with its own scratch; 0 means 1.
	Threads int
	// WeightLayout is the layout the weights are packed into at compile
	// time for the Kernel (e.g. "packed-nr16"); "" means as stored.
	WeightLayout string
}

// Workers is the number of workers the schedule asks for (at least 1).
func (s *Schedule) Workers() int {
	if s == nil || s.Threads < 1 {
		return 1
	}
	return s.Threads
}

// Graph is a network: inputs, parameters and constants, nodes in
// topological order, and outputs.
type Graph struct {
	Name string
	// Batch is the batch size the shapes were made for (0 if the model has
	// no batch dimension).
	Batch   int
	Inputs  []*Value
	Params  []*Value // Param and Const values, in declaration order
	Nodes   []*Node  // topological order
	Outputs []*Value
	// OutputNames are the names under which Outputs are exposed; they may
	// differ from the values' own names.
	OutputNames []string
	// Labels optionally names the classes of a classifier's first output.
	Labels []string
	// ClassScores names the outputs declared to hold class scores (a .dl
	// `output logits: classes`). Only these, and the first output when
	// there are Labels, are classifiers (see IsClassScores).
	ClassScores []string
	// Memory is the activation memory plan, or nil before planning.
	Memory *MemoryPlan
	// Training marks a graph compiled for training: its Param values are
	// trainable and must stay params, so passes may evaluate ahead of time
	// only what depends on Const values alone. An inference graph (false)
	// treats params as constants too.
	Training bool
}

// NewGraph returns an empty graph.
func NewGraph(name string) *Graph { return &Graph{Name: name} }

// AddInput declares a graph input.
func (g *Graph) AddInput(name string, t TensorType, pos Pos) *Value {
	v := &Value{Name: name, Type: t, Kind: Input, Pos: pos}
	g.Inputs = append(g.Inputs, v)
	return v
}

// AddParam declares a parameter or constant. data may be nil for a Param
// that has an initializer instead.
func (g *Graph) AddParam(name string, kind ValueKind, t TensorType, data *Tensor, init string, pos Pos) *Value {
	v := &Value{Name: name, Type: t, Kind: kind, Data: data, Init: init, Pos: pos}
	g.Params = append(g.Params, v)
	return v
}

// AddOutput exposes v as a graph output called name.
func (g *Graph) AddOutput(name string, v *Value) {
	g.Outputs = append(g.Outputs, v)
	g.OutputNames = append(g.OutputNames, name)
}

// IsClassScores reports whether output i holds class scores: it was
// declared so, or it is the first output and the graph has Labels. Only
// such outputs are shown as top classes by dlc run and get a Classify
// method: an autoencoder's [N, 784] reconstruction is not 784 classes.
func (g *Graph) IsClassScores(i int) bool {
	if i < 0 || i >= len(g.OutputNames) {
		return false
	}
	if i == 0 && len(g.Labels) > 0 {
		return true
	}
	for _, n := range g.ClassScores {
		if n == g.OutputNames[i] {
			return true
		}
	}
	return false
}

// AddNode appends a node applying op to inputs. It validates the
// attributes (filling defaults) and infers the output types. The outputs
// are named after the node: the first output takes the node's name, the
// others name.out (e.g. "enc.h").
func (g *Graph) AddNode(op, name string, inputs []*Value, attrs Attrs, pos Pos) (*Node, error) {
	def := Lookup(op)
	if def == nil {
		return nil, fmt.Errorf("unknown op %q", op)
	}
	if attrs == nil {
		attrs = Attrs{}
	}
	n := &Node{Name: name, Op: op, Inputs: inputs, Attrs: attrs, Pos: pos}
	if err := def.CheckAttrs(n); err != nil {
		return nil, err
	}
	types, err := def.InferNode(n)
	if err != nil {
		return nil, err
	}
	names := def.OutputNames(n)
	for i, t := range types {
		vn := name
		if i > 0 {
			vn = name + "." + names[i]
		}
		n.Outputs = append(n.Outputs, &Value{Name: vn, Type: t, Kind: Temp, Def: n, Pos: pos})
	}
	g.Nodes = append(g.Nodes, n)
	return n, nil
}

// Values returns every value in the graph: inputs, params, then node
// outputs in order.
func (g *Graph) Values() []*Value {
	vs := append([]*Value(nil), g.Inputs...)
	vs = append(vs, g.Params...)
	for _, n := range g.Nodes {
		vs = append(vs, n.Outputs...)
	}
	return vs
}

// Uses maps each value to the nodes that read it, in node order.
func (g *Graph) Uses() map[*Value][]*Node {
	u := map[*Value][]*Node{}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			if in != nil {
				u[in] = append(u[in], n)
			}
		}
	}
	return u
}

// IsOutput reports whether v is a graph output.
func (g *Graph) IsOutput(v *Value) bool {
	for _, o := range g.Outputs {
		if o == v {
			return true
		}
	}
	return false
}

// Param returns the param or const called name, or nil.
func (g *Graph) Param(name string) *Value {
	for _, p := range g.Params {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Clone returns a deep copy of the graph structure. Tensor data of params
// and constants is shared, not copied: passes that change data replace the
// Data pointer.
func (g *Graph) Clone() *Graph {
	c := &Graph{Name: g.Name, Batch: g.Batch, Training: g.Training, OutputNames: append([]string(nil), g.OutputNames...), Labels: append([]string(nil), g.Labels...), ClassScores: append([]string(nil), g.ClassScores...)}
	m := map[*Value]*Value{}
	cp := func(v *Value) *Value {
		nv := *v
		nv.Type.Shape = v.Type.Shape.Clone()
		m[v] = &nv
		return &nv
	}
	for _, v := range g.Inputs {
		c.Inputs = append(c.Inputs, cp(v))
	}
	for _, v := range g.Params {
		c.Params = append(c.Params, cp(v))
	}
	for _, n := range g.Nodes {
		nn := &Node{Name: n.Name, Op: n.Op, Attrs: n.Attrs.Clone(), Pos: n.Pos}
		if n.Schedule != nil {
			s := *n.Schedule
			s.Tiles = map[string]int{}
			for k, v := range n.Schedule.Tiles {
				s.Tiles[k] = v
			}
			s.Order = append([]string(nil), n.Schedule.Order...)
			nn.Schedule = &s
		}
		for _, in := range n.Inputs {
			if in == nil {
				nn.Inputs = append(nn.Inputs, nil)
			} else if mv, ok := m[in]; ok {
				nn.Inputs = append(nn.Inputs, mv)
			} else {
				nn.Inputs = append(nn.Inputs, in) // dangling; Verify reports it
			}
		}
		for _, o := range n.Outputs {
			no := cp(o)
			no.Def = nn
			nn.Outputs = append(nn.Outputs, no)
		}
		c.Nodes = append(c.Nodes, nn)
	}
	for _, o := range g.Outputs {
		if mv, ok := m[o]; ok {
			c.Outputs = append(c.Outputs, mv)
		} else {
			c.Outputs = append(c.Outputs, o)
		}
	}
	return c
}

// MemoryPlan places every intermediate value in one arena per dtype, so
// that values whose lifetimes do not overlap share memory. The planning
// pass fills Graph.Memory; code generation lays out its scratch memory
// from it.
type MemoryPlan struct {
	// Offset of each Temp value in the arena of its dtype, in elements.
	// Values that alias their input (reshape, flatten, ...) share its offset.
	Offset map[*Value]int
	// Size of each dtype's arena in elements.
	Size map[DType]int
	// Naive is what the arenas would hold with no reuse, in bytes.
	Naive int
}

// Bytes is the arenas' total size in bytes.
func (p *MemoryPlan) Bytes() int {
	n := 0
	for dt, s := range p.Size {
		n += s * dt.Size()
	}
	return n
}

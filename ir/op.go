package ir

import (
	"fmt"
	"sort"
	"strings"
)

// FusionClass tells the fusion pass how an op may combine with its
// neighbours (the classes of TVM's op registry). The fusion pass reads
// the class and the op's fusion facts in its OpDef (Act, Unary, Binary),
// never the op name.
type FusionClass uint8

// Fusion classes.
const (
	// Elementwise: out[i] = f(in[i]), one input.
	Elementwise FusionClass = iota + 1
	// Broadcast: elementwise over several inputs with broadcasting.
	Broadcast
	// Injective: every output element is one input element (reshape,
	// transpose, concat, gather).
	Injective
	// Reduce: an output element depends on many input elements (softmax,
	// pooling).
	Reduce
	// OutEwiseFusable: a heavy op whose output can absorb following
	// elementwise ops (conv, dense, matmul).
	OutEwiseFusable
	// Opaque: never fused (recurrent layers).
	Opaque
)

var classNames = [...]string{Elementwise: "elementwise", Broadcast: "broadcast", Injective: "injective", Reduce: "reduce", OutEwiseFusable: "out-elementwise-fusable", Opaque: "opaque"}

func (c FusionClass) String() string { return classNames[c] }

// InputDef describes one input slot of an op.
type InputDef struct {
	Name string
	// Optional inputs may be nil in Node.Inputs.
	Optional bool
	// Variadic marks the last slot as taking any number (>= 1) of inputs.
	Variadic bool
	// Param marks a slot that normally holds a parameter (a weight).
	Param bool
	// DTypes is the set of dtypes the slot accepts, checked before the
	// shape rule runs; TestOpDTypes fails on a slot that leaves it empty.
	DTypes DTypeSet
}

// OpDef is one row of the op table.
type OpDef struct {
	Name string
	Doc  string
	// Inputs lists the input slots in order.
	Inputs []InputDef
	// Outputs names the outputs; OutputsFn overrides it when the count
	// depends on the attributes.
	Outputs   []string
	OutputsFn func(n *Node) []string
	Attrs     []AttrDef
	Class     FusionClass
	// Check validates the attributes together (e.g. list lengths), after
	// defaults are filled in.
	Check func(n *Node) error
	// Infer computes the output types from the input types and
	// attributes. Inputs are non-nil except absent optional ones.
	Infer func(n *Node) ([]TensorType, error)

	// The properties below are what the passes and code generation read
	// instead of op names. TestOpTableComplete fails on an op that leaves
	// a needed one unset.

	// View: output 0 is input 0's memory under another shape; no data
	// moves (reshape, flatten, identity, ...). The memory plan aliases it.
	View bool
	// InPlace: the kernel may write output 0 over input 0 (same type),
	// because each output element is computed from input elements at the
	// same index, or from a row read in full before it is written.
	InPlace bool
	// Pure says whether the op is deterministic and stateless, so that
	// constant folding may evaluate it and CSE may merge two equal nodes.
	// Dropout is pure at inference; recurrent layers are pure functions of
	// their inputs and initial states. Every op must set it.
	Pure Purity
	// Stream is how the op behaves in the streaming Step API of a
	// recurrent model (codegen/step.go): which rule carries the time axis
	// from its inputs to its outputs, or that it needs the whole sequence.
	Stream StreamKind
	// Act: the op can be absorbed by the fusion pass as the activation of
	// a fused_conv/fused_dense epilogue (see ActKind); its name becomes
	// the fused node's act attribute and its attributes are copied.
	Act ActKind
	// Unary is the declarative form of a one-input element-wise op: a
	// scalar reference function and a Go expression template. One
	// interpreter kernel, one emitter, the fused_ewise chain and the
	// conv/dense epilogues all read it.
	Unary *Unary
	// Binary is the declarative form of a broadcasting two-input op.
	Binary *Binary
	// Reduction is the declarative form of a reduction over the axes
	// attribute (see ops_reduce.go).
	Reduction *Reduction
	// Grad is the slot for the op's gradient rule; its Fn is filled by
	// the autodiff pass, which keeps the rules beside the kernels. An op
	// without a rule leaves Grad nil and says why in NoGrad.
	Grad *Grad
	// NoGrad is the reason an op has no gradient rule ("" when it has one).
	NoGrad string

	// epilogue marks an op whose act attribute applies an activation
	// (see linkEpilogue).
	epilogue bool
}

// Purity is whether an op is a pure function of its inputs.
type Purity uint8

// Purities. The zero value is "unset", which the completeness test
// refuses.
const (
	// Pure: deterministic and stateless; foldable and CSE-able.
	Pure Purity = iota + 1
	// Impure: random, or reads or writes state; never folded or merged.
	Impure
)

// IsPure reports whether the op is deterministic and stateless.
func (d *OpDef) IsPure() bool { return d.Pure == Pure }

// StreamKind names the rule by which an op maps the time axis of
// per-step inputs to its outputs in the streaming Step API. The zero
// value is "unset", which the completeness test refuses.
type StreamKind uint8

// Streaming rules, as codegen/step.go applies them.
const (
	// StreamWhole: the op needs the whole sequence; a model using it
	// on per-step values has no Step API.
	StreamWhole StreamKind = iota + 1
	// StreamRecurrent: the op carries state from step to step (rnn,
	// lstm, gru); its state becomes the Step API's state.
	StreamRecurrent
	// StreamPointwise: each output element depends on the input elements
	// at the same (broadcast) index, so every step is independent.
	StreamPointwise
	// StreamLinear: contracts the last axis of input 0 with static
	// weights (dense); per-step unless time is that axis.
	StreamLinear
	// StreamMatmul: a matrix product with a static right operand.
	StreamMatmul
	// StreamLookup: rows of a static table indexed by per-step ids
	// (embedding).
	StreamLookup
	// StreamGather: gather along an axis; per-step data or indices.
	StreamGather
	// StreamReshape: a reshape that keeps the time axis whole.
	StreamReshape
	// StreamTranspose: permutes axes; the time axis moves.
	StreamTranspose
	// StreamConcat: joins along an axis other than time.
	StreamConcat
	// StreamAlongAxis: computes along its axis attribute (softmax);
	// per-step unless that axis is time.
	StreamAlongAxis
	// StreamChannels: per-channel over axis 1 (batchnorm); per-step
	// unless time is axis 1.
	StreamChannels
	// StreamWindows: slides windows over the axes after 1 (conv, pools);
	// per-step only when time is the batch axis 0.
	StreamWindows
	// StreamReduce: reduces over its axes attribute; per-step unless
	// time is among them.
	StreamReduce
)

// ActKind says whether an op can become an epilogue activation.
type ActKind uint8

// Epilogue activations.
const (
	// NoAct: never absorbed as an activation.
	NoAct ActKind = iota
	// ActElementwise: absorbed after a conv or a dense.
	ActElementwise
	// ActRows: absorbed after a dense only, when it acts on the last axis
	// (softmax normalizes each output row).
	ActRows
)

// GradFunc builds the gradient of one node: given the gradients dys of
// its outputs (nil where an output is unused), it adds to g the nodes
// computing the gradients of its inputs and returns them in input order
// (nil for an input without one, e.g. integer indices).
type GradFunc func(g *Graph, n *Node, dys []*Value) ([]*Value, error)

// Grad is the gradient-rule slot of a differentiable op. The op table
// creates it; passes/autodiff fills Fn (ir imports no other dlc
// package).
type Grad struct{ Fn GradFunc }

// Differentiable reports whether the op has a gradient rule slot.
func (d *OpDef) Differentiable() bool { return d.Grad != nil }

var opTable = map[string]*OpDef{}

// Register adds an op to the table. It panics on a duplicate name: the
// table is built at init time from this package's own definitions.
func Register(d *OpDef) {
	if _, dup := opTable[d.Name]; dup {
		panic("ir: op registered twice: " + d.Name)
	}
	opTable[d.Name] = d
	// Whichever registers first, every epilogue learns every activation
	// (in name order, so the table does not depend on map order).
	for _, o := range Ops() {
		switch {
		case d.epilogue && o.Act != NoAct:
			linkEpilogue(d, o)
		case o.epilogue && d.Act != NoAct:
			linkEpilogue(o, d)
		}
	}
}

// Lookup returns the op table row for name, or nil.
func Lookup(name string) *OpDef { return opTable[name] }

// Ops returns every op table row, sorted by name.
func Ops() []*OpDef {
	ds := make([]*OpDef, 0, len(opTable))
	for _, d := range opTable {
		ds = append(ds, d)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].Name < ds[j].Name })
	return ds
}

// AttrDef returns the definition of the named attribute, or nil.
func (d *OpDef) AttrDef(name string) *AttrDef {
	for i := range d.Attrs {
		if d.Attrs[i].Name == name {
			return &d.Attrs[i]
		}
	}
	return nil
}

// OutputNames returns the names of the node's outputs.
func (d *OpDef) OutputNames(n *Node) []string {
	if d.OutputsFn != nil {
		return d.OutputsFn(n)
	}
	return d.Outputs
}

// CheckAttrs rejects unknown attributes and values of the wrong kind, and
// fills in defaults. It also checks the number of inputs.
func (d *OpDef) CheckAttrs(n *Node) error {
	for _, k := range n.Attrs.Keys() {
		if d.AttrDef(k) == nil {
			var names []string
			for _, a := range d.Attrs {
				names = append(names, a.Name)
			}
			if len(names) == 0 {
				return fmt.Errorf("%s takes no attributes, got %q", d.Name, k)
			}
			return fmt.Errorf("%s has no attribute %q (it has %s)", d.Name, k, strings.Join(names, ", "))
		}
	}
	for i := range d.Attrs {
		a := &d.Attrs[i]
		v, ok := n.Attrs[a.Name]
		if !ok && a.Optional {
			continue
		}
		if !ok {
			switch {
			case a.DefaultFn != nil:
				v = a.DefaultFn(n)
			case a.Default != nil:
				v = a.Default
			default:
				return fmt.Errorf("%s needs attribute %s (%s)", d.Name, a.Name, a.Kind)
			}
			switch s := v.(type) {
			case []int:
				v = append([]int(nil), s...)
			case []float64:
				v = append([]float64(nil), s...)
			}
		}
		cv, err := a.check(v)
		if err != nil {
			return fmt.Errorf("%s: %w", d.Name, err)
		}
		if a.Optional && a.Kind != AttrInts && a.Kind != AttrFloats && cv == a.Default {
			delete(n.Attrs, a.Name) // the canonical form leaves it out
			continue
		}
		n.Attrs[a.Name] = cv
	}
	if err := d.checkInputs(n); err != nil {
		return err
	}
	if d.Check != nil {
		return d.Check(n)
	}
	return nil
}

func (d *OpDef) checkInputs(n *Node) error {
	min, max := 0, 0
	variadic := false
	for _, in := range d.Inputs {
		if in.Variadic {
			// Every fixed slot must be present (possibly nil) before
			// the variadic ones.
			variadic = true
			min = max + 1
			continue
		}
		max++
		if !in.Optional {
			min = max
		}
	}
	if variadic {
		max = -1
	}
	k := len(n.Inputs)
	if k < min || (max >= 0 && k > max) {
		switch {
		case max < 0:
			return fmt.Errorf("%s takes at least %d inputs, got %d", d.Name, min, k)
		case min == max:
			return fmt.Errorf("%s takes %d inputs, got %d", d.Name, min, k)
		default:
			return fmt.Errorf("%s takes %d to %d inputs, got %d", d.Name, min, max, k)
		}
	}
	for i, v := range n.Inputs {
		slot := d.slot(i)
		if v == nil && !slot.Optional {
			return fmt.Errorf("%s: input %s is missing", d.Name, slot.Name)
		}
	}
	return nil
}

// slot returns the input definition for input index i.
func (d *OpDef) slot(i int) InputDef {
	if i < len(d.Inputs) {
		return d.Inputs[i]
	}
	return d.Inputs[len(d.Inputs)-1]
}

// InputName returns the name of input slot i of the op.
func (d *OpDef) InputName(i int) string { return d.slot(i).Name }

// InferNode computes the node's output types.
func (d *OpDef) InferNode(n *Node) ([]TensorType, error) {
	if err := d.checkDTypes(n); err != nil {
		return nil, err
	}
	ts, err := d.Infer(n)
	if err != nil {
		return nil, err
	}
	if want := len(d.OutputNames(n)); len(ts) != want {
		return nil, fmt.Errorf("internal error: %s inferred %d outputs, want %d", d.Name, len(ts), want)
	}
	return ts, nil
}

// checkDTypes checks every present input's dtype against its slot's set.
func (d *OpDef) checkDTypes(n *Node) error {
	for i, v := range n.Inputs {
		if v == nil {
			continue
		}
		if set := d.slot(i).DTypes; !set.Has(v.Type.DType) {
			return shapeErr("input %s (%s) must be one of %v, got %v", d.InputName(i), v.Name, set, v.Type)
		}
	}
	return nil
}

// ShapeError is a shape mismatch found by an op's shape rule.
type ShapeError struct{ Msg string }

func (e *ShapeError) Error() string { return e.Msg }

func shapeErr(format string, args ...any) error {
	return &ShapeError{Msg: fmt.Sprintf(format, args...)}
}

// in returns input i's type (the zero type for an absent input).
func in(n *Node, i int) TensorType {
	if i >= len(n.Inputs) || n.Inputs[i] == nil {
		return TensorType{}
	}
	return n.Inputs[i].Type
}

func has(n *Node, i int) bool { return i < len(n.Inputs) && n.Inputs[i] != nil }

// normAxis maps a possibly negative axis into [0, rank).
func normAxis(axis, rank int) (int, error) {
	if axis < -rank || axis >= rank {
		if rank == 0 {
			return 0, shapeErr("axis %d is out of range for a scalar", axis)
		}
		return 0, shapeErr("axis %d is out of range for rank %d (want %d..%d)", axis, rank, -rank, rank-1)
	}
	if axis < 0 {
		axis += rank
	}
	return axis, nil
}

// NormAxis maps a possibly negative axis into [0, rank), or returns an error.
func NormAxis(axis, rank int) (int, error) { return normAxis(axis, rank) }

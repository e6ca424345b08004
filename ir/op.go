package ir

import (
	"fmt"
	"sort"
	"strings"
)

// FusionClass tells the fusion pass how an op may combine with its
// neighbours (the classes of TVM's op registry). The fusion pass reads
// only the class, never the op name.
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
	// Differentiable is false for ops without a gradient rule (with a
	// reason in Doc).
	Differentiable bool
}

var opTable = map[string]*OpDef{}

// Register adds an op to the table. It panics on a duplicate name: the
// table is built at init time from this package's own definitions.
func Register(d *OpDef) {
	if _, dup := opTable[d.Name]; dup {
		panic("ir: op registered twice: " + d.Name)
	}
	opTable[d.Name] = d
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
			if s, isInts := v.([]int); isInts {
				v = append([]int(nil), s...)
			}
		}
		cv, err := a.check(v)
		if err != nil {
			return fmt.Errorf("%s: %w", d.Name, err)
		}
		if a.Optional && a.Kind != AttrInts && cv == a.Default {
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
	ts, err := d.Infer(n)
	if err != nil {
		return nil, err
	}
	if want := len(d.OutputNames(n)); len(ts) != want {
		return nil, fmt.Errorf("internal error: %s inferred %d outputs, want %d", d.Name, len(ts), want)
	}
	return ts, nil
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

func wantDType(n *Node, i int, dt DType) error {
	if t := in(n, i); t.DType != dt {
		return shapeErr("input %s must be %v, got %v", n.Def().InputName(i), dt, t)
	}
	return nil
}

package ir

import (
	"fmt"
	"strings"
)

// einsum: the Einstein summation of any number of operands, given as an
// explicit equation of letters ("bij,bjk->bik"; the ONNX frontend
// expands ellipses and implicit outputs). A letter repeated within one
// operand takes its diagonal; letters absent from the output are summed.

func init() {
	Register(&OpDef{
		Name: "einsum", Doc: "Einstein summation over an explicit equation of letters, e.g. bij,bjk->bik: letters missing from the output are summed, a letter repeated in one operand takes its diagonal; sums in float64 (int64 for integers), rounded once (torch.einsum, ONNX Einsum)",
		Class: Opaque, Pure: Pure, Stream: StreamWhole, NoGrad: noRuleYet,
		Inputs:  []InputDef{{Name: "x", Variadic: true, DTypes: SetOf(F32, F64) | UnaryIntDTypes}},
		Outputs: []string{"y"},
		Attrs:   []AttrDef{{Name: "equation", Kind: AttrString, Doc: "operands' letters, comma-separated, then -> and the output's letters"}},
		Infer: func(n *Node) ([]TensorType, error) {
			shapes := make([]Shape, len(n.Inputs))
			for i, v := range n.Inputs {
				shapes[i] = v.Type.Shape
				if v.Type.DType != in(n, 0).DType {
					return nil, shapeErr("einsum operands have different dtypes: %v and %v", in(n, 0), v.Type)
				}
			}
			e, err := ParseEinsum(n.Attrs.String("equation"), shapes)
			if err != nil {
				return nil, err
			}
			return []TensorType{{in(n, 0).DType, e.OutShape()}}, nil
		},
	})
}

// Einsum is a parsed einsum equation over operands of known shapes. Every
// distinct letter is a loop: the output's letters first, in output
// order (Out[k] = k), then the summed letters.
type Einsum struct {
	Sizes []int   // the extent of each loop
	Out   []int   // the loop of each output axis
	Ins   [][]int // the loop of each axis of each operand
}

// OutShape is the output's shape.
func (e *Einsum) OutShape() Shape {
	s := Shape{}
	for _, l := range e.Out {
		s = append(s, e.Sizes[l])
	}
	return s
}

// Strides gives, for operand i (or the output, i = -1), its element
// stride along each loop (0 along loops it does not have; a diagonal
// adds the strides of its axes).
func (e *Einsum) Strides(i int) []int {
	axes, shape := e.Out, e.OutShape()
	if i >= 0 {
		axes = e.Ins[i]
		shape = make(Shape, len(axes))
		for k, l := range axes {
			shape[k] = e.Sizes[l]
		}
	}
	st := make([]int, len(e.Sizes))
	for k, s := range shape.Strides() {
		st[axes[k]] += s
	}
	return st
}

// ParseEinsum parses an explicit equation ("ij,jk->ik": letters only, an
// output after ->) against the operands' shapes.
func ParseEinsum(eq string, shapes []Shape) (*Einsum, error) {
	lhs, rhs, ok := strings.Cut(strings.ReplaceAll(eq, " ", ""), "->")
	if !ok {
		return nil, shapeErr("einsum equation %q has no ->", eq)
	}
	terms := strings.Split(lhs, ",")
	if len(terms) != len(shapes) {
		return nil, shapeErr("einsum equation %q has %d operands, got %d", eq, len(terms), len(shapes))
	}
	loop := map[rune]int{}
	e := &Einsum{}
	letter := func(r rune) (int, error) {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return 0, shapeErr("einsum equation %q: %q is not a letter", eq, r)
		}
		if l, ok := loop[r]; ok {
			return l, nil
		}
		loop[r] = len(e.Sizes)
		e.Sizes = append(e.Sizes, -1)
		return loop[r], nil
	}
	for _, r := range rhs {
		if _, dup := loop[r]; dup {
			return nil, shapeErr("einsum equation %q repeats %q in its output", eq, r)
		}
		l, err := letter(r)
		if err != nil {
			return nil, err
		}
		e.Out = append(e.Out, l)
	}
	for i, t := range terms {
		if len([]rune(t)) != len(shapes[i]) {
			return nil, shapeErr("einsum equation %q: operand %d has %d letters for shape %v", eq, i, len([]rune(t)), shapes[i])
		}
		var axes []int
		for k, r := range []rune(t) {
			l, err := letter(r)
			if err != nil {
				return nil, err
			}
			switch d := shapes[i][k]; {
			case e.Sizes[l] < 0:
				e.Sizes[l] = d
			case e.Sizes[l] != d:
				return nil, shapeErr("einsum equation %q: %q is %d and %d", eq, r, e.Sizes[l], d)
			}
			axes = append(axes, l)
		}
		e.Ins = append(e.Ins, axes)
	}
	for r, l := range loop {
		if e.Sizes[l] < 0 {
			return nil, shapeErr("einsum equation %q: output letter %q is in no operand", eq, r)
		}
	}
	total := 1
	for _, s := range e.Sizes {
		total *= max(s, 1)
		if total > 1<<40 {
			return nil, shapeErr("einsum equation %q over %v loops over too many elements", eq, shapes)
		}
	}
	return e, nil
}

// String is the equation's loop structure, for errors.
func (e *Einsum) String() string { return fmt.Sprintf("einsum%v out %v in %v", e.Sizes, e.Out, e.Ins) }

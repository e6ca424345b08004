package ir

import (
	"errors"
	"fmt"
)

// Verify checks every invariant of the graph and returns all violations
// joined: names unique, every op known with valid attributes and input
// counts, every value defined before use and produced once, Def links
// right, stored types equal to the types the shape rules infer, param and
// const data matching their types, outputs defined. Passes run it after
// every rewrite in tests.
func Verify(g *Graph) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	defined := map[*Value]bool{}
	names := map[string]bool{}
	define := func(v *Value, where string) {
		if v == nil {
			bad("%s: nil value", where)
			return
		}
		if defined[v] {
			bad("%s: value %s is defined twice", where, v.Name)
		}
		if names[v.Name] {
			bad("%s: value name %q is used twice", where, v.Name)
		}
		defined[v] = true
		names[v.Name] = true
	}
	for _, v := range g.Inputs {
		define(v, "input "+v.Name)
		if v.Kind != Input {
			bad("input %s has kind %v", v.Name, v.Kind)
		}
	}
	for _, v := range g.Params {
		define(v, "param "+v.Name)
		switch {
		case v.Kind != Param && v.Kind != Const:
			bad("param %s has kind %v", v.Name, v.Kind)
		case v.Data != nil:
			if err := v.Data.Check(); err != nil {
				bad("param %s: %v", v.Name, err)
			} else if !v.Data.Type().Equal(v.Type) {
				bad("param %s is declared %v but holds %v", v.Name, v.Type, v.Data.Type())
			}
		case v.Kind == Const:
			bad("const %s has no data", v.Name)
		case v.Init == "":
			bad("param %s has neither data nor an initializer", v.Name)
		}
	}
	nodeNames := map[string]bool{}
	for i, n := range g.Nodes {
		where := fmt.Sprintf("node %d %s (%s)", i, n.Name, n.Op)
		if nodeNames[n.Name] {
			bad("%s: node name is used twice", where)
		}
		nodeNames[n.Name] = true
		for _, in := range n.Inputs {
			if in != nil && !defined[in] {
				bad("%s: input %s is not defined before use", where, in.Name)
			}
		}
		for _, o := range n.Outputs {
			define(o, where)
		}
		def := Lookup(n.Op)
		if def == nil {
			bad("%s: unknown op", where)
			continue
		}
		check := &Node{Name: n.Name, Op: n.Op, Inputs: n.Inputs, Attrs: n.Attrs.Clone(), Pos: n.Pos}
		if err := def.CheckAttrs(check); err != nil {
			bad("%s: %v", where, err)
			continue
		}
		for _, k := range check.Attrs.Keys() {
			if FormatAttr(check.Attrs[k]) != FormatAttr(n.Attrs[k]) {
				bad("%s: attribute %s is %s, want %s after defaults", where, k, FormatAttr(n.Attrs[k]), FormatAttr(check.Attrs[k]))
			}
		}
		types, err := def.InferNode(check)
		if err != nil {
			bad("%s: %v", where, err)
			continue
		}
		if len(types) != len(n.Outputs) {
			bad("%s: has %d outputs, want %d", where, len(n.Outputs), len(types))
			continue
		}
		for j, o := range n.Outputs {
			if o == nil {
				continue
			}
			if o.Def != n || o.Kind != Temp {
				bad("%s: output %s has the wrong Def or kind", where, o.Name)
			}
			if !o.Type.Equal(types[j]) {
				bad("%s: output %s is typed %v, shape rule gives %v", where, o.Name, o.Type, types[j])
			}
		}
	}
	if len(g.Outputs) == 0 {
		bad("graph %s has no outputs", g.Name)
	}
	if len(g.OutputNames) != len(g.Outputs) {
		bad("graph has %d outputs but %d output names", len(g.Outputs), len(g.OutputNames))
	}
	for _, o := range g.Outputs {
		if !defined[o] {
			bad("output %s is not defined", o.Name)
		}
	}
	return errors.Join(errs...)
}

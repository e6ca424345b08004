package ir

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Attrs holds a node's attributes by name. Values are int, []int, float64,
// []float64, string or bool; after CheckAttrs every attribute of the op is present,
// except Optional ones at their default.
type Attrs map[string]any

// Clone returns a copy whose slices do not alias a's.
func (a Attrs) Clone() Attrs {
	c := make(Attrs, len(a))
	for k, v := range a {
		switch s := v.(type) {
		case []int:
			v = append([]int(nil), s...)
		case []float64:
			v = append([]float64(nil), s...)
		}
		c[k] = v
	}
	return c
}

// Int returns an int attribute (0 if absent).
func (a Attrs) Int(name string) int { v, _ := a[name].(int); return v }

// Ints returns an []int attribute (nil if absent).
func (a Attrs) Ints(name string) []int { v, _ := a[name].([]int); return v }

// Floats returns a []float64 attribute (nil if absent).
func (a Attrs) Floats(name string) []float64 { v, _ := a[name].([]float64); return v }

// Float returns a float attribute (0 if absent).
func (a Attrs) Float(name string) float64 { v, _ := a[name].(float64); return v }

// String returns a string attribute ("" if absent).
func (a Attrs) String(name string) string { v, _ := a[name].(string); return v }

// Bool returns a bool attribute (false if absent).
func (a Attrs) Bool(name string) bool { v, _ := a[name].(bool); return v }

// Keys returns the attribute names, sorted.
func (a Attrs) Keys() []string {
	ks := make([]string, 0, len(a))
	for k := range a {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// FormatAttr formats one attribute value the way the printer writes it.
func FormatAttr(v any) string {
	switch x := v.(type) {
	case int:
		return strconv.Itoa(x)
	case []int:
		var b strings.Builder
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(e))
		}
		b.WriteByte(']')
		return b.String()
	case float64:
		return formatFloat(x)
	case []float64:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = formatFloat(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case string:
		return strconv.Quote(x)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

func formatFloat(x float64) string {
	if math.IsInf(x, 1) {
		return "inf"
	}
	if math.IsInf(x, -1) {
		return "-inf"
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// AttrKind is the type of an attribute.
type AttrKind uint8

// Attribute kinds.
const (
	AttrInt AttrKind = iota + 1
	AttrInts
	AttrFloat
	AttrString
	AttrBool
	AttrFloats
)

var attrKindNames = [...]string{AttrInt: "int", AttrInts: "list of ints", AttrFloat: "number", AttrString: "string", AttrBool: "bool", AttrFloats: "list of numbers"}

func (k AttrKind) String() string { return attrKindNames[k] }

// AttrDef describes one attribute of an op.
type AttrDef struct {
	Name string
	Kind AttrKind
	// Default is used when the attribute is absent. A nil Default makes
	// the attribute required, unless DefaultFn is set.
	Default any
	// DefaultFn computes a default from the node (e.g. strides of the
	// spatial rank). It runs after the attributes before it are set.
	DefaultFn func(n *Node) any
	// Optional attributes are left out of a node unless set to a value
	// other than Default (which must then be the zero value: false, 0),
	// so adding one to an op leaves existing graphs (and their printed
	// form) unchanged. Readers see the zero value when it is absent.
	Optional bool
	// Enum lists the allowed values of a string attribute.
	Enum []string
	// Doc is one line for the language reference.
	Doc string
}

func (d *AttrDef) check(v any) (any, error) {
	switch d.Kind {
	case AttrInt:
		switch x := v.(type) {
		case int:
			return x, nil
		case float64:
			if x == math.Trunc(x) {
				return int(x), nil
			}
		}
	case AttrInts:
		switch x := v.(type) {
		case []int:
			return x, nil
		case int:
			return []int{x}, nil
		}
	case AttrFloat:
		switch x := v.(type) {
		case float64:
			return x, nil
		case int:
			return float64(x), nil
		}
	case AttrFloats:
		switch x := v.(type) {
		case []float64:
			return x, nil
		case []int: // integral lists read from JSON or .dl
			f := make([]float64, len(x))
			for i, e := range x {
				f[i] = float64(e)
			}
			return f, nil
		case float64:
			return []float64{x}, nil
		}
	case AttrString:
		if x, ok := v.(string); ok {
			if len(d.Enum) > 0 {
				for _, e := range d.Enum {
					if e == x {
						return x, nil
					}
				}
				return nil, fmt.Errorf("attribute %s: want one of %s, got %q", d.Name, strings.Join(d.Enum, ", "), x)
			}
			return x, nil
		}
	case AttrBool:
		if x, ok := v.(bool); ok {
			return x, nil
		}
	}
	return nil, fmt.Errorf("attribute %s: want %s, got %s", d.Name, d.Kind, FormatAttr(v))
}

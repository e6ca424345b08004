package dl

import (
	"fmt"
	"strings"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/weights"
)

// argKind is the type a layer argument accepts.
type argKind uint8

const (
	aInt     argKind = iota + 1
	aFloat           // int or float
	aBool            // true or false
	aString          // "text" or a bare name
	aInts            // an int or a list of ints
	aPad             // aInts, "same" or "valid"
	aTensor          // a tensor, by keyword only (h0=, c0=)
	aIntsVar         // any number of ints as positional arguments, or one list
	aFloats          // a number or a list of numbers ([]float64)
)

func (k argKind) String() string {
	switch k {
	case aInt:
		return "int"
	case aFloat:
		return "number"
	case aBool:
		return "bool"
	case aString:
		return "string"
	case aInts, aIntsVar:
		return "int or list of ints"
	case aPad:
		return `int, list of ints, "same" or "valid"`
	case aTensor:
		return "tensor"
	case aFloats:
		return "number or list of numbers"
	}
	return "?"
}

// argSpec describes one argument of a built-in layer.
type argSpec struct {
	name  string
	kind  argKind
	def   any    // default; nil with opt false means required
	opt   bool   // may be absent without a default
	alias string // another accepted keyword (dim for axis)
	enum  []string
	// kwOnly: only by keyword. PyTorch's input sizes (in_features=,
	// in_channels=, input_size=) are such: dlc infers them from the input
	// and checks a given one, but they take no place in the positional
	// order, which starts with the output size.
	kwOnly bool
}

// convert checks an argument value against its spec and returns it as
// int, float64, bool, string, []int or *ir.Value.
func convert(v val, s argSpec) (any, error) {
	bad := func() (any, error) {
		if v.bare {
			return nil, fmt.Errorf("undefined: %s", v.s)
		}
		return nil, fmt.Errorf("want %s, got %s", s.kind, v.describe())
	}
	toInt := func(v val) (int, bool) {
		if v.kind != vInt || v.i < -maxDim || v.i > maxDim {
			return 0, false
		}
		return int(v.i), true
	}
	ints := func() (any, error) {
		if i, ok := toInt(v); ok {
			return []int{i}, nil
		}
		if v.kind != vList || len(v.list) == 0 || len(v.list) > 16 {
			return bad()
		}
		out := make([]int, len(v.list))
		for j, e := range v.list {
			i, ok := toInt(e)
			if !ok {
				return bad()
			}
			out[j] = i
		}
		return out, nil
	}
	switch s.kind {
	case aInt:
		if i, ok := toInt(v); ok {
			return i, nil
		}
	case aFloat:
		if f, ok := v.num(); ok {
			return f, nil
		}
	case aBool:
		if v.kind == vBool {
			return v.b, nil
		}
	case aString:
		if v.kind == vString {
			if len(s.enum) > 0 {
				for _, e := range s.enum {
					if e == v.s {
						return v.s, nil
					}
				}
				return nil, fmt.Errorf("want one of %s, got %q", strings.Join(s.enum, ", "), v.s)
			}
			return v.s, nil
		}
	case aInts, aIntsVar:
		return ints()
	case aPad:
		// A bare same or valid is the string, as docs/language.md promises.
		if v.kind == vString {
			if v.s == "same" || v.s == "valid" {
				return v.s, nil
			}
			if v.bare {
				return bad()
			}
			return nil, fmt.Errorf(`want an int, a list of ints, "same" or "valid", got %q`, v.s)
		}
		return ints()
	case aTensor:
		if v.kind == vTensor {
			return v.ts[0], nil
		}
	case aFloats:
		if f, ok := v.num(); ok {
			return []float64{f}, nil
		}
		if v.kind == vList {
			out := make([]float64, 0, len(v.list))
			for _, e := range v.list {
				f, ok := e.num()
				if !ok {
					return bad()
				}
				out = append(out, f)
			}
			return out, nil
		}
	}
	return bad()
}

// call is one instantiation of a built-in layer.
type call struct {
	l    *lowerer
	kind string // as written: "linear" for an alias of dense
	def  *layerDef
	name string
	pos  ir.Pos
	in   []*ir.Value
	// label is the name written before the layer ("conv1" in conv1:
	// conv2d(...)), "" when unnamed; posArgs and kwArgs are the arguments as
	// written, for messages that show a corrected call.
	label   string
	posArgs []argVal
	kwArgs  []kwArg
	args    map[string]any
	// argPos is where each argument given in the source was written, for
	// errors about one argument.
	argPos map[string]ir.Pos
}

func (c *call) errorf(format string, args ...any) error {
	return c.errorAt(c.pos, format, args...)
}

func (c *call) errorAt(pos ir.Pos, format string, args ...any) error {
	return errAt(pos, "%s %s: %s", c.kind, c.name, fmt.Sprintf(format, args...))
}

// argErrorf reports an error at argument n when the source gives it, else
// at the layer.
func (c *call) argErrorf(n string, format string, args ...any) error {
	if p, ok := c.argPos[n]; ok {
		return c.errorAt(p, format, args...)
	}
	return c.errorf(format, args...)
}

func (c *call) has(n string) bool         { _, ok := c.args[n]; return ok }
func (c *call) int(n string) int          { v, _ := c.args[n].(int); return v }
func (c *call) float(n string) float64    { v, _ := c.args[n].(float64); return v }
func (c *call) bool(n string) bool        { v, _ := c.args[n].(bool); return v }
func (c *call) str(n string) string       { v, _ := c.args[n].(string); return v }
func (c *call) ints(n string) []int       { v, _ := c.args[n].([]int); return v }
func (c *call) tensor(n string) *ir.Value { v, _ := c.args[n].(*ir.Value); return v }

// x is the first input.
func (c *call) x() *ir.Value { return c.in[0] }

// expand gives a per-axis list from one value or r values.
func (c *call) expand(n string, r int) ([]int, error) {
	v := c.ints(n)
	switch len(v) {
	case 1:
		out := make([]int, r)
		for i := range out {
			out[i] = v[0]
		}
		return out, nil
	case r:
		return append([]int(nil), v...), nil
	}
	return nil, c.errorf("%s has %d values, want 1 or %d", n, len(v), r)
}

// positive checks that every value of a list is at least min.
func (c *call) atLeast(n string, v []int, min int) error {
	for _, x := range v {
		if x < min {
			return c.errorf("%s must be at least %d, got %v", n, min, fmtInts(v))
		}
	}
	return nil
}

func fmtInts(v []int) string {
	if len(v) == 1 {
		return fmt.Sprint(v[0])
	}
	return ir.Shape(v).String()
}

// initFor is the initializer of a weight: init= on the layer, else the
// file's init statement, else def.
func (c *call) initFor(def string) (string, error) {
	if c.has("init") {
		s := c.str("init")
		if !validInit(s) {
			return "", c.errorf("unknown initializer %q (want %s)", s, strings.Join(initNames, ", "))
		}
		return s, nil
	}
	if c.l.initSet {
		return c.l.initName, nil
	}
	return def, nil
}

// param describes one parameter of a layer.
type param struct {
	suffix   string // weight, bias, running_mean ...
	kind     ir.ValueKind
	shape    ir.Shape
	inferred []int    // dims taken from the input: a file tensor differing only there is the input's fault
	init     string   // initializer without a weights file
	fill     *float32 // constant data without a weights file (instead of init)
	noFile   bool     // never read from the weights file
}

func ptr(f float32) *float32 { return &f }

// fileName maps a parameter to its name in the weights file, following
// the renames of the weights statement.
func (l *lowerer) fileName(name string) (string, bool) {
	best := -1
	for i, r := range l.renames {
		if r.from == name {
			l.renUsed[i] = true
			return r.to, true
		}
		if strings.HasPrefix(name, r.from+".") && (best < 0 || len(r.from) > len(l.renames[best].from)) {
			best = i
		}
	}
	if best >= 0 {
		r := l.renames[best]
		l.renUsed[best] = true
		return r.to + name[len(r.from):], true
	}
	return name, false
}

// param adds a parameter of the layer, from the weights file when there
// is one.
func (c *call) param(p param) (*ir.Value, error) {
	name := c.name + "." + p.suffix
	n, ok := numElems(p.shape)
	if !ok {
		return nil, c.errorf("parameter %s %v is too large", name, p.shape)
	}
	if err := c.l.claim(name, c.pos); err != nil {
		return nil, err
	}
	t := ir.TensorType{DType: ir.F32, Shape: p.shape}
	var data *ir.Tensor
	init := ""
	fname, renamed := name, false
	if !p.noFile {
		fname, renamed = c.l.fileName(name)
	}
	var ft *weights.Tensor
	disp := name
	if c.l.wfile != nil && !p.noFile {
		if renamed {
			disp = fmt.Sprintf("%s (%q in the file)", name, fname)
		}
		ft = c.l.wfile.Tensors[fname]
		if ft == nil {
			// Go on without it, so that every missing name is listed at
			// once (reportMissing), as if there were no weights file.
			c.l.missing = append(c.l.missing, missingParam{call: c, disp: disp, file: fname, suffix: p.suffix, shape: p.shape})
		}
	}
	switch {
	case ft != nil:
		fs := ir.Shape(append([]int(nil), ft.Shape...))
		if ft.DType != weights.F32 {
			return nil, errAt(c.pos, "%s: safetensors has %s%v, layer %s wants f32%v", disp, strings.ToLower(ft.DType.String()), fs, c.name, p.shape)
		}
		if !fs.Equal(p.shape) {
			// A difference only in dims taken from the input is the
			// input's fault: keep the file's shape and let the op's
			// shape rule say what does not fit.
			inputOnly := len(fs) == len(p.shape)
			for i := 0; inputOnly && i < len(fs); i++ {
				if fs[i] == p.shape[i] {
					continue
				}
				found := false
				for _, d := range p.inferred {
					found = found || d == i
				}
				inputOnly = inputOnly && found
			}
			if !inputOnly {
				hint := ""
				if k, _ := c.l.nearestParam(fname, p.shape, true); k != "" {
					hint = fmt.Sprintf(" (%s in the file has that shape: is a layer missing or extra before %s?)", k, c.name)
				}
				return nil, errAt(c.pos, "%s: safetensors has %v, layer %s wants %v%s", disp, fs, c.name, p.shape, hint)
			}
			t.Shape = fs
		}
		if n, ok := numElems(fs); !ok || n != len(ft.F32()) {
			return nil, errAt(c.pos, "%s: bad tensor in %s", disp, c.l.wname)
		}
		data = &ir.Tensor{DType: ir.F32, Shape: fs.Clone(), Data: ft.F32()}
	case p.fill != nil:
		c.l.alloc += n
		if c.l.alloc > maxAlloc {
			return nil, c.errorf("too much constant data to make without a weights file (%s %v)", name, p.shape)
		}
		data = ir.NewTensor(ir.F32, p.shape)
		for i := range data.F32() {
			data.F32()[i] = *p.fill
		}
	default:
		init = p.init
	}
	return c.l.g.AddParam(name, p.kind, t, data, init, c.pos), nil
}

// scalar adds a scalar constant of dtype dt for a number operand of a
// tensor of that dtype. An integer dtype takes only integers within its
// range; bool takes no numbers.
func (c *call) scalar(dt ir.DType, v val) (*ir.Value, error) {
	t := ir.NewTensor(dt, ir.Shape{})
	switch {
	case dt.IsFloat():
		f, _ := v.num()
		t.SetFloat(0, f)
	case dt.IsInt() && v.kind == vInt:
		if lo, hi := ir.IntRange(dt); dt != ir.U64 && (v.i < lo || v.i > hi) || dt == ir.U64 && v.i < 0 {
			return nil, c.errorf("%s is out of range for the %v tensor operand", v.describe(), dt)
		}
		t.SetInt(0, v.i)
	case dt.IsInt():
		return nil, c.errorf("%s cannot be an operand of a %v tensor: integer tensors take integers (cast the tensor to f32 first: `| cast(f32)`)", v.describe(), dt)
	default:
		return nil, c.errorf("%s cannot be an operand of a %v tensor", v.describe(), dt)
	}
	name := c.name + ".scalar"
	if err := c.l.claim(name, c.pos); err != nil {
		return nil, err
	}
	return c.l.g.AddParam(name, ir.Const, t.Type(), t, "", c.pos), nil
}

// node adds the layer's node.
func (c *call) node(op string, ins []*ir.Value, attrs ir.Attrs) (val, error) {
	if err := c.l.claim(c.name, c.pos); err != nil {
		return val{}, err
	}
	n, err := c.l.g.AddNode(op, c.name, ins, attrs, c.pos)
	if err != nil {
		return val{}, c.errorf("%v", err)
	}
	for i, o := range n.Outputs {
		if _, ok := numElems(o.Type.Shape); !ok {
			return val{}, c.errorf("output %v is too large (more than %d elements)", o.Type, maxElems)
		}
		if i > 0 {
			if err := c.l.claim(o.Name, c.pos); err != nil {
				return val{}, err
			}
		}
	}
	return tensorVal(n.Outputs...), nil
}

package ir

import (
	"fmt"
	"math"
)

// Element-wise and broadcasting ops. Each is declared by its scalar
// function and Go template (Unary, Binary): the interpreter, constant
// folding, the emitter, fused_ewise chains and conv/dense epilogues all
// derive from that one entry, so a new element-wise op is one row here.

// Unary is the declarative form of a one-input element-wise op: f32
// always, the other float dtypes when it has Go64, the integer dtypes but
// u64 when it has Int (UnaryDTypes).
type Unary struct {
	// Eval binds a node's attributes and returns the scalar reference
	// function. The interpreter (and so constant folding) applies it in
	// float64 and rounds once to float32.
	Eval func(a Attrs) func(x float64) float64
	// Go returns a Go expression of type float32 computing the op on the
	// float32 variable x, rounded as Eval is. Package references are
	// written @math.Exp so that the generator tracks imports.
	Go func(x string, a Attrs) string
	// Monotone reports whether the function is non-decreasing for these
	// attributes; a fused conv may then apply it after a max pool
	// (act(max v) = max act(v)). Nil means never.
	Monotone func(a Attrs) bool
	// Go64 returns a Go expression of type float64 computing Eval on the
	// float64 expression x: the template of f64, and of f16 and bf16
	// (computed in float64 and rounded once to the dtype, as the
	// interpreter does). Nil: f32 only.
	Go64 func(x string, a Attrs) string
	// Int binds the attributes and returns the function on integers,
	// computed in int64 and wrapped to the dtype's width; GoInt is its
	// template, an int64 expression of the int64 expression x. Nil: no
	// integer dtypes.
	Int   func(a Attrs) func(x int64) int64
	GoInt func(x string, a Attrs) string
}

// UnaryIntDTypes are the integer dtypes a Unary with an Int form takes:
// every integer but u64, whose values int64 cannot hold.
var UnaryIntDTypes = SetOf(I8, I16, I32, I64, U8, U16, U32)

// DTypes is the set of input dtypes u computes on.
func (u *Unary) DTypes() DTypeSet {
	s := OnlyF32
	if u.Go64 != nil {
		s |= Floats
	}
	if u.Int != nil {
		s |= UnaryIntDTypes
	}
	return s
}

// IsMonotone reports whether u, with attributes a, is non-decreasing.
func (u *Unary) IsMonotone(a Attrs) bool { return u.Monotone != nil && u.Monotone(a) }

// Binary is the declarative form of a broadcasting two-input op.
type Binary struct {
	// Float is the scalar reference function for floats, evaluated in
	// float64 and rounded once (exact for + - * /).
	Float func(a, b float64) float64
	// Int is the reference function for integers; an error (division by
	// zero) fails the run.
	Int func(a, b int64) (int64, error)
	// Uint is the reference function on u64, whose values int64 cannot
	// hold (unsigned division and order differ); nil keeps the op off u64.
	Uint func(a, b uint64) (uint64, error)
	// Go returns a Go expression combining the expressions a and b of
	// the operands' Go type.
	Go func(a, b string) string
	// Go64, when set, is the template on f64 operands and GoInt the one
	// on integers (int64 expressions in, an int64 expression out,
	// wrapped to the dtype), for ops whose Go is an f32 formula.
	Go64, GoInt func(a, b string) string
	// Commutative: f(a, b) = f(b, a), so a fused chain may take the
	// running value as either operand.
	Commutative bool
	// IntZeroFails: Int fails on a zero right operand (division), so
	// generated code checks the divisor and can return an error.
	IntZeroFails bool
}

func always(Attrs) bool { return true }

func unary(name, doc string, u *Unary, attrs ...AttrDef) *OpDef {
	return &OpDef{
		Name: name, Doc: doc, Class: Elementwise, Grad: &Grad{},
		Pure: Pure, InPlace: true, Stream: StreamPointwise, Act: ActElementwise, Unary: u,
		Inputs:  []InputDef{{Name: "x", DTypes: u.DTypes()}},
		Outputs: []string{"y"},
		Attrs:   attrs,
		Infer:   sameType,
	}
}

// sameType is the shape rule of an op whose output has its input's dtype
// and shape (the input's dtype set is checked before, from the table).
func sameType(n *Node) ([]TensorType, error) {
	return []TensorType{{in(n, 0).DType, in(n, 0).Shape.Clone()}}, nil
}

// BinaryDTypes are the dtypes binary arithmetic takes: every number but
// u64, whose values the interpreter's int64 arithmetic cannot hold; a
// Binary with a Uint form takes u64 too.
var BinaryDTypes = Floats | SetOf(I8, I16, I32, I64, U8, U16, U32)

// BroadcastShapes returns the numpy broadcast of two shapes.
func BroadcastShapes(a, b Shape) (Shape, error) {
	r := len(a)
	if len(b) > r {
		r = len(b)
	}
	out := make(Shape, r)
	for i := 0; i < r; i++ {
		da, db := 1, 1
		if j := len(a) - r + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - r + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db:
			out[i] = da
		case da == 1:
			out[i] = db
		case db == 1:
			out[i] = da
		default:
			return nil, shapeErr("shapes %v and %v do not broadcast: dimension %d is %d vs %d", a, b, i, da, db)
		}
	}
	return out, nil
}

func binary(name, doc string, b *Binary) *OpDef {
	dts := BinaryDTypes
	if b.Uint != nil {
		dts |= SetOf(U64)
	}
	return &OpDef{
		Name: name, Doc: doc, Class: Broadcast, Grad: &Grad{},
		Pure: Pure, InPlace: true, Stream: StreamPointwise, Binary: b,
		Inputs:  []InputDef{{Name: "a", DTypes: dts}, {Name: "b", DTypes: dts}},
		Outputs: []string{"y"},
		Infer: func(n *Node) ([]TensorType, error) {
			a, b := in(n, 0), in(n, 1)
			if a.DType != b.DType {
				return nil, shapeErr("operands have different dtypes: %v (%s) and %v (%s)", a, n.Inputs[0].Name, b, n.Inputs[1].Name)
			}
			s, err := BroadcastShapes(a.Shape, b.Shape)
			if err != nil {
				return nil, shapeErr("%s (%s) and %s (%s): %v", n.Inputs[0].Name, a, n.Inputs[1].Name, b, err)
			}
			return []TensorType{{a.DType, s}}, nil
		},
	}
}

// GoFloat formats a float64 constant for a Go template (generated code).
// Infinities become @math.Inf calls.
func GoFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "@math.Inf(1)"
	case math.IsInf(f, -1):
		return "@math.Inf(-1)"
	}
	return FormatAttr(f)
}

// gelu's constants: 1/√2, √(2/π) and the cubic coefficient of the tanh form.
const (
	geluSqrtHalf = math.Sqrt2 / 2
	geluBeta     = 0.7978845608028654
	geluKappa    = 0.044715
)

func init() {
	Register(unary("relu", "max(x, 0); NaN stays NaN (torch.relu)", &Unary{
		Eval: func(Attrs) func(float64) float64 {
			return func(x float64) float64 { return math.Max(x, 0) }
		},
		Go:       func(x string, _ Attrs) string { return "max(" + x + ", 0)" },
		Monotone: always,
		Go64:     func(x string, _ Attrs) string { return "max(" + x + ", 0)" },
		Int:      func(Attrs) func(int64) int64 { return func(x int64) int64 { return max(x, 0) } },
		GoInt:    func(x string, _ Attrs) string { return "max(" + x + ", 0)" },
	}))
	Register(unary("sigmoid", "1 / (1 + exp(-x))", &Unary{
		Eval: func(Attrs) func(float64) float64 {
			return func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
		},
		Go:       func(x string, _ Attrs) string { return "float32(1 / (1 + @math.Exp(-float64(" + x + "))))" },
		Go64:     func(x string, _ Attrs) string { return "1 / (1 + @math.Exp(-(" + x + ")))" },
		Monotone: always,
	}))
	Register(unary("tanh", "hyperbolic tangent", &Unary{
		Eval:     func(Attrs) func(float64) float64 { return math.Tanh },
		Go:       func(x string, _ Attrs) string { return "float32(@math.Tanh(float64(" + x + ")))" },
		Go64:     func(x string, _ Attrs) string { return "@math.Tanh(" + x + ")" },
		Monotone: always,
	}))
	Register(unary("leaky_relu", "x if x > 0 else alpha*x", &Unary{
		Eval: func(a Attrs) func(float64) float64 {
			alpha := a.Float("alpha")
			return func(x float64) float64 {
				if x > 0 {
					return x
				}
				return alpha * x
			}
		},
		Go: func(x string, a Attrs) string {
			// Branch-free; Go's max and min propagate NaN like Eval.
			alpha := GoFloat(a.Float("alpha"))
			if al := a.Float("alpha"); al >= 0 && al <= 1 {
				return fmt.Sprintf("max(%s, float32(%s*float64(%[1]s)))", x, alpha)
			}
			return fmt.Sprintf("max(%s, 0) + float32(%s*float64(min(%[1]s, 0)))", x, alpha)
		},
		Monotone: func(a Attrs) bool { return a.Float("alpha") >= 0 },
		Go64: func(x string, a Attrs) string {
			return fmt.Sprintf("func(v float64) float64 { if v > 0 { return v }; return %s * v }(%s)", GoFloat(a.Float("alpha")), x)
		},
	}, AttrDef{Name: "alpha", Kind: AttrFloat, Default: 0.01, Doc: "slope for negative inputs"}))
	Register(unary("clip", "min(max(x, min), max); everything is max when min > max (torch.clamp)", &Unary{
		Eval: func(a Attrs) func(float64) float64 {
			lo, hi := a.Float("min"), a.Float("max")
			return func(x float64) float64 {
				// Comparisons, not math.Max: NaN passes through.
				if x < lo {
					x = lo
				}
				if x > hi {
					x = hi
				}
				return x
			}
		},
		Go: func(x string, a Attrs) string {
			// Go's min and max propagate NaN, as the comparisons do.
			e := "float64(" + x + ")"
			if lo := a.Float("min"); !math.IsInf(lo, -1) {
				e = "max(" + e + ", " + GoFloat(lo) + ")"
			}
			if hi := a.Float("max"); !math.IsInf(hi, 1) {
				e = "min(" + e + ", " + GoFloat(hi) + ")"
			}
			return "float32(" + e + ")"
		},
		Monotone: always,
		Go64: func(x string, a Attrs) string {
			e := x
			if lo := a.Float("min"); !math.IsInf(lo, -1) {
				e = "max(" + e + ", " + GoFloat(lo) + ")"
			}
			if hi := a.Float("max"); !math.IsInf(hi, 1) {
				e = "min(" + e + ", " + GoFloat(hi) + ")"
			}
			return e
		},
		Int: func(a Attrs) func(int64) int64 {
			lo, hi := ClipIntBounds(a)
			return func(x int64) int64 { return min(max(x, lo), hi) }
		},
		GoInt: func(x string, a Attrs) string {
			lo, hi := ClipIntBounds(a)
			return fmt.Sprintf("min(max(%s, %d), %d)", x, lo, hi)
		},
	},
		AttrDef{Name: "min", Kind: AttrFloat, Default: math.Inf(-1), Doc: "lower bound"},
		AttrDef{Name: "max", Kind: AttrFloat, Default: math.Inf(1), Doc: "upper bound"}))
	Register(unary("gelu", "x·Φ(x), Φ the normal CDF; approximate=\"tanh\" uses the tanh form (torch.nn.functional.gelu)", &Unary{
		Eval: func(a Attrs) func(float64) float64 {
			if a.String("approximate") == "tanh" {
				return func(x float64) float64 { return 0.5 * x * (1 + math.Tanh(geluBeta*(x+geluKappa*x*x*x))) }
			}
			return func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x*geluSqrtHalf)) }
		},
		Go: func(x string, a Attrs) string {
			v := "float64(" + x + ")"
			if a.String("approximate") == "tanh" {
				return fmt.Sprintf("float32(0.5 * %[1]s * (1 + @math.Tanh(%[2]s*(%[1]s+%[3]s*%[1]s*%[1]s*%[1]s))))", v, GoFloat(geluBeta), GoFloat(geluKappa))
			}
			return fmt.Sprintf("float32(0.5 * %[1]s * (1 + @math.Erf(%[1]s*%[2]s)))", v, GoFloat(geluSqrtHalf))
		},
		Go64: func(x string, a Attrs) string {
			v := "float64(" + x + ")"
			if a.String("approximate") == "tanh" {
				return fmt.Sprintf("0.5 * %[1]s * (1 + @math.Tanh(%[2]s*(%[1]s+%[3]s*%[1]s*%[1]s*%[1]s)))", v, GoFloat(geluBeta), GoFloat(geluKappa))
			}
			return fmt.Sprintf("0.5 * %[1]s * (1 + @math.Erf(%[1]s*%[2]s))", v, GoFloat(geluSqrtHalf))
		},
	}, AttrDef{Name: "approximate", Kind: AttrString, Default: "none", Enum: []string{"none", "tanh"}, Doc: `"none" (erf) or "tanh"`}))
	Register(view("identity", "returns its input"))
	do := view("dropout", "identity at inference")
	do.Attrs = []AttrDef{{Name: "p", Kind: AttrFloat, Default: 0.5, Doc: "drop probability during training"}}
	Register(do)
	Register(binary("add", "a + b with numpy broadcasting", &Binary{
		Float: func(a, b float64) float64 { return a + b },
		Int:   func(a, b int64) (int64, error) { return a + b, nil },
		Uint:  func(a, b uint64) (uint64, error) { return a + b, nil },
		Go:    func(a, b string) string { return a + " + " + b },

		Commutative: true,
	}))
	Register(binary("sub", "a - b with numpy broadcasting", &Binary{
		Float: func(a, b float64) float64 { return a - b },
		Int:   func(a, b int64) (int64, error) { return a - b, nil },
		Uint:  func(a, b uint64) (uint64, error) { return a - b, nil },
		Go:    func(a, b string) string { return a + " - " + b },
	}))
	Register(binary("mul", "a * b with numpy broadcasting", &Binary{
		Float: func(a, b float64) float64 { return a * b },
		Int:   func(a, b int64) (int64, error) { return a * b, nil },
		Uint:  func(a, b uint64) (uint64, error) { return a * b, nil },
		Go:    func(a, b string) string { return a + " * " + b },

		Commutative: true,
	}))
	Register(binary("div", "a / b with numpy broadcasting; integers truncate toward zero", &Binary{
		Float: func(a, b float64) float64 { return a / b },
		Int: func(a, b int64) (int64, error) {
			if b == 0 {
				return 0, fmt.Errorf("integer division by zero (%d / 0)", a)
			}
			return a / b, nil // MinInt64 / -1 wraps to MinInt64 in Go: no panic
		},
		Uint: func(a, b uint64) (uint64, error) {
			if b == 0 {
				return 0, fmt.Errorf("integer division by zero (%d / 0)", a)
			}
			return a / b, nil
		},
		Go: func(a, b string) string { return a + " / " + b },

		IntZeroFails: true,
	}))
}

// ClipIntBounds are clip's float bounds on integers: the smallest and
// largest int64 within them (an integer x is below min exactly when it is
// below ceil(min)). When min > max every result is max, as on floats.
func ClipIntBounds(a Attrs) (lo, hi int64) {
	toInt := func(f float64) int64 {
		switch {
		case f <= math.MinInt64:
			return math.MinInt64
		case f >= math.MaxInt64:
			return math.MaxInt64
		}
		return int64(f)
	}
	lo, hi = toInt(math.Ceil(a.Float("min"))), toInt(math.Floor(a.Float("max")))
	if lo > hi {
		lo = hi
	}
	return lo, hi
}

// view is an op whose output is its input under the same shape and dtype.
func view(name, doc string) *OpDef {
	return &OpDef{
		Name: name, Doc: doc, Class: Injective, Grad: &Grad{},
		Pure: Pure, View: true, Stream: StreamPointwise,
		Inputs:  []InputDef{{Name: "x", DTypes: AnyDType}},
		Outputs: []string{"y"},
		Infer:   sameType,
	}
}

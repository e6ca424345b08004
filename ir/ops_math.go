package ir

import "math"

// Element-wise math functions (torch.sqrt, torch.exp, ..., ONNX Sqrt,
// Exp, ...). Each is a Unary entry: Eval applies the float64 function and
// rounds once to float32, and the Go template does the same, so the
// interpreter and generated code agree bit for bit (except exp, which
// the generated code runs on its vectorized Act kernel, within the error
// bound codegen/kernels/act.go states). Trigonometric and hyperbolic
// functions are within an ulp of PyTorch's float32 results.

// mathFn is a math op: f is the scalar function and goFn the name of the
// same function in Go's math package. mono says f is non-decreasing and
// finite-in finite-out, so a fused conv may apply it after a max pool.
type mathFn struct {
	name, doc string
	f         func(float64) float64
	goFn      string
	mono      bool
}

// mathFns lists the ops. Domain errors give NaN (sqrt(-1), log(-1),
// acos(2)), ±0 keep their sign where the function is odd, as in PyTorch.
var mathFns = []mathFn{
	{"sqrt", "square root; NaN below 0, sqrt(-0) = -0 (torch.sqrt)", math.Sqrt, "Sqrt", false},
	{"exp", "e^x (torch.exp)", math.Exp, "Exp", true},
	{"log", "natural logarithm; -inf at ±0, NaN below 0 (torch.log)", math.Log, "Log", false},
	{"abs", "absolute value (torch.abs)", math.Abs, "Abs", false},
	{"floor", "largest integer ≤ x (torch.floor)", math.Floor, "Floor", true},
	{"ceil", "smallest integer ≥ x (torch.ceil)", math.Ceil, "Ceil", true},
	{"round", "nearest integer, halves to even (torch.round, ONNX Round)", math.RoundToEven, "RoundToEven", true},
	{"erf", "error function (torch.erf)", math.Erf, "Erf", true},
	{"sin", "sine (torch.sin)", math.Sin, "Sin", false},
	{"cos", "cosine (torch.cos)", math.Cos, "Cos", false},
	{"tan", "tangent (torch.tan)", math.Tan, "Tan", false},
	{"asin", "arcsine; NaN outside [-1, 1] (torch.asin)", math.Asin, "Asin", false},
	{"acos", "arccosine; NaN outside [-1, 1] (torch.acos)", math.Acos, "Acos", false},
	{"atan", "arctangent (torch.atan)", math.Atan, "Atan", true},
	{"sinh", "hyperbolic sine (torch.sinh)", math.Sinh, "Sinh", true},
	{"cosh", "hyperbolic cosine (torch.cosh)", math.Cosh, "Cosh", false},
	{"asinh", "inverse hyperbolic sine (torch.asinh)", math.Asinh, "Asinh", true},
	{"acosh", "inverse hyperbolic cosine; NaN below 1 (torch.acosh)", math.Acosh, "Acosh", false},
	{"atanh", "inverse hyperbolic tangent; ±inf at ±1, NaN outside (torch.atanh)", math.Atanh, "Atanh", false},
}

// sign is torch.sign: 1, -1 or 0; NaN and -0 give 0 (PyTorch computes
// (0 < x) - (x < 0); ONNX's tests have neither).
func sign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

func init() {
	for _, m := range mathFns {
		m := m
		u := &Unary{
			Eval: func(Attrs) func(float64) float64 { return m.f },
			Go:   func(x string, _ Attrs) string { return "float32(@math." + m.goFn + "(float64(" + x + ")))" },
			Go64: func(x string, _ Attrs) string { return "@math." + m.goFn + "(" + x + ")" },
		}
		if m.name == "abs" {
			// MinInt64 stays MinInt64, as fixed-width negation wraps.
			u.Int = func(Attrs) func(int64) int64 {
				return func(x int64) int64 { return max(x, -x) }
			}
			u.GoInt = func(x string, _ Attrs) string { return "func(v int64) int64 { return max(v, -v) }(" + x + ")" }
		}
		if m.mono {
			u.Monotone = always
		}
		Register(unary(m.name, m.doc, u))
	}
	Register(unary("neg", "-x (torch.neg)", &Unary{
		Eval:  func(Attrs) func(float64) float64 { return func(x float64) float64 { return -x } },
		Go:    func(x string, _ Attrs) string { return "-(" + x + ")" },
		Go64:  func(x string, _ Attrs) string { return "-(" + x + ")" },
		Int:   func(Attrs) func(int64) int64 { return func(x int64) int64 { return -x } },
		GoInt: func(x string, _ Attrs) string { return "-(" + x + ")" },
	}))
	Register(unary("reciprocal", "1 / x; ±inf at ±0 (torch.reciprocal)", &Unary{
		Eval: func(Attrs) func(float64) float64 { return func(x float64) float64 { return 1 / x } },
		Go:   func(x string, _ Attrs) string { return "float32(1 / float64(" + x + "))" },
		Go64: func(x string, _ Attrs) string { return "1 / (" + x + ")" },
	}))
	Register(unary("sign", "1 if x > 0, -1 if x < 0, else 0, NaN included (torch.sign)", &Unary{
		Eval: func(Attrs) func(float64) float64 { return sign },
		// A called literal keeps the template an expression; Go inlines it.
		Go: func(x string, _ Attrs) string {
			return "func(v float32) float32 { if v > 0 { return 1 }; if v < 0 { return -1 }; return 0 }(" + x + ")"
		},
		Go64: func(x string, _ Attrs) string {
			return "func(v float64) float64 { if v > 0 { return 1 }; if v < 0 { return -1 }; return 0 }(" + x + ")"
		},
		Int: func(Attrs) func(int64) int64 {
			return func(x int64) int64 { return int64(sign(float64(x))) }
		},
		GoInt: func(x string, _ Attrs) string {
			return "func(v int64) int64 { if v > 0 { return 1 }; if v < 0 { return -1 }; return 0 }(" + x + ")"
		},
		// Not Monotone: sign(NaN) = 0, so sign(max v) and max sign(v)
		// differ when a window holds a NaN.
	}))
}

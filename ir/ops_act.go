package ir

import (
	"fmt"
	"math"
)

// Activations (torch.nn.functional's hardsigmoid, hardswish, elu, selu,
// celu, softplus, softsign, mish, silu, threshold, hardshrink and
// softshrink; ONNX HardSigmoid, HardSwish, Elu, Selu, Celu, Softplus,
// Softsign, Mish, Swish, ThresholdedRelu, Shrink) as Unary entries, and
// prelu as a Binary one. Each scalar function is written twice, as Eval
// (float64, rounded once) and as the Go template (the same operations in
// the same order), so the interpreter and generated code agree bit for
// bit (hardsigmoid, hardswish and silu as element-wise ops and epilogues
// run on codegen's vectorized Act kernel instead, within the error bounds
// codegen/kernels/act.go states); the attribute names are PyTorch's
// where PyTorch has the argument.

// actFn is one activation: eval binds the attributes, body is the same
// function as Go statements over the float64 v ending in a return, with
// the attribute values written in as constants.
type actFn struct {
	name, doc string
	eval      func(a Attrs) func(float64) float64
	body      func(a Attrs) string
	mono      func(a Attrs) bool
	attrs     []AttrDef
}

// Attributes of the activations; the defaults are PyTorch's.
var (
	alphaAttr = func(def float64) AttrDef {
		return AttrDef{Name: "alpha", Kind: AttrFloat, Default: def, Doc: "scale of the negative part"}
	}
	lambdAttr = AttrDef{Name: "lambd", Kind: AttrFloat, Default: 0.5, Doc: "half-width of the interval sent to 0"}
)

// Go's builtin max and min treat NaN and ±0 as math.Max and math.Min do,
// so the templates use them.

// SELU's constants as torch.nn.SELU writes them (ONNX's defaults are the
// same numbers rounded to float32).
const (
	SeluAlpha = 1.6732632423543772848170429916717
	SeluGamma = 1.0507009873554804934193349852946
)

// softplus1 is log(1 + e^x), computed so that neither large nor very
// negative x loses it: max(x, 0) + log1p(e^-|x|).
func softplus1(x float64) float64 { return math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))) }

// goSoftplus1 is softplus1 as a Go expression of the float64 expression x.
func goSoftplus1(x string) string {
	return fmt.Sprintf("max(%[1]s, 0) + @math.Log1p(@math.Exp(-@math.Abs(%[1]s)))", x)
}

var actFns = []actFn{
	{name: "hardsigmoid", doc: "max(0, min(1, alpha·x + beta)); NaN stays NaN (torch.nn.functional.hardsigmoid: alpha 1/6; ONNX HardSigmoid)",
		eval: func(a Attrs) func(float64) float64 {
			al, be := a.Float("alpha"), a.Float("beta")
			return func(v float64) float64 { return math.Max(0, math.Min(1, al*v+be)) }
		},
		body: func(a Attrs) string {
			return fmt.Sprintf("return max(0, min(1, %s*v+%s))", GoFloat(a.Float("alpha")), GoFloat(a.Float("beta")))
		},
		mono: func(a Attrs) bool { return a.Float("alpha") >= 0 },
		attrs: []AttrDef{{Name: "alpha", Kind: AttrFloat, Default: 1.0 / 6, Doc: "slope"},
			{Name: "beta", Kind: AttrFloat, Default: 0.5, Doc: "offset"}}},
	{name: "hardswish", doc: "x·min(max(x + 3, 0), 6)/6 (torch.nn.functional.hardswish, ONNX HardSwish)",
		eval: func(Attrs) func(float64) float64 {
			return func(v float64) float64 { return v * math.Min(math.Max(v+3, 0), 6) / 6 }
		},
		body: func(Attrs) string { return "return v * min(max(v+3, 0), 6) / 6" }},
	{name: "elu", doc: "x if x > 0 else alpha·(e^x - 1) (torch.nn.functional.elu, ONNX Elu)",
		eval: func(a Attrs) func(float64) float64 {
			al := a.Float("alpha")
			return func(v float64) float64 {
				if v > 0 {
					return v
				}
				return al * math.Expm1(v)
			}
		},
		body: func(a Attrs) string {
			return fmt.Sprintf("if v > 0 { return v }; return %s * @math.Expm1(v)", GoFloat(a.Float("alpha")))
		},
		mono: func(a Attrs) bool { return a.Float("alpha") >= 0 }, attrs: []AttrDef{alphaAttr(1)}},
	{name: "selu", doc: "gamma·(x if x > 0 else alpha·(e^x - 1)), with SELU's constants by default (torch.nn.functional.selu, ONNX Selu)",
		eval: func(a Attrs) func(float64) float64 {
			al, ga := a.Float("alpha"), a.Float("gamma")
			return func(v float64) float64 {
				if v > 0 {
					return ga * v
				}
				return ga * (al * math.Expm1(v))
			}
		},
		body: func(a Attrs) string {
			ga := GoFloat(a.Float("gamma"))
			return fmt.Sprintf("if v > 0 { return %s * v }; return %[1]s * (%s * @math.Expm1(v))", ga, GoFloat(a.Float("alpha")))
		},
		mono: func(a Attrs) bool { return a.Float("alpha") >= 0 && a.Float("gamma") >= 0 },
		attrs: []AttrDef{{Name: "alpha", Kind: AttrFloat, Default: SeluAlpha, Doc: "scale of the negative part"},
			{Name: "gamma", Kind: AttrFloat, Default: SeluGamma, Doc: "scale of the result"}}},
	{name: "celu", doc: "x if x > 0 else alpha·(e^(x/alpha) - 1) (torch.nn.functional.celu, ONNX Celu)",
		eval: func(a Attrs) func(float64) float64 {
			al := a.Float("alpha")
			return func(v float64) float64 {
				if v > 0 {
					return v
				}
				return al * math.Expm1(v/al)
			}
		},
		body: func(a Attrs) string {
			return fmt.Sprintf("if v > 0 { return v }; return %[1]s * @math.Expm1(v/%[1]s)", GoFloat(a.Float("alpha")))
		},
		mono: func(a Attrs) bool { return a.Float("alpha") > 0 }, attrs: []AttrDef{alphaAttr(1)}},
	{name: "softplus", doc: "log(1 + e^(beta·x))/beta, x where beta·x > threshold (torch.nn.functional.softplus; ONNX Softplus is beta 1)",
		eval: func(a Attrs) func(float64) float64 {
			be, th := a.Float("beta"), a.Float("threshold")
			return func(v float64) float64 {
				if b := be * v; b > th {
					return v
				} else {
					return softplus1(b) / be
				}
			}
		},
		body: func(a Attrs) string {
			return fmt.Sprintf("b := %s * v; if b > %s { return v }; return (%s) / %[1]s",
				GoFloat(a.Float("beta")), GoFloat(a.Float("threshold")), goSoftplus1("b"))
		},
		mono: func(a Attrs) bool { return a.Float("beta") > 0 },
		attrs: []AttrDef{{Name: "beta", Kind: AttrFloat, Default: 1.0, Doc: "sharpness"},
			{Name: "threshold", Kind: AttrFloat, Default: 20.0, Doc: "above it (beta·x), the result is x"}}},
	{name: "softsign", doc: "x / (1 + |x|); NaN at ±inf, as computed (torch.nn.functional.softsign, ONNX Softsign)",
		eval: func(Attrs) func(float64) float64 { return func(v float64) float64 { return v / (1 + math.Abs(v)) } },
		body: func(Attrs) string { return "return v / (1 + @math.Abs(v))" }},
	{name: "mish", doc: "x·tanh(log(1 + e^x)) (torch.nn.functional.mish, ONNX Mish)",
		eval: func(Attrs) func(float64) float64 {
			return func(v float64) float64 { return v * math.Tanh(softplus1(v)) }
		},
		body: func(Attrs) string { return "return v * @math.Tanh(" + goSoftplus1("v") + ")" }},
	{name: "silu", doc: "x·sigmoid(alpha·x) (torch.nn.functional.silu with alpha 1; ONNX Swish)",
		eval: func(a Attrs) func(float64) float64 {
			al := a.Float("alpha")
			return func(v float64) float64 { return v / (1 + math.Exp(-(al * v))) }
		},
		body: func(a Attrs) string {
			return fmt.Sprintf("return v / (1 + @math.Exp(-(%s * v)))", GoFloat(a.Float("alpha")))
		},
		attrs: []AttrDef{{Name: "alpha", Kind: AttrFloat, Default: 1.0, Doc: "scale inside the sigmoid"}}},
	{name: "threshold", doc: "x if x > threshold else value; NaN stays NaN (torch.nn.functional.threshold; ONNX ThresholdedRelu is value 0)",
		eval: func(a Attrs) func(float64) float64 {
			th, va := a.Float("threshold"), a.Float("value")
			return func(v float64) float64 {
				if v <= th {
					return va
				}
				return v
			}
		},
		body: func(a Attrs) string {
			return fmt.Sprintf("if v <= %s { return %s }; return v", GoFloat(a.Float("threshold")), GoFloat(a.Float("value")))
		},
		mono: func(a Attrs) bool { return a.Float("value") <= a.Float("threshold") },
		attrs: []AttrDef{{Name: "threshold", Kind: AttrFloat, Default: 1.0, Doc: "inputs at or below it become value (1 as in ONNX ThresholdedRelu; torch has no default)"},
			{Name: "value", Kind: AttrFloat, Default: 0.0, Doc: "the replacement"}}},
	{name: "shrink", doc: "0 on [-lambd, lambd], x + bias below, x - bias above; NaN stays NaN (ONNX Shrink; torch hardshrink is bias 0, softshrink bias lambd)",
		eval: func(a Attrs) func(float64) float64 {
			l, b := a.Float("lambd"), a.Float("bias")
			return func(v float64) float64 {
				switch {
				case v < -l:
					return v + b
				case v > l:
					return v - b
				case v == v:
					return 0
				}
				return v
			}
		},
		body: func(a Attrs) string {
			l, b := GoFloat(a.Float("lambd")), GoFloat(a.Float("bias"))
			return fmt.Sprintf("if v < -(%[1]s) { return v + %[2]s }; if v > %[1]s { return v - %[2]s }; if v == v { return 0 }; return v", l, b)
		},
		mono:  func(a Attrs) bool { return a.Float("lambd") >= 0 && a.Float("bias") <= a.Float("lambd") },
		attrs: []AttrDef{lambdAttr, {Name: "bias", Kind: AttrFloat, Default: 0.0, Doc: "moved toward 0 outside the interval"}}},
}

func init() {
	for _, f := range actFns {
		f := f
		u := &Unary{
			Eval: f.eval,
			// A called literal keeps the template an expression; it is
			// the same statements as eval, so the results are the same.
			Go: func(x string, a Attrs) string {
				return "float32(func(v float64) float64 { " + f.body(a) + " }(float64(" + x + ")))"
			},
			Go64: func(x string, a Attrs) string {
				return "func(v float64) float64 { " + f.body(a) + " }(" + x + ")"
			},
			Monotone: f.mono,
		}
		Register(unary(f.name, f.doc, u, f.attrs...))
	}
	p := binary("prelu", "x if x > 0 else slope·x, slope broadcast to x (torch.nn.functional.prelu, ONNX PRelu)", &Binary{
		Float: func(x, s float64) float64 {
			if x > 0 {
				return x
			}
			return s * x
		},
		Int: func(x, s int64) (int64, error) {
			if x > 0 {
				return x, nil
			}
			return s * x, nil
		},
		Go: func(x, s string) string {
			return "func(x, s float32) float32 { if x > 0 { return x }; return s * x }(" + x + ", " + s + ")"
		},
		Go64: func(x, s string) string {
			return "func(x, s float64) float64 { if x > 0 { return x }; return s * x }(" + x + ", " + s + ")"
		},
	})
	p.Inputs = []InputDef{{Name: "x", DTypes: F32F64}, {Name: "slope", Param: true, DTypes: F32F64}}
	Register(p)
}

// Pow, maximum and minimum: broadcasting Binary entries (torch.pow,
// torch.maximum, torch.minimum; ONNX Pow, and the variadic Max, Min as
// chains of them).
func init() {
	pow := binary("pow", "a^b with numpy broadcasting, as C's pow (torch.pow): 0^0 = 1, x^0 = 1 even for NaN, a negative base with an integer-valued exponent is real, with a fractional one NaN", &Binary{
		Float: math.Pow,
		Int:   func(a, b int64) (int64, error) { return powInt(a, b), nil },
		Go:    func(a, b string) string { return "float32(@math.Pow(float64(" + a + "), float64(" + b + ")))" },
		Go64:  func(a, b string) string { return "@math.Pow(" + a + ", " + b + ")" },
		GoInt: func(a, b string) string { return goPowInt + "(" + a + ", " + b + ")" },
	})
	// Not f16 or bf16: f32's template would round twice.
	dts := SetOf(F32, F64) | UnaryIntDTypes
	pow.Inputs = []InputDef{{Name: "a", DTypes: dts}, {Name: "b", DTypes: dts}}
	Register(pow)
	Register(binary("maximum", "the larger of a and b with numpy broadcasting; NaN if either is NaN (torch.maximum, ONNX Max)", &Binary{
		Float: NaNMax,
		Int:   func(a, b int64) (int64, error) { return max(a, b), nil },
		Uint:  func(a, b uint64) (uint64, error) { return max(a, b), nil },
		// Go's max propagates NaN and orders -0 below +0, as math.Max.
		Go:          func(a, b string) string { return "max(" + a + ", " + b + ")" },
		Commutative: true,
	}))
	Register(binary("minimum", "the smaller of a and b with numpy broadcasting; NaN if either is NaN (torch.minimum, ONNX Min)", &Binary{
		Float:       NaNMin,
		Int:         func(a, b int64) (int64, error) { return min(a, b), nil },
		Uint:        func(a, b uint64) (uint64, error) { return min(a, b), nil },
		Go:          func(a, b string) string { return "min(" + a + ", " + b + ")" },
		Commutative: true,
	}))
}

// goPowInt is powInt as a Go function literal (generated code).
const goPowInt = "func(a, b int64) int64 { if b < 0 { switch { case a == 1: return 1; case a == -1 && b%2 != 0: return -1; case a == -1: return 1 }; return 0 }; r := int64(1); for ; b > 0; b >>= 1 { if b&1 != 0 { r *= a }; a *= a }; return r }"

// powInt is torch.pow on integers (for when the op takes them): by
// squaring, wrapping; a negative exponent gives 1 for base 1, ±1 for -1
// and 0 otherwise.
func powInt(a, b int64) int64 {
	if b < 0 {
		switch {
		case a == 1:
			return 1
		case a == -1 && b%2 != 0:
			return -1
		case a == -1:
			return 1
		}
		return 0
	}
	r := int64(1)
	for ; b > 0; b >>= 1 {
		if b&1 != 0 {
			r *= a
		}
		a *= a
	}
	return r
}

// NaNMax is Go's builtin max on float64: NaN if either is NaN (math.Max
// returns +Inf for max(+Inf, NaN)), and +0 above -0. Generated code uses
// the builtin, so the interpreter must too.
func NaNMax(a, b float64) float64 { return max(a, b) }

// NaNMin is Go's builtin min on float64: NaN if either is NaN, -0 below +0.
func NaNMin(a, b float64) float64 { return min(a, b) }

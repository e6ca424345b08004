package codegen

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// cast, and the conversions generated code needs between a dtype's
// storage and arithmetic: f16 and bf16 are stored as uint16 bits and
// computed in float32 or float64. The helpers mirror ir's conversions
// (ir.F16Bits, ir.FloatToInt, ...) so generated code and the interpreter
// agree bit for bit.

func init() {
	register("cast", emitter{emit: emitCast})
	helperSource["f16val"] = `// f16val is the value of IEEE 754 binary16 bits (exact in float32).
func f16val(h uint16) float32 {
	e, m := int(h>>10)&0x1f, float64(h&0x3ff)
	var v float64
	switch {
	case e == 0x1f && m != 0:
		return float32(@math.NaN())
	case e == 0x1f:
		v = @math.Inf(1)
	case e == 0:
		v = @math.Ldexp(m, -24)
	default:
		v = @math.Ldexp(m+1024, e-25)
	}
	if h&0x8000 != 0 {
		v = -v
	}
	return float32(v)
}`
	helperSource["bf16val"] = `// bf16val is the value of bfloat16 bits: the top half of a float32.
func bf16val(h uint16) float32 { return @math.Float32frombits(uint32(h) << 16) }`
	helperSource["roundhalf"] = `// roundhalf rounds v to the nearest value (ties to even) of the binary
// format with e exponent and m mantissa bits (5, 10: f16; 8, 7: bf16) and
// returns its bits. Overflow gives ±Inf; NaN stays a quiet NaN.
func roundhalf(v float64, e, m uint) uint16 {
	b := @math.Float64bits(v)
	sign := uint32(b>>63) << (e + m)
	expAll := uint32(1)<<e - 1
	switch {
	case v != v:
		return uint16(sign | expAll<<m | 1<<(m-1) | uint32(b>>(52-m+1))&(1<<(m-1)-1))
	case @math.IsInf(v, 0):
		return uint16(sign | expAll<<m)
	}
	bias := int(1)<<(e-1) - 1
	ex := int(b>>52&0x7ff) - 1023
	if ex == -1023 {
		return uint16(sign)
	}
	mant := b&(1<<52-1) | 1<<52
	te, shift := ex+bias, 52-m
	if te < 1 {
		shift += uint(1 - te)
		te = 0
	}
	if shift >= 64 {
		return uint16(sign)
	}
	r := mant >> shift
	if rem, half := mant&(1<<shift-1), uint64(1)<<(shift-1); rem > half || rem == half && r&1 == 1 {
		r++
	}
	if te == 0 {
		return uint16(sign | uint32(r))
	}
	if r == 1<<(m+1) {
		r >>= 1
		te++
	}
	if te >= int(expAll) {
		return uint16(sign | expAll<<m)
	}
	return uint16(sign | uint32(te)<<m | uint32(r)&(1<<m-1))
}`
	helperSource["satint"] = `// satint converts v to an integer in [lo, hi]: toward zero, NaN to 0,
// beyond the range saturated (dlc's rule for float to integer casts).
func satint(v float64, lo, hi int64) int64 {
	switch {
	case v != v:
		return 0
	case v <= float64(lo):
		return lo
	case v >= float64(hi):
		return hi
	}
	return int64(v)
}`
	helperSource["satu64"] = `// satu64 is satint for uint64.
func satu64(v float64) uint64 {
	switch {
	case v != v || v <= 0:
		return 0
	case v >= 1<<64:
		return 1<<64 - 1
	}
	return uint64(v)
}`
	helperSource["b2i"] = `// b2i is 1 for true, 0 for false.
func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}`
}

// computeExpr is the Go expression of x, a stored element of dtype dt, in
// the type arithmetic uses: float32 for f16, bf16 and the low-precision
// floats, int64 for bool.
func computeExpr(dt ir.DType, x string) string {
	if ir.LowFloats.Has(dt) {
		return lowValExpr(dt, x) // quant.go
	}
	switch dt {
	case ir.F16:
		return "f16val(" + x + ")"
	case ir.BF16:
		return "bf16val(" + x + ")"
	case ir.Bool:
		return "b2i(" + x + ")"
	}
	return x
}

// storeExpr converts v, a float64 expression, to the storage of a float
// dtype dt, rounding once.
func storeExpr(dt ir.DType, v string) string {
	switch dt {
	case ir.F16:
		return "roundhalf(" + v + ", 5, 10)"
	case ir.BF16:
		return "roundhalf(" + v + ", 8, 7)"
	}
	return elemType(dt) + "(" + v + ")"
}

// castExpr is the Go expression converting x, an element of dtype from, to
// dtype to, by ir.Convert's rules.
func castExpr(from, to ir.DType, x string) string { return castExprMode(from, to, x, ir.CastMode{}) }

// castExprMode is castExpr by ir.ConvertMode's rules.
func castExprMode(from, to ir.DType, x string, mode ir.CastMode) string {
	if from == to {
		return x
	}
	v := computeExpr(from, x)
	switch {
	case ir.LowFloats.Has(to):
		return lowBitsExpr(to, "float64("+v+")", mode) // quant.go
	case ir.LowInts.Has(to) && from.IsFloat():
		return lowIntExpr(to, "satint(float64("+v+"), -1<<63, 1<<63-1)")
	case ir.LowInts.Has(to):
		return lowIntExpr(to, "int64("+v+")")
	case to == ir.Bool:
		return v + " != 0"
	case to.IsFloat() && (to == ir.F16 || to == ir.BF16):
		return storeExpr(to, "float64("+v+")")
	case to.IsFloat():
		return elemType(to) + "(" + v + ")"
	case from.IsFloat() && to == ir.U64:
		return "satu64(float64(" + v + "))"
	case from.IsFloat():
		lo, hi := ir.IntRange(to)
		return fmt.Sprintf("%s(satint(float64(%s), %d, %d))", elemType(to), v, lo, hi)
	}
	return elemType(to) + "(" + v + ")" // integer to integer: wraps, as Go converts
}

func emitCast(k *kctx) error {
	from, to := k.n.Inputs[0].Type.DType, k.n.Out().Type.DType
	k.l("for i := range %d {", k.outShape(0).NumElems())
	k.l("y[i] = %s", castExprMode(from, to, "x[i]", ir.CastMode{NoSaturate: k.n.Attrs.Bool("no_saturate"), Round: k.n.Attrs.String("round")}))
	k.l("}")
	return nil
}

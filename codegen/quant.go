package codegen

import (
	"fmt"
	"math"
	"strings"

	"github.com/dlcompiler/dlc/ir"
)

// The low-precision dtypes in generated code, and the quantization ops.
//
// Generated code stores the float8, float4 and e8m0 dtypes as their raw
// bits in uint8, int4 and int2 as their value in int8, uint4 and uint2 as
// their value in uint8 (ir's storage, one element a byte). Values are
// decoded through a 256-entry table made from ir.LowFloatValue, and
// encoded by lowbits and e8m0bits, which mirror ir.LowFloatBits line for
// line, so generated code and the interpreter agree bit for bit.

func init() {
	for _, dt := range ir.DTypes() {
		if ir.LowFloats.Has(dt) {
			name := lowValName(dt)
			helperSource[name] = lowValHelper(dt)
			reserved[name], reserved[name+"Tab"] = true, true
		}
	}
	reserved["lowbits"], reserved["e8m0bits"] = true, true
	helperSource["lowbits"] = `// lowbits rounds v to nearest even in a float format of at most 8 bits
// (m mantissa bits, exponent bias, largest finite magnitude maxCode, sign
// bit) and returns its bits, as ir.LowFloatBits: beyond maxCode ±max when
// sat (always for f4, which has no NaN), else Inf (inf) or NaN; uz
// formats have no -0 and 0x80 as their one NaN; f4 NaN is 0x8.
func lowbits(v float64, m uint, bias int, maxCode, sgn uint32, inf, uz, f4, sat bool) uint8 {
	var sign uint32
	if @math.Signbit(v) {
		sign = sgn
	}
	over := func() uint8 {
		switch {
		case sat || f4:
			return uint8(sign | maxCode)
		case inf:
			return uint8(sign | (maxCode + 1))
		case uz:
			return uint8(sgn)
		}
		return uint8(sign | 0x7f)
	}
	switch {
	case v != v:
		switch {
		case uz || f4:
			return uint8(sgn)
		case inf:
			return uint8(sign | 0x7e)
		}
		return uint8(sign | 0x7f)
	case @math.IsInf(v, 0):
		return over()
	}
	a := @math.Abs(v)
	if a == 0 {
		if uz {
			return 0
		}
		return uint8(sign)
	}
	_, exp := @math.Frexp(a)
	e := max(exp-1+bias, 1)
	if e > int(maxCode)+2 {
		return over()
	}
	code := uint32(e-1)<<m + uint32(@math.RoundToEven(@math.Ldexp(a, int(m)+bias-e)))
	switch {
	case code > maxCode:
		return over()
	case code == 0 && uz:
		return 0
	}
	return uint8(sign | code)
}`
	helperSource["e8m0bits"] = `// e8m0bits converts v to float8e8m0 bits as ir.LowFloatBits does: the
// float32 exponent, raised by the rounding mode (0 up, 1 down, 2
// nearest), saturated at 0xFE when sat; NaN and ±Inf give 0xFF.
func e8m0bits(v float64, sat bool, mode int) uint8 {
	b := @math.Float32bits(float32(v))
	e := b >> 23 & 0xff
	if e == 0xff {
		return 0xff
	}
	var up bool
	switch mode {
	case 2:
		up = b&0x400000 != 0 && (b&0x200000 != 0 || b&0x1fffff != 0 || e > 0)
	case 1:
	default:
		up = b&0x7fffff != 0
		if e == 0 {
			up = b&0x7fffff > 0x400000
		}
	}
	if up && !(sat && e == 0xfe) {
		e++
	}
	return uint8(e)
}`
}

// lowValName is the helper decoding bits of low float dtype dt.
func lowValName(dt ir.DType) string { return dt.String() + "val" }

// lowValHelper is the source of dt's decoding helper and its table.
func lowValHelper(dt ir.DType) string {
	name := lowValName(dt)
	n := 256
	if dt == ir.F4E2M1 {
		n = 16
	}
	var b strings.Builder
	fmt.Fprintf(&b, "// %s is the value of %v bits, from a table of float32 bits\n// (any NaN is the quiet NaN 0x7fc00000).\n", name, dt)
	fmt.Fprintf(&b, "func %s(b uint8) float32 { return @math.Float32frombits(%sTab[b&%#x]) }\n\n", name, name, n-1)
	fmt.Fprintf(&b, "var %sTab = [%d]uint32{", name, n)
	for i := range n {
		if i%8 == 0 {
			b.WriteString("\n")
		}
		v := ir.LowFloatValue(dt, uint8(i))
		bits := math.Float32bits(float32(v))
		if math.IsNaN(v) {
			bits = 0x7fc00000
		}
		fmt.Fprintf(&b, "%#08x, ", bits)
	}
	b.WriteString("\n}")
	return b.String()
}

// lowValExpr is the float32 value of x, bits of low float dtype dt.
func lowValExpr(dt ir.DType, x string) string { return lowValName(dt) + "(" + x + ")" }

// lowBitsExpr converts v, a float64 expression, to the bits of low float
// dtype dt by ir.LowFloatBits with mode's options.
func lowBitsExpr(dt ir.DType, v string, mode ir.CastMode) string {
	sat := !mode.NoSaturate
	if dt == ir.F8E8M0 {
		m := map[string]int{"": 0, "up": 0, "down": 1, "nearest": 2}[mode.Round]
		return fmt.Sprintf("e8m0bits(%s, %v, %d)", v, sat, m)
	}
	p := lowParams[dt]
	return fmt.Sprintf("lowbits(%s, %d, %d, %#x, %#x, %v, %v, %v, %v)", v, p.m, p.bias, p.maxCode, p.sign, p.inf, p.uz, dt == ir.F4E2M1, sat)
}

// lowParams are the formats' constants, as in ir/lowp.go's formatOf.
var lowParams = map[ir.DType]struct {
	m             uint
	bias          int
	maxCode, sign uint32
	inf, uz       bool
}{
	ir.F8E4M3FN:   {3, 7, 0x7e, 0x80, false, false},
	ir.F8E4M3FNUZ: {3, 8, 0x7f, 0x80, false, true},
	ir.F8E5M2:     {2, 15, 0x7b, 0x80, true, false},
	ir.F8E5M2FNUZ: {2, 16, 0x7f, 0x80, false, true},
	ir.F4E2M1:     {1, 1, 0x7, 0x8, false, false},
}

// lowIntExpr wraps v, an int64 expression, to small integer dtype dt.
func lowIntExpr(dt ir.DType, v string) string {
	switch dt {
	case ir.I4:
		return "int8((" + v + ")<<60>>60)"
	case ir.I2:
		return "int8((" + v + ")<<62>>62)"
	case ir.U4:
		return "uint8((" + v + ")&0xf)"
	}
	return "uint8((" + v + ")&3)"
}

// storageNote tells the user of a generated API how a value of dtype dt
// is stored, for the dtypes whose Go type does not say it.
func storageNote(dt ir.DType) string {
	switch {
	case ir.LowFloats.Has(dt):
		return " (stored as its uint8 bits, one element a byte)"
	case ir.LowInts.Has(dt):
		return " (one value a byte, not packed)"
	}
	return ""
}

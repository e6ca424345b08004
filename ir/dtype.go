package ir

import (
	"math"
	"strconv"
	"strings"
)

// DType is the element type of a tensor. Every property of a dtype (its
// spellings, size, Go types, arithmetic kind) lives in one row of the
// dtypes table below; code that needs one reads the table through Info
// rather than switching on dtype constants.
type DType uint8

// The element types. F32 and I64 keep their historical numbers.
const (
	F32 DType = iota + 1
	I64
	F64
	F16
	BF16
	I8
	I16
	I32
	U8
	U16
	U32
	U64
	Bool
	// The low-precision dtypes (ONNX 1.14 to 1.20; see lowp.go). Each
	// element takes one byte in memory: float8, float4 and e8m0 as their
	// raw bits (uint8), int4 and int2 as their value (int8), uint4 and
	// uint2 as their value (uint8). Only ONNX tensor data packs the 4- and
	// 2-bit ones, two or four to a byte.
	F8E4M3FN
	F8E4M3FNUZ
	F8E5M2
	F8E5M2FNUZ
	U4
	I4
	F4E2M1
	F8E8M0
	U2
	I2
)

// Kind is how a dtype's values compute: as floats, signed or unsigned
// integers, or booleans.
type Kind uint8

// The kinds of dtype.
const (
	KindFloat Kind = iota + 1
	KindInt
	KindUint
	KindBool
)

// DTypeInfo is one row of the dtype table.
type DTypeInfo struct {
	Name        string // .dl spelling and ir printer name: "f32", "i32", "bool"
	ONNX        int32  // ONNX TensorProto.DataType number
	Safetensors string // safetensors header spelling: "F32", "BOOL"
	Numpy       string // .npy descr: "<f4", "|b1"; "" when numpy has no such type
	Size        int    // bytes per element, in memory and on disk
	Storage     string // Go type of one stored element: "float32", "uint16" (f16/bf16 bits)
	Kind        Kind
	Compute     string // Go type arithmetic is done in: "float32" for f16/bf16
}

// dtypes is the dtype table, indexed by DType. numpy has no bfloat16, so
// bf16 has no .npy spelling.
var dtypes = [...]DTypeInfo{
	F32:  {"f32", 1, "F32", "<f4", 4, "float32", KindFloat, "float32"},
	I64:  {"i64", 7, "I64", "<i8", 8, "int64", KindInt, "int64"},
	F64:  {"f64", 11, "F64", "<f8", 8, "float64", KindFloat, "float64"},
	F16:  {"f16", 10, "F16", "<f2", 2, "uint16", KindFloat, "float32"},
	BF16: {"bf16", 16, "BF16", "", 2, "uint16", KindFloat, "float32"},
	I8:   {"i8", 3, "I8", "|i1", 1, "int8", KindInt, "int8"},
	I16:  {"i16", 5, "I16", "<i2", 2, "int16", KindInt, "int16"},
	I32:  {"i32", 6, "I32", "<i4", 4, "int32", KindInt, "int32"},
	U8:   {"u8", 2, "U8", "|u1", 1, "uint8", KindUint, "uint8"},
	U16:  {"u16", 4, "U16", "<u2", 2, "uint16", KindUint, "uint16"},
	U32:  {"u32", 12, "U32", "<u4", 4, "uint32", KindUint, "uint32"},
	U64:  {"u64", 13, "U64", "<u8", 8, "uint64", KindUint, "uint64"},
	Bool: {"bool", 9, "BOOL", "|b1", 1, "bool", KindBool, "bool"},
	// numpy has none of the low-precision types (ml_dtypes adds them as
	// opaque void types), and safetensors only the float8 ones.
	F8E4M3FN:   {"f8e4m3fn", 17, "F8_E4M3", "", 1, "uint8", KindFloat, "float32"},
	F8E4M3FNUZ: {"f8e4m3fnuz", 18, "", "", 1, "uint8", KindFloat, "float32"},
	F8E5M2:     {"f8e5m2", 19, "F8_E5M2", "", 1, "uint8", KindFloat, "float32"},
	F8E5M2FNUZ: {"f8e5m2fnuz", 20, "", "", 1, "uint8", KindFloat, "float32"},
	U4:         {"u4", 21, "", "", 1, "uint8", KindUint, "uint8"},
	I4:         {"i4", 22, "", "", 1, "int8", KindInt, "int8"},
	F4E2M1:     {"f4e2m1", 23, "", "", 1, "uint8", KindFloat, "float32"},
	F8E8M0:     {"f8e8m0", 24, "F8_E8M0", "", 1, "uint8", KindFloat, "float32"},
	U2:         {"u2", 25, "", "", 1, "uint8", KindUint, "uint8"},
	I2:         {"i2", 26, "", "", 1, "int8", KindInt, "int8"},
}

// DTypes lists every dtype, in table order.
func DTypes() []DType {
	var out []DType
	for d := range dtypes {
		if dtypes[d].Name != "" {
			out = append(out, DType(d))
		}
	}
	return out
}

// Info returns the dtype's table row, or ok false for a value outside the
// table.
func (d DType) Info() (DTypeInfo, bool) {
	if int(d) >= len(dtypes) || dtypes[d].Name == "" {
		return DTypeInfo{}, false
	}
	return dtypes[d], true
}

// Valid reports whether d is a dtype of the table.
func (d DType) Valid() bool { _, ok := d.Info(); return ok }

// String returns the .dl spelling of the dtype ("f32", "i64").
func (d DType) String() string {
	if info, ok := d.Info(); ok {
		return info.Name
	}
	return "dtype(" + strconv.Itoa(int(d)) + ")"
}

// Size is the number of bytes one element occupies (0 outside the table).
func (d DType) Size() int { info, _ := d.Info(); return info.Size }

// Kind is the dtype's arithmetic kind (0 outside the table).
func (d DType) Kind() Kind { info, _ := d.Info(); return info.Kind }

// IsFloat reports whether d is a floating-point dtype.
func (d DType) IsFloat() bool { return d.Kind() == KindFloat }

// IsInt reports whether d is a signed or unsigned integer dtype.
func (d DType) IsInt() bool { return d.Kind() == KindInt || d.Kind() == KindUint }

// ParseDType parses a .dl dtype spelling ("f32", "i64", "bool", ...).
func ParseDType(s string) (DType, bool) {
	return lookup(func(i DTypeInfo) bool { return i.Name == s })
}

// DTypeFromONNX returns the dtype of an ONNX TensorProto.DataType number.
func DTypeFromONNX(n int32) (DType, bool) {
	return lookup(func(i DTypeInfo) bool { return i.ONNX == n })
}

// DTypeFromSafetensors returns the dtype of a safetensors spelling ("F32").
func DTypeFromSafetensors(s string) (DType, bool) {
	return lookup(func(i DTypeInfo) bool { return i.Safetensors == s })
}

// DTypeFromNumpy returns the dtype of an .npy descr ("<f4", "|b1"). Byte
// order marks that do not matter for one-byte types ("|i1", "<i1", "i1")
// are all accepted.
func DTypeFromNumpy(s string) (DType, bool) {
	if len(s) == 3 && s[2] == '1' && (s[0] == '<' || s[0] == '>' || s[0] == '=') {
		s = "|" + s[1:]
	} else if len(s) == 2 && s[1] == '1' {
		s = "|" + s
	}
	return lookup(func(i DTypeInfo) bool { return i.Numpy != "" && i.Numpy == s })
}

func lookup(match func(DTypeInfo) bool) (DType, bool) {
	for d, info := range dtypes {
		if info.Name != "" && match(info) {
			return DType(d), true
		}
	}
	return 0, false
}

// F16Bits rounds v to the nearest IEEE 754 binary16 value (ties to even)
// and returns its bits. Values beyond the largest finite f16 become ±Inf;
// NaN stays NaN (quiet, sign kept).
func F16Bits(v float64) uint16 { return uint16(roundMini(v, 5, 10)) }

// BF16Bits rounds v to the nearest bfloat16 value (ties to even) and
// returns its bits, with the same overflow and NaN rules as F16Bits.
func BF16Bits(v float64) uint16 { return uint16(roundMini(v, 8, 7)) }

// F16Value returns the value of binary16 bits, exactly.
func F16Value(h uint16) float64 { return miniValue(uint32(h), 5, 10) }

// BF16Value returns the value of bfloat16 bits, exactly.
func BF16Value(h uint16) float64 { return float64(math.Float32frombits(uint32(h) << 16)) }

// roundMini rounds v directly (no intermediate float32, so no double
// rounding) to a binary format with e exponent and m mantissa bits.
func roundMini(v float64, e, m uint) uint32 {
	b := math.Float64bits(v)
	sign := uint32(b>>63) << (e + m)
	expAll := uint32(1)<<e - 1
	switch {
	case math.IsNaN(v):
		payload := uint32(b>>(52-m+1)) & (1<<(m-1) - 1)
		return sign | expAll<<m | 1<<(m-1) | payload
	case math.IsInf(v, 0):
		return sign | expAll<<m
	}
	bias := int(1)<<(e-1) - 1
	ex := int(b>>52&0x7ff) - 1023
	mant := b & (1<<52 - 1)
	if ex == -1023 { // float64 subnormal: far below every target's range
		return sign
	}
	mant |= 1 << 52
	te := ex + bias
	shift := 52 - m
	if te < 1 { // target subnormal: shift further right
		shift += uint(1 - te)
		te = 0
	}
	if shift >= 64 {
		return sign
	}
	r := mant >> shift
	rem, half := mant&(1<<shift-1), uint64(1)<<(shift-1)
	if rem > half || rem == half && r&1 == 1 {
		r++
	}
	if te == 0 { // subnormal (a carry into bit m is the smallest normal)
		return sign | uint32(r)
	}
	if r == 1<<(m+1) {
		r >>= 1
		te++
	}
	if te >= int(expAll) {
		return sign | expAll<<m
	}
	return sign | uint32(te)<<m | uint32(r)&(1<<m-1)
}

// miniValue decodes bits of a binary format with e exponent and m mantissa
// bits.
func miniValue(h uint32, e, m uint) float64 {
	neg := h>>(e+m)&1 == 1
	expAll := uint32(1)<<e - 1
	ex := h >> m & expAll
	mant := h & (1<<m - 1)
	bias := int(1)<<(e-1) - 1
	var v float64
	switch {
	case ex == expAll && mant != 0:
		v = math.NaN()
	case ex == expAll:
		v = math.Inf(1)
	case ex == 0:
		v = math.Ldexp(float64(mant), 1-bias-int(m))
	default:
		v = math.Ldexp(float64(mant|1<<m), int(ex)-bias-int(m))
	}
	if neg {
		v = -v
	}
	return v
}

// DTypeSet is a set of dtypes: what an op input accepts.
type DTypeSet uint32

// SetOf returns the set of the given dtypes.
func SetOf(dts ...DType) DTypeSet {
	var s DTypeSet
	for _, d := range dts {
		s |= 1 << d
	}
	return s
}

// Named dtype sets for op input constraints.
var (
	OnlyF32  = SetOf(F32)
	Floats   = SetOf(F32, F64, F16, BF16)
	Integers = SetOf(I8, I16, I32, I64, U8, U16, U32, U64)
	Indices  = SetOf(I32, I64)
	Numbers  = Floats | Integers
	AnyDType = Numbers | SetOf(Bool)
	// LowFloats are the float8, float4 and e8m0 dtypes, stored as bits.
	LowFloats = SetOf(F8E4M3FN, F8E4M3FNUZ, F8E5M2, F8E5M2FNUZ, F4E2M1, F8E8M0)
	// LowInts are the 4- and 2-bit integers, stored one to a byte.
	LowInts = SetOf(U4, I4, U2, I2)
	// LowPrecision is every low-precision dtype: only casts and the
	// quantization ops (ops_quant.go) take them.
	LowPrecision = LowFloats | LowInts
	// AllDTypes is every dtype of the table.
	AllDTypes = AnyDType | LowPrecision
)

// Has reports whether d is in the set.
func (s DTypeSet) Has(d DType) bool { return d < 32 && s&(1<<d) != 0 }

// String lists the set's dtypes in table order: "{f32, f64}".
func (s DTypeSet) String() string {
	var names []string
	for _, d := range DTypes() {
		if s.Has(d) {
			names = append(names, d.String())
		}
	}
	return "{" + strings.Join(names, ", ") + "}"
}

package ir

import (
	"fmt"
	"math"
)

// The low-precision dtypes and their conversions, by the ONNX spec (Cast,
// opsets 19 to 25) and its reference implementation:
//
//	f8e4m3fn    1 sign, 4 exponent (bias 7), 3 mantissa bits; no Inf; NaN is S.1111.111; max 448
//	f8e4m3fnuz  bias 8; no Inf, no -0; 0x80 is the only NaN; max 240
//	f8e5m2      bias 15, IEEE-like: Inf S.11111.00, NaN S.11111.xx; max 57344
//	f8e5m2fnuz  bias 16; no Inf, no -0; 0x80 is the only NaN; max 57344
//	f4e2m1      1 sign, 2 exponent (bias 1), 1 mantissa bit: ±{0, 0.5, 1, 1.5, 2, 3, 4, 6}; no Inf, no NaN
//	f8e8m0      an exponent alone: 2^(b-127); 0xFF is NaN; no sign, no zero
//	i4, u4, i2, u2  two's complement and unsigned integers of 4 and 2 bits
//
// Values round to nearest, ties to even, from float64 directly (one
// rounding). Beyond the largest finite value (after rounding), Cast with
// saturate (the default) gives ±max; without it E4M3FN and the FNUZ
// formats give NaN and E5M2 ±Inf. -0 and negative values that round to 0
// become +0 in the FNUZ formats, whose -0 bits are their NaN. f4e2m1
// always saturates, and NaN becomes 0x8 (its -0), as ONNX's reference
// (ml_dtypes) gives. f8e8m0 takes the float32 exponent and rounds by a
// mode ("up", the default, "down" or "nearest", as ONNX's reference
// computes it). Floats become the small integers through int64 (toward
// zero, NaN 0) and wrap to the width, as integers do: ONNX's tests cast
// -9.0 to int4 7.

// lowFormat describes a float format of at most 8 bits.
type lowFormat struct {
	m       uint   // mantissa bits
	bias    int    // exponent bias
	maxCode uint32 // the largest finite magnitude, as bits without the sign
	sign    uint32 // the sign bit
	inf     bool   // maxCode+1 is Inf (E5M2)
	uz      bool   // FNUZ: no -0; the sign bit alone is the only NaN
}

func formatOf(dt DType) lowFormat {
	switch dt {
	case F8E4M3FN:
		return lowFormat{m: 3, bias: 7, maxCode: 0x7e, sign: 0x80}
	case F8E4M3FNUZ:
		return lowFormat{m: 3, bias: 8, maxCode: 0x7f, sign: 0x80, uz: true}
	case F8E5M2:
		return lowFormat{m: 2, bias: 15, maxCode: 0x7b, sign: 0x80, inf: true}
	case F8E5M2FNUZ:
		return lowFormat{m: 2, bias: 16, maxCode: 0x7f, sign: 0x80, uz: true}
	case F4E2M1:
		return lowFormat{m: 1, bias: 1, maxCode: 0x7, sign: 0x8}
	}
	panic("ir: no low float format for " + dt.String())
}

// LowFloatValue is the value of bits b of dtype dt (one of LowFloats),
// exactly.
func LowFloatValue(dt DType, b uint8) float64 {
	if dt == F8E8M0 {
		if b == 0xff {
			return math.NaN()
		}
		return math.Ldexp(1, int(b)-127)
	}
	f := formatOf(dt)
	mag := uint32(b) &^ f.sign
	switch {
	case f.uz && uint32(b) == f.sign:
		return math.NaN()
	case mag > f.maxCode && f.inf && mag == f.maxCode+1:
		return math.Copysign(math.Inf(1), signOf(uint32(b)&f.sign != 0))
	case mag > f.maxCode:
		return math.NaN()
	}
	e, mant := int(mag>>f.m), float64(mag&(1<<f.m-1))
	var v float64
	if e == 0 {
		v = math.Ldexp(mant, 1-f.bias-int(f.m))
	} else {
		v = math.Ldexp(mant+float64(uint32(1)<<f.m), e-f.bias-int(f.m))
	}
	return math.Copysign(v, signOf(uint32(b)&f.sign != 0))
}

func signOf(neg bool) float64 {
	if neg {
		return -1
	}
	return 1
}

// LowFloatBits rounds v to dtype dt (one of LowFloats) by Cast's rules
// (see the top of this file) and returns the bits. round is f8e8m0's
// rounding mode ("" is "up"); the other formats ignore it.
func LowFloatBits(dt DType, v float64, saturate bool, round string) uint8 {
	if dt == F8E8M0 {
		return e8m0Bits(v, saturate, round)
	}
	f := formatOf(dt)
	var sign uint32
	if math.Signbit(v) {
		sign = f.sign
	}
	overflow := func() uint8 {
		switch {
		case saturate || dt == F4E2M1:
			return uint8(sign | f.maxCode)
		case f.inf:
			return uint8(sign | (f.maxCode + 1))
		case f.uz:
			return uint8(f.sign)
		}
		return uint8(sign | 0x7f)
	}
	switch {
	case math.IsNaN(v):
		switch {
		case f.uz || dt == F4E2M1:
			return uint8(f.sign)
		case f.inf:
			return uint8(sign | 0x7e)
		}
		return uint8(sign | 0x7f)
	case math.IsInf(v, 0):
		return overflow()
	}
	code := lowCode(math.Abs(v), f.m, f.bias)
	switch {
	case code > f.maxCode:
		return overflow()
	case code == 0 && f.uz:
		return 0
	}
	return uint8(sign | code)
}

// lowCode rounds a finite a >= 0 to nearest even on the grid of a binary
// format with m mantissa bits and exponent bias (subnormals included, no
// upper bound) and returns its magnitude bits: exponent<<m | mantissa,
// which grow with the value, so a carry into the exponent is right.
func lowCode(a float64, m uint, bias int) uint32 {
	if a == 0 {
		return 0
	}
	_, exp := math.Frexp(a) // a = f·2^exp, f in [0.5, 1)
	e := max(exp-1+bias, 1) // the biased exponent; 1 for subnormals
	if e > 1<<12 {
		return math.MaxUint32
	}
	// a in units of the last place at exponent e: in [2^m, 2^(m+1)) for
	// a normal value, below 2^m for a subnormal one; exact, since the
	// scaling is by a power of two.
	q := math.RoundToEven(math.Ldexp(a, int(m)+bias-e))
	return uint32(e-1)<<m + uint32(q)
}

// e8m0Bits is ONNX's float32 to float8e8m0 conversion: the float32's
// exponent, raised by one when the mantissa asks by mode, saturated at
// 0xFE (2^127) unless saturate is false; NaN and ±Inf give 0xFF, the
// sign is dropped (mode "" is "up"). "nearest" rounds up when the first dropped bit is set
// and any other bit, or a nonzero exponent, is: ONNX's reference rule.
func e8m0Bits(v float64, saturate bool, mode string) uint8 {
	b := math.Float32bits(float32(v))
	e := b >> 23 & 0xff
	if e == 0xff {
		return 0xff
	}
	var up bool
	switch mode {
	case "nearest":
		up = b&0x400000 != 0 && (b&0x200000 != 0 || b&0x1fffff != 0 || e > 0)
	case "down":
	default: // "up" or ""
		up = b&0x7fffff != 0
		if e == 0 {
			// A float32 subnormal: 2^-127 (0x400000) is exact, so
			// only a larger one rounds up (ONNX's reference rounds
			// 2^-127 itself up, breaking the round trip of 0x00).
			up = b&0x7fffff > 0x400000
		}
	}
	if up && !(saturate && e == 0xfe) {
		e++
	}
	return uint8(e)
}

// E8M0Modes are the rounding modes of a cast to f8e8m0.
var E8M0Modes = []string{"up", "down", "nearest"}

// WrapInt wraps v to the width of the small integer dtype dt (I4, U4, I2,
// U2): two's complement for the signed ones.
func WrapInt(v int64, dt DType) int64 {
	switch dt {
	case I4:
		return v << 60 >> 60
	case U4:
		return v & 0xf
	case I2:
		return v << 62 >> 62
	case U2:
		return v & 3
	}
	panic("ir: WrapInt of " + dt.String())
}

func (t *Tensor) lowFloat(i int) float64 {
	if LowInts.Has(t.DType) {
		return float64(t.lowInt(i))
	}
	return LowFloatValue(t.DType, Elems[uint8](t)[i])
}

func (t *Tensor) lowInt(i int) int64 {
	switch t.DType {
	case I4, I2:
		return int64(Elems[int8](t)[i])
	case U4, U2:
		return int64(Elems[uint8](t)[i])
	}
	return FloatToInt(t.lowFloat(i), I64)
}

func (t *Tensor) setLowFloat(i int, v float64) {
	if LowInts.Has(t.DType) {
		t.setLowInt(i, FloatToInt(v, I64))
		return
	}
	Elems[uint8](t)[i] = LowFloatBits(t.DType, v, true, "")
}

func (t *Tensor) setLowInt(i int, v int64) {
	switch t.DType {
	case I4, I2:
		Elems[int8](t)[i] = int8(WrapInt(v, t.DType))
	case U4, U2:
		Elems[uint8](t)[i] = uint8(WrapInt(v, t.DType))
	default:
		t.setLowFloat(i, float64(v))
	}
}

// CastMode holds Cast's options for the low-precision float dtypes; the
// zero value is ONNX's default (saturate, f8e8m0 rounding up).
type CastMode struct {
	NoSaturate bool   // overflow to NaN or Inf instead of ±max
	Round      string // f8e8m0 rounding: "up" ("" too), "down" or "nearest"
}

// ConvertMode is Convert with Cast's options m for a low-precision float
// result; any other result is Convert's.
func ConvertMode(t *Tensor, dt DType, m CastMode) *Tensor {
	if m == (CastMode{}) || !LowFloats.Has(dt) || t.DType == dt {
		return Convert(t, dt)
	}
	out := NewTensor(dt, t.Shape)
	s := Elems[uint8](out)
	for i := range s {
		s[i] = LowFloatBits(dt, t.Float(i), !m.NoSaturate, m.Round)
	}
	return out
}

// CheckLowInts returns an error when a 4- or 2-bit integer tensor holds a
// value outside its dtype's range (tensors built by hand; the readers and
// conversions wrap).
func CheckLowInts(t *Tensor) error {
	if !LowInts.Has(t.DType) {
		return nil
	}
	lo, hi := IntRange(t.DType)
	for i := range t.Len() {
		if v := t.lowInt(i); v < lo || v > hi {
			return fmt.Errorf("%v element %d is %d, outside [%d, %d]", t.DType, i, v, lo, hi)
		}
	}
	return nil
}

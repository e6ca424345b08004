package ir

import "math"

// Element access for code that is generic over dtypes. Values pass through
// the widest Go type of their kind (float64 or int64) and are converted to
// the tensor's dtype on the way in by the rules of Convert.

// Float returns element i as a float64: exact for every dtype but the
// integers beyond 2^53; bool is 0 or 1.
func (t *Tensor) Float(i int) float64 {
	if LowPrecision.Has(t.DType) {
		return t.lowFloat(i)
	}
	switch s := t.Data.(type) {
	case []float32:
		return float64(s[i])
	case []float64:
		return s[i]
	case []uint16:
		switch t.DType {
		case F16:
			return F16Value(s[i])
		case BF16:
			return BF16Value(s[i])
		}
		return float64(s[i])
	case []int8:
		return float64(s[i])
	case []int16:
		return float64(s[i])
	case []int32:
		return float64(s[i])
	case []int64:
		return float64(s[i])
	case []uint8:
		return float64(s[i])
	case []uint32:
		return float64(s[i])
	case []uint64:
		return float64(s[i])
	case []bool:
		if s[i] {
			return 1
		}
		return 0
	}
	panic("ir: Float on a tensor without data")
}

// Int returns element i as an int64: floats are converted by FloatToInt,
// u64 values above MaxInt64 wrap, bool is 0 or 1.
func (t *Tensor) Int(i int) int64 {
	if LowPrecision.Has(t.DType) {
		return t.lowInt(i)
	}
	switch s := t.Data.(type) {
	case []int8:
		return int64(s[i])
	case []int16:
		return int64(s[i])
	case []int32:
		return int64(s[i])
	case []int64:
		return s[i]
	case []uint8:
		return int64(s[i])
	case []uint32:
		return int64(s[i])
	case []uint64:
		return int64(s[i])
	case []bool:
		if s[i] {
			return 1
		}
		return 0
	case []uint16:
		if t.DType == U16 {
			return int64(s[i])
		}
	}
	return FloatToInt(t.Float(i), I64)
}

// SetFloat stores v in element i, converted to the tensor's dtype: rounded
// to nearest even for f32, f16 and bf16; by FloatToInt for the integers;
// v != 0 for bool (so NaN is true, as in numpy and ONNX Cast).
func (t *Tensor) SetFloat(i int, v float64) {
	if LowPrecision.Has(t.DType) {
		t.setLowFloat(i, v)
		return
	}
	switch s := t.Data.(type) {
	case []float32:
		s[i] = float32(v)
	case []float64:
		s[i] = v
	case []bool:
		s[i] = v != 0
	case []uint16:
		switch t.DType {
		case F16:
			s[i] = F16Bits(v)
		case BF16:
			s[i] = BF16Bits(v)
		default:
			s[i] = uint16(FloatToInt(v, U16))
		}
	case []uint64:
		s[i] = floatToU64(v)
	default:
		t.SetInt(i, FloatToInt(v, t.DType))
	}
}

// SetInt stores v in element i: wrapped to the width of an integer dtype
// (two's complement, as Go and numpy convert), rounded for floats, v != 0
// for bool.
func (t *Tensor) SetInt(i int, v int64) {
	if LowPrecision.Has(t.DType) {
		t.setLowInt(i, v)
		return
	}
	switch s := t.Data.(type) {
	case []int8:
		s[i] = int8(v)
	case []int16:
		s[i] = int16(v)
	case []int32:
		s[i] = int32(v)
	case []int64:
		s[i] = v
	case []uint8:
		s[i] = uint8(v)
	case []uint32:
		s[i] = uint32(v)
	case []uint64:
		s[i] = uint64(v)
	case []bool:
		s[i] = v != 0
	case []uint16:
		if t.DType == U16 {
			s[i] = uint16(v)
			return
		}
		t.SetFloat(i, float64(v))
	default:
		t.SetFloat(i, float64(v))
	}
}

// FloatToInt converts a float to integer dtype dt (for U64, the result's
// bits are the uint64): toward zero, NaN to 0, and values beyond dt's range
// (±Inf included) saturated to its minimum or maximum. ONNX leaves these
// cases undefined and numpy's results depend on the CPU; dlc fixes one
// answer so the interpreter and generated code agree.
func FloatToInt(v float64, dt DType) int64 {
	if dt == U64 {
		return int64(floatToU64(v))
	}
	lo, hi := IntRange(dt)
	switch {
	case math.IsNaN(v):
		return 0
	case v <= float64(lo):
		return lo
	case v >= float64(hi):
		return hi
	}
	return int64(v)
}

func floatToU64(v float64) uint64 {
	switch {
	case math.IsNaN(v) || v <= 0:
		return 0
	case v >= 1<<64:
		return math.MaxUint64
	}
	return uint64(v)
}

// IntRange is the smallest and largest value of an integer dtype other than
// U64 (whose maximum does not fit an int64); bool is [0, 1].
func IntRange(dt DType) (lo, hi int64) {
	switch dt {
	case I8:
		return math.MinInt8, math.MaxInt8
	case I16:
		return math.MinInt16, math.MaxInt16
	case I32:
		return math.MinInt32, math.MaxInt32
	case U8:
		return 0, math.MaxUint8
	case U16:
		return 0, math.MaxUint16
	case U32:
		return 0, math.MaxUint32
	case Bool:
		return 0, 1
	case I4:
		return -8, 7
	case U4:
		return 0, 15
	case I2:
		return -2, 1
	case U2:
		return 0, 3
	}
	return math.MinInt64, math.MaxInt64
}

// Convert returns a copy of t with its values converted to dtype dt, as
// ONNX Cast converts: floats to floats rounded to nearest even, floats to
// integers by FloatToInt, integers to integers wrapped to the width,
// integers to floats rounded once, anything to bool as != 0, bool to 1 or
// 0.
func Convert(t *Tensor, dt DType) *Tensor {
	if t.DType == dt {
		return t.Clone()
	}
	out := NewTensor(dt, t.Shape)
	n := t.Len()
	switch {
	case t.DType.IsFloat() || dt == Bool && t.DType != Bool:
		for i := range n {
			out.SetFloat(i, t.Float(i))
		}
	case dt == F32 && t.DType == U64:
		for i, v := range Elems[uint64](t) {
			out.F32()[i] = float32(v)
		}
	case dt == F32:
		for i := range n {
			out.F32()[i] = float32(t.Int(i))
		}
	case dt.IsFloat() && t.DType == U64:
		for i, v := range Elems[uint64](t) {
			out.SetFloat(i, float64(v))
		}
	default:
		for i := range n {
			out.SetInt(i, t.Int(i))
		}
	}
	return out
}

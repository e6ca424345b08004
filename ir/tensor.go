// Package ir is dlc's intermediate representation: a typed graph of tensor
// operations with static shapes, the op table that gives every op its
// attributes, shape rule and fusion class, a verifier, a stable text printer
// and a Graphviz writer.
//
// Every frontend (.dl, ONNX) produces an *ir.Graph; every pass rewrites one;
// the reference interpreter (package runtime) and the code generator (package
// codegen) consume one. The package imports only the standard library.
package ir

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// Shape is a static tensor shape, outermost dimension first (NCHW for images).
type Shape []int

// NumElems is the product of the dimensions (1 for a scalar).
func (s Shape) NumElems() int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// Equal reports whether two shapes are identical.
func (s Shape) Equal(t Shape) bool {
	if len(s) != len(t) {
		return false
	}
	for i := range s {
		if s[i] != t[i] {
			return false
		}
	}
	return true
}

// Clone returns a copy that does not alias s.
func (s Shape) Clone() Shape { return append(Shape(nil), s...) }

// String formats the shape as [1,3,32,32].
func (s Shape) String() string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(d))
	}
	b.WriteByte(']')
	return b.String()
}

// Strides returns the C-order element strides of the shape.
func (s Shape) Strides() []int {
	st := make([]int, len(s))
	acc := 1
	for i := len(s) - 1; i >= 0; i-- {
		st[i] = acc
		acc *= s[i]
	}
	return st
}

// TensorType is a dtype and a static shape.
type TensorType struct {
	DType DType
	Shape Shape
}

// String formats the type as f32[1,10].
func (t TensorType) String() string { return t.DType.String() + t.Shape.String() }

// Equal reports whether two types are identical.
func (t TensorType) Equal(u TensorType) bool { return t.DType == u.DType && t.Shape.Equal(u.Shape) }

// Bytes is the size of a tensor of this type.
func (t TensorType) Bytes() int { return t.Shape.NumElems() * t.DType.Size() }

// Tensor is a dense C-order tensor. Data holds the elements as a slice of
// the dtype's Go storage type (the table's Storage column): []float32 for
// f32, []uint16 holding the bits for f16 and bf16, []bool for bool, and so
// on. Read it through the typed accessors (F32, I64, Elems) or, in code
// generic over dtypes, through Float, Int and their setters.
type Tensor struct {
	DType DType
	Shape Shape
	Data  any
}

// Storage is the set of Go element types a Tensor's Data may hold.
type Storage interface {
	float32 | float64 | int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | bool
}

// NewTensor allocates a zero tensor of the given type. It panics on a dtype
// outside the table (internal misuse).
func NewTensor(dt DType, shape Shape) *Tensor {
	return &Tensor{DType: dt, Shape: shape.Clone(), Data: makeData(dt, shape.NumElems())}
}

// makeData allocates n zero elements of dt's storage type.
func makeData(dt DType, n int) any {
	switch dt {
	case F32:
		return make([]float32, n)
	case F64:
		return make([]float64, n)
	case F16, BF16, U16:
		return make([]uint16, n)
	case I8, I4, I2:
		return make([]int8, n)
	case I16:
		return make([]int16, n)
	case I32:
		return make([]int32, n)
	case I64:
		return make([]int64, n)
	case U8, U4, U2, F8E4M3FN, F8E4M3FNUZ, F8E5M2, F8E5M2FNUZ, F4E2M1, F8E8M0:
		return make([]uint8, n)
	case U32:
		return make([]uint32, n)
	case U64:
		return make([]uint64, n)
	case Bool:
		return make([]bool, n)
	}
	panic("ir: no storage for dtype " + dt.String())
}

// FromSlice wraps data (not copied) as a tensor of dtype dt and the given
// shape. data's element type must be dt's storage type.
func FromSlice[T Storage](dt DType, shape Shape, data []T) *Tensor {
	return &Tensor{DType: dt, Shape: shape.Clone(), Data: data}
}

// FromF32 wraps data (not copied) as an f32 tensor.
func FromF32(shape Shape, data []float32) *Tensor { return FromSlice(F32, shape, data) }

// FromI64 wraps data (not copied) as an i64 tensor.
func FromI64(shape Shape, data []int64) *Tensor { return FromSlice(I64, shape, data) }

// Elems returns the tensor's elements as a []T. It panics when T is not the
// storage type of the tensor's dtype: that is a bug in the caller, never
// bad input. A tensor without data gives nil.
func Elems[T Storage](t *Tensor) []T {
	if t.Data == nil {
		return nil
	}
	s, ok := t.Data.([]T)
	if !ok {
		var z T
		panic(fmt.Sprintf("ir: %v tensor holds %T, not []%T", t.DType, t.Data, z))
	}
	return s
}

// The typed accessors below return the elements of a tensor of their
// dtype, and nil for a tensor of any other dtype, as the per-dtype slice
// fields they replace did: `for i := range t.F32()` skips a tensor that is
// not f32. Elems is the strict form.

// F32 returns the elements of an f32 tensor, nil for another dtype.
func (t *Tensor) F32() []float32 { return elemsIf[float32](t, F32) }

// F64 returns the elements of an f64 tensor, nil for another dtype.
func (t *Tensor) F64() []float64 { return elemsIf[float64](t, F64) }

// I32 returns the elements of an i32 tensor, nil for another dtype.
func (t *Tensor) I32() []int32 { return elemsIf[int32](t, I32) }

// I64 returns the elements of an i64 tensor, nil for another dtype.
func (t *Tensor) I64() []int64 { return elemsIf[int64](t, I64) }

// Bools returns the elements of a bool tensor, nil for another dtype.
func (t *Tensor) Bools() []bool { return elemsIf[bool](t, Bool) }

func elemsIf[T Storage](t *Tensor, dt DType) []T {
	if t.DType != dt {
		return nil
	}
	return Elems[T](t)
}

// Type returns the tensor's dtype and shape.
func (t *Tensor) Type() TensorType { return TensorType{t.DType, t.Shape} }

// Len is the number of elements actually stored.
func (t *Tensor) Len() int {
	if t.Data == nil {
		return 0
	}
	return reflect.ValueOf(t.Data).Len()
}

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	c := &Tensor{DType: t.DType, Shape: t.Shape.Clone()}
	if t.Data != nil {
		v := reflect.ValueOf(t.Data)
		d := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(d, v)
		c.Data = d.Interface()
	}
	return c
}

// Check returns an error if the dtype is unknown, the data is not of its
// storage type, or the data does not match the shape.
func (t *Tensor) Check() error {
	info, ok := t.DType.Info()
	if !ok {
		return fmt.Errorf("unsupported dtype %v", t.DType)
	}
	if t.Data != nil {
		if got := reflect.TypeOf(t.Data).String(); got != "[]"+info.Storage {
			return fmt.Errorf("%v tensor holds %s, want []%s", t.DType, got, info.Storage)
		}
	}
	size, zero, overflow := 1, false, false
	for _, d := range t.Shape {
		switch {
		case d < 0:
			return fmt.Errorf("negative dimension in shape %v", t.Shape)
		case d == 0:
			zero = true
		case size > math.MaxInt/d:
			overflow = true
		default:
			size *= d
		}
	}
	// NumElems wraps around for such a shape, and could match the data.
	if overflow && !zero {
		return fmt.Errorf("shape %v has too many elements", t.Shape)
	}
	if t.Len() != t.Shape.NumElems() {
		return fmt.Errorf("tensor %v holds %d elements, want %d", t.Type(), t.Len(), t.Shape.NumElems())
	}
	return nil
}

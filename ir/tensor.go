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
	"strconv"
	"strings"
)

// DType is the element type of a tensor.
type DType uint8

// The element types dlc computes with: f32 for activations and weights, i64
// for token ids and indices.
const (
	F32 DType = iota + 1
	I64
)

// String returns the .dl spelling of the dtype ("f32", "i64").
func (d DType) String() string {
	switch d {
	case F32:
		return "f32"
	case I64:
		return "i64"
	}
	return "dtype(" + strconv.Itoa(int(d)) + ")"
}

// Size is the number of bytes one element occupies.
func (d DType) Size() int {
	switch d {
	case F32:
		return 4
	case I64:
		return 8
	}
	return 0
}

// ParseDType parses "f32" or "i64".
func ParseDType(s string) (DType, bool) {
	switch s {
	case "f32":
		return F32, true
	case "i64":
		return I64, true
	}
	return 0, false
}

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

// Tensor is a dense C-order tensor. Exactly one of F32 and I64 holds the
// data, according to DType.
type Tensor struct {
	DType DType
	Shape Shape
	F32   []float32
	I64   []int64
}

// NewTensor allocates a zero tensor of the given type.
func NewTensor(dt DType, shape Shape) *Tensor {
	t := &Tensor{DType: dt, Shape: shape.Clone()}
	switch dt {
	case F32:
		t.F32 = make([]float32, shape.NumElems())
	case I64:
		t.I64 = make([]int64, shape.NumElems())
	}
	return t
}

// Type returns the tensor's dtype and shape.
func (t *Tensor) Type() TensorType { return TensorType{t.DType, t.Shape} }

// Len is the number of elements actually stored.
func (t *Tensor) Len() int {
	if t.DType == I64 {
		return len(t.I64)
	}
	return len(t.F32)
}

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	c := &Tensor{DType: t.DType, Shape: t.Shape.Clone()}
	if t.F32 != nil {
		c.F32 = append([]float32(nil), t.F32...)
	}
	if t.I64 != nil {
		c.I64 = append([]int64(nil), t.I64...)
	}
	return c
}

// Check returns an error if the stored data does not match the shape.
func (t *Tensor) Check() error {
	if t.DType != F32 && t.DType != I64 {
		return fmt.Errorf("unsupported dtype %v", t.DType)
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

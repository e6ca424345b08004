// Package weights reads and writes dense model weight tensors stored in the
// safetensors format (https://github.com/huggingface/safetensors) and the
// NumPy .npy format (version 1.0, 2.0 and 3.0 headers).
//
// Loaded tensors are normalised to two in-memory element types: F32
// (float32) and I64 (int64). Half-precision (F16, BF16) values are widened
// to float32 exactly, F64 values are narrowed to float32 with round to
// nearest even, and 32-bit integers are widened to int64. Writers emit F32
// tensors as 32-bit floats and I64 tensors as 64-bit integers, always in
// little-endian C (row-major) order.
//
// The parsers treat their input as untrusted: every header field is
// validated against the actual input size before any tensor data is
// allocated, so a corrupt or malicious file yields a descriptive error
// naming the file (and, for safetensors, the tensor) rather than a panic or
// an oversized allocation. The writers are deterministic and replace the
// destination file atomically (temporary file in the same directory, then
// rename).
package weights

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// DType is the element type of a tensor after loading.
type DType uint8

const (
	// F32 is IEEE 754 binary32; the tensor's data is in Tensor.F32.
	F32 DType = iota + 1
	// I64 is a two's-complement 64-bit integer; the tensor's data is in
	// Tensor.I64.
	I64
)

// String returns "F32", "I64" or "DType(n)" for other values.
func (d DType) String() string {
	switch d {
	case F32:
		return "F32"
	case I64:
		return "I64"
	}
	return "DType(" + strconv.Itoa(int(d)) + ")"
}

// Tensor is a dense tensor stored little-endian in C (row-major) order.
// Exactly one of F32 and I64 holds the data, selected by DType, and its
// length is NumElems(). An empty (nil) Shape denotes a scalar with one
// element.
type Tensor struct {
	DType DType
	Shape []int
	F32   []float32
	I64   []int64
}

// NumElems returns the number of elements implied by t.Shape: the product of
// its dimensions, or 1 for a scalar. It does not check for negative
// dimensions or overflow; tensors returned by this package never have
// either.
func (t *Tensor) NumElems() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// validate checks that t can be encoded: known dtype, non-negative shape
// whose element count fits in an int, and a data slice of exactly that
// length (the other slice empty). It returns the element count.
func (t *Tensor) validate() (int, error) {
	if t == nil {
		return 0, errors.New("nil tensor")
	}
	dims := make([]int64, len(t.Shape))
	for i, d := range t.Shape {
		dims[i] = int64(d)
	}
	n, err := numElems(dims)
	if err != nil {
		return 0, fmt.Errorf("shape %s: %v", fmtDims(dims), err)
	}
	switch t.DType {
	case F32:
		if len(t.F32) != n {
			return 0, fmt.Errorf("F32 tensor of shape %s has %d values in F32, want %d", fmtShape(t.Shape), len(t.F32), n)
		}
		if len(t.I64) != 0 {
			return 0, fmt.Errorf("F32 tensor also has %d values in I64", len(t.I64))
		}
	case I64:
		if len(t.I64) != n {
			return 0, fmt.Errorf("I64 tensor of shape %s has %d values in I64, want %d", fmtShape(t.Shape), len(t.I64), n)
		}
		if len(t.F32) != 0 {
			return 0, fmt.Errorf("I64 tensor also has %d values in F32", len(t.F32))
		}
	default:
		return 0, fmt.Errorf("unsupported dtype %v (want F32 or I64)", t.DType)
	}
	return n, nil
}

// numElems returns the product of dims. It fails if a dimension is negative
// or if the product of the non-zero dimensions overflows int (the latter is
// rejected even when another dimension is zero, so that every partial
// product of an accepted shape fits in an int).
func numElems(dims []int64) (int, error) {
	n := int64(1)
	zero := false
	for i, d := range dims {
		switch {
		case d < 0:
			return 0, fmt.Errorf("dimension %d is %d, must be non-negative", i, d)
		case d == 0:
			zero = true
		case n > math.MaxInt/d:
			return 0, errors.New("number of elements overflows")
		default:
			n *= d
		}
	}
	if zero {
		return 0, nil
	}
	return int(n), nil
}

// byteSize returns n*elemSize or an error on overflow.
func byteSize(n, elemSize int) (int, bool) {
	if n > math.MaxInt/elemSize {
		return 0, false
	}
	return n * elemSize, true
}

// sizeFormula renders "4*3*10=120" for an element size and shape.
func sizeFormula(elemSize int, dims []int64, total int) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(elemSize))
	for _, d := range dims {
		b.WriteByte('*')
		b.WriteString(strconv.FormatInt(d, 10))
	}
	b.WriteByte('=')
	b.WriteString(strconv.Itoa(total))
	return b.String()
}

// fmtDims renders dims as "[3,10]".
func fmtDims(dims []int64) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range dims {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(d, 10))
	}
	b.WriteByte(']')
	return b.String()
}

// fmtShape renders an int shape as "[3,10]".
func fmtShape(shape []int) string {
	dims := make([]int64, len(shape))
	for i, d := range shape {
		dims[i] = int64(d)
	}
	return fmtDims(dims)
}

// toIntShape converts dims already validated by numElems to []int.
func toIntShape(dims []int64) []int {
	s := make([]int, len(dims))
	for i, d := range dims {
		s[i] = int(d)
	}
	return s
}

// f16ToF32 converts an IEEE 754 binary16 value to float32 exactly,
// including subnormals, infinities and NaN payloads.
func f16ToF32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f: // Inf or NaN; the payload moves to the top of the f32 mantissa.
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	case mant == 0: // signed zero
		return math.Float32frombits(sign)
	}
	// Subnormal: value = mant * 2^-24. Normalise so the leading one is the
	// implicit bit (bit 10); every f16 subnormal is a normal f32.
	e := uint32(127 - 15 + 1)
	for mant&0x400 == 0 {
		mant <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
}

// bf16ToF32 converts a bfloat16 value to float32 exactly (bfloat16 is the
// upper half of a float32).
func bf16ToF32(h uint16) float32 {
	return math.Float32frombits(uint32(h) << 16)
}

// readRegularFile stats path, checks that it is a regular file whose size
// fits in memory addressing, and reads it.
func readRegularFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if fi.Size() < 0 || uint64(fi.Size()) > uint64(math.MaxInt) {
		return nil, fmt.Errorf("%s: file size %d too large", path, fi.Size())
	}
	return os.ReadFile(path)
}

// writeFileAtomic writes path by calling write on a buffered temporary file
// in the same directory, syncing it, and renaming it over path. On any
// error the temporary file is removed and path is left untouched. The
// resulting file has mode 0644.
func writeFileAtomic(path string, write func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err = write(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// writeTensorData writes t's elements little-endian: float32 as 4 bytes,
// int64 as 8 bytes. t must have passed validate.
func writeTensorData(w io.Writer, t *Tensor) error {
	var buf [8192]byte
	switch t.DType {
	case F32:
		for i := 0; i < len(t.F32); {
			k := 0
			for ; i < len(t.F32) && k+4 <= len(buf); i, k = i+1, k+4 {
				binary.LittleEndian.PutUint32(buf[k:], math.Float32bits(t.F32[i]))
			}
			if _, err := w.Write(buf[:k]); err != nil {
				return err
			}
		}
	case I64:
		for i := 0; i < len(t.I64); {
			k := 0
			for ; i < len(t.I64) && k+8 <= len(buf); i, k = i+1, k+8 {
				binary.LittleEndian.PutUint64(buf[k:], uint64(t.I64[i]))
			}
			if _, err := w.Write(buf[:k]); err != nil {
				return err
			}
		}
	}
	return nil
}

// elemSize returns the stored byte size of one element of a validated
// tensor.
func (d DType) elemSize() int {
	if d == I64 {
		return 8
	}
	return 4
}

// Package weights reads and writes dense model weight tensors stored in the
// safetensors format (https://github.com/huggingface/safetensors) and the
// NumPy .npy format (version 1.0, 2.0 and 3.0 headers).
//
// Tensors are ir.Tensors and keep their stored dtype: every dtype of ir's
// dtype table (f32, f64, f16, bf16, the signed and unsigned integers of 8
// to 64 bits, bool) is read and written natively, with no widening; f16 and
// bf16 stay as their uint16 bits. Data is little-endian C (row-major) order.
// numpy has no bfloat16, so .npy files cannot hold bf16. Of ir's
// low-precision dtypes (one byte an element), safetensors has the float8
// ones F8_E4M3, F8_E5M2 and F8_E8M0 and numpy none: the others are
// refused by name.
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
	"reflect"
	"strconv"
	"strings"

	"github.com/dlcompiler/dlc/ir"
)

// DType is ir's dtype: the readers and writers take every dtype of ir's
// table, with the table's safetensors and numpy spellings and sizes.
type DType = ir.DType

// The dtypes, as in package ir.
const (
	F32  = ir.F32
	F64  = ir.F64
	F16  = ir.F16
	BF16 = ir.BF16
	I8   = ir.I8
	I16  = ir.I16
	I32  = ir.I32
	I64  = ir.I64
	U8   = ir.U8
	U16  = ir.U16
	U32  = ir.U32
	U64  = ir.U64
	Bool = ir.Bool
)

// Tensor is ir's tensor: Data holds the elements as a slice of the dtype's
// storage type (f16 and bf16 as their uint16 bits), little-endian C order
// on disk. An empty (nil) Shape denotes a scalar with one element.
type Tensor = ir.Tensor

// validate checks that t can be encoded: a dtype of the table, a
// non-negative shape whose element count fits in an int, and data of the
// dtype's storage type and exactly that length. It returns the element
// count.
func validate(t *Tensor) (int, error) {
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
	info, ok := t.DType.Info()
	if !ok {
		return 0, fmt.Errorf("unsupported dtype %v", t.DType)
	}
	if t.Data == nil {
		if n != 0 {
			return 0, fmt.Errorf("%v tensor of shape %s has 0 values, want %d", t.DType, fmtShape(t.Shape), n)
		}
		return 0, nil
	}
	if got := fmt.Sprintf("%T", t.Data); got != "[]"+info.Storage {
		return 0, fmt.Errorf("%v tensor holds %s, want []%s", t.DType, got, info.Storage)
	}
	if t.Len() != n {
		return 0, fmt.Errorf("%v tensor of shape %s has %d values, want %d", t.DType, fmtShape(t.Shape), t.Len(), n)
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

// writeTensorData writes t's elements little-endian, Size bytes each (bool
// as one byte 0 or 1), in chunks so that a large tensor needs no second
// copy in memory. t must have passed validate.
func writeTensorData(w io.Writer, t *Tensor) error {
	if t.Data == nil {
		return nil
	}
	v := reflect.ValueOf(t.Data)
	var buf []byte
	for i := 0; i < v.Len(); i += 4096 {
		chunk := v.Slice(i, min(i+4096, v.Len())).Interface()
		var err error
		if buf, err = binary.Append(buf[:0], binary.LittleEndian, chunk); err != nil {
			return err
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

// decodeData decodes n little-endian elements of dtype dt from b, whose
// length the caller has checked against n. For bool, any non-zero byte is
// true.
func decodeData(dt DType, shape []int, n int, b []byte) *Tensor {
	t := ir.NewTensor(dt, ir.Shape(shape))
	if n > 0 {
		if _, err := binary.Decode(b, binary.LittleEndian, t.Data); err != nil {
			panic("weights: decoding checked data: " + err.Error()) // lengths were checked
		}
	}
	return t
}

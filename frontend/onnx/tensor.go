package onnx

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/dlcompiler/dlc/ir"
)

// maxElems bounds the element count of any tensor the frontend builds, so
// shape products never overflow and a folded constant stays reasonable.
const maxElems = 1 << 31

// rawSize is the byte size of n elements of an ONNX data type in
// raw_data: packed two to a byte for the 4-bit types and four to a byte
// for the 2-bit ones, else n times the dtype's size; 0 if dlc does not
// read the type.
func rawSize(dt int32, n int) int {
	d, ok := ir.DTypeFromONNX(dt)
	if !ok {
		return 0
	}
	if per := packedPerByte(d); per > 1 {
		return (n + per - 1) / per
	}
	return n * d.Size()
}

// packedPerByte is how many elements of d ONNX packs into a byte.
func packedPerByte(d ir.DType) int {
	switch d {
	case ir.I4, ir.U4, ir.F4E2M1:
		return 2
	case ir.I2, ir.U2:
		return 4
	}
	return 1
}

// unpack fills out (a 4- or 2-bit dtype) from packed bytes, low bits
// first, sign-extending int4 and int2.
func unpack(out *ir.Tensor, packed []byte) {
	per := packedPerByte(out.DType)
	bits := 8 / per
	for i := range out.Len() {
		v := int64(packed[i/per]>>(uint(i%per)*uint(bits))) & (1<<bits - 1)
		out.SetInt(i, v) // wraps: sign-extends the signed ones
	}
	if out.DType == ir.F4E2M1 { // SetInt would convert the value
		s := ir.Elems[uint8](out)
		for i := range s {
			s[i] = packed[i/2] >> (uint(i%2) * 4) & 0xf
		}
	}
}

// irDType maps an ONNX data type to dlc's dtype of the same values: every
// integer width, bool, float16, bfloat16, float and double are kept as
// they are (ir/dtype.go's table).
func irDType(dt int32) (ir.DType, error) {
	if d, ok := ir.DTypeFromONNX(dt); ok {
		return d, nil
	}
	return 0, fmt.Errorf("unsupported dtype %s (dlc reads BOOL, INT2..INT64, UINT2..UINT64, FLOAT4E2M1, the FLOAT8 types, FLOAT16, BFLOAT16, FLOAT and DOUBLE)", dtName(dt))
}

// onnxType is the ONNX data type of an ir dtype.
func onnxType(d ir.DType) int32 {
	info, _ := d.Info()
	return info.ONNX
}

// shapeOf checks dims and returns them as an ir.Shape with the element
// count, refusing negative dims and products beyond maxElems.
func shapeOf(dims []int64) (ir.Shape, int, error) {
	s := make(ir.Shape, 0, len(dims))
	n := 1
	for _, d := range dims {
		if d < 0 {
			return nil, 0, fmt.Errorf("negative dimension %d in %v", d, dims)
		}
		if d > maxElems || (d > 0 && n > maxElems/int(d)) {
			return nil, 0, fmt.Errorf("dims %v hold more than %d elements", dims, maxElems)
		}
		n *= int(d)
		s = append(s, int(d))
	}
	return s, n, nil
}

// tensorData converts a decoded TensorProto to an ir.Tensor of the same
// dtype. dir is the model's folder, for external data ("" when there is
// none). The element count is checked against the bytes present before
// anything is allocated.
func tensorData(t *tensorProto, dir string) (*ir.Tensor, error) {
	irdt, err := irDType(t.dataType)
	if err != nil {
		return nil, err
	}
	shape, n, err := shapeOf(t.dims)
	if err != nil {
		return nil, err
	}
	if t.segment {
		return nil, fmt.Errorf("segmented tensors are not supported")
	}
	raw, hasRaw := t.raw, t.hasRaw
	if t.location == 1 {
		if raw, err = externalData(t, dir, n); err != nil {
			return nil, err
		}
		hasRaw = true
	} else if t.location != 0 {
		return nil, fmt.Errorf("unknown data_location %d", t.location)
	}
	if hasRaw {
		if size := rawSize(t.dataType, n); len(raw) != size {
			return nil, fmt.Errorf("raw_data holds %d bytes, dims %v of %s need %d", len(raw), t.dims, dtName(t.dataType), size)
		}
		out := ir.NewTensor(irdt, shape)
		if packedPerByte(irdt) > 1 {
			unpack(out, raw)
		} else {
			fromRaw(out, raw)
		}
		return out, nil
	}
	return typedData(t, irdt, shape, n)
}

// fromRaw fills out from little-endian raw_data of its dtype (the length
// is checked by the caller).
func fromRaw(out *ir.Tensor, raw []byte) {
	le := binary.LittleEndian
	switch s := out.Data.(type) {
	case []float32:
		for i := range s {
			s[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		}
	case []float64:
		for i := range s {
			s[i] = math.Float64frombits(le.Uint64(raw[8*i:]))
		}
	case []int8:
		for i := range s {
			s[i] = int8(raw[i])
		}
	case []uint8:
		copy(s, raw)
	case []bool:
		for i := range s {
			s[i] = raw[i] != 0
		}
	case []int16:
		for i := range s {
			s[i] = int16(le.Uint16(raw[2*i:]))
		}
	case []uint16: // u16, f16 and bf16 bits alike
		for i := range s {
			s[i] = le.Uint16(raw[2*i:])
		}
	case []int32:
		for i := range s {
			s[i] = int32(le.Uint32(raw[4*i:]))
		}
	case []uint32:
		for i := range s {
			s[i] = le.Uint32(raw[4*i:])
		}
	case []int64:
		for i := range s {
			s[i] = int64(le.Uint64(raw[8*i:]))
		}
	case []uint64:
		for i := range s {
			s[i] = le.Uint64(raw[8*i:])
		}
	}
}

// typedData reads the typed field ONNX stores dt's values in: float_data,
// double_data, int64_data, uint64_data (UINT32, UINT64) or int32_data
// (every narrower integer, bool, the bits of FLOAT16, BFLOAT16 and the
// FLOAT8 types one to a value, and the 4- and 2-bit types as packed
// bytes, one to a value, as ONNX's numpy_helper reads them).
func typedData(t *tensorProto, dt ir.DType, shape ir.Shape, n int) (*ir.Tensor, error) {
	count := func(have int, field string) (*ir.Tensor, error) {
		if have != n {
			return nil, fmt.Errorf("%s holds %d values, dims %v need %d", field, have, t.dims, n)
		}
		return ir.NewTensor(dt, shape), nil
	}
	var out *ir.Tensor
	var err error
	switch dt {
	case ir.F32:
		if out, err = count(len(t.floats), "float_data"); err == nil {
			copy(out.F32(), t.floats)
		}
	case ir.F64:
		if out, err = count(len(t.doubles), "double_data"); err == nil {
			copy(out.F64(), t.doubles)
		}
	case ir.I64:
		if out, err = count(len(t.int64s), "int64_data"); err == nil {
			copy(out.I64(), t.int64s)
		}
	case ir.U32, ir.U64:
		if out, err = count(len(t.uint64s), "uint64_data"); err == nil {
			for i, v := range t.uint64s {
				out.SetInt(i, int64(v)) // wraps to the width; u64 keeps its bits
			}
		}
	case ir.F16, ir.BF16:
		if out, err = count(len(t.int32s), "int32_data"); err == nil {
			s := ir.Elems[uint16](out)
			for i, v := range t.int32s {
				s[i] = uint16(v) // the bits, in the low half
			}
		}
	case ir.F8E4M3FN, ir.F8E4M3FNUZ, ir.F8E5M2, ir.F8E5M2FNUZ, ir.F8E8M0:
		if out, err = count(len(t.int32s), "int32_data"); err == nil {
			s := ir.Elems[uint8](out)
			for i, v := range t.int32s {
				s[i] = uint8(v) // the bits, in the low byte
			}
		}
	case ir.I4, ir.U4, ir.F4E2M1, ir.I2, ir.U2: // one packed byte per int32
		if size := rawSize(t.dataType, n); len(t.int32s) != size {
			return nil, fmt.Errorf("int32_data holds %d packed bytes, dims %v of %s need %d", len(t.int32s), t.dims, dtName(t.dataType), size)
		}
		b := make([]byte, len(t.int32s))
		for i, v := range t.int32s {
			b[i] = byte(v)
		}
		out = ir.NewTensor(dt, shape)
		unpack(out, b)
	default: // INT32, INT16, INT8, UINT16, UINT8, BOOL
		if out, err = count(len(t.int32s), "int32_data"); err == nil {
			for i, v := range t.int32s {
				out.SetInt(i, int64(v))
			}
		}
	}
	return out, err
}

// externalData reads a tensor stored outside the model file. The location
// must stay inside dir (os.Root refuses .. and symlinks that leave it), and
// offset and length must lie within the file and match the dims.
func externalData(t *tensorProto, dir string, n int) ([]byte, error) {
	loc := t.external["location"]
	if loc == "" {
		return nil, fmt.Errorf("external data without a location")
	}
	if dir == "" {
		return nil, fmt.Errorf("external data %q needs the model's folder", loc)
	}
	if !filepath.IsLocal(loc) {
		return nil, fmt.Errorf("external data location %q leaves the model's folder", loc)
	}
	num := func(key string) (int64, bool, error) {
		s, ok := t.external[key]
		if !ok {
			return 0, false, nil
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 0 {
			return 0, false, fmt.Errorf("external data %s %q is not a non-negative integer", key, s)
		}
		return v, true, nil
	}
	off, _, err := num("offset")
	if err != nil {
		return nil, err
	}
	length, hasLen, err := num("length")
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("external data: %w", err)
	}
	defer root.Close()
	f, err := root.Open(filepath.ToSlash(loc))
	if err != nil {
		return nil, fmt.Errorf("external data: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("external data: %w", err)
	}
	size := st.Size()
	if off > size {
		return nil, fmt.Errorf("external data %s: offset %d is past the end of the file (%d bytes)", loc, off, size)
	}
	if !hasLen {
		length = size - off
	}
	if length > size-off {
		return nil, fmt.Errorf("external data %s: offset %d + length %d is past the end of the file (%d bytes)", loc, off, length, size)
	}
	want := int64(rawSize(t.dataType, n))
	if length != want {
		return nil, fmt.Errorf("external data %s: length %d, dims %v of %s need %d bytes", loc, length, t.dims, dtName(t.dataType), want)
	}
	buf := make([]byte, length)
	if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
		return nil, fmt.Errorf("external data %s: %w", loc, err)
	}
	return buf, nil
}

// DecodeTensor decodes a standalone serialized TensorProto (the
// input_N.pb and output_N.pb files of ONNX's test data) into an ir.Tensor
// of the same dtype. It also returns the
// tensor's name and ONNX data type.
func DecodeTensor(data []byte) (t *ir.Tensor, name string, dataType int32, err error) {
	tp, err := decodeTensorProto(data, 0, "TensorProto")
	if err != nil {
		return nil, "", 0, err
	}
	if tp.location == 1 {
		return nil, "", 0, fmt.Errorf("tensor %q: external data in a standalone tensor is not supported", tp.name)
	}
	t, err = tensorData(tp, "")
	if err != nil {
		return nil, "", 0, fmt.Errorf("tensor %q: %w", tp.name, err)
	}
	return t, tp.name, tp.dataType, nil
}

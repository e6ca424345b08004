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

// elemSize is the byte size of one element of an ONNX data type in
// raw_data, or 0 if dlc does not read the type.
func elemSize(dt int32) int {
	switch dt {
	case dtFloat, dtInt32, dtUint32:
		return 4
	case dtDouble, dtInt64, dtUint64:
		return 8
	case dtFloat16, dtInt16, dtUint16:
		return 2
	case dtInt8, dtUint8, dtBool:
		return 1
	}
	return 0
}

// irDType maps a supported ONNX data type to dlc's: floats to f32,
// integers and bools to i64.
func irDType(dt int32) (ir.DType, error) {
	switch dt {
	case dtFloat, dtDouble, dtFloat16:
		return ir.F32, nil
	case dtInt64, dtInt32, dtInt16, dtInt8, dtUint8, dtUint16, dtUint32, dtUint64, dtBool:
		return ir.I64, nil
	}
	return 0, fmt.Errorf("unsupported dtype %s (dlc reads FLOAT, DOUBLE, FLOAT16, integers and BOOL)", dtName(dt))
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

// half converts IEEE 754 binary16 bits to float32.
func half(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	man := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	case exp == 0:
		if man == 0 {
			return math.Float32frombits(sign)
		}
		f := float32(man) / (1 << 24)
		if sign != 0 {
			f = -f
		}
		return f
	}
	return math.Float32frombits(sign | (exp+112)<<23 | man<<13)
}

// toHalf rounds a float32 to the nearest binary16 value (ties to even) and
// returns it as float32, for folding casts to FLOAT16.
func toHalf(f float32) float32 {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return f
	}
	a := math.Abs(float64(f))
	if a >= 65520 {
		return float32(math.Copysign(math.Inf(1), float64(f)))
	}
	if a < math.Ldexp(1, -25) {
		return float32(math.Copysign(0, float64(f)))
	}
	e := math.Floor(math.Log2(a))
	if e < -14 {
		e = -14
	}
	q := math.Ldexp(1, int(e)-10)
	r := math.RoundToEven(a/q) * q
	return float32(math.Copysign(r, float64(f)))
}

// wrapInt converts v to the ONNX integer type dt with two's complement
// wrap-around, as numpy's astype does.
func wrapInt(v int64, dt int32) int64 {
	switch dt {
	case dtInt8:
		return int64(int8(v))
	case dtUint8:
		return int64(uint8(v))
	case dtInt16:
		return int64(int16(v))
	case dtUint16:
		return int64(uint16(v))
	case dtInt32:
		return int64(int32(v))
	case dtUint32:
		return int64(uint32(v))
	case dtBool:
		if v != 0 {
			return 1
		}
		return 0
	}
	return v
}

// tensorData converts a decoded TensorProto to an ir.Tensor. dir is the
// model's folder, for external data ("" when there is none). The element
// count is checked against the bytes present before anything is
// allocated.
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
	var out *ir.Tensor // allocated once the count is checked
	if hasRaw {
		size := elemSize(t.dataType)
		if len(raw) != n*size {
			return nil, fmt.Errorf("raw_data holds %d bytes, dims %v of %s need %d", len(raw), t.dims, dtName(t.dataType), n*size)
		}
		le := binary.LittleEndian
		out = ir.NewTensor(irdt, shape)
		if irdt == ir.F32 {
			for i := range out.F32() {
				switch t.dataType {
				case dtFloat:
					out.F32()[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
				case dtDouble:
					out.F32()[i] = float32(math.Float64frombits(le.Uint64(raw[8*i:])))
				case dtFloat16:
					out.F32()[i] = half(le.Uint16(raw[2*i:]))
				}
			}
			return out, nil
		}
		for i := range out.I64() {
			var v int64
			switch size {
			case 1:
				v = int64(raw[i])
			case 2:
				v = int64(le.Uint16(raw[2*i:]))
			case 4:
				v = int64(le.Uint32(raw[4*i:]))
			case 8:
				v = int64(le.Uint64(raw[8*i:]))
			}
			out.I64()[i] = wrapInt(v, t.dataType)
		}
		return out, nil
	}
	count := func(have int, field string) error {
		if have != n {
			return fmt.Errorf("%s holds %d values, dims %v need %d", field, have, t.dims, n)
		}
		out = ir.NewTensor(irdt, shape)
		return nil
	}
	switch t.dataType {
	case dtFloat:
		if err := count(len(t.floats), "float_data"); err != nil {
			return nil, err
		}
		copy(out.F32(), t.floats)
	case dtDouble:
		if err := count(len(t.doubles), "double_data"); err != nil {
			return nil, err
		}
		for i, v := range t.doubles {
			out.F32()[i] = float32(v)
		}
	case dtFloat16:
		if err := count(len(t.int32s), "int32_data"); err != nil {
			return nil, err
		}
		for i, v := range t.int32s {
			out.F32()[i] = half(uint16(v))
		}
	case dtInt64:
		if err := count(len(t.int64s), "int64_data"); err != nil {
			return nil, err
		}
		copy(out.I64(), t.int64s)
	case dtUint32, dtUint64:
		if err := count(len(t.uint64s), "uint64_data"); err != nil {
			return nil, err
		}
		for i, v := range t.uint64s {
			out.I64()[i] = wrapInt(int64(v), t.dataType)
		}
	default: // INT32, INT16, INT8, UINT16, UINT8, BOOL
		if err := count(len(t.int32s), "int32_data"); err != nil {
			return nil, err
		}
		for i, v := range t.int32s {
			out.I64()[i] = wrapInt(int64(v), t.dataType)
		}
	}
	return out, nil
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
	want := int64(n) * int64(elemSize(t.dataType))
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
// input_N.pb and output_N.pb files of ONNX's test data) into an ir.Tensor:
// floating types become f32, integers and bools i64. It also returns the
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

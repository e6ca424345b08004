package weights

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dlcompiler/dlc/ir"
)

// npyMagic starts every .npy file.
const npyMagic = "\x93NUMPY"

// npyHeader is the parsed header dictionary of an .npy file.
type npyHeader struct {
	descr   string
	fortran bool
	dims    []int64
}

// ReadNpy reads and parses the .npy file at path, which must be a regular
// file; errors name path. See ParseNpy.
func ReadNpy(path string) (*Tensor, error) {
	data, err := readRegularFile(path)
	if err != nil {
		return nil, err
	}
	return ParseNpy(data, path)
}

// ParseNpy parses an .npy file held in data; name identifies the file in
// error messages.
//
// Format versions 1.0, 2.0 and 3.0 are accepted. The array must be in C
// order (fortran_order False) with a little-endian dtype of ir's table
// ('<f4', '<f8', '<f2', '|i1' to '<i8', '|u1' to '<u8', '|b1'), loaded as
// itself. Big-endian and Fortran-order arrays are rejected. The data
// following the header must be exactly as long as the shape and dtype
// require; this is checked before the tensor is allocated.
func ParseNpy(data []byte, name string) (*Tensor, error) {
	if len(data) < 10 || string(data[:6]) != npyMagic {
		if len(data) >= 6 && string(data[:6]) == npyMagic {
			return nil, fmt.Errorf("%s: npy file truncated: %d bytes", name, len(data))
		}
		return nil, fmt.Errorf("%s: not an npy file (missing \\x93NUMPY magic)", name)
	}
	major, minor := data[6], data[7]
	if major < 1 || major > 3 || minor != 0 {
		return nil, fmt.Errorf("%s: unsupported npy format version %d.%d (want 1.0, 2.0 or 3.0)", name, major, minor)
	}
	var hlen uint64
	start := 10
	if major == 1 {
		hlen = uint64(binary.LittleEndian.Uint16(data[8:]))
	} else {
		start = 12
		if len(data) < start {
			return nil, fmt.Errorf("%s: npy file truncated: %d bytes", name, len(data))
		}
		hlen = uint64(binary.LittleEndian.Uint32(data[8:]))
	}
	if hlen > uint64(len(data)-start) {
		return nil, fmt.Errorf("%s: npy header length %d exceeds the %d bytes after the prefix (truncated file?)",
			name, hlen, len(data)-start)
	}
	header := data[start : start+int(hlen)]
	body := data[start+int(hlen):]
	if major == 3 && !utf8.Valid(header) {
		return nil, fmt.Errorf("%s: npy 3.0 header is not valid UTF-8", name)
	}
	h, err := parseNpyHeader(string(header))
	if err != nil {
		return nil, fmt.Errorf("%s: npy header: %v", name, err)
	}
	if h.fortran {
		return nil, fmt.Errorf("%s: fortran_order True (column-major) arrays are not supported; save the array in C order", name)
	}
	dt, ok := ir.DTypeFromNumpy(h.descr)
	if !ok {
		if strings.HasPrefix(h.descr, ">") {
			return nil, fmt.Errorf("%s: big-endian dtype %q is not supported; convert the array to little-endian", name, h.descr)
		}
		return nil, fmt.Errorf("%s: unsupported dtype %q (supported: %s)", name, h.descr, npySupported())
	}
	n, err := numElems(h.dims)
	if err != nil {
		return nil, fmt.Errorf("%s: shape %s: %v", name, fmtDims(h.dims), err)
	}
	want, ok := byteSize(n, dt.Size())
	if !ok {
		return nil, fmt.Errorf("%s: %s array of shape %s is too large", name, h.descr, fmtDims(h.dims))
	}
	if len(body) != want {
		return nil, fmt.Errorf("%s: data is %d bytes, want %s for %s%s",
			name, len(body), sizeFormula(dt.Size(), h.dims, want), h.descr, fmtDims(h.dims))
	}

	return decodeData(dt, toIntShape(h.dims), n, body), nil
}

// npySupported lists the numpy spellings of the dtype table.
func npySupported() string {
	var names []string
	for _, dt := range ir.DTypes() {
		if info, _ := dt.Info(); info.Numpy != "" {
			names = append(names, info.Numpy)
		}
	}
	return strings.Join(names, ", ")
}

// parseNpyHeader parses the Python dict literal of an .npy header, e.g.
// "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }" followed by
// space padding and a newline. Exactly the keys descr, fortran_order and
// shape must be present.
func parseNpyHeader(s string) (npyHeader, error) {
	var h npyHeader
	p := &pyParser{s: s}
	p.skipSpace()
	if !p.eat('{') {
		return h, p.errorf("want '{'")
	}
	seen := map[string]bool{}
	for {
		p.skipSpace()
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return h, err
		}
		if seen[key] {
			return h, fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		p.skipSpace()
		if !p.eat(':') {
			return h, p.errorf("want ':' after key %q", key)
		}
		p.skipSpace()
		switch key {
		case "descr":
			if h.descr, err = p.str(); err != nil {
				return h, fmt.Errorf("descr: %v (structured dtypes are not supported)", err)
			}
		case "fortran_order":
			if h.fortran, err = p.boolean(); err != nil {
				return h, fmt.Errorf("fortran_order: %v", err)
			}
		case "shape":
			if h.dims, err = p.intTuple(); err != nil {
				return h, fmt.Errorf("shape: %v", err)
			}
		default:
			return h, fmt.Errorf("unexpected key %q", key)
		}
		p.skipSpace()
		if p.eat(',') {
			continue
		}
		if p.eat('}') {
			break
		}
		return h, p.errorf("want ',' or '}'")
	}
	p.skipSpace()
	if p.i != len(p.s) {
		return h, p.errorf("unexpected data after the header dict")
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return h, fmt.Errorf("missing key %q", k)
		}
	}
	return h, nil
}

// pyParser scans the small subset of Python literal syntax used by .npy
// headers.
type pyParser struct {
	s string
	i int
}

func (p *pyParser) errorf(format string, args ...any) error {
	near := p.s[p.i:]
	if len(near) > 20 {
		near = near[:20] + "..."
	}
	return fmt.Errorf("offset %d (near %q): %s", p.i, near, fmt.Sprintf(format, args...))
}

func (p *pyParser) skipSpace() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *pyParser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str parses a single- or double-quoted string without escapes.
func (p *pyParser) str() (string, error) {
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", p.errorf("want a quoted string")
	}
	q := p.s[p.i]
	j := p.i + 1
	for j < len(p.s) && p.s[j] != q {
		if p.s[j] == '\\' || p.s[j] == '\n' {
			return "", p.errorf("unsupported character in string")
		}
		j++
	}
	if j >= len(p.s) {
		return "", p.errorf("unterminated string")
	}
	v := p.s[p.i+1 : j]
	p.i = j + 1
	return v, nil
}

func (p *pyParser) boolean() (bool, error) {
	for _, w := range []string{"True", "False"} {
		if strings.HasPrefix(p.s[p.i:], w) {
			p.i += len(w)
			return w == "True", nil
		}
	}
	return false, p.errorf("want True or False")
}

// intTuple parses "()", "(3,)", "(3, 4)" (a list in brackets is also
// accepted). Integers may carry a Python 2 "L" suffix.
func (p *pyParser) intTuple() ([]int64, error) {
	var closer byte
	switch {
	case p.eat('('):
		closer = ')'
	case p.eat('['):
		closer = ']'
	default:
		return nil, p.errorf("want a tuple of integers")
	}
	dims := []int64{}
	for {
		p.skipSpace()
		if p.eat(closer) {
			return dims, nil
		}
		v, err := p.integer()
		if err != nil {
			return nil, err
		}
		dims = append(dims, v)
		p.skipSpace()
		if p.eat(',') {
			continue
		}
		if p.eat(closer) {
			if closer == ')' && len(dims) == 1 {
				// "(3)" is an int in Python, not a tuple; numpy always writes "(3,)".
				return nil, errors.New("one-element tuple lacks a trailing comma")
			}
			return dims, nil
		}
		return nil, p.errorf("want ',' or '%c'", closer)
	}
}

func (p *pyParser) integer() (int64, error) {
	j := p.i
	if j < len(p.s) && p.s[j] == '-' {
		j++
	}
	k := j
	for k < len(p.s) && p.s[k] >= '0' && p.s[k] <= '9' {
		k++
	}
	if k == j {
		return 0, p.errorf("want an integer")
	}
	v, err := strconv.ParseInt(p.s[p.i:k], 10, 64)
	if err != nil {
		return 0, p.errorf("integer %s out of range", p.s[p.i:k])
	}
	p.i = k
	if p.i < len(p.s) && (p.s[p.i] == 'L' || p.s[p.i] == 'l') {
		p.i++
	}
	return v, nil
}

// WriteNpy atomically writes t to path in the format produced by
// EncodeNpy, with file mode 0644. Nothing is written if t is invalid, and an
// existing file is replaced only once the new content is complete.
func WriteNpy(path string, t *Tensor) error {
	header, err := npyHeaderBytes(t)
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return writeFileAtomic(path, func(w io.Writer) error {
		if _, err := w.Write(header); err != nil {
			return err
		}
		return writeTensorData(w, t)
	})
}

// EncodeNpy returns the .npy encoding of t: F32 as '<f4', I64 as '<i8', C
// order, with a version 1.0 header (2.0 if the header would exceed 65535
// bytes) padded so that the data starts at a multiple of 64 bytes, as
// numpy itself writes.
func EncodeNpy(t *Tensor) ([]byte, error) {
	header, err := npyHeaderBytes(t)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(len(header) + t.Len()*t.DType.Size())
	buf.Write(header)
	writeTensorData(&buf, t) // bytes.Buffer writes cannot fail
	return buf.Bytes(), nil
}

// npyHeaderBytes validates t and returns magic, version, header length and
// header dict for it.
func npyHeaderBytes(t *Tensor) ([]byte, error) {
	if _, err := validate(t); err != nil {
		return nil, err
	}
	info, _ := t.DType.Info()
	descr := info.Numpy
	if descr == "" && info.Safetensors == "" {
		return nil, fmt.Errorf("neither numpy nor safetensors has a %v dtype: cast the tensor to a wider one", t.DType)
	}
	if descr == "" {
		return nil, fmt.Errorf("numpy has no %v dtype: save the tensor as safetensors", t.DType)
	}
	var d strings.Builder
	d.WriteString("{'descr': '" + descr + "', 'fortran_order': False, 'shape': (")
	for i, dim := range t.Shape {
		if i > 0 {
			d.WriteString(", ")
		}
		d.WriteString(strconv.Itoa(dim))
	}
	if len(t.Shape) == 1 {
		d.WriteByte(',')
	}
	d.WriteString("), }")
	dict := d.String()

	prefix := 10
	if len(dict)+1+63 > math.MaxUint16 {
		prefix = 12
	}
	total := prefix + len(dict) + 1 // +1 for the terminating newline
	pad := (64 - total%64) % 64
	hlen := len(dict) + pad + 1

	out := make([]byte, 0, prefix+hlen)
	out = append(out, npyMagic...)
	if prefix == 10 {
		out = append(out, 1, 0)
		out = binary.LittleEndian.AppendUint16(out, uint16(hlen))
	} else {
		if uint64(hlen) > math.MaxUint32 {
			return nil, errors.New("npy header too large")
		}
		out = append(out, 2, 0)
		out = binary.LittleEndian.AppendUint32(out, uint32(hlen))
	}
	out = append(out, dict...)
	for range pad {
		out = append(out, ' ')
	}
	return append(out, '\n'), nil
}

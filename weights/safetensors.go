package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dlcompiler/dlc/ir"
)

// MaxSafetensorsHeader is the largest safetensors JSON header, in bytes,
// that ParseSafetensors accepts.
const MaxSafetensorsHeader = 100 << 20

// metadataKey is the reserved header entry holding string metadata.
const metadataKey = "__metadata__"

// File is the content of a safetensors file.
type File struct {
	// Tensors maps each tensor name to its data.
	Tensors map[string]*Tensor
	// Names lists the tensor names in order of their data offsets in the
	// file (ties, possible only for empty tensors, are broken by name).
	Names []string
	// Metadata is the header's "__metadata__" map, or nil if the header has
	// none.
	Metadata map[string]string
}

// stEntry is one validated tensor entry of a safetensors header.
type stEntry struct {
	name       string
	dtype      string // the header's spelling
	dt         DType
	dims       []int64
	n          int // number of elements
	begin, end int // byte range within the data section
}

// ReadSafetensors reads and parses the safetensors file at path, which must
// be a regular file; errors name path. See ParseSafetensors.
func ReadSafetensors(path string) (*File, error) {
	data, err := readRegularFile(path)
	if err != nil {
		return nil, err
	}
	return ParseSafetensors(data, path)
}

// ParseSafetensors parses a safetensors file held in data; name identifies
// the file in error messages.
//
// The file starts with an 8-byte little-endian header length, followed by
// a UTF-8 JSON object mapping each tensor name to
// {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the
// data section following the header), plus an optional "__metadata__"
// object of string values. Every dtype of ir's table is supported (F32,
// F64, F16, BF16, I8 to I64, U8 to U64, BOOL) and loaded as itself.
//
// The whole header is validated before any tensor is allocated: the header
// length must be at most MaxSafetensorsHeader and fit in data, the JSON must
// be well formed with no duplicate or unknown keys, every dimension must be
// a non-negative integer with a non-overflowing product, every byte range
// must lie within the data section and match the shape and dtype exactly,
// and no two non-empty byte ranges may overlap. Bytes of the data section
// not covered by any tensor are ignored.
func ParseSafetensors(data []byte, name string) (*File, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("%s: file is %d bytes, too short for the 8-byte header length", name, len(data))
	}
	hlen := binary.LittleEndian.Uint64(data)
	if hlen > MaxSafetensorsHeader {
		return nil, fmt.Errorf("%s: header length %d exceeds the limit of %d bytes", name, hlen, MaxSafetensorsHeader)
	}
	if hlen > uint64(len(data)-8) {
		return nil, fmt.Errorf("%s: header length %d exceeds the %d bytes after the length prefix (truncated file?)", name, hlen, len(data)-8)
	}
	header := data[8 : 8+hlen]
	body := data[8+hlen:]
	if !utf8.Valid(header) {
		return nil, fmt.Errorf("%s: header is not valid UTF-8", name)
	}
	fields, err := jsonObject(header)
	if err != nil {
		return nil, fmt.Errorf("%s: header: %v", name, err)
	}

	f := &File{}
	entries := make([]stEntry, 0, len(fields))
	for _, kv := range fields {
		if kv.key == metadataKey {
			md, err := parseSTMetadata(kv.val)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %v", name, metadataKey, err)
			}
			f.Metadata = md
			continue
		}
		e, err := parseSTEntry(kv.key, kv.val, len(body))
		if err != nil {
			return nil, fmt.Errorf("%s: tensor %q: %v", name, kv.key, err)
		}
		entries = append(entries, e)
	}

	sort.Slice(entries, func(i, j int) bool {
		a, b := &entries[i], &entries[j]
		if a.begin != b.begin {
			return a.begin < b.begin
		}
		if a.end != b.end {
			return a.end < b.end
		}
		return a.name < b.name
	})
	var prev *stEntry
	for i := range entries {
		e := &entries[i]
		if e.begin == e.end {
			continue
		}
		if prev != nil && e.begin < prev.end {
			return nil, fmt.Errorf("%s: tensor %q: data_offsets [%d,%d] overlap tensor %q data_offsets [%d,%d]",
				name, e.name, e.begin, e.end, prev.name, prev.begin, prev.end)
		}
		prev = e
	}

	// Everything is validated; the total allocation is now bounded by twice
	// the size of the data section.
	f.Tensors = make(map[string]*Tensor, len(entries))
	f.Names = make([]string, len(entries))
	for i := range entries {
		e := &entries[i]
		f.Names[i] = e.name
		f.Tensors[e.name] = decodeData(e.dt, toIntShape(e.dims), e.n, body[e.begin:e.end])
	}
	return f, nil
}

// parseSTEntry parses and validates one tensor entry against a data section
// of bodyLen bytes.
func parseSTEntry(name string, raw json.RawMessage, bodyLen int) (stEntry, error) {
	e := stEntry{name: name}
	if name == "" {
		return e, errors.New("empty tensor name")
	}
	fields, err := jsonObject(raw)
	if err != nil {
		return e, err
	}
	var haveDType, haveShape, haveOffsets bool
	var offsets []int64
	for _, kv := range fields {
		switch kv.key {
		case "dtype":
			haveDType = true
			if kv.val[0] != '"' {
				return e, fmt.Errorf("dtype is %s, want a string", kv.val)
			}
			if err := json.Unmarshal(kv.val, &e.dtype); err != nil {
				return e, fmt.Errorf("dtype: %v", err)
			}
		case "shape":
			haveShape = true
			if e.dims, err = jsonInts(kv.val); err != nil {
				return e, fmt.Errorf("shape: %v", err)
			}
		case "data_offsets":
			haveOffsets = true
			if offsets, err = jsonInts(kv.val); err != nil {
				return e, fmt.Errorf("data_offsets: %v", err)
			}
		default:
			return e, fmt.Errorf("unknown field %q", kv.key)
		}
	}
	switch {
	case !haveDType:
		return e, errors.New("missing dtype")
	case !haveShape:
		return e, errors.New("missing shape")
	case !haveOffsets:
		return e, errors.New("missing data_offsets")
	}
	dt, ok := ir.DTypeFromSafetensors(e.dtype)
	if !ok {
		return e, fmt.Errorf("unsupported dtype %q (supported: %s)", e.dtype, stSupported())
	}
	e.dt = dt
	if e.n, err = numElems(e.dims); err != nil {
		return e, fmt.Errorf("shape %s: %v", fmtDims(e.dims), err)
	}
	if len(offsets) != 2 {
		return e, fmt.Errorf("data_offsets has %d elements, want 2", len(offsets))
	}
	b, en := offsets[0], offsets[1]
	if b < 0 || en < 0 {
		return e, fmt.Errorf("data_offsets [%d,%d] are negative", b, en)
	}
	if en < b {
		return e, fmt.Errorf("data_offsets [%d,%d] end before they begin", b, en)
	}
	if en > int64(bodyLen) {
		return e, fmt.Errorf("data_offsets [%d,%d] exceed the data section of %d bytes", b, en, bodyLen)
	}
	e.begin, e.end = int(b), int(en)
	want, ok := byteSize(e.n, dt.Size())
	if !ok {
		return e, fmt.Errorf("%s%s is too large", e.dtype, fmtDims(e.dims))
	}
	if got := e.end - e.begin; got != want {
		return e, fmt.Errorf("data_offsets [%d,%d] give %d bytes, want %s for %s%s",
			e.begin, e.end, got, sizeFormula(dt.Size(), e.dims, want), e.dtype, fmtDims(e.dims))
	}
	return e, nil
}

// parseSTMetadata parses the "__metadata__" object of string values.
func parseSTMetadata(raw json.RawMessage) (map[string]string, error) {
	fields, err := jsonObject(raw)
	if err != nil {
		return nil, err
	}
	md := make(map[string]string, len(fields))
	for _, kv := range fields {
		if kv.val[0] != '"' {
			return nil, fmt.Errorf("value of %q is %s, want a string", kv.key, kv.val)
		}
		var s string
		if err := json.Unmarshal(kv.val, &s); err != nil {
			return nil, fmt.Errorf("value of %q: %v", kv.key, err)
		}
		md[kv.key] = s
	}
	return md, nil
}

// stSupported lists the safetensors spellings of the dtype table.
func stSupported() string {
	var names []string
	for _, dt := range ir.DTypes() {
		if info, _ := dt.Info(); info.Safetensors != "" {
			names = append(names, info.Safetensors)
		}
	}
	return strings.Join(names, ", ")
}

// WriteSafetensors atomically writes tensors and metadata to path in the
// format produced by EncodeSafetensors, with file mode 0644. Nothing is
// written if validation fails, and an existing file is replaced only once
// the new content is complete.
func WriteSafetensors(path string, tensors map[string]*Tensor, metadata map[string]string) error {
	p, err := planSafetensors(tensors, metadata)
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return writeFileAtomic(path, p.writeTo)
}

// EncodeSafetensors returns the safetensors encoding of tensors and
// metadata. The output is deterministic: tensors are laid out in sorted
// name order, F32 tensors are stored as "F32" and I64 tensors as "I64",
// the header is padded with spaces to a multiple of 8 bytes, and
// "__metadata__" is written only if metadata is non-empty. Tensor names
// must be non-empty valid UTF-8 other than "__metadata__", and each tensor
// must be consistent (see Tensor).
func EncodeSafetensors(tensors map[string]*Tensor, metadata map[string]string) ([]byte, error) {
	p, err := planSafetensors(tensors, metadata)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(8 + len(p.header) + p.dataLen)
	p.writeTo(&buf) // bytes.Buffer writes cannot fail
	return buf.Bytes(), nil
}

// stPlan is a validated safetensors layout ready to be written.
type stPlan struct {
	header  []byte // padded JSON header
	names   []string
	tensors map[string]*Tensor
	dataLen int
}

func planSafetensors(tensors map[string]*Tensor, metadata map[string]string) (*stPlan, error) {
	p := &stPlan{tensors: tensors}
	for name := range tensors {
		p.names = append(p.names, name)
	}
	sort.Strings(p.names)

	var h bytes.Buffer
	h.WriteByte('{')
	first := true
	if len(metadata) > 0 {
		keys := make([]string, 0, len(metadata))
		for k, v := range metadata {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return nil, fmt.Errorf("%s: entry %q is not valid UTF-8", metadataKey, k)
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		writeJSONString(&h, metadataKey)
		h.WriteString(":{")
		for i, k := range keys {
			if i > 0 {
				h.WriteByte(',')
			}
			writeJSONString(&h, k)
			h.WriteByte(':')
			writeJSONString(&h, metadata[k])
		}
		h.WriteByte('}')
		first = false
	}
	off := 0
	for _, name := range p.names {
		t := tensors[name]
		switch {
		case name == "":
			return nil, errors.New("empty tensor name")
		case name == metadataKey:
			return nil, fmt.Errorf("tensor name %q is reserved", name)
		case !utf8.ValidString(name):
			return nil, fmt.Errorf("tensor name %q is not valid UTF-8", name)
		}
		n, err := validate(t)
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %v", name, err)
		}
		if info, _ := t.DType.Info(); info.Safetensors == "" {
			return nil, fmt.Errorf("tensor %q: safetensors has no %v dtype (it has %s)", name, t.DType, stSupported())
		}
		size, ok := byteSize(n, t.DType.Size())
		if !ok || off > math.MaxInt-size {
			return nil, fmt.Errorf("tensor %q: data too large", name)
		}
		if !first {
			h.WriteByte(',')
		}
		first = false
		writeJSONString(&h, name)
		h.WriteString(`:{"dtype":"`)
		info, _ := t.DType.Info()
		h.WriteString(info.Safetensors)
		h.WriteString(`","shape":`)
		h.WriteString(fmtShape(t.Shape))
		h.WriteString(`,"data_offsets":[`)
		h.WriteString(strconv.Itoa(off))
		h.WriteByte(',')
		h.WriteString(strconv.Itoa(off + size))
		h.WriteString("]}")
		off += size
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	p.header = h.Bytes()
	p.dataLen = off
	return p, nil
}

func (p *stPlan) writeTo(w io.Writer) error {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(p.header)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	if _, err := w.Write(p.header); err != nil {
		return err
	}
	for _, name := range p.names {
		if err := writeTensorData(w, p.tensors[name]); err != nil {
			return err
		}
	}
	return nil
}

// writeJSONString appends s as a JSON string literal. s must be valid UTF-8.
func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)           // cannot fail for a string
	b.Truncate(b.Len() - 1) // drop the newline Encode appends
}

// jsonKV is one member of a JSON object, in input order.
type jsonKV struct {
	key string
	val json.RawMessage
}

// jsonObject parses data as exactly one JSON object (surrounding whitespace
// allowed) and returns its members in order. Duplicate keys are an error.
func jsonObject(data []byte) ([]jsonKV, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonErr(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("got %s, want a JSON object", describeToken(tok))
	}
	var kvs []jsonKV
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, jsonErr(err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("got %s, want an object key", describeToken(tok))
		}
		if seen[key] {
			return nil, fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, fmt.Errorf("value of %q: %v", key, jsonErr(err))
		}
		kvs = append(kvs, jsonKV{key, val})
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, jsonErr(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err != nil {
			return nil, jsonErr(err)
		}
		return nil, errors.New("unexpected data after the JSON object")
	}
	return kvs, nil
}

// jsonErr makes truncated-input errors from encoding/json descriptive.
func jsonErr(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errors.New("invalid JSON: unexpected end of input")
	}
	return fmt.Errorf("invalid JSON: %v", err)
}

func describeToken(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		return fmt.Sprintf("%q", string(v))
	case string:
		return fmt.Sprintf("string %q", v)
	case nil:
		return "null"
	}
	return fmt.Sprint(tok)
}

// jsonInts parses a JSON array of integers that fit in int64.
func jsonInts(raw json.RawMessage) ([]int64, error) {
	if raw[0] != '[' {
		return nil, fmt.Errorf("got %s, want an array of integers", truncate(raw))
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, err
	}
	out := make([]int64, len(elems))
	for i, el := range elems {
		s := string(el)
		if s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
			return nil, fmt.Errorf("element %d is %s, want an integer", i, truncate(el))
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return nil, fmt.Errorf("element %d (%s) is out of range", i, truncate(el))
			}
			return nil, fmt.Errorf("element %d is %s, want an integer", i, truncate(el))
		}
		out[i] = v
	}
	return out, nil
}

// truncate shortens raw JSON for inclusion in an error message.
func truncate(raw []byte) string {
	if len(raw) > 40 {
		return string(raw[:40]) + "..."
	}
	return string(raw)
}

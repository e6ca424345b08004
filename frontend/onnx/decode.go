package onnx

import (
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// The decoder reads the subset of onnx.proto that import needs, straight
// from the wire format. Field numbers are those of onnx/onnx.proto (IR
// version 10); unknown fields are skipped, as protobuf requires. Every
// error names the absolute byte offset and the path of fields being read,
// e.g. "offset 812: ModelProto.graph.node[3].attribute[0].t.dims: ...".
//
// Nothing is allocated from a size the input claims: repeated fields grow
// one element per element present, packed fields are sized from the bytes
// present, and tensor contents are checked against the declared dims
// before any buffer is made (see tensor.go). Subgraph attributes (If, Loop,
// Scan bodies) are not parsed, so nesting is bounded by the schema.

// DecodeError is a malformed or truncated protobuf: Offset is the byte
// offset in the file of the field being read, What names that field.
type DecodeError struct {
	Offset int
	What   string
	Msg    string
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("offset %d: %s: %s", e.Offset, e.What, e.Msg)
}

func derr(off int, what, format string, args ...any) error {
	return &DecodeError{Offset: off, What: what, Msg: fmt.Sprintf(format, args...)}
}

// ONNX TensorProto.DataType values.
const (
	dtUndefined  = 0
	dtFloat      = 1
	dtUint8      = 2
	dtInt8       = 3
	dtUint16     = 4
	dtInt16      = 5
	dtInt32      = 6
	dtInt64      = 7
	dtString     = 8
	dtBool       = 9
	dtFloat16    = 10
	dtDouble     = 11
	dtUint32     = 12
	dtUint64     = 13
	dtComplex64  = 14
	dtComplex128 = 15
	dtBFloat16   = 16
)

var dtNames = map[int32]string{
	0: "UNDEFINED", 1: "FLOAT", 2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16", 6: "INT32", 7: "INT64",
	8: "STRING", 9: "BOOL", 10: "FLOAT16", 11: "DOUBLE", 12: "UINT32", 13: "UINT64", 14: "COMPLEX64",
	15: "COMPLEX128", 16: "BFLOAT16", 17: "FLOAT8E4M3FN", 18: "FLOAT8E4M3FNUZ", 19: "FLOAT8E5M2",
	20: "FLOAT8E5M2FNUZ", 21: "UINT4", 22: "INT4", 23: "FLOAT4E2M1", 24: "FLOAT8E8M0", 25: "UINT2", 26: "INT2",
}

func dtName(t int32) string {
	if s, ok := dtNames[t]; ok {
		return s
	}
	return fmt.Sprintf("data type %d", t)
}

// ONNX AttributeProto.AttributeType values.
const (
	atFloat   = 1
	atInt     = 2
	atString  = 3
	atTensor  = 4
	atGraph   = 5
	atFloats  = 6
	atInts    = 7
	atStrings = 8
	atTensors = 9
	atGraphs  = 10
)

type model struct {
	irVersion int64
	opsets    map[string]int64 // domain ("" is ai.onnx) → version
	graph     *graph
}

type graph struct {
	name       string
	nodes      []*node
	inits      []*tensorProto
	sparseInit int
	inputs     []*valueInfo
	outputs    []*valueInfo
}

type node struct {
	name, opType, domain string
	inputs, outputs      []string
	attrs                []*attribute
	offset               int
}

type attribute struct {
	name     string
	typ      int32
	f        float32
	i        int64
	s        []byte
	t        *tensorProto
	floats   []float32
	ints     []int64
	strings  [][]byte
	tensors  []*tensorProto
	graphs   int    // subgraphs present
	g        *graph // the subgraph of a graph attribute (If, Loop, Scan)
	refAttr  string
	sparse   bool
	typeProt bool
	offset   int
}

type tensorProto struct {
	name     string
	dims     []int64
	dataType int32
	raw      []byte
	hasRaw   bool
	floats   []float32
	int32s   []int32
	int64s   []int64
	doubles  []float64
	uint64s  []uint64
	strings  int
	external map[string]string
	location int32
	segment  bool
	offset   int
}

type valueInfo struct {
	name     string
	isTensor bool
	kind     string // "tensor", "sequence", "map", "optional", "sparse tensor", or ""
	elem     int32
	hasShape bool
	dims     []dim
	offset   int
}

type dim struct {
	value int64
	param string
	known bool
}

// field is one decoded field of a message.
type field struct {
	num  protowire.Number
	typ  protowire.Type
	off  int // offset of the value (of the payload for bytes)
	u    uint64
	b    []byte
	path string
}

// fields walks the fields of the message b, which starts at absolute
// offset base, calling fn for each.
func fields(b []byte, base int, path string, fn func(f *field) error) error {
	pos := 0
	for pos < len(b) {
		num, typ, n := protowire.ConsumeTag(b[pos:])
		if n < 0 {
			return derr(base+pos, path, "bad field tag: %v", protowire.ParseError(n))
		}
		f := field{num: num, typ: typ, off: base + pos + n, path: path}
		pos += n
		switch typ {
		case protowire.VarintType:
			f.u, n = protowire.ConsumeVarint(b[pos:])
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b[pos:])
			f.u = uint64(v)
		case protowire.Fixed64Type:
			f.u, n = protowire.ConsumeFixed64(b[pos:])
		case protowire.BytesType:
			f.b, n = protowire.ConsumeBytes(b[pos:])
		default:
			return derr(base+pos-1, path, "field %d has wire type %d, which ONNX never uses", num, typ)
		}
		if n < 0 {
			return derr(f.off, path, "field %d: %v", num, protowire.ParseError(n))
		}
		if typ == protowire.BytesType {
			f.off += n - len(f.b) // the payload, after the length
		}
		pos += n
		if err := fn(&f); err != nil {
			return err
		}
	}
	return nil
}

func (f *field) want(t protowire.Type, name string) error {
	if f.typ != t {
		return derr(f.off, f.path+"."+name, "wire type %d, want %d", f.typ, t)
	}
	return nil
}

func (f *field) str(name string) (string, error) {
	if err := f.want(protowire.BytesType, name); err != nil {
		return "", err
	}
	return string(f.b), nil
}

func (f *field) int64v(name string) (int64, error) {
	if err := f.want(protowire.VarintType, name); err != nil {
		return 0, err
	}
	return int64(f.u), nil
}

func (f *field) int32v(name string) (int32, error) {
	v, err := f.int64v(name)
	if err != nil {
		return 0, err
	}
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, derr(f.off, f.path+"."+name, "value %d does not fit int32", v)
	}
	return int32(v), nil
}

func (f *field) float32v(name string) (float32, error) {
	if err := f.want(protowire.Fixed32Type, name); err != nil {
		return 0, err
	}
	return math.Float32frombits(uint32(f.u)), nil
}

// varints appends the values of a repeated varint field, packed or not.
func (f *field) varints(name string, dst []int64) ([]int64, error) {
	switch f.typ {
	case protowire.VarintType:
		return append(dst, int64(f.u)), nil
	case protowire.BytesType:
		b := f.b
		for len(b) > 0 {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, derr(f.off+len(f.b)-len(b), f.path+"."+name, "packed varint: %v", protowire.ParseError(n))
			}
			dst = append(dst, int64(v))
			b = b[n:]
		}
		return dst, nil
	}
	return nil, derr(f.off, f.path+"."+name, "wire type %d, want varint or packed", f.typ)
}

// fixed32s appends the values of a repeated fixed32 field, packed or not.
func (f *field) fixed32s(name string, dst []uint32) ([]uint32, error) {
	switch f.typ {
	case protowire.Fixed32Type:
		return append(dst, uint32(f.u)), nil
	case protowire.BytesType:
		if len(f.b)%4 != 0 {
			return nil, derr(f.off, f.path+"."+name, "packed fixed32 field of %d bytes is not a multiple of 4", len(f.b))
		}
		for i := 0; i < len(f.b); i += 4 {
			v, _ := protowire.ConsumeFixed32(f.b[i:])
			dst = append(dst, v)
		}
		return dst, nil
	}
	return nil, derr(f.off, f.path+"."+name, "wire type %d, want fixed32 or packed", f.typ)
}

// fixed64s appends the values of a repeated fixed64 field, packed or not.
func (f *field) fixed64s(name string, dst []uint64) ([]uint64, error) {
	switch f.typ {
	case protowire.Fixed64Type:
		return append(dst, f.u), nil
	case protowire.BytesType:
		if len(f.b)%8 != 0 {
			return nil, derr(f.off, f.path+"."+name, "packed fixed64 field of %d bytes is not a multiple of 8", len(f.b))
		}
		for i := 0; i < len(f.b); i += 8 {
			v, _ := protowire.ConsumeFixed64(f.b[i:])
			dst = append(dst, v)
		}
		return dst, nil
	}
	return nil, derr(f.off, f.path+"."+name, "wire type %d, want fixed64 or packed", f.typ)
}

func idx(path, name string, i int) string { return fmt.Sprintf("%s.%s[%d]", path, name, i) }

// decodeModel decodes a serialized ModelProto.
func decodeModel(b []byte) (*model, error) {
	m := &model{opsets: map[string]int64{}}
	const p = "ModelProto"
	nOpset := 0
	err := fields(b, 0, p, func(f *field) error {
		var err error
		switch f.num {
		case 1:
			m.irVersion, err = f.int64v("ir_version")
		case 8:
			if err = f.want(protowire.BytesType, "opset_import"); err != nil {
				return err
			}
			var dom string
			var ver int64
			err = fields(f.b, f.off, idx(p, "opset_import", nOpset), func(g *field) error {
				var err error
				switch g.num {
				case 1:
					dom, err = g.str("domain")
				case 2:
					ver, err = g.int64v("version")
				}
				return err
			})
			nOpset++
			if dom == "ai.onnx" {
				dom = ""
			}
			m.opsets[dom] = ver
		case 7:
			if err = f.want(protowire.BytesType, "graph"); err != nil {
				return err
			}
			m.graph, err = decodeGraph(f.b, f.off, p+".graph")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if m.graph == nil {
		return nil, derr(len(b), p, "the model has no graph")
	}
	return m, nil
}

func decodeGraph(b []byte, base int, p string) (*graph, error) {
	g := &graph{}
	return g, fields(b, base, p, func(f *field) error {
		var err error
		sub := func(name string, k int) (string, error) {
			if err := f.want(protowire.BytesType, name); err != nil {
				return "", err
			}
			return idx(p, name, k), nil
		}
		var q string
		switch f.num {
		case 1:
			if q, err = sub("node", len(g.nodes)); err == nil {
				var n *node
				n, err = decodeNode(f.b, f.off, q)
				g.nodes = append(g.nodes, n)
			}
		case 2:
			g.name, err = f.str("name")
		case 5:
			if q, err = sub("initializer", len(g.inits)); err == nil {
				var t *tensorProto
				t, err = decodeTensorProto(f.b, f.off, q)
				g.inits = append(g.inits, t)
			}
		case 15:
			g.sparseInit++
		case 11, 12:
			name := "input"
			if f.num == 12 {
				name = "output"
			}
			k := len(g.inputs)
			if f.num == 12 {
				k = len(g.outputs)
			}
			if q, err = sub(name, k); err == nil {
				var v *valueInfo
				v, err = decodeValueInfo(f.b, f.off, q)
				if f.num == 11 {
					g.inputs = append(g.inputs, v)
				} else {
					g.outputs = append(g.outputs, v)
				}
			}
		}
		return err
	})
}

func decodeNode(b []byte, base int, p string) (*node, error) {
	n := &node{offset: base}
	return n, fields(b, base, p, func(f *field) error {
		var err error
		var s string
		switch f.num {
		case 1:
			s, err = f.str("input")
			n.inputs = append(n.inputs, s)
		case 2:
			s, err = f.str("output")
			n.outputs = append(n.outputs, s)
		case 3:
			n.name, err = f.str("name")
		case 4:
			n.opType, err = f.str("op_type")
		case 7:
			n.domain, err = f.str("domain")
		case 5:
			if err = f.want(protowire.BytesType, "attribute"); err != nil {
				return err
			}
			var a *attribute
			a, err = decodeAttribute(f.b, f.off, idx(p, "attribute", len(n.attrs)))
			n.attrs = append(n.attrs, a)
		}
		return err
	})
}

func decodeAttribute(b []byte, base int, p string) (*attribute, error) {
	a := &attribute{offset: base}
	var floats []uint32
	err := fields(b, base, p, func(f *field) error {
		var err error
		switch f.num {
		case 1:
			a.name, err = f.str("name")
		case 20:
			a.typ, err = f.int32v("type")
		case 21:
			a.refAttr, err = f.str("ref_attr_name")
		case 2:
			a.f, err = f.float32v("f")
		case 3:
			a.i, err = f.int64v("i")
		case 4:
			if err = f.want(protowire.BytesType, "s"); err == nil {
				a.s = f.b
			}
		case 5:
			if err = f.want(protowire.BytesType, "t"); err == nil {
				a.t, err = decodeTensorProto(f.b, f.off, p+".t")
			}
		case 6:
			a.graphs++
			if err = f.want(protowire.BytesType, "g"); err == nil {
				a.g, err = decodeGraph(f.b, f.off, p+".g")
			}
		case 11:
			a.graphs++
		case 22, 23:
			a.sparse = true
		case 14, 15:
			a.typeProt = true
		case 7:
			floats, err = f.fixed32s("floats", floats)
		case 8:
			a.ints, err = f.varints("ints", a.ints)
		case 9:
			if err = f.want(protowire.BytesType, "strings"); err == nil {
				a.strings = append(a.strings, f.b)
			}
		case 10:
			if err = f.want(protowire.BytesType, "tensors"); err == nil {
				var t *tensorProto
				t, err = decodeTensorProto(f.b, f.off, idx(p, "tensors", len(a.tensors)))
				a.tensors = append(a.tensors, t)
			}
		}
		return err
	})
	for _, u := range floats {
		a.floats = append(a.floats, math.Float32frombits(u))
	}
	return a, err
}

func decodeTensorProto(b []byte, base int, p string) (*tensorProto, error) {
	t := &tensorProto{offset: base}
	var f32 []uint32
	var i32 []int64
	var f64 []uint64
	err := fields(b, base, p, func(f *field) error {
		var err error
		switch f.num {
		case 1:
			t.dims, err = f.varints("dims", t.dims)
		case 2:
			t.dataType, err = f.int32v("data_type")
		case 3:
			t.segment = true
		case 4:
			f32, err = f.fixed32s("float_data", f32)
		case 5:
			i32, err = f.varints("int32_data", i32)
		case 6:
			t.strings++
		case 7:
			t.int64s, err = f.varints("int64_data", t.int64s)
		case 8:
			t.name, err = f.str("name")
		case 9:
			if err = f.want(protowire.BytesType, "raw_data"); err == nil {
				t.raw, t.hasRaw = f.b, true
			}
		case 10:
			f64, err = f.fixed64s("double_data", f64)
		case 11:
			var u []int64
			u, err = f.varints("uint64_data", nil)
			for _, v := range u {
				t.uint64s = append(t.uint64s, uint64(v))
			}
		case 13:
			if err = f.want(protowire.BytesType, "external_data"); err != nil {
				return err
			}
			var k, v string
			err = fields(f.b, f.off, p+".external_data", func(g *field) error {
				var err error
				switch g.num {
				case 1:
					k, err = g.str("key")
				case 2:
					v, err = g.str("value")
				}
				return err
			})
			if t.external == nil {
				t.external = map[string]string{}
			}
			t.external[k] = v
		case 14:
			t.location, err = f.int32v("data_location")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, u := range f32 {
		t.floats = append(t.floats, math.Float32frombits(u))
	}
	for _, v := range i32 {
		t.int32s = append(t.int32s, int32(v))
	}
	for _, u := range f64 {
		t.doubles = append(t.doubles, math.Float64frombits(u))
	}
	return t, nil
}

func decodeValueInfo(b []byte, base int, p string) (*valueInfo, error) {
	v := &valueInfo{offset: base}
	err := fields(b, base, p, func(f *field) error {
		switch f.num {
		case 1:
			var err error
			v.name, err = f.str("name")
			return err
		case 2:
			if err := f.want(protowire.BytesType, "type"); err != nil {
				return err
			}
			return fields(f.b, f.off, p+".type", func(g *field) error {
				switch g.num {
				case 1:
					if err := g.want(protowire.BytesType, "tensor_type"); err != nil {
						return err
					}
					v.isTensor, v.kind = true, "tensor"
					return decodeTensorType(g.b, g.off, p+".type.tensor_type", v)
				case 4:
					v.kind = "sequence"
				case 5:
					v.kind = "map"
				case 9:
					v.kind = "optional"
				case 8:
					v.kind = "sparse tensor"
				}
				return nil
			})
		}
		return nil
	})
	return v, err
}

func decodeTensorType(b []byte, base int, p string, v *valueInfo) error {
	return fields(b, base, p, func(f *field) error {
		switch f.num {
		case 1:
			var err error
			v.elem, err = f.int32v("elem_type")
			return err
		case 2:
			if err := f.want(protowire.BytesType, "shape"); err != nil {
				return err
			}
			v.hasShape = true
			return fields(f.b, f.off, p+".shape", func(g *field) error {
				if g.num != 1 {
					return nil
				}
				if err := g.want(protowire.BytesType, "dim"); err != nil {
					return err
				}
				var d dim
				err := fields(g.b, g.off, idx(p+".shape", "dim", len(v.dims)), func(h *field) error {
					var err error
					switch h.num {
					case 1:
						d.value, err = h.int64v("dim_value")
						d.known = true
					case 2:
						d.param, err = h.str("dim_param")
					}
					return err
				})
				v.dims = append(v.dims, d)
				return err
			})
		}
		return nil
	})
}

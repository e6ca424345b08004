package onnx

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// A tiny ModelProto writer for tests: enough of onnx.proto to build
// one-node models by hand, field numbers as in decode.go.

type pb []byte

func (b pb) varint(num protowire.Number, v uint64) pb {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func (b pb) bytes(num protowire.Number, v []byte) pb {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func (b pb) str(num protowire.Number, s string) pb { return b.bytes(num, []byte(s)) }

func (b pb) fixed32(num protowire.Number, v uint32) pb {
	b = protowire.AppendTag(b, num, protowire.Fixed32Type)
	return protowire.AppendFixed32(b, v)
}

// packed writes a packed repeated varint field.
func (b pb) packed(num protowire.Number, vs ...int64) pb {
	var p []byte
	for _, v := range vs {
		p = protowire.AppendVarint(p, uint64(v))
	}
	return b.bytes(num, p)
}

// tensorF32 is a FLOAT TensorProto with raw_data.
func tensorF32(name string, dims []int64, vals []float32) pb {
	raw := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return pb(nil).packed(1, dims...).varint(2, dtFloat).str(8, name).bytes(9, raw)
}

// tensorI64 is an INT64 TensorProto with int64_data.
func tensorI64(name string, dims []int64, vals []int64) pb {
	return pb(nil).packed(1, dims...).varint(2, dtInt64).str(8, name).packed(7, vals...)
}

func vinfo(name string, elem int32, dims ...int64) pb {
	var shape pb
	for _, d := range dims {
		shape = shape.bytes(1, pb(nil).varint(1, uint64(d)))
	}
	tt := pb(nil).varint(1, uint64(elem)).bytes(2, shape)
	return pb(nil).str(1, name).bytes(2, pb(nil).bytes(1, tt))
}

func attrInt(name string, v int64) pb {
	return pb(nil).str(1, name).varint(20, atInt).varint(3, uint64(v))
}

func attrInts(name string, vs ...int64) pb {
	return pb(nil).str(1, name).varint(20, atInts).packed(8, vs...)
}

func attrFloat(name string, v float32) pb {
	return pb(nil).str(1, name).varint(20, atFloat).fixed32(2, math.Float32bits(v))
}

func attrString(name, v string) pb {
	return pb(nil).str(1, name).varint(20, atString).str(4, v)
}

func attrStrings(name string, vs ...string) pb {
	b := pb(nil).str(1, name).varint(20, atStrings)
	for _, v := range vs {
		b = b.str(9, v)
	}
	return b
}

func attrTensor(name string, t pb) pb {
	return pb(nil).str(1, name).varint(20, atTensor).bytes(5, t)
}

func nodeProto(op, name string, ins, outs []string, attrs ...pb) pb {
	b := pb(nil)
	for _, s := range ins {
		b = b.str(1, s)
	}
	for _, s := range outs {
		b = b.str(2, s)
	}
	if name != "" {
		b = b.str(3, name)
	}
	b = b.str(4, op)
	for _, a := range attrs {
		b = b.bytes(5, a)
	}
	return b
}

// graphSpec collects the parts of a GraphProto.
type graphSpec struct {
	nodes, inits, inputs, outputs []pb
}

func (g graphSpec) bytes() pb {
	b := pb(nil).str(2, "test")
	for _, n := range g.nodes {
		b = b.bytes(1, n)
	}
	for _, t := range g.inits {
		b = b.bytes(5, t)
	}
	for _, v := range g.inputs {
		b = b.bytes(11, v)
	}
	for _, v := range g.outputs {
		b = b.bytes(12, v)
	}
	return b
}

func modelProto(opset int64, g graphSpec) []byte {
	return pb(nil).varint(1, 8).bytes(8, pb(nil).str(1, "").varint(2, uint64(opset))).bytes(7, g.bytes())
}

package onnx

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/runtime"
)

// elemStrs formats each element of t (bits and all: -0, NaN, Inf).
func elemStrs(t *ir.Tensor) []string {
	v := reflect.ValueOf(t.Data)
	out := make([]string, v.Len())
	for i := range out {
		out[i] = fmt.Sprint(v.Index(i))
	}
	return out
}

// edgeTensor holds the extremes of dt: its minimum and maximum, 0, ±1
// where they exist; for floats also -0, ±Inf, NaN and a fraction.
func edgeTensor(dt ir.DType) *ir.Tensor {
	var t *ir.Tensor
	switch {
	case dt.IsFloat():
		vals := []float64{0, math.Copysign(0, -1), 1, -2.5, 0.1, math.Inf(1), math.Inf(-1), math.NaN(), 65504}
		t = ir.NewTensor(dt, ir.Shape{len(vals)})
		for i, v := range vals {
			t.SetFloat(i, v)
		}
	case dt == ir.Bool:
		t = ir.FromSlice(ir.Bool, ir.Shape{3}, []bool{true, false, true})
	default:
		lo, hi := ir.IntRange(dt)
		vals := []int64{lo, hi, 0, 1, -1} // -1 wraps to the maximum of unsigned types
		if dt == ir.U64 {
			vals[1] = 1 << 62
		}
		t = ir.NewTensor(dt, ir.Shape{len(vals)})
		for i, v := range vals {
			t.SetInt(i, v)
		}
	}
	return t
}

// tensorRaw is a TensorProto of t's dtype with raw_data.
func tensorRaw(name string, t *ir.Tensor) pb {
	var buf bytes.Buffer
	if err := binary.Write(&buf, binary.LittleEndian, t.Data); err != nil {
		panic(err)
	}
	raw := buf.Bytes()
	if packedPerByte(t.DType) > 1 {
		raw = packLow(t)
	}
	return pb(nil).packed(1, int64(t.Len())).varint(2, uint64(onnxType(t.DType))).str(8, name).bytes(9, raw)
}

// packLow packs a 4- or 2-bit tensor as ONNX does: low bits first.
func packLow(t *ir.Tensor) []byte {
	per := packedPerByte(t.DType)
	bits := 8 / per
	out := make([]byte, (t.Len()+per-1)/per)
	for i := range t.Len() {
		var v byte
		if t.DType == ir.F4E2M1 {
			v = ir.Elems[uint8](t)[i]
		} else {
			v = byte(t.Int(i))
		}
		out[i/per] |= v & (1<<bits - 1) << (uint(i%per) * uint(bits))
	}
	return out
}

// tensorTyped is a TensorProto of t's dtype with the typed field ONNX
// stores it in (float_data, double_data, int32_data, int64_data or
// uint64_data).
func tensorTyped(name string, t *ir.Tensor) pb {
	b := pb(nil).packed(1, int64(t.Len())).varint(2, uint64(onnxType(t.DType))).str(8, name)
	var raw bytes.Buffer
	switch t.DType {
	case ir.F32:
		binary.Write(&raw, binary.LittleEndian, t.Data)
		return b.bytes(4, raw.Bytes())
	case ir.F64:
		binary.Write(&raw, binary.LittleEndian, t.Data)
		return b.bytes(10, raw.Bytes())
	}
	if packedPerByte(t.DType) > 1 { // one packed byte a value
		var vals []int64
		for _, v := range packLow(t) {
			vals = append(vals, int64(v))
		}
		return b.packed(5, vals...)
	}
	vals := make([]int64, t.Len())
	for i := range vals {
		switch {
		case ir.LowFloats.Has(t.DType):
			vals[i] = int64(ir.Elems[uint8](t)[i])
		case t.DType == ir.F16 || t.DType == ir.BF16:
			vals[i] = int64(ir.Elems[uint16](t)[i])
		default:
			vals[i] = t.Int(i)
		}
	}
	switch t.DType {
	case ir.I64:
		return b.packed(7, vals...)
	case ir.U32, ir.U64:
		return b.packed(11, vals...)
	}
	return b.packed(5, vals...)
}

// TestNativeDTypes imports every dtype of ir's table as it is, from
// raw_data and from the typed fields, as initializers and as a graph
// input and output, and moves it through Concat, Transpose, Reshape,
// Gather, Squeeze and Unsqueeze (dtype-generic data movement).
func TestNativeDTypes(t *testing.T) {
	for _, dt := range ir.DTypes() {
		if !ir.AnyDType.Has(dt) {
			continue // the low-precision dtypes: TestLowPrecisionImport
		}
		want := edgeTensor(dt)
		n := int64(want.Len())
		elem := onnxType(dt)
		g, err := Import("m.onnx", modelProto(13, graphSpec{
			inits:   []pb{tensorRaw("R", want), tensorTyped("T", want), tensorI64("idx", []int64{2}, []int64{-1, 0}), tensorI64("ax", []int64{1}, []int64{0})},
			inputs:  []pb{vinfo("X", elem, n)},
			outputs: []pb{vinfo("Y", elem, 3, n), vinfo("Z", elem, 2), vinfo("W", elem, n)},
			nodes: []pb{
				nodeProto("Unsqueeze", "u", []string{"X", "ax"}, []string{"x1"}),
				nodeProto("Unsqueeze", "ur", []string{"R", "ax"}, []string{"r1"}),
				nodeProto("Unsqueeze", "ut", []string{"T", "ax"}, []string{"t1"}),
				nodeProto("Concat", "cat", []string{"x1", "r1", "t1"}, []string{"c"}, attrInt("axis", 0)),
				nodeProto("Transpose", "tr", []string{"c"}, []string{"ct"}),
				nodeProto("Transpose", "tr2", []string{"ct"}, []string{"Y"}),
				nodeProto("Gather", "ga", []string{"X", "idx"}, []string{"Z"}),
				nodeProto("Squeeze", "sq", []string{"x1", "ax"}, []string{"W"}),
			},
		}), "")
		if err != nil {
			t.Errorf("%v: %v", dt, err)
			continue
		}
		if g.Inputs[0].Type.DType != dt {
			t.Errorf("%v: graph input is %v", dt, g.Inputs[0].Type)
		}
		outs, err := runtime.Run(g, []*ir.Tensor{want})
		if err != nil {
			t.Errorf("%v: %v", dt, err)
			continue
		}
		for i, o := range outs {
			if o.DType != dt {
				t.Errorf("%v: output %d is %v", dt, i, o.Type())
			}
		}
		w := elemStrs(want)
		if got, want := elemStrs(outs[0]), slices.Concat(w, w, w); !slices.Equal(got, want) {
			t.Errorf("%v: concat of input, raw and typed initializers: got %s, want %s", dt, got, want)
		}
		if got, want := elemStrs(outs[1]), []string{w[n-1], w[0]}; !slices.Equal(got, want) {
			t.Errorf("%v: gather [-1 0]: got %s, want %s", dt, got, want)
		}
		if got := elemStrs(outs[2]); !slices.Equal(got, w) {
			t.Errorf("%v: squeeze: got %s, want %s", dt, got, w)
		}
	}
}

// TestDTypeRefusal: an op given a dtype its ir op does not take is a
// refusal naming the ONNX node and the dtype, not a crash.
func TestDTypeRefusal(t *testing.T) {
	for _, tc := range []struct {
		node pb
		elem int32
		want []string // each in the message, case aside
	}{
		{nodeProto("MaxPool", "pool", []string{"X"}, []string{"Y"}, attrInts("kernel_shape", 2, 2)), dtInt32,
			[]string{`node "pool" (MaxPool, opset 13): input "X" is int32; dlc's maxpool supports {f32, f64} for x`}},
		{nodeProto("ReduceMax", "rmax", []string{"X"}, []string{"Y"}), dtInt32,
			[]string{`node "rmax" (ReduceMax, opset 13)`, "int32", "f32"}},
		{nodeProto("Conv", "conv", []string{"X", "X"}, []string{"Y"}), dtInt32,
			[]string{`node "conv" (Conv, opset 13): input "X" is int32; dlc's conv supports {f32, f64} for x`}},
	} {
		_, err := Import("m.onnx", modelProto(13, graphSpec{
			inputs:  []pb{vinfo("X", tc.elem, 1, 1, 4, 4)},
			outputs: []pb{vinfo("Y", tc.elem)},
			nodes:   []pb{tc.node},
		}), "")
		var u *UnsupportedError
		if !errorsAs(err, &u) {
			t.Errorf("got %v, want an UnsupportedError", err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(w)) {
				t.Errorf("got %v, want %q in it", err, w)
			}
		}
	}
}

// TestCastImport maps Cast and CastLike from every dtype to every other
// onto ir cast: values known at import are folded, the others run in
// the interpreter, and both agree with ir.Convert.
func TestCastImport(t *testing.T) {
	for _, from := range ir.DTypes() {
		x := edgeTensor(from)
		n := int64(x.Len())
		for _, to := range ir.DTypes() {
			like := ir.NewTensor(to, ir.Shape{1})
			g, err := Import("m.onnx", modelProto(19, graphSpec{
				inits:   []pb{tensorRaw("K", x), tensorRaw("L", like)},
				inputs:  []pb{vinfo("X", onnxType(from), n)},
				outputs: []pb{vinfo("Y", onnxType(to), n), vinfo("Z", onnxType(to), n), vinfo("W", onnxType(to), n)},
				nodes: []pb{
					nodeProto("Cast", "c", []string{"X"}, []string{"Y"}, attrInt("to", int64(onnxType(to)))),
					nodeProto("Cast", "k", []string{"K"}, []string{"Z"}, attrInt("to", int64(onnxType(to))), attrInt("saturate", 0)),
					nodeProto("CastLike", "l", []string{"X", "L"}, []string{"W"}),
				},
			}), "")
			if err != nil {
				t.Errorf("%v to %v: %v", from, to, err)
				continue
			}
			outs, err := runtime.Run(g, []*ir.Tensor{x})
			if err != nil {
				t.Errorf("%v to %v: %v", from, to, err)
				continue
			}
			for i, o := range outs {
				want := elemStrs(ir.Convert(x, to))
				if i == 1 { // saturate=0: float8 overflow gives NaN or Inf
					want = elemStrs(ir.ConvertMode(x, to, ir.CastMode{NoSaturate: true}))
				}
				if got := elemStrs(o); o.DType != to || !slices.Equal(got, want) {
					t.Errorf("%v to %v, output %d: got %v %s, want %s", from, to, i, o.DType, got, want)
				}
			}
		}
	}
}

// TestCastRules pins the conversions ONNX and numpy define, and the ones
// dlc fixes where they leave the result undefined (NaN and out-of-range
// floats to integers: 0 and saturation).
func TestCastRules(t *testing.T) {
	f := ir.FromF32(ir.Shape{8}, []float32{-2.7, 2.7, -0.5, float32(math.Copysign(0, -1)), float32(math.NaN()), 1e10, -1e10, float32(math.Inf(1))})
	i32 := ir.FromSlice(ir.I32, ir.Shape{4}, []int32{300, -1, -129, 1 << 20})
	for _, tc := range []struct {
		x    *ir.Tensor
		to   ir.DType
		want string
	}{
		{f, ir.I32, "[-2 2 0 0 0 2147483647 -2147483648 2147483647]"}, // toward zero; NaN 0; saturated
		{f, ir.U8, "[0 2 0 0 0 255 0 255]"},
		{f, ir.Bool, "[true true true false true true true true]"}, // nonzero (NaN too) is true
		{i32, ir.U8, "[44 255 127 0]"},                             // integers wrap
		{i32, ir.I8, "[44 -1 127 0]"},
		{i32, ir.F16, "[23728 48128 55304 31744]"}, // bits of 300, -1, -129; 2^20 overflows to +Inf
	} {
		g, err := Import("m.onnx", modelProto(13, graphSpec{
			inputs:  []pb{vinfo("X", onnxType(tc.x.DType), int64(tc.x.Len()))},
			outputs: []pb{vinfo("Y", onnxType(tc.to), int64(tc.x.Len()))},
			nodes:   []pb{nodeProto("Cast", "c", []string{"X"}, []string{"Y"}, attrInt("to", int64(onnxType(tc.to))))},
		}), "")
		if err != nil {
			t.Fatal(err)
		}
		outs, err := runtime.Run(g, []*ir.Tensor{tc.x})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(outs[0].Data); got != tc.want {
			t.Errorf("cast %v %v to %v: got %s, want %s", tc.x.DType, elemStrs(tc.x), tc.to, got, tc.want)
		}
	}
}

// TestLogicImport maps Mod (both rules), BitShift, IsInf and the
// comparisons onto ir ops, and folds them on known values.
func TestLogicImport(t *testing.T) {
	k := ir.FromSlice(ir.I32, ir.Shape{4}, []int32{-7, 7, -7, 7})
	g := mustImport(t, modelProto(13, graphSpec{
		inits:   []pb{tensorRaw("D", ir.FromSlice(ir.I32, ir.Shape{4}, []int32{2, -2, -2, 2})), tensorRaw("S", ir.FromSlice(ir.U8, ir.Shape{1}, []uint8{3}))},
		inputs:  []pb{vinfo("X", dtInt32, 4), vinfo("U", dtUint8, 4), vinfo("F", dtFloat, 4)},
		outputs: []pb{vinfo("M0", dtInt32, 4), vinfo("M1", dtInt32, 4), vinfo("L", dtUint8, 4), vinfo("I", dtBool, 4), vinfo("E", dtBool, 4)},
		nodes: []pb{
			nodeProto("Mod", "m0", []string{"X", "D"}, []string{"M0"}),
			nodeProto("Mod", "m1", []string{"X", "D"}, []string{"M1"}, attrInt("fmod", 1)),
			nodeProto("BitShift", "sh", []string{"U", "S"}, []string{"L"}, attrString("direction", "LEFT")),
			nodeProto("IsInf", "inf", []string{"F"}, []string{"I"}, attrInt("detect_positive", 0)),
			nodeProto("Equal", "eqk", []string{"D", "D"}, []string{"dd"}), // known: folded
			nodeProto("Not", "not", []string{"dd"}, []string{"nd"}),
			nodeProto("Where", "w", []string{"nd", "F", "F"}, []string{"wf"}),
			nodeProto("Less", "lt", []string{"wf", "F"}, []string{"E"}),
		},
	}))
	if got := ops(g); got != "remainder,fmod,bitwise_left_shift,isinf,where,lt" {
		t.Errorf("ops: %s", got)
	}
	u := ir.FromSlice(ir.U8, ir.Shape{4}, []uint8{1, 32, 255, 0})
	f := ir.FromF32(ir.Shape{4}, []float32{float32(math.Inf(-1)), float32(math.Inf(1)), float32(math.NaN()), 1})
	outs, err := runtime.Run(g, []*ir.Tensor{k, u, f})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"[1 -1 -1 1]", "[-1 1 -1 1]", "[8 0 248 0]", "[true false false false]", "[false false false false]"}
	for i, w := range want {
		if got := fmt.Sprint(outs[i].Data); got != w {
			t.Errorf("output %s: got %s, want %s", g.OutputNames[i], got, w)
		}
	}
}

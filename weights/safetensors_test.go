package weights

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// rawST assembles a safetensors file from a literal header and data section.
func rawST(header string, body []byte) []byte {
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	out = append(out, header...)
	return append(out, body...)
}

func le32(vs ...uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b
}

func le16(vs ...uint16) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint16(b, v)
	}
	return b
}

func le64(vs ...uint64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b
}

func f32bits(vs ...float32) []uint32 {
	out := make([]uint32, len(vs))
	for i, v := range vs {
		out[i] = math.Float32bits(v)
	}
	return out
}

func sampleTensors() map[string]*Tensor {
	nan := math.Float32frombits(0x7fc00123) // NaN with a payload
	negZero := float32(math.Copysign(0, -1))
	return map[string]*Tensor{
		"fc1.weight":  {DType: F32, Shape: []int{2, 3}, Data: []float32{1, -2.5, 3e-40, nan, negZero, float32(math.Inf(-1))}},
		"fc1.bias":    {DType: F32, Shape: []int{3}, Data: []float32{0.1, 0.2, 0.3}},
		"scalar":      {DType: F32, Data: []float32{42}},
		"empty":       {DType: F32, Shape: []int{0, 4}},
		"empty.i":     {DType: I64, Shape: []int{3, 0}},
		"ids":         {DType: I64, Shape: []int{2, 2}, Data: []int64{math.MinInt64, -1, 0, math.MaxInt64}},
		"ünïcødé/<&>": {DType: I64, Shape: []int{1, 1, 1}, Data: []int64{7}},
	}
}

func checkSameFile(t *testing.T, want map[string]*Tensor, wantMD map[string]string, got *File) {
	t.Helper()
	if len(got.Tensors) != len(want) || len(got.Names) != len(want) {
		t.Fatalf("got %d tensors / %d names, want %d", len(got.Tensors), len(got.Names), len(want))
	}
	for name, w := range want {
		g, ok := got.Tensors[name]
		if !ok {
			t.Fatalf("tensor %q missing", name)
		}
		if !sameTensor(g, w) {
			t.Errorf("tensor %q = %+v, want %+v", name, g, w)
		}
	}
	if len(got.Metadata) != len(wantMD) {
		t.Errorf("metadata = %v, want %v", got.Metadata, wantMD)
	}
	for k, v := range wantMD {
		if got.Metadata[k] != v {
			t.Errorf("metadata[%q] = %q, want %q", k, got.Metadata[k], v)
		}
	}
}

func TestSafetensorsRoundTrip(t *testing.T) {
	ts := sampleTensors()
	md := map[string]string{"format": "pt", "note": "quote \" and <html> & \u00e9"}
	data, err := EncodeSafetensors(ts, md)
	if err != nil {
		t.Fatal(err)
	}
	hlen := binary.LittleEndian.Uint64(data)
	if hlen%8 != 0 {
		t.Errorf("header length %d not a multiple of 8", hlen)
	}
	f, err := ParseSafetensors(data, "rt.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	checkSameFile(t, ts, md, f)
	// Data is laid out in sorted name order, so Names (offset order) must be
	// sorted too, except that empty tensors all sit at equal offsets.
	for i := 1; i < len(f.Names); i++ {
		if f.Names[i-1] >= f.Names[i] {
			a, b := f.Tensors[f.Names[i-1]], f.Tensors[f.Names[i]]
			if a.Len() != 0 && b.Len() != 0 {
				t.Errorf("Names not in offset order: %q before %q", f.Names[i-1], f.Names[i])
			}
		}
	}
	// Re-encoding is byte-identical.
	again, err := EncodeSafetensors(f.Tensors, f.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, data) {
		t.Error("re-encoding the parsed file changed its bytes")
	}
}

func TestEncodeSafetensorsDeterministicGolden(t *testing.T) {
	ts := map[string]*Tensor{
		"b": {DType: I64, Shape: []int{2}, Data: []int64{1, -1}},
		"a": {DType: F32, Shape: []int{1}, Data: []float32{1}},
	}
	got, err := EncodeSafetensors(ts, map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	header := `{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"I64","shape":[2],"data_offsets":[4,20]}}`
	for len(header)%8 != 0 {
		header += " "
	}
	want := rawST(header, append(le32(0x3f800000), le64(1, math.MaxUint64)...))
	if !bytes.Equal(got, want) {
		t.Errorf("EncodeSafetensors =\n%q\nwant\n%q", got, want)
	}
	for range 5 {
		again, _ := EncodeSafetensors(ts, map[string]string{"k": "v"})
		if !bytes.Equal(again, got) {
			t.Fatal("EncodeSafetensors is not deterministic")
		}
	}
	// No tensors, no metadata.
	empty, err := EncodeSafetensors(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := rawST("{}      ", nil); !bytes.Equal(empty, want) {
		t.Errorf("empty file = %q, want %q", empty, want)
	}
	f, err := ParseSafetensors(empty, "empty")
	if err != nil || len(f.Tensors) != 0 || len(f.Names) != 0 || f.Metadata != nil {
		t.Errorf("parse empty = %+v, %v", f, err)
	}
}

func TestSafetensorsDTypes(t *testing.T) {
	body := []byte{}
	add := func(b []byte) (int, int) {
		begin := len(body)
		body = append(body, b...)
		return begin, len(body)
	}
	type tc struct {
		dtype string
		shape string
		raw   []byte
		want  *Tensor
	}
	cases := map[string]tc{
		"f32": {"F32", "[2]", le32(f32bits(1.5, -0.25)...), &Tensor{DType: F32, Shape: []int{2}, Data: []float32{1.5, -0.25}}},
		"f16": {"F16", "[2,3]", le16(0x3c00, 0xc000, 0x0001, 0x7bff, 0xfc00, 0x8000),
			&Tensor{DType: F16, Shape: []int{2, 3}, Data: []uint16{0x3c00, 0xc000, 0x0001, 0x7bff, 0xfc00, 0x8000}}},
		"bf16": {"BF16", "[3]", le16(0x3f80, 0xc040, 0x0001),
			&Tensor{DType: BF16, Shape: []int{3}, Data: []uint16{0x3f80, 0xc040, 0x0001}}},
		"f64": {"F64", "[4]", le64(math.Float64bits(0.1), math.Float64bits(-1e300), math.Float64bits(1e-50), math.Float64bits(2.5)),
			&Tensor{DType: F64, Shape: []int{4}, Data: []float64{0.1, -1e300, 1e-50, 2.5}}},
		"i64": {"I64", "[2]", le64(math.MaxUint64, 1<<62), &Tensor{DType: I64, Shape: []int{2}, Data: []int64{-1, 1 << 62}}},
		"i32": {"I32", "[1,3]", le32(0xffffffff, 0x80000000, 0x7fffffff),
			&Tensor{DType: I32, Shape: []int{1, 3}, Data: []int32{-1, math.MinInt32, math.MaxInt32}}},
		"scalar": {"I32", "[]", le32(5), &Tensor{DType: I32, Shape: []int{}, Data: []int32{5}}},
		"zero":   {"F16", "[0,7]", nil, &Tensor{DType: F16, Shape: []int{0, 7}, Data: []uint16{}}},
		"i8":     {"I8", "[3]", []byte{0x80, 0xff, 7}, &Tensor{DType: I8, Shape: []int{3}, Data: []int8{-128, -1, 7}}},
		"i16":    {"I16", "[1]", le16(0x8000), &Tensor{DType: I16, Shape: []int{1}, Data: []int16{math.MinInt16}}},
		"u8":     {"U8", "[2]", []byte{0xff, 0}, &Tensor{DType: U8, Shape: []int{2}, Data: []uint8{255, 0}}},
		"u16":    {"U16", "[1]", le16(0xffff), &Tensor{DType: U16, Shape: []int{1}, Data: []uint16{0xffff}}},
		"u32":    {"U32", "[1]", le32(0xffffffff), &Tensor{DType: U32, Shape: []int{1}, Data: []uint32{0xffffffff}}},
		"u64":    {"U64", "[1]", le64(math.MaxUint64), &Tensor{DType: U64, Shape: []int{1}, Data: []uint64{math.MaxUint64}}},
		"bool":   {"BOOL", "[3]", []byte{1, 0, 1}, &Tensor{DType: Bool, Shape: []int{3}, Data: []bool{true, false, true}}},
	}
	var parts []string
	for name, c := range cases {
		b, e := add(c.raw)
		parts = append(parts, `"`+name+`":{"dtype":"`+c.dtype+`","shape":`+c.shape+`,"data_offsets":[`+strconv.Itoa(b)+`,`+strconv.Itoa(e)+`]}`)
	}
	f, err := ParseSafetensors(rawST("{"+strings.Join(parts, ",")+"}", body), "dtypes.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range cases {
		got := f.Tensors[name]
		if got == nil {
			t.Fatalf("missing %q", name)
		}
		checkTensorInvariants(t, name, got)
		if !sameTensor(got, c.want) && !(got.Len() == 0 && c.want.Len() == 0 && got.DType == c.want.DType) {
			t.Errorf("%s: got %+v, want %+v", name, got, c.want)
		}
	}
}

func TestSafetensorsNamesInOffsetOrder(t *testing.T) {
	header := `{"z":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},` +
		`"a":{"dtype":"F32","shape":[1],"data_offsets":[12,16]},` +
		`"m":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},` +
		`"e2":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},` +
		`"e1":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}`
	f, err := ParseSafetensors(rawST(header, make([]byte, 16)), "order")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"z", "e1", "e2", "m", "a"}
	if strings.Join(f.Names, ",") != strings.Join(want, ",") {
		t.Errorf("Names = %v, want %v", f.Names, want)
	}
}

func TestSafetensorsGapsAndPaddingAllowed(t *testing.T) {
	// Uncovered bytes before, between and after tensors, whitespace around
	// the JSON, and an empty tensor positioned inside another's range.
	header := " \n{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}, " +
		"\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}," +
		"\"c\":{\"dtype\":\"I64\",\"shape\":[0],\"data_offsets\":[14,14]}}   \t"
	body := append(append(le32(9), le32(f32bits(1)...)...), append(le32(9), le32(f32bits(2)...)...)...)
	body = append(body, 1, 2, 3)
	f, err := ParseSafetensors(rawST(header, body), "gaps")
	if err != nil {
		t.Fatal(err)
	}
	if f.Tensors["a"].F32()[0] != 1 || f.Tensors["b"].F32()[0] != 2 || f.Tensors["c"].Len() != 0 {
		t.Errorf("got %+v %+v %+v", f.Tensors["a"], f.Tensors["b"], f.Tensors["c"])
	}
	if f.Metadata != nil {
		t.Errorf("Metadata = %v, want nil", f.Metadata)
	}
}

func TestSafetensorsMetadata(t *testing.T) {
	f, err := ParseSafetensors(rawST(`{"__metadata__":{"format":"pt","x":""}}`, nil), "md")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Metadata) != 2 || f.Metadata["format"] != "pt" || f.Metadata["x"] != "" {
		t.Errorf("Metadata = %v", f.Metadata)
	}
	if len(f.Tensors) != 0 || len(f.Names) != 0 {
		t.Errorf("unexpected tensors %v", f.Names)
	}
	f, err = ParseSafetensors(rawST(`{"__metadata__":{}}`, nil), "md")
	if err != nil || f.Metadata == nil || len(f.Metadata) != 0 {
		t.Errorf("empty metadata: %v, %v", f, err)
	}
}

// stEntry builds one header entry for malformed-file tests.
func stEnt(name, dtype, shape, offsets string) string {
	return `"` + name + `":{"dtype":"` + dtype + `","shape":` + shape + `,"data_offsets":` + offsets + `}`
}

func TestSafetensorsMalformed(t *testing.T) {
	good := stEnt("w", "F32", "[2]", "[0,8]")
	body8 := make([]byte, 8)
	hugeLen := func(n uint64) []byte {
		b := binary.LittleEndian.AppendUint64(nil, n)
		return append(b, "{}"...)
	}
	cases := []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"empty", nil, "m.st: file is 0 bytes, too short"},
		{"seven bytes", []byte{1, 2, 3, 4, 5, 6, 7}, "too short"},
		{"header len max uint64", hugeLen(math.MaxUint64), "exceeds the limit"},
		{"header len 2^63", hugeLen(1 << 63), "exceeds the limit"},
		{"header len 101MB", hugeLen(101 << 20), "exceeds the limit"},
		{"header len past EOF", hugeLen(3), "header length 3 exceeds the 2 bytes after the length prefix"},
		{"truncated header", rawST("{"+good+"}", body8)[:20], "exceeds"},
		{"truncated data", rawST("{"+good+"}", body8[:7]), `tensor "w": data_offsets [0,8] exceed the data section of 7 bytes`},
		{"zero header", rawST("", nil), "unexpected end of input"},
		{"spaces only", rawST("    ", nil), "unexpected end of input"},
		{"bad json", rawST(`{"w":{"dtype":"F32",}`, body8), "invalid JSON"},
		{"unterminated", rawST(`{"w":{"dtype":"F32"`, body8), "invalid JSON"},
		{"array header", rawST(`[1,2]`, nil), "want a JSON object"},
		{"string header", rawST(`"x"`, nil), "want a JSON object"},
		{"null header", rawST(`null`, nil), "want a JSON object"},
		{"trailing garbage", rawST(`{} {}`, nil), "unexpected data after the JSON object"},
		{"trailing junk", rawST(`{}x`, nil), "invalid JSON"},
		{"invalid utf8", rawST("{\"\xff\":1}", nil), "not valid UTF-8"},
		{"duplicate tensor", rawST("{"+good+","+good+"}", body8), `duplicate key "w"`},
		{"duplicate field", rawST(`{"w":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, body8), `duplicate key "dtype"`},
		{"entry not object", rawST(`{"w":[1]}`, body8), `tensor "w": got "[", want a JSON object`},
		{"entry null", rawST(`{"w":null}`, body8), `tensor "w": got null`},
		{"unknown field", rawST(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1}}`, body8), `unknown field "extra"`},
		{"case-folded field", rawST(`{"w":{"DTYPE":"F32","shape":[2],"data_offsets":[0,8]}}`, body8), `unknown field "DTYPE"`},
		{"missing dtype", rawST(`{"w":{"shape":[2],"data_offsets":[0,8]}}`, body8), "missing dtype"},
		{"missing shape", rawST(`{"w":{"dtype":"F32","data_offsets":[0,8]}}`, body8), "missing shape"},
		{"missing offsets", rawST(`{"w":{"dtype":"F32","shape":[2]}}`, body8), "missing data_offsets"},
		{"dtype number", rawST(`{"w":{"dtype":1,"shape":[2],"data_offsets":[0,8]}}`, body8), "dtype is 1, want a string"},
		{"dtype null", rawST(`{"w":{"dtype":null,"shape":[2],"data_offsets":[0,8]}}`, body8), "want a string"},
		{"unsupported dtype", rawST("{"+stEnt("w", "C64", "[1]", "[0,8]")+"}", body8), `unsupported dtype "C64"`},
		{"lowercase dtype", rawST("{"+stEnt("w", "f32", "[2]", "[0,8]")+"}", body8), `unsupported dtype "f32"`},
		{"shape null", rawST("{"+stEnt("w", "F32", "null", "[0,8]")+"}", body8), "shape: got null, want an array"},
		{"shape object", rawST("{"+stEnt("w", "F32", "{}", "[0,8]")+"}", body8), "want an array"},
		{"shape float", rawST("{"+stEnt("w", "F32", "[2.0]", "[0,8]")+"}", body8), "element 0 is 2.0, want an integer"},
		{"shape exp", rawST("{"+stEnt("w", "F32", "[2e0]", "[0,8]")+"}", body8), "want an integer"},
		{"shape string", rawST("{"+stEnt("w", "F32", `["2"]`, "[0,8]")+"}", body8), `element 0 is "2", want an integer`},
		{"shape nested", rawST("{"+stEnt("w", "F32", `[[2]]`, "[0,8]")+"}", body8), "want an integer"},
		{"shape bool", rawST("{"+stEnt("w", "F32", `[true]`, "[0,8]")+"}", body8), "want an integer"},
		{"negative dim", rawST("{"+stEnt("w", "F32", "[-2]", "[0,8]")+"}", body8), `tensor "w": shape [-2]: dimension 0 is -2, must be non-negative`},
		{"negative dim with zero", rawST("{"+stEnt("w", "F32", "[0,-1]", "[0,0]")+"}", body8), "must be non-negative"},
		{"overflow dims", rawST("{"+stEnt("w", "F32", "[4294967296,4294967296]", "[0,8]")+"}", body8), "overflows"},
		{"overflow dims with zero", rawST("{"+stEnt("w", "F32", "[9223372036854775807,2,0]", "[0,0]")+"}", body8), "overflows"},
		{"dim beyond int64", rawST("{"+stEnt("w", "F32", "[99999999999999999999]", "[0,8]")+"}", body8), "out of range"},
		{"bytes overflow", rawST("{"+stEnt("w", "F64", "[2305843009213693952]", "[0,8]")+"}", body8), on64("too large", "overflows")},
		{"offsets one", rawST("{"+stEnt("w", "F32", "[2]", "[8]")+"}", body8), "data_offsets has 1 elements, want 2"},
		{"offsets three", rawST("{"+stEnt("w", "F32", "[2]", "[0,4,8]")+"}", body8), "has 3 elements"},
		{"offsets null", rawST("{"+stEnt("w", "F32", "[2]", "null")+"}", body8), "data_offsets: got null"},
		{"offsets negative", rawST("{"+stEnt("w", "F32", "[2]", "[-8,0]")+"}", body8), "negative"},
		{"offsets float", rawST("{"+stEnt("w", "F32", "[2]", "[0,8.5]")+"}", body8), "want an integer"},
		{"offsets huge", rawST("{"+stEnt("w", "F32", "[2]", "[0,18446744073709551615]")+"}", body8), "out of range"},
		{"end before begin", rawST("{"+stEnt("w", "F32", "[0]", "[8,0]")+"}", body8), "data_offsets [8,0] end before they begin"},
		{"offsets out of range", rawST("{"+stEnt("w", "F32", "[2]", "[8,16]")+"}", body8), "data_offsets [8,16] exceed the data section of 8 bytes"},
		{"begin out of range", rawST("{"+stEnt("w", "F32", "[0]", "[9,9]")+"}", body8), "exceed the data section"},
		{"size too small", rawST("{"+stEnt("w", "F32", "[3]", "[0,8]")+"}", body8), "data_offsets [0,8] give 8 bytes, want 4*3=12 for F32[3]"},
		{"size too big", rawST("{"+stEnt("w", "F16", "[2]", "[0,8]")+"}", body8), "give 8 bytes, want 2*2=4 for F16[2]"},
		{"scalar size", rawST("{"+stEnt("w", "I64", "[]", "[0,4]")+"}", body8), "give 4 bytes, want 8=8 for I64[]"},
		{"overlap", rawST("{"+stEnt("a", "F32", "[2]", "[0,8]")+","+stEnt("b", "F32", "[1]", "[4,8]")+"}", body8),
			`tensor "b": data_offsets [4,8] overlap tensor "a" data_offsets [0,8]`},
		{"identical ranges", rawST("{"+stEnt("a", "F32", "[2]", "[0,8]")+","+stEnt("b", "I64", "[1]", "[0,8]")+"}", body8), "overlap"},
		{"contained range", rawST("{"+stEnt("a", "F32", "[4]", "[0,16]")+","+stEnt("b", "F32", "[1]", "[4,8]")+","+stEnt("c", "F32", "[1]", "[12,16]")+"}", make([]byte, 16)), "overlap"},
		{"empty name", rawST("{"+stEnt("", "F32", "[2]", "[0,8]")+"}", body8), `tensor "": empty tensor name`},
		{"metadata not object", rawST(`{"__metadata__":"x"}`, nil), "__metadata__: got string"},
		{"metadata null", rawST(`{"__metadata__":null}`, nil), "__metadata__: got null"},
		{"metadata number value", rawST(`{"__metadata__":{"a":1}}`, nil), `value of "a" is 1, want a string`},
		{"metadata nested", rawST(`{"__metadata__":{"a":{"b":"c"}}}`, nil), "want a string"},
		{"metadata duplicate", rawST(`{"__metadata__":{"a":"1","a":"2"}}`, nil), `duplicate key "a"`},
		{"duplicate metadata", rawST(`{"__metadata__":{},"__metadata__":{}}`, nil), "duplicate key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := ParseSafetensors(c.data, "m.st")
			if err == nil {
				t.Fatalf("no error; got %d tensors", len(f.Tensors))
			}
			t.Log(err)
			if !strings.HasPrefix(err.Error(), "m.st: ") {
				t.Errorf("error %q does not name the file", err)
			}
			if !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("error %q does not contain %q", err, c.wantErr)
			}
		})
	}
}

func TestSafetensorsErrorMessageExample(t *testing.T) {
	data := rawST("{"+stEnt("fc1.weight", "F32", "[3,10]", "[0,100]")+"}", make([]byte, 100))
	_, err := ParseSafetensors(data, "model.safetensors")
	want := `model.safetensors: tensor "fc1.weight": data_offsets [0,100] give 100 bytes, want 4*3*10=120 for F32[3,10]`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}
}

// TestSafetensorsHugeClaimsDoNotAllocate checks that absurd sizes claimed
// by a small file are refused without a large allocation.
func TestSafetensorsHugeClaimsDoNotAllocate(t *testing.T) {
	inputs := [][]byte{
		rawST("{"+stEnt("w", "F32", "[1099511627776]", "[0,4398046511104]")+"}", body(64)),
		rawST("{"+stEnt("w", "F64", "[1073741824,1024]", "[0,8796093022208]")+"}", body(64)),
		rawST("{"+stEnt("w", "F32", "[268435456]", "[0,1073741824]")+"}", body(64)),
		binary.LittleEndian.AppendUint64(nil, 1<<40),
		binary.LittleEndian.AppendUint64(nil, 90<<20),
	}
	for i, in := range inputs {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := ParseSafetensors(in, "huge")
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Fatalf("input %d: no error", i)
		}
		if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
			t.Errorf("input %d: allocated %d bytes before failing (%v)", i, d, err)
		}
	}
}

func body(n int) []byte { return make([]byte, n) }

func TestEncodeSafetensorsErrors(t *testing.T) {
	ok := &Tensor{DType: F32, Shape: []int{1}, Data: []float32{1}}
	cases := []struct {
		name    string
		ts      map[string]*Tensor
		md      map[string]string
		wantErr string
	}{
		{"nil tensor", map[string]*Tensor{"a": nil}, nil, `tensor "a": nil tensor`},
		{"bad dtype", map[string]*Tensor{"a": {DType: 99}}, nil, "unsupported dtype"},
		{"length mismatch", map[string]*Tensor{"a": {DType: F32, Shape: []int{2}, Data: []float32{1}}}, nil, "want 2"},
		{"negative dim", map[string]*Tensor{"a": {DType: I64, Shape: []int{-1}}}, nil, "non-negative"},
		{"empty name", map[string]*Tensor{"": ok}, nil, "empty tensor name"},
		{"reserved name", map[string]*Tensor{"__metadata__": ok}, nil, "reserved"},
		{"invalid utf8 name", map[string]*Tensor{"a\xff": ok}, nil, "not valid UTF-8"},
		{"invalid utf8 metadata", map[string]*Tensor{"a": ok}, map[string]string{"k": "\xfe"}, "not valid UTF-8"},
	}
	for _, c := range cases {
		_, err := EncodeSafetensors(c.ts, c.md)
		if err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("%s: error = %v, want containing %q", c.name, err, c.wantErr)
		}
	}
}

func TestWriteReadSafetensors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	ts := sampleTensors()
	md := map[string]string{"a": "b"}
	if err := WriteSafetensors(path, ts, md); err != nil {
		t.Fatal(err)
	}
	f, err := ReadSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	checkSameFile(t, ts, md, f)
	onDisk, _ := os.ReadFile(path)
	enc, _ := EncodeSafetensors(ts, md)
	if !bytes.Equal(onDisk, enc) {
		t.Error("WriteSafetensors output differs from EncodeSafetensors")
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, %v; want 0644", fi.Mode(), err)
	}

	// Overwrite with different content.
	ts2 := map[string]*Tensor{"x": {DType: I64, Shape: []int{1}, Data: []int64{3}}}
	if err := WriteSafetensors(path, ts2, nil); err != nil {
		t.Fatal(err)
	}
	f, err = ReadSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	checkSameFile(t, ts2, nil, f)

	// A failed write leaves the existing file untouched.
	bad := map[string]*Tensor{"x": {DType: F32, Shape: []int{2}}}
	if err := WriteSafetensors(path, bad, nil); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("invalid write error = %v, want one naming %s", err, path)
	}
	if f, err = ReadSafetensors(path); err != nil {
		t.Fatal(err)
	}
	checkSameFile(t, ts2, nil, f)

	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory has %v, want only model.safetensors (temp file left behind?)", names)
	}

	if err := WriteSafetensors(filepath.Join(dir, "missing", "x.safetensors"), ts2, nil); err == nil {
		t.Error("write into a missing directory succeeded")
	}
}

func TestWriteSafetensorsRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	ts := map[string]*Tensor{"x": {DType: F32, Shape: []int{1}, Data: []float32{1}}}
	if err := WriteSafetensors("rel.safetensors", ts, nil); err != nil {
		t.Fatal(err)
	}
	f, err := ReadSafetensors("rel.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	checkSameFile(t, ts, nil, f)
}

func TestReadSafetensorsErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadSafetensors(filepath.Join(dir, "nope.safetensors")); err == nil {
		t.Error("missing file: no error")
	}
	if _, err := ReadSafetensors(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory: error = %v", err)
	}
	path := filepath.Join(dir, "bad.safetensors")
	os.WriteFile(path, rawST("{"+stEnt("w", "F32", "[3]", "[0,8]")+"}", body(8)), 0o644)
	if _, err := ReadSafetensors(path); err == nil || !strings.HasPrefix(err.Error(), path+`: tensor "w"`) {
		t.Errorf("bad file: error = %v, want one naming %s and the tensor", err, path)
	}
}

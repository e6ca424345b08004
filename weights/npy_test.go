package weights

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rawNpy assembles an .npy file with the given version, literal header text
// (used as is, without padding) and data.
func rawNpy(major byte, header string, data []byte) []byte {
	out := []byte(npyMagic)
	out = append(out, major, 0)
	if major == 1 {
		out = binary.LittleEndian.AppendUint16(out, uint16(len(header)))
	} else {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(header)))
	}
	out = append(out, header...)
	return append(out, data...)
}

// numpyHeader pads dict the way numpy >= 1.? does: total prefix + header
// length a multiple of 64, ending in a newline.
func numpyHeader(dict string, prefix int) string {
	total := prefix + len(dict) + 1
	return dict + strings.Repeat(" ", (64-total%64)%64) + "\n"
}

func TestEncodeNpyGolden(t *testing.T) {
	x := &Tensor{DType: F32, Shape: []int{2, 3}, Data: []float32{0, 1, 2, 3, 4, 5}}
	got, err := EncodeNpy(x)
	if err != nil {
		t.Fatal(err)
	}
	// Bytes as written by numpy.save(np.arange(6, dtype='<f4').reshape(2, 3)).
	dict := "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
	want := rawNpy(1, numpyHeader(dict, 10), le32(f32bits(0, 1, 2, 3, 4, 5)...))
	if !bytes.Equal(got, want) {
		t.Errorf("EncodeNpy =\n%q\nwant\n%q", got, want)
	}
	if (len(got)-24)%64 != 0 {
		t.Errorf("data does not start at a multiple of 64")
	}

	for _, c := range []struct {
		t     *Tensor
		shape string
		descr string
	}{
		{&Tensor{DType: I64, Data: []int64{-7}}, "()", "<i8"},
		{&Tensor{DType: I64, Shape: []int{3}, Data: []int64{1, 2, 3}}, "(3,)", "<i8"},
		{&Tensor{DType: F32, Shape: []int{0, 2, 1}}, "(0, 2, 1)", "<f4"},
	} {
		got, err := EncodeNpy(c.t)
		if err != nil {
			t.Fatal(err)
		}
		dict := "{'descr': '" + c.descr + "', 'fortran_order': False, 'shape': " + c.shape + ", }"
		hdr := numpyHeader(dict, 10)
		if !bytes.HasPrefix(got, rawNpy(1, hdr, nil)) {
			t.Errorf("EncodeNpy(%v) header = %q, want %q", c.t.Shape, got[10:10+len(hdr)], hdr)
		}
	}
}

func TestNpyRoundTrip(t *testing.T) {
	for name, x := range sampleTensors() {
		data, err := EncodeNpy(x)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := ParseNpy(data, name+".npy")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkTensorInvariants(t, name, got)
		if !sameTensor(got, x) {
			t.Errorf("%s: round trip = %+v, want %+v", name, got, x)
		}
		again, _ := EncodeNpy(got)
		if !bytes.Equal(again, data) {
			t.Errorf("%s: re-encoding changed the bytes", name)
		}
	}
}

func TestNpyLargeNdimUsesVersion2(t *testing.T) {
	shape := make([]int, 25000) // header text longer than 65535 bytes
	for i := range shape {
		shape[i] = 1
	}
	shape[0] = 2
	x := &Tensor{DType: I64, Shape: shape, Data: []int64{5, 6}}
	data, err := EncodeNpy(x)
	if err != nil {
		t.Fatal(err)
	}
	if data[6] != 2 || data[7] != 0 {
		t.Fatalf("version %d.%d, want 2.0", data[6], data[7])
	}
	hlen := int(binary.LittleEndian.Uint32(data[8:]))
	if (12+hlen)%64 != 0 {
		t.Errorf("header not 64-aligned")
	}
	got, err := ParseNpy(data, "big.npy")
	if err != nil {
		t.Fatal(err)
	}
	if !sameTensor(got, x) {
		t.Error("round trip mismatch")
	}
}

func TestNpyDTypesAndVersions(t *testing.T) {
	type tc struct {
		descr string
		data  []byte
		want  *Tensor
	}
	cases := []tc{
		{"<f4", le32(f32bits(1.5, float32(math.Inf(1)))...), &Tensor{DType: F32, Shape: []int{2}, Data: []float32{1.5, float32(math.Inf(1))}}},
		{"<f8", le64(math.Float64bits(0.1), math.Float64bits(1e300)), &Tensor{DType: F64, Shape: []int{2}, Data: []float64{0.1, 1e300}}},
		{"<f2", le16(0x3c00, 0x0001), &Tensor{DType: F16, Shape: []int{2}, Data: []uint16{0x3c00, 0x0001}}},
		{"|i1", []byte{0x80, 7}, &Tensor{DType: I8, Shape: []int{2}, Data: []int8{-128, 7}}},
		{"<i2", le16(0x8000, 7), &Tensor{DType: I16, Shape: []int{2}, Data: []int16{math.MinInt16, 7}}},
		{"|u1", []byte{0xff, 7}, &Tensor{DType: U8, Shape: []int{2}, Data: []uint8{255, 7}}},
		{"<u2", le16(0xffff, 7), &Tensor{DType: U16, Shape: []int{2}, Data: []uint16{0xffff, 7}}},
		{"<u4", le32(0xffffffff, 7), &Tensor{DType: U32, Shape: []int{2}, Data: []uint32{0xffffffff, 7}}},
		{"<u8", le64(math.MaxUint64, 7), &Tensor{DType: U64, Shape: []int{2}, Data: []uint64{math.MaxUint64, 7}}},
		{"|b1", []byte{1, 0}, &Tensor{DType: Bool, Shape: []int{2}, Data: []bool{true, false}}},
		{"<i8", le64(math.MaxUint64, 1<<40), &Tensor{DType: I64, Shape: []int{2}, Data: []int64{-1, 1 << 40}}},
		{"<i4", le32(0x80000000, 7), &Tensor{DType: I32, Shape: []int{2}, Data: []int32{math.MinInt32, 7}}},
	}
	for _, c := range cases {
		for _, major := range []byte{1, 2, 3} {
			prefix := 10
			if major > 1 {
				prefix = 12
			}
			dict := "{'descr': '" + c.descr + "', 'fortran_order': False, 'shape': (2,), }"
			got, err := ParseNpy(rawNpy(major, numpyHeader(dict, prefix), c.data), "x.npy")
			if err != nil {
				t.Fatalf("%s v%d: %v", c.descr, major, err)
			}
			checkTensorInvariants(t, c.descr, got)
			if !sameTensor(got, c.want) {
				t.Errorf("%s v%d: got %+v, want %+v", c.descr, major, got, c.want)
			}
		}
	}
}

func TestNpyHeaderVariants(t *testing.T) {
	data := le32(f32bits(1, 2, 3, 4, 5, 6)...)
	for _, hdr := range []string{
		// Old numpy: 16-byte alignment.
		"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }          \n",
		// Key order and quoting vary between writers.
		`{"shape": (2, 3), "fortran_order": False, "descr": "<f4"}`,
		"{'descr':'<f4','fortran_order':False,'shape':(2,3)}",
		"{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3]}\n",
		"{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }\n", // Python 2
		"\t{ 'descr' : '<f4' ,\n 'fortran_order' : False , 'shape' : ( 2 , 3 , ) , }\r\n",
	} {
		got, err := ParseNpy(rawNpy(1, hdr, data), "v.npy")
		if err != nil {
			t.Errorf("header %q: %v", hdr, err)
			continue
		}
		if len(got.Shape) != 2 || got.Shape[0] != 2 || got.Shape[1] != 3 || got.F32()[5] != 6 {
			t.Errorf("header %q: got %+v", hdr, got)
		}
	}
	// Scalar and 1-element shapes.
	got, err := ParseNpy(rawNpy(1, "{'descr': '<i8', 'fortran_order': False, 'shape': ()}", le64(9)), "s.npy")
	if err != nil || len(got.Shape) != 0 || got.I64()[0] != 9 {
		t.Errorf("scalar: %+v, %v", got, err)
	}
	got, err = ParseNpy(rawNpy(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (1,)}", le64(9)), "s.npy")
	if err != nil || len(got.Shape) != 1 || got.I64()[0] != 9 {
		t.Errorf("(1,): %+v, %v", got, err)
	}
}

func npyDict(descr, fortran, shape string) string {
	return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }\n"
}

func TestNpyMalformed(t *testing.T) {
	ok := npyDict("<f4", "False", "(2,)")
	d8 := make([]byte, 8)
	cases := []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"empty", nil, "not an npy file"},
		{"bad magic", []byte("\x93NUMPX\x01\x00\x00\x00"), "not an npy file"},
		{"text file", []byte("hello world, this is not npy"), "not an npy file"},
		{"magic only", []byte(npyMagic), "truncated"},
		{"no header len", []byte(npyMagic + "\x01\x00\x05"), "truncated"},
		{"v2 short prefix", []byte(npyMagic + "\x02\x00\x00\x00"), "truncated"},
		{"version 4", rawNpy(4, ok, d8), "unsupported npy format version 4.0"},
		{"version 0", rawNpy(0, ok, d8), "unsupported npy format version 0.0"},
		{"minor 1", append([]byte(npyMagic+"\x01\x01"), rawNpy(1, ok, d8)[8:]...), "version 1.1"},
		{"header len past EOF", rawNpy(1, ok, d8)[:20], "exceeds"},
		{"v2 huge header len", []byte(npyMagic + "\x02\x00\xff\xff\xff\xff{}"), "npy header length 4294967295 exceeds the 2 bytes"},
		{"v1 huge header len", []byte(npyMagic + "\x01\x00\xff\xff{}"), "npy header length 65535 exceeds"},
		{"fortran", rawNpy(1, npyDict("<f4", "True", "(2, 1)"), d8), "fortran_order True (column-major) arrays are not supported"},
		{"big endian f4", rawNpy(1, npyDict(">f4", "False", "(2,)"), d8), `big-endian dtype ">f4" is not supported`},
		{"big endian i8", rawNpy(1, npyDict(">i8", "False", "(1,)"), d8), "big-endian"},
		{"unsupported complex", rawNpy(1, npyDict("<c8", "False", "(1,)"), d8), `unsupported dtype "<c8"`},
		{"unsupported string", rawNpy(1, npyDict("|S8", "False", "(1,)"), d8), "unsupported dtype"},
		{"native order", rawNpy(1, npyDict("=f4", "False", "(2,)"), d8), "unsupported dtype"},
		{"structured", rawNpy(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", d8), "structured dtypes are not supported"},
		{"missing descr", rawNpy(1, "{'fortran_order': False, 'shape': (2,), }", d8), `missing key "descr"`},
		{"missing fortran", rawNpy(1, "{'descr': '<f4', 'shape': (2,), }", d8), `missing key "fortran_order"`},
		{"missing shape", rawNpy(1, "{'descr': '<f4', 'fortran_order': False}", d8), `missing key "shape"`},
		{"extra key", rawNpy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", d8), `unexpected key "x"`},
		{"duplicate key", rawNpy(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", d8), `duplicate key "descr"`},
		{"fortran not bool", rawNpy(1, npyDict("<f4", "0", "(2,)"), d8), "want True or False"},
		{"shape not tuple", rawNpy(1, npyDict("<f4", "False", "2"), d8), "want a tuple"},
		{"shape paren int", rawNpy(1, npyDict("<f4", "False", "(2)"), d8), "trailing comma"},
		{"shape float", rawNpy(1, npyDict("<f4", "False", "(2.0,)"), d8), "want ',' or ')'"},
		{"shape string", rawNpy(1, npyDict("<f4", "False", "('2',)"), d8), "want an integer"},
		{"shape unclosed", rawNpy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,", d8), "want an integer"},
		{"negative dim", rawNpy(1, npyDict("<f4", "False", "(-2,)"), d8), "shape [-2]: dimension 0 is -2, must be non-negative"},
		{"overflow dims", rawNpy(1, npyDict("<f4", "False", "(4294967296, 4294967296)"), d8), "overflows"},
		{"dim beyond int64", rawNpy(1, npyDict("<f4", "False", "(99999999999999999999,)"), d8), "out of range"},
		{"bytes overflow", rawNpy(1, npyDict("<f8", "False", "(2305843009213693952,)"), d8), on64("too large", "overflows")},
		{"data short", rawNpy(1, npyDict("<f4", "False", "(3,)"), d8), "data is 8 bytes, want 4*3=12 for <f4[3]"},
		{"data long", rawNpy(1, npyDict("<i4", "False", "(1,)"), d8), "data is 8 bytes, want 4*1=4 for <i4[1]"},
		{"huge claim", rawNpy(1, npyDict("<f4", "False", "(1099511627776,)"), d8), on64("want 4*1099511627776=4398046511104", "overflows")},
		{"no brace", rawNpy(1, "'descr': '<f4'", d8), "want '{'"},
		{"empty header", rawNpy(1, "", d8), "want '{'"},
		{"unterminated string", rawNpy(1, "{'descr: '<f4'}", d8), "want ':'"},
		{"unterminated string eof", rawNpy(1, "{'descr", d8), "unterminated string"},
		{"escape", rawNpy(1, `{'de\scr': '<f4'}`, d8), "unsupported character"},
		{"no colon", rawNpy(1, "{'descr' '<f4'}", d8), "want ':'"},
		{"no comma", rawNpy(1, "{'descr': '<f4' 'shape': (2,)}", d8), "want ',' or '}'"},
		{"trailing garbage", rawNpy(1, ok[:len(ok)-1]+" x", d8), "unexpected data after the header dict"},
		{"unclosed dict", rawNpy(1, "{'descr': '<f4',", d8), "want a quoted string"},
		{"key not string", rawNpy(1, "{1: 2}", d8), "want a quoted string"},
		{"v3 invalid utf8", rawNpy(3, "{'descr': '\xff', 'fortran_order': False, 'shape': (2,)}", d8), "not valid UTF-8"},
		{"v1 latin1 descr", rawNpy(1, "{'descr': '\xff', 'fortran_order': False, 'shape': (2,)}", d8), "unsupported dtype"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x, err := ParseNpy(c.data, "m.npy")
			if err == nil {
				t.Fatalf("no error; got %+v", x)
			}
			t.Log(err)
			if !strings.HasPrefix(err.Error(), "m.npy: ") {
				t.Errorf("error %q does not name the file", err)
			}
			if !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("error %q does not contain %q", err, c.wantErr)
			}
		})
	}
}

func TestEncodeNpyErrors(t *testing.T) {
	for _, x := range []*Tensor{
		nil,
		{DType: 0},
		{DType: F32, Shape: []int{3}, Data: []float32{1}},
		{DType: I64, Shape: []int{-3}},
	} {
		if _, err := EncodeNpy(x); err == nil {
			t.Errorf("EncodeNpy(%+v): no error", x)
		}
	}
}

func TestWriteReadNpy(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.npy")
	x := &Tensor{DType: F32, Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}}
	if err := WriteNpy(path, x); err != nil {
		t.Fatal(err)
	}
	got, err := ReadNpy(path)
	if err != nil {
		t.Fatal(err)
	}
	if !sameTensor(got, x) {
		t.Errorf("got %+v, want %+v", got, x)
	}
	onDisk, _ := os.ReadFile(path)
	enc, _ := EncodeNpy(x)
	if !bytes.Equal(onDisk, enc) {
		t.Error("WriteNpy output differs from EncodeNpy")
	}

	y := &Tensor{DType: I64, Shape: []int{3}, Data: []int64{-1, 0, 1}}
	if err := WriteNpy(path, y); err != nil {
		t.Fatal(err)
	}
	if got, err = ReadNpy(path); err != nil || !sameTensor(got, y) {
		t.Errorf("overwrite: got %+v, %v", got, err)
	}
	if err := WriteNpy(path, &Tensor{DType: I64, Shape: []int{2}}); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("invalid tensor: error = %v", err)
	}
	if got, err = ReadNpy(path); err != nil || !sameTensor(got, y) {
		t.Errorf("failed write clobbered the file: %+v, %v", got, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory has %d entries, want 1 (temp file left behind?)", len(entries))
	}

	if _, err := ReadNpy(filepath.Join(dir, "missing.npy")); err == nil {
		t.Error("missing file: no error")
	}
	if _, err := ReadNpy(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory: error = %v", err)
	}
	bad := filepath.Join(dir, "bad.npy")
	os.WriteFile(bad, rawNpy(1, npyDict(">f4", "False", "(1,)"), le32(0)), 0o644)
	if _, err := ReadNpy(bad); err == nil || !strings.HasPrefix(err.Error(), bad+": big-endian") {
		t.Errorf("bad file: error = %v", err)
	}
}

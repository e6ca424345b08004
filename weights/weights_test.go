package weights

import (
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// sameTensor reports whether a and b have the same dtype, shape and
// bit-identical data (so NaN payloads and signed zeros are compared too).
func sameTensor(a, b *Tensor) bool {
	if a.DType != b.DType || len(a.Shape) != len(b.Shape) || len(a.F32) != len(b.F32) || len(a.I64) != len(b.I64) {
		return false
	}
	for i := range a.Shape {
		if a.Shape[i] != b.Shape[i] {
			return false
		}
	}
	for i := range a.F32 {
		if math.Float32bits(a.F32[i]) != math.Float32bits(b.F32[i]) {
			return false
		}
	}
	for i := range a.I64 {
		if a.I64[i] != b.I64[i] {
			return false
		}
	}
	return true
}

// checkTensorInvariants fails t if a loaded tensor is internally
// inconsistent.
func checkTensorInvariants(t *testing.T, name string, x *Tensor) {
	t.Helper()
	if x == nil {
		t.Fatalf("%s: nil tensor", name)
	}
	if _, err := x.validate(); err != nil {
		t.Fatalf("%s: loaded tensor is invalid: %v", name, err)
	}
}

// on64 returns a on 64-bit platforms and b on 32-bit ones, for error
// expectations that differ because int is narrower.
func on64(a, b string) string {
	if strconv.IntSize == 64 {
		return a
	}
	return b
}

func TestDTypeString(t *testing.T) {
	for _, c := range []struct {
		d    DType
		want string
	}{{F32, "F32"}, {I64, "I64"}, {0, "DType(0)"}, {9, "DType(9)"}} {
		if got := c.d.String(); got != c.want {
			t.Errorf("DType(%d).String() = %q, want %q", uint8(c.d), got, c.want)
		}
	}
}

func TestNumElems(t *testing.T) {
	for _, c := range []struct {
		shape []int
		want  int
	}{{nil, 1}, {[]int{}, 1}, {[]int{5}, 5}, {[]int{2, 3, 4}, 24}, {[]int{2, 0, 4}, 0}} {
		x := &Tensor{Shape: c.shape}
		if got := x.NumElems(); got != c.want {
			t.Errorf("NumElems(%v) = %d, want %d", c.shape, got, c.want)
		}
	}
}

func TestNumElemsChecked(t *testing.T) {
	for _, c := range []struct {
		dims    []int64
		want    int
		wantErr string
	}{
		{nil, 1, ""},
		{[]int64{3, 10}, 30, ""},
		{[]int64{0, math.MaxInt}, 0, ""},
		{[]int64{-1}, 0, "non-negative"},
		{[]int64{4, -2}, 0, "dimension 1 is -2"},
		{[]int64{1 << 32, 1 << 32}, 0, "overflows"},
		{[]int64{math.MaxInt64, 2}, 0, "overflows"},
		{[]int64{1 << 40, 1 << 40, 0}, 0, "overflows"},
		{[]int64{math.MaxInt}, math.MaxInt, ""},
	} {
		got, err := numElems(c.dims)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("numElems(%v) error = %v, want containing %q", c.dims, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("numElems(%v) = %d, %v; want %d", c.dims, got, err, c.want)
		}
	}
}

// refF16 computes a binary16 value with float64 arithmetic, independently
// of the bit manipulation in f16ToF32.
func refF16(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	mant := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(mant, -24)
	case 31:
		if mant == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * math.Ldexp(1024+mant, exp-25)
}

func TestF16Exhaustive(t *testing.T) {
	for i := 0; i <= 0xffff; i++ {
		h := uint16(i)
		got := f16ToF32(h)
		want := refF16(h)
		if math.IsNaN(want) {
			if !math.IsNaN(float64(got)) {
				t.Fatalf("f16ToF32(%#04x) = %v, want NaN", h, got)
			}
			// The payload and sign are preserved in the top mantissa bits.
			wantBits := uint32(h&0x8000)<<16 | 0x7f800000 | uint32(h&0x3ff)<<13
			if b := math.Float32bits(got); b != wantBits {
				t.Fatalf("f16ToF32(%#04x) bits = %#08x, want %#08x", h, b, wantBits)
			}
			continue
		}
		if float64(got) != want {
			t.Fatalf("f16ToF32(%#04x) = %g, want %g", h, got, want)
		}
		if math.Signbit(float64(got)) != (h&0x8000 != 0) {
			t.Fatalf("f16ToF32(%#04x) = %g has the wrong sign", h, got)
		}
	}
}

func TestF16KnownValues(t *testing.T) {
	for _, c := range []struct {
		h    uint16
		want float32
	}{
		{0x3c00, 1},
		{0xc000, -2},
		{0x3555, 0.333251953125},
		{0x7bff, 65504},
		{0x0400, float32(math.Ldexp(1, -14))}, // smallest normal
		{0x0001, float32(math.Ldexp(1, -24))}, // smallest subnormal
		{0x03ff, float32(math.Ldexp(1023, -24))},
		{0x8001, -float32(math.Ldexp(1, -24))},
		{0x7c00, float32(math.Inf(1))},
		{0xfc00, float32(math.Inf(-1))},
	} {
		if got := f16ToF32(c.h); got != c.want {
			t.Errorf("f16ToF32(%#04x) = %g, want %g", c.h, got, c.want)
		}
	}
	if got := f16ToF32(0x8000); got != 0 || !math.Signbit(float64(got)) {
		t.Errorf("f16ToF32(0x8000) = %g, want -0", got)
	}
	if got := f16ToF32(0x7e00); !math.IsNaN(float64(got)) {
		t.Errorf("f16ToF32(0x7e00) = %g, want NaN", got)
	}
}

func TestBF16Exhaustive(t *testing.T) {
	for i := 0; i <= 0xffff; i++ {
		h := uint16(i)
		got := bf16ToF32(h)
		if b := math.Float32bits(got); b != uint32(h)<<16 {
			t.Fatalf("bf16ToF32(%#04x) bits = %#08x, want %#08x", h, b, uint32(h)<<16)
		}
	}
	for _, c := range []struct {
		h    uint16
		want float32
	}{{0x3f80, 1}, {0xc040, -3}, {0x0001, float32(math.Ldexp(1, -133))}, {0x7f80, float32(math.Inf(1))}} {
		if got := bf16ToF32(c.h); got != c.want {
			t.Errorf("bf16ToF32(%#04x) = %g, want %g", c.h, got, c.want)
		}
	}
	if got := bf16ToF32(0x7fc0); !math.IsNaN(float64(got)) {
		t.Errorf("bf16ToF32(0x7fc0) = %g, want NaN", got)
	}
}

func TestTensorValidate(t *testing.T) {
	for _, c := range []struct {
		name    string
		t       *Tensor
		wantErr string
	}{
		{"nil", nil, "nil tensor"},
		{"no dtype", &Tensor{Shape: []int{1}, F32: []float32{1}}, "unsupported dtype DType(0)"},
		{"bad dtype", &Tensor{DType: 7}, "unsupported dtype DType(7)"},
		{"short f32", &Tensor{DType: F32, Shape: []int{2, 2}, F32: []float32{1, 2, 3}}, "has 3 values in F32, want 4"},
		{"long i64", &Tensor{DType: I64, Shape: []int{2}, I64: []int64{1, 2, 3}}, "has 3 values in I64, want 2"},
		{"f32 with i64", &Tensor{DType: F32, Shape: []int{1}, F32: []float32{1}, I64: []int64{1}}, "also has 1 values in I64"},
		{"i64 with f32", &Tensor{DType: I64, Shape: []int{1}, I64: []int64{1}, F32: []float32{1}}, "also has 1 values in F32"},
		{"negative dim", &Tensor{DType: F32, Shape: []int{2, -1}}, "non-negative"},
		{"overflow", &Tensor{DType: F32, Shape: []int{math.MaxInt/2 + 1, 3}}, "overflows"},
		{"wrong slice", &Tensor{DType: I64, Shape: []int{1}, F32: []float32{1}}, "has 0 values in I64, want 1"},
	} {
		_, err := c.t.validate()
		if err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("%s: validate() = %v, want error containing %q", c.name, err, c.wantErr)
		}
	}
	ok := []*Tensor{
		{DType: F32, F32: []float32{1}},
		{DType: I64, Shape: []int{0, 5}},
		{DType: I64, Shape: []int{2, 1}, I64: []int64{1, 2}},
	}
	for _, x := range ok {
		if _, err := x.validate(); err != nil {
			t.Errorf("validate(%+v) = %v", x, err)
		}
	}
}

// failWriter accepts n bytes and then fails.
type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteErrorsPropagate(t *testing.T) {
	ts := map[string]*Tensor{
		"a": {DType: F32, Shape: []int{5000}, F32: make([]float32, 5000)},
		"b": {DType: I64, Shape: []int{5000}, I64: make([]int64, 5000)},
	}
	p, err := planSafetensors(ts, nil)
	if err != nil {
		t.Fatal(err)
	}
	total := 8 + len(p.header) + p.dataLen
	for _, n := range []int{0, 4, 8, 20, 8 + len(p.header), 8 + len(p.header) + 9000, 8 + len(p.header) + 20000 + 100, total - 1} {
		if err := p.writeTo(&failWriter{n: n}); err == nil {
			t.Errorf("writeTo with a writer failing after %d of %d bytes: no error", n, total)
		}
	}
	if err := p.writeTo(&failWriter{n: total}); err != nil {
		t.Errorf("writeTo with exactly enough room: %v", err)
	}
}

// TestLargeTensorsRoundTrip exercises the chunked data writer across
// buffer boundaries.
func TestLargeTensorsRoundTrip(t *testing.T) {
	const n = 12345
	f := &Tensor{DType: F32, Shape: []int{n}, F32: make([]float32, n)}
	i := &Tensor{DType: I64, Shape: []int{3, n}, I64: make([]int64, 3*n)}
	for k := range f.F32 {
		f.F32[k] = float32(k)*0.5 - 7
	}
	for k := range i.I64 {
		i.I64[k] = int64(k)*int64(k)*1e6 - 5
	}
	data, err := EncodeSafetensors(map[string]*Tensor{"f": f, "i": i}, nil)
	if err != nil {
		t.Fatal(err)
	}
	file, err := ParseSafetensors(data, "large")
	if err != nil {
		t.Fatal(err)
	}
	if !sameTensor(file.Tensors["f"], f) || !sameTensor(file.Tensors["i"], i) {
		t.Error("safetensors round trip mismatch")
	}
	dir := t.TempDir()
	for _, x := range []*Tensor{f, i} {
		path := filepath.Join(dir, "x.npy")
		if err := WriteNpy(path, x); err != nil {
			t.Fatal(err)
		}
		got, err := ReadNpy(path)
		if err != nil {
			t.Fatal(err)
		}
		if !sameTensor(got, x) {
			t.Errorf("npy round trip mismatch for %v", x.DType)
		}
	}
}

func TestWriteFileAtomicCleansUpOnError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.bin")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := writeFileAtomic(path, func(w io.Writer) error {
		w.Write([]byte("partial"))
		return errors.New("boom")
	})
	if err == nil || err.Error() != "boom" {
		t.Fatalf("error = %v, want boom", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("file content = %q, want old", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d directory entries, want 1 (temp file left behind)", len(entries))
	}
	// Renaming over a directory fails; the temp file must still go away.
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	os.WriteFile(filepath.Join(sub, "keep"), nil, 0o644)
	if err := writeFileAtomic(sub, func(w io.Writer) error { return nil }); err == nil {
		t.Error("renaming over a non-empty directory succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("%d directory entries, want 2 (temp file left behind)", len(entries))
	}
}

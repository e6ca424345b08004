package weights

import (
	"bytes"
	"encoding/binary"
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
	if a.DType != b.DType || !a.Shape.Equal(b.Shape) || a.Len() != b.Len() {
		return false
	}
	if a.Len() == 0 {
		return true
	}
	ra, erra := binary.Append(nil, binary.LittleEndian, a.Data)
	rb, errb := binary.Append(nil, binary.LittleEndian, b.Data)
	return erra == nil && errb == nil && bytes.Equal(ra, rb)
}

// checkTensorInvariants fails t if a loaded tensor is internally
// inconsistent.
func checkTensorInvariants(t *testing.T, name string, x *Tensor) {
	t.Helper()
	if x == nil {
		t.Fatalf("%s: nil tensor", name)
	}
	if _, err := validate(x); err != nil {
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

func TestTensorValidate(t *testing.T) {
	for _, c := range []struct {
		name    string
		t       *Tensor
		wantErr string
	}{
		{"nil", nil, "nil tensor"},
		{"no dtype", &Tensor{Shape: []int{1}, Data: []float32{1}}, "unsupported dtype dtype(0)"},
		{"bad dtype", &Tensor{DType: 99}, "unsupported dtype dtype(99)"},
		{"short f32", &Tensor{DType: F32, Shape: []int{2, 2}, Data: []float32{1, 2, 3}}, "has 3 values, want 4"},
		{"long i64", &Tensor{DType: I64, Shape: []int{2}, Data: []int64{1, 2, 3}}, "has 3 values, want 2"},
		{"f16 as float32", &Tensor{DType: F16, Shape: []int{1}, Data: []float32{1}}, "holds []float32, want []uint16"},
		{"i8 as int16", &Tensor{DType: I8, Shape: []int{1}, Data: []int16{1}}, "holds []int16, want []int8"},
		{"negative dim", &Tensor{DType: F32, Shape: []int{2, -1}}, "non-negative"},
		{"overflow", &Tensor{DType: F32, Shape: []int{math.MaxInt/2 + 1, 3}}, "overflows"},
		{"wrong slice", &Tensor{DType: I64, Shape: []int{1}, Data: []float32{1}}, "holds []float32, want []int64"},
		{"missing data", &Tensor{DType: I64, Shape: []int{1}}, "has 0 values, want 1"},
	} {
		_, err := validate(c.t)
		if err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("%s: validate() = %v, want error containing %q", c.name, err, c.wantErr)
		}
	}
	ok := []*Tensor{
		{DType: F32, Data: []float32{1}},
		{DType: I64, Shape: []int{0, 5}},
		{DType: I64, Shape: []int{2, 1}, Data: []int64{1, 2}},
	}
	for _, x := range ok {
		if _, err := validate(x); err != nil {
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
		"a": {DType: F32, Shape: []int{5000}, Data: make([]float32, 5000)},
		"b": {DType: I64, Shape: []int{5000}, Data: make([]int64, 5000)},
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
	f := &Tensor{DType: F32, Shape: []int{n}, Data: make([]float32, n)}
	i := &Tensor{DType: I64, Shape: []int{3, n}, Data: make([]int64, 3*n)}
	for k := range f.F32() {
		f.F32()[k] = float32(k)*0.5 - 7
	}
	for k := range i.I64() {
		i.I64()[k] = int64(k)*int64(k)*1e6 - 5
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

package train

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/weights"
)

// TestLoadCSV reads class and float targets, skips a header, comments and
// blank lines, and names file:line in its errors.
func TestLoadCSV(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := write("c.csv", "a,b,label\n# comment\n0.5,-1,2\n\n1e-3, 4 ,0\n")
	d, err := LoadCSV(p, DataSpec{Shape: ir.Shape{2}, Classes: 3})
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 2 || d.X[0] != 0.5 || d.X[1] != -1 || d.X[2] != 1e-3 || d.X[3] != 4 || d.Labels[0] != 2 || d.Labels[1] != 0 {
		t.Errorf("read %+v", d)
	}
	d, err = LoadCSV(write("f.csv", "0,1,0.25,0.75\n"), DataSpec{Shape: ir.Shape{2}, Targets: 2})
	if err != nil || d.Len() != 1 || d.Targets[1] != 0.75 {
		t.Errorf("float targets: %+v, %v", d, err)
	}
	for _, c := range []struct{ src, want string }{
		{"1,2,0\n1,2\n", "b.csv:2: 2 fields, want 3"},
		{"1,2,3\n", "b.csv:1: class 3: want an integer in [0, 3)"},
		{"1,2,0.5\n", "class 0.5"},
		{"1,2,0\nx,2,1\n", `b.csv:2: strconv.ParseFloat: parsing "x"`},
		{"a,b,c\n", "b.csv: no examples"},
	} {
		_, err := LoadCSV(write("b.csv", c.src), DataSpec{Shape: ir.Shape{2}, Classes: 3})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.src, err, c.want)
		}
	}
}

// TestLoadNpy reads examples and i64 class labels or float targets, and
// refuses mismatched shapes.
func TestLoadNpy(t *testing.T) {
	dir := t.TempDir()
	x := ir.FromF32(ir.Shape{3, 2, 2}, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	y := ir.NewTensor(ir.I64, ir.Shape{3})
	copy(y.I64(), []int64{1, 0, 1})
	px, py := filepath.Join(dir, "x.npy"), filepath.Join(dir, "y.npy")
	for p, v := range map[string]*ir.Tensor{px: x, py: y} {
		if err := weights.WriteNpy(p, v); err != nil {
			t.Fatal(err)
		}
	}
	d, err := LoadData(px+","+py, DataSpec{Shape: ir.Shape{2, 2}, Classes: 2})
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 3 || d.X[11] != 12 || d.Labels[0] != 1 || d.Labels[1] != 0 {
		t.Errorf("read %+v", d)
	}
	if _, err := LoadData(px+","+py, DataSpec{Shape: ir.Shape{4}, Classes: 2}); err == nil || !strings.Contains(err.Error(), "x.npy: examples of shape [3,2,2], want [N,4]") {
		t.Errorf("wrong example shape: %v", err)
	}
	if _, err := LoadData(px+","+py, DataSpec{Shape: ir.Shape{2, 2}, Targets: 2}); err == nil || !strings.Contains(err.Error(), "want 2 per example") {
		t.Errorf("wrong target count: %v", err)
	}
}

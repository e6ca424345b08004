package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/weights"
)

// reshapeInput is an ONNX model whose Reshape takes its shape as the
// graph input "shape" (as ONNX's node tests do): y = relu(reshape(x,
// shape)) with x f32[2,3,4].
const reshapeInput = "testdata/reshape_input.onnx"

// TestBind checks values needed at compile time: refused with the node,
// the input and the flag named; --bind fixes them for check and compile
// (the graph loses the input); dlc run binds them from its --input files.
func TestBind(t *testing.T) {
	dir := t.TempDir()
	npy := func(name string, w *weights.Tensor) string {
		p := filepath.Join(dir, name)
		if err := weights.WriteNpy(p, w); err != nil {
			t.Fatal(err)
		}
		return p
	}
	x := make([]float32, 24)
	for i := range x {
		x[i] = float32(i) - 11.5
	}
	xPath := npy("x.npy", ir.FromF32(ir.Shape{2, 3, 4}, x))
	shape := npy("shape.npy", ir.FromI64(ir.Shape{2}, []int64{6, -1}))

	code, _, errs := dlc(t, "check", reshapeInput)
	if code != 1 || !strings.Contains(errs, `node "reshape" (Reshape, opset 13): shape (input 1) must be known at compile time, but it is the graph input "shape": bind its value (dlc compile/run --bind shape=FILE.npy)`) {
		t.Errorf("unbound: %d %q", code, errs)
	}
	code, out, errs := dlc(t, "check", "--bind", "shape="+shape, reshapeInput)
	if code != 0 || !strings.Contains(out, "f32[6,4]") || strings.Contains(out, "shape") && strings.Contains(out, "i64[2]") {
		t.Errorf("check --bind: %d\n%s%s", code, out, errs)
	}
	code, _, errs = dlc(t, "check", "--bind", "shpe="+shape, reshapeInput)
	if code != 1 || !strings.Contains(errs, `a value is bound to "shpe", but the model has no graph input of that name (it has x, shape)`) {
		t.Errorf("misspelt --bind: %d %q", code, errs)
	}
	code, _, errs = dlc(t, "check", "--bind", "shape="+xPath, reshapeInput)
	if code != 1 || !strings.Contains(errs, `the value bound to graph input "shape": dtype f32, the model declares i64`) {
		t.Errorf("--bind of the wrong dtype: %d %q", code, errs)
	}
	code, _, errs = dlc(t, "check", "--bind", "x="+xPath, writeModel(t, tinyDL))
	if code != 2 || !strings.Contains(errs, "--bind applies to .onnx models only") {
		t.Errorf("--bind on .dl: %d %q", code, errs)
	}

	// dlc run specializes on its inputs, positional or by name.
	for _, args := range [][]string{{"--input", xPath, "--input", shape}, {"--input", "shape=" + shape, "--input", "x=" + xPath}} {
		yPath := filepath.Join(dir, "y.npy")
		os.Remove(yPath)
		code, out, errs = dlc(t, append([]string{"run", reshapeInput, "--output", yPath}, args...)...)
		if code != 0 {
			t.Fatalf("run %v: %d %s", args, code, errs)
		}
		y, err := weights.ReadNpy(yPath)
		if err != nil {
			t.Fatal(err)
		}
		if len(y.Shape) != 2 || y.Shape[0] != 6 || y.Shape[1] != 4 {
			t.Fatalf("run %v: output shape %v, want [6 4]\n%s", args, y.Shape, out)
		}
		for i, v := range y.F32() {
			if want := max(x[i], 0); v != want {
				t.Fatalf("run %v: y[%d] = %g, want %g", args, i, v, want)
			}
		}
	}

	// The compiled package has the bound value built in.
	pkg := filepath.Join(dir, "pkg")
	code, _, errs = dlc(t, "compile", "--bind", "shape="+shape, "-o", pkg, reshapeInput)
	if code != 0 {
		t.Fatalf("compile --bind: %d %s", code, errs)
	}
	src, err := os.ReadFile(filepath.Join(pkg, "pkg.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), "x f32[2,3,4]") || strings.Contains(string(src), "shape i64[2]") || !strings.Contains(string(src), "y f32[6,4]") {
		t.Errorf("compile --bind: the package's doc does not show input x only and output y f32[6,4]:\n%s", src[:min(len(src), 1200)])
	}
}

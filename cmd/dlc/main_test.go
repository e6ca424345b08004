package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/weights"
)

// dlc runs the command in-process and returns its exit status and output.
func dlc(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

const lenetONNX = "../../frontend/onnx/testdata/models/lenet5/model.onnx"

func writeModel(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "m.dl")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const tinyDL = `model tiny
const batch = 1
input x: f32[batch, 4]
init he
y = x | fc: dense(3) | relu
output y
`

func TestHelp(t *testing.T) {
	code, out, _ := dlc(t, "help")
	if code != 0 || !strings.Contains(out, "compile") || !strings.Contains(out, "check") {
		t.Errorf("help: %d %q", code, out)
	}
	for _, c := range commands {
		code, out, _ := dlc(t, c.name, "-h")
		if code != 0 || !strings.Contains(out, "usage: dlc "+c.name) || !strings.Contains(out, "Examples:") {
			t.Errorf("%s -h: %d %q", c.name, code, out)
		}
	}
	if code, _, errs := dlc(t, "frobnicate"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Errorf("unknown command: %d %q", code, errs)
	}
}

func TestCheck(t *testing.T) {
	code, out, errs := dlc(t, "check", writeModel(t, tinyDL))
	if code != 0 {
		t.Fatalf("check: %d %s", code, errs)
	}
	for _, want := range []string{"model tiny (batch 1)", "fc", "dense", "f32[1,3]", "15 parameters", "15 MACs", "activation arena at -O2"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = dlc(t, "check", "--set", "batch=8", "--ir", writeModel(t, tinyDL))
	if code != 0 || !strings.Contains(out, "input x: f32[8,4]") {
		t.Errorf("check --set --ir: %d\n%s", code, out)
	}
}

func TestCheckErrors(t *testing.T) {
	bad := writeModel(t, "model bad\ninput x: f32[1, 4]\ny = x | fc: dense(3) | rleu\noutput y\n")
	code, _, errs := dlc(t, "check", bad)
	if code != 1 || !strings.Contains(errs, "m.dl:3:") || !strings.Contains(errs, "^") {
		t.Errorf("bad model: exit %d, stderr:\n%s", code, errs)
	}
	if code, _, errs := dlc(t, "check"); code != 2 || !strings.Contains(errs, "no model file") {
		t.Errorf("no args: %d %q", code, errs)
	}
	if code, _, errs := dlc(t, "check", "model.txt"); code != 2 || !strings.Contains(errs, "want a .dl or .onnx") {
		t.Errorf("bad extension: %d %q", code, errs)
	}
	if code, _, errs := dlc(t, "check", filepath.Join(t.TempDir(), "missing.dl")); code != 1 || !strings.Contains(errs, "missing.dl") {
		t.Errorf("missing file: %d %q", code, errs)
	}
}

func TestRun(t *testing.T) {
	dir := filepath.Join("..", "..", "frontend", "onnx", "testdata", "models", "lenet5")
	outPath := filepath.Join(t.TempDir(), "y.npy")
	// An ONNX model declares no class scores: --top asks for classes.
	code, out, errs := dlc(t, "run", lenetONNX, "--input", filepath.Join(dir, "input_0.npy"), "--output", outPath, "--top", "5")
	if code != 0 {
		t.Fatalf("run: %d %s", code, errs)
	}
	if !strings.Contains(out, "top 5 classes") || !strings.Contains(out, "class ") {
		t.Errorf("run output:\n%s", out)
	}
	got, err := weights.ReadNpy(outPath)
	if err != nil {
		t.Fatal(err)
	}
	want, err := weights.ReadNpy(filepath.Join(dir, "output_0.npy"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range want.F32() {
		d := got.F32()[i] - want.F32()[i]
		if d < 0 {
			d = -d
		}
		if float64(d) > 1e-6+1e-5*float64(abs32(want.F32()[i])) {
			t.Fatalf("output[%d] = %g, want %g", i, got.F32()[i], want.F32()[i])
		}
	}
	// A wrong shape is an error naming the input, not a panic.
	wrong := filepath.Join(t.TempDir(), "wrong.npy")
	if err := weights.WriteNpy(wrong, &weights.Tensor{DType: weights.F32, Shape: []int{3, 3}, Data: make([]float32, 9)}); err != nil {
		t.Fatal(err)
	}
	code, _, errs = dlc(t, "run", lenetONNX, "--input", wrong)
	if code != 1 || !strings.Contains(errs, "input image wants shape [2,28,28]") {
		t.Errorf("wrong shape: %d %q", code, errs)
	}
	code, _, errs = dlc(t, "run", lenetONNX)
	if code != 2 || !strings.Contains(errs, "missing --input for image") {
		t.Errorf("no input: %d %q", code, errs)
	}
	code, _, errs = dlc(t, "run", lenetONNX, "--input", "nope="+wrong)
	if code != 2 || !strings.Contains(errs, `no input named "nope"`) {
		t.Errorf("bad name: %d %q", code, errs)
	}
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

func TestCompileAtomic(t *testing.T) {
	out := filepath.Join(t.TempDir(), "tiny")
	good := writeModel(t, strings.Replace(tinyDL, "init he\n", "", 1))
	// Without weights the params get their initializers, and dlc says so.
	code, _, errs := dlc(t, "compile", "--selftest=false", good, "-o", out)
	if !strings.Contains(errs, "initialized with their initializers") {
		t.Errorf("no note about untrained params: %q", errs)
	}
	if code != 0 {
		t.Fatalf("compile: %d %s", code, errs)
	}
	before, err := os.ReadFile(filepath.Join(out, "tiny.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(before, []byte("// Code generated by dlc. DO NOT EDIT.")) {
		t.Error("generated file lacks the header")
	}
	// A failing compile leaves the package untouched.
	bad := writeModel(t, "model tiny\ninput x: f32[1, 4]\ny = x | fc: dense(3) | bogus\noutput y\n")
	if code, _, _ := dlc(t, "compile", "--selftest=false", bad, "-o", out); code != 1 {
		t.Errorf("bad compile exit %d", code)
	}
	after, err := os.ReadFile(filepath.Join(out, "tiny.go"))
	if err != nil || !bytes.Equal(before, after) {
		t.Error("a failed compile changed the existing package")
	}
	// -O levels, dump-after and bad pass names.
	code, dump, errs := dlc(t, "compile", "--selftest=false", "-O1", "--dump-after=dce", good, "-o", out)
	if code != 0 || !strings.Contains(dump, "# IR after dce") {
		t.Errorf("dump-after: %d %q %q", code, dump, errs)
	}
	if code, _, errs := dlc(t, "compile", "--passes", "shapes,nope", good, "-o", out); code != 2 || !strings.Contains(errs, `unknown pass "nope"`) {
		t.Errorf("bad pass: %d %q", code, errs)
	}
	if code, _, errs := dlc(t, "compile", good); code != 2 || !strings.Contains(errs, "-o DIR") {
		t.Errorf("no -o: %d %q", code, errs)
	}
}

func TestGraph(t *testing.T) {
	code, out, errs := dlc(t, "graph", "--after", "fuse", lenetONNX)
	if code != 0 || !strings.HasPrefix(out, "digraph") || !strings.Contains(out, "fused_conv") {
		t.Errorf("graph: %d %q\n%s", code, errs, out)
	}
}

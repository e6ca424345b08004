package onnx

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/codegen"
	"github.com/dlcompiler/dlc/frontend/dl"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/runtime"
	"github.com/dlcompiler/dlc/weights"
)

// What `dlc import` does (issue 10 item 6): every ONNX model that imports
// is written as .dl with its weights, loaded again and run: the outputs
// must be the same. Formatting changes no arithmetic, so the bound is
// dlc's usual 1e-5 relative, 1e-6 absolute.

// roundTripDL formats g as .dl into dir, loads it and compares outputs
// on deterministic random inputs.
func roundTripDL(t *testing.T, g *ir.Graph) {
	t.Helper()
	dir := t.TempDir()
	src, tensors, err := dl.Format(g, "model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "model.dl")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if len(tensors) > 0 {
		if err := weights.WriteSafetensors(filepath.Join(dir, "model.safetensors"), tensors, nil); err != nil {
			t.Fatal(err)
		}
	}
	h, err := dl.LoadFile(path, dl.Options{})
	if err != nil {
		t.Fatalf("the written model does not load: %v\n%s", err, src)
	}
	ins := codegen.RandomInputs(g, 1)
	want, err := runtime.Run(g, ins)
	if err != nil {
		t.Fatal(err)
	}
	got, err := runtime.Run(h, ins)
	if err != nil {
		t.Fatalf("run the loaded .dl: %v\n%s", err, src)
	}
	if len(got) != len(want) {
		t.Fatalf("%d outputs, want %d", len(got), len(want))
	}
	for i := range want {
		if !got[i].Type().Equal(want[i].Type()) {
			t.Errorf("output %d: %v, want %v", i, got[i].Type(), want[i].Type())
			continue
		}
		if err := compare(got[i], want[i], 1e-5, 1e-6); err != nil {
			t.Errorf("output %d (%s): %v", i, g.OutputNames[i], err)
		}
	}
}

// TestImportRoundTripConcat is the GoogLeNet case: a concat of branches
// whose names make its line longer than 100 characters, read by two
// chains, so that it is a statement of its own.
// The formatter used to break it as a pipeline with no stage after the
// `|`, and the .dl did not load.
func TestImportRoundTripConcat(t *testing.T) {
	long := "inception_block_branch_with_a_rather_long_pytorch_module_name"
	var nodes []pb
	var cat []string
	for i := range 4 {
		b := fmt.Sprintf("%s_%d", long, i)
		nodes = append(nodes, nodeProto("Relu", b, []string{"X"}, []string{b}))
		cat = append(cat, b)
	}
	nodes = append(nodes,
		nodeProto("Concat", "cat", cat, []string{"c"}, attrInt("axis", 1)),
		nodeProto("Relu", "r", []string{"c"}, []string{"d"}),
		nodeProto("Sigmoid", "s", []string{"d"}, []string{"Y"}),
		nodeProto("Tanh", "t", []string{"c"}, []string{"Z"}))
	g := mustImport(t, modelProto(13, graphSpec{
		inputs:  []pb{vinfo("X", dtFloat, 1, 2, 3)},
		outputs: []pb{vinfo("Y", dtFloat), vinfo("Z", dtFloat)},
		nodes:   nodes,
	}))
	roundTripDL(t, g)
}

// TestImportRoundTrip round-trips every ONNX fixture that imports: the
// models of testdata/models, testdata/exports (with their dims.txt) and
// testdata/zoo. A zoo model refused for a missing op (TestZoo tracks
// which) is counted, not tested; at least the fixtures that import today
// must be there.
func TestImportRoundTrip(t *testing.T) {
	var dirs []string
	for _, pat := range []string{"testdata/models/*/model.onnx", "testdata/exports/*/model.onnx", "testdata/zoo/*/model.onnx"} {
		ms, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			dirs = append(dirs, filepath.Dir(m))
		}
	}
	imported, refused := 0, 0
	for _, dir := range dirs {
		opt, err := readDims(dir)
		if err != nil {
			t.Fatal(err)
		}
		g, err := LoadWith(filepath.Join(dir, "model.onnx"), opt)
		var u *UnsupportedError
		if errors.As(err, &u) && strings.Contains(dir, "zoo") {
			refused++
			t.Logf("%s: refused at import (see TestZoo)", dir)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		imported++
		t.Run(strings.TrimPrefix(dir, "testdata/"), func(t *testing.T) { roundTripDL(t, g) })
	}
	if imported < 20 {
		t.Errorf("%d fixtures imported (%d refused), want at least 20", imported, refused)
	}
}

// ReadDims is readDims for the external tests (exports_test.go).
var ReadDims = readDims

// readDims reads an export's dims.txt ("name<TAB>size" lines) into import
// options; no file means a static model.
func readDims(dir string) (Options, error) {
	var opt Options
	data, err := os.ReadFile(filepath.Join(dir, "dims.txt"))
	if os.IsNotExist(err) {
		return opt, nil
	} else if err != nil {
		return opt, err
	}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var name string
		var n int
		if _, err := fmt.Sscanf(l, "%s %d", &name, &n); err != nil {
			return opt, fmt.Errorf("%s/dims.txt: %q: %v", dir, l, err)
		}
		if name == "batch" {
			opt.Batch = n
			continue
		}
		if opt.Dims == nil {
			opt.Dims = map[string]int{}
		}
		opt.Dims[name] = n
	}
	return opt, nil
}

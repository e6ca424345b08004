package onnx_test

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/frontend/onnx"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/runtime"
)

// The exports of testdata/exports (gen_exports.py) are PyTorch models
// written the usual way: padded AvgPool with count_include_pad, recurrent
// layers without an initial state, F.pad before a Conv, view/flatten
// shape chains, dynamic batch axes. Each is imported and run by the
// interpreter against PyTorch's float64 outputs at the models' tolerance.

const exportsDir = "testdata/exports"

func exportDirs(t *testing.T) []string {
	t.Helper()
	ms, err := filepath.Glob(filepath.Join(exportsDir, "*", "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatalf("no models in %s: run gen_exports.py", exportsDir)
	}
	var dirs []string
	for _, m := range ms {
		dirs = append(dirs, filepath.Dir(m))
	}
	sort.Strings(dirs)
	return dirs
}

func checkOutputs(t *testing.T, g *ir.Graph, ins, wants []*ir.Tensor) {
	t.Helper()
	if len(ins) != len(g.Inputs) || len(wants) != len(g.Outputs) {
		t.Fatalf("graph has %d inputs and %d outputs; fixtures have %d and %d",
			len(g.Inputs), len(g.Outputs), len(ins), len(wants))
	}
	outs, err := runtime.Run(g, ins)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	var worst []string
	for i, want := range wants {
		w, err := compareModelOutput(outs[i], want)
		if err != nil {
			t.Errorf("output %d (%s): %v", i, g.OutputNames[i], err)
		}
		worst = append(worst, fmt.Sprintf("%s %.3f", g.OutputNames[i], w))
	}
	t.Logf("worst error / tolerance: %s", strings.Join(worst, ", "))
}

func TestExports(t *testing.T) {
	for _, dir := range exportDirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			opt, err := onnx.ReadDims(dir)
			if err != nil {
				t.Fatal(err)
			}
			g, err := onnx.LoadWith(filepath.Join(dir, "model.onnx"), opt)
			if err != nil {
				t.Fatal(err)
			}
			if err := ir.Verify(g); err != nil {
				t.Fatalf("imported graph does not verify: %v", err)
			}
			if g.Batch != opt.Batch {
				t.Errorf("graph batch %d, want %d", g.Batch, opt.Batch)
			}
			ins, err := npyFiles(dir, "input")
			if err != nil {
				t.Fatal(err)
			}
			wants, err := npyFiles(dir, "output")
			if err != nil {
				t.Fatal(err)
			}
			checkOutputs(t, g, ins, wants)
			for _, n := range g.Nodes {
				if strings.ContainsAny(n.Name, "/:") {
					t.Errorf("node name %q is not cleaned up", n.Name)
				}
			}
		})
	}
}

// firstRow returns t's first element along axis 0, keeping the axis.
func firstRow(t *ir.Tensor) *ir.Tensor {
	s := t.Shape.Clone()
	s[0] = 1
	n := s.NumElems()
	return &ir.Tensor{DType: t.DType, Shape: s, Data: t.F32()[:n]}
}

// TestExportsDefaultBatch imports a dynamic-batch export without options:
// the batch is 1, and the result is the first row of the batch-3 run.
func TestExportsDefaultBatch(t *testing.T) {
	dir := filepath.Join(exportsDir, "dyn_cnn")
	g, err := onnx.Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if g.Batch != 1 || !g.Inputs[0].Type.Shape.Equal(ir.Shape{1, 1, 6, 6}) {
		t.Fatalf("batch %d, input %v; want 1, [1 1 6 6]", g.Batch, g.Inputs[0].Type.Shape)
	}
	ins, err := npyFiles(dir, "input")
	if err != nil {
		t.Fatal(err)
	}
	wants, err := npyFiles(dir, "output")
	if err != nil {
		t.Fatal(err)
	}
	checkOutputs(t, g, []*ir.Tensor{firstRow(ins[0])}, []*ir.Tensor{firstRow(wants[0])})

	// A static model keeps its batch whatever Options.Batch says.
	g, err = onnx.LoadWith(filepath.Join(exportsDir, "avgpool2d_pad", "model.onnx"), onnx.Options{Batch: 7})
	if err != nil {
		t.Fatal(err)
	}
	if g.Batch != 0 || g.Inputs[0].Type.Shape[0] != 2 {
		t.Errorf("static model: batch %d, input %v", g.Batch, g.Inputs[0].Type.Shape)
	}
}

// TestExportsSymbolicTime checks that a symbolic dimension other than the
// batch is refused with a hint when not given, and that the batch named
// "batch" on axis 1 of a sequence-first input is bound.
func TestExportsSymbolicTime(t *testing.T) {
	path := filepath.Join(exportsDir, "dyn_gru", "model.onnx")
	_, err := onnx.LoadWith(path, onnx.Options{Batch: 3})
	if err == nil || !strings.Contains(err.Error(), `"time"`) || !strings.Contains(err.Error(), "Options.Dims") {
		t.Fatalf("got %v, want an error naming the symbolic dimension time", err)
	}
	g, err := onnx.LoadWith(path, onnx.Options{Dims: map[string]int{"time": 4}})
	if err != nil {
		t.Fatal(err)
	}
	if !g.Inputs[0].Type.Shape.Equal(ir.Shape{4, 1, 3}) || g.Batch != 1 {
		t.Errorf("input %v batch %d, want [4 1 3] and 1", g.Inputs[0].Type.Shape, g.Batch)
	}
}

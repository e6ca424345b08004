package examples_test

// The attention layers and the hand-written targets of issue 11
// (examples/targets/*/model.dl: nn.MultiheadAttention, the Transformer
// encoder and decoder layers, position embeddings, a Transformer encoder
// classifier, a reduced-width MobileNetV3-Small; examples/unet's U-Net)
// against PyTorch: gen_targets.py saved each network's state_dict and its
// inputs and outputs (ref.safetensors, outputs computed in float64 and
// rounded once). The interpreter must match them, and so must the package
// dlc generates at -O2, whose self-test is given PyTorch's inputs and
// outputs in place of the interpreter's.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/codegen"
	"github.com/dlcompiler/dlc/frontend/dl"
	"github.com/dlcompiler/dlc/frontend/onnx"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/passes"
	"github.com/dlcompiler/dlc/runtime"
	"github.com/dlcompiler/dlc/weights"
)

// targetDirs are the folders with a model.dl (or model.onnx) and a
// ref.safetensors.
func targetDirs(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob("targets/*/ref.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("*/ref.safetensors")
	var out []string
	for _, f := range append(dirs, more...) {
		out = append(out, filepath.Dir(f))
	}
	if len(out) < 8 {
		t.Fatalf("found %d target folders, want the 7 of targets/ and unet: %v", len(out), out)
	}
	return out
}

// loadTarget loads dir/model.dl and its reference inputs and outputs in
// the graph's order. A folder with a model.onnx instead goes through `dlc
// import`: the ONNX graph is written as .dl and loaded from there.
func loadTarget(t *testing.T, dir string) (*ir.Graph, []*ir.Tensor, []*ir.Tensor) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "model.onnx")); err == nil {
		g, err := onnx.Load(filepath.Join(dir, "model.onnx"))
		if err != nil {
			t.Fatal(err)
		}
		tmp := t.TempDir()
		path := formatTo(t, g, tmp)
		return loadTargetFrom(t, dir, path)
	}
	return loadTargetFrom(t, dir, filepath.Join(dir, "model.dl"))
}

// formatTo writes g as model.dl (and its tensors) into dir, as dlc import
// does, and returns the .dl's path.
func formatTo(t *testing.T, g *ir.Graph, dir string) string {
	t.Helper()
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
	return path
}

func loadTargetFrom(t *testing.T, dir, model string) (*ir.Graph, []*ir.Tensor, []*ir.Tensor) {
	t.Helper()
	ref, err := weights.ReadSafetensors(filepath.Join(dir, "ref.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	var opt dl.Options
	if x := ref.Tensors["in.x"]; x != nil && strings.Contains(string(src), "const batch") {
		opt.Set = map[string]int{"batch": x.Shape[0]} // the example's batch-1 default, set to the reference's
	}
	g, err := dl.Load(model, src, opt)
	if err != nil {
		t.Fatal(err)
	}
	get := func(name string) *ir.Tensor {
		w := ref.Tensors[name]
		if w == nil {
			t.Fatalf("%s/ref.safetensors has no %s", dir, name)
		}
		return &ir.Tensor{DType: w.DType, Shape: ir.Shape(append([]int(nil), w.Shape...)), Data: w.Data}
	}
	var ins, outs []*ir.Tensor
	for _, v := range g.Inputs {
		ins = append(ins, get("in."+v.Name))
	}
	for _, name := range g.OutputNames {
		outs = append(outs, get("out."+name))
	}
	return g, ins, outs
}

func TestTargetsInterpreter(t *testing.T) {
	for _, dir := range targetDirs(t) {
		t.Run(dir, func(t *testing.T) {
			g, ins, want := loadTarget(t, dir)
			got, err := runtime.Run(g, ins)
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				t.Run(g.OutputNames[i], func(t *testing.T) { compare(t, got[i], want[i]) })
			}
		})
	}
}

// TestTargetsFormatted writes each target's graph back as .dl (the
// attention layers become their dense, matmul, softmax ... nodes, as `dlc
// import` writes them), loads it again and checks it against PyTorch.
func TestTargetsFormatted(t *testing.T) {
	for _, dir := range targetDirs(t) {
		t.Run(dir, func(t *testing.T) {
			g, ins, want := loadTarget(t, dir)
			path := formatTo(t, g, t.TempDir())
			h, err := dl.LoadFile(path, dl.Options{})
			if err != nil {
				src, _ := os.ReadFile(path)
				t.Fatalf("the formatted model does not load: %v\n%s", err, trimOut(src))
			}
			got, err := runtime.Run(h, ins)
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				t.Run(g.OutputNames[i], func(t *testing.T) { compare(t, got[i], want[i]) })
			}
		})
	}
}

func TestTargetsGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go package per target (-short)")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module dlctargets\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ps, err := passes.Select(2, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range targetDirs(t) {
		g, ins, want := loadTarget(t, dir)
		if err := passes.Run(g, ps, passes.Options{Verify: true}); err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		pkg := strings.ReplaceAll(filepath.Base(dir), "_", "")
		files, err := codegen.Generate(g, codegen.Options{Package: pkg, SelfTest: true, TestInputs: ins, TestOutputs: want})
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		for name, data := range files {
			p := filepath.Join(root, pkg, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	cmd := exec.Command("go", "test", "-count=1", "-run", "TestSelfTest", "./...")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("generated packages against PyTorch: %v\n%s", err, trimOut(out))
	}
	t.Logf("%s", out)
}

func trimOut(b []byte) string {
	if len(b) > 20000 {
		b = b[:20000]
	}
	return string(b)
}

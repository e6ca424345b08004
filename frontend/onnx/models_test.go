package onnx_test

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/codegen"
	"github.com/dlcompiler/dlc/frontend/onnx"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/passes"
	"github.com/dlcompiler/dlc/runtime"
	"github.com/dlcompiler/dlc/weights"
)

// The PyTorch-exported models of testdata/models (made by gen_models.py,
// described in its README.md): each is imported, run by the interpreter on
// the recorded inputs and compared with PyTorch's outputs.

const modelsDir = "testdata/models"

// Tolerance against PyTorch: |got - want| <= modelATol + modelRTol*|want|.
// No model needs a looser bound; gen_models.py checks that PyTorch's own
// float32 forward meets it against the float64 reference.
const (
	modelRTol = 1e-5
	modelATol = 1e-6
)

// modelInScope lists the ONNX ops the model fixtures must exercise
// together.
var modelInScope = []string{
	"Gemm", "MatMul", "Add", "Sub", "Mul", "Div",
	"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softmax", "LogSoftmax",
	"Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
	"BatchNormalization", "Flatten", "Reshape", "Transpose", "Concat",
	"Gather", "Squeeze", "Unsqueeze", "Dropout", "Identity", "Clip",
	"LSTM", "GRU", "RNN",
}

// notExported lists in-scope ops that torch.onnx never writes for an
// eval-mode model, with the reason.
var notExported = map[string]string{
	// symbolic_opset9.dropout returns its input unchanged when not
	// training: no Dropout node and no Identity. Exporting in training mode
	// would give random outputs (and batch norm in training mode). The
	// importer's Dropout is covered by ONNX's node tests.
	"Dropout": "torch.onnx exports eval-mode dropout as nothing",
}

// modelDirs returns the model folders, sorted.
func modelDirs(t *testing.T) []string {
	t.Helper()
	ms, err := filepath.Glob(filepath.Join(modelsDir, "*", "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatalf("no models in %s: run gen_models.py", modelsDir)
	}
	var dirs []string
	for _, m := range ms {
		dirs = append(dirs, filepath.Dir(m))
	}
	sort.Strings(dirs)
	return dirs
}

// npyFiles reads prefix_0.npy, prefix_1.npy, ... until one is missing.
func npyFiles(dir, prefix string) ([]*ir.Tensor, error) {
	var ts []*ir.Tensor
	for i := 0; ; i++ {
		path := filepath.Join(dir, fmt.Sprintf("%s_%d.npy", prefix, i))
		if _, err := os.Stat(path); os.IsNotExist(err) {
			return ts, nil
		}
		w, err := weights.ReadNpy(path)
		if err != nil {
			return nil, err
		}
		t, err := toIR(w)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		ts = append(ts, t)
	}
}

func toIR(w *weights.Tensor) (*ir.Tensor, error) {
	t := &ir.Tensor{Shape: ir.Shape(append([]int{}, w.Shape...))}
	switch w.DType {
	case weights.F32:
		t.DType, t.Data = ir.F32, w.Data
	case weights.I64:
		t.DType, t.Data = ir.I64, w.Data
	default:
		return nil, fmt.Errorf("dtype %v: want float32 or int64", w.DType)
	}
	return t, t.Check()
}

// compareModelOutput checks got against want elementwise and describes the
// worst element on failure. worst is the largest |got-want| as a fraction
// of the tolerance.
func compareModelOutput(got, want *ir.Tensor) (worst float64, err error) {
	if !got.Shape.Equal(want.Shape) || got.DType != want.DType {
		return math.Inf(1), fmt.Errorf("got %v, want %v", got.Type(), want.Type())
	}
	if want.DType != ir.F32 {
		for i := range want.I64() {
			if got.I64()[i] != want.I64()[i] {
				return math.Inf(1), fmt.Errorf("element %d: got %d, want %d", i, got.I64()[i], want.I64()[i])
			}
		}
		return 0, nil
	}
	at, bad := -1, 0
	for i, w := range want.F32() {
		g := got.F32()[i]
		d := math.Abs(float64(g) - float64(w))
		r := d / (modelATol + modelRTol*math.Abs(float64(w)))
		if math.IsNaN(r) {
			r = math.Inf(1)
		}
		if r > 1 {
			bad++
		}
		if r > worst || at < 0 {
			worst, at = r, i
		}
	}
	if bad > 0 {
		return worst, fmt.Errorf("%d of %d elements out of tolerance; worst at index %v (flat %d): got %.8g, want %.8g (%.3gx the tolerance)",
			bad, len(want.F32()), unflatten(at, want.Shape), at, got.F32()[at], want.F32()[at], worst)
	}
	return worst, nil
}

func unflatten(i int, s ir.Shape) []int {
	idx := make([]int, len(s))
	for d := len(s) - 1; d >= 0; d-- {
		idx[d] = i % s[d]
		i /= s[d]
	}
	return idx
}

// modelFixture is one model folder, imported, with its recorded vectors.
type modelFixture struct {
	name       string
	g          *ir.Graph
	ins, wants []*ir.Tensor
}

// loadModel imports dir/model.onnx and reads its inputs and outputs.
func loadModel(dir string) (*modelFixture, error) {
	g, err := onnx.Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	if err := ir.Verify(g); err != nil {
		return nil, fmt.Errorf("imported graph does not verify: %w", err)
	}
	ins, err := npyFiles(dir, "input")
	if err != nil {
		return nil, err
	}
	wants, err := npyFiles(dir, "output")
	if err != nil {
		return nil, err
	}
	if len(ins) != len(g.Inputs) || len(wants) != len(g.Outputs) {
		return nil, fmt.Errorf("graph has %d inputs and %d outputs; fixtures have %d and %d",
			len(g.Inputs), len(g.Outputs), len(ins), len(wants))
	}
	return &modelFixture{filepath.Base(dir), g, ins, wants}, nil
}

// TestModels runs every model through the interpreter, as imported and
// after each optimization level's passes, against PyTorch.
func TestModels(t *testing.T) {
	for _, dir := range modelDirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			for _, level := range []int{-1, 0, 1, 2} {
				m, err := loadModel(dir)
				if err != nil {
					t.Fatal(err)
				}
				stage := "imported"
				if level >= 0 {
					stage = fmt.Sprintf("-O%d", level)
					ps, err := passes.Select(level, "")
					if err != nil {
						t.Fatal(err)
					}
					if err := passes.Run(m.g, ps, passes.Options{Verify: true}); err != nil {
						t.Errorf("%s: %v", stage, err)
						continue
					}
				}
				outs, err := runtime.Run(m.g, m.ins)
				if err != nil {
					t.Errorf("%s: run: %v", stage, err)
					continue
				}
				var worst []string
				for i, want := range m.wants {
					w, err := compareModelOutput(outs[i], want)
					if err != nil {
						t.Errorf("%s: output %d (%s): %v", stage, i, m.g.OutputNames[i], err)
					}
					worst = append(worst, fmt.Sprintf("%s %.3f", m.g.OutputNames[i], w))
				}
				t.Logf("%-8s worst error / tolerance: %s", stage, strings.Join(worst, ", "))
			}
		})
	}
}

// TestModelsGenerated compiles every model at -O2 into a Go package whose
// self-test compares the generated code with PyTorch's outputs (at the
// generated self-test's tolerance: this file's, with the absolute floor
// scaled by the output's largest magnitude, see codegen/selftest.go), and
// runs those tests in a temporary module.
func TestModelsGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a package per model")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	mod := t.TempDir()
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module dlcmodels\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, dir := range modelDirs(t) {
		m, err := loadModel(dir)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(dir), err)
			continue
		}
		ps, err := passes.Select(2, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := passes.Run(m.g, ps, passes.Options{Verify: true}); err != nil {
			t.Errorf("%s: %v", m.name, err)
			continue
		}
		pkg := strings.ReplaceAll(m.name, "_", "")
		files, err := codegen.Generate(m.g, codegen.Options{
			Package: pkg, SelfTest: true, TestInputs: m.ins, TestOutputs: m.wants,
			RelTol: modelRTol, AbsTol: modelATol,
		})
		if err != nil {
			// Only the first line: a formatting failure appends the whole source.
			msg, _, _ := strings.Cut(err.Error(), "\n")
			t.Errorf("%s: generate: %s", m.name, msg)
			continue
		}
		if err := codegen.WritePackage(filepath.Join(mod, pkg), files); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n == 0 {
		return
	}
	cmd := exec.Command("go", "test", "-count=1", "./...")
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("go test over %d generated packages: %v\n%s", n, err, out)
	} else {
		t.Logf("%s", out)
	}
}

// readOps reads a model's ops.txt: "OpType<TAB>count" lines.
func readOps(path string) (map[string]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ops := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var op string
		var n int
		if line := strings.TrimSpace(sc.Text()); line == "" {
			continue
		} else if _, err := fmt.Sscanf(line, "%s %d", &op, &n); err != nil {
			return nil, fmt.Errorf("%s: %q: %v", path, line, err)
		}
		ops[op] += n
	}
	return ops, sc.Err()
}

// TestModelsOpCoverage checks that the models together use every in-scope
// op (per the ops.txt gen_models.py writes from the exported graphs).
func TestModelsOpCoverage(t *testing.T) {
	users := map[string][]string{}
	for _, dir := range modelDirs(t) {
		ops, err := readOps(filepath.Join(dir, "ops.txt"))
		if err != nil {
			t.Fatal(err)
		}
		for op := range ops {
			users[op] = append(users[op], filepath.Base(dir))
		}
	}
	for _, op := range modelInScope {
		_, skip := notExported[op]
		switch {
		case len(users[op]) == 0 && !skip:
			t.Errorf("no model exercises %s", op)
		case len(users[op]) > 0 && skip:
			t.Errorf("%s is listed as never exported but %v use it: remove it from notExported", op, users[op])
		case len(users[op]) > 0:
			t.Logf("%-18s %s", op, strings.Join(users[op], ", "))
		}
	}
}

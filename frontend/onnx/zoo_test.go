package onnx_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/codegen"
	"github.com/dlcompiler/dlc/frontend/onnx"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/passes"
	"github.com/dlcompiler/dlc/runtime"
)

// The networks of testdata/zoo (export.py, described in its README.md) are
// issue 10's coverage targets: ordinary PyTorch exports that dlc refuses
// today. A model that imports must match PyTorch through the interpreter;
// a refused one must be refused for exactly the ops zooRefused lists, so
// the table shrinks as ops land and never hides a new refusal.

const zooDir = "testdata/zoo"

// zooRefused lists, per zoo model, the refusals the import reports today:
// the op type of every refused node (or "opset N" when the model's opset
// is refused as a whole), each with the reason. A model absent from the
// table must import and run.
var zooRefused = map[string]map[string]string{}

// refusedNode matches the start of an UnsupportedError line: node "name"
// (OpType, opset N): why.
var refusedNode = regexp.MustCompile(`^node "(?:[^"\\]|\\.)*" \(([A-Za-z0-9_]+), opset (\d+)\): (.*)$`)

// refusals groups an UnsupportedError's lines by what zooRefused keys:
// the op type, or "opset N" for a refused opset.
func refusals(u *onnx.UnsupportedError) (map[string][]string, error) {
	by := map[string][]string{}
	for _, line := range u.Nodes {
		m := refusedNode.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("refusal %q names no node and op", line)
		}
		key := m[1]
		if strings.HasPrefix(m[3], "opset ") {
			key = "opset " + m[2]
		}
		by[key] = append(by[key], m[3])
	}
	return by, nil
}

func zooDirs(t *testing.T) []string {
	t.Helper()
	ms, err := filepath.Glob(filepath.Join(zooDir, "*", "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatalf("no models in %s: run /usr/bin/python3 %s/export.py", zooDir, zooDir)
	}
	var dirs []string
	for _, m := range ms {
		dirs = append(dirs, filepath.Dir(m))
	}
	sort.Strings(dirs)
	return dirs
}

// TestZoo imports every zoo model. Refused: the refusals must be exactly
// the model's zooRefused entry (logged). Imported: the interpreter must
// match PyTorch's outputs as imported and after the -O2 passes.
func TestZoo(t *testing.T) {
	dirs := zooDirs(t)
	have := map[string]bool{}
	for _, dir := range dirs {
		have[filepath.Base(dir)] = true
	}
	for name := range zooRefused {
		if !have[name] {
			t.Errorf("zooRefused lists %s, which has no folder in %s", name, zooDir)
		}
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) { checkZooModel(t, dir) })
	}
}

func checkZooModel(t *testing.T, dir string) {
	name := filepath.Base(dir)
	want := zooRefused[name]
	g, err := onnx.Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		var u *onnx.UnsupportedError
		if !errors.As(err, &u) {
			t.Fatalf("import failed, not as unsupported: %v", err)
		}
		checkZooRefusals(t, u, want)
		return
	}
	if len(want) > 0 {
		t.Errorf("imports now, but zooRefused lists %v: remove its entry", sortedKeys(want))
	}
	if err := ir.Verify(g); err != nil {
		t.Fatalf("imported graph does not verify: %v", err)
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
	ps, err := passes.Select(2, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := passes.Run(g, ps, passes.Options{Verify: true}); err != nil {
		t.Fatalf("-O2: %v", err)
	}
	outs, err := runtime.Run(g, ins)
	if err != nil {
		t.Fatalf("-O2: run: %v", err)
	}
	for i, w := range wants {
		if _, err := compareModelOutput(outs[i], w); err != nil {
			t.Errorf("-O2: output %d (%s): %v", i, g.OutputNames[i], err)
		}
	}
}

// checkZooRefusals compares a refusal with the model's zooRefused entry
// and logs it.
func checkZooRefusals(t *testing.T, u *onnx.UnsupportedError, want map[string]string) {
	t.Helper()
	got, err := refusals(u)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range sortedKeys(got) {
		msgs := got[key]
		why, ok := want[key]
		if !ok {
			t.Errorf("refused: %s (%d nodes: %s), which zooRefused does not list for this model", key, len(msgs), msgs[0])
			continue
		}
		t.Logf("refused: %-18s %2d nodes  expected: %s", key, len(msgs), why)
	}
	for _, key := range sortedKeys(want) {
		if _, ok := got[key]; !ok {
			t.Errorf("zooRefused lists %s (%s), but the import no longer refuses it: remove it from the table", key, want[key])
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestZooGenerated compiles every zoo model that imports at -O2 into a Go
// package whose self-test compares the generated code with PyTorch's
// outputs at 1e-5 relative, 1e-6 absolute (the absolute floor scaled by
// the output's largest magnitude, see codegen/selftest.go), and runs those
// tests in one temporary module.
func TestZooGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a package per model")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	mod := t.TempDir()
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module dlczoo\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, dir := range zooDirs(t) {
		name := filepath.Base(dir)
		if len(zooRefused[name]) > 0 {
			continue // TestZoo checks its refusal
		}
		if err := writeZooPackage(mod, dir); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		n++
	}
	if n == 0 {
		t.Fatal("no zoo model imports")
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

// writeZooPackage imports one zoo model, optimizes it at -O2 and writes its
// package, with a self-test on PyTorch's outputs, into the module mod.
func writeZooPackage(mod, dir string) error {
	g, err := onnx.Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return err
	}
	ins, err := npyFiles(dir, "input")
	if err != nil {
		return err
	}
	wants, err := npyFiles(dir, "output")
	if err != nil {
		return err
	}
	ps, err := passes.Select(2, "")
	if err != nil {
		return err
	}
	if err := passes.Run(g, ps, passes.Options{Verify: true}); err != nil {
		return err
	}
	pkg := strings.ReplaceAll(filepath.Base(dir), "_", "")
	files, err := codegen.Generate(g, codegen.Options{
		Package: pkg, SelfTest: true, TestInputs: ins, TestOutputs: wants, RelTol: 1e-5, AbsTol: 1e-6,
	})
	if err != nil {
		msg, _, _ := strings.Cut(err.Error(), "\n") // a formatting failure appends the source
		return fmt.Errorf("generate: %s", msg)
	}
	return codegen.WritePackage(filepath.Join(mod, pkg), files)
}

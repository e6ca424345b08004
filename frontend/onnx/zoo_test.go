package onnx_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

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
var zooRefused = map[string]map[string]string{
	"mobilenet_v3_small": {
		"HardSigmoid": "issue 10: activations (squeeze-excitation gates)",
		"HardSwish":   "issue 10: activations",
	},
	"transformer_op13": {
		"Pow": "issue 10: math (LayerNorm's variance at opset 13)",
	},
	"transformer_op17": {
		"LayerNormalization": "issue 10: normalization",
	},
	"unet": {
		"ConvTranspose": "issue 10: spatial (the ConvTranspose2d up-path)",
		"Resize":        "issue 10: spatial (nn.Upsample nearest)",
	},
	"seq2seq_gru": {
		"ArgMax": "issue 10: reductions (greedy decoding)",
	},
}

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

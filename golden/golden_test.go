// Package golden pins dlc's output: for every case, the IR after each
// -O2 pass and the generated Go source. A change in what dlc emits shows up
// here as a go-cmp diff; when the change is intended, rewrite the files
// with
//
//	go test ./golden -update
//
// and review the diff before committing.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/codegen"
	"github.com/dlcompiler/dlc/frontend/dl"
	"github.com/dlcompiler/dlc/frontend/onnx"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/passes"
	"github.com/dlcompiler/dlc/runtime"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// goldenCase is a model and the folder holding its expected outputs.
type goldenCase struct {
	name  string
	model string
}

// cases are the examples, the ONNX model fixtures and the small per-op
// models in testdata/ops.
func cases(t *testing.T) []goldenCase {
	var cs []goldenCase
	add := func(prefix, pattern string) {
		ms, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			cs = append(cs, goldenCase{name: prefix + filepath.Base(filepath.Dir(m)), model: m})
		}
	}
	add("example_", "../examples/*/model.dl")
	add("onnx_", "../frontend/onnx/testdata/models/*/model.onnx")
	ops, _ := filepath.Glob("testdata/ops/*.dl")
	for _, m := range ops {
		cs = append(cs, goldenCase{name: "op_" + strings.TrimSuffix(filepath.Base(m), ".dl"), model: m})
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	return cs
}

func load(t *testing.T, path string) *ir.Graph {
	t.Helper()
	var g *ir.Graph
	var err error
	if strings.HasSuffix(path, ".onnx") {
		g, err = onnx.Load(path)
	} else {
		g, err = dl.LoadFile(path, dl.Options{})
	}
	if err != nil {
		t.Fatal(err)
	}
	// The per-op models have no weights file: their params get their
	// initializers, seeded, so the weights (and the checksum pinned in the
	// generated source) are the same every run.
	if err := runtime.InitParams(g, 1); err != nil {
		t.Fatal(err)
	}
	return g
}

// outputs computes every golden file of a case: the IR after each pass of
// -O2 and the generated Go and assembly files (weights.bin is pinned by its
// size and checksum inside the generated source).
func outputs(t *testing.T, c goldenCase) map[string]string {
	g := load(t, c.model)
	files := map[string]string{}
	var ir2 strings.Builder
	ps, err := passes.Select(2, "")
	if err != nil {
		t.Fatal(err)
	}
	err = passes.Run(g, ps, passes.Options{Verify: true, After: func(pass string, g *ir.Graph) {
		ir2.WriteString("# after " + pass + "\n" + ir.Print(g))
	}})
	if err != nil {
		t.Fatal(err)
	}
	files["ir.txt"] = ir2.String()
	gen, err := codegen.Generate(g, codegen.Options{Package: "model"})
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range gen {
		if strings.HasSuffix(name, ".go") || strings.HasSuffix(name, ".s") {
			files[name+".golden"] = string(b)
		}
	}
	return files
}

func TestGolden(t *testing.T) {
	cs := cases(t)
	if len(cs) == 0 {
		t.Fatal("no golden cases found")
	}
	for _, c := range cs {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join("testdata", "expected", c.name)
			got := outputs(t, c)
			if *update {
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				for name, s := range got {
					if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				return
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatalf("no golden files for %s (run go test ./golden -update): %v", c.name, err)
			}
			want := map[string]string{}
			for _, e := range entries {
				b, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				want[e.Name()] = string(b)
			}
			for name := range want {
				if _, ok := got[name]; !ok {
					t.Errorf("%s: dlc no longer writes %s", c.name, name)
				}
			}
			for name, g := range got {
				w, ok := want[name]
				if !ok {
					t.Errorf("%s: new output %s has no golden file (run go test ./golden -update)", c.name, name)
					continue
				}
				if d := cmp.Diff(strings.Split(w, "\n"), strings.Split(g, "\n")); d != "" {
					t.Errorf("%s/%s differs from the golden file (-want +got):\n%s", c.name, name, d)
				}
			}
		})
	}
}

// TestDeterministic checks that compiling twice gives the same bytes.
func TestDeterministic(t *testing.T) {
	for _, c := range cases(t) {
		a, b := outputs(t, c), outputs(t, c)
		if d := cmp.Diff(a, b); d != "" {
			t.Errorf("%s: two compiles differ:\n%s", c.name, d)
		}
	}
}

package codegen

import (
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/dlcompiler/dlc/ir"
)

// typeCheck type-checks the generated package for amd64 and for purego
// with go/types directly: the test's own oracle, independent of
// Generate's check (on base-issue8, before Generate had one, the repros
// below failed here).
func typeCheck(t *testing.T, files map[string][]byte) {
	t.Helper()
	fset, imp := testImporter()
	for _, purego := range []bool{false, true} {
		var fs []*ast.File
		for name, src := range files {
			if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_amd64.go") && purego || strings.HasSuffix(name, "_other.go") && !purego {
				continue
			}
			f, err := parser.ParseFile(fset, name, src, 0)
			if err != nil {
				t.Fatal(err)
			}
			fs = append(fs, f)
		}
		conf := types.Config{Importer: imp}
		if _, err := conf.Check("p", fset, fs, nil); err != nil {
			t.Fatalf("generated package (purego %v) does not type-check: %v", purego, err)
		}
	}
}

// testImporter is one source importer for all of typeCheck's calls, so the
// standard library is type-checked once.
var testImporter = sync.OnceValues(func() (*token.FileSet, types.Importer) {
	fset := token.NewFileSet()
	return fset, importer.ForCompiler(fset, "source", nil)
})

// namedGraph is a graph with a tanh layer per name, each reading an input
// (plus the previous layer's output) and giving a graph output of that
// name, then a dense layer named dense. The names go to the layers, or
// with inputs set to the inputs (value names must be distinct).
func namedGraph(t *testing.T, names []string, dense string, inputs bool) *ir.Graph {
	b := &gb{t: t, g: ir.NewGraph("named"), r: rand.New(rand.NewPCG(1, 2))}
	var prev *ir.Value
	for i, name := range names {
		in, layer := name, fmt.Sprintf("layer%d", i)
		if !inputs {
			in, layer = fmt.Sprintf("v%d", i), name
		}
		x := b.input(in, 1, 4)
		if prev != nil {
			x = b.n1("add", []*ir.Value{x, prev}, nil)
		}
		n, err := b.g.AddNode("tanh", layer, []*ir.Value{x}, nil, ir.Pos{})
		if err != nil {
			t.Fatal(err)
		}
		prev = n.Outputs[0]
		b.g.AddOutput(name, prev)
	}
	n, err := b.g.AddNode("dense", dense, []*ir.Value{prev, b.param(3, 4), b.param(3)}, nil, ir.Pos{})
	if err != nil {
		t.Fatal(err)
	}
	b.g.AddOutput(dense, n.Outputs[0])
	return b.g
}

// TestIssue8Bug3Repros: a layer named math, and inputs named x_1 and x1,
// gave packages that did not compile ("math already declared through
// import of package math", "InputX1Size redeclared").
func TestIssue8Bug3Repros(t *testing.T) {
	for name, g := range map[string]*ir.Graph{
		"layer math":     namedGraph(t, []string{"x"}, "math", true),
		"inputs x_1, x1": namedGraph(t, []string{"x_1", "x1"}, "fc", true),
	} {
		t.Run(name, func(t *testing.T) {
			files, err := generateCase(t, g)
			if err != nil {
				t.Fatal(err)
			}
			typeCheck(t, files)
		})
	}
}

// TestTypeErrorNamesLayer: a generated package that does not type-check
// is an internal error naming the layer whose kernel is wrong, and no
// files are returned.
func TestTypeErrorNamesLayer(t *testing.T) {
	e := emitters["tanh"]
	emitters["tanh"] = emitter{emit: func(k *kctx) error {
		k.l("y[0] = undefinedHelper(x[0])")
		return nil
	}}
	defer func() { emitters["tanh"] = e }()
	files, err := Generate(namedGraph(t, []string{"x"}, "fc", true), Options{})
	if err == nil || !strings.Contains(err.Error(), "internal error") || !strings.Contains(err.Error(), "layer layer0 (tanh)") ||
		!strings.Contains(err.Error(), "undefinedHelper") {
		t.Fatalf("want an internal error naming layer layer0 and undefinedHelper, got %v", err)
	}
	if files != nil {
		t.Error("Generate returned files with its error")
	}
}

// TestNastyNames generates packages whose layers, inputs and outputs are
// named like Go keywords, predeclared identifiers, imported packages, the
// generated package's own names, names differing only in case or
// underscores, and unicode: every package must type-check, self-test
// included.
func TestNastyNames(t *testing.T) {
	cases := []struct {
		name  string
		names []string
		dense string
	}{
		{"keywords", []string{"func", "type", "range", "package"}, "go"},
		{"builtins", []string{"len", "float32", "uint16", "nil", "string", "iota"}, "true"},
		{"packages", []string{"math", "fmt", "binary", "fnv", "unsafe", "sync", "testing", "os", "embed"}, "bits"},
		{"generated", []string{"New", "Model", "Input", "Output", "init", "main", "weightsF32", "weightsBin", "forward", "run", "m", "err", "in0", "in", "out"}, "Example"},
		{"selftest", []string{"compare", "relTol", "selfTestData", "loadSelfTest", "d", "t", "stepModel", "haveSIMD"}, "weightView"},
		{"case", []string{"x_1", "x1", "X1", "x__1", "X_1"}, "x1_2"},
		{"unicode", []string{"π", "é", "日本", "_", "1x", "a.b", "a-b"}, "Ω"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, inputs := range []bool{false, true} {
				files, err := generateCase(t, namedGraph(t, c.names, c.dense, inputs))
				if err != nil {
					t.Fatal(err)
				}
				typeCheck(t, files)
			}
		})
	}
	// A recurrent model whose layers are named like step-kernel clashes
	// ("step" + "Model" = stepModel) and whose input is named Input.
	b := &gb{t: t, g: ir.NewGraph("named"), r: rand.New(rand.NewPCG(1, 2))}
	ids := b.ids("Input", 6, 1)
	e, err := b.g.AddNode("embedding", "model", []*ir.Value{ids, b.param(13, 4)}, nil, ir.Pos{})
	if err != nil {
		t.Fatal(err)
	}
	in := append([]*ir.Value{e.Outputs[0], nil, nil}, rnnWeights(b, "lstm", 4, 5, 1, false, true)...)
	l, err := b.g.AddNode("lstm", "reset", in, ir.Attrs{"hidden_size": 5}, ir.Pos{})
	if err != nil {
		t.Fatal(err)
	}
	b.out(l.Outputs[0])
	files, err := generateCase(t, b.g)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(files["named.go"]), "func (m *Model) Step(") {
		t.Fatal("the recurrent case has no Step: it no longer tests the step kernels' names")
	}
	typeCheck(t, files)
}

// TestReservedNames checks that reserved lists every unexported
// package-level name the generated files declare besides the kernels, so
// that no layer name can clash with one: it generates packages with every
// feature (SIMD kernels, Step, the self-test) and reads their declarations.
func TestReservedNames(t *testing.T) {
	simd := WithSchedule(caseGraph(t, "mlp"), []string{"dense"}, &ir.Schedule{Vector: 8})
	for _, g := range []*ir.Graph{simd, caseGraph(t, "textlstm")} {
		files, err := generateCase(t, g)
		if err != nil {
			t.Fatal(err)
		}
		gn, err := newGen(g, "p", Options{})
		if err != nil {
			t.Fatal(err)
		}
		kernels := map[string]bool{}
		for _, k := range gn.kname {
			kernels[k] = true
		}
		if gn.streamable() {
			for _, k := range gn.stream.sgen.kname {
				kernels[k] = true
			}
		}
		var missing []string
		for name, src := range files {
			if !strings.HasSuffix(name, ".go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), name, src, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range topLevelNames(f) {
				if !ast.IsExported(id) && !kernels[id] && !taken(id) {
					missing = append(missing, name+": "+id)
				}
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("%s: generated names missing from reserved (codegen/emit.go):\n%s", g.Name, strings.Join(missing, "\n"))
		}
	}
}

// topLevelNames lists a file's package-level declarations (not methods).
func topLevelNames(f *ast.File) []string {
	var names []string
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				names = append(names, d.Name.Name)
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					names = append(names, s.Name.Name)
				case *ast.ValueSpec:
					for _, n := range s.Names {
						names = append(names, n.Name)
					}
				}
			}
		}
	}
	return names
}

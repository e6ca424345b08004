package codegen

import (
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/passes"
	"github.com/dlcompiler/dlc/runtime"
)

// Regression tests for the bugs of issue 8 that need generated code: each
// probe is a small graph run on chosen inputs (NaN, ±Inf, -0, integer
// extremes, negative ids), generated with its self-test against the
// interpreter, optionally with an extra test file, and built in one
// temporary module; packages with SIMD kernels run again under -tags
// purego.

// probe is one generated package of the regression module.
type probe struct {
	name string
	g    *ir.Graph
	ins  []*ir.Tensor
	// extra, when set, is an extra test file (%[1]s is the package name).
	extra string
	// check, when set, checks the interpreter's outputs on ins.
	check func(t *testing.T, outs []*ir.Tensor)
}

// runProbes generates every probe into one module and runs go test over
// it, and over its SIMD packages with -tags purego.
func runProbes(t *testing.T, probes []probe) {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	dir := t.TempDir()
	writeModule(t, dir)
	var simd []string
	for _, p := range probes {
		if err := ir.Verify(p.g); err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		outs, err := runtime.Run(p.g, p.ins)
		if err != nil {
			t.Fatalf("%s: interpreter: %v", p.name, err)
		}
		if p.check != nil {
			p.check(t, outs)
		}
		files, err := Generate(p.g, Options{Package: p.name, SelfTest: true, TestInputs: p.ins, TestOutputs: outs})
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		if p.extra != "" {
			files["extra_test.go"] = fmt.Appendf(nil, p.extra, p.name)
		}
		if err := WritePackage(filepath.Join(dir, p.name), files); err != nil {
			t.Fatal(err)
		}
		if _, ok := files["kernels_amd64.s"]; ok {
			simd = append(simd, "./"+p.name)
		}
	}
	if out, err := goTest(t, dir, "-count=1", "./..."); err != nil {
		t.Errorf("go test over the generated packages: %v\n%s", err, trim(out))
	}
	if len(simd) > 0 {
		if out, err := goTest(t, dir, append([]string{"-count=1", "-tags", "purego"}, simd...)...); err != nil {
			t.Errorf("go test -tags purego over %v: %v\n%s", simd, err, trim(out))
		}
	}
}

// probeGraph starts a graph for a probe.
func probeGraph(t *testing.T, name string) *gb {
	return &gb{t: t, g: ir.NewGraph(name)}
}

func f32Tensor(shape ir.Shape, vals ...float32) *ir.Tensor {
	return &ir.Tensor{DType: ir.F32, Shape: shape, Data: vals}
}

func i64Tensor(shape ir.Shape, vals ...int64) *ir.Tensor {
	return &ir.Tensor{DType: ir.I64, Shape: shape, Data: vals}
}

// o2 runs the -O2 passes on a clone of g, so that a probe exercises the
// fused kernels and the tiling pass's schedules (SIMD where it chooses).
func o2(t *testing.T, g *ir.Graph, name string) *ir.Graph {
	t.Helper()
	c := g.Clone()
	c.Name = name
	ps, err := passes.Select(2, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := passes.Run(c, ps, passes.Options{Verify: true}); err != nil {
		t.Fatal(err)
	}
	return c
}

// callRun is an extra test body that calls the model's Run on the
// self-test's inputs after mutate changes them, and returns its error.
// %[1]s is the package.
const callRun = `package %[1]s

import (
	"strings"
	"testing"
)

var _ = strings.Contains

func callRun(t *testing.T, mutate func(d *selfTestData)) error {
	d := loadSelfTest(t)
	mutate(d)
	var out Output
	return New().Run(&d.in, &out)
}
`

// TestIntDivByZero is issue 8, bug 2: an integer division by zero made the
// generated Run panic; it must return the interpreter's kind of error,
// naming the layer. A constant divisor holding a zero is refused when
// generating. MinInt64 / -1 is MinInt64 in both.
func TestIntDivByZero(t *testing.T) {
	b := probeGraph(t, "divconst")
	a := b.ids("a", 4)
	z := b.constIDs([]int64{1, 0, 2, 3}, 4)
	b.g.AddOutput("y", b.n1("div", []*ir.Value{a, z}, nil))
	_, err := Generate(b.g, Options{})
	if err == nil || !strings.Contains(err.Error(), "div") || !strings.Contains(err.Error(), "division by zero") {
		t.Errorf("constant divisor with a zero: got %v, want an error naming the layer", err)
	}

	b = probeGraph(t, "divrun")
	a, d := b.ids("a", 4), b.ids("b", 4)
	b.g.AddOutput("y", b.n1("div", []*ir.Value{a, d}, nil))
	lay := b.g.Nodes[0].Name
	ins := []*ir.Tensor{i64Tensor(ir.Shape{4}, math.MinInt64, 7, -7, math.MaxInt64), i64Tensor(ir.Shape{4}, -1, 2, 2, -1)}
	runProbes(t, []probe{{
		name: "divrun", g: b.g, ins: ins,
		check: func(t *testing.T, outs []*ir.Tensor) {
			want := []int64{math.MinInt64, 3, -3, -math.MaxInt64}
			for i, w := range want {
				if outs[0].I64()[i] != w {
					t.Errorf("interpreter: y[%d] = %d, want %d", i, outs[0].I64()[i], w)
				}
			}
		},
		extra: callRun + `
func TestDivByZero(t *testing.T) {
	err := callRun(t, func(d *selfTestData) { d.in.B[2] = 0 })
	if err == nil || !strings.Contains(err.Error(), "` + lay + `") || !strings.Contains(err.Error(), "division by zero") {
		t.Fatalf("got %v, want an error naming layer ` + lay + `", err)
	}
}
`,
	}})
	if _, err := runtime.Run(b.g, []*ir.Tensor{ins[0], i64Tensor(ir.Shape{4}, 1, 0, 1, 1)}); err == nil || !strings.Contains(err.Error(), lay) {
		t.Errorf("interpreter: got %v, want an error naming layer %s", err, lay)
	}
}

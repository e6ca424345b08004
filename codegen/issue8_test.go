package codegen

import (
	"fmt"
	"math"
	"math/rand/v2"
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

// specials are the values every NaN probe mixes into its inputs.
var specials = []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1))}

// randInput fills shape with values in [-1, 1) and then sets the given
// positions.
func randInput(r *rand.Rand, shape ir.Shape, set map[int]float32) *ir.Tensor {
	t := ir.NewTensor(ir.F32, shape)
	for i := range t.F32() {
		t.F32()[i] = float32(r.Float64()*2 - 1)
	}
	for i, v := range set {
		t.F32()[i] = v
	}
	return t
}

// countNaN counts the NaNs of t.
func countNaN(t *ir.Tensor) int {
	n := 0
	for _, v := range t.F32() {
		if v != v {
			n++
		}
	}
	return n
}

// simd gives g's conv and dense kernels the AVX2 schedule (with a pure-Go
// twin under -tags purego).
func simd(g *ir.Graph, name string) *ir.Graph {
	s := WithSchedule(g, []string{"dense", "conv", "fused_dense", "fused_conv"}, &ir.Schedule{Unroll: 6, Algo: "im2col", Vector: 8})
	s.Name = name
	return s
}

// TestNaNPropagates is issue 8, bug 1: a NaN through max pooling gave
// three answers (the interpreter propagated it, the scalar emitters
// dropped it, the AVX2 kernel depended on its lane). Semantics are
// PyTorch's: a window holding a NaN gives NaN, and relu, clamp and
// leaky_relu keep NaN. Every probe runs its generated self-test against
// the interpreter, SIMD ones also under -tags purego.
func TestNaNPropagates(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 1))
	var probes []probe

	// The repro: maxpool2d(2) on 1x1x4x4 holding one NaN.
	b := probeGraph(t, "pool")
	b.g.AddOutput("y", b.n1("maxpool", []*ir.Value{b.input("x", 1, 1, 4, 4)}, ir.Attrs{"kernel": []int{2, 2}}))
	x := f32Tensor(ir.Shape{1, 1, 4, 4}, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
	x.F32()[0] = float32(math.NaN())
	probes = append(probes, probe{name: "pool", g: b.g, ins: []*ir.Tensor{x}, check: func(t *testing.T, outs []*ir.Tensor) {
		y := outs[0].F32()
		if y[0] == y[0] || y[1] != 7 || y[2] != 13 || y[3] != 15 {
			t.Errorf("interpreter: maxpool gives %v, want [NaN 7 13 15]", y)
		}
	}})

	// Every pool emitter with NaN, ±Inf and -0 at several window positions
	// (first, middle, last tap).
	pools := []struct {
		name, op string
		attrs    ir.Attrs
	}{
		{"poolpad", "maxpool", ir.Attrs{"kernel": []int{3, 3}, "strides": []int{2, 2}, "pads": []int{1, 1}, "ceil_mode": true}},
		{"poolidx", "maxpool", ir.Attrs{"kernel": []int{2, 2}, "indices": true}},
		{"pool1d", "maxpool", ir.Attrs{"kernel": []int{3}}},
		{"gmax", "global_maxpool", nil},
		{"avg", "avgpool", ir.Attrs{"kernel": []int{2, 2}}},
	}
	for _, p := range pools {
		b := probeGraph(t, p.name)
		shape := ir.Shape{2, 3, 6, 6}
		if p.name == "pool1d" {
			shape = ir.Shape{2, 3, 9}
		}
		b.out(b.node(p.op, []*ir.Value{b.input("x", shape...)}, p.attrs)...)
		set := map[int]float32{}
		for i := 0; i < shape.NumElems(); i += 7 {
			set[i] = specials[(i/7)%len(specials)]
		}
		in := randInput(r, shape, set)
		probes = append(probes, probe{name: p.name, g: b.g, ins: []*ir.Tensor{in}, check: func(t *testing.T, outs []*ir.Tensor) {
			if countNaN(outs[0]) == 0 {
				t.Errorf("%s: no NaN in the interpreter's output", p.name)
			}
		}})
	}

	// Activations keep NaN, ±Inf and -0 as the interpreter does, alone
	// and fused into one element-wise kernel.
	b = probeGraph(t, "acts")
	ax := b.input("x", 4, 8)
	var outs []*ir.Value
	for _, a := range []struct {
		op    string
		attrs ir.Attrs
	}{{"relu", nil}, {"clip", ir.Attrs{"min": -0.5, "max": 0.5}}, {"clip", ir.Attrs{"min": 1.0, "max": 0.0}}, {"leaky_relu", ir.Attrs{"alpha": 0.1}}} {
		outs = append(outs, b.n1(a.op, []*ir.Value{ax}, a.attrs))
	}
	chain := b.n1("relu", []*ir.Value{b.n1("add", []*ir.Value{ax, ax}, nil)}, nil)
	chain = b.n1("clip", []*ir.Value{chain}, ir.Attrs{"min": 0.0, "max": 6.0})
	b.out(append(outs, chain)...)
	set := map[int]float32{}
	for i, v := range specials {
		set[3*i], set[3*i+17] = v, v
	}
	actIn := randInput(r, ir.Shape{4, 8}, set)
	probes = append(probes,
		probe{name: "acts", g: b.g, ins: []*ir.Tensor{actIn}, check: func(t *testing.T, outs []*ir.Tensor) {
			for i, o := range outs {
				if o.F32()[0] == o.F32()[0] {
					t.Errorf("output %d: interpreter gives %v for NaN, want NaN", i, o.F32()[0])
				}
			}
		}},
		probe{name: "actso2", g: o2(t, b.g, "actso2"), ins: []*ir.Tensor{actIn}})

	// conv → relu → maxpool with one NaN input, fused at -O2, with the
	// default schedule and the AVX2 kernel (2x2 and 4x4 windows: every
	// step of the in-register max cascade), and a pool the kernel cannot
	// fuse (overlapping windows).
	for _, c := range []struct {
		name  string
		pool  ir.Attrs
		nanAt int
	}{
		{"convpool", ir.Attrs{"kernel": []int{2, 2}}, 2*64 + 3*8 + 5},
		{"convpool4", ir.Attrs{"kernel": []int{4, 4}}, 64 + 7*8 + 7},
		{"convpoolov", ir.Attrs{"kernel": []int{3, 3}, "strides": []int{2, 2}}, 10},
	} {
		b := &gb{t: t, g: ir.NewGraph(c.name), r: rand.New(rand.NewPCG(3, 4))}
		h := b.n1("conv", []*ir.Value{b.input("x", 1, 3, 8, 8), b.param(8, 3, 3, 3), b.param(8)}, ir.Attrs{"pads": []int{1, 1}})
		h = b.n1("relu", []*ir.Value{h}, nil)
		b.out(b.n1("maxpool", []*ir.Value{h}, c.pool))
		in := randInput(r, ir.Shape{1, 3, 8, 8}, map[int]float32{c.nanAt: float32(math.NaN()), 7: float32(math.Copysign(0, -1))})
		g := o2(t, b.g, c.name+"o2")
		probes = append(probes,
			probe{name: c.name, g: b.g, ins: []*ir.Tensor{in}, check: func(t *testing.T, outs []*ir.Tensor) {
				if countNaN(outs[0]) == 0 {
					t.Errorf("%s: no NaN in the interpreter's output", c.name)
				}
			}},
			probe{name: c.name + "o2", g: g, ins: []*ir.Tensor{in}},
			probe{name: c.name + "simd", g: simd(g, c.name+"simd"), ins: []*ir.Tensor{in}})
	}
	runProbes(t, probes)
}

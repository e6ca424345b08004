package autodiff

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/dlcompiler/dlc/codegen"
	"github.com/dlcompiler/dlc/compiler"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/passes"
	"github.com/dlcompiler/dlc/runtime"
)

// TestGeneratedGradients builds the f32 finite-difference cases into one
// graph, differentiates the sum of their losses with respect to every
// input and param, and compiles the gradients at -O2 into a package
// whose self-test (go test in a scratch module) compares the generated
// code with the interpreter: every rule's backward ops, after the
// optimizing passes, in generated code.
func TestGeneratedGradients(t *testing.T) { generatedGradients(t, ir.F32) }

// TestGeneratedGradients64 is TestGeneratedGradients over the cases that
// build in float64 (TestFiniteDifferences64's), with the loss Σ y²·R,
// compared within 1e-12
// relative and absolute (scaled by the output's magnitude): the f64
// kernels sum in float64 like the interpreter, so only a reordered sum
// (matmul's tiles) may move the last bits.
func TestGeneratedGradients64(t *testing.T) { generatedGradients(t, ir.F64) }

func generatedGradients(t *testing.T, dt ir.DType) {
	if testing.Short() {
		t.Skip("builds a generated package")
	}
	c := &fdBuild{t: t, g: ir.NewGraph("grads"), r: rand.New(rand.NewPCG(7, 9)), dt: dt}
	var loss *ir.Value
	n := 0
	for _, fc := range fdCases() {
		if !buildsIn(fc, dt) {
			continue
		}
		n++
		y := fc.build(c)
		rw := ir.NewTensor(dt, y.Type.Shape)
		for i := range rw.Len() {
			rw.SetFloat(i, c.r.Float64()*2-1)
		}
		c.k++
		rv := c.g.AddParam("rweight"+itoa(c.k), ir.Const, rw.Type(), rw, "", ir.Pos{})
		if dt == ir.F64 {
			// Σ y²·R: dy = 2y·R depends on the inputs, so the
			// forward ops and the backward ops that read dy run in the
			// generated code (with Σ y·R, dy is a constant and the
			// fold pass computes every gradient that reads only dy and
			// the weights at compile time, in the interpreter).
			y = c.op("mul", nil, y, y)
		}
		l := c.op("reduce_sum", nil, c.op("mul", nil, y, rv))
		if loss != nil {
			l = c.op("add", nil, loss, l)
		}
		loss = l
	}
	if dt == ir.F64 && n < minF64Cases {
		t.Fatalf("%d cases build in float64, want at least %d", n, minF64Cases)
	}
	var wrt []*ir.Value
	for _, v := range append(append([]*ir.Value(nil), c.g.Inputs...), c.g.Params...) {
		if v.Kind != ir.Const && v.Type.DType == dt {
			wrt = append(wrt, v)
		}
	}
	grads, err := Backward(c.g, loss, wrt)
	if err != nil {
		t.Fatal(err)
	}
	c.g.Outputs, c.g.OutputNames = nil, nil
	for i, gv := range grads {
		c.g.AddOutput("g"+itoa(i), gv)
	}
	c.g.Prune()
	ps, err := passes.Select(2, "")
	if err != nil {
		t.Fatal(err)
	}
	var files map[string][]byte
	if dt == ir.F32 {
		files, err = compiler.Compile(c.g, compiler.Options{Package: "grads", Passes: ps, SelfTest: true})
	} else {
		files, err = compileTight(c.g, ps)
	}
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := codegen.WritePackage(filepath.Join(dir, "grads"), files); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module grads\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	test := exec.Command("go", "test", "-count=1", "-run", "TestSelfTest", "./grads")
	test.Dir = dir
	if out, err := test.CombinedOutput(); err != nil {
		t.Fatalf("the generated package's self-test: %v\n%s", err, out)
	}
}

// compileTight is compiler.Compile with a self-test tolerance of 1e-12
// (relative, and absolute scaled by the output's magnitude).
func compileTight(g *ir.Graph, ps []passes.Pass) (map[string][]byte, error) {
	ref := g.Clone()
	if err := passes.Run(g, ps, passes.Options{Verify: true}); err != nil {
		return nil, err
	}
	ins := codegen.RandomInputs(ref, 1)
	outs, err := runtime.Run(ref, ins)
	if err != nil {
		return nil, err
	}
	return codegen.Generate(g, codegen.Options{Package: "grads", SelfTest: true, TestInputs: ins, TestOutputs: outs,
		RelTol: 1e-12, AbsTol: 1e-12, TolNote: "tolerance: relative and absolute 1e-12 (float64 sums in the interpreter's order, but for matmul's tiles)"})
}

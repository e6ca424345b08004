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
)

// TestGeneratedGradients builds the f32 finite-difference cases into one
// graph, differentiates the sum of their losses with respect to every
// input and param, and compiles the gradients at -O2 into a package
// whose self-test (go test in a scratch module) compares the generated
// code with the interpreter: every rule's backward ops, after the
// optimizing passes, in generated code.
func TestGeneratedGradients(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a generated package")
	}
	c := &fdBuild{t: t, g: ir.NewGraph("grads"), r: rand.New(rand.NewPCG(7, 9)), dt: ir.F32}
	var loss *ir.Value
	for _, fc := range fdCases() {
		y := fc.build(c)
		rw := ir.NewTensor(ir.F32, y.Type.Shape)
		for i := range rw.Len() {
			rw.SetFloat(i, c.r.Float64()*2-1)
		}
		c.k++
		rv := c.g.AddParam("rweight"+itoa(c.k), ir.Const, rw.Type(), rw, "", ir.Pos{})
		l := c.op("reduce_sum", nil, c.op("mul", nil, y, rv))
		if loss != nil {
			l = c.op("add", nil, loss, l)
		}
		loss = l
	}
	var wrt []*ir.Value
	for _, v := range append(append([]*ir.Value(nil), c.g.Inputs...), c.g.Params...) {
		if v.Kind != ir.Const && v.Type.DType == ir.F32 {
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
	files, err := compiler.Compile(c.g, compiler.Options{Package: "grads", Passes: ps, SelfTest: true})
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

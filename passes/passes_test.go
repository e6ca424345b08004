package passes

import (
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/runtime"
)

func f32(s ...int) ir.TensorType { return ir.TensorType{DType: ir.F32, Shape: ir.Shape(s)} }

func randTensor(r *rand.Rand, t ir.TensorType) *ir.Tensor {
	x := ir.NewTensor(t.DType, t.Shape)
	for i := range x.F32() {
		x.F32()[i] = float32(r.NormFloat64())
	}
	for i := range x.I64() {
		x.I64()[i] = int64(r.Intn(4))
	}
	return x
}

type builder struct {
	t *testing.T
	g *ir.Graph
	r *rand.Rand
}

func newBuilder(t *testing.T) *builder {
	return &builder{t: t, g: ir.NewGraph("t"), r: rand.New(rand.NewSource(1))}
}

func (b *builder) param(name string, kind ir.ValueKind, t ir.TensorType) *ir.Value {
	d := randTensor(b.r, t)
	if strings.HasSuffix(name, "var") {
		for i := range d.F32() {
			d.F32()[i] = float32(math.Abs(float64(d.F32()[i]))) + 0.5
		}
	}
	return b.g.AddParam(name, kind, t, d, "", ir.Pos{})
}

func (b *builder) node(op, name string, attrs ir.Attrs, in ...*ir.Value) *ir.Value {
	b.t.Helper()
	n, err := b.g.AddNode(op, name, in, attrs, ir.Pos{})
	if err != nil {
		b.t.Fatal(err)
	}
	return n.Out()
}

func (b *builder) bn(name string, x *ir.Value, c int) *ir.Value {
	return b.node("batchnorm", name, nil, x,
		b.param(name+".weight", ir.Param, f32(c)), b.param(name+".bias", ir.Param, f32(c)),
		b.param(name+".running_mean", ir.Const, f32(c)), b.param(name+".running_var", ir.Const, f32(c)))
}

// checkPass runs the passes on a clone of g and compares the interpreter's
// outputs before and after on random inputs; it returns the rewritten graph.
func checkPass(t *testing.T, g *ir.Graph, names string) *ir.Graph {
	t.Helper()
	if err := ir.Verify(g); err != nil {
		t.Fatal(err)
	}
	after := g.Clone()
	ps, err := Select(0, names)
	if err != nil {
		t.Fatal(err)
	}
	if err := Run(after, ps, Options{Verify: true}); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(7))
	for trial := 0; trial < 3; trial++ {
		var ins []*ir.Tensor
		for _, v := range g.Inputs {
			ins = append(ins, randTensor(r, v.Type))
		}
		want, err := runtime.Run(g, ins)
		if err != nil {
			t.Fatal(err)
		}
		got, err := runtime.Run(after, ins)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			compare(t, g.OutputNames[i], got[i], want[i], 1e-5)
		}
	}
	return after
}

func compare(t *testing.T, name string, got, want *ir.Tensor, rel float64) {
	t.Helper()
	if !got.Type().Equal(want.Type()) {
		t.Fatalf("%s: got %v, want %v", name, got.Type(), want.Type())
	}
	for i := range want.F32() {
		g, w := float64(got.F32()[i]), float64(want.F32()[i])
		if math.Abs(g-w) > 1e-6+rel*math.Abs(w) {
			t.Fatalf("%s[%d]: got %g, want %g", name, i, g, w)
		}
	}
	for i := range want.I64() {
		if got.I64()[i] != want.I64()[i] {
			t.Fatalf("%s[%d]: got %d, want %d", name, i, got.I64()[i], want.I64()[i])
		}
	}
}

func countOps(g *ir.Graph, op string) int {
	n := 0
	for _, nd := range g.Nodes {
		if nd.Op == op {
			n++
		}
	}
	return n
}

func TestBatchNormFold(t *testing.T) {
	b := newBuilder(t)
	x := b.g.AddInput("x", f32(2, 3, 7, 6), ir.Pos{})
	h := b.node("conv", "conv1", ir.Attrs{"pads": []int{1, 1}}, x, b.param("conv1.weight", ir.Param, f32(5, 3, 3, 3)), nil)
	h = b.bn("bn1", h, 5)
	h = b.node("relu", "relu1", nil, h)
	// A batch-norm after a ReLU must stay.
	h = b.bn("bn2", h, 5)
	// A conv whose output is used twice must keep its batch-norm.
	c2 := b.node("conv", "conv2", nil, h, b.param("conv2.weight", ir.Param, f32(4, 5, 1, 1)), b.param("conv2.bias", ir.Param, f32(4)))
	h = b.bn("bn3", c2, 4)
	h = b.node("add", "res", nil, h, c2)
	h = b.node("flatten", "flat", nil, h)
	d := b.node("dense", "fc", nil, h, b.param("fc.weight", ir.Param, f32(6, 4*7*6)), b.param("fc.bias", ir.Param, f32(6)))
	d = b.bn("bn4", d, 6)
	b.g.AddOutput("y", d)
	after := checkPass(t, b.g, "bnfold")
	if got := countOps(after, "batchnorm"); got != 2 {
		t.Errorf("%d batchnorms left, want 2 (bn2 after relu, bn3 after a shared conv):\n%s", got, ir.Print(after))
	}
	for _, n := range after.Nodes {
		if n.Op == "batchnorm" && n.Name != "bn2" && n.Name != "bn3" {
			t.Errorf("batchnorm %s should have been folded", n.Name)
		}
	}
}

func TestFoldCSEDCE(t *testing.T) {
	b := newBuilder(t)
	x := b.g.AddInput("x", f32(2, 4), ir.Pos{})
	w := b.param("w", ir.Param, f32(4, 3))
	wt := b.node("transpose", "wt", nil, w) // constant: folded
	a1 := b.node("relu", "a1", nil, x)
	a2 := b.node("relu", "a2", nil, x) // duplicate of a1: merged
	s := b.node("add", "s", nil, a1, a2)
	y := b.node("dense", "fc", nil, s, wt, nil)
	b.node("sigmoid", "unused", nil, y) // dead
	b.g.AddOutput("y", y)
	after := checkPass(t, b.g, "fold,cse,dce")
	if got := len(after.Nodes); got != 3 {
		t.Errorf("%d nodes left, want 3 (relu, add, dense):\n%s", got, ir.Print(after))
	}
	if countOps(after, "transpose") != 0 || countOps(after, "sigmoid") != 0 {
		t.Errorf("transpose not folded or dead sigmoid kept:\n%s", ir.Print(after))
	}
}

func TestSelect(t *testing.T) {
	if _, err := Select(3, ""); err == nil {
		t.Error("-O3 accepted")
	}
	if _, err := Select(0, "fold,nope"); err == nil || !strings.Contains(err.Error(), `unknown pass "nope"`) {
		t.Errorf("unknown pass: %v", err)
	}
	for lvl := range Levels {
		if _, err := Select(lvl, ""); err != nil {
			t.Error(err)
		}
	}
}

// TestFoldKeepsTrainableParams is the regression test of issue 8, bug 4:
// matmul(x, transpose(w)) with param w folded w into a const, fatal for
// training. A training graph keeps params and still folds consts; an
// inference graph folds both.
func TestFoldKeepsTrainableParams(t *testing.T) {
	build := func(training bool) *ir.Graph {
		b := newBuilder(t)
		b.g.Training = training
		x := b.g.AddInput("x", f32(2, 4), ir.Pos{})
		w := b.param("w", ir.Param, f32(3, 4))
		wt := b.node("transpose", "wt", ir.Attrs{"perm": []int{1, 0}}, w)
		y := b.node("matmul", "mm", nil, x, wt)
		k := b.param("k", ir.Const, f32(3))
		k2 := b.node("relu", "k2", nil, k) // consts only: folded in both modes
		y = b.node("add", "s", nil, y, k2)
		b.g.AddOutput("y", y)
		return b.g
	}
	for _, training := range []bool{false, true} {
		after := checkPass(t, build(training), "fold,dce")
		if countOps(after, "relu") != 0 {
			t.Errorf("training=%v: const-only relu not folded:\n%s", training, ir.Print(after))
		}
		kept := countOps(after, "transpose") == 1
		hasW := false
		for _, v := range after.Params {
			if v.Name == "w" && v.Kind == ir.Param {
				hasW = true
			}
		}
		if training && (!kept || !hasW) {
			t.Errorf("training graph lost param w or its transpose:\n%s", ir.Print(after))
		}
		if !training && kept {
			t.Errorf("inference graph did not fold transpose(w):\n%s", ir.Print(after))
		}
	}
}

// TestBatchNormFoldTraining: a training graph keeps its batch-norm, whose
// scale and the conv weight are trainable params.
func TestBatchNormFoldTraining(t *testing.T) {
	b := newBuilder(t)
	b.g.Training = true
	x := b.g.AddInput("x", f32(1, 3, 5, 5), ir.Pos{})
	h := b.node("conv", "conv1", nil, x, b.param("conv1.weight", ir.Param, f32(4, 3, 3, 3)), nil)
	b.g.AddOutput("y", b.bn("bn1", h, 4))
	after := checkPass(t, b.g, "bnfold")
	if countOps(after, "batchnorm") != 1 {
		t.Errorf("training graph folded its batch-norm:\n%s", ir.Print(after))
	}
}

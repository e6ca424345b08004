package autodiff

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/runtime"
)

// differentiable lists the ops with a gradient rule. TestDifferentiableOps
// fails when the op table disagrees: an op with a Grad slot and no rule,
// or a rule this list does not know.
var differentiable = strings.Fields(`
	abs acos acosh add asin asinh atan atanh avgpool batchnorm ceil clip concat conv cos cosh
	dense div dropout embedding erf exp flatten floor gelu global_avgpool global_maxpool identity
	leaky_relu log log_softmax matmul maxpool mul neg reciprocal reduce_mean reduce_sum relu
	reshape round sigmoid sign sin sinh softmax sqrt squeeze sub tan tanh transpose unsqueeze
	hardsigmoid hardswish elu selu celu softplus softsign mish silu threshold shrink prelu
	pow maximum minimum
	gather gather_elements gather_nd scatter_elements scatter_nd topk expand cast where trilu pad
	cumsum cumprod hardmax reduce_sum_square reduce_l1 reduce_l2 reduce_log_sum reduce_log_sum_exp
	reduce_max reduce_min reduce_prod layernorm rmsnorm groupnorm lrn nll_loss conv_transpose resize
	adaptive_avgpool rnn lstm gru fmod remainder one_hot`)

func TestDifferentiableOps(t *testing.T) {
	var have []string
	for _, d := range ir.Ops() {
		switch {
		case d.Grad != nil && d.Grad.Fn == nil:
			t.Errorf("op %s looks differentiable (it has a Grad slot) but has no rule in passes/autodiff", d.Name)
		case d.Grad != nil:
			have = append(have, d.Name)
			if !d.Differentiable() {
				t.Errorf("op %s has a rule but Differentiable() is false", d.Name)
			}
		case d.NoGrad == "":
			t.Errorf("op %s has neither a rule nor a NoGrad reason", d.Name)
		}
	}
	sort.Strings(have)
	want := append([]string(nil), differentiable...)
	sort.Strings(want)
	if strings.Join(have, " ") != strings.Join(want, " ") {
		t.Errorf("differentiable ops:\n have %v\n want %v", have, want)
	}
}

// TestRefusesWithoutRule checks that differentiating through an op
// without a rule is an error naming the layer and the op.
func TestRefusesWithoutRule(t *testing.T) {
	g := ir.NewGraph("t")
	// A gradient op has no rule (no second derivatives).
	x := g.AddInput("x", ir.TensorType{DType: ir.F32, Shape: ir.Shape{1, 1, 2, 2}}, ir.Pos{File: "m.dl", Line: 3, Col: 1})
	n, err := g.AddNode("avgpool_grad", "hot", []*ir.Value{x}, ir.Attrs{"kernel": []int{2, 2}, "strides": []int{2, 2}, "shape": []int{1, 1, 4, 4}},
		ir.Pos{File: "m.dl", Line: 4, Col: 2})
	if err != nil {
		t.Fatal(err)
	}
	s, err := g.AddNode("reduce_sum", "total", []*ir.Value{n.Out()}, nil, ir.Pos{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Backward(g, s.Out(), []*ir.Value{x})
	if err == nil || !strings.Contains(err.Error(), "m.dl:4:2: layer hot: op avgpool_grad is not differentiable") {
		t.Fatalf("want a refusal naming the layer and op, got %v", err)
	}
}

// fdCase is a small graph whose f32 inputs and params are differentiated.
type fdCase struct {
	name  string
	build func(c *fdBuild) *ir.Value
}

type fdBuild struct {
	t  *testing.T // nil: buildsIn, which reports a refused op by panicking errNoDType
	g  *ir.Graph
	r  *rand.Rand
	k  int
	dt ir.DType // of the inputs and params
}

func (c *fdBuild) in(s ...int) *ir.Value {
	c.k++
	return c.g.AddInput(fmt.Sprintf("x%d", c.k), ir.TensorType{DType: c.dt, Shape: s}, ir.Pos{})
}

func (c *fdBuild) param(s ...int) *ir.Value {
	c.k++
	t := ir.NewTensor(c.dt, s)
	for i := range t.Len() {
		t.SetFloat(i, c.r.Float64()*2-1)
	}
	return c.g.AddParam(fmt.Sprintf("p%d", c.k), ir.Param, t.Type(), t, "", ir.Pos{})
}

func (c *fdBuild) op(op string, a ir.Attrs, ins ...*ir.Value) *ir.Value {
	return c.node(op, a, ins...).Out()
}

func (c *fdBuild) node(op string, a ir.Attrs, ins ...*ir.Value) *ir.Node {
	c.k++
	n, err := c.g.AddNode(op, fmt.Sprintf("n%d", c.k), ins, a, ir.Pos{})
	if err != nil {
		if c.t == nil {
			panic(errNoDType{err})
		}
		c.t.Helper()
		c.t.Fatalf("%s: %v", op, err)
	}
	return n
}

func fdCases() []fdCase {
	un := func(op string, a ir.Attrs) fdCase {
		return fdCase{op, func(c *fdBuild) *ir.Value { return c.op(op, a, c.in(2, 3, 4)) }}
	}
	cs := []fdCase{
		un("relu", nil), un("sigmoid", nil), un("tanh", nil), un("leaky_relu", ir.Attrs{"alpha": 0.2}),
		un("gelu", nil), un("gelu", ir.Attrs{"approximate": "tanh"}), un("clip", ir.Attrs{"min": -0.5, "max": 0.4}),
		un("exp", nil), un("sin", nil), un("cos", nil), un("atan", nil), un("sinh", nil), un("cosh", nil),
		un("asinh", nil), un("erf", nil), un("neg", nil), un("abs", nil), un("tan", nil),
		un("hardsigmoid", nil), un("hardswish", nil), un("elu", ir.Attrs{"alpha": 0.7}), un("selu", nil),
		un("celu", ir.Attrs{"alpha": 1.5}), un("softplus", ir.Attrs{"beta": 2.0, "threshold": 1.0}), un("softsign", nil),
		un("mish", nil), un("silu", nil), un("threshold", ir.Attrs{"threshold": 0.2, "value": -1.0}),
		un("shrink", ir.Attrs{"lambd": 0.3, "bias": 0.1}),
		{"pow", func(c *fdBuild) *ir.Value {
			x := c.in(2, 3)
			base := c.op("add", nil, c.op("mul", nil, x, x), c.param())
			return c.op("pow", nil, base, c.op("add", nil, c.param(3), c.param()))
		}},
		{"maxmin", func(c *fdBuild) *ir.Value {
			a, b := c.in(2, 3), c.param(3)
			return c.op("add", nil, c.op("maximum", nil, a, b), c.op("mul", nil, c.op("minimum", nil, a, b), c.param()))
		}},
		{"prelu", func(c *fdBuild) *ir.Value { return c.op("prelu", nil, c.in(2, 3, 4), c.param(3, 1)) }},
		un("softmax", ir.Attrs{"axis": 1}), un("log_softmax", ir.Attrs{"axis": -1}),
		un("reduce_sum", ir.Attrs{"axes": []int{0, 2}}), un("reduce_mean", ir.Attrs{"axes": []int{1}, "keepdims": true}),
		un("transpose", ir.Attrs{"perm": []int{2, 0, 1}}), un("flatten", ir.Attrs{"axis": 1}),
		un("reshape", ir.Attrs{"shape": []int{4, 6}}), un("identity", nil), un("floor", nil),
		{"positive", func(c *fdBuild) *ir.Value {
			// domain-restricted functions on x² + 0.5 (sqrt, log, reciprocal, acosh) and tanh(x)/2 (asin, acos, atanh)
			x := c.in(2, 5)
			p := c.op("add", nil, c.op("mul", nil, x, x), c.param())
			q := c.op("mul", nil, c.op("tanh", nil, x), c.param())
			s := c.op("add", nil, c.op("sqrt", nil, p), c.op("log", nil, p))
			s = c.op("add", nil, s, c.op("reciprocal", nil, p))
			s = c.op("add", nil, s, c.op("asin", nil, q))
			s = c.op("add", nil, s, c.op("acos", nil, q))
			return c.op("add", nil, s, c.op("atanh", nil, q))
		}},
		{"broadcast", func(c *fdBuild) *ir.Value {
			a, b := c.in(2, 1, 4), c.param(3, 1)
			s := c.op("add", nil, c.op("mul", nil, a, b), c.op("sub", nil, b, a))
			return c.op("add", nil, s, c.op("div", nil, a, c.op("add", nil, c.op("mul", nil, b, b), c.op("exp", nil, c.param()))))
		}},
		{"dense", func(c *fdBuild) *ir.Value { return c.op("dense", nil, c.in(3, 5), c.param(4, 5), c.param(4)) }},
		{"dense3d", func(c *fdBuild) *ir.Value { return c.op("dense", nil, c.in(2, 3, 5), c.param(4, 5)) }},
		{"matmul", func(c *fdBuild) *ir.Value { return c.op("matmul", nil, c.in(2, 3, 4), c.param(4, 5)) }},
		{"matmul_batch", func(c *fdBuild) *ir.Value { return c.op("matmul", nil, c.in(1, 3, 4), c.param(2, 4, 2)) }},
		{"conv2d", func(c *fdBuild) *ir.Value {
			return c.op("conv", ir.Attrs{"strides": []int{2, 1}, "pads": []int{1, 0, 2, 1}, "dilations": []int{1, 2}},
				c.in(2, 3, 6, 7), c.param(4, 3, 3, 2), c.param(4))
		}},
		{"conv2d_groups", func(c *fdBuild) *ir.Value {
			return c.op("conv", ir.Attrs{"groups": 2, "pads": []int{1, 1}}, c.in(1, 4, 5, 5), c.param(6, 2, 3, 3))
		}},
		{"conv1d", func(c *fdBuild) *ir.Value {
			return c.op("conv", ir.Attrs{"strides": []int{2}, "dilations": []int{2}}, c.in(2, 2, 9), c.param(3, 2, 2), c.param(3))
		}},
		{"conv3d", func(c *fdBuild) *ir.Value {
			return c.op("conv", ir.Attrs{"pads": []int{1, 0, 1}}, c.in(1, 2, 3, 4, 3), c.param(2, 2, 2, 3, 2))
		}},
		{"maxpool", func(c *fdBuild) *ir.Value {
			return c.op("maxpool", ir.Attrs{"kernel": []int{3, 2}, "strides": []int{2, 1}, "pads": []int{1, 0, 1, 1}}, c.in(2, 2, 5, 6))
		}},
		{"maxpool_ceil", func(c *fdBuild) *ir.Value {
			return c.op("maxpool", ir.Attrs{"kernel": []int{2}, "ceil_mode": true}, c.in(1, 2, 7))
		}},
		{"avgpool", func(c *fdBuild) *ir.Value {
			return c.op("avgpool", ir.Attrs{"kernel": []int{3, 3}, "strides": []int{2, 2}, "pads": []int{1, 1}}, c.in(2, 2, 6, 5))
		}},
		{"avgpool_nopad", func(c *fdBuild) *ir.Value {
			return c.op("avgpool", ir.Attrs{"kernel": []int{3}, "strides": []int{2}, "pads": []int{1}, "count_include_pad": false, "ceil_mode": true}, c.in(1, 2, 8))
		}},
		{"global_pools", func(c *fdBuild) *ir.Value {
			x := c.in(2, 3, 4, 3)
			return c.op("add", nil, c.op("global_avgpool", nil, x), c.op("global_maxpool", nil, x))
		}},
		{"batchnorm", func(c *fdBuild) *ir.Value {
			v := c.op("add", nil, c.op("mul", nil, c.param(3), c.param(3)), c.op("exp", nil, c.param()))
			return c.op("batchnorm", nil, c.in(2, 3, 2, 2), c.param(3), c.param(3), c.param(3), v)
		}},
		{"concat_squeeze", func(c *fdBuild) *ir.Value {
			a := c.op("unsqueeze", ir.Attrs{"axes": []int{1}}, c.in(2, 3))
			y := c.op("concat", ir.Attrs{"axis": 1}, a, c.param(2, 2, 3), a)
			return c.op("squeeze", nil, c.op("reshape", ir.Attrs{"shape": []int{2, 1, 12}}, y))
		}},
		{"embedding", func(c *fdBuild) *ir.Value {
			ids := ir.NewTensor(ir.I64, ir.Shape{2, 3})
			copy(ids.I64(), []int64{1, 4, 1, 0, 2, 4})
			iv := c.g.AddParam("ids", ir.Const, ir.TensorType{DType: ir.I64, Shape: ir.Shape{2, 3}}, ids, "", ir.Pos{})
			return c.op("embedding", nil, iv, c.param(5, 3))
		}},
	}
	return append(cs, fdCases2()...)
}

// TestFiniteDifferences checks every rule against central differences of
// the interpreter's loss Σ y·R (R a fixed random weighting, so every
// output element's gradient matters). The interpreter runs in f32 with
// float64 sums, so the step is 1e-3 and the tolerance 1e-2 relative
// (rounding of the loss is about 1e-7 of it, over 1e-3 of step).
func TestFiniteDifferences(t *testing.T) {
	for i, fc := range fdCases() {
		t.Run(fmt.Sprintf("%s_%d", fc.name, i), func(t *testing.T) { checkFD(t, fc, uint64(i), ir.F32) })
	}
}

// TestFiniteDifferences64 runs the cases again in float64 wherever their
// ops take f64 (the element-wise ops, the reductions, the plumbing and
// indexing ops, dense, conv, conv_transpose, the pools, resize,
// adaptive_avgpool, embedding, softmax and the normalizations, the losses,
// the recurrent layers): the step is 1e-5 and the tolerance 1e-6
// relative, so that a rule off by a small term fails here even when f32
// rounding hides it. The cases whose forward ops are f32-only are listed
// in the log; they keep the f32 check above. The count of f64 cases is
// pinned, so a case that stops building in f64 fails the test.
func TestFiniteDifferences64(t *testing.T) {
	var f32only []string
	n64 := 0
	for i, fc := range fdCases() {
		if !buildsIn(fc, ir.F64) {
			f32only = append(f32only, fc.name)
			continue
		}
		n64++
		t.Run(fmt.Sprintf("%s_%d", fc.name, i), func(t *testing.T) { checkFD(t, fc, uint64(i), ir.F64) })
	}
	t.Logf("%d cases checked in float64; f32 only (their ops are): %v", n64, f32only)
	if n64 < minF64Cases {
		t.Errorf("%d cases build in float64, want at least %d", n64, minF64Cases)
	}
}

// minF64Cases is how many of fdCases build in float64.
const minF64Cases = 117

// errNoDType is the panic of an fdBuild whose op refuses its dtype.
type errNoDType struct{ err error }

// buildsIn reports whether fc's forward graph builds with dtype dt.
func buildsIn(fc fdCase, dt ir.DType) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, is := r.(errNoDType); !is {
				panic(r)
			}
			ok = false
		}
	}()
	c := &fdBuild{g: ir.NewGraph(fc.name), r: rand.New(rand.NewPCG(1, 9)), dt: dt}
	fc.build(c)
	return true
}

func checkFD(t *testing.T, fc fdCase, seed uint64, dt ir.DType) {
	r := rand.New(rand.NewPCG(seed, 9))
	c := &fdBuild{t: t, g: ir.NewGraph(fc.name), r: r, dt: dt}
	y := fc.build(c)
	// loss = Σ y·R
	rw := ir.NewTensor(y.Type.DType, y.Type.Shape)
	for i := range rw.Len() {
		rw.SetFloat(i, r.Float64()*2-1)
	}
	rv := c.g.AddParam("rweight", ir.Const, y.Type, rw, "", ir.Pos{})
	loss := c.op("reduce_sum", nil, c.op("mul", nil, y, rv))
	var wrt []*ir.Value
	for _, v := range append(append([]*ir.Value(nil), c.g.Inputs...), c.g.Params...) {
		if v.Kind != ir.Const && v.Type.DType == dt {
			wrt = append(wrt, v)
		}
	}
	inputs := make([]*ir.Tensor, len(c.g.Inputs))
	for i, v := range c.g.Inputs {
		inputs[i] = ir.NewTensor(v.Type.DType, v.Type.Shape)
		for j := range inputs[i].Len() {
			inputs[i].SetFloat(j, r.Float64()*2-1)
		}
	}
	fwd := c.g.Clone()
	grads, err := Backward(c.g, loss, wrt)
	if err != nil {
		t.Fatal(err)
	}
	c.g.Outputs, c.g.OutputNames = nil, nil
	for i, gv := range grads {
		c.g.AddOutput(fmt.Sprintf("g%d", i), gv)
	}
	c.g.Prune()
	if err := ir.Verify(c.g); err != nil {
		t.Fatal(err)
	}
	got, err := runtime.Run(c.g, inputs)
	if err != nil {
		t.Fatal(err)
	}
	fwd.Outputs, fwd.OutputNames = nil, nil
	fwd.AddOutput("loss", fwdValue(fwd, loss))
	lossAt := func() float64 {
		out, err := runtime.Run(fwd, inputs)
		if err != nil {
			t.Fatal(err)
		}
		return out[0].Float(0)
	}
	h, tol := 1e-3, 1e-2
	if dt == ir.F64 {
		h, tol = 1e-5, 1e-6
	}
	checked, skipped := 0, 0
	for i, v := range wrt {
		data := dataOf(fwd, v, c.g.Inputs, inputs)
		for j := range data.Len() {
			old := data.Float(j)
			data.SetFloat(j, old+h)
			up := lossAt()
			data.SetFloat(j, old-h)
			down := lossAt()
			data.SetFloat(j, old)
			mid := lossAt()
			want := (up - down) / (2 * h)
			// A kink (relu at 0, a near-tie in a max) within h of the
			// point: the one-sided slopes disagree; the point is skipped.
			if math.Abs((up-mid)-(mid-down))/h > 0.02*math.Max(1, math.Abs(want)) {
				skipped++
				continue
			}
			checked++
			g := got[i].Float(j)
			if math.Abs(g-want) > tol*math.Max(1, math.Abs(want)) {
				t.Errorf("d loss / d %s[%d] = %.9g, finite differences give %.9g", v.Name, j, g, want)
			}
		}
	}
	if skipped > checked/10 {
		t.Errorf("%d of %d points skipped as kinks: the case checks too little", skipped, checked+skipped)
	}
}

// fwdValue finds the clone of v in fwd by name.
func fwdValue(fwd *ir.Graph, v *ir.Value) *ir.Value {
	for _, w := range fwd.Values() {
		if w.Name == v.Name {
			return w
		}
	}
	panic("no value " + v.Name)
}

// dataOf returns the f32 data that a perturbation of v changes in fwd:
// the input tensor, or the cloned param's data.
func dataOf(fwd *ir.Graph, v *ir.Value, ins []*ir.Value, inputs []*ir.Tensor) *ir.Tensor {
	for i, in := range ins {
		if in == v {
			return inputs[i]
		}
	}
	return fwdValue(fwd, v).Data
}

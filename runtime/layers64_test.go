package runtime

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/ir"
)

// layers64 are the ops whose kernels are generic over float32 and
// float64 (floatLayer).
var layers64 = []string{"dense", "conv", "conv_transpose", "maxpool", "avgpool", "global_avgpool", "global_maxpool",
	"adaptive_avgpool", "resize", "embedding", "conv_grad_input", "conv_grad_weight", "maxpool_grad", "avgpool_grad"}

// TestLayerFixturesF64 runs the PyTorch fixtures of the layers that take
// float64 again with every f32 tensor widened to f64: the f64 instance of
// each generic kernel must give PyTorch's float32 results within the
// fixtures' tolerance (and maxpool's indices exactly), so the f64 forms
// mean what the f32 ones do. Every listed op must have a fixture.
func TestLayerFixturesF64(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(fixtureDir, "*.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, op := range layers64 {
		want[op] = true
	}
	count := map[string]int{}
	for _, path := range paths {
		fx, err := loadFixture(path)
		if err != nil {
			t.Fatal(err)
		}
		if !want[fx.op] {
			continue
		}
		count[fx.op]++
		runWidened(t, path, fx)
	}
	var missing, seen []string
	for _, op := range layers64 {
		if count[op] == 0 {
			missing = append(missing, op)
		}
		seen = append(seen, op+":"+itoa(int64(count[op])))
	}
	sort.Strings(seen)
	t.Logf("fixtures run in f64: %s", strings.Join(seen, " "))
	if len(missing) > 0 {
		t.Errorf("no fixture of %v", missing)
	}
}

// runWidened runs one fixture with its f32 tensors as f64 and compares
// the outputs, narrowed back to f32, with the fixture's.
func runWidened(t *testing.T, path string, fx *fixture) {
	t.Helper()
	widen := func(x *ir.Tensor) *ir.Tensor {
		if x.DType != ir.F32 {
			return x
		}
		y := ir.NewTensor(ir.F64, x.Shape)
		for i, v := range x.F32() {
			y.F64()[i] = float64(v)
		}
		return y
	}
	g := ir.NewGraph("f64")
	var ins []*ir.Value
	var feed []*ir.Tensor
	byName := map[string]*ir.Value{}
	for _, in := range fx.inputs {
		if in == "" {
			ins = append(ins, nil)
			continue
		}
		v := byName[in]
		if v == nil {
			tt := widen(fx.tensors[in])
			v = g.AddInput(in, tt.Type(), ir.Pos{})
			byName[in] = v
			feed = append(feed, tt)
		}
		ins = append(ins, v)
	}
	n, err := g.AddNode(fx.op, "n", ins, fx.attrs, ir.Pos{})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for i := range fx.outputs {
		g.AddOutput(fx.outputs[i], n.Outputs[i])
	}
	got, err := Run(g, feed)
	if err != nil {
		t.Fatalf("%s: Run: %v", path, err)
	}
	for i, o := range fx.outputs {
		y := got[i]
		if y.DType == ir.F64 {
			narrow := ir.NewTensor(ir.F32, y.Shape)
			for j, v := range y.F64() {
				narrow.F32()[j] = float32(v)
			}
			y = narrow
		}
		if err := compareTensor(y, fx.tensors[o], fixtureAbs, fixtureRel); err != nil {
			t.Errorf("%s in f64: output %s: %v", path, o, err)
		}
	}
}

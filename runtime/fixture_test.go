package runtime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/weights"
)

// PyTorch fixtures: testdata/fixtures/<case>.safetensors, written by
// testdata/gen_fixtures.py (and gen_rnn_fixtures.py for the recurrent
// ops). Each file holds a case's input tensors and expected outputs, and
// metadata: "op", "attrs" (JSON object), "inputs" (JSON list with one
// tensor name or null per input slot) and "outputs" (JSON list of tensor
// names).

const fixtureDir = "testdata/fixtures"

// Fixture tolerance: |got-want| <= fixtureAbs + fixtureRel*|want|.
const (
	fixtureAbs = 1e-6
	fixtureRel = 1e-5
)

// recurrentFixture reports whether a fixture file belongs to the
// recurrent ops, whose tests (rnn_test.go) run them.
func recurrentFixture(path string) bool {
	base := filepath.Base(path)
	for _, p := range []string{"rnn_", "lstm_", "gru_"} {
		if strings.HasPrefix(base, p) {
			return true
		}
	}
	return false
}

// fixture is one decoded fixture file.
type fixture struct {
	op      string
	attrs   ir.Attrs
	inputs  []string // "" for an absent optional input
	outputs []string
	tensors map[string]*ir.Tensor
}

// loadFixture reads and decodes one fixture file.
func loadFixture(path string) (*fixture, error) {
	f, err := weights.ReadSafetensors(path)
	if err != nil {
		return nil, err
	}
	md := f.Metadata
	for _, k := range []string{"op", "attrs", "inputs", "outputs"} {
		if _, ok := md[k]; !ok {
			return nil, fmt.Errorf("%s: metadata has no %q", path, k)
		}
	}
	fx := &fixture{op: md["op"], tensors: map[string]*ir.Tensor{}}
	if fx.attrs, err = parseAttrs(md["attrs"]); err != nil {
		return nil, fmt.Errorf("%s: attrs: %v", path, err)
	}
	var ins []*string
	if err := json.Unmarshal([]byte(md["inputs"]), &ins); err != nil {
		return nil, fmt.Errorf("%s: inputs: %v", path, err)
	}
	for _, s := range ins {
		name := ""
		if s != nil {
			name = *s
		}
		fx.inputs = append(fx.inputs, name)
	}
	if err := json.Unmarshal([]byte(md["outputs"]), &fx.outputs); err != nil {
		return nil, fmt.Errorf("%s: outputs: %v", path, err)
	}
	for name, t := range f.Tensors {
		fx.tensors[name] = t
	}
	for _, n := range append(append([]string(nil), fx.inputs...), fx.outputs...) {
		if _, ok := fx.tensors[n]; n != "" && !ok {
			return nil, fmt.Errorf("%s: no tensor %q", path, n)
		}
	}
	return fx, nil
}

// parseAttrs decodes a JSON object of attributes: integral numbers become
// int (ir converts them to float64 for float attributes), other numbers
// float64, arrays []int, and strings and bools stay as they are.
func parseAttrs(s string) (ir.Attrs, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}
	attrs := ir.Attrs{}
	for k, v := range raw {
		switch x := v.(type) {
		case json.Number:
			n, err := jsonNumber(x)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", k, err)
			}
			attrs[k] = n
		case []any:
			ints, fs, floats := []int{}, []float64{}, false
			for _, e := range x {
				num, ok := e.(json.Number)
				if !ok {
					return nil, fmt.Errorf("%s: list element %v is not a number", k, e)
				}
				n, err := jsonNumber(num)
				if err != nil {
					return nil, fmt.Errorf("%s: %v", k, err)
				}
				i, ok := n.(int)
				if !ok {
					floats = true
				}
				ints = append(ints, i)
				fs = append(fs, f64(n))
			}
			attrs[k] = ints
			if floats { // a list with a fraction is a list of numbers
				attrs[k] = fs
			}
		case string, bool:
			attrs[k] = x
		default:
			return nil, fmt.Errorf("%s: unsupported value %v", k, v)
		}
	}
	return attrs, nil
}

func f64(n any) float64 {
	if i, ok := n.(int); ok {
		return float64(i)
	}
	return n.(float64)
}

// jsonNumber returns an integral JSON number as int, any other as float64.
func jsonNumber(n json.Number) (any, error) {
	f, err := n.Float64()
	if err != nil {
		return nil, err
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int(f), nil
	}
	return f, nil
}

// runFixtureFile loads one fixture case, builds a one-node ir.Graph (inputs
// as graph inputs; AddNode with the attrs), runs it with Run, and compares
// every output: |got-want| <= 1e-6 + 1e-5*|want|.
func runFixtureFile(t *testing.T, path string) {
	t.Helper()
	fx, err := loadFixture(path)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimSuffix(filepath.Base(path), ".safetensors")
	g := ir.NewGraph(name)
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
			tt := fx.tensors[in]
			v = g.AddInput(in, tt.Type(), ir.Pos{})
			byName[in] = v
			feed = append(feed, tt)
		}
		ins = append(ins, v)
	}
	n, err := g.AddNode(fx.op, name, ins, fx.attrs, ir.Pos{})
	if err != nil {
		t.Fatalf("%s: AddNode(%s, attrs %v): %v", path, fx.op, fx.attrs, err)
	}
	if len(fx.outputs) > len(n.Outputs) {
		t.Fatalf("%s: fixture has %d outputs, %s has %d", path, len(fx.outputs), fx.op, len(n.Outputs))
	}
	for i := range fx.outputs {
		g.AddOutput(fx.outputs[i], n.Outputs[i])
	}
	if err := ir.Verify(g); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	before := make([]*ir.Tensor, len(feed))
	for i, f := range feed {
		before[i] = f.Clone()
	}
	got, err := Run(g, feed)
	if err != nil {
		t.Fatalf("%s: Run: %v", path, err)
	}
	for i, f := range feed {
		if err := compareTensor(f, before[i], 0, 0); err != nil {
			t.Errorf("%s: kernel modified input %s: %v", path, g.Inputs[i].Name, err)
		}
	}
	for i, o := range fx.outputs {
		if err := compareTensor(got[i], fx.tensors[o], fixtureAbs, fixtureRel); err != nil {
			t.Errorf("%s: output %s: %v", path, o, err)
		}
	}
}

// compareTensor checks dtype and shape, then every element: other dtypes exactly,
// f32 within abs + rel*|want|, f64 within 1e-14 relative: a few ulps, as
// Go's math and the C library PyTorch calls may differ by one (NaN
// matches NaN, infinities match exactly).
// It reports the worst element and how many differ.
func compareTensor(got, want *ir.Tensor, abs, rel float64) error {
	if !got.Type().Equal(want.Type()) {
		return fmt.Errorf("got %v, want %v", got.Type(), want.Type())
	}
	if want.DType == ir.F64 {
		abs, rel = 0, 1e-14
	} else if want.DType != ir.F32 { // exactly: integers, bool, and casts to other floats
		for i := range want.Len() {
			g, w := got.Float(i), want.Float(i)
			if got.Int(i) != want.Int(i) || g != w && !(math.IsNaN(g) && math.IsNaN(w)) {
				return fmt.Errorf("element %d: got %v, want %v", i, g, w)
			}
		}
		return nil
	}
	bad, worst, worstExcess := 0, -1, 0.0
	for i := range want.Len() {
		g, w := got.Float(i), want.Float(i)
		switch {
		case math.IsNaN(w) || math.IsNaN(g):
			if math.IsNaN(w) != math.IsNaN(g) {
				bad++
				worst, worstExcess = i, math.Inf(1)
			}
			continue
		case math.IsInf(w, 0) || math.IsInf(g, 0):
			if g != w {
				bad++
				worst, worstExcess = i, math.Inf(1)
			}
			continue
		}
		if d := math.Abs(g-w) - (abs + rel*math.Abs(w)); d > 0 {
			bad++
			if d > worstExcess {
				worst, worstExcess = i, d
			}
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d elements differ; worst: element %d (at %v) got %g, want %g (diff %.3g)",
			bad, len(want.F32()), worst, unravel(worst, want.Shape), got.F32()[worst], want.F32()[worst],
			math.Abs(float64(got.F32()[worst])-float64(want.F32()[worst])))
	}
	return nil
}

// unravel turns a flat C-order index into a multi-index.
func unravel(i int, shape ir.Shape) []int {
	idx := make([]int, len(shape))
	for a := len(shape) - 1; a >= 0; a-- {
		if shape[a] > 0 {
			idx[a] = i % shape[a]
			i /= shape[a]
		}
	}
	return idx
}

// fixtureFiles lists the fixture files, sorted.
func fixtureFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(fixtureDir, "*.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// TestFixtures runs every non-recurrent fixture against PyTorch's output
// and logs how many cases each op has.
func TestFixtures(t *testing.T) {
	count := map[string]int{}
	ran := 0
	for _, path := range fixtureFiles(t) {
		if recurrentFixture(path) {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(path), ".safetensors")
		if fx, err := loadFixture(path); err == nil {
			count[fx.op]++
		}
		ran++
		t.Run(name, func(t *testing.T) { runFixtureFile(t, path) })
	}
	if ran == 0 {
		t.Fatalf("no fixtures in %s: run testdata/gen_fixtures.py", fixtureDir)
	}
	var ops []string
	for op := range count {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	var b strings.Builder
	for _, op := range ops {
		fmt.Fprintf(&b, " %s=%d", op, count[op])
	}
	t.Logf("%d fixture cases over %d ops:%s", ran, len(ops), b.String())
}

// TestEveryOpHasKernel fails for any op of the op table that the
// interpreter cannot run.
func TestEveryOpHasKernel(t *testing.T) {
	for _, d := range ir.Ops() {
		if !HasKernel(d.Name) {
			t.Errorf("op %s has no reference kernel", d.Name)
		}
	}
}

// TestEveryOpHasFixture fails for any op of the op table without a
// PyTorch fixture (recurrent fixtures included), except the fused ops,
// which are defined as their parts and tested through them.
func TestEveryOpHasFixture(t *testing.T) {
	have := map[string]bool{}
	for _, path := range fixtureFiles(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := weights.ParseSafetensors(data, path)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		have[f.Metadata["op"]] = true
	}
	for _, d := range ir.Ops() {
		if !have[d.Name] && !strings.HasPrefix(d.Name, "fused_") {
			t.Errorf("op %s has no fixture in %s", d.Name, fixtureDir)
		}
	}
}

package autodiff

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"testing"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/runtime"
	"github.com/dlcompiler/dlc/weights"
)

// TestTorchGradients differentiates one op per fixture of testdata/
// (written by runtime/testdata/gen_grad_fixtures.py) and compares the
// gradient of Σ y·dy with torch.autograd's. Tolerance: 1e-4 relative,
// 1e-5 absolute, looser than the forward ops' 1e-5 because a rule is
// several f32 ops (each rounded) where torch has one fused kernel.
func TestTorchGradients(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.safetensors")
	if len(files) == 0 {
		t.Fatal("no fixtures in testdata: run runtime/testdata/gen_grad_fixtures.py")
	}
	ops := map[string]bool{}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) { ops[torchCase(t, path)] = true })
	}
	// Every rule is checked against torch, except the piecewise-constant
	// ops (zero gradient) and the pass-through ones.
	exempt := map[string]bool{"floor": true, "ceil": true, "round": true, "sign": true, "identity": true, "dropout": true,
		"reshape": true, "squeeze": true, "unsqueeze": true}
	var missing []string
	for _, op := range differentiable {
		if !ops[op] && !exempt[op] {
			missing = append(missing, op)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("rules without a torch fixture: %v", missing)
	}
}

// torchCase runs one fixture and returns its op.
func torchCase(t *testing.T, path string) string {
	f, err := weights.ReadSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	md := f.Metadata
	var ins, grads []*string
	if err := json.Unmarshal([]byte(md["inputs"]), &ins); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(md["grads"]), &grads); err != nil {
		t.Fatal(err)
	}
	attrs, err := jsonAttrs(md["attrs"])
	if err != nil {
		t.Fatal(err)
	}
	g := ir.NewGraph("t")
	var vals []*ir.Value
	var feeds []*ir.Tensor
	var wrt []*ir.Value
	var want []*ir.Tensor
	for i, s := range ins {
		if s == nil {
			vals = append(vals, nil)
			continue
		}
		tn := f.Tensors[*s]
		if tn.DType != ir.F32 {
			vals = append(vals, g.AddParam(*s, ir.Const, tn.Type(), tn, "", ir.Pos{}))
			continue
		}
		v := g.AddInput(*s, tn.Type(), ir.Pos{})
		vals, feeds = append(vals, v), append(feeds, tn)
		if grads[i] != nil {
			wrt, want = append(wrt, v), append(want, f.Tensors[*grads[i]])
		}
	}
	n, err := g.AddNode(md["op"], "op", vals, attrs, ir.Pos{})
	if err != nil {
		t.Fatal(err)
	}
	dy := f.Tensors["dy"]
	dyv := g.AddParam("dy", ir.Const, dy.Type(), dy, "", ir.Pos{})
	prod, _ := g.AddNode("mul", "prod", []*ir.Value{n.Out(), dyv}, nil, ir.Pos{})
	loss, _ := g.AddNode("reduce_sum", "loss", []*ir.Value{prod.Out()}, nil, ir.Pos{})
	gs, err := Backward(g, loss.Out(), wrt)
	if err != nil {
		t.Fatal(err)
	}
	g.AddOutput("y", n.Out())
	for i, gv := range gs {
		g.AddOutput(fmt.Sprintf("g%d", i), gv)
	}
	g.Prune()
	out, err := runtime.Run(g, feeds)
	if err != nil {
		t.Fatal(err)
	}
	compare(t, "y", out[0], f.Tensors["y"], 1e-5, 1e-6)
	for i := range gs {
		compare(t, "d "+wrt[i].Name, out[1+i], want[i], 1e-4, 1e-5)
	}
	return md["op"]
}

func compare(t *testing.T, what string, got, want *ir.Tensor, rel, abs float64) {
	t.Helper()
	if !got.Shape.Equal(want.Shape) {
		t.Fatalf("%s: shape %v, torch %v", what, got.Shape, want.Shape)
	}
	bad := 0
	for i, w := range want.F32() {
		g := got.F32()[i]
		if d := math.Abs(float64(g - w)); d > abs+rel*math.Abs(float64(w)) {
			if bad++; bad <= 5 {
				t.Errorf("%s[%d] = %g, torch %g", what, i, g, w)
			}
		}
	}
}

// jsonAttrs decodes fixture attributes: integral numbers become int (ir
// converts them for float attributes), arrays []int.
func jsonAttrs(s string) (ir.Attrs, error) {
	var raw map[string]any
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, err
	}
	a := ir.Attrs{}
	for k, v := range raw {
		switch x := v.(type) {
		case float64:
			if x == math.Trunc(x) {
				a[k] = int(x)
			} else {
				a[k] = x
			}
		case []any:
			ints := []int{}
			for _, e := range x {
				ints = append(ints, int(e.(float64)))
			}
			a[k] = ints
		default:
			a[k] = x
		}
	}
	return a, nil
}

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
	// cast changes the dtype, which the harness's f32 comparison does not
	// follow; finite differences check it.
	exempt := map[string]bool{"floor": true, "ceil": true, "round": true, "sign": true, "identity": true, "dropout": true,
		"reshape": true, "squeeze": true, "unsqueeze": true, "hardmax": true, "cast": true}
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
	// The loss is Σ_j Σ y_j·dy_j over the outputs the fixture has.
	outs, douts := []string{"y"}, []string{"dy"}
	if md["douts"] != "" {
		if err := json.Unmarshal([]byte(md["outputs"]), &outs); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(md["douts"]), &douts); err != nil {
			t.Fatal(err)
		}
	}
	var loss *ir.Value
	for j, name := range douts {
		dy := f.Tensors[name]
		dyv := g.AddParam(name, ir.Const, dy.Type(), dy, "", ir.Pos{})
		prod, _ := g.AddNode("mul", "prod_"+name, []*ir.Value{n.Outputs[j], dyv}, nil, ir.Pos{})
		s, _ := g.AddNode("reduce_sum", "loss_"+name, []*ir.Value{prod.Out()}, nil, ir.Pos{})
		if loss == nil {
			loss = s.Out()
		} else {
			a, _ := g.AddNode("add", "acc_"+name, []*ir.Value{loss, s.Out()}, nil, ir.Pos{})
			loss = a.Out()
		}
	}
	gs, err := Backward(g, loss, wrt)
	if err != nil {
		t.Fatal(err)
	}
	for j, name := range outs {
		g.AddOutput(name, n.Outputs[j])
	}
	for i, gv := range gs {
		g.AddOutput(fmt.Sprintf("g%d", i), gv)
	}
	g.Prune()
	out, err := runtime.Run(g, feeds)
	if err != nil {
		t.Fatal(err)
	}
	for j, name := range outs {
		compare(t, name, out[j], f.Tensors[name], 1e-5, 1e-6)
	}
	for i := range gs {
		compare(t, "d "+wrt[i].Name, out[len(outs)+i], want[i], 1e-4, 1e-5)
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
			ints, floats, integral := []int{}, []float64{}, true
			for _, e := range x {
				f := e.(float64)
				ints, floats = append(ints, int(f)), append(floats, f)
				integral = integral && f == math.Trunc(f)
			}
			if integral {
				a[k] = ints
			} else {
				a[k] = floats
			}
		default:
			a[k] = x
		}
	}
	return a, nil
}

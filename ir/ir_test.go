package ir

import (
	"fmt"
	"strings"
	"testing"
)

func f32(s ...int) TensorType { return TensorType{F32, Shape(s)} }

func param(g *Graph, name string, t TensorType) *Value {
	return g.AddParam(name, Param, t, NewTensor(t.DType, t.Shape), "", Pos{})
}

func lenet(t *testing.T) *Graph {
	t.Helper()
	g := NewGraph("lenet")
	g.Batch = 1
	x := g.AddInput("x", f32(1, 1, 28, 28), Pos{})
	must := func(n *Node, err error) *Value {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return n.Out()
	}
	h := must(g.AddNode("conv", "conv1", []*Value{x, param(g, "conv1.weight", f32(6, 1, 5, 5)), param(g, "conv1.bias", f32(6))}, Attrs{"pads": []int{2, 2}}, Pos{}))
	h = must(g.AddNode("relu", "relu1", []*Value{h}, nil, Pos{}))
	h = must(g.AddNode("maxpool", "pool1", []*Value{h}, Attrs{"kernel": []int{2, 2}}, Pos{}))
	h = must(g.AddNode("flatten", "flat", []*Value{h}, nil, Pos{}))
	h = must(g.AddNode("dense", "fc", []*Value{h, param(g, "fc.weight", f32(10, 6*14*14)), nil}, nil, Pos{}))
	g.AddOutput("logits", h)
	return g
}

func TestBuildVerifyPrint(t *testing.T) {
	g := lenet(t)
	if err := Verify(g); err != nil {
		t.Fatal(err)
	}
	p := Print(g)
	for _, want := range []string{
		"conv1 = conv(x, conv1.weight, conv1.bias) {dilations=[1,1] groups=1 pads=[2,2,2,2] strides=[1,1]}: f32[1,6,28,28]",
		"pool1 = maxpool(relu1) {ceil_mode=false dilations=[1,1] kernel=[2,2] pads=[0,0,0,0] strides=[2,2]}: f32[1,6,14,14]",
		"fc = dense(flat, fc.weight, _): f32[1,10]",
		"output logits = fc",
	} {
		if !strings.Contains(p, want) {
			t.Errorf("print lacks %q:\n%s", want, p)
		}
	}
	if Print(g.Clone()) != p {
		t.Error("clone prints differently")
	}
	if err := Verify(g.Clone()); err != nil {
		t.Error(err)
	}
	if d := DOT(g); !strings.Contains(d, "digraph") || !strings.Contains(d, "conv1") {
		t.Error("bad DOT")
	}
}

func TestVerifyCatches(t *testing.T) {
	g := lenet(t)
	g.Nodes[0].Outputs[0].Type.Shape[2] = 27
	g.Nodes[1].Attrs["bogus"] = 1
	err := Verify(g)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"shape rule gives f32[1,6,28,28]", "takes no attributes, got \"bogus\""} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	g = lenet(t)
	g.Nodes[1], g.Nodes[2] = g.Nodes[2], g.Nodes[1]
	if err := Verify(g); err == nil || !strings.Contains(err.Error(), "not defined before use") {
		t.Errorf("order not caught: %v", err)
	}
}

func TestShapeRules(t *testing.T) {
	cases := []struct {
		op     string
		in     []TensorType
		attrs  Attrs
		want   string
		errHas string
	}{
		{"dense", []TensorType{f32(2, 256), f32(10, 400)}, nil, "", "want 400 inputs, got 256"},
		{"conv", []TensorType{f32(1, 4, 9, 9), f32(8, 2, 3, 3)}, Attrs{"groups": 2, "strides": []int{2, 2}, "dilations": []int{2, 2}}, "f32[1,8,3,3]", ""},
		{"conv", []TensorType{f32(1, 3, 10), f32(4, 3, 3)}, Attrs{"pads": []int{1}}, "f32[1,4,10]", ""},
		{"conv", []TensorType{f32(1, 2, 5, 5, 5), f32(4, 2, 3, 3, 3)}, nil, "f32[1,4,3,3,3]", ""},
		{"maxpool", []TensorType{f32(1, 1, 5, 5)}, Attrs{"kernel": []int{2, 2}, "ceil_mode": true}, "f32[1,1,3,3]", ""},
		{"avgpool", []TensorType{f32(1, 1, 6)}, Attrs{"kernel": []int{3}, "strides": []int{2}, "pads": []int{1}, "ceil_mode": true}, "f32[1,1,4]", ""},
		{"maxpool", []TensorType{f32(1, 1, 5, 5)}, Attrs{"kernel": []int{2, 2}, "pads": []int{2, 2}}, "", "padding"},
		{"reshape", []TensorType{f32(2, 3, 4)}, Attrs{"shape": []int{0, -1}}, "f32[2,12]", ""},
		{"reshape", []TensorType{f32(2, 3, 4)}, Attrs{"shape": []int{5, -1}}, "", "cannot reshape"},
		{"add", []TensorType{f32(2, 1, 4), f32(3, 1)}, nil, "f32[2,3,4]", ""},
		{"matmul", []TensorType{f32(2, 3, 4), f32(4, 5)}, nil, "f32[2,3,5]", ""},
		{"matmul", []TensorType{f32(4), f32(4, 5)}, nil, "f32[5]", ""},
		{"squeeze", []TensorType{f32(1, 3, 1)}, nil, "f32[3]", ""},
		{"unsqueeze", []TensorType{f32(3)}, Attrs{"axes": []int{0, -1}}, "f32[1,3,1]", ""},
		{"transpose", []TensorType{f32(2, 3, 4)}, Attrs{"perm": []int{2, 0, 1}}, "f32[4,2,3]", ""},
		{"concat", []TensorType{f32(2, 3), f32(2, 5)}, Attrs{"axis": -1}, "f32[2,8]", ""},
		{"flatten", []TensorType{f32(2, 3, 4)}, Attrs{"axis": 2}, "f32[6,4]", ""},
		{"gather", []TensorType{f32(5, 6), {I64, Shape{2, 3}}}, Attrs{"axis": 1}, "f32[5,2,3]", ""},
		{"embedding", []TensorType{{I64, Shape{2, 7}}, f32(100, 16)}, nil, "f32[2,7,16]", ""},
		{"global_avgpool", []TensorType{f32(2, 3, 4, 5)}, nil, "f32[2,3,1,1]", ""},
		{"softmax", []TensorType{f32(2, 3)}, Attrs{"axis": 2}, "", "out of range"},
	}
	for _, c := range cases {
		g := NewGraph("t")
		var ins []*Value
		for i, ty := range c.in {
			ins = append(ins, g.AddInput(string(rune('a'+i)), ty, Pos{}))
		}
		n, err := g.AddNode(c.op, "n", ins, c.attrs, Pos{})
		if c.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), c.errHas) {
				t.Errorf("%s %v: error %v, want %q", c.op, c.in, err, c.errHas)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %v: %v", c.op, c.in, err)
			continue
		}
		if got := n.Out().Type.String(); got != c.want {
			t.Errorf("%s %v: got %s, want %s", c.op, c.in, got, c.want)
		}
	}
}

func TestRecurrentShapes(t *testing.T) {
	g := NewGraph("t")
	x := g.AddInput("x", f32(4, 7, 5), Pos{}) // batch_first: N=4, T=7
	ins := []*Value{x, nil, nil}
	for _, name := range RNNParamNames(2, true, true, false) {
		var ty TensorType
		in := 5
		if strings.HasSuffix(name, "_l1") || strings.HasSuffix(name, "_l1_reverse") {
			in = 6
		}
		switch {
		case strings.HasPrefix(name, "weight_ih"):
			ty = f32(12, in)
		case strings.HasPrefix(name, "weight_hh"):
			ty = f32(12, 3)
		default:
			ty = f32(12)
		}
		ins = append(ins, param(g, "lstm."+name, ty))
	}
	n, err := g.AddNode("lstm", "lstm", ins, Attrs{"hidden_size": 3, "num_layers": 2, "bidirectional": true, "batch_first": true}, Pos{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range n.Outputs {
		got = append(got, o.Name+":"+o.Type.String())
	}
	if s := strings.Join(got, " "); s != "lstm:f32[4,7,6] lstm.h:f32[4,4,3] lstm.c:f32[4,4,3]" {
		t.Errorf("got %s", s)
	}
}

// maxpool's indices output is optional: without it (or with indices=false)
// the node has one output and prints as before; with it, a second i64
// output of y's shape named <node>.indices.
func TestMaxPoolIndicesOutput(t *testing.T) {
	g := NewGraph("p")
	x := g.AddInput("x", f32(1, 2, 4, 4), Pos{})
	for i, attrs := range []Attrs{{"kernel": []int{2, 2}}, {"kernel": []int{2, 2}, "indices": false, "storage_order": 0}} {
		n, err := g.AddNode("maxpool", fmt.Sprintf("p0_%d", i), []*Value{x}, attrs, Pos{})
		if err != nil {
			t.Fatal(err)
		}
		if len(n.Outputs) != 1 {
			t.Fatalf("%v: %d outputs, want 1", attrs, len(n.Outputs))
		}
		if _, ok := n.Attrs["indices"]; ok {
			t.Errorf("indices=false is kept in %v", n.Attrs)
		}
		if _, ok := n.Attrs["storage_order"]; ok {
			t.Errorf("storage_order=0 is kept in %v", n.Attrs)
		}
	}
	n, err := g.AddNode("maxpool", "p1", []*Value{x}, Attrs{"kernel": []int{2, 2}, "indices": true, "storage_order": 1}, Pos{})
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Outputs) != 2 || n.Outputs[1].Name != "p1.indices" || !n.Outputs[1].Type.Equal(TensorType{I64, Shape{1, 2, 2, 2}}) || !n.Outputs[0].Type.Equal(f32(1, 2, 2, 2)) {
		t.Fatalf("outputs %v %v", n.Outputs[0], n.Outputs[len(n.Outputs)-1])
	}
	g.AddOutput("y", n.Outputs[0])
	g.AddOutput("i", n.Outputs[1])
	if err := Verify(g); err != nil {
		t.Fatal(err)
	}
	if p := Print(g); !strings.Contains(p, "p1, p1.indices = maxpool(x) {ceil_mode=false dilations=[1,1] indices=true kernel=[2,2] pads=[0,0,0,0] storage_order=1 strides=[2,2]}") {
		t.Errorf("print:\n%s", p)
	}
	if _, err := g.AddNode("maxpool", "p2", []*Value{x}, Attrs{"kernel": []int{2, 2}, "indices": true, "storage_order": 2}, Pos{}); err == nil || !strings.Contains(err.Error(), "storage_order must be 0") {
		t.Errorf("storage_order 2: got %v", err)
	}
	if _, err := g.AddNode("avgpool", "a", []*Value{x}, Attrs{"kernel": []int{2, 2}, "indices": true}, Pos{}); err == nil {
		t.Error("avgpool accepted indices")
	}
}

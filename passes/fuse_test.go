package passes

import (
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/ir"
)

func TestFuseConvChain(t *testing.T) {
	b := newBuilder(t)
	x := b.g.AddInput("x", f32(2, 3, 12, 10), ir.Pos{})
	// conv → relu → maxpool 2x2: one kernel
	h := b.node("conv", "conv1", ir.Attrs{"pads": []int{1, 1}}, x, b.param("conv1.weight", ir.Param, f32(4, 3, 3, 3)), b.param("conv1.bias", ir.Param, f32(4)))
	h = b.node("relu", "relu1", nil, h)
	h = b.node("maxpool", "pool1", ir.Attrs{"kernel": []int{2, 2}}, h)
	// conv → leaky_relu, then an overlapping 3x3/2 pool that must stay apart
	h = b.node("conv", "conv2", ir.Attrs{"pads": []int{1, 1}}, h, b.param("conv2.weight", ir.Param, f32(4, 4, 3, 3)), nil)
	h = b.node("leaky_relu", "lrelu2", ir.Attrs{"alpha": 0.2}, h)
	h = b.node("avgpool", "pool2", ir.Attrs{"kernel": []int{3, 3}, "strides": []int{2, 2}, "pads": []int{1, 1}}, h)
	// conv whose output is read twice: no fusion
	c3 := b.node("conv", "conv3", nil, h, b.param("conv3.weight", ir.Param, f32(4, 4, 1, 1)), nil)
	r3 := b.node("relu", "relu3", nil, c3)
	// residual: conv4 + c3 → relu
	c4 := b.node("conv", "conv4", ir.Attrs{"pads": []int{1, 1}}, r3, b.param("conv4.weight", ir.Param, f32(4, 4, 3, 3)), b.param("conv4.bias", ir.Param, f32(4)))
	s := b.node("add", "res", nil, c4, c3)
	s = b.node("relu", "relu4", nil, s)
	// element-wise chain
	e := b.node("sigmoid", "sig", nil, s)
	e = b.node("mul", "gate", nil, e, s)
	e = b.node("tanh", "th", nil, e)
	f := b.node("flatten", "flat", nil, e)
	d := b.node("dense", "fc", nil, f, b.param("fc.weight", ir.Param, f32(5, 4*3*3)), b.param("fc.bias", ir.Param, f32(5)))
	d = b.node("softmax", "prob", nil, d)
	b.g.AddOutput("p", d)
	after := checkPass(t, b.g, "fuse")
	var got []string
	for _, n := range after.Nodes {
		got = append(got, n.Name+":"+n.Op)
	}
	want := "conv1:fused_conv conv2:fused_conv pool2:avgpool conv3:conv relu3:relu conv4:fused_conv sig:fused_ewise flat:flatten fc:fused_dense"
	if s := strings.Join(got, " "); s != want {
		t.Errorf("fused to\n  %s\nwant\n  %s\n%s", s, want, ir.Print(after))
	}
	for _, n := range after.Nodes {
		switch n.Name {
		case "conv1":
			if n.Attrs.String("act") != "relu" || n.Attrs.String("pool") != "max" {
				t.Errorf("conv1: %v", n.Attrs)
			}
		case "conv4":
			if n.Attrs.String("act") != "relu" || len(n.Inputs) != 4 {
				t.Errorf("conv4 should absorb the residual add and relu: %v", n.Attrs)
			}
		case "sig":
			if s := n.Attrs.String("steps"); s != "sigmoid;mul(1);tanh" {
				t.Errorf("chain steps %q", s)
			}
		case "fc":
			if n.Attrs.String("act") != "softmax" {
				t.Errorf("fc act %q", n.Attrs.String("act"))
			}
		}
	}
}

func TestFuseLevel2(t *testing.T) {
	// The whole -O2 pipeline on a conv → bn → relu → pool network.
	b := newBuilder(t)
	x := b.g.AddInput("x", f32(1, 2, 8, 8), ir.Pos{})
	h := b.node("conv", "conv1", ir.Attrs{"pads": []int{1, 1}}, x, b.param("conv1.weight", ir.Param, f32(3, 2, 3, 3)), nil)
	h = b.bn("bn1", h, 3)
	h = b.node("relu", "relu1", nil, h)
	h = b.node("maxpool", "pool1", ir.Attrs{"kernel": []int{2, 2}}, h)
	b.g.AddOutput("y", h)
	after := checkPass(t, b.g, strings.Join(Levels[2], ","))
	if len(after.Nodes) != 1 || after.Nodes[0].Op != "fused_conv" {
		t.Errorf("want one fused_conv:\n%s", ir.Print(after))
	}
}

// A maxpool that also returns indices has two outputs: the conv before it
// fuses its relu but must not absorb the pool.
func TestFuseKeepsPoolWithIndices(t *testing.T) {
	for _, both := range []bool{true, false} {
		b := newBuilder(t)
		x := b.g.AddInput("x", f32(1, 2, 8, 8), ir.Pos{})
		h := b.node("conv", "conv1", ir.Attrs{"pads": []int{1, 1}}, x, b.param("conv1.weight", ir.Param, f32(3, 2, 3, 3)), b.param("conv1.bias", ir.Param, f32(3)))
		h = b.node("relu", "relu1", nil, h)
		n, err := b.g.AddNode("maxpool", "pool1", []*ir.Value{h}, ir.Attrs{"kernel": []int{2, 2}, "indices": true}, ir.Pos{})
		if err != nil {
			t.Fatal(err)
		}
		b.g.AddOutput("y", n.Outputs[0])
		if both {
			b.g.AddOutput("i", n.Outputs[1])
		}
		after := checkPass(t, b.g, "fuse")
		var got []string
		for _, n := range after.Nodes {
			got = append(got, n.Name+":"+n.Op)
		}
		if s := strings.Join(got, " "); s != "conv1:fused_conv pool1:maxpool" {
			t.Errorf("both=%v: fused to %s\n%s", both, s, ir.Print(after))
		}
	}
}

// TestFuseGelu: gelu, an element-wise op with a Unary form, fuses as
// an epilogue activation and as a chain step with no fusion code of its
// own, carrying its attribute.
func TestFuseGelu(t *testing.T) {
	b := newBuilder(t)
	x := b.g.AddInput("x", f32(1, 2, 8, 8), ir.Pos{})
	h := b.node("conv", "conv1", ir.Attrs{"pads": []int{1, 1}}, x, b.param("conv1.weight", ir.Param, f32(3, 2, 3, 3)), b.param("conv1.bias", ir.Param, f32(3)))
	h = b.node("gelu", "g1", ir.Attrs{"approximate": "tanh"}, h)
	h = b.node("maxpool", "pool1", ir.Attrs{"kernel": []int{2, 2}}, h)
	h = b.node("gelu", "g2", nil, h)
	h = b.node("add", "shift", nil, h, b.param("shift.bias", ir.Param, f32(3, 1, 1)))
	b.g.AddOutput("y", h)
	after := checkPass(t, b.g, "fuse")
	var got []string
	for _, n := range after.Nodes {
		got = append(got, n.Name+":"+n.Op)
	}
	if s := strings.Join(got, " "); s != "conv1:fused_conv g2:fused_ewise" {
		t.Fatalf("fused to %s\n%s", s, ir.Print(after))
	}
	c, e := after.Nodes[0], after.Nodes[1]
	if c.Attrs.String("act") != "gelu" || c.Attrs.String("approximate") != "tanh" || c.Attrs.String("pool") != "max" {
		t.Errorf("conv1: %v", c.Attrs)
	}
	if s := e.Attrs.String("steps"); s != "gelu(none);add(1)" {
		t.Errorf("chain steps %q", s)
	}
}

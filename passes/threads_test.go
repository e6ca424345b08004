package passes

import (
	"testing"

	"github.com/dlcompiler/dlc/ir"
)

// TestThreads checks which kernels the tiling pass splits: those with at
// least minParallelMACs of work and two units to share (at most the
// -threads count, at most one worker per unit), never with threads 1.
func TestThreads(t *testing.T) {
	build := func() *ir.Graph {
		g := ir.NewGraph("t")
		x := g.AddInput("x", ir.TensorType{DType: ir.F32, Shape: ir.Shape{64, 256}}, ir.Pos{})
		param := func(s ...int) *ir.Value {
			return g.AddParam("w", ir.Param, ir.TensorType{DType: ir.F32, Shape: s}, ir.NewTensor(ir.F32, s), "", ir.Pos{})
		}
		add := func(name, op string, in []*ir.Value, a ir.Attrs) *ir.Value {
			n, err := g.AddNode(op, name, in, a, ir.Pos{})
			if err != nil {
				t.Fatal(err)
			}
			return n.Outputs[0]
		}
		big := add("big", "dense", []*ir.Value{x, param(256, 256), nil}, nil)         // 4M MACs, 8 panels
		narrow := add("narrow", "dense", []*ir.Value{big, param(32, 256), nil}, nil)  // 512K MACs, 1 panel
		small := add("small", "dense", []*ir.Value{narrow, param(144, 32), nil}, nil) // 295K MACs
		img := add("img", "reshape", []*ir.Value{small}, ir.Attrs{"shape": []int{1, 64, 12, 12}})
		c := add("conv", "conv", []*ir.Value{img, param(64, 64, 3, 3), nil}, ir.Attrs{"pads": []int{1, 1}}) // 5.3M MACs, 5 column units, 6 channel blocks
		dw := add("dw", "conv", []*ir.Value{c, param(64, 1, 3, 3), nil}, ir.Attrs{"pads": []int{1, 1}, "groups": 64})
		g.AddOutput("y", dw)
		return g
	}
	for _, c := range []struct {
		threads int
		want    map[string]int
	}{
		{1, map[string]int{"big": 1, "narrow": 1, "small": 1, "conv": 1, "dw": 1}},
		{2, map[string]int{"big": 2, "narrow": 1, "small": 1, "conv": 2, "dw": 1}},
		{4, map[string]int{"big": 4, "narrow": 1, "small": 1, "conv": 4, "dw": 1}},
		{8, map[string]int{"big": 8, "narrow": 1, "small": 1, "conv": 6, "dw": 1}},
	} {
		g := build()
		if err := tileOpt(g, Options{Threads: c.threads}); err != nil {
			t.Fatal(err)
		}
		for _, n := range g.Nodes {
			if want, ok := c.want[n.Name]; ok && n.Schedule.Workers() != want {
				t.Errorf("-threads %d: %s (%s) gets %d threads, want %d", c.threads, n.Name, ir.Print(g), n.Schedule.Workers(), want)
			}
		}
	}
}

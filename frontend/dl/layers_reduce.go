package dl

import (
	"strconv"

	"github.com/dlcompiler/dlc/ir"
)

// argmax, argmin (torch.argmax(input, dim=None, keepdim=False)) and
// cumsum (torch.cumsum(input, dim)) over ir/ops_reduce2.go. Without dim,
// argmax and argmin search the flattened input, as PyTorch does.

func init() {
	for _, op := range []string{"argmax", "argmin"} {
		op := op
		def(&layerDef{name: op, inputs: 1,
			args:  []argSpec{{name: "dim", kind: aInt, opt: true, alias: "axis"}, {name: "keepdim", kind: aBool, def: false, alias: "keepdims"}},
			build: func(c *call) (val, error) { return buildArg(c, op) }})
	}
	// torch.topk(input, k, dim=-1, largest=True, sorted=True): values and
	// indices, always sorted.
	def(&layerDef{name: "topk", inputs: 1,
		args: []argSpec{{name: "k", kind: aInt}, {name: "dim", kind: aInt, def: -1, alias: "axis"},
			{name: "largest", kind: aBool, def: true}, {name: "sorted", kind: aBool, def: true}},
		build: func(c *call) (val, error) {
			return c.node("topk", c.in, ir.Attrs{"k": c.int("k"), "axis": c.int("dim"), "largest": c.bool("largest")})
		}})
	def(&layerDef{name: "cumsum", inputs: 1, args: []argSpec{{name: "dim", kind: aInt, alias: "axis"}},
		build: func(c *call) (val, error) {
			return c.node("cumsum", c.in, ir.Attrs{"axis": c.int("dim")})
		}})
}

func buildArg(c *call, op string) (val, error) {
	x := c.x()
	if c.has("dim") {
		return c.node(op, c.in, ir.Attrs{"axis": c.int("dim"), "keepdims": c.bool("keepdim")})
	}
	// The flattened input: a reshape to one axis, then keepdim gives
	// every axis size 1, as torch.argmax(x, keepdim=True).
	name := c.name + ".flat"
	if err := c.l.claim(name, c.pos); err != nil {
		return val{}, err
	}
	flat, err := c.l.g.AddNode("reshape", name, []*ir.Value{x}, ir.Attrs{"shape": []int{-1}}, c.pos)
	if err != nil {
		return val{}, c.errorf("%v", err)
	}
	if !c.bool("keepdim") {
		return c.node(op, []*ir.Value{flat.Out()}, ir.Attrs{"axis": 0})
	}
	name = c.name + ".arg"
	if err := c.l.claim(name, c.pos); err != nil {
		return val{}, err
	}
	arg, err := c.l.g.AddNode(op, name, []*ir.Value{flat.Out()}, ir.Attrs{"axis": 0, "keepdims": true}, c.pos)
	if err != nil {
		return val{}, c.errorf("%v", err)
	}
	ones := make([]int, len(x.Type.Shape))
	for i := range ones {
		ones[i] = 1
	}
	return c.node("reshape", []*ir.Value{arg.Out()}, ir.Attrs{"shape": ones})
}

// scanLayer writes argmax, argmin and cumsum with their axis as dim.
func (f *formatter) scanLayer(n *ir.Node) (string, []string, error) {
	a := n.Attrs
	if n.Op == "topk" {
		args := []string{strconv.Itoa(a.Int("k"))}
		if ax := a.Int("axis"); ax != -1 {
			args = append(args, "dim="+strconv.Itoa(ax))
		}
		if !a.Bool("largest") {
			args = append(args, "largest=false")
		}
		return "topk", args, nil
	}
	if n.Op == "cumsum" {
		if a.Bool("exclusive") || a.Bool("reverse") {
			return "", nil, nodeErr(n, "cumsum with exclusive or reverse cannot be written in .dl (torch.cumsum has neither)")
		}
		return "cumsum", []string{strconv.Itoa(a.Int("axis"))}, nil
	}
	if a.Bool("select_last_index") {
		return "", nil, nodeErr(n, "%s with select_last_index cannot be written in .dl (torch.%[1]s takes the first index)", n.Op)
	}
	args := []string{"dim=" + strconv.Itoa(a.Int("axis"))}
	if a.Bool("keepdims") {
		args = append(args, "keepdim=true")
	}
	return n.Op, args, nil
}

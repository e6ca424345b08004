package dl

import (
	"math"
	"strconv"

	"github.com/dlcompiler/dlc/ir"
)

// Activation layers that are not their op's table spelling
// (ir/ops_act.go): hardshrink and softshrink are shrink with PyTorch's
// arguments, and prelu has a weight.

func init() {
	shrink := func(soft bool) func(c *call) (ir.Attrs, error) {
		return func(c *call) (ir.Attrs, error) {
			l := c.float("lambd")
			if !(l >= 0) || math.IsInf(l, 0) {
				return nil, c.errorf("lambd must be a non-negative number, got %v", l)
			}
			bias := 0.0
			if soft {
				bias = l
			}
			return ir.Attrs{"lambd": l, "bias": bias}, nil
		}
	}
	lambd := []argSpec{{name: "lambd", kind: aFloat, def: 0.5}}
	unaryOp("hardshrink", "shrink", lambd, shrink(false))
	unaryOp("softshrink", "shrink", lambd, shrink(true))
	def(&layerDef{name: "prelu", inputs: 1, params: true,
		args: []argSpec{{name: "num_parameters", kind: aInt, def: 1}}, build: buildPRelu})
}

// buildPRelu is nn.PReLU: weight [num_parameters], 0.25 without a weights
// file, one slope for every element or one per channel (axis 1); the
// weight is reshaped to [C, 1, ...] to broadcast along axis 1.
func buildPRelu(c *call) (val, error) {
	x := c.x()
	k := c.int("num_parameters")
	s := x.Type.Shape
	if k < 1 {
		return val{}, c.errorf("num_parameters must be positive, got %d", k)
	}
	if k != 1 && (len(s) < 2 || s[1] != k) {
		return val{}, c.errorf("num_parameters is %d, but %s %v has no axis 1 of that size (it is one slope per channel, or 1)", k, x.Name, x.Type)
	}
	w, err := c.param(param{suffix: "weight", kind: ir.Param, shape: ir.Shape{k}, fill: ptr(0.25)})
	if err != nil {
		return val{}, err
	}
	if k != 1 && len(s) > 2 {
		shape := make([]int, len(s)-1)
		for i := range shape {
			shape[i] = 1
		}
		shape[0] = k
		name := c.name + ".slope"
		if err := c.l.claim(name, c.pos); err != nil {
			return val{}, err
		}
		n, err := c.l.g.AddNode("reshape", name, []*ir.Value{w}, ir.Attrs{"shape": shape}, c.pos)
		if err != nil {
			return val{}, c.errorf("%v", err)
		}
		w = n.Out()
	}
	return c.node("prelu", []*ir.Value{x, w}, nil)
}

// actLayer writes shrink as hardshrink or softshrink, and prelu with a
// known slope of one value or one per channel as prelu(num_parameters).
func (f *formatter) actLayer(n *ir.Node, label string) (string, []string, error) {
	a := n.Attrs
	if n.Op == "shrink" {
		l, b := a.Float("lambd"), a.Float("bias")
		name := "hardshrink"
		switch b {
		case 0:
		case l:
			name = "softshrink"
		default:
			return "", nil, nodeErr(n, "shrink with bias %v and lambd %v cannot be written in .dl (hardshrink has bias 0, softshrink bias lambd)", b, l)
		}
		if l == 0.5 {
			return name, nil, nil
		}
		s, err := fmtFloat(n, l)
		return name, []string{s}, err
	}
	x, w := n.Inputs[0].Type.Shape, n.Inputs[1]
	k := w.Type.Shape.NumElems()
	perChannel := len(x) >= 2 && x[1] == k
	for i, d := range w.Type.Shape {
		// [C] against [N, C], or [C, 1, ...] against [N, C, ...].
		at := len(x) - len(w.Type.Shape) + i
		perChannel = perChannel && (d == 1 && at != 1 || d == k && at == 1)
	}
	if w.Data == nil || !(k == 1 || perChannel) {
		return "", nil, nodeErr(n, "prelu with slope %s %v on %v cannot be written in .dl (prelu takes one slope or one per channel, known)", w.Name, w.Type, x)
	}
	f.addTensor(label+".weight", &ir.Tensor{DType: ir.F32, Shape: ir.Shape{k}, Data: w.Data.F32()})
	if k == 1 {
		return "prelu", nil, nil
	}
	return "prelu", []string{"num_parameters=" + strconv.Itoa(k)}, nil
}

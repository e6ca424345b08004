package autodiff

import "github.com/dlcompiler/dlc/ir"

// Gradient rules of convolution and pooling, through the gradient ops of
// ir/ops_grad.go, which take the forward node's window attributes.

func init() {
	rule("conv", convGrad)
	rule("maxpool", func(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
		b := newBuilder(g, n)
		x := n.Inputs[0]
		dx := b.op("maxpool_grad", windowOf(n, n.Attrs.Ints("kernel")), x, dys[0])
		return []*ir.Value{dx}, b.err
	})
	rule("avgpool", func(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
		b := newBuilder(g, n)
		a := windowOf(n, n.Attrs.Ints("kernel"))
		a["shape"] = []int(n.Inputs[0].Type.Shape.Clone())
		a["count_include_pad"] = n.Attrs.Bool("count_include_pad")
		return []*ir.Value{b.op("avgpool_grad", a, dys[0])}, b.err
	})
	rule("global_avgpool", func(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
		b := newBuilder(g, n)
		x := n.Inputs[0].Type.Shape
		dx := b.expand(b.smul(dys[0], 1/float64(x[2:].NumElems())), x)
		return []*ir.Value{dx}, b.err
	})
	// The global max is a maxpool whose window is the whole plane.
	rule("global_maxpool", func(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
		b := newBuilder(g, n)
		x := n.Inputs[0]
		sp := []int(x.Type.Shape[2:].Clone())
		a := ir.Attrs{"kernel": sp, "strides": ones(len(sp)), "pads": make([]int, 2*len(sp)), "dilations": ones(len(sp))}
		return []*ir.Value{b.op("maxpool_grad", a, x, dys[0])}, b.err
	})
}

// windowOf copies a forward node's window attributes for its gradient op.
func windowOf(n *ir.Node, kernel []int) ir.Attrs {
	a := ir.Attrs{"kernel": append([]int(nil), kernel...)}
	for _, k := range []string{"strides", "pads", "dilations", "groups", "ceil_mode"} {
		if v, ok := n.Attrs[k]; ok {
			a[k] = v
		}
	}
	return a
}

// convGrad: dx by conv_grad_input, dW by conv_grad_weight, db as the sum
// of dy over every axis but the channels.
func convGrad(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
	b := newBuilder(g, n)
	x, w, dy := n.Inputs[0], n.Inputs[1], dys[0]
	a := windowOf(n, w.Type.Shape[2:])
	ai := a.Clone()
	delete(ai, "kernel")
	ai["shape"] = []int(x.Type.Shape.Clone())
	dx := b.op("conv_grad_input", ai, dy, w)
	dw := b.op("conv_grad_weight", a, x, dy)
	grads := []*ir.Value{dx, dw}
	if len(n.Inputs) > 2 && n.Inputs[2] != nil {
		axes := []int{0}
		for i := 2; i < len(dy.Type.Shape); i++ {
			axes = append(axes, i)
		}
		grads = append(grads, b.op("reduce_sum", ir.Attrs{"axes": axes}, dy))
	}
	return grads, b.err
}

func ones(r int) []int {
	s := make([]int, r)
	for i := range s {
		s[i] = 1
	}
	return s
}

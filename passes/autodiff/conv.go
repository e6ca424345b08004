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
// of dy over every axis but the channels. Without groups dx is written as
// a convolution where that is exact (convInputGrad), so compiled code
// gives it conv's GEMM schedules; dW has a Gemm form of its own.
func convGrad(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
	b := newBuilder(g, n)
	x, w, dy := n.Inputs[0], n.Inputs[1], dys[0]
	a := windowOf(n, w.Type.Shape[2:])
	dx := convInputGrad(b, n, dy, w)
	if dx == nil {
		ai := a.Clone()
		delete(ai, "kernel")
		ai["shape"] = []int(x.Type.Shape.Clone())
		dx = b.op("conv_grad_input", ai, dy, w)
	}
	// dW as conv_grad_weight always: its Gemm form (codegen/grad_gemm.go,
	// which training steps choose) packs one im2col panel where the
	// convolution form (convWeightGrad) gets conv's row schedule with a
	// whole-plane kernel, five times the work on LeNet-5's first layer.
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

// swap01 transposes the first two axes.
func (b *builder) swap01(v *ir.Value) *ir.Value {
	p := make([]int, len(v.Type.Shape))
	for i := range p {
		p[i] = i
	}
	p[0], p[1] = 1, 0
	return b.op("transpose", ir.Attrs{"perm": p}, v)
}

// take gathers indices idx along axis (a slice or a reversal).
func (b *builder) take(v *ir.Value, axis int, idx []int) *ir.Value {
	t := ir.NewTensor(ir.I64, ir.Shape{len(idx)})
	for i, j := range idx {
		t.I64()[i] = int64(j)
	}
	iv := b.g.AddParam(b.name(), ir.Const, t.Type(), t, "", b.n.Pos)
	return b.op("gather", ir.Attrs{"axis": axis}, v, iv)
}

// convInputGrad is dx for a stride-1 convolution without groups: the
// convolution of dy with the weight's channels swapped and taps reversed,
// padded by d·(k-1) - pad on each side. Nil when that does not apply.
func convInputGrad(b *builder, n *ir.Node, dy, w *ir.Value) *ir.Value {
	k := w.Type.Shape[2:]
	r := len(k)
	st, p, d := n.Attrs.Ints("strides"), n.Attrs.Ints("pads"), n.Attrs.Ints("dilations")
	if n.Attrs.Int("groups") != 1 {
		return nil
	}
	pads := make([]int, 2*r)
	for i := range r {
		pads[i], pads[r+i] = d[i]*(k[i]-1)-p[i], d[i]*(k[i]-1)-p[r+i]
		if st[i] != 1 || pads[i] < 0 || pads[r+i] < 0 {
			return nil
		}
	}
	wf := b.swap01(w)
	for i := range r {
		rev := make([]int, k[i])
		for j := range rev {
			rev[j] = k[i] - 1 - j
		}
		if k[i] > 1 {
			wf = b.take(wf, 2+i, rev)
		}
	}
	return b.op("conv", ir.Attrs{"pads": pads, "dilations": append([]int(nil), d...)}, dy, wf)
}

func ones(r int) []int {
	s := make([]int, r)
	for i := range s {
		s[i] = 1
	}
	return s
}

package autodiff

import "github.com/dlcompiler/dlc/ir"

// Gradient rules of the spatial ops: conv_transpose through convolution
// (its adjoint), resize and adaptive_avgpool through their per-axis
// interpolation tables (ir.ResizeTables, ir.AdaptiveAvgTables), each
// axis a contraction of dy with the table's transposed matrix.

func init() {
	rule("conv_transpose", convTransposeGrad)
	rule("resize", func(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
		b := newBuilder(g, n)
		x := n.Inputs[0].Type.Shape
		return []*ir.Value{b.tablesGrad(dys[0], ir.ResizeTables(x, n.Attrs), x)}, b.err
	})
	rule("adaptive_avgpool", func(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
		b := newBuilder(g, n)
		x := n.Inputs[0].Type.Shape
		return []*ir.Value{b.tablesGrad(dys[0], ir.AdaptiveAvgTables(x, n.Attrs.Ints("output_size")), x)}, b.err
	})
}

// tablesGrad maps dy back through separable interpolation tables, one
// matrix per axis that changes (outputs mapped outside the input, the
// extrapolation value, get no gradient).
func (b *builder) tablesGrad(dy *ir.Value, tabs []ir.ResizeAxis, x ir.Shape) *ir.Value {
	d := dy
	for a, t := range tabs {
		if t.Identity() && d.Type.Shape[a] == x[a] {
			continue
		}
		out, in := d.Type.Shape[a], x[a]
		m := make([]float64, out*in)
		for o := range out {
			if t.Outside[o] {
				continue
			}
			for j := t.Start[o]; j < t.Start[o+1]; j++ {
				m[o*in+t.Idx[j]] += t.W[j]
			}
		}
		d = b.axisMap(d, a, m, in)
	}
	return d
}

// convTransposeGrad: y = conv_transpose(x, w) is the adjoint of a
// convolution with w [in, out/groups, k...] as its weight, so
// dx = conv(dy, w) with the same window and groups, and dw is that
// convolution's weight gradient with x and dy in swapped roles.
func convTransposeGrad(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
	b := newBuilder(g, n)
	x, w, dy := n.Inputs[0], n.Inputs[1], dys[0]
	st, op := n.Attrs.Ints("strides"), n.Attrs.Ints("output_padding")
	// With output_padding ≥ stride (ONNX allows it below the dilation)
	// the convolution of dy is op/stride longer than x on an axis: dx is
	// cropped, and x padded with zeros for the weight gradient.
	r := len(op)
	extra, crop := make([]int, 2*r), false // extra[r+i]: the end of axis i
	for i := range op {
		extra[r+i] = op[i] / st[i]
		crop = crop || extra[r+i] > 0
	}
	a := ir.Attrs{}
	for _, k := range []string{"strides", "pads", "dilations", "groups"} {
		if v, ok := n.Attrs[k]; ok {
			a[k] = v
		}
	}
	dx := b.op("conv", a, dy, w)
	xp := x
	if crop {
		// pads of [N, C, spatial...]: begins, then ends (the spatial ends).
		pads, neg := make([]int, 2*(r+2)), make([]int, 2*(r+2))
		for i := range r {
			pads[r+4+i], neg[r+4+i] = extra[r+i], -extra[r+i]
		}
		dx = b.op("pad", ir.Attrs{"pads": neg}, dx)
		xp = b.op("pad", ir.Attrs{"pads": pads}, x)
	}
	wa := windowOf(n, w.Type.Shape[2:])
	delete(wa, "ceil_mode")
	dw := b.op("conv_grad_weight", wa, dy, xp)
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

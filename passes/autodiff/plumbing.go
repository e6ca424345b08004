package autodiff

import (
	"github.com/dlcompiler/dlc/ir"
)

// Gradient rules of the tensor plumbing (expand, cast, where, trilu, pad,
// cumsum) and of hardmax, whose gradient is 0.

func init() {
	rule("expand", func(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
		b := newBuilder(g, n)
		return []*ir.Value{b.sumTo(dys[0], n.Inputs[0].Type.Shape)}, b.err
	})
	// A float-to-float cast passes the gradient through, cast back.
	rule("cast", func(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
		x, y := n.Inputs[0].Type.DType, n.Out().Type.DType
		if !x.IsFloat() || !y.IsFloat() {
			return []*ir.Value{nil}, nil
		}
		b := newBuilder(g, n)
		if x == y {
			return []*ir.Value{dys[0]}, nil
		}
		return []*ir.Value{b.op("cast", ir.Attrs{"to": x.String()}, dys[0])}, b.err
	})
	rule("where", func(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
		b := newBuilder(g, n)
		c, x, y, dy := n.Inputs[0], n.Inputs[1], n.Inputs[2], dys[0]
		if !dy.Type.DType.IsFloat() {
			return []*ir.Value{nil, nil, nil}, nil
		}
		zero := b.scalar(0)
		dx := b.sumTo(b.op("where", nil, c, dy, zero), x.Type.Shape)
		dz := b.sumTo(b.op("where", nil, c, zero, dy), y.Type.Shape)
		return []*ir.Value{nil, dx, dz}, b.err
	})
	// trilu is linear: its gradient keeps the same triangle of dy.
	rule("trilu", func(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
		b := newBuilder(g, n)
		return []*ir.Value{b.op("trilu", n.Attrs.Clone(), dys[0])}, b.err
	})
	rule("pad", padGrad)
	// y_i = Σ_{j≤i} x_j gives dx_j = Σ_{i≥j} dy_i: the running sum the
	// other way (exclusive stays exclusive).
	rule("cumsum", func(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
		b := newBuilder(g, n)
		a := n.Attrs.Clone()
		a["reverse"] = !n.Attrs.Bool("reverse")
		return []*ir.Value{b.op("cumsum", a, dys[0])}, b.err
	})
	rule("hardmax", zeroRule)
}

// padGrad: mode constant crops dy back by the opposite pads (a negative
// pad, a crop, becomes zeros); the other modes copy input elements to
// several outputs, so each padded axis sums dy through its 0/1 matrix.
func padGrad(g *ir.Graph, n *ir.Node, dys []*ir.Value) ([]*ir.Value, error) {
	b := newBuilder(g, n)
	x, dy := n.Inputs[0].Type.Shape, dys[0]
	p := n.Attrs.Ints("pads")
	r := len(x)
	mode := n.Attrs.String("mode")
	if mode == "constant" {
		q := make([]int, len(p))
		for i, v := range p {
			q[i] = -v
		}
		return []*ir.Value{b.op("pad", ir.Attrs{"pads": q, "mode": "constant", "value": 0.0}, dy)}, b.err
	}
	d := dy
	for a := range r {
		if p[a] == 0 && p[r+a] == 0 {
			continue
		}
		out := d.Type.Shape[a]
		m := make([]float64, out*x[a])
		for o := range out {
			if i := ir.PadIndex(mode, o, p[a], x[a]); i >= 0 {
				m[o*x[a]+i] += 1
			}
		}
		if d = b.axisMap(d, a, m, x[a]); d == nil {
			break
		}
	}
	return []*ir.Value{d}, b.err
}

// axisMap contracts axis a of v (size out) with the matrix m [out, in]:
// the result's element i along a is Σ_o v[..., o, ...]·m[o·in + i], with
// the axis moved last.
func (b *builder) axisMap(v *ir.Value, a int, m []float64, in int) *ir.Value {
	if b.err != nil {
		return nil
	}
	s := v.Type.Shape
	r := len(s)
	out := s[a]
	t := ir.NewTensor(v.Type.DType, ir.Shape{out, in})
	for i, w := range m {
		t.SetFloat(i, w)
	}
	mv := b.g.AddParam(b.name(), ir.Const, t.Type(), t, "", b.n.Pos)
	if r == 1 {
		return b.reshape(b.axisMapLast(b.reshape(v, ir.Shape{1, out}), mv), ir.Shape{in})
	}
	p := make([]int, 0, r)
	for i := range r {
		if i != a {
			p = append(p, i)
		}
	}
	p = append(p, a)
	if a != r-1 {
		v = b.op("transpose", ir.Attrs{"perm": p}, v)
	}
	y := b.axisMapLast(v, mv)
	if a != r-1 {
		y = b.op("transpose", ir.Attrs{"perm": inv(p)}, y)
	}
	return y
}

func init() { rule("cumprod", expandRule(cumprodExpand)) }

// cumprodExpand rebuilds the running product as a chain of products of
// the axis' slices, whose gradient is exact where elements are 0 (the
// quotient y/x is not).
func cumprodExpand(e *expansion) ([]*ir.Value, error) {
	n := e.n
	x := n.Inputs[0]
	a, err := ir.NormAxis(n.Attrs.Int("axis"), len(x.Type.Shape))
	if err != nil {
		return nil, err
	}
	K := x.Type.Shape[a]
	if K == 0 {
		return []*ir.Value{x}, nil
	}
	parts := e.split(x, a, ones(K), false)
	ys := make([]*ir.Value, K)
	var acc *ir.Value
	for s := range K {
		i := s
		if n.Attrs.Bool("reverse") {
			i = K - 1 - s
		}
		if n.Attrs.Bool("exclusive") {
			if ys[i] = acc; acc == nil {
				ys[i] = e.fill(parts[i].Type.Shape, 1)
			}
		}
		if acc == nil {
			acc = parts[i]
		} else {
			acc = e.mul(acc, parts[i])
		}
		if !n.Attrs.Bool("exclusive") {
			ys[i] = acc
		}
	}
	return []*ir.Value{e.concat(ys, a)}, e.err
}

// axisMapLast is v·m over v's last axis: a matmul in f32; for the other
// dtypes, which matmul does not take, a broadcast product summed over
// that axis.
func (b *builder) axisMapLast(v, m *ir.Value) *ir.Value {
	if v.Type.DType == ir.F32 {
		return b.op("matmul", nil, v, m)
	}
	r := len(v.Type.Shape)
	p := b.mul(b.op("unsqueeze", ir.Attrs{"axes": []int{r}}, v), m)
	return b.op("reduce_sum", ir.Attrs{"axes": []int{r - 1}}, p)
}

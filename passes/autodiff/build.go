package autodiff

import (
	"fmt"
	"math"

	"github.com/dlcompiler/dlc/ir"
)

// builder adds the nodes of one rule to the graph, named after the node
// differentiated (grad_<node>_<k>), at its position. The first error
// sticks and later calls do nothing, so a rule reads as straight-line
// math and checks b.err once.
type builder struct {
	g      *ir.Graph
	n      *ir.Node
	prefix string
	k      int
	err    error
	dt     ir.DType // the constants' dtype when not the node's (see dtype)
}

func newBuilder(g *ir.Graph, n *ir.Node) *builder { return &builder{g: g, n: n} }

func (b *builder) name() string {
	b.k++
	p := b.prefix
	if p == "" {
		p = b.n.Name
	}
	name := fmt.Sprintf("grad_%s_%d", p, b.k)
	for b.taken(name) {
		b.k++
		name = fmt.Sprintf("grad_%s_%d", p, b.k)
	}
	return name
}

// taken reports whether a node or value of g is already called name.
func (b *builder) taken(name string) bool {
	for _, v := range b.g.Params {
		if v.Name == name {
			return true
		}
	}
	for _, n := range b.g.Nodes {
		if n.Name == name {
			return true
		}
	}
	return false
}

// op adds one node and returns its first output.
func (b *builder) op(op string, attrs ir.Attrs, ins ...*ir.Value) *ir.Value {
	if b.err != nil {
		return nil
	}
	for _, in := range ins {
		if in == nil {
			b.err = fmt.Errorf("autodiff: internal error: rule of %s passes a missing input to %s", b.n.Op, op)
			return nil
		}
	}
	n, err := b.g.AddNode(op, b.name(), ins, attrs, b.n.Pos)
	if err != nil {
		b.err = fmt.Errorf("gradient of layer %s (%s): %s: %w", b.n.Name, b.n.Op, op, err)
		return nil
	}
	return n.Out()
}

// dtype is the float dtype of the constants a rule adds: that of the
// node's first float output (f32 graphs, and f64 ones where the ops
// take it), or dt when set.
func (b *builder) dtype() ir.DType {
	if b.dt != 0 {
		return b.dt
	}
	for _, o := range b.n.Outputs {
		if o.Type.DType.IsFloat() {
			return o.Type.DType
		}
	}
	return ir.F32
}

// fill adds a constant of the given shape with every element v.
func (b *builder) fill(shape ir.Shape, v float64) *ir.Value {
	t := ir.NewTensor(b.dtype(), shape)
	for i := range t.Len() {
		t.SetFloat(i, v)
	}
	return b.g.AddParam(b.name(), ir.Const, t.Type(), t, "", b.n.Pos)
}

// scalar adds a rank-0 constant.
func (b *builder) scalar(v float64) *ir.Value { return b.fill(ir.Shape{}, v) }

// Arithmetic helpers; s* take a scalar right operand.
func (b *builder) add(x, y *ir.Value) *ir.Value { return b.op("add", nil, x, y) }
func (b *builder) sub(x, y *ir.Value) *ir.Value { return b.op("sub", nil, x, y) }
func (b *builder) mul(x, y *ir.Value) *ir.Value { return b.op("mul", nil, x, y) }
func (b *builder) div(x, y *ir.Value) *ir.Value { return b.op("div", nil, x, y) }
func (b *builder) smul(x *ir.Value, c float64) *ir.Value {
	return b.mul(x, b.scalar(c))
}
func (b *builder) sadd(x *ir.Value, c float64) *ir.Value {
	return b.add(x, b.scalar(c))
}

// rsub is c - x.
func (b *builder) rsub(c float64, x *ir.Value) *ir.Value { return b.sub(b.scalar(c), x) }
func (b *builder) unary(op string, x *ir.Value) *ir.Value {
	return b.op(op, nil, x)
}

// step is 1 where x > 0 and 0 elsewhere (NaN included): sign(relu(x)).
func (b *builder) step(x *ir.Value) *ir.Value { return b.unary("sign", b.unary("relu", x)) }

func (b *builder) reshape(x *ir.Value, s ir.Shape) *ir.Value {
	if x == nil || x.Type.Shape.Equal(s) {
		return x
	}
	return b.op("reshape", ir.Attrs{"shape": []int(s.Clone())}, x)
}

// sumTo reduces a broadcast result back to an operand's shape: a sum over
// the leading axes the operand lacks and the axes where it has size 1.
func (b *builder) sumTo(x *ir.Value, s ir.Shape) *ir.Value {
	if x == nil || x.Type.Shape.Equal(s) {
		return x
	}
	xs := x.Type.Shape
	lead := len(xs) - len(s)
	var axes []int
	for i := range xs {
		if i < lead || (s[i-lead] == 1 && xs[i] != 1) {
			axes = append(axes, i)
		}
	}
	if len(axes) > 0 {
		x = b.op("reduce_sum", ir.Attrs{"axes": axes, "keepdims": true}, x)
	}
	return b.reshape(x, s)
}

// expand broadcasts x to shape s (numpy rules) by adding zeros.
func (b *builder) expand(x *ir.Value, s ir.Shape) *ir.Value {
	if x.Type.Shape.Equal(s) {
		return x
	}
	return b.add(x, b.fill(s, 0))
}

// inv returns the inverse of permutation p.
func inv(p []int) []int {
	q := make([]int, len(p))
	for i, v := range p {
		q[v] = i
	}
	return q
}

// geluConsts are gelu's constants (ir's are unexported): 1/√2, 1/√(2π),
// √(2/π) and the cubic coefficient of the tanh form.
var (
	invSqrt2   = 1 / math.Sqrt2
	invSqrt2Pi = 1 / math.Sqrt(2*math.Pi)
	geluBeta   = math.Sqrt(2 / math.Pi)
)

const geluKappa = 0.044715

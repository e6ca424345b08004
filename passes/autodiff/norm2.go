package autodiff

import (
	"github.com/dlcompiler/dlc/ir"
)

// Gradient rules of layernorm, rmsnorm, groupnorm (and so instance norm)
// and lrn, by expansion (expand.go) into means, reciprocal square roots
// and products, whose rules then give the gradient through the
// statistics.

func init() {
	rule("layernorm", expandRule(layerNormExpand))
	rule("rmsnorm", expandRule(layerNormExpand))
	rule("groupnorm", expandRule(groupNormExpand))
	rule("lrn", expandRule(lrnExpand))
}

// normalize returns (x - mean)·1/√(var + ε) with the statistics over
// axes (kept as size 1), and the mean and the inverse deviation; rms
// leaves the mean out and uses the mean square.
func (b *builder) normalize(x *ir.Value, axes []int, eps float64, rms bool) (y, mean, inv *ir.Value) {
	red := ir.Attrs{"axes": axes, "keepdims": true}
	xc := x
	if !rms {
		mean = b.op("reduce_mean", red, x)
		xc = b.sub(x, mean)
	}
	v := b.op("reduce_mean", red.Clone(), b.mul(xc, xc))
	inv = b.unary("reciprocal", b.unary("sqrt", b.sadd(v, eps)))
	return b.mul(xc, inv), mean, inv
}

func layerNormExpand(e *expansion) ([]*ir.Value, error) {
	n := e.n
	x := n.Inputs[0]
	a, err := ir.NormAxis(n.Attrs.Int("axis"), len(x.Type.Shape))
	if err != nil {
		return nil, err
	}
	var axes []int
	for i := a; i < len(x.Type.Shape); i++ {
		axes = append(axes, i)
	}
	rms := n.Op == "rmsnorm"
	y, mean, inv := e.normalize(x, axes, n.Attrs.Float("epsilon"), rms)
	y = e.affine(y, n.Inputs, nil)
	if n.Attrs.Bool("stats") {
		return []*ir.Value{y, mean, inv}, e.err
	}
	return []*ir.Value{y}, e.err
}

// affine multiplies by ins[1] and adds ins[2] when present, reshaped to
// shape s (nil: as they are).
func (b *builder) affine(y *ir.Value, ins []*ir.Value, s ir.Shape) *ir.Value {
	for i := 1; i < 3 && i < len(ins); i++ {
		if v := ins[i]; v != nil {
			if s != nil {
				v = b.reshape(v, s)
			}
			if i == 1 {
				y = b.mul(y, v)
			} else {
				y = b.add(y, v)
			}
		}
	}
	return y
}

// groupNormExpand normalizes x [N, C, ...] viewed as [N, G, C/G·spatial].
func groupNormExpand(e *expansion) ([]*ir.Value, error) {
	n := e.n
	x := n.Inputs[0]
	xs := x.Type.Shape
	G := n.Attrs.Int("num_groups")
	v := e.reshape(x, ir.Shape{xs[0], G, xs[1:].NumElems() / G})
	y, _, _ := e.normalize(v, []int{2}, n.Attrs.Float("epsilon"), false)
	y = e.affine(e.reshape(y, xs), n.Inputs, chanShape(xs))
	return []*ir.Value{y}, e.err
}

// lrnExpand: y = x·(bias + alpha/size·S)^-beta with S the window sums of
// x² over the channels, a contraction of axis 1 with a 0/1 matrix.
func lrnExpand(e *expansion) ([]*ir.Value, error) {
	n := e.n
	x := n.Inputs[0]
	C, size := x.Type.Shape[1], n.Attrs.Int("size")
	m := make([]float64, C*C)
	for c := range C {
		lo, hi := ir.LRNWindow(c, C, size)
		for j := lo; j < hi; j++ {
			m[j*C+c] = 1
		}
	}
	s := e.axisMap(e.mul(x, x), 1, m, C)
	d := e.sadd(e.smul(s, n.Attrs.Float("alpha")/float64(size)), n.Attrs.Float("bias"))
	y := e.mul(x, e.op("pow", nil, d, e.scalar(-n.Attrs.Float("beta"))))
	return []*ir.Value{y}, e.err
}

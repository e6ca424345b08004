package runtime

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// The fused ops compute exactly what their parts compute, in order: the
// interpreter runs the parts' kernels one after another.

func init() {
	register("fused_conv", fusedConv)
	register("fused_dense", fusedDense)
	register("fused_ewise", fusedEwise)
}

// run1 runs op's kernel on one synthetic node.
func run1(n *ir.Node, in []*ir.Tensor) (*ir.Tensor, error) {
	k := kernels[n.Op]
	if k == nil {
		return nil, fmt.Errorf("no kernel for %s", n.Op)
	}
	outs, err := k(n, in)
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

// valuesOf gives synthetic nodes typed inputs for their attribute checks.
func valuesOf(ts ...*ir.Tensor) []*ir.Value {
	vs := make([]*ir.Value, len(ts))
	for i, t := range ts {
		if t != nil {
			vs[i] = &ir.Value{Name: fmt.Sprintf("in%d", i), Type: t.Type()}
		}
	}
	return vs
}

// epilogue applies residual add and activation in place of y.
func epilogue(n *ir.Node, y, residual *ir.Tensor) (*ir.Tensor, error) {
	var err error
	if residual != nil {
		add := &ir.Node{Name: n.Name, Op: "add", Inputs: valuesOf(y, residual), Attrs: ir.Attrs{}}
		if y, err = run1(add, []*ir.Tensor{y, residual}); err != nil {
			return nil, err
		}
	}
	act := n.Attrs.String("act")
	if act == "" {
		return y, nil
	}
	a, err := ir.SubNode(n, act, valuesOf(y))
	if err != nil {
		return nil, err
	}
	return run1(a, []*ir.Tensor{y})
}

// pad3 extends in to x, weight, bias (nil when absent).
func pad3(in []*ir.Tensor) []*ir.Tensor {
	for len(in) < 3 {
		in = append(in, nil)
	}
	return in
}

func fusedConv(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	in = pad3(in)
	conv, err := ir.SubNode(n, "conv", valuesOf(in[:3]...))
	if err != nil {
		return nil, err
	}
	y, err := run1(conv, in[:3])
	if err != nil {
		return nil, err
	}
	var res *ir.Tensor
	if len(in) > 3 {
		res = in[3]
	}
	if y, err = epilogue(n, y, res); err != nil {
		return nil, err
	}
	if n.Attrs.String("pool") != "" {
		p, err := ir.FusedPool(n, &ir.Value{Name: "pre", Type: y.Type()})
		if err != nil {
			return nil, err
		}
		if y, err = run1(p, []*ir.Tensor{y}); err != nil {
			return nil, err
		}
	}
	return []*ir.Tensor{y}, nil
}

func fusedDense(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	in = pad3(in)
	d := &ir.Node{Name: n.Name, Op: "dense", Inputs: valuesOf(in[:3]...), Attrs: ir.Attrs{}}
	y, err := run1(d, in[:3])
	if err != nil {
		return nil, err
	}
	var res *ir.Tensor
	if len(in) > 3 {
		res = in[3]
	}
	if y, err = epilogue(n, y, res); err != nil {
		return nil, err
	}
	return []*ir.Tensor{y}, nil
}

func fusedEwise(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	steps, err := ir.ParseSteps(n.Attrs.String("steps"), len(in))
	if err != nil {
		return nil, err
	}
	y := in[0]
	for _, s := range steps {
		args := []*ir.Tensor{y}
		if ir.Lookup(s.Op).Binary != nil {
			args = append(args, in[s.Input])
		}
		sub := &ir.Node{Name: n.Name, Op: s.Op, Inputs: valuesOf(args...), Attrs: s.Attrs.Clone()}
		if sub.Attrs == nil {
			sub.Attrs = ir.Attrs{}
		}
		if err := sub.Def().CheckAttrs(sub); err != nil {
			return nil, err
		}
		if y, err = run1(sub, args); err != nil {
			return nil, err
		}
	}
	return []*ir.Tensor{y}, nil
}

// Package autodiff is reverse-mode differentiation of the IR, graph to
// graph: Backward appends to a graph the nodes that compute the gradient
// of a scalar loss with respect to chosen values, built from one gradient
// rule per op. The rules live in this package, in files named after the
// op families (conv.go, linear.go, ...), and fill the Grad slots of the
// op table (ir.OpDef.Grad.Fn) at init; an op without a rule says why in
// its NoGrad and is refused by name.
//
// The backward graph is made of ordinary ops (matmul, reduce_sum, mul,
// ...) and a few gradient ops (conv_grad_input, conv_grad_weight,
// maxpool_grad, avgpool_grad) that the interpreter and code generation
// know like any other, so the rest of the pipeline treats it as any
// graph. A few rules instead rebuild their op's forward from
// differentiable ops and backpropagate through it (expand.go): rnn, lstm
// and gru unrolled through time, the normalizations, nll_loss, cumprod.
// Training mode (batch statistics for batchnorm, a mask input for
// dropout) is a rewrite of the forward graph before Backward: see
// TrainMode.
package autodiff

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// rules maps op names to gradient rules; each rule file adds its own.
var rules = map[string]ir.GradFunc{}

func rule(op string, f ir.GradFunc) {
	if _, dup := rules[op]; dup {
		panic("autodiff: rule registered twice: " + op)
	}
	rules[op] = f
}

// install fills the op table's Grad slots. It runs after every rule
// file's init (Go runs a package's init functions in file name order,
// and zz_install.go sorts last).
func install() {
	for op, f := range rules {
		d := ir.Lookup(op)
		if d == nil || d.Grad == nil {
			panic("autodiff: rule for " + op + ", which has no Grad slot in the op table")
		}
		d.Grad.Fn = f
	}
}

// Backward appends to g the nodes computing the gradient of loss, a
// one-element float value, with respect to each of wrt, and returns them in
// order. A value the loss does not depend on gets a zero constant. The
// gradients of several uses of a value are summed in node order, so the
// result is deterministic. Nodes that compute gradients nobody asked for
// stay in g until Prune (or the dce pass) removes them.
func Backward(g *ir.Graph, loss *ir.Value, wrt []*ir.Value) ([]*ir.Value, error) {
	if !loss.Type.DType.IsFloat() || loss.Type.Shape.NumElems() != 1 {
		return nil, fmt.Errorf("autodiff: the loss %s must be one float number, got %v", loss.Name, loss.Type)
	}
	dep := map[*ir.Value]bool{}
	for _, v := range wrt {
		dep[v] = true
	}
	nodes := append([]*ir.Node(nil), g.Nodes...)
	for _, n := range nodes {
		for _, in := range n.Inputs {
			if in != nil && dep[in] {
				for _, o := range n.Outputs {
					dep[o] = true
				}
			}
		}
	}
	b := &builder{g: g, n: &ir.Node{Name: "loss", Pos: loss.Pos}, dt: loss.Type.DType}
	grads := map[*ir.Value]*ir.Value{loss: b.fill(loss.Type.Shape, 1)}
	for i := len(nodes) - 1; i >= 0; i-- {
		if err := backNode(g, nodes[i], dep, grads); err != nil {
			return nil, err
		}
	}
	out := make([]*ir.Value, len(wrt))
	for i, v := range wrt {
		if out[i] = grads[v]; out[i] == nil {
			out[i] = (&builder{g: g, n: &ir.Node{Name: v.Name, Pos: v.Pos}, dt: v.Type.DType}).fill(v.Type.Shape, 0)
		}
	}
	return out, b.err
}

// backNode applies n's rule when some output has a gradient and some input
// depends on the values differentiated, and adds the input gradients to
// grads.
func backNode(g *ir.Graph, n *ir.Node, dep map[*ir.Value]bool, grads map[*ir.Value]*ir.Value) error {
	dys := make([]*ir.Value, len(n.Outputs))
	any := false
	for j, o := range n.Outputs {
		dys[j] = grads[o]
		any = any || dys[j] != nil
	}
	needed := false
	for _, in := range n.Inputs {
		needed = needed || (in != nil && dep[in] && in.Type.DType.IsFloat())
	}
	if !any || !needed {
		return nil
	}
	d := n.Def()
	if d.Grad == nil || d.Grad.Fn == nil {
		why := d.NoGrad
		if why == "" {
			why = "it has no gradient rule"
		}
		return fmt.Errorf("%s: layer %s: op %s is not differentiable: %s", n.Pos, n.Name, n.Op, why)
	}
	dxs, err := d.Grad.Fn(g, n, dys)
	if err != nil {
		return fmt.Errorf("%s: layer %s: gradient of %s: %w", n.Pos, n.Name, n.Op, err)
	}
	for j, in := range n.Inputs {
		if in == nil || j >= len(dxs) || dxs[j] == nil || !dep[in] {
			continue
		}
		if prev := grads[in]; prev != nil {
			b := &builder{g: g, n: n, prefix: "acc_" + in.Name}
			dxs[j] = b.op("add", nil, prev, dxs[j])
			if b.err != nil {
				return b.err
			}
		}
		grads[in] = dxs[j]
	}
	return nil
}

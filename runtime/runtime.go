// Package runtime is dlc's reference interpreter: plain, readable loops
// that define what every op means. It is the numerical oracle that every
// generated kernel and every pass is tested against, not the fast path.
//
// Kernels live one file per op family and register themselves in the
// kernel table by op name.
package runtime

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// Kernel computes a node's outputs from its input tensors. An absent
// optional input is nil. A kernel must not modify its inputs.
type Kernel func(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error)

var kernels = map[string]Kernel{}

func register(op string, k Kernel) {
	if _, dup := kernels[op]; dup {
		panic("runtime: kernel registered twice: " + op)
	}
	kernels[op] = k
}

// HasKernel reports whether the interpreter can run op.
func HasKernel(op string) bool { return kernels[op] != nil }

// Run executes the graph on the given inputs (in g.Inputs order) and
// returns the outputs (in g.Outputs order). Every input must match its
// declared dtype and shape. Params without data are an error: initialize
// them first.
func Run(g *ir.Graph, inputs []*ir.Tensor) ([]*ir.Tensor, error) {
	env, err := Eval(g, inputs)
	if err != nil {
		return nil, err
	}
	outs := make([]*ir.Tensor, len(g.Outputs))
	for i, o := range g.Outputs {
		outs[i] = env[o]
	}
	return outs, nil
}

// Eval executes the graph and returns the tensor of every value, for
// tests and debugging that look inside.
func Eval(g *ir.Graph, inputs []*ir.Tensor) (map[*ir.Value]*ir.Tensor, error) {
	if len(inputs) != len(g.Inputs) {
		return nil, fmt.Errorf("model %s takes %d inputs, got %d", g.Name, len(g.Inputs), len(inputs))
	}
	env := map[*ir.Value]*ir.Tensor{}
	for i, v := range g.Inputs {
		t := inputs[i]
		if t == nil {
			return nil, fmt.Errorf("input %s is missing", v.Name)
		}
		if err := t.Check(); err != nil {
			return nil, fmt.Errorf("input %s: %w", v.Name, err)
		}
		if !t.Type().Equal(v.Type) {
			return nil, fmt.Errorf("input %s: want %v, got %v", v.Name, v.Type, t.Type())
		}
		env[v] = t
	}
	for _, p := range g.Params {
		if p.Data == nil {
			return nil, fmt.Errorf("%v %s has no data (initializer %q not applied)", p.Kind, p.Name, p.Init)
		}
		// Kernels index by the declared shapes: data that disagrees would
		// make them read out of bounds.
		if err := p.Data.Check(); err != nil {
			return nil, fmt.Errorf("%v %s: %w", p.Kind, p.Name, err)
		}
		if !p.Data.Type().Equal(p.Type) {
			return nil, fmt.Errorf("%v %s is declared %v but holds %v", p.Kind, p.Name, p.Type, p.Data.Type())
		}
		env[p] = p.Data
	}
	for _, n := range g.Nodes {
		k := kernels[n.Op]
		if k == nil {
			return nil, fmt.Errorf("%s %s: the interpreter has no kernel for op %q", n.Pos, n.Name, n.Op)
		}
		in := make([]*ir.Tensor, len(n.Inputs))
		for i, v := range n.Inputs {
			if v == nil {
				continue
			}
			t, ok := env[v]
			if !ok {
				return nil, fmt.Errorf("node %s: input %s has not been computed", n.Name, v.Name)
			}
			in[i] = t
		}
		outs, err := callKernel(k, n, in)
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", n.Name, n.Op, err)
		}
		if len(outs) != len(n.Outputs) {
			return nil, fmt.Errorf("%s (%s): kernel returned %d outputs, want %d", n.Name, n.Op, len(outs), len(n.Outputs))
		}
		for i, o := range n.Outputs {
			if !outs[i].Type().Equal(o.Type) {
				return nil, fmt.Errorf("%s (%s): kernel output %d is %v, want %v", n.Name, n.Op, i, outs[i].Type(), o.Type)
			}
			env[o] = outs[i]
		}
	}
	return env, nil
}

// EvalNode runs one node on its inputs' constant data; every input must
// be constant (used by constant folding).
func EvalNode(n *ir.Node) ([]*ir.Tensor, error) {
	k := kernels[n.Op]
	if k == nil {
		return nil, fmt.Errorf("the interpreter has no kernel for op %q", n.Op)
	}
	in := make([]*ir.Tensor, len(n.Inputs))
	for i, v := range n.Inputs {
		if v == nil {
			continue
		}
		if !v.IsConst() {
			return nil, fmt.Errorf("input %s is not constant", v.Name)
		}
		in[i] = v.Data
	}
	return callKernel(k, n, in)
}

// callKernel runs k, turning a panic (a kernel bug, or a hand-built graph
// that skipped ir.Verify) into an error that names the node.
func callKernel(k Kernel, n *ir.Node, in []*ir.Tensor) (outs []*ir.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			outs, err = nil, fmt.Errorf("internal error in the %s kernel: %v", n.Op, r)
		}
	}()
	return k(n, in)
}

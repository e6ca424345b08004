package autodiff

import "github.com/dlcompiler/dlc/ir"

// Gradients of rnn, lstm and gru through time: the layer is unrolled
// into dense, sigmoid, tanh, mul and add nodes step by step (an
// expansion, see expand.go), with the meaning of runtime/rnn.go and
// every attribute (layers, bidirectional, batch_first, initial states,
// bias, peepholes, relu, linear_before_reset false), and the gradient is
// backpropagated through the unrolled steps. The input projection of a
// layer is one dense over all its steps; the steps, gate blocks and
// initial states are split parts, so their gradients are joined by a
// concat rather than summed as scatters.

func init() {
	for _, op := range []string{"rnn", "lstm", "gru"} {
		rule(op, expandRule(rnnExpand))
	}
}

// rnnCfg is what one unrolled layer needs of the node's attributes.
type rnnCfg struct {
	op              string
	H, G            int
	bias, peep, lbr bool
	relu            bool
}

func rnnExpand(e *expansion) ([]*ir.Value, error) {
	n := e.n
	c := rnnCfg{op: n.Op, H: n.Attrs.Int("hidden_size"), G: ir.RNNGates(n.Op), bias: n.Attrs.Bool("bias"),
		peep: ir.RNNPeepholes(n), lbr: n.Op == "gru" && n.Attrs.Bool("linear_before_reset"),
		relu: n.Op == "rnn" && n.Attrs.String("nonlinearity") == "relu"}
	L, D, ns, per := n.Attrs.Int("num_layers"), ir.RNNDirs(n), ir.RNNStates(n.Op), ir.RNNWeightsPer(n)
	bf := n.Attrs.Bool("batch_first")
	x := n.Inputs[0]
	if bf {
		x = e.op("transpose", ir.Attrs{"perm": []int{1, 0, 2}}, x)
	}
	if e.err != nil {
		return nil, e.err
	}
	N := x.Type.Shape[1]
	// Initial states: split per layer and direction, or zeros.
	init := make([][]*ir.Value, ns)
	for s := range ns {
		if v := n.Inputs[1+s]; v != nil {
			init[s] = e.split(v, 0, ones(L*D), true)
		} else {
			init[s] = make([]*ir.Value, L*D)
			for k := range init[s] {
				init[s][k] = e.fill(ir.Shape{N, c.H}, 0)
			}
		}
	}
	final := make([][]*ir.Value, ns)
	inp := x
	for l := range L {
		var outs []*ir.Value
		for d := range D {
			if e.err != nil {
				return nil, e.err // inp or a state is missing
			}
			k := l*D + d
			w := n.Inputs[1+ns+k*per : 1+ns+(k+1)*per]
			st := []*ir.Value{init[0][k]}
			if ns == 2 {
				st = append(st, init[1][k])
			}
			y, last := e.rnnLayer(c, inp, w, st, d == 1)
			outs = append(outs, y)
			for s := range ns {
				final[s] = append(final[s], e.reshape(last[s], ir.Shape{1, N, c.H}))
			}
		}
		inp = e.concat(outs, 2)
	}
	if bf {
		inp = e.op("transpose", ir.Attrs{"perm": []int{1, 0, 2}}, inp)
	}
	res := []*ir.Value{inp}
	for s := range ns {
		res = append(res, e.concat(final[s], 0))
	}
	return res, e.err
}

// concat joins vs along axis (one value is itself).
func (b *builder) concat(vs []*ir.Value, axis int) *ir.Value {
	if len(vs) == 1 {
		return vs[0]
	}
	return b.op("concat", ir.Attrs{"axis": axis}, vs...)
}

// rnnLayer unrolls one layer and direction over inp [T, N, F] with its
// weights w (w_ih, w_hh, then b_ih, b_hh and p when present) from the
// states st (h, and c for lstm). It returns the outputs [T, N, H] in time
// order and the last states.
func (e *expansion) rnnLayer(c rnnCfg, inp *ir.Value, w []*ir.Value, st []*ir.Value, reverse bool) (*ir.Value, []*ir.Value) {
	T := inp.Type.Shape[0]
	H, G := c.H, c.G
	wih, whh := w[0], w[1]
	var bih, bhh, p *ir.Value
	if c.bias {
		bih, bhh = w[2], w[3]
	}
	if c.peep {
		p = w[len(w)-1]
	}
	gates := make([]int, G)
	for k := range gates {
		gates[k] = H
	}
	xp := e.dense(inp, wih, bih) // [T, N, G*H]
	steps := e.split(xp, 0, ones(T), true)
	// GRU in ONNX's form applies W_hn to r*h: its rows are a separate dense.
	var whn, bhn *ir.Value
	if c.op == "gru" && !c.lbr {
		ws := e.split(whh, 0, []int{2 * H, H}, false)
		whh, whn = ws[0], ws[1]
		if c.bias {
			bs := e.split(bhh, 0, []int{2 * H, H}, false)
			bhh, bhn = bs[0], bs[1]
		}
	}
	var peeps []*ir.Value
	if c.peep {
		peeps = e.split(p, 0, []int{H, H, H}, false)
	}
	ys := make([]*ir.Value, T)
	h := st[0]
	var cell *ir.Value
	if c.op == "lstm" {
		cell = st[1]
	}
	for s := range T {
		t := s
		if reverse {
			t = T - 1 - s
		}
		gx := e.split(steps[t], 1, gates, false)
		hg := e.dense(h, whh, bhh)
		var gh []*ir.Value
		if c.op == "gru" && !c.lbr {
			gh = e.split(hg, 1, []int{H, H}, false)
		} else {
			gh = e.split(hg, 1, gates, false)
		}
		switch c.op {
		case "rnn":
			pre := e.add(gx[0], gh[0])
			if c.relu {
				h = e.unary("relu", pre)
			} else {
				h = e.unary("tanh", pre)
			}
		case "lstm":
			pi, pf, po := e.add(gx[0], gh[0]), e.add(gx[1], gh[1]), e.add(gx[3], gh[3])
			if c.peep {
				pi, pf = e.add(pi, e.mul(peeps[0], cell)), e.add(pf, e.mul(peeps[1], cell))
			}
			i, f, g := e.unary("sigmoid", pi), e.unary("sigmoid", pf), e.unary("tanh", e.add(gx[2], gh[2]))
			cell = e.add(e.mul(f, cell), e.mul(i, g))
			if c.peep {
				po = e.add(po, e.mul(peeps[2], cell))
			}
			h = e.mul(e.unary("sigmoid", po), e.unary("tanh", cell))
		case "gru":
			r, z := e.unary("sigmoid", e.add(gx[0], gh[0])), e.unary("sigmoid", e.add(gx[1], gh[1]))
			var hn *ir.Value
			if c.lbr {
				hn = e.mul(r, gh[2])
			} else {
				hn = e.dense(e.mul(r, h), whn, bhn)
			}
			nn := e.unary("tanh", e.add(gx[2], hn))
			h = e.add(nn, e.mul(z, e.sub(h, nn))) // (1-z)·n + z·h
		}
		ys[t] = h
	}
	N := inp.Type.Shape[1]
	for t := range ys {
		ys[t] = e.reshape(ys[t], ir.Shape{1, N, H})
	}
	last := []*ir.Value{h}
	if c.op == "lstm" {
		last = append(last, cell)
	}
	return e.concat(ys, 0), last
}

// dense is x·wᵀ (+ b when b is not nil): a dense node, or where dense
// does not take x's dtype, matmul by the transpose plus the bias.
func (b *builder) dense(x, w, bias *ir.Value) *ir.Value {
	if x != nil && !ir.Lookup("dense").Inputs[0].DTypes.Has(x.Type.DType) {
		y := b.op("matmul", nil, x, b.op("transpose", ir.Attrs{"perm": []int{1, 0}}, w))
		if bias != nil {
			y = b.add(y, bias)
		}
		return y
	}
	if bias == nil {
		return b.op("dense", nil, x, w)
	}
	return b.op("dense", nil, x, w, bias)
}

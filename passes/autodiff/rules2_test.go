package autodiff

import "github.com/dlcompiler/dlc/ir"

// Finite-difference cases of the rules of gather.go, plumbing.go,
// reduce.go, norm2.go, loss.go, spatial.go and rnn.go (run by
// TestFiniteDifferences with the others).

func itoa(i int) string {
	s := ""
	for {
		s = string(rune('0'+i%10)) + s
		if i /= 10; i == 0 {
			return s
		}
	}
}

// ints adds an i64 constant.
func (c *fdBuild) ints(s ir.Shape, v ...int64) *ir.Value {
	c.k++
	t := ir.NewTensor(ir.I64, s)
	copy(t.I64(), v)
	return c.g.AddParam("i"+itoa(c.k), ir.Const, t.Type(), t, "", ir.Pos{})
}

// flat joins values flattened into one vector, so that one loss covers
// every output of a node.
func (c *fdBuild) flat(vs ...*ir.Value) *ir.Value {
	var fs []*ir.Value
	for _, v := range vs {
		fs = append(fs, c.op("reshape", ir.Attrs{"shape": []int{-1}}, v))
	}
	if len(fs) == 1 {
		return fs[0]
	}
	return c.op("concat", ir.Attrs{"axis": 0}, fs...)
}

// rnnWeights adds the params of a recurrent node.
func (c *fdBuild) rnnWeights(op string, F, H, L int, bidi, bias, peep bool) []*ir.Value {
	G := ir.RNNGates(op)
	D := 1
	if bidi {
		D = 2
	}
	var ws []*ir.Value
	for l := range L {
		in := F
		if l > 0 {
			in = D * H
		}
		for range D {
			ws = append(ws, c.param(G*H, in), c.param(G*H, H))
			if bias {
				ws = append(ws, c.param(G*H), c.param(G*H))
			}
			if peep {
				ws = append(ws, c.param(3*H))
			}
		}
	}
	return ws
}

func fdCases2() []fdCase {
	rnn := func(name, op string, a ir.Attrs, T, N, F, H, L int, states bool) fdCase {
		return fdCase{name, func(c *fdBuild) *ir.Value {
			bidi, _ := a["bidirectional"].(bool)
			peep, _ := a["peepholes"].(bool)
			bias := true
			if b, ok := a["bias"].(bool); ok {
				bias = b
			}
			a["hidden_size"], a["num_layers"] = H, L
			x := c.in(T, N, F)
			if bf, _ := a["batch_first"].(bool); bf {
				x = c.in(N, T, F)
			}
			D := 1
			if bidi {
				D = 2
			}
			ins := []*ir.Value{x}
			for range ir.RNNStates(op) {
				if states {
					ins = append(ins, c.in(L*D, N, H))
				} else {
					ins = append(ins, nil)
				}
			}
			ins = append(ins, c.rnnWeights(op, F, H, L, bidi, bias, peep)...)
			return c.flat(c.node(op, a, ins...).Outputs...)
		}}
	}
	un := func(op string, a ir.Attrs, s ...int) fdCase {
		return fdCase{op, func(c *fdBuild) *ir.Value { return c.op(op, a, c.in(s...)) }}
	}
	return []fdCase{
		{"gather_axis1", func(c *fdBuild) *ir.Value {
			return c.op("gather", ir.Attrs{"axis": 1}, c.in(2, 5, 3), c.ints(ir.Shape{2, 2}, 1, -1, 1, 0))
		}},
		{"gather_select", func(c *fdBuild) *ir.Value {
			return c.op("gather", ir.Attrs{"axis": 0}, c.in(3, 2, 4), c.ints(ir.Shape{}, -1))
		}},
		{"gather_elements", func(c *fdBuild) *ir.Value {
			return c.op("gather_elements", ir.Attrs{"axis": 1}, c.in(2, 3), c.ints(ir.Shape{2, 4}, 0, 2, 2, -1, 1, 1, 0, 0))
		}},
		{"gather_nd", func(c *fdBuild) *ir.Value {
			return c.op("gather_nd", nil, c.in(3, 2, 2), c.ints(ir.Shape{3, 2}, 0, 1, 2, 0, 0, 1))
		}},
		{"gather_nd_batch", func(c *fdBuild) *ir.Value {
			return c.op("gather_nd", ir.Attrs{"batch_dims": 1}, c.in(2, 3, 4), c.ints(ir.Shape{2, 2, 1}, 2, 0, 1, 1))
		}},
		{"matmul_1d", func(c *fdBuild) *ir.Value {
			v, m := c.in(4), c.param(2, 4, 3)
			a := c.op("matmul", nil, v, m)          // [2, 3]
			b := c.op("matmul", nil, m, c.param(3)) // [2, 4]
			d := c.op("matmul", nil, v, c.param(4)) // []
			s := c.op("add", nil, c.op("reduce_sum", ir.Attrs{"axes": []int{1}}, a), c.op("reduce_sum", ir.Attrs{"axes": []int{1}}, b))
			return c.op("mul", nil, s, d)
		}},
		{"scatter_elements", func(c *fdBuild) *ir.Value {
			x, u := c.in(3, 3), c.param(2, 3)
			idx := c.ints(ir.Shape{2, 3}, 1, 0, 2, 0, 2, 1)
			a := c.op("scatter_elements", ir.Attrs{"axis": 0}, x, idx, u)
			b := c.op("scatter_elements", ir.Attrs{"axis": 0, "reduction": "add"}, x, c.ints(ir.Shape{2, 3}, 1, 1, 2, 1, 2, 2), u)
			return c.op("add", nil, a, c.op("mul", nil, b, b))
		}},
		{"scatter_extrema", func(c *fdBuild) *ir.Value {
			x, u := c.in(3, 3), c.param(4, 3)
			idx := c.ints(ir.Shape{4, 3}, 1, 0, 2, 0, 2, 1, 1, 1, 2, 0, 0, 0)
			a := c.op("scatter_elements", ir.Attrs{"axis": 0, "reduction": "max"}, x, idx, u)
			b := c.op("scatter_nd", ir.Attrs{"reduction": "min"}, x, c.ints(ir.Shape{2, 1}, 2, 2), c.param(2, 3))
			return c.op("add", nil, a, c.op("mul", nil, b, b))
		}},
		{"scatter_nd", func(c *fdBuild) *ir.Value {
			x, u := c.in(4, 3), c.param(2, 3)
			a := c.op("scatter_nd", nil, x, c.ints(ir.Shape{2, 1}, 3, 1), u)
			b := c.op("scatter_nd", ir.Attrs{"reduction": "add"}, x, c.ints(ir.Shape{2, 1}, 1, 1), u)
			return c.op("add", nil, a, c.op("mul", nil, b, b))
		}},
		{"topk", func(c *fdBuild) *ir.Value { return c.op("topk", ir.Attrs{"k": 2, "axis": 1}, c.in(2, 5, 3)) }},
		{"expand", func(c *fdBuild) *ir.Value { return c.op("expand", ir.Attrs{"shape": []int{2, 1, 3, 4}}, c.in(3, 1)) }},
		{"cast", func(c *fdBuild) *ir.Value {
			d := c.op("cast", ir.Attrs{"to": "f64"}, c.in(2, 3))
			return c.op("cast", ir.Attrs{"to": c.dt.String()}, c.op("mul", nil, d, d))
		}},
		{"where", func(c *fdBuild) *ir.Value {
			cond := ir.NewTensor(ir.Bool, ir.Shape{2, 1, 3})
			copy(cond.Bools(), []bool{true, false, true, false, false, true})
			cv := c.g.AddParam("cond", ir.Const, cond.Type(), cond, "", ir.Pos{})
			return c.op("where", nil, cv, c.in(2, 4, 3), c.param(4, 1))
		}},
		un("trilu", ir.Attrs{"upper": true, "k": -1}, 2, 3, 4),
		un("pad", ir.Attrs{"pads": []int{0, 2, -1, 1, -1, 2}}, 2, 3, 4),
		un("pad", ir.Attrs{"pads": []int{0, 2, 3, 0, 1, 2}, "mode": "reflect"}, 2, 3, 4),
		un("pad", ir.Attrs{"pads": []int{1, 0, 3, 0, 1, 2}, "mode": "edge"}, 2, 3, 4),
		un("pad", ir.Attrs{"pads": []int{0, 1, 5, 1, 0, 2}, "mode": "wrap"}, 2, 3, 4),
		un("cumsum", ir.Attrs{"axis": 1}, 2, 4, 3),
		un("cumsum", ir.Attrs{"axis": -1, "exclusive": true, "reverse": true}, 2, 4, 3),
		un("cumprod", ir.Attrs{"axis": 1}, 2, 4, 3),
		un("cumprod", ir.Attrs{"axis": 0, "exclusive": true, "reverse": true}, 3, 2),
		un("reduce_sum_square", ir.Attrs{"axes": []int{1}}, 2, 3, 4),
		un("reduce_l1", ir.Attrs{"axes": []int{0, 2}, "keepdims": true}, 2, 3, 4),
		un("reduce_l2", ir.Attrs{"axes": []int{2}}, 2, 3, 4),
		un("reduce_log_sum_exp", ir.Attrs{"axes": []int{1}}, 2, 3, 4),
		un("reduce_max", ir.Attrs{"axes": []int{1}}, 2, 3, 4),
		un("reduce_min", ir.Attrs{"axes": []int{0, 2}}, 2, 3, 4),
		un("reduce_prod", ir.Attrs{"axes": []int{0, 2}}, 2, 3, 2),
		{"reduce_log_sum", func(c *fdBuild) *ir.Value {
			x := c.in(2, 3, 4)
			return c.op("reduce_log_sum", ir.Attrs{"axes": []int{2}}, c.op("add", nil, c.op("mul", nil, x, x), c.param()))
		}},
		{"fmod_remainder", func(c *fdBuild) *ir.Value {
			// a in [-3, 3], b in [1.5, 2.5]: kinks only where a = ±b
			a := c.op("mul", nil, c.in(2, 3), c.fixed(3))
			b := c.op("add", nil, c.op("mul", nil, c.param(3), c.fixed(0.5)), c.fixed(2))
			return c.op("add", nil, c.op("fmod", nil, a, b), c.op("mul", nil, c.op("remainder", nil, a, b), c.param()))
		}},
		{"one_hot", func(c *fdBuild) *ir.Value {
			return c.op("one_hot", ir.Attrs{"depth": 4, "axis": 1}, c.ints(ir.Shape{2, 3}, 0, 3, 1, 1, -1, 2), c.param(2))
		}},
		{"hardmax", func(c *fdBuild) *ir.Value {
			x := c.in(2, 3)
			return c.op("add", nil, x, c.op("hardmax", nil, x))
		}},
		{"layernorm", func(c *fdBuild) *ir.Value {
			n := c.node("layernorm", ir.Attrs{"axis": 1, "stats": true}, c.in(2, 3, 4), c.param(3, 4), c.param(3, 4))
			return c.op("add", nil, c.op("add", nil, n.Outputs[0], n.Outputs[1]), n.Outputs[2])
		}},
		{"rmsnorm", func(c *fdBuild) *ir.Value { return c.op("rmsnorm", nil, c.in(2, 3, 4), c.param(4)) }},
		{"groupnorm", func(c *fdBuild) *ir.Value {
			return c.op("groupnorm", ir.Attrs{"num_groups": 2}, c.in(2, 4, 3), c.param(4), c.param(4))
		}},
		un("lrn", ir.Attrs{"size": 3, "alpha": 0.5, "beta": 0.75, "bias": 1.5}, 2, 5, 3),
		{"nll_loss_mean", func(c *fdBuild) *ir.Value {
			w := c.op("add", nil, c.op("mul", nil, c.param(4), c.param(4)), c.param())
			return c.op("nll_loss", ir.Attrs{"ignore_index": 1}, c.in(3, 4, 2), c.ints(ir.Shape{3, 2}, 0, 1, 3, 2, 1, 3), w)
		}},
		{"nll_loss_none", func(c *fdBuild) *ir.Value {
			return c.op("nll_loss", ir.Attrs{"reduction": "none"}, c.in(3, 4), c.ints(ir.Shape{3}, 2, -100, 0))
		}},
		{"nll_loss_sum", func(c *fdBuild) *ir.Value {
			return c.op("nll_loss", ir.Attrs{"reduction": "sum"}, c.in(3, 4), c.ints(ir.Shape{3}, 2, 3, 2))
		}},
		{"conv_transpose", func(c *fdBuild) *ir.Value {
			return c.op("conv_transpose", ir.Attrs{"strides": []int{2, 1}, "pads": []int{1, 0, 0, 1}, "dilations": []int{1, 2}, "output_padding": []int{1, 0}},
				c.in(2, 3, 3, 4), c.param(3, 2, 3, 2), c.param(2))
		}},
		{"conv_transpose_outpad", func(c *fdBuild) *ir.Value {
			// output_padding 2 ≥ stride 1, allowed below the dilation 3
			return c.op("conv_transpose", ir.Attrs{"dilations": []int{3}, "output_padding": []int{2}}, c.in(2, 2, 4), c.param(2, 3, 2))
		}},
		{"conv_transpose_groups", func(c *fdBuild) *ir.Value {
			return c.op("conv_transpose", ir.Attrs{"strides": []int{2}, "groups": 2}, c.in(1, 4, 5), c.param(4, 3, 3))
		}},
		un("resize", ir.Attrs{"sizes": []int{1, 2, 6, 3}, "mode": "nearest"}, 1, 2, 3, 5),
		un("resize", ir.Attrs{"sizes": []int{2, 2, 5, 7}, "mode": "linear", "coordinate_transformation_mode": "align_corners"}, 2, 2, 3, 4),
		un("resize", ir.Attrs{"sizes": []int{1, 2, 4, 3}, "mode": "cubic", "antialias": true}, 1, 2, 6, 5),
		un("resize", ir.Attrs{"sizes": []int{1, 1, 5}, "mode": "linear", "coordinate_transformation_mode": "tf_crop_and_resize",
			"roi": []float64{0, 0, 0.2, 1, 1, 1.1}, "extrapolation_value": 3.0}, 1, 1, 4),
		un("adaptive_avgpool", ir.Attrs{"output_size": []int{3, 2}}, 2, 2, 5, 5),
		rnn("rnn_tanh", "rnn", ir.Attrs{}, 4, 2, 3, 5, 1, false),
		rnn("rnn_relu_bidi", "rnn", ir.Attrs{"nonlinearity": "relu", "bidirectional": true}, 3, 2, 3, 4, 2, true),
		rnn("lstm", "lstm", ir.Attrs{}, 4, 2, 3, 5, 1, false),
		rnn("lstm_stacked_bidi_bf", "lstm", ir.Attrs{"bidirectional": true, "batch_first": true}, 3, 2, 3, 4, 2, true),
		rnn("lstm_peep_nobias", "lstm", ir.Attrs{"peepholes": true, "bias": false}, 3, 2, 2, 3, 1, true),
		rnn("lstm_peep", "lstm", ir.Attrs{"peepholes": true}, 3, 1, 2, 3, 1, false),
		rnn("gru", "gru", ir.Attrs{}, 4, 2, 3, 4, 1, true),
		rnn("gru_onnx_bidi_stacked", "gru", ir.Attrs{"linear_before_reset": false, "bidirectional": true, "num_layers": 2}, 3, 2, 3, 4, 2, false),
		rnn("gru_onnx_nobias", "gru", ir.Attrs{"linear_before_reset": false, "bias": false}, 3, 2, 3, 4, 1, true),
		{"batchnorm_train", func(c *fdBuild) *ir.Value {
			// training mode: the batch's statistics, so the gradient
			// flows through them (TrainMode's rewrite)
			y := c.op("batchnorm", nil, c.in(3, 2, 2, 2), c.param(2), c.param(2), c.param(2), c.param(2)) // running stats unused
			c.g.AddOutput("y", y)
			if _, err := TrainMode(c.g); err != nil {
				panic(err)
			}
			return c.g.Outputs[0]
		}},
	}
}

// fixed adds a scalar constant of the case's dtype.
func (c *fdBuild) fixed(v float64) *ir.Value {
	c.k++
	t := ir.NewTensor(c.dt, ir.Shape{})
	t.SetFloat(0, v)
	return c.g.AddParam("c"+itoa(c.k), ir.Const, t.Type(), t, "", ir.Pos{})
}

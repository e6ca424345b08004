package ir

import "fmt"

// Recurrent layers with PyTorch's conventions: gates i,f,g,o for LSTM and
// r,z,n for GRU, weights per layer and direction in state_dict order.
//
// Inputs: x, h0 (optional), c0 (LSTM only, optional), then for each layer
// and each direction (forward, then reverse): w_ih [G*H, in], w_hh [G*H, H],
// and, when bias is true, b_ih [G*H] and b_hh [G*H]; G is 1, 4 or 3.
// An lstm with peepholes=true (an extension beyond PyTorch, for ONNX's
// LSTM input P) adds after those, per layer and direction, p [3*H]: the
// peephole weights of gates i, f and o in that order (dlc's gate order,
// not ONNX's i, o, f), so that
//
//	i = σ(W_ii x + W_hi h + b_i + p_i ⊙ c),  f = σ(... + p_f ⊙ c),
//	o = σ(W_io x + W_ho h + b_o + p_o ⊙ c')
//
// with c the previous and c' the new cell state.
// Outputs: y (the top layer's outputs at every step, both directions
// concatenated), h (the last hidden state of every layer and direction,
// [layers*dirs, N, H]) and, for LSTM, c.

// RNNGates is the number of gate blocks in an op's weights.
func RNNGates(op string) int {
	switch op {
	case "lstm":
		return 4
	case "gru":
		return 3
	}
	return 1
}

// RNNStates is the number of state inputs (h0, and c0 for LSTM).
func RNNStates(op string) int {
	if op == "lstm" {
		return 2
	}
	return 1
}

// RNNWeightsPer is the number of weight tensors per layer and direction.
func RNNWeightsPer(n *Node) int {
	k := 2
	if n.Attrs.Bool("bias") {
		k = 4
	}
	if RNNPeepholes(n) {
		k++
	}
	return k
}

// RNNPeepholes reports whether an lstm node has peephole weights.
func RNNPeepholes(n *Node) bool {
	return n.Op == "lstm" && n.Attrs.Bool("peepholes")
}

// RNNDirs is 2 for a bidirectional layer, else 1.
func RNNDirs(n *Node) int {
	if n.Attrs.Bool("bidirectional") {
		return 2
	}
	return 1
}

func recurrent(name, doc string) *OpDef {
	inputs := []InputDef{{Name: "x", DTypes: F32F64}, {Name: "h0", Optional: true, DTypes: F32F64}}
	outputs := []string{"y", "h"}
	if name == "lstm" {
		inputs = append(inputs, InputDef{Name: "c0", Optional: true, DTypes: F32F64})
		outputs = append(outputs, "c")
	}
	inputs = append(inputs, InputDef{Name: "weights", Variadic: true, Param: true, DTypes: F32F64})
	attrs := []AttrDef{
		{Name: "hidden_size", Kind: AttrInt, Doc: "features of the hidden state"},
		{Name: "num_layers", Kind: AttrInt, Default: 1, Doc: "stacked layers"},
		{Name: "bidirectional", Kind: AttrBool, Default: false, Doc: "also run each layer backwards and concatenate"},
		{Name: "batch_first", Kind: AttrBool, Default: false, Doc: "x and y are [N, T, F] instead of [T, N, F]"},
		{Name: "bias", Kind: AttrBool, Default: true, Doc: "b_ih and b_hh are present"},
	}
	switch name {
	case "rnn":
		attrs = append(attrs, AttrDef{Name: "nonlinearity", Kind: AttrString, Default: "tanh", Enum: []string{"tanh", "relu"}, Doc: "tanh or relu"})
	case "lstm":
		attrs = append(attrs, AttrDef{Name: "peepholes", Kind: AttrBool, Default: false, Optional: true,
			Doc: "a peephole weight p [3*hidden_size] (gates i, f, o) follows the biases of each layer and direction (ONNX's P; not in PyTorch)"})
	case "gru":
		attrs = append(attrs, AttrDef{Name: "linear_before_reset", Kind: AttrBool, Default: true,
			Doc: "apply the reset gate after the hidden matmul (PyTorch's GRU; false is ONNX's default form)"})
	}
	g := RNNGates(name)
	ns := RNNStates(name)
	return &OpDef{
		Name: name, Doc: doc, Class: Opaque, Pure: Pure, Stream: StreamRecurrent,
		Grad:   &Grad{},
		Inputs: inputs, Outputs: outputs, Attrs: attrs,
		Check: func(n *Node) error {
			if n.Attrs.Int("hidden_size") < 1 || n.Attrs.Int("num_layers") < 1 {
				return shapeErr("%s: hidden_size and num_layers must be positive", name)
			}
			want := 1 + ns + n.Attrs.Int("num_layers")*RNNDirs(n)*RNNWeightsPer(n)
			if len(n.Inputs) != want {
				peep := ""
				if RNNPeepholes(n) {
					peep = " and peepholes"
				}
				return shapeErr("%s with %d layers, %d directions%s and bias=%v takes %d inputs (x, %d states, weights), got %d",
					name, n.Attrs.Int("num_layers"), RNNDirs(n), peep, n.Attrs.Bool("bias"), want, ns, len(n.Inputs))
			}
			for i := 1 + ns; i < len(n.Inputs); i++ {
				if n.Inputs[i] == nil {
					return shapeErr("%s: weight %d is missing", name, i-1-ns)
				}
			}
			return nil
		},
		Infer: func(n *Node) ([]TensorType, error) {
			x := in(n, 0)
			if len(x.Shape) != 3 {
				return nil, shapeErr("%s wants input of rank 3, got %s %v", name, n.Inputs[0].Name, x)
			}
			h := n.Attrs.Int("hidden_size")
			L, D := n.Attrs.Int("num_layers"), RNNDirs(n)
			t, b, f := x.Shape[0], x.Shape[1], x.Shape[2]
			if n.Attrs.Bool("batch_first") {
				t, b = b, t
			}
			state := TensorType{x.DType, Shape{L * D, b, h}}
			for i := 1; i <= ns; i++ {
				if has(n, i) && !in(n, i).Equal(state) {
					return nil, shapeErr("%s initial state %s must be %v, got %v", name, n.Inputs[i].Name, state, in(n, i))
				}
			}
			k := 1 + ns
			for l := 0; l < L; l++ {
				inSize := f
				if l > 0 {
					inSize = h * D
				}
				for d := 0; d < D; d++ {
					want := []Shape{{g * h, inSize}, {g * h, h}}
					names := []string{"w_ih", "w_hh"}
					if n.Attrs.Bool("bias") {
						want = append(want, Shape{g * h}, Shape{g * h})
						names = append(names, "b_ih", "b_hh")
					}
					if RNNPeepholes(n) {
						want = append(want, Shape{3 * h})
						names = append(names, "p")
					}
					for j := range want {
						v := n.Inputs[k]
						if v.Type.DType != x.DType || !v.Type.Shape.Equal(want[j]) {
							return nil, shapeErr("%s layer %d %s: %s %s must be %v%v, got %v", name, l, dirName(d), names[j], v.Name, x.DType, want[j], v.Type)
						}
						k++
					}
				}
			}
			y := Shape{t, b, D * h}
			if n.Attrs.Bool("batch_first") {
				y = Shape{b, t, D * h}
			}
			out := []TensorType{{x.DType, y}, state}
			if name == "lstm" {
				out = append(out, TensorType{x.DType, state.Shape.Clone()})
			}
			return out, nil
		},
	}
}

func dirName(d int) string {
	if d == 1 {
		return "reverse"
	}
	return "forward"
}

// RNNParamNames returns PyTorch's state_dict suffixes for the weights of a
// recurrent node, in input order: weight_ih_l0, weight_hh_l0, bias_ih_l0,
// bias_hh_l0, weight_ih_l0_reverse, ... With peepholes (lstm only, not a
// PyTorch parameter) weight_peephole_l0 follows each bias_hh.
func RNNParamNames(layers int, bidirectional, bias, peepholes bool) []string {
	var names []string
	for l := 0; l < layers; l++ {
		for d := 0; d < 2; d++ {
			if d == 1 && !bidirectional {
				break
			}
			suf := fmt.Sprintf("_l%d", l)
			if d == 1 {
				suf += "_reverse"
			}
			names = append(names, "weight_ih"+suf, "weight_hh"+suf)
			if bias {
				names = append(names, "bias_ih"+suf, "bias_hh"+suf)
			}
			if peepholes {
				names = append(names, "weight_peephole"+suf)
			}
		}
	}
	return names
}

func init() {
	Register(recurrent("rnn", "Elman RNN: h' = act(W_ih x + b_ih + W_hh h + b_hh) (torch.nn.RNN)"))
	Register(recurrent("lstm", "LSTM with gates i, f, g, o (torch.nn.LSTM), optionally with peepholes (ONNX LSTM)"))
	Register(recurrent("gru", "GRU with gates r, z, n (torch.nn.GRU)"))
}

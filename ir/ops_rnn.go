package ir

import "fmt"

// Recurrent layers with PyTorch's conventions: gates i,f,g,o for LSTM and
// r,z,n for GRU, weights per layer and direction in state_dict order.
//
// Inputs: x, h0 (optional), c0 (LSTM only, optional), then for each layer
// and each direction (forward, then reverse): w_ih [G*H, in], w_hh [G*H, H],
// and, when bias is true, b_ih [G*H] and b_hh [G*H]; G is 1, 4 or 3.
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
	if n.Attrs.Bool("bias") {
		return 4
	}
	return 2
}

// RNNDirs is 2 for a bidirectional layer, else 1.
func RNNDirs(n *Node) int {
	if n.Attrs.Bool("bidirectional") {
		return 2
	}
	return 1
}

func recurrent(name, doc string) *OpDef {
	inputs := []InputDef{{Name: "x"}, {Name: "h0", Optional: true}}
	outputs := []string{"y", "h"}
	if name == "lstm" {
		inputs = append(inputs, InputDef{Name: "c0", Optional: true})
		outputs = append(outputs, "c")
	}
	inputs = append(inputs, InputDef{Name: "weights", Variadic: true, Param: true})
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
	case "gru":
		attrs = append(attrs, AttrDef{Name: "linear_before_reset", Kind: AttrBool, Default: true,
			Doc: "apply the reset gate after the hidden matmul (PyTorch's GRU; false is ONNX's default form)"})
	}
	g := RNNGates(name)
	ns := RNNStates(name)
	return &OpDef{
		Name: name, Doc: doc, Class: Opaque, Differentiable: true,
		Inputs: inputs, Outputs: outputs, Attrs: attrs,
		Check: func(n *Node) error {
			if n.Attrs.Int("hidden_size") < 1 || n.Attrs.Int("num_layers") < 1 {
				return shapeErr("%s: hidden_size and num_layers must be positive", name)
			}
			want := 1 + ns + n.Attrs.Int("num_layers")*RNNDirs(n)*RNNWeightsPer(n)
			if len(n.Inputs) != want {
				return shapeErr("%s with %d layers, %d directions and bias=%v takes %d inputs (x, %d states, weights), got %d",
					name, n.Attrs.Int("num_layers"), RNNDirs(n), n.Attrs.Bool("bias"), want, ns, len(n.Inputs))
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
			if x.DType != F32 || len(x.Shape) != 3 {
				return nil, shapeErr("%s wants f32 input of rank 3, got %s %v", name, n.Inputs[0].Name, x)
			}
			h := n.Attrs.Int("hidden_size")
			L, D := n.Attrs.Int("num_layers"), RNNDirs(n)
			t, b, f := x.Shape[0], x.Shape[1], x.Shape[2]
			if n.Attrs.Bool("batch_first") {
				t, b = b, t
			}
			state := TensorType{F32, Shape{L * D, b, h}}
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
					want := []Shape{{g * h, inSize}, {g * h, h}, {g * h}, {g * h}}
					for j := 0; j < RNNWeightsPer(n); j++ {
						v := n.Inputs[k]
						if v.Type.DType != F32 || !v.Type.Shape.Equal(want[j]) {
							return nil, shapeErr("%s layer %d %s: %s %s must be f32%v, got %v", name, l, dirName(d), rnnWeightName(j), v.Name, want[j], v.Type)
						}
						k++
					}
				}
			}
			y := Shape{t, b, D * h}
			if n.Attrs.Bool("batch_first") {
				y = Shape{b, t, D * h}
			}
			out := []TensorType{{F32, y}, state}
			if name == "lstm" {
				out = append(out, TensorType{F32, state.Shape.Clone()})
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

func rnnWeightName(j int) string { return [...]string{"w_ih", "w_hh", "b_ih", "b_hh"}[j] }

// RNNParamNames returns PyTorch's state_dict suffixes for the weights of a
// recurrent node, in input order: weight_ih_l0, weight_hh_l0, bias_ih_l0,
// bias_hh_l0, weight_ih_l0_reverse, ...
func RNNParamNames(layers int, bidirectional, bias bool) []string {
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
		}
	}
	return names
}

func init() {
	Register(recurrent("rnn", "Elman RNN: h' = act(W_ih x + b_ih + W_hh h + b_hh) (torch.nn.RNN)"))
	Register(recurrent("lstm", "LSTM with gates i, f, g, o (torch.nn.LSTM)"))
	Register(recurrent("gru", "GRU with gates r, z, n (torch.nn.GRU)"))
}

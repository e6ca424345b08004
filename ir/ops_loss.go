package ir

// Losses: nll_loss (torch.nn.functional.nll_loss, ONNX
// NegativeLogLikelihoodLoss). ONNX SoftmaxCrossEntropyLoss is log_softmax
// over axis 1 followed by nll_loss (frontend/onnx/ops_loss.go).

// LossReductions are nll_loss's reduction attribute values.
var LossReductions = []string{"none", "sum", "mean"}

func init() {
	Register(&OpDef{
		Name: "nll_loss", Doc: "-x[n, target[n, d...], d...] · weight[target] per element, then none, sum, or mean (divided by the summed weights of the elements not ignored); targets equal to ignore_index count 0 with weight 0, other targets outside [0, C) fail (torch.nn.functional.nll_loss, ONNX NegativeLogLikelihoodLoss)",
		Class: Reduce, Grad: &Grad{}, Pure: Pure, Stream: StreamWhole,
		Inputs: []InputDef{{Name: "x", DTypes: F32F64}, {Name: "target", DTypes: Indices},
			{Name: "weight", Optional: true, Param: true, DTypes: F32F64}},
		Outputs: []string{"loss"},
		Attrs: []AttrDef{{Name: "reduction", Kind: AttrString, Default: "mean", Enum: LossReductions, Doc: "none (one loss per target), sum or mean"},
			{Name: "ignore_index", Kind: AttrInt, Default: -100, Doc: "targets of this value add nothing (torch's default -100)"}},
		Infer: func(n *Node) ([]TensorType, error) {
			x, t := in(n, 0).Shape, in(n, 1).Shape
			if len(x) < 2 {
				return nil, shapeErr("nll_loss: x %s %v must be [N, C, d...]", n.Inputs[0].Name, x)
			}
			want := append(Shape{x[0]}, x[2:]...)
			if !t.Equal(want) {
				return nil, shapeErr("nll_loss: target %s %v must be %v (x %v without its class axis 1)", n.Inputs[1].Name, t, want, x)
			}
			if has(n, 2) {
				if w := in(n, 2).Shape; len(w) != 1 || w[0] != x[1] {
					return nil, shapeErr("nll_loss: weight %s %v must be [%d] (the classes of x %v)", n.Inputs[2].Name, w, x[1], x)
				}
			}
			if err := sameFloat(n, 2); err != nil {
				return nil, err
			}
			dt := in(n, 0).DType
			if n.Attrs.String("reduction") == "none" {
				return []TensorType{{dt, want}}, nil
			}
			return []TensorType{{dt, Shape{}}}, nil
		},
	})
}

package ir

func init() {
	Register(&OpDef{
		Name: "cast", Doc: "converts x to dtype `to`: floats round to nearest even, floats to integers truncate toward zero (NaN to 0, out of range saturates), integers wrap to the width, nonzero is true (ONNX Cast, numpy astype)",
		Class: Injective, Pure: Pure, Stream: StreamPointwise,
		Grad:    &Grad{},
		Inputs:  []InputDef{{Name: "x", DTypes: AllDTypes}},
		Outputs: []string{"y"},
		Attrs: []AttrDef{{Name: "to", Kind: AttrString, Enum: dtypeNames(), Doc: "the dtype of the result"},
			{Name: "no_saturate", Kind: AttrBool, Default: false, Optional: true, Doc: "float8 results beyond the largest finite value become NaN or Inf, not ±max (ONNX saturate=0)"},
			{Name: "round", Kind: AttrString, Default: "", Optional: true, Enum: E8M0Modes, Doc: "f8e8m0 results round up (default), down or to nearest (ONNX round_mode)"}},
		Infer: func(n *Node) ([]TensorType, error) {
			to, _ := ParseDType(n.Attrs.String("to"))
			return []TensorType{{to, in(n, 0).Shape.Clone()}}, nil
		},
	})
}

// dtypeNames lists the .dl spellings of every dtype.
func dtypeNames() []string {
	var s []string
	for _, dt := range DTypes() {
		s = append(s, dt.String())
	}
	return s
}

package onnx

// Element-wise math ops (ir/ops_math.go): each ONNX op is the ir op of
// the same meaning, one input and no attributes.
func init() {
	for onnxName, op := range map[string]string{
		"Sqrt": "sqrt", "Exp": "exp", "Log": "log", "Abs": "abs", "Neg": "neg", "Reciprocal": "reciprocal",
		"Floor": "floor", "Ceil": "ceil", "Round": "round", "Sign": "sign", "Erf": "erf",
		"Sin": "sin", "Cos": "cos", "Tan": "tan", "Asin": "asin", "Acos": "acos", "Atan": "atan",
		"Sinh": "sinh", "Cosh": "cosh", "Asinh": "asinh", "Acosh": "acosh", "Atanh": "atanh",
	} {
		opTable[onnxName] = opConv{1, nil, unaryOp(op)}
	}
}

// Package dl is the frontend for .dl files, dlc's model description
// language: a lexer, a recursive-descent parser and a lowering to
// *ir.Graph that binds parameters to a safetensors file by PyTorch
// state_dict names.
//
// The language is described in docs/language.md. In short:
//
//	model lenet5
//	const batch = 1
//	input x: f32[batch, 1, 28, 28]
//	weights "lenet5.safetensors"
//	logits = x | conv1: conv2d(6, 5, padding=2) | relu | maxpool2d(2) | flatten | fc: dense(10)
//	output logits
//
// Errors are reported as an *ErrorList, each with a file:line:col
// position, a message and the source line with a caret. The frontend never
// panics on its input and bounds the work any input can cause (nesting,
// tensor sizes, repeat counts, layer counts).
package dl

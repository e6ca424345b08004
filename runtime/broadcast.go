package runtime

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// Binary arithmetic with numpy broadcasting, on f32 or i64 operands of the
// same dtype, for every op with an ir.Binary form (registered in
// elementwise.go). Integer division truncates toward zero (C, Go and ONNX
// semantics; torch.div(..., rounding_mode="trunc")), and an integer
// division by zero is an error (see ir/ops_elementwise.go).

// binaryKernel makes a broadcasting kernel from the op's declarative
// form: its float function (in float64, rounded once: exact for + - * /)
// and its integer function.
func binaryKernel(op *ir.Binary) Kernel {
	f, g := op.Float, op.Int
	return func(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
		a, b := in[0], in[1]
		if a.DType != b.DType {
			return nil, fmt.Errorf("operands have different dtypes %v and %v", a.DType, b.DType)
		}
		shape, err := ir.BroadcastShapes(a.Shape, b.Shape)
		if err != nil {
			return nil, err
		}
		ia, ib := broadcastIndex(shape, a.Shape), broadcastIndex(shape, b.Shape)
		y := ir.NewTensor(a.DType, shape)
		switch a.DType {
		case ir.F32:
			ya, xa, xb := y.F32(), a.F32(), b.F32()
			for i := range ya {
				ya[i] = float32(f(float64(xa[ia[i]]), float64(xb[ib[i]])))
			}
		case ir.I64:
			for i := range y.I64() {
				v, err := g(a.I64()[ia[i]], b.I64()[ib[i]])
				if err != nil {
					return nil, fmt.Errorf("element %d: %w", i, err)
				}
				y.I64()[i] = v
			}
		default:
			return nil, fmt.Errorf("unsupported dtype %v", a.DType)
		}
		return one(y)
	}
}

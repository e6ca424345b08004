package runtime

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// Binary arithmetic with numpy broadcasting, on f32 or i64 operands of the
// same dtype. Integer division truncates toward zero (C, Go and ONNX
// semantics; torch.div(..., rounding_mode="trunc")), and an integer
// division by zero is an error.

func init() {
	register("add", binaryKernel(
		func(a, b float32) float32 { return a + b },
		func(a, b int64) (int64, error) { return a + b, nil }))
	register("sub", binaryKernel(
		func(a, b float32) float32 { return a - b },
		func(a, b int64) (int64, error) { return a - b, nil }))
	register("mul", binaryKernel(
		func(a, b float32) float32 { return a * b },
		func(a, b int64) (int64, error) { return a * b, nil }))
	register("div", binaryKernel(
		func(a, b float32) float32 { return a / b },
		func(a, b int64) (int64, error) {
			if b == 0 {
				return 0, fmt.Errorf("integer division by zero (%d / 0)", a)
			}
			return a / b, nil // MinInt64 / -1 wraps to MinInt64 in Go: no panic
		}))
}

// binaryKernel makes a broadcasting kernel from an f32 and an i64 function.
func binaryKernel(f func(a, b float32) float32, g func(a, b int64) (int64, error)) Kernel {
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
			for i := range y.F32() {
				y.F32()[i] = f(a.F32()[ia[i]], b.F32()[ib[i]])
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

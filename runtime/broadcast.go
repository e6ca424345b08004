package runtime

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// Binary arithmetic with numpy broadcasting, on operands of one dtype
// (ir.BinaryDTypes), for every op with an ir.Binary form (registered in
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
		case ir.U64:
			if op.Uint == nil {
				return nil, fmt.Errorf("%s on u64 is not supported", n.Op)
			}
			ya, xa, xb := ir.Elems[uint64](y), ir.Elems[uint64](a), ir.Elems[uint64](b)
			for i := range ya {
				v, err := op.Uint(xa[ia[i]], xb[ib[i]])
				if err != nil {
					return nil, fmt.Errorf("element %d: %w", i, err)
				}
				ya[i] = v
			}
		default:
			// Other dtypes through the float64 or int64 reference
			// function, converted to the dtype: floats round once,
			// integers wrap to their width, as fixed-width arithmetic
			// does.
			for i := range y.Len() {
				if a.DType.IsFloat() {
					y.SetFloat(i, f(a.Float(ia[i]), b.Float(ib[i])))
					continue
				}
				v, err := g(a.Int(ia[i]), b.Int(ib[i]))
				if err != nil {
					return nil, fmt.Errorf("element %d: %w", i, err)
				}
				y.SetInt(i, v)
			}
		}
		return one(y)
	}
}

package ir

func init() {
	Register(&OpDef{
		Name: "dense", Doc: "y = x·Wᵀ + b over the last axis (torch.nn.Linear); weight [out, in]",
		Class: OutEwiseFusable, Grad: &Grad{}, Pure: Pure, Stream: StreamLinear,
		Inputs:  []InputDef{{Name: "x", DTypes: layerFloats}, {Name: "weight", Param: true, DTypes: layerFloats}, {Name: "bias", Optional: true, Param: true, DTypes: layerFloats}},
		Outputs: []string{"y"},
		Infer: func(n *Node) ([]TensorType, error) {
			x, w := in(n, 0), in(n, 1)
			if err := oneLayerDType(n); err != nil {
				return nil, err
			}
			if len(x.Shape) < 1 {
				return nil, shapeErr("dense needs an input of rank >= 1, got %v", x.Shape)
			}
			if len(w.Shape) != 2 {
				return nil, shapeErr("weight %s must be [out, in], got %v", n.Inputs[1].Name, w.Shape)
			}
			k := x.Shape[len(x.Shape)-1]
			if w.Shape[1] != k {
				return nil, shapeErr("want %d inputs, got %d from %s %v", w.Shape[1], k, n.Inputs[0].Name, x.Shape)
			}
			if has(n, 2) {
				if b := in(n, 2); len(b.Shape) != 1 || b.Shape[0] != w.Shape[0] {
					return nil, shapeErr("bias %s must be [%d], got %v", n.Inputs[2].Name, w.Shape[0], b.Shape)
				}
			}
			out := x.Shape.Clone()
			out[len(out)-1] = w.Shape[0]
			return []TensorType{{x.DType, out}}, nil
		},
	})
	Register(&OpDef{
		Name: "matmul", Doc: "numpy matmul: batched matrix product with broadcast batch dimensions",
		Class: OutEwiseFusable, Grad: &Grad{}, Pure: Pure, Stream: StreamMatmul,
		Inputs:  []InputDef{{Name: "a", DTypes: SetOf(F32, F64)}, {Name: "b", DTypes: SetOf(F32, F64)}},
		Outputs: []string{"y"},
		Infer: func(n *Node) ([]TensorType, error) {
			a, b := in(n, 0), in(n, 1)
			if a.DType != b.DType {
				return nil, shapeErr("matmul operands have different dtypes: %v and %v", a, b)
			}
			s, err := MatMulShape(a.Shape, b.Shape)
			if err != nil {
				return nil, err
			}
			return []TensorType{{a.DType, s}}, nil
		},
	})
}

// MatMulShape is numpy's matmul shape rule.
func MatMulShape(a, b Shape) (Shape, error) {
	if len(a) == 0 || len(b) == 0 {
		return nil, shapeErr("matmul operands must have rank >= 1, got %v and %v", a, b)
	}
	aa, bb := a.Clone(), b.Clone()
	if len(aa) == 1 {
		aa = Shape{1, aa[0]}
	}
	if len(bb) == 1 {
		bb = Shape{bb[0], 1}
	}
	m, k := aa[len(aa)-2], aa[len(aa)-1]
	k2, nn := bb[len(bb)-2], bb[len(bb)-1]
	if k != k2 {
		return nil, shapeErr("matmul %v × %v: inner dimensions %d and %d differ", a, b, k, k2)
	}
	batch, err := BroadcastShapes(aa[:len(aa)-2], bb[:len(bb)-2])
	if err != nil {
		return nil, shapeErr("matmul %v × %v: batch dimensions: %v", a, b, err)
	}
	out := append(batch, m, nn)
	if len(a) == 1 {
		out = append(out[:len(out)-2], out[len(out)-1])
	}
	if len(b) == 1 {
		out = out[:len(out)-1]
	}
	return out, nil
}

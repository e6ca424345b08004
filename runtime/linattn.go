package runtime

import (
	"math"

	"github.com/dlcompiler/dlc/ir"
)

// linear_attention (ir/ops_linattn.go): the state kept in float32 as
// ONNX's reference keeps it, each update and dot product computed in
// float64 and rounded once; generated code does the same operations in
// the same order.

func init() { register("linear_attention", linAttnKernel) }

func linAttnKernel(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	la, err := ir.LinearAttentionDims(n)
	if err != nil {
		return nil, err
	}
	q, k, v := in[0].F32(), in[1].F32(), in[2].F32()
	out := newF32(n.Outputs[0].Type.Shape)
	st := newF32(n.Outputs[1].Type.Shape)
	if in[3] != nil {
		copy(st.F32(), in[3].F32())
	}
	var decay, beta []float32
	if in[4] != nil {
		decay = in[4].F32()
	}
	if in[5] != nil {
		beta = in[5].F32()
	}
	group := la.Hq / la.Hkv
	vv := make([]float32, la.Dv)
	for b := range la.B {
		for h := range la.Hkv {
			S := st.F32()[(b*la.Hkv+h)*la.Dk*la.Dv:][:la.Dk*la.Dv]
			for t := range la.T {
				row := b*la.T + t
				kt := k[(row*la.Hkv+h)*la.Dk:][:la.Dk]
				copy(vv, v[(row*la.Hkv+h)*la.Dv:][:la.Dv])
				if la.Gated {
					for d := range la.Dk {
						g := decay[row*la.Hkv+h]
						if la.DecayPerDim {
							g = decay[(row*la.Hkv+h)*la.Dk+d]
						}
						e := math.Exp(float64(g))
						for m := range la.Dv {
							S[d*la.Dv+m] = float32(float64(S[d*la.Dv+m]) * e)
						}
					}
				}
				if la.Delta {
					bt := beta[row]
					if la.BetaHeads {
						bt = beta[row*la.Hkv+h]
					}
					for m := range la.Dv {
						var r float64
						for d := range la.Dk {
							r += float64(S[d*la.Dv+m]) * float64(kt[d])
						}
						vv[m] = float32(float64(bt) * (float64(vv[m]) - r))
					}
				}
				for d := range la.Dk {
					for m := range la.Dv {
						S[d*la.Dv+m] = float32(float64(S[d*la.Dv+m]) + float64(kt[d])*float64(vv[m]))
					}
				}
				for j := range group {
					hq := h*group + j
					qt := q[(row*la.Hq+hq)*la.Dk:][:la.Dk]
					o := out.F32()[(row*la.Hq+hq)*la.Dv:][:la.Dv]
					for m := range la.Dv {
						var s float64
						for d := range la.Dk {
							s += float64(qt[d]) * float64(S[d*la.Dv+m])
						}
						o[m] = float32(la.Scale * s)
					}
				}
			}
		}
	}
	return []*ir.Tensor{out, st}, nil
}

package ir

import "math"

// linear_attention: the recurrent linear attention of ONNX LinearAttention
// (opset 26) on its 3-D layouts, the time loop inside one kernel. Per
// batch entry and key/value head, a state S [dk, dv] (from past_state,
// else zeros) meets each step t: gated rules scale it by exp(decay);
// delta rules replace v by beta·(v - Sᵀk); then S += k vᵀ, and every
// query head of the group reads scale·qᵀS.

func init() {
	Register(&OpDef{
		Name: "linear_attention", Doc: "recurrent linear attention over [B, T, heads·d] query, key and value (ONNX LinearAttention): per step the state [dk, dv] decays by exp(decay) (gated rules), v becomes beta·(v - Sᵀk) (delta rules), S += k vᵀ, output scale·qᵀS; grouped query heads share a key/value head; outputs the output and the final state",
		Class: Opaque, Pure: Pure, Stream: StreamWhole, NoGrad: noRuleYet,
		Inputs: []InputDef{{Name: "query", DTypes: OnlyF32}, {Name: "key", DTypes: OnlyF32}, {Name: "value", DTypes: OnlyF32},
			{Name: "past_state", Optional: true, DTypes: OnlyF32}, {Name: "decay", Optional: true, DTypes: OnlyF32},
			{Name: "beta", Optional: true, DTypes: OnlyF32}},
		Outputs: []string{"output", "present_state"},
		Attrs: []AttrDef{{Name: "q_num_heads", Kind: AttrInt, Doc: "query heads"},
			{Name: "kv_num_heads", Kind: AttrInt, Doc: "key/value heads (divides q_num_heads)"},
			{Name: "scale", Kind: AttrFloat, Default: 0.0, Doc: "output scale; 0 means 1/sqrt(dk)"},
			{Name: "update_rule", Kind: AttrString, Default: "gated_delta", Enum: []string{"linear", "gated", "delta", "gated_delta"}, Doc: "gated rules take decay, delta rules beta"}},
		Infer: func(n *Node) ([]TensorType, error) {
			la, err := LinearAttentionDims(n)
			if err != nil {
				return nil, err
			}
			return []TensorType{{F32, Shape{la.B, la.T, la.Hq * la.Dv}}, {F32, Shape{la.B, la.Hkv, la.Dk, la.Dv}}}, nil
		},
	})
}

// LinAttn are the sizes of a linear_attention node.
type LinAttn struct {
	B, T, Hq, Hkv, Dk, Dv int
	Scale                 float64
	Gated, Delta          bool
	// DecayPerDim: decay is [B, T, Hkv·dk] (else [B, T, Hkv]); BetaHeads:
	// beta is [B, T, Hkv] (else [B, T, 1]).
	DecayPerDim, BetaHeads bool
}

// LinearAttentionDims checks a linear_attention node's shapes and inputs
// against its rule and returns its sizes.
func LinearAttentionDims(n *Node) (*LinAttn, error) {
	q, k, v := in(n, 0).Shape, in(n, 1).Shape, in(n, 2).Shape
	la := &LinAttn{Hq: n.Attrs.Int("q_num_heads"), Hkv: n.Attrs.Int("kv_num_heads")}
	rule := n.Attrs.String("update_rule")
	la.Gated, la.Delta = rule == "gated" || rule == "gated_delta", rule == "delta" || rule == "gated_delta"
	if len(q) != 3 || len(k) != 3 || len(v) != 3 {
		return nil, shapeErr("linear_attention: query %v, key %v and value %v must be [B, T, heads·d]", q, k, v)
	}
	if la.Hq < 1 || la.Hkv < 1 || la.Hq%la.Hkv != 0 || q[2]%la.Hq != 0 || k[2]%la.Hkv != 0 || v[2]%la.Hkv != 0 {
		return nil, shapeErr("linear_attention: %d query and %d key/value heads do not divide query %v, key %v, value %v", la.Hq, la.Hkv, q, k, v)
	}
	la.B, la.T, la.Dk, la.Dv = q[0], q[1], q[2]/la.Hq, v[2]/la.Hkv
	if k[0] != la.B || v[0] != la.B || k[1] != la.T || v[1] != la.T || k[2]/la.Hkv != la.Dk {
		return nil, shapeErr("linear_attention: key %v and value %v do not match query %v", k, v, q)
	}
	if has(n, 3) && !in(n, 3).Shape.Equal(Shape{la.B, la.Hkv, la.Dk, la.Dv}) {
		return nil, shapeErr("linear_attention: past_state %v must be %v", in(n, 3).Shape, Shape{la.B, la.Hkv, la.Dk, la.Dv})
	}
	if la.Gated != has(n, 4) || la.Delta != has(n, 5) {
		return nil, shapeErr("linear_attention: update_rule %q takes decay only when gated and beta only with delta", rule)
	}
	if d := in(n, 4).Shape; la.Gated {
		la.DecayPerDim = d.Equal(Shape{la.B, la.T, la.Hkv * la.Dk})
		if !la.DecayPerDim && !d.Equal(Shape{la.B, la.T, la.Hkv}) {
			return nil, shapeErr("linear_attention: decay %v must be [%d, %d, %d or %d]", d, la.B, la.T, la.Hkv, la.Hkv*la.Dk)
		}
	}
	if b := in(n, 5).Shape; la.Delta {
		la.BetaHeads = b.Equal(Shape{la.B, la.T, la.Hkv})
		if !la.BetaHeads && !b.Equal(Shape{la.B, la.T, 1}) {
			return nil, shapeErr("linear_attention: beta %v must be [%d, %d, %d or 1]", b, la.B, la.T, la.Hkv)
		}
	}
	la.Scale = n.Attrs.Float("scale")
	if la.Scale == 0 {
		la.Scale = 1 / math.Sqrt(float64(la.Dk))
	}
	return la, nil
}

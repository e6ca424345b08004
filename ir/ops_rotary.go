package ir

import "fmt"

// rotary_embedding: rotary position embedding (ONNX RotaryEmbedding) of
// the first rotary_dim values of every head vector of x, by the cos and
// sin rows of its batch entry and position.

func init() {
	Register(&OpDef{
		Name: "rotary_embedding", Doc: "rotates pairs of the first rotary_dim values of each head vector of x ([B, H, S, D], or [B, S, H·D] with num_heads) by angles given as cos and sin [B, S, rotary_dim/2]: halves (x1, x2) or, interleaved, even and odd values, become (c·x1 - s·x2, s·x1 + c·x2) (ONNX RotaryEmbedding)",
		Class: Opaque, Pure: Pure, Stream: StreamWhole, NoGrad: noRuleYet,
		Inputs:  []InputDef{{Name: "x", DTypes: OnlyF32}, {Name: "cos", DTypes: OnlyF32}, {Name: "sin", DTypes: OnlyF32}},
		Outputs: []string{"y"},
		Attrs: []AttrDef{{Name: "interleaved", Kind: AttrBool, Default: false, Doc: "pairs are adjacent values, not the two halves"},
			{Name: "rotary_dim", Kind: AttrInt, Default: 0, Doc: "values rotated per head (0: all)"},
			{Name: "num_heads", Kind: AttrInt, Default: 0, Doc: "heads of a 3-D x"}},
		Infer: func(n *Node) ([]TensorType, error) {
			if _, err := RotaryDims(n); err != nil {
				return nil, err
			}
			return []TensorType{{F32, in(n, 0).Shape.Clone()}}, nil
		},
	})
}

// Rotary are the sizes of a rotary_embedding node; Head(b, s, h) is the
// offset of a head vector in x.
type Rotary struct {
	B, S, H, D, R int
	threeD        bool
}

// Head is the offset of the head vector (b, s, h) in x.
func (r *Rotary) Head(b, s, h int) int {
	if r.threeD {
		return ((b*r.S+s)*r.H + h) * r.D
	}
	return ((b*r.H+h)*r.S + s) * r.D
}

// HeadExpr is Head as a Go expression of the variables b, s and h.
func (r *Rotary) HeadExpr() string {
	if r.threeD {
		return fmt.Sprintf("((b*%d+s)*%d + h) * %d", r.S, r.H, r.D)
	}
	return fmt.Sprintf("((b*%d+h)*%d + s) * %d", r.H, r.S, r.D)
}

// RotaryDims checks a rotary_embedding node and returns its sizes.
func RotaryDims(n *Node) (*Rotary, error) {
	x, c, s := in(n, 0).Shape, in(n, 1).Shape, in(n, 2).Shape
	r := &Rotary{}
	switch len(x) {
	case 4:
		r.B, r.H, r.S, r.D = x[0], x[1], x[2], x[3]
	case 3:
		r.threeD, r.B, r.S, r.H = true, x[0], x[1], n.Attrs.Int("num_heads")
		if r.H < 1 || x[2]%r.H != 0 {
			return nil, shapeErr("rotary_embedding: num_heads %d does not divide x %v", r.H, x)
		}
		r.D = x[2] / r.H
	default:
		return nil, shapeErr("rotary_embedding: x %v must be [B, H, S, D] or [B, S, H·D]", x)
	}
	r.R = n.Attrs.Int("rotary_dim")
	if r.R == 0 {
		r.R = r.D
	}
	if r.R%2 != 0 || r.R > r.D || r.R < 0 {
		return nil, shapeErr("rotary_embedding: rotary_dim %d must be even and at most the head size %d", r.R, r.D)
	}
	if want := (Shape{r.B, r.S, r.R / 2}); !c.Equal(want) || !s.Equal(want) {
		return nil, shapeErr("rotary_embedding: cos %v and sin %v must be %v", c, s, want)
	}
	return r, nil
}

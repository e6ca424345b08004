package onnx

import (
	"fmt"
	"math"

	"github.com/dlcompiler/dlc/ir"
)

// Attention (opsets 23 and 24) as the ir ops of its ONNX function body:
// scaled Q·Kᵀ (each side by √scale), softcap, the additive bias of the
// mask, causality and padding, softmax with fully masked rows set to 0,
// times V. Shapes are static, so the head split, the key/value cache
// concat, the grouped-query repeat and the causal bias are laid out
// here; the interpreter and generated code then run ordinary matmul,
// softmax and element-wise kernels.

func init() { opTable["Attention"] = opConv{3, checkAttention, attention} }

func checkAttention(c *nctx) error {
	// f16 and bf16 are computed in f32 (ops_dtype.go).
	if dt := c.in(0).typ().DType; dt != ir.F32 && dt != ir.F16 && dt != ir.BF16 {
		return unsup("Attention of %s tensors is not supported (f32, f16 and bf16 only)", dtName(c.in(0).elem))
	}
	return nil
}

// attnHeads gives x as [B, heads, S, D]: a 3-D [B, S, heads·D] input is
// split into heads (the attribute names the count).
func (c *nctx) attnHeads(x *val, attr, suffix string) (*val, error) {
	s := x.shape()
	switch len(s) {
	case 4:
		return x, nil
	case 3:
		h, err := c.int(attr, 0)
		if err != nil {
			return nil, err
		}
		if h <= 0 || s[2]%h != 0 {
			return nil, fmt.Errorf("%s %d does not divide the hidden size %d of %v", attr, h, s[2], s)
		}
		y, err := c.reshape(x, ir.Shape{s[0], s[1], h, s[2] / h}, suffix+"_split")
		if err != nil {
			return nil, err
		}
		return c.transpose(y, []int{0, 2, 1, 3}, suffix+"_heads")
	}
	return nil, fmt.Errorf("Q, K and V must be 3-D or 4-D, got %v", s)
}

// attnCache prepends the past keys or values (input i) along the
// sequence axis and binds the present output o.
func (c *nctx) attnCache(x *val, i, o int, suffix string) (*val, error) {
	if p := c.in(i); p != nil {
		var err error
		if x, err = c.concat([]*val{p, x}, 2, suffix); err != nil {
			return nil, err
		}
	}
	c.set(o, x)
	return x, nil
}

// attnRepeat repeats each of the kv heads of x [B, kv, T, D] q/kv times
// in place ([h0, h0, h1, h1, ...]), for grouped-query attention.
func (c *nctx) attnRepeat(x *val, q int, suffix string) (*val, error) {
	s := x.shape()
	if s[1] == q {
		return x, nil
	}
	if s[1] == 0 || q%s[1] != 0 {
		return nil, fmt.Errorf("%d query heads are not a multiple of %d key/value heads", q, s[1])
	}
	u, err := c.reshape(x, ir.Shape{s[0], s[1], 1, s[2], s[3]}, suffix+"_unsq")
	if err != nil {
		return nil, err
	}
	e, err := c.emit1("expand", suffix+"_rep", []*val{u}, ir.Attrs{"shape": []int{s[0], s[1], q / s[1], s[2], s[3]}})
	if err != nil {
		return nil, err
	}
	return c.reshape(e, ir.Shape{s[0], q, s[2], s[3]}, suffix+"_gqa")
}

// negInfWhere is 0 where cond holds, else -inf (f32, cond's shape).
func (c *nctx) negInfWhere(cond *val, suffix string) (*val, error) {
	return c.emit1("where", suffix, []*val{cond, c.known(scalarF32(0), 1, false), c.known(scalarF32(math.Inf(-1)), 1, false)}, nil)
}

// attnBias is the additive f32 bias over [.., S, T] of the mask (a bool
// one becomes 0 or -inf; one shorter than T is padded with -inf), the
// causal frontier and the padding of nonpad_kv_seqlen; nil when none.
func (c *nctx) attnBias(B, S, T, past int) (*val, error) {
	var bias *val
	if m := c.in(3); m != nil {
		var err error
		switch m.typ().DType {
		case ir.Bool:
			if m, err = c.negInfWhere(m, "mask"); err != nil {
				return nil, err
			}
		case ir.F32:
		default:
			return nil, unsup("an attn_mask of %s is not supported (bool or f32)", dtName(m.elem))
		}
		ms := m.shape()
		if len(ms) == 0 || ms[len(ms)-1] > T {
			return nil, fmt.Errorf("attn_mask %v does not fit %d keys", ms, T)
		}
		if short := T - ms[len(ms)-1]; short > 0 {
			pads := make([]int, 2*len(ms))
			pads[2*len(ms)-1] = short
			if m, err = c.emit1("pad", "mask_pad", []*val{m}, ir.Attrs{"pads": pads, "value": math.Inf(-1)}); err != nil {
				return nil, err
			}
		}
		bias = m
	}
	causal, err := c.int("is_causal", 0)
	if err != nil {
		return nil, err
	}
	nonpad := c.in(6)
	if causal != 0 && (nonpad == nil || c.in(4) != nil) {
		// Query i (after the past ones) sees keys j ≤ past + i.
		t := ir.NewTensor(ir.F32, ir.Shape{S, T})
		for i := range S {
			for j := past + i + 1; j < T; j++ {
				t.F32()[i*T+j] = float32(math.Inf(-1))
			}
		}
		if bias, err = c.addBias(bias, c.known(t, 1, false)); err != nil {
			return nil, err
		}
	}
	if nonpad != nil {
		if bias, err = c.attnNonpad(bias, nonpad, B, S, T, causal != 0 && c.in(4) == nil); err != nil {
			return nil, err
		}
	}
	return bias, nil
}

// attnNonpad adds the padding of nonpad_kv_seqlen (keys j < n[b] only)
// and, for causal attention without a past cache, its per-batch frontier
// (key j ≤ i + n[b] - S): both are j + d ≤ n[b] for a known d.
func (c *nctx) attnNonpad(bias, n *val, B, S, T int, causal bool) (*val, error) {
	if s := n.shape(); n.typ().DType != ir.I64 || len(s) != 1 || s[0] != B {
		return nil, fmt.Errorf("nonpad_kv_seqlen must be int64 [%d], got %v", B, n.typ())
	}
	nb, err := c.reshape(n, ir.Shape{B, 1, 1, 1}, "nonpad_b")
	if err != nil {
		return nil, err
	}
	rows := 1
	if causal {
		rows = S
	}
	d := ir.NewTensor(ir.I64, ir.Shape{1, 1, rows, T})
	for i := range rows {
		for j := range T {
			d.I64()[i*T+j] = int64(j + 1)
			if causal {
				d.I64()[i*T+j] = int64(j - i + S)
			}
		}
	}
	ok, err := c.emit1("le", "nonpad_ok", []*val{c.known(d, 7, false), nb}, nil)
	if err != nil {
		return nil, err
	}
	m, err := c.negInfWhere(ok, "nonpad")
	if err != nil {
		return nil, err
	}
	return c.addBias(bias, m)
}

func (c *nctx) addBias(bias, m *val) (*val, error) {
	if bias == nil {
		return m, nil
	}
	return c.binary("add", bias, m, "bias")
}

func attention(c *nctx) error {
	q, err := c.attnHeads(c.in(0), "q_num_heads", "q")
	if err != nil {
		return err
	}
	k, err := c.attnHeads(c.in(1), "kv_num_heads", "k")
	if err != nil {
		return err
	}
	v, err := c.attnHeads(c.in(2), "kv_num_heads", "v")
	if err != nil {
		return err
	}
	past := 0
	if p := c.in(4); p != nil {
		past = p.shape()[2]
	}
	if k, err = c.attnCache(k, 4, 1, "present_key"); err != nil {
		return err
	}
	if v, err = c.attnCache(v, 5, 2, "present_value"); err != nil {
		return err
	}
	qs, ks := q.shape(), k.shape()
	B, H, S, T := qs[0], qs[1], qs[2], ks[2]
	if qs[3] != ks[3] || ks[0] != B || v.shape()[2] != T {
		return fmt.Errorf("Q %v, K %v and V %v do not fit", qs, ks, v.shape())
	}
	scale, err := c.float("scale", 1/math.Sqrt(float64(qs[3])))
	if err != nil {
		return err
	}
	if k, err = c.attnRepeat(k, H, "k"); err != nil {
		return err
	}
	if v, err = c.attnRepeat(v, H, "v"); err != nil {
		return err
	}
	sq := c.known(scalarF32(float64(float32(math.Sqrt(float64(float32(scale)))))), 1, false)
	if q, err = c.binary("mul", q, sq, "q_scaled"); err != nil {
		return err
	}
	kt, err := c.transpose(k, []int{0, 1, 3, 2}, "kt")
	if err != nil {
		return err
	}
	if kt, err = c.binary("mul", kt, sq, "kt_scaled"); err != nil {
		return err
	}
	qk, err := c.emit1("matmul", "qk", []*val{q, kt}, nil)
	if err != nil {
		return err
	}
	return c.attnSoftmax(qk, v, B, S, T, past, c.in(0).rank() == 3)
}

// attnSoftmax finishes Attention from the scaled products qk: softcap,
// bias, softmax (rows the bias masks entirely give 0), times v; and the
// qk_matmul_output of the mode asked.
func (c *nctx) attnSoftmax(qk, v *val, B, S, T, past int, threeD bool) error {
	outs := []*val{qk}
	capped := qk
	softcap, err := c.float("softcap", 0)
	if err != nil {
		return err
	}
	if softcap > 0 {
		sc := c.known(scalarF32(softcap), 1, false)
		d, err := c.binary("div", qk, sc, "softcap_div")
		if err != nil {
			return err
		}
		th, err := c.emit1("tanh", "softcap_tanh", []*val{d}, nil)
		if err != nil {
			return err
		}
		if capped, err = c.binary("mul", th, sc, "softcapped"); err != nil {
			return err
		}
	}
	outs = append(outs, capped)
	bias, err := c.attnBias(B, S, T, past)
	if err != nil {
		return err
	}
	biased := capped
	if bias != nil {
		if biased, err = c.binary("add", capped, bias, "biased"); err != nil {
			return err
		}
	}
	outs = append(outs, biased)
	p, err := c.emit1("softmax", "softmax", []*val{biased}, ir.Attrs{"axis": -1})
	if err != nil {
		return err
	}
	if bias != nil {
		rowMax, err := c.emit1("reduce_max", "bias_row_max", []*val{bias}, ir.Attrs{"axes": []int{-1}, "keepdims": true})
		if err != nil {
			return err
		}
		masked, err := c.emit1("eq", "row_masked", []*val{rowMax, c.known(scalarF32(math.Inf(-1)), 1, false)}, nil)
		if err != nil {
			return err
		}
		if p, err = c.emit1("where", "softmax_safe", []*val{masked, c.known(scalarF32(0), 1, false), p}, nil); err != nil {
			return err
		}
	}
	outs = append(outs, p)
	mode, err := c.int("qk_matmul_output_mode", 0)
	if err != nil {
		return err
	}
	if mode < 0 || mode > 3 {
		return fmt.Errorf("qk_matmul_output_mode %d is not 0..3", mode)
	}
	c.set(3, outs[mode])
	y, err := c.emit1("matmul", "", []*val{p, v}, nil)
	if err != nil {
		return err
	}
	if threeD {
		if y, err = c.transpose(y, []int{0, 2, 1, 3}, "y_heads"); err != nil {
			return err
		}
		s := y.shape()
		if y, err = c.reshape(y, ir.Shape{s[0], s[1], s[2] * s[3]}, "y"); err != nil {
			return err
		}
	}
	c.set(0, y)
	return nil
}

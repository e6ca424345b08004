package dl

import (
	"math"

	"github.com/dlcompiler/dlc/ir"
)

// Attention and Transformer layers with PyTorch's arguments, defaults and
// state_dict names: nn.MultiheadAttention (in_proj_weight, in_proj_bias,
// out_proj.weight, out_proj.bias), nn.TransformerEncoderLayer and
// nn.TransformerDecoderLayer (self_attn.*, multihead_attn.*, linear1,
// linear2, norm1..3), and learned and sinusoidal position embeddings.
// Each is composed of existing ops (dense, reshape, transpose, matmul,
// softmax, where, layernorm, ...), named under the layer's name
// (attn.q, attn.scores, ...), so the interpreter, the passes and the
// generated code need nothing new, and `dlc import` of such a graph
// writes those ops back.

func init() {
	maskArgs := func(names ...string) []argSpec {
		var a []argSpec
		for _, n := range names {
			a = append(a, argSpec{name: n, kind: aTensor, opt: true})
		}
		return a
	}
	mha := []argSpec{{name: "embed_dim", kind: aInt}, {name: "num_heads", kind: aInt},
		{name: "dropout", kind: aFloat, def: 0.0}, {name: "bias", kind: aBool, def: true},
		{name: "add_bias_kv", kind: aBool, def: false}, {name: "add_zero_attn", kind: aBool, def: false},
		{name: "kdim", kind: aInt, opt: true}, {name: "vdim", kind: aInt, opt: true},
		{name: "batch_first", kind: aBool, def: false},
		{name: "need_weights", kind: aBool, def: false}, {name: "average_attn_weights", kind: aBool, def: true},
		{name: "is_causal", kind: aBool, def: false}}
	def(&layerDef{name: "multihead_attention", inputs: -1, params: true,
		args:  append(mha, maskArgs("key_padding_mask", "attn_mask")...),
		build: buildMHA})
	tl := []argSpec{{name: "d_model", kind: aInt}, {name: "nhead", kind: aInt},
		{name: "dim_feedforward", kind: aInt, def: 2048}, {name: "dropout", kind: aFloat, def: 0.1},
		{name: "activation", kind: aString, def: "relu", enum: []string{"relu", "gelu"}},
		{name: "layer_norm_eps", kind: aFloat, def: 1e-5}, {name: "batch_first", kind: aBool, def: false},
		{name: "norm_first", kind: aBool, def: false}}
	enc := append(append([]argSpec(nil), tl...), argSpec{name: "is_causal", kind: aBool, def: false})
	def(&layerDef{name: "transformer_encoder_layer", inputs: 1, params: true,
		args:  append(enc, maskArgs("src_mask", "src_key_padding_mask")...),
		build: buildEncoderLayer})
	dec := append(append([]argSpec(nil), tl...), argSpec{name: "tgt_is_causal", kind: aBool, def: false},
		argSpec{name: "memory_is_causal", kind: aBool, def: false})
	def(&layerDef{name: "transformer_decoder_layer", inputs: 2, params: true,
		args:  append(dec, maskArgs("tgt_mask", "memory_mask", "tgt_key_padding_mask", "memory_key_padding_mask")...),
		build: buildDecoderLayer})
	def(&layerDef{name: "positional_embedding", inputs: 1, params: true,
		args: []argSpec{{name: "num_embeddings", kind: aInt}, {name: "embedding_dim", kind: aInt, opt: true},
			{name: "batch_first", kind: aBool, def: false}},
		build: buildLearnedPos})
	def(&layerDef{name: "sinusoidal_positional_encoding", inputs: 1,
		args: []argSpec{{name: "d_model", kind: aInt, opt: true}, {name: "dropout", kind: aFloat, def: 0.1},
			{name: "max_len", kind: aInt, def: 5000}, {name: "batch_first", kind: aBool, def: false}},
		build: buildSinusoidalPos})
}

// sub adds a node of the layer named name.suffix (the layer's own name
// when suffix is empty) and returns its first output.
func (c *call) sub(suffix, op string, ins []*ir.Value, attrs ir.Attrs) (*ir.Value, error) {
	name := c.name
	if suffix != "" {
		name += "." + suffix
	}
	if err := c.l.claim(name, c.pos); err != nil {
		return nil, err
	}
	n, err := c.l.g.AddNode(op, name, ins, attrs, c.pos)
	if err != nil {
		return nil, c.errorf("%s: %v", name, err)
	}
	return n.Outputs[0], nil
}

// constant adds a constant tensor named name.suffix.
func (c *call) constant(suffix string, t *ir.Tensor) (*ir.Value, error) {
	name := c.name + "." + suffix
	if err := c.l.claim(name, c.pos); err != nil {
		return nil, err
	}
	return c.l.g.AddParam(name, ir.Const, t.Type(), t, "", c.pos), nil
}

func (c *call) reshape(suffix string, x *ir.Value, shape ...int) (*ir.Value, error) {
	return c.sub(suffix, "reshape", []*ir.Value{x}, ir.Attrs{"shape": shape})
}

func (c *call) transpose(suffix string, x *ir.Value, perm ...int) (*ir.Value, error) {
	return c.sub(suffix, "transpose", []*ir.Value{x}, ir.Attrs{"perm": perm})
}

// linear is a dense layer whose parameters are prefix.weight [out, in]
// and prefix.bias [out].
func (c *call) linear(suffix, prefix string, x *ir.Value, out int, bias bool) (*ir.Value, error) {
	init, err := c.initFor("xavier")
	if err != nil {
		return nil, err
	}
	in := x.Type.Shape[len(x.Type.Shape)-1]
	w, err := c.param(param{suffix: prefix + "weight", kind: ir.Param, shape: ir.Shape{out, in}, init: init})
	if err != nil {
		return nil, err
	}
	ins := []*ir.Value{x, w}
	if bias {
		b, err := c.param(param{suffix: prefix + "bias", kind: ir.Param, shape: ir.Shape{out}, init: "zeros"})
		if err != nil {
			return nil, err
		}
		ins = append(ins, b)
	}
	return c.sub(suffix, "dense", ins, nil)
}

// mhaSpec is one attention of a layer: its parameters' prefix
// ("self_attn." in an encoder layer) and masks.
type mhaSpec struct {
	prefix            string
	heads             int
	bias, batchFirst  bool
	causal            bool
	keyPad, attnMask  *ir.Value
	needW, avgWeights bool
}

// mha is nn.MultiheadAttention's inference forward (torch 1.13's
// F.multi_head_attention_forward): the projections, q/sqrt(head_dim),
// q·kᵀ with the masks (bool: true hides a key, as -inf; float: added),
// softmax over the keys, ·v, the heads joined and out_proj. It works in
// [N, L, E] and transposes [L, N, E] in and out unless batch_first. It
// returns the output and, with needW, the attention weights.
func (c *call) mha(s mhaSpec, q, k, v *ir.Value, last string) (*ir.Value, *ir.Value, error) {
	p := s.prefix
	for _, t := range []*ir.Value{q, k, v} {
		if len(t.Type.Shape) != 3 || t.Type.DType != ir.F32 {
			return nil, nil, c.errorf("wants f32 query, key and value [L, N, E] (or [N, L, E] with batch_first=true), got %s %v", t.Name, t.Type)
		}
	}
	e, h := q.Type.Shape[2], s.heads
	if h < 1 || e%h != 0 {
		return nil, nil, c.errorf("embed_dim %d must be divisible by num_heads %d", e, h)
	}
	same := q == k && k == v
	if !s.batchFirst {
		var err error
		if q, err = c.transpose(p+"query_nle", q, 1, 0, 2); err != nil {
			return nil, nil, err
		}
		kv := k == v
		switch {
		case same:
			k, v = q, q
		case kv:
			if k, err = c.transpose(p+"key_nle", k, 1, 0, 2); err != nil {
				return nil, nil, err
			}
			v = k
		default:
			if k, err = c.transpose(p+"key_nle", k, 1, 0, 2); err != nil {
				return nil, nil, err
			}
			if v, err = c.transpose(p+"value_nle", v, 1, 0, 2); err != nil {
				return nil, nil, err
			}
		}
	}
	n, l, sl := q.Type.Shape[0], q.Type.Shape[1], k.Type.Shape[1]
	if k.Type.Shape[0] != n || v.Type.Shape[0] != n || v.Type.Shape[1] != sl {
		return nil, nil, c.errorf("query %v, key %v and value %v disagree in batch or length", q.Type, k.Type, v.Type)
	}
	d := e / h
	qh, kt, vh, err := c.projections(s, q, k, v, same)
	if err != nil {
		return nil, nil, err
	}
	scale, err := c.constant(p+"scale", &ir.Tensor{DType: ir.F32, Shape: ir.Shape{}, Data: []float32{float32(math.Sqrt(float64(d)))}})
	if err != nil {
		return nil, nil, err
	}
	if qh, err = c.sub(p+"q_scaled", "div", []*ir.Value{qh, scale}, nil); err != nil {
		return nil, nil, err
	}
	scores, err := c.sub(p+"scores", "matmul", []*ir.Value{qh, kt}, nil)
	if err != nil {
		return nil, nil, err
	}
	if scores, err = c.masks(s, scores, n, l, sl); err != nil {
		return nil, nil, err
	}
	w, err := c.sub(p+"weights", "softmax", []*ir.Value{scores}, ir.Attrs{"axis": -1})
	if err != nil {
		return nil, nil, err
	}
	o, err := c.sub(p+"context", "matmul", []*ir.Value{w, vh}, nil)
	if err != nil {
		return nil, nil, err
	}
	if o, err = c.transpose(p+"context_nlhd", o, 0, 2, 1, 3); err != nil {
		return nil, nil, err
	}
	if o, err = c.reshape(p+"context_nle", o, n, l, e); err != nil {
		return nil, nil, err
	}
	outName := p + "out_proj"
	if s.batchFirst {
		outName = last
	}
	if o, err = c.linear(outName, p+"out_proj.", o, e, s.bias); err != nil {
		return nil, nil, err
	}
	if !s.batchFirst {
		if o, err = c.transpose(last, o, 1, 0, 2); err != nil {
			return nil, nil, err
		}
	}
	if !s.needW {
		return o, nil, nil
	}
	if !s.avgWeights {
		return o, w, nil
	}
	wm, err := c.sub(p+"attn_weights", "reduce_mean", []*ir.Value{w}, ir.Attrs{"axes": []int{1}, "keepdims": false})
	return o, wm, err
}

// projections gives q [N, H, L, D], kᵀ [N, H, D, S] and v [N, H, S, D].
// Self-attention with kdim = vdim = embed_dim projects once with the whole
// in_proj_weight [3E, E]; otherwise q, k and v take their thirds of it (or
// q_proj_weight, k_proj_weight, v_proj_weight when kdim or vdim differ,
// as PyTorch stores them).
func (c *call) projections(s mhaSpec, q, k, v *ir.Value, same bool) (qh, kt, vh *ir.Value, err error) {
	p := s.prefix
	n, l, e := q.Type.Shape[0], q.Type.Shape[1], q.Type.Shape[2]
	h := s.heads
	d := e / h
	init, err := c.initFor("xavier")
	if err != nil {
		return nil, nil, nil, err
	}
	var bias *ir.Value
	if s.bias {
		if bias, err = c.param(param{suffix: p + "in_proj_bias", kind: ir.Param, shape: ir.Shape{3 * e}, init: "zeros"}); err != nil {
			return nil, nil, nil, err
		}
	}
	sepDims := k.Type.Shape[2] != e || v.Type.Shape[2] != e
	heads := func(name string, x *ir.Value, perm ...int) (*ir.Value, error) {
		r, err := c.reshape(name+"_heads", x, x.Type.Shape[0], x.Type.Shape[1], h, d)
		if err != nil {
			return nil, err
		}
		return c.transpose(name+"_t", r, perm...)
	}
	if same && !sepDims {
		w, err := c.param(param{suffix: p + "in_proj_weight", kind: ir.Param, shape: ir.Shape{3 * e, e}, init: init})
		if err != nil {
			return nil, nil, nil, err
		}
		ins := []*ir.Value{q, w}
		if bias != nil {
			ins = append(ins, bias)
		}
		qkv, err := c.sub(p+"qkv", "dense", ins, nil)
		if err != nil {
			return nil, nil, nil, err
		}
		if qkv, err = c.reshape(p+"qkv_heads", qkv, n, l, 3, h, d); err != nil {
			return nil, nil, nil, err
		}
		if qkv, err = c.transpose(p+"qkv_t", qkv, 2, 0, 3, 1, 4); err != nil { // [3, N, H, L, D]
			return nil, nil, nil, err
		}
		parts := make([]*ir.Value, 3)
		for i, nm := range []string{"q", "k", "v"} {
			if parts[i], err = c.pick(p+nm, qkv, i); err != nil {
				return nil, nil, nil, err
			}
		}
		kt, err := c.transpose(p+"k_t", parts[1], 0, 1, 3, 2)
		return parts[0], kt, parts[2], err
	}
	var ws [3]*ir.Value
	if sepDims {
		for i, nm := range []string{"q", "k", "v"} {
			in := []*ir.Value{q, k, v}[i].Type.Shape[2]
			if ws[i], err = c.param(param{suffix: p + nm + "_proj_weight", kind: ir.Param, shape: ir.Shape{e, in}, init: init}); err != nil {
				return nil, nil, nil, err
			}
		}
	} else {
		w, err := c.param(param{suffix: p + "in_proj_weight", kind: ir.Param, shape: ir.Shape{3 * e, e}, init: init})
		if err != nil {
			return nil, nil, nil, err
		}
		w3, err := c.reshape(p+"in_proj_weight3", w, 3, e, e)
		if err != nil {
			return nil, nil, nil, err
		}
		for i, nm := range []string{"q", "k", "v"} {
			if ws[i], err = c.pick(p+nm+"_weight", w3, i); err != nil {
				return nil, nil, nil, err
			}
		}
	}
	var bs [3]*ir.Value
	if bias != nil {
		b3, err := c.reshape(p+"in_proj_bias3", bias, 3, e)
		if err != nil {
			return nil, nil, nil, err
		}
		for i, nm := range []string{"q", "k", "v"} {
			if bs[i], err = c.pick(p+nm+"_bias", b3, i); err != nil {
				return nil, nil, nil, err
			}
		}
	}
	// x·wᵀ + b as matmul and add, not dense: a dense layer's weight and
	// bias are parameters, and these are slices of one (`dlc import` and
	// the formatter write dense only with parameters).
	var out [3]*ir.Value
	for i, nm := range []string{"q", "k", "v"} {
		wt, err := c.transpose(p+nm+"_weight_t", ws[i], 1, 0)
		if err != nil {
			return nil, nil, nil, err
		}
		y, err := c.sub(p+nm+"_proj", "matmul", []*ir.Value{[]*ir.Value{q, k, v}[i], wt}, nil)
		if err != nil {
			return nil, nil, nil, err
		}
		if bs[i] != nil {
			if y, err = c.sub(p+nm+"_proj_bias", "add", []*ir.Value{y, bs[i]}, nil); err != nil {
				return nil, nil, nil, err
			}
		}
		perm := []int{0, 2, 1, 3}
		if nm == "k" {
			perm = []int{0, 2, 3, 1}
		}
		if out[i], err = heads(p+nm, y, perm...); err != nil {
			return nil, nil, nil, err
		}
	}
	return out[0], out[1], out[2], nil
}

// pick is x[i] along axis 0 (a gather with a scalar index drops the axis).
func (c *call) pick(suffix string, x *ir.Value, i int) (*ir.Value, error) {
	idx, err := c.constant(suffix+"_index", &ir.Tensor{DType: ir.I64, Shape: ir.Shape{}, Data: []int64{int64(i)}})
	if err != nil {
		return nil, err
	}
	return c.sub(suffix, "gather", []*ir.Value{x, idx}, ir.Attrs{"axis": 0})
}

// masks applies the key padding mask [N, S], the attention mask [L, S] or
// [N*H, L, S] and the causal mask to scores [N, H, L, S]: a bool mask
// puts -inf where it is true, a float mask is added (PyTorch's rules).
func (c *call) masks(s mhaSpec, scores *ir.Value, n, l, sl int) (*ir.Value, error) {
	p, h := s.prefix, s.heads
	var neg *ir.Value
	apply := func(name string, m *ir.Value) (*ir.Value, error) {
		if m.Type.DType == ir.Bool {
			if neg == nil {
				var err error
				neg, err = c.constant(p+"neg_inf", &ir.Tensor{DType: ir.F32, Shape: ir.Shape{}, Data: []float32{float32(math.Inf(-1))}})
				if err != nil {
					return nil, err
				}
			}
			return c.sub(p+name, "where", []*ir.Value{m, neg, scores}, nil)
		}
		if m.Type.DType != ir.F32 {
			return nil, c.errorf("mask %s must be bool or f32, got %v", m.Name, m.Type)
		}
		return c.sub(p+name, "add", []*ir.Value{scores, m}, nil)
	}
	var err error
	if m := s.attnMask; m != nil {
		switch {
		case m.Type.Shape.Equal(ir.Shape{l, sl}):
		case m.Type.Shape.Equal(ir.Shape{n * h, l, sl}):
			if m, err = c.reshape(p+"attn_mask_nhls", m, n, h, l, sl); err != nil {
				return nil, err
			}
		default:
			return nil, c.errorf("attn_mask %s %v must be [L, S] = [%d, %d] or [N*num_heads, L, S] = [%d, %d, %d]", m.Name, m.Type, l, sl, n*h, l, sl)
		}
		if scores, err = apply("masked_attn", m); err != nil {
			return nil, err
		}
	}
	if m := s.keyPad; m != nil {
		if !m.Type.Shape.Equal(ir.Shape{n, sl}) {
			return nil, c.errorf("key_padding_mask %s %v must be [N, S] = [%d, %d]", m.Name, m.Type, n, sl)
		}
		if m, err = c.reshape(p+"key_padding_mask_n11s", m, n, 1, 1, sl); err != nil {
			return nil, err
		}
		if scores, err = apply("masked_keys", m); err != nil {
			return nil, err
		}
	}
	if s.causal {
		t := ir.NewTensor(ir.Bool, ir.Shape{l, sl})
		for i := 0; i < l; i++ {
			for j := i + 1; j < sl; j++ {
				t.Bools()[i*sl+j] = true
			}
		}
		m, err := c.constant(p+"causal_mask", t)
		if err != nil {
			return nil, err
		}
		if scores, err = apply("masked_causal", m); err != nil {
			return nil, err
		}
	}
	return scores, nil
}

// checkDropout accepts a dropout probability, which inference ignores.
func checkDropout(c *call) error {
	if p := c.float("dropout"); !(p >= 0 && p <= 1) {
		return c.errorf("dropout must be between 0 and 1, got %v", p)
	}
	return nil
}

func buildMHA(c *call) (val, error) {
	if err := checkDropout(c); err != nil {
		return val{}, err
	}
	if c.bool("add_bias_kv") || c.bool("add_zero_attn") {
		return val{}, c.errorf("add_bias_kv and add_zero_attn are not supported")
	}
	var q, k, v *ir.Value
	switch len(c.in) {
	case 1:
		q, k, v = c.in[0], c.in[0], c.in[0]
	case 2:
		q, k, v = c.in[0], c.in[1], c.in[1]
	case 3:
		q, k, v = c.in[0], c.in[1], c.in[2]
	default:
		return val{}, c.errorf("takes query, key and value (one tensor for self-attention, two for key = value), got %d tensors", len(c.in))
	}
	if len(q.Type.Shape) == 3 && c.int("embed_dim") != q.Type.Shape[2] {
		return val{}, c.errorf("embed_dim is %d, but query %s %v has %d features", c.int("embed_dim"), q.Name, q.Type, q.Type.Shape[2])
	}
	for _, kv := range []struct {
		arg string
		t   *ir.Value
	}{{"kdim", k}, {"vdim", v}} {
		if c.has(kv.arg) && len(kv.t.Type.Shape) == 3 && c.int(kv.arg) != kv.t.Type.Shape[2] {
			return val{}, c.errorf("%s is %d, but %s %v has %d features", kv.arg, c.int(kv.arg), kv.t.Name, kv.t.Type, kv.t.Type.Shape[2])
		}
	}
	s := mhaSpec{heads: c.int("num_heads"), bias: c.bool("bias"), batchFirst: c.bool("batch_first"),
		causal: c.bool("is_causal"), keyPad: c.tensor("key_padding_mask"), attnMask: c.tensor("attn_mask"),
		needW: c.bool("need_weights"), avgWeights: c.bool("average_attn_weights")}
	o, w, err := c.mha(s, q, k, v, "")
	if err != nil {
		return val{}, err
	}
	if w != nil {
		return tensorVal(o, w), nil
	}
	return tensorVal(o), nil
}

// tlayer holds what encoder and decoder layers share.
type tlayer struct {
	c         *call
	e, dimFF  int
	normFirst bool
}

func newTLayer(c *call) (*tlayer, error) {
	x := c.x()
	if err := checkDropout(c); err != nil {
		return nil, err
	}
	if eps := c.float("layer_norm_eps"); !(eps >= 0) || math.IsInf(eps, 0) {
		return nil, c.errorf("layer_norm_eps must be a non-negative number, got %v", eps)
	}
	if len(x.Type.Shape) != 3 {
		return nil, c.errorf("wants input [S, N, E] (or [N, S, E] with batch_first=true), got %s %v", x.Name, x.Type)
	}
	if e := x.Type.Shape[2]; c.int("d_model") != e {
		return nil, c.errorf("d_model is %d, but %s %v has %d features", c.int("d_model"), x.Name, x.Type, e)
	}
	if c.int("dim_feedforward") < 1 {
		return nil, c.errorf("dim_feedforward must be positive, got %d", c.int("dim_feedforward"))
	}
	return &tlayer{c: c, e: x.Type.Shape[2], dimFF: c.int("dim_feedforward"), normFirst: c.bool("norm_first")}, nil
}

// norm is the layernorm with parameters name.weight and name.bias; its
// node is name.node, or the layer's own name when node is empty.
func (t *tlayer) norm(name, node string, x *ir.Value) (*ir.Value, error) {
	c := t.c
	w, err := c.param(param{suffix: name + ".weight", kind: ir.Param, shape: ir.Shape{t.e}, fill: ptr(1)})
	if err != nil {
		return nil, err
	}
	b, err := c.param(param{suffix: name + ".bias", kind: ir.Param, shape: ir.Shape{t.e}, fill: ptr(0)})
	if err != nil {
		return nil, err
	}
	return c.sub(node, "layernorm", []*ir.Value{x, w, b}, ir.Attrs{"axis": 2, "epsilon": c.float("layer_norm_eps")})
}

// ff is linear2(activation(linear1(x))).
func (t *tlayer) ff(x *ir.Value) (*ir.Value, error) {
	c := t.c
	h, err := c.linear("linear1", "linear1.", x, t.dimFF, true)
	if err != nil {
		return nil, err
	}
	act := c.str("activation")
	var attrs ir.Attrs
	if act == "gelu" {
		attrs = ir.Attrs{"approximate": "none"}
	}
	if h, err = c.sub("activation", act, []*ir.Value{h}, attrs); err != nil {
		return nil, err
	}
	return c.linear("linear2", "linear2.", h, t.e, true)
}

// residual is x + f(norm(x)) with norm_first, else norm(x + f(x)). The
// last node of the step is named step (the layer's own name when final).
func (t *tlayer) residual(x *ir.Value, norm, step string, final bool, f func(*ir.Value) (*ir.Value, error)) (*ir.Value, error) {
	c := t.c
	last := step
	if final {
		last = ""
	}
	if t.normFirst {
		h, err := t.norm(norm, norm, x)
		if err != nil {
			return nil, err
		}
		if h, err = f(h); err != nil {
			return nil, err
		}
		return c.sub(last, "add", []*ir.Value{x, h}, nil)
	}
	h, err := f(x)
	if err != nil {
		return nil, err
	}
	if h, err = c.sub(step+"_residual", "add", []*ir.Value{x, h}, nil); err != nil {
		return nil, err
	}
	if !final {
		last = norm
	}
	return t.norm(norm, last, h)
}

func (t *tlayer) attention(prefix string, q, kv *ir.Value, causal bool, attnMask, keyPad *ir.Value) (*ir.Value, error) {
	c := t.c
	s := mhaSpec{prefix: prefix, heads: c.int("nhead"), bias: true, batchFirst: c.bool("batch_first"),
		causal: causal, attnMask: attnMask, keyPad: keyPad}
	o, _, err := c.mha(s, q, kv, kv, prefix+"out")
	return o, err
}

// buildEncoderLayer is nn.TransformerEncoderLayer (torch 1.13):
// x + sa(norm1(x)), + ff(norm2(·)) with norm_first; else norm1(x + sa(x)),
// norm2(· + ff(·)).
func buildEncoderLayer(c *call) (val, error) {
	t, err := newTLayer(c)
	if err != nil {
		return val{}, err
	}
	x, err := t.residual(c.x(), "norm1", "sa", false, func(h *ir.Value) (*ir.Value, error) {
		return t.attention("self_attn.", h, h, c.bool("is_causal"), c.tensor("src_mask"), c.tensor("src_key_padding_mask"))
	})
	if err != nil {
		return val{}, err
	}
	if x, err = t.residual(x, "norm2", "ff", true, t.ff); err != nil {
		return val{}, err
	}
	return tensorVal(x), nil
}

// buildDecoderLayer is nn.TransformerDecoderLayer: self-attention over
// tgt (norm1), attention to memory (multihead_attn, norm2), feed-forward
// (norm3).
func buildDecoderLayer(c *call) (val, error) {
	t, err := newTLayer(c)
	if err != nil {
		return val{}, err
	}
	mem := c.in[1]
	if len(mem.Type.Shape) != 3 || mem.Type.Shape[2] != t.e {
		return val{}, c.errorf("memory %s %v must be rank 3 with d_model %d features", mem.Name, mem.Type, t.e)
	}
	x, err := t.residual(c.x(), "norm1", "sa", false, func(h *ir.Value) (*ir.Value, error) {
		return t.attention("self_attn.", h, h, c.bool("tgt_is_causal"), c.tensor("tgt_mask"), c.tensor("tgt_key_padding_mask"))
	})
	if err != nil {
		return val{}, err
	}
	if x, err = t.residual(x, "norm2", "mha", false, func(h *ir.Value) (*ir.Value, error) {
		return t.attention("multihead_attn.", h, mem, c.bool("memory_is_causal"), c.tensor("memory_mask"), c.tensor("memory_key_padding_mask"))
	}); err != nil {
		return val{}, err
	}
	if x, err = t.residual(x, "norm3", "ff", true, t.ff); err != nil {
		return val{}, err
	}
	return tensorVal(x), nil
}

// seqAxis is the sequence axis of a [S, N, E] input, or of [N, S, E]
// with batch_first; a rank-2 input [S, E] is one sequence.
func seqAxis(c *call) (int, error) {
	x := c.x()
	switch r := len(x.Type.Shape); {
	case r == 2:
		return 0, nil
	case r == 3 && c.bool("batch_first"):
		return 1, nil
	case r == 3:
		return 0, nil
	}
	return 0, c.errorf("wants input [S, N, E] (or [N, S, E] with batch_first=true, or [S, E]), got %s %v", x.Name, x.Type)
}

// addPositions adds pe [S, E] to the input along its sequence axis.
func addPositions(c *call, axis int, pe *ir.Value) (val, error) {
	x := c.x()
	shape := make([]int, len(x.Type.Shape))
	for i := range shape {
		shape[i] = 1
	}
	shape[axis], shape[len(shape)-1] = pe.Type.Shape[0], pe.Type.Shape[1]
	b, err := c.reshape("positions", pe, shape...)
	if err != nil {
		return val{}, err
	}
	y, err := c.sub("", "add", []*ir.Value{x, b}, nil)
	return tensorVal(y), err
}

// buildLearnedPos adds rows 0..S-1 of a learned table weight
// [num_embeddings, E] (an nn.Embedding applied to torch.arange(S)).
func buildLearnedPos(c *call) (val, error) {
	axis, err := seqAxis(c)
	if err != nil {
		return val{}, err
	}
	x := c.x()
	sl, e := x.Type.Shape[axis], x.Type.Shape[len(x.Type.Shape)-1]
	if c.has("embedding_dim") && c.int("embedding_dim") != e {
		return val{}, c.errorf("embedding_dim is %d, but %s %v has %d features", c.int("embedding_dim"), x.Name, x.Type, e)
	}
	if num := c.int("num_embeddings"); num < sl {
		return val{}, c.errorf("num_embeddings %d is smaller than the sequence length %d of %s %v", num, sl, x.Name, x.Type)
	}
	init, err := c.initFor("normal")
	if err != nil {
		return val{}, err
	}
	w, err := c.param(param{suffix: "weight", kind: ir.Param, shape: ir.Shape{c.int("num_embeddings"), e}, init: init})
	if err != nil {
		return val{}, err
	}
	idx := ir.NewTensor(ir.I64, ir.Shape{sl})
	for i := range idx.I64() {
		idx.I64()[i] = int64(i)
	}
	iv, err := c.constant("position_ids", idx)
	if err != nil {
		return val{}, err
	}
	pe, err := c.sub("rows", "gather", []*ir.Value{w, iv}, ir.Attrs{"axis": 0})
	if err != nil {
		return val{}, err
	}
	return addPositions(c, axis, pe)
}

// buildSinusoidalPos adds the sinusoidal encoding of "Attention Is All
// You Need" (the PyTorch tutorial's PositionalEncoding): pe[p, 2i] =
// sin(p·10000^(-2i/E)), pe[p, 2i+1] = cos(same). The table is computed in
// float64 and rounded once; the tutorial's float32 recipe differs from it
// by a few float32 ulps of the angle.
func buildSinusoidalPos(c *call) (val, error) {
	axis, err := seqAxis(c)
	if err != nil {
		return val{}, err
	}
	if err := checkDropout(c); err != nil {
		return val{}, err
	}
	x := c.x()
	sl, e := x.Type.Shape[axis], x.Type.Shape[len(x.Type.Shape)-1]
	if c.has("d_model") && c.int("d_model") != e {
		return val{}, c.errorf("d_model is %d, but %s %v has %d features", c.int("d_model"), x.Name, x.Type, e)
	}
	if e%2 != 0 {
		return val{}, c.errorf("wants an even number of features, got %s %v", x.Name, x.Type)
	}
	if ml := c.int("max_len"); ml < sl {
		return val{}, c.errorf("max_len %d is smaller than the sequence length %d of %s %v", ml, sl, x.Name, x.Type)
	}
	if sl*e > maxAlloc {
		return val{}, c.errorf("the table [%d, %d] is too large", sl, e)
	}
	t := ir.NewTensor(ir.F32, ir.Shape{sl, e})
	pe := t.F32()
	for p := 0; p < sl; p++ {
		for i := 0; i < e; i += 2 {
			a := float64(p) * math.Exp(float64(i)*(-math.Log(10000)/float64(e)))
			pe[p*e+i], pe[p*e+i+1] = float32(math.Sin(a)), float32(math.Cos(a))
		}
	}
	pv, err := c.constant("pe", t)
	if err != nil {
		return val{}, err
	}
	return addPositions(c, axis, pv)
}

package dl

import (
	"sort"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/ir"
)

// The attention layers' numerics are checked against PyTorch in
// examples/targets_test.go (gen_targets.py); these tests pin their
// parameter names and their errors.

const seqIn = "input x: f32[5, 2, 16]\ninput mem: f32[7, 2, 16]\n"

func attnParamNames(t *testing.T, src string) []string {
	t.Helper()
	g := load(t, src)
	var names []string
	for _, p := range g.Params {
		if p.Kind == ir.Param { // not the layer's constants (scale, indices, masks)
			names = append(names, p.Name)
		}
	}
	sort.Strings(names)
	return names
}

func TestAttentionParamNames(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{seqIn + "y = x | attn: multihead_attention(16, 4)\noutput y",
			"attn.in_proj_bias attn.in_proj_weight attn.out_proj.bias attn.out_proj.weight"},
		{seqIn + "y = x | attn: multihead_attention(mem, 16, 4, bias=false)\noutput y",
			"attn.in_proj_weight attn.out_proj.weight"},
		{"input q: f32[2, 5, 16]\ninput k: f32[2, 7, 12]\ninput v: f32[2, 7, 8]\n" +
			"y = q | attn: multihead_attention(k, v, 16, 2, batch_first=true)\noutput y",
			"attn.in_proj_bias attn.k_proj_weight attn.out_proj.bias attn.out_proj.weight attn.q_proj_weight attn.v_proj_weight"},
		{seqIn + "y = x | enc: transformer_encoder_layer(16, 4, dim_feedforward=8)\noutput y",
			"enc.linear1.bias enc.linear1.weight enc.linear2.bias enc.linear2.weight enc.norm1.bias enc.norm1.weight enc.norm2.bias enc.norm2.weight " +
				"enc.self_attn.in_proj_bias enc.self_attn.in_proj_weight enc.self_attn.out_proj.bias enc.self_attn.out_proj.weight"},
		{seqIn + "y = x | dec: transformer_decoder_layer(mem, 16, 4, dim_feedforward=8, norm_first=true)\noutput y",
			"dec.linear1.bias dec.linear1.weight dec.linear2.bias dec.linear2.weight dec.multihead_attn.in_proj_bias dec.multihead_attn.in_proj_weight " +
				"dec.multihead_attn.out_proj.bias dec.multihead_attn.out_proj.weight dec.norm1.bias dec.norm1.weight dec.norm2.bias dec.norm2.weight " +
				"dec.norm3.bias dec.norm3.weight dec.self_attn.in_proj_bias dec.self_attn.in_proj_weight dec.self_attn.out_proj.bias dec.self_attn.out_proj.weight"},
		{seqIn + "y = x | pos: positional_embedding(10)\noutput y", "pos.weight"},
	} {
		if got := strings.Join(attnParamNames(t, tc.src), " "); got != tc.want {
			t.Errorf("%s\nparams %s\nwant   %s", tc.src, got, tc.want)
		}
	}
}

func TestAttentionShapes(t *testing.T) {
	g := load(t, seqIn+"y, w = x | attn: multihead_attention(mem, 16, 4, need_weights=true)\n"+
		"z, zw = x | a2: multihead_attention(16, 2, need_weights=true, average_attn_weights=false)\noutput y, w, z, zw")
	want := []string{"f32[5,2,16]", "f32[2,5,7]", "f32[5,2,16]", "f32[2,2,5,5]"}
	for i, o := range g.Outputs {
		if got := o.Type.String(); got != want[i] {
			t.Errorf("output %d is %s, want %s", i, got, want[i])
		}
	}
}

func TestAttentionErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{seqIn + "y = x | multihead_attention(12, 4)\noutput y", "embed_dim is 12, but query x f32[5,2,16] has 16 features"},
		{seqIn + "y = x | multihead_attention(16, 3)\noutput y", "embed_dim 16 must be divisible by num_heads 3"},
		{seqIn + "y = x | multihead_attention(16, 4, add_bias_kv=true)\noutput y", "add_bias_kv and add_zero_attn are not supported"},
		{seqIn + "y = x | multihead_attention(16, 4, dropout=2)\noutput y", "dropout must be between 0 and 1"},
		{seqIn + "y = x | multihead_attention(mem, 16, 4, kdim=8)\noutput y", "kdim is 8, but mem f32[7,2,16] has 16 features"},
		{seqIn + "input m: bool[2, 5]\ny = x | multihead_attention(mem, 16, 4, key_padding_mask=m)\noutput y", "key_padding_mask m bool[2,5] must be [N, S] = [2, 7]"},
		{seqIn + "input m: f32[5, 5, 2]\ny = x | multihead_attention(16, 4, attn_mask=m)\noutput y", "attn_mask m f32[5,5,2] must be [L, S] = [5, 5] or [N*num_heads, L, S] = [8, 5, 5]"},
		{seqIn + "input m: i64[5, 5]\ny = x | multihead_attention(16, 4, attn_mask=m)\noutput y", "mask m must be bool or f32"},
		{seqIn + "input b: f32[2, 16]\ny = b | multihead_attention(16, 4)\noutput y", "wants f32 query, key and value [L, N, E]"},
		{seqIn + "y = x | mha: multihead_attention(x, x, x, 16, 4)\noutput y", "takes query, key and value"},
		{seqIn + "y = x | transformer_encoder_layer(32, 4)\noutput y", "d_model is 32, but x f32[5,2,16] has 16 features"},
		{seqIn + "y = x | transformer_encoder_layer(16, 4, activation=\"tanh\")\noutput y", "want one of relu, gelu"},
		{seqIn + "y = x | transformer_encoder_layer(16, 4, layer_norm_eps=-1)\noutput y", "layer_norm_eps must be a non-negative number"},
		{seqIn + "y = x | transformer_encoder_layer(16, 4, dim_feedforward=0)\noutput y", "dim_feedforward must be positive"},
		{seqIn + "input m: f32[7, 2, 8]\ny = x | transformer_decoder_layer(m, 16, 4)\noutput y", "memory m f32[7,2,8] must be rank 3 with d_model 16 features"},
		{seqIn + "y = x | transformer_decoder_layer(16, 4)\noutput y", "takes 2 input tensor(s), got 1"},
		{seqIn + "y = x | positional_embedding(4)\noutput y", "num_embeddings 4 is smaller than the sequence length 5"},
		{seqIn + "y = x | positional_embedding(8, 12)\noutput y", "embedding_dim is 12, but x f32[5,2,16] has 16 features"},
		{seqIn + "y = x | sinusoidal_positional_encoding(max_len=4)\noutput y", "max_len 4 is smaller than the sequence length 5"},
		{"input x: f32[5, 2, 15]\ny = x | sinusoidal_positional_encoding\noutput y", "wants an even number of features"},
		{"input x: f32[5]\ny = x | sinusoidal_positional_encoding\noutput y", "wants input [S, N, E]"},
	} {
		_, err := Load("m.dl", []byte(tc.src), Options{NoWeights: true})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.src, err, tc.want)
		} else if !strings.Contains(err.Error(), "m.dl:") {
			t.Errorf("error names no position: %v", err)
		}
	}
}

// TestCausalMask checks the causal mask's pattern: key j is hidden from
// query i exactly when j > i.
func TestCausalMask(t *testing.T) {
	g := load(t, "input x: f32[2, 3, 8]\ny = x | a: multihead_attention(8, 2, batch_first=true, is_causal=true)\noutput y")
	for _, p := range g.Params {
		if p.Name != "a.causal_mask" {
			continue
		}
		b := p.Data.Bools()
		for i := 0; i < 3; i++ {
			for j := 0; j < 3; j++ {
				if b[i*3+j] != (j > i) {
					t.Errorf("mask[%d][%d] = %v", i, j, b[i*3+j])
				}
			}
		}
		return
	}
	t.Fatal("no a.causal_mask")
}

func init() {
	layerCases = append(layerCases, []struct {
		name, src string
		want      []string
	}{
		{"multihead_attention", seqIn + "y = x | attn: multihead_attention(16, 4)\noutput y", []string{
			"attn.qkv = dense(attn.query_nle, attn.in_proj_weight, attn.in_proj_bias): f32[2,5,48]",
			"attn.scores = matmul(attn.q_scaled, attn.k_t): f32[2,4,5,5]",
			"attn.weights = softmax(attn.scores) {axis=-1}: f32[2,4,5,5]",
			"attn = transpose(attn.out_proj) {perm=[1,0,2]}: f32[5,2,16]"}},
		{"transformer_encoder_layer", seqIn + "y = x | enc: transformer_encoder_layer(16, 4, dim_feedforward=8)\noutput y", []string{
			"enc.sa_residual = add(x, enc.self_attn.out): f32[5,2,16]",
			"enc.norm1 = layernorm(enc.sa_residual, enc.norm1.weight, enc.norm1.bias) {axis=2 epsilon=1e-05}: f32[5,2,16]",
			"enc.activation = relu(enc.linear1): f32[5,2,8]",
			"enc = layernorm(enc.ff_residual, enc.norm2.weight, enc.norm2.bias) {axis=2 epsilon=1e-05}: f32[5,2,16]"}},
		{"transformer_decoder_layer", seqIn + "y = x | dec: transformer_decoder_layer(mem, 16, 4, dim_feedforward=8, norm_first=true, activation=\"gelu\")\noutput y", []string{
			"dec.norm1 = layernorm(x, dec.norm1.weight, dec.norm1.bias)",
			"dec.multihead_attn.k_proj = matmul(dec.multihead_attn.key_nle, dec.multihead_attn.k_weight_t): f32[2,7,16]",
			`dec.activation = gelu(dec.linear1) {approximate="none"}: f32[5,2,8]`,
			"dec = add(dec.mha, dec.linear2): f32[5,2,16]"}},
		{"positions", seqIn + "y = x | pos: positional_embedding(10)\nz = x | sin: sinusoidal_positional_encoding\noutput y, z", []string{
			"pos.rows = gather(pos.weight, pos.position_ids) {axis=0}: f32[5,16]",
			"pos = add(x, pos.positions): f32[5,2,16]",
			"sin = add(x, sin.positions): f32[5,2,16]"}},
	}...)
}

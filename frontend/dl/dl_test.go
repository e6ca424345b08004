package dl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/weights"
)

func load(t *testing.T, src string) *ir.Graph {
	t.Helper()
	g, err := Load("m.dl", []byte(src), Options{NoWeights: true})
	if err != nil {
		t.Fatalf("Load:\n%v\nsource:\n%s", err, src)
	}
	return g
}

// img, seq1 and ids are input declarations shared by the layer cases.
const (
	img  = "input x: f32[2, 3, 8, 8]\n"
	vol  = "input x: f32[1, 2, 4, 4, 4]\n"
	sig  = "input x: f32[2, 3, 16]\n"
	vec  = "input x: f32[2, 10]\n"
	toks = "input x: i64[2, 5]\n"
)

// layerCases has one model per layer; want lists lines of the printed IR.
var layerCases = []struct {
	name, src string
	want      []string
}{
	{"cast", "input x: i32[2, 3]\ny = x | cast(f16)\nz = x | cast(\"bool\")\noutput y\noutput z", []string{
		`cast(x) {to="f16"}: f16[2,3]`, `cast(x) {to="bool"}: bool[2,3]`}},
	{"dense", vec + "y = x | fc: dense(4)\noutput y", []string{
		"param fc.weight: f32[4,10] init=he", "param fc.bias: f32[4] init=zeros",
		"fc = dense(x, fc.weight, fc.bias): f32[2,4]"}},
	{"linear-nobias", vec + "y = x | fc: linear(4, bias=false, init=xavier)\noutput y", []string{
		"param fc.weight: f32[4,10] init=xavier", "fc = dense(x, fc.weight): f32[2,4]"}},
	{"conv1d", sig + "y = x | c: conv1d(4, 3, stride=2, padding=1)\noutput y", []string{
		"c = conv(x, c.weight, c.bias) {dilations=[1] groups=1 pads=[1,1] strides=[2]}: f32[2,4,8]"}},
	{"conv2d", img + "y = x | c: conv2d(6, [3, 1], padding=(1, 0), dilation=2, groups=3, bias=false)\noutput y", []string{
		"param c.weight: f32[6,1,3,1] init=he",
		"c = conv(x, c.weight) {dilations=[2,2] groups=3 pads=[1,0,1,0] strides=[1,1]}: f32[2,6,6,8]"}},
	{"conv2d-same-odd", img + "y = x | c: conv2d(4, 3, padding=\"same\")\noutput y", []string{
		"pads=[1,1,1,1] strides=[1,1]}: f32[2,4,8,8]"}},
	{"conv2d-same-even", img + "y = x | c: conv2d(4, 4, padding=\"same\")\noutput y", []string{
		"pads=[1,1,2,2] strides=[1,1]}: f32[2,4,8,8]"}},
	{"conv2d-same-dilated-even", img + "y = x | c: conv2d(4, [2, 4], dilation=[3, 1], padding=\"same\")\noutput y", []string{
		"{dilations=[3,1] groups=1 pads=[1,1,2,2] strides=[1,1]}: f32[2,4,8,8]"}},
	{"conv2d-valid", img + "y = x | c: conv2d(4, 3, padding=\"valid\")\noutput y", []string{
		"pads=[0,0,0,0] strides=[1,1]}: f32[2,4,6,6]"}},
	{"conv3d", vol + "y = x | c: conv3d(3, 3, padding=1)\noutput y", []string{
		"param c.weight: f32[3,2,3,3,3] init=he", "c = conv(x, c.weight, c.bias) {dilations=[1,1,1] groups=1 pads=[1,1,1,1,1,1] strides=[1,1,1]}: f32[1,3,4,4,4]"}},
	{"maxpool1d", sig + "y = x | p: maxpool1d(3, stride=2, padding=1, ceil_mode=true)\noutput y", []string{
		"p = maxpool(x) {ceil_mode=true dilations=[1] kernel=[3] pads=[1,1] strides=[2]}: f32[2,3,9]"}},
	{"maxpool2d", img + "y = x | p: maxpool2d(2)\noutput y", []string{
		"p = maxpool(x) {ceil_mode=false dilations=[1,1] kernel=[2,2] pads=[0,0,0,0] strides=[2,2]}: f32[2,3,4,4]"}},
	{"maxpool2d-dilation", img + "y = x | p: maxpool2d(3, 1, dilation=2)\noutput y", []string{
		"p = maxpool(x) {ceil_mode=false dilations=[2,2] kernel=[3,3] pads=[0,0,0,0] strides=[1,1]}: f32[2,3,4,4]"}},
	{"maxpool3d", vol + "y = x | p: maxpool3d(2)\noutput y", []string{"f32[1,2,2,2,2]"}},
	{"avgpool1d", sig + "y = x | p: avgpool1d(4)\noutput y", []string{
		"p = avgpool(x) {ceil_mode=false count_include_pad=true dilations=[1] kernel=[4] pads=[0,0] strides=[4]}: f32[2,3,4]"}},
	{"avgpool2d", img + "y = x | p: avgpool2d(3, stride=2, padding=1, count_include_pad=false)\noutput y", []string{
		"p = avgpool(x) {ceil_mode=false count_include_pad=false dilations=[1,1] kernel=[3,3] pads=[1,1,1,1] strides=[2,2]}: f32[2,3,4,4]"}},
	{"avgpool3d", vol + "y = x | p: avgpool3d([1, 2, 2])\noutput y", []string{"f32[1,2,4,2,2]"}},
	{"global_avgpool", img + "y = x | g: global_avgpool\noutput y", []string{"g = global_avgpool(x): f32[2,3,1,1]"}},
	{"global_maxpool", img + "y = x | g: global_maxpool\noutput y", []string{"g = global_maxpool(x): f32[2,3,1,1]"}},
	{"adaptive_avgpool2d", img + "y = x | g: adaptive_avgpool2d((1, 1))\noutput y", []string{"g = global_avgpool(x): f32[2,3,1,1]"}},
	{"adaptive_avgpool1d", sig + "y = x | g: adaptive_avgpool1d(1)\noutput y", []string{"g = global_avgpool(x): f32[2,3,1]"}},
	{"adaptive_maxpool1d", sig + "y = x | g: adaptive_maxpool1d(1)\noutput y", []string{"g = global_maxpool(x): f32[2,3,1]"}},
	{"adaptive_maxpool2d", img + "y = x | g: adaptive_maxpool2d(1)\noutput y", []string{"g = global_maxpool(x): f32[2,3,1,1]"}},
	{"adaptive_avgpool3d", vol + "y = x | g: adaptive_avgpool3d([1, 1, 1])\noutput y", []string{"g = global_avgpool(x): f32[1,2,1,1,1]"}},
	{"adaptive_maxpool3d", vol + "y = x | g: adaptive_maxpool3d(1)\noutput y", []string{"g = global_maxpool(x): f32[1,2,1,1,1]"}},
	{"relu", vec + "y = x | r: relu\noutput y", []string{"r = relu(x): f32[2,10]"}},
	{"relu-call", vec + "y = relu(x)\noutput y", []string{"relu_1 = relu(x): f32[2,10]"}},
	{"leaky_relu", vec + "y = x | r: leaky_relu(0.2)\noutput y", []string{"r = leaky_relu(x) {alpha=0.2}: f32[2,10]"}},
	{"leaky_relu-default", vec + "y = x | r: leaky_relu\noutput y", []string{"r = leaky_relu(x) {alpha=0.01}: f32[2,10]"}},
	{"sigmoid", vec + "y = x | s: sigmoid\noutput y", []string{"s = sigmoid(x): f32[2,10]"}},
	{"gelu", vec + "y = x | g: gelu\nz = y | h: gelu(approximate=\"tanh\")\noutput z", []string{
		`g = gelu(x) {approximate="none"}: f32[2,10]`, `h = gelu(g) {approximate="tanh"}: f32[2,10]`}},
	{"math", vec + "y = x | a: abs | s: sqrt | r: round\nz = sign(y)\noutput z", []string{
		"a = abs(x): f32[2,10]", "s = sqrt(a): f32[2,10]", "r = round(s): f32[2,10]", "sign_1 = sign(r): f32[2,10]"}},
	{"math-all", vec + "y = x | l0: exp | l1: log | l2: neg | l3: reciprocal | l4: floor | l5: ceil | l6: erf | l7: sin | l8: cos | l9: tan | l10: asin | l11: acos | l12: atan | l13: sinh | l14: cosh | l15: asinh | l16: acosh | l17: atanh\noutput y", []string{
		"l0 = exp(x): f32[2,10]", "l1 = log(l0): f32[2,10]", "l2 = neg(l1): f32[2,10]", "l3 = reciprocal(l2): f32[2,10]", "l4 = floor(l3): f32[2,10]", "l5 = ceil(l4): f32[2,10]", "l6 = erf(l5): f32[2,10]", "l7 = sin(l6): f32[2,10]", "l8 = cos(l7): f32[2,10]", "l9 = tan(l8): f32[2,10]", "l10 = asin(l9): f32[2,10]", "l11 = acos(l10): f32[2,10]", "l12 = atan(l11): f32[2,10]", "l13 = sinh(l12): f32[2,10]", "l14 = cosh(l13): f32[2,10]", "l15 = asinh(l14): f32[2,10]", "l16 = acosh(l15): f32[2,10]", "l17 = atanh(l16): f32[2,10]"}},
	{"acts", vec + "y = x | a: hardsigmoid | b: hardswish | c: elu(0.5) | d: selu | e: celu(alpha=2.0) | f: softplus(beta=2, threshold=10) | g: softsign | h: mish | i: silu | j: threshold(0.1, 20) | k: hardshrink | l: softshrink(0.25)\noutput y", []string{
		"a = hardsigmoid(x) {alpha=0.16666666666666666 beta=0.5}: f32[2,10]", "b = hardswish(a): f32[2,10]", "c = elu(b) {alpha=0.5}: f32[2,10]",
		"d = selu(c) {alpha=1.6732632423543772 gamma=1.0507009873554805}: f32[2,10]", "e = celu(d) {alpha=2}: f32[2,10]",
		"f = softplus(e) {beta=2 threshold=10}: f32[2,10]", "g = softsign(f): f32[2,10]", "h = mish(g): f32[2,10]", "i = silu(h) {alpha=1}: f32[2,10]",
		"j = threshold(i) {threshold=0.1 value=20}: f32[2,10]", "k = shrink(j) {bias=0 lambd=0.5}: f32[2,10]", "l = shrink(k) {bias=0.25 lambd=0.25}: f32[2,10]"}},
	{"prelu", img + "y = x | p: prelu(3) | q: prelu\noutput y", []string{
		"p.slope = reshape(p.weight) {shape=[3,1,1]}: f32[3,1,1]", "p = prelu(x, p.slope): f32[2,3,8,8]", "q = prelu(p, q.weight): f32[2,3,8,8]"}},
	{"pow", vec + "y = x | p: pow(2) | m: maximum(0.5)\nz = minimum(y, x)\nw = pow(x, z)\noutput w", []string{
		"p = pow(x, p.scalar): f32[2,10]", "m = maximum(p, m.scalar): f32[2,10]", "minimum_1 = minimum(m, x): f32[2,10]", "pow_1 = pow(x, minimum_1): f32[2,10]"}},
	{"layernorm", img + "y = x | ln: layernorm([8, 8], eps=1e-6) | l2: layernorm(8, bias=false) | l3: layernorm(8, elementwise_affine=false) | r: rmsnorm(8)\noutput y", []string{
		"ln = layernorm(x, ln.weight, ln.bias) {axis=2 epsilon=1e-06}: f32[2,3,8,8]", "l2 = layernorm(ln, l2.weight, _) {axis=3 epsilon=1e-05}: f32[2,3,8,8]",
		"l3 = layernorm(l2, _, _) {axis=3 epsilon=1e-05}: f32[2,3,8,8]", "r = rmsnorm(l3, r.weight) {axis=3 epsilon=1.1920928955078125e-07}: f32[2,3,8,8]"}},
	{"groupnorm", img + "y = x | g: groupnorm(1, 3) | i: instancenorm2d(3, affine=true) | j: instancenorm2d | k: instancenorm2d(track_running_stats=true)\noutput y", []string{
		"g = groupnorm(x, g.weight, g.bias) {epsilon=1e-05 num_groups=1}: f32[2,3,8,8]", "i = groupnorm(g, i.weight, i.bias) {epsilon=1e-05 num_groups=3}: f32[2,3,8,8]",
		"j = groupnorm(i, _, _) {epsilon=1e-05 num_groups=3}: f32[2,3,8,8]", "k = batchnorm(j, k.weight, k.bias, k.running_mean, k.running_var) {epsilon=1e-05}: f32[2,3,8,8]"}},
	{"instancenorm1d", "input x: f32[2, 3, 7]\ny = x | i: instancenorm1d(3, eps=0.001)\noutput y", []string{"i = groupnorm(x, _, _) {epsilon=0.001 num_groups=3}: f32[2,3,7]"}},
	{"instancenorm3d", vol + "y = x | i: instancenorm3d(affine=true)\noutput y", []string{"i = groupnorm(x, i.weight, i.bias) {epsilon=1e-05 num_groups=2}: f32[1,2,4,4,4]"}},
	{"reductions2", img + "a = x | amin(dim=1)\nb = x | prod(dim=[2, 3], keepdim=true)\nc = x | logsumexp(dim=-1)\noutput a\noutput b\noutput c", []string{
		"amin_1 = reduce_min(x) {axes=[1] keepdims=false}: f32[2,8,8]", "prod_1 = reduce_prod(x) {axes=[2,3] keepdims=true}: f32[2,3,1,1]",
		"logsumexp_1 = reduce_log_sum_exp(x) {axes=[-1] keepdims=false}: f32[2,3,8]"}},
	{"argmax", img + "a = x | argmax(dim=1)\nb = x | argmin(dim=-1, keepdim=true)\nc = x | am: argmax\nd = x | an: argmin(keepdim=true)\noutput a\noutput b\noutput c\noutput d", []string{
		"argmax_1 = argmax(x) {axis=1 keepdims=false select_last_index=false}: i64[2,8,8]", "argmin_1 = argmin(x) {axis=-1 keepdims=true select_last_index=false}: i64[2,3,8,1]",
		"am.flat = reshape(x) {shape=[-1]}: f32[384]", "am = argmax(am.flat) {axis=0 keepdims=false select_last_index=false}: i64[]",
		"an.arg = argmin(an.flat) {axis=0 keepdims=true select_last_index=false}: i64[1]", "an = reshape(an.arg) {shape=[1,1,1,1]}: i64[1,1,1,1]"}},
	{"cumsum", img + "y = x | cumsum(2)\noutput y", []string{"cumsum_1 = cumsum(x) {axis=2 exclusive=false reverse=false}: f32[2,3,8,8]"}},
	{"local_response_norm", img + "y = x | local_response_norm(3, k=2)\noutput y", []string{"local_response_norm_1 = lrn(x) {alpha=0.0001 beta=0.75 bias=2 size=3}: f32[2,3,8,8]"}},
	{"topk", vec + "v, i = x | t: topk(3, largest=false)\noutput v\noutput i", []string{"t, t.indices = topk(x) {axis=-1 k=3 largest=false}: f32[2,3], i64[2,3]", "output i = t.indices"}},
	{"sum", img + "y = x | s: sum(dim=[1, -1], keepdim=true)\noutput y", []string{"s = reduce_sum(x) {axes=[1,-1] keepdims=true}: f32[2,1,8,1]"}},
	{"sum-all", img + "y = x | s: sum\noutput y", []string{"s = reduce_sum(x) {axes=[] keepdims=false}: f32[]"}},
	{"mean", img + "y = x | m: mean(dim=[-2, 1])\noutput y", []string{"m = reduce_mean(x) {axes=[-2,1] keepdims=false}: f32[2,8]"}},
	{"amax", img + "y = x | m: amax(dim=2)\noutput y", []string{"m = reduce_max(x) {axes=[2] keepdims=false}: f32[2,3,8]"}},
	{"tanh", vec + "y = x | s: tanh\noutput y", []string{"s = tanh(x): f32[2,10]"}},
	{"softmax", vec + "output p = softmax(x)", []string{"softmax_1 = softmax(x) {axis=-1}: f32[2,10]", "output p = softmax_1"}},
	{"log_softmax", img + "y = x | s: log_softmax(dim=1)\noutput y", []string{"s = log_softmax(x) {axis=1}: f32[2,3,8,8]"}},
	{"batchnorm1d", vec + "y = x | bn: batchnorm1d(10, eps=0.001)\noutput y", []string{
		"param bn.weight: f32[10]", "param bn.bias: f32[10]", "const bn.running_mean: f32[10]", "const bn.running_var: f32[10]",
		"bn = batchnorm(x, bn.weight, bn.bias, bn.running_mean, bn.running_var) {epsilon=0.001}: f32[2,10]"}},
	{"batchnorm2d", img + "y = x | bn: batchnorm2d\noutput y", []string{"bn = batchnorm(x, bn.weight, bn.bias, bn.running_mean, bn.running_var) {epsilon=1e-05}: f32[2,3,8,8]"}},
	{"batchnorm3d-noaffine", vol + "y = x | bn: batchnorm3d(affine=false)\noutput y", []string{"const bn.weight: f32[2]", "f32[1,2,4,4,4]"}},
	{"flatten", img + "y = x | f: flatten\noutput y", []string{"f = flatten(x) {axis=1}: f32[2,192]"}},
	{"flatten-start2", img + "y = x | f: flatten(2)\noutput y", []string{"f = reshape(x) {shape=[2,3,64]}: f32[2,3,64]"}},
	{"flatten-start0", img + "y = x | f: flatten(0)\noutput y", []string{"f = reshape(x) {shape=[384]}: f32[384]"}},
	{"flatten-end", img + "y = x | f: flatten(1, 2)\noutput y", []string{"f = reshape(x) {shape=[2,24,8]}: f32[2,24,8]"}},
	{"reshape", img + "const batch = 2\ny = x | r: reshape(batch, -1)\noutput y", []string{"r = reshape(x) {shape=[2,-1]}: f32[2,192]"}},
	{"reshape-list", img + "y = x | r: view([2, 3, 64])\noutput y", []string{"r = reshape(x) {shape=[2,3,64]}: f32[2,3,64]"}},
	{"transpose", sig + "y = x | t: transpose(1, 2)\noutput y", []string{"t = transpose(x) {perm=[0,2,1]}: f32[2,16,3]"}},
	{"transpose-neg", sig + "y = x | t: transpose(0, -1)\noutput y", []string{"t = transpose(x) {perm=[2,1,0]}: f32[16,3,2]"}},
	{"permute", sig + "y = x | t: permute(2, 0, 1)\noutput y", []string{"t = transpose(x) {perm=[2,0,1]}: f32[16,2,3]"}},
	{"concat", img + "y = c: concat(x, x, dim=1)\noutput y", []string{"c = concat(x, x) {axis=1}: f32[2,6,8,8]"}},
	{"concat-pipe", img + "y = x | c: cat(x, x, axis=-1)\noutput y", []string{"c = concat(x, x, x) {axis=-1}: f32[2,3,8,24]"}},
	{"add", vec + "y = x + x\noutput y", []string{"add_1 = add(x, x): f32[2,10]"}},
	{"sub", vec + "y = sub(x, x)\noutput y", []string{"sub_1 = sub(x, x): f32[2,10]"}},
	{"mul", vec + "y = x * x\noutput y", []string{"mul_1 = mul(x, x): f32[2,10]"}},
	{"div", vec + "y = x / 2\noutput y", []string{"const div_1.scalar: f32[]", "div_1 = div(x, div_1.scalar): f32[2,10]"}},
	{"div-call", vec + "y = div(x, x)\noutput y", []string{"div_1 = div(x, x): f32[2,10]"}},
	{"mul-pipe", vec + "y = x | m: mul(0.5)\noutput y", []string{"m = mul(x, m.scalar): f32[2,10]"}},
	{"neg", vec + "y = -x\noutput y", []string{"mul_1 = mul(x, mul_1.scalar): f32[2,10]"}},
	{"precedence", vec + "y = x + x * x | relu\noutput y", []string{"mul_1 = mul(x, x)", "add_1 = add(x, mul_1)", "relu_1 = relu(add_1)"}},
	{"matmul", vec + "y = matmul(x | transpose(0, 1), x)\noutput y", []string{"matmul_1 = matmul(transpose_1, x): f32[10,10]"}},
	{"dropout", vec + "y = x | d: dropout(0.1)\noutput y", []string{"d = dropout(x) {p=0.1}: f32[2,10]"}},
	{"embedding", toks + "y = x | emb: embedding(100, 8)\noutput y", []string{"param emb.weight: f32[100,8] init=normal", "emb = embedding(x, emb.weight): f32[2,5,8]"}},
	{"rnn", sig + "y = x | r: rnn(4, nonlinearity=relu, bias=false)\noutput y", []string{
		"param r.weight_ih_l0: f32[4,16] init=xavier", "param r.weight_hh_l0: f32[4,4] init=xavier",
		`r, r.h = rnn(x, _, r.weight_ih_l0, r.weight_hh_l0) {batch_first=false bias=false bidirectional=false hidden_size=4 nonlinearity="relu" num_layers=1}: f32[2,3,4], f32[1,3,4]`}},
	{"gru", sig + "y, h = x | g: gru(5, batch_first=true)\noutput y, h", []string{
		"param g.weight_ih_l0: f32[15,16]", "param g.bias_hh_l0: f32[15] init=zeros",
		"g, g.h = gru(x, _, g.weight_ih_l0, g.weight_hh_l0, g.bias_ih_l0, g.bias_hh_l0) {batch_first=true bias=true bidirectional=false hidden_size=5 linear_before_reset=true num_layers=1}: f32[2,3,5], f32[1,2,5]",
		"output y = g", "output h = g.h"}},
	{"lstm", sig + "input h0: f32[4, 3, 6]\ninput c0: f32[4, 3, 6]\ny, h, c = x | enc: lstm(6, num_layers=2, bidirectional=true, h0=h0, c0=c0)\noutput y, h, c", []string{
		"param enc.weight_ih_l0: f32[24,16]", "param enc.weight_ih_l0_reverse: f32[24,16]", "param enc.weight_ih_l1: f32[24,12]", "param enc.bias_hh_l1_reverse: f32[24]",
		"enc, enc.h, enc.c = lstm(x, h0, c0, enc.weight_ih_l0, enc.weight_hh_l0, enc.bias_ih_l0, enc.bias_hh_l0, enc.weight_ih_l0_reverse,",
		"{batch_first=false bias=true bidirectional=true hidden_size=6 num_layers=2}: f32[2,3,12], f32[4,3,6], f32[4,3,6]",
		"output y = enc", "output h = enc.h", "output c = enc.c"}},
	{"lstm-peepholes", sig + "y, h, c = x | enc: lstm(6, bias=false, peepholes=true)\noutput y, h, c", []string{
		"param enc.weight_peephole_l0: f32[18] init=zeros",
		"enc, enc.h, enc.c = lstm(x, _, _, enc.weight_ih_l0, enc.weight_hh_l0, enc.weight_peephole_l0) {batch_first=false bias=false bidirectional=false hidden_size=6 num_layers=1 peepholes=true}"}},
	{"clip", vec + "y = x | c: clip(0, 6)\noutput y", []string{"c = clip(x) {max=6 min=0}: f32[2,10]"}},
	{"clip-max", vec + "y = x | c: clamp(max=1)\noutput y", []string{"c = clip(x) {max=1 min=-inf}: f32[2,10]"}},
	{"relu6", vec + "y = x | c: relu6\noutput y", []string{"c = clip(x) {max=6 min=0}: f32[2,10]"}},
	{"hardtanh", vec + "y = x | c: hardtanh\noutput y", []string{"c = clip(x) {max=1 min=-1}: f32[2,10]"}},
	{"identity", vec + "y = x | i: identity\noutput y", []string{"i = identity(x): f32[2,10]"}},
	{"select", sig + "y = x | s: select(0, -1)\noutput y", []string{"const s.index: i64[]", "s = gather(x, s.index) {axis=0}: f32[3,16]"}},
	{"select-axis", sig + "y = x | s: select(dim=-1, index=3)\noutput y", []string{"s = gather(x, s.index) {axis=2}: f32[2,3]"}},
	{"index_select", sig + "const i: i64[2] = [2, 0]\ny = x | g: index_select(i, dim=0)\noutput y", []string{"const i: i64[2]", "g = gather(x, i) {axis=0}: f32[2,3,16]"}},
	{"conv-pads", img + "y = x | c: conv2d(4, 3, pads=[0, 1, 2, 1])\noutput y", []string{"pads=[0,1,2,1] strides=[1,1]}: f32[2,4,8,8]"}},
	{"pool-pads", img + "y = x | p: maxpool2d(2, pads=[0, 0, 1, 1])\noutput y", []string{"pads=[0,0,1,1] strides=[2,2]}: f32[2,3,4,4]"}},
	{"gru-lbr", sig + "y = x | g: gru(4, linear_before_reset=false)\noutput y", []string{"linear_before_reset=false"}},
	{"tensor-decls", sig + "param m: f32[16] = 0.5\nconst k: f32[] = 2\ny = x * m + k\noutput y", []string{"param m: f32[16]", "const k: f32[]"}},
	{"squeeze", img + "y = x | global_avgpool | s: squeeze(-1) | u: unsqueeze(0)\noutput y", []string{
		"s = squeeze(global_avgpool_1) {axes=[-1]}: f32[2,3,1]", "u = unsqueeze(s) {axes=[0]}: f32[1,2,3,1]"}},
	// PyTorch leaves an axis whose size is not 1 alone (issue 8, bug 8).
	{"squeeze-not-1", img + "y = x | s: squeeze(1)\noutput y", []string{"s = identity(x): f32[2,3,8,8]"}},
	{"squeeze-some", img + "y = x | global_avgpool | s: squeeze([1, 2, -1])\noutput y", []string{"s = squeeze(global_avgpool_1) {axes=[2,-1]}: f32[2,3]"}},
	{"clamp-min-above-max", vec + "y = x | c: clamp(min=1, max=0)\noutput y", []string{"c = clip(x) {max=0 min=1}: f32[2,10]"}},
	{"conv2d-same-bare", img + "y = x | c: conv2d(4, 3, padding=same)\noutput y", []string{"pads=[1,1,1,1]"}},
	{"conv2d-valid-bare", img + "y = x | c: conv2d(4, 3, padding=valid)\noutput y", []string{"pads=[0,0,0,0]", "f32[2,4,6,6]"}},
	{"maxpool1d-half", sig + "y = x | p: maxpool1d(3, padding=1)\noutput y", []string{"kernel=[3] pads=[1,1]"}},
	{"seq", img + "y = x | features: seq {\n  conv2d(4, 3)\n  relu\n  pool: maxpool2d(2) | flatten\n}\noutput y", []string{
		"param features.0.weight: f32[4,3,3,3]", "features.1 = relu(features.0)", "features.pool = maxpool(features.1)", "features.3 = flatten(features.pool)"}},
	{"nested-seq", img + "y = x | f: seq { seq { relu\n relu }\n relu }\noutput y", []string{"f.0.1 = relu(f.0.0)", "f.1 = relu(f.0.1)"}},
	{"block-repeat", img + `block basic(x; planes, stride=1) {
  h = x | conv1: conv2d(planes, 3, stride=stride, padding=1, bias=false) | bn1: batchnorm2d | relu
        | conv2: conv2d(planes, 3, padding=1, bias=false) | bn2: batchnorm2d
  return relu(h + x)
}
y = x | layer1: repeat(2) basic(3)
output y`, []string{
		"param layer1.0.conv1.weight: f32[3,3,3,3] init=he", "param layer1.1.bn2.bias: f32[3]",
		"layer1.0.add_1 = add(layer1.0.bn2, x)", "layer1.0.relu_2 = relu(layer1.0.add_1)",
		"layer1.1.add_1 = add(layer1.1.bn2, layer1.0.relu_2)", "output y = layer1.1.relu_2"}},
	{"block-graph", vec + `block two(a, b; n) {
  s = a | fc: dense(n)
  return s, b
}
p, q = b: two(x, x, n=3)
output p, q`, []string{"b.fc = dense(x, b.fc.weight, b.fc.bias): f32[2,3]", "output q = x"}},
	{"repeat-layer", vec + "y = x | r: repeat(3) dense(10)\noutput y", []string{"r.2 = dense(r.1, r.2.weight, r.2.bias)"}},
	{"consts", "const batch = 4\nconst hidden = 2 * batch + 1\ninput x: f32[batch, hidden]\ny = x | fc: dense(hidden * 2)\noutput y", []string{
		"graph m batch=4", "fc = dense(x, fc.weight, fc.bias): f32[4,18]"}},
	{"labels", vec + "labels \"a\", \"b\",\n  \"c\"\ny = x | fc: dense(3)\noutput y", []string{"output y = fc"}},
	{"model-init", "model net\ninit zeros\n" + vec + "y = x | fc: dense(3)\noutput y", []string{"graph net batch=0", "param fc.weight: f32[3,10] init=zeros"}},
}

func TestLayers(t *testing.T) {
	for _, tc := range layerCases {
		t.Run(tc.name, func(t *testing.T) {
			g := load(t, tc.src)
			p := ir.Print(g)
			for _, w := range tc.want {
				if !strings.Contains(p, w) {
					t.Errorf("printed IR lacks %q:\n%s", w, p)
				}
			}
		})
	}
}

func TestEveryLayerHasACase(t *testing.T) {
	src := ""
	for _, tc := range layerCases {
		src += tc.src
	}
	for name := range layerTable {
		if !strings.Contains(src, name) {
			t.Errorf("layer %s has no case in layerCases", name)
		}
	}
}

func TestLenetPrint(t *testing.T) {
	b, err := os.ReadFile("testdata/lenet.dl")
	if err != nil {
		t.Fatal(err)
	}
	g, err := Load("lenet.dl", b, Options{NoWeights: true, Set: map[string]int{"batch": 8}})
	if err != nil {
		t.Fatal(err)
	}
	want := `graph lenet5 batch=8
  input x: f32[8,1,28,28]
  param conv1.weight: f32[6,1,5,5] init=he
  param conv1.bias: f32[6] init=zeros
  param conv2.weight: f32[16,6,5,5] init=he
  param conv2.bias: f32[16] init=zeros
  param fc1.weight: f32[120,400] init=he
  param fc1.bias: f32[120] init=zeros
  param fc2.weight: f32[84,120] init=he
  param fc2.bias: f32[84] init=zeros
  param fc3.weight: f32[10,84] init=he
  param fc3.bias: f32[10] init=zeros
  conv1 = conv(x, conv1.weight, conv1.bias) {dilations=[1,1] groups=1 pads=[2,2,2,2] strides=[1,1]}: f32[8,6,28,28]
  relu_1 = relu(conv1): f32[8,6,28,28]
  maxpool2d_1 = maxpool(relu_1) {ceil_mode=false dilations=[1,1] kernel=[2,2] pads=[0,0,0,0] strides=[2,2]}: f32[8,6,14,14]
  conv2 = conv(maxpool2d_1, conv2.weight, conv2.bias) {dilations=[1,1] groups=1 pads=[0,0,0,0] strides=[1,1]}: f32[8,16,10,10]
  relu_2 = relu(conv2): f32[8,16,10,10]
  maxpool2d_2 = maxpool(relu_2) {ceil_mode=false dilations=[1,1] kernel=[2,2] pads=[0,0,0,0] strides=[2,2]}: f32[8,16,5,5]
  flatten_1 = flatten(maxpool2d_2) {axis=1}: f32[8,400]
  fc1 = dense(flatten_1, fc1.weight, fc1.bias): f32[8,120]
  relu_3 = relu(fc1): f32[8,120]
  fc2 = dense(relu_3, fc2.weight, fc2.bias): f32[8,84]
  relu_4 = relu(fc2): f32[8,84]
  fc3 = dense(relu_4, fc3.weight, fc3.bias): f32[8,10]
  softmax_1 = softmax(fc3) {axis=-1}: f32[8,10]
  output logits = fc3
  output probs = softmax_1
`
	if got := ir.Print(g); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestMixedExample(t *testing.T) {
	b, err := os.ReadFile("testdata/mixed.dl")
	if err != nil {
		t.Fatal(err)
	}
	g := load(t, string(b))
	if g.Batch != 2 || len(g.Outputs) != 6 {
		t.Errorf("batch %d, %d outputs", g.Batch, len(g.Outputs))
	}
}

// errCases assert the exact formatted error, caret included.
var errCases = []struct{ name, src, want string }{
	{"syntax", "input x: f32[1, 4]\ny = x | relu(\noutput y", `m.dl:3:8: syntax error: want ')', found "y"
    | output y
    |        ^`},
	{"bad-char", "input x: f32[1, 4] $\noutput x", `m.dl:1:20: unexpected character '$'
    | input x: f32[1, 4] $
    |                    ^`},
	{"unknown-layer", "input x: f32[1, 3, 8, 8]\ny = x | c1: conv2e(6, 5)\noutput y", `m.dl:2:13: unknown layer conv2e (did you mean conv2d, conv1d or conv3d?)
    | y = x | c1: conv2e(6, 5)
    |             ^`},
	{"unknown-kwarg", "input x: f32[1, 3, 8, 8]\ny = x | c1: conv2d(6, 5, strid=2)\noutput y", `m.dl:2:26: conv2d c1: unknown argument strid (did you mean stride?) (it takes out_channels, kernel_size, stride, padding, dilation, groups, bias, pads, in_channels, padding_mode, init)
    | y = x | c1: conv2d(6, 5, strid=2)
    |                          ^`},
	{"arg-type", "input x: f32[1, 3, 8, 8]\ny = x | c1: conv2d(6, 5, stride=\"2\")\noutput y", `m.dl:2:26: conv2d c1: argument stride: want int or list of ints, got string "2"
    | y = x | c1: conv2d(6, 5, stride="2")
    |                          ^`},
	{"shape-mismatch", "input x: f32[1, 10]\ninput z: f32[1, 4]\ny = x + z\noutput y", `m.dl:3:7: add add_1: x (f32[1,10]) and z (f32[1,4]): shapes [1,10] and [1,4] do not broadcast: dimension 1 is 10 vs 4
    | y = x + z
    |       ^`},
	{"tab-caret", "input x: f32[1, 3, 8, 8]\ny = x |\n\tfc1: dense(10) | conv1d(3, 3)\noutput y", "m.dl:3:19: conv1d conv1d_1: wants input of rank 3 [N, C, 1 spatial], got fc1 f32[1,3,8,10]\n    | \tfc1: dense(10) | conv1d(3, 3)\n    | \t                 ^"},
	{"several", "input x: f32[1, 3, 8, 8]\na = x | relu(2)\nb = x | softmax(dim=\"1\")\nc = x + nothing\noutput b", `m.dl:2:14: relu relu_1: takes at most 0 positional argument(s) (none), got 1
    | a = x | relu(2)
    |              ^
m.dl:3:17: softmax softmax_1: argument dim: want int, got string "1"
    | b = x | softmax(dim="1")
    |                 ^
m.dl:4:9: undefined: nothing
    | c = x + nothing
    |         ^`},
	{"recursion", "block b(x) {\n  return x | b\n}\ninput x: f32[1]\ny = x | b\noutput y", `m.dl:2:14: block b calls itself (b → b) (in b_1, block b)
    |   return x | b
    |              ^`},
	{"huge-shape", "input x: f32[1000000000, 1000000000]\noutput x", `m.dl:1:7: input x: shape [1000000000,1000000000] is too large (more than 2147483648 elements)
    | input x: f32[1000000000, 1000000000]
    |       ^`},
	{"repeat-bound", "input x: f32[1, 4]\ny = x | repeat(1001) relu\noutput y", `m.dl:2:16: repeat count must be an int from 1 to 1000, got int 1001
    | y = x | repeat(1001) relu
    |                ^`},
	{"same-stride", "input x: f32[1, 3, 8, 8]\ny = x | c: conv2d(3, 3, stride=2, padding=\"same\")\noutput y", `m.dl:2:12: conv2d c: padding="same" needs stride 1 (as in PyTorch), got stride [2,2]
    | y = x | c: conv2d(3, 3, stride=2, padding="same")
    |            ^`},
	// PyTorch: padding <= kernel_size/2 (issue 8, bug 8).
	{"maxpool1d-pad", "input x: f32[1, 2, 8]\ny = x | p: maxpool1d(3, padding=2)\noutput y", `m.dl:2:25: maxpool1d p: padding 2 must be at most half the kernel 3 (padding <= kernel_size/2, as in PyTorch)
    | y = x | p: maxpool1d(3, padding=2)
    |                         ^`},
	{"avgpool2d-pad", "input x: f32[1, 2, 8, 8]\ny = x | p: avgpool2d(2, padding=[1, 2])\noutput y", `m.dl:2:25: avgpool2d p: padding [1,2] must be at most half the kernel [2,2] (padding <= kernel_size/2, as in PyTorch)
    | y = x | p: avgpool2d(2, padding=[1, 2])
    |                         ^`},
	{"maxpool3d-pad", "input x: f32[1, 2, 8, 8, 8]\ny = x | p: maxpool3d(2, padding=2)\noutput y", `m.dl:2:25: maxpool3d p: padding [2,2,2] must be at most half the kernel [2,2,2] (padding <= kernel_size/2, as in PyTorch)
    | y = x | p: maxpool3d(2, padding=2)
    |                         ^`},
	{"pad-bare-other", "input x: f32[1, 3, 8, 8]\ny = x | c: conv2d(3, 3, padding=full)\noutput y", `m.dl:2:25: conv2d c: argument padding: undefined: full
    | y = x | c: conv2d(3, 3, padding=full)
    |                         ^`},
	{"multi-assign", "input x: f32[1, 2, 3]\ny, h, c = x | g: gru(4)\noutput y", `m.dl:2:1: 3 names on the left, but the right side gives 2 value(s) (g, g.h)
    | y, h, c = x | g: gru(4)
    | ^`},
	{"dup-name", "input x: f32[1, 4]\na = x | fc: dense(2)\nb = x | fc: dense(2)\noutput a, b", `m.dl:3:13: name fc.weight is already used (at 2:13)
    | b = x | fc: dense(2)
    |             ^`},
	{"no-output", "input x: f32[1, 4]\n", `m.dl:1:1: the model has no output statement (write e.g. ` + "`output logits`" + `)
    | input x: f32[1, 4]
    | ^`},
	{"set-unknown", "const batch = 1\ninput x: f32[batch]\noutput x", `m.dl: --set depth: the model has no const depth (it has batch)`},
	{"layer-as-value", "input x: f32[1, 4]\ny = relu\noutput y", `m.dl:2:5: relu is a layer, not a value: write x | relu or relu(x)
    | y = relu
    |     ^`},
}

func TestErrors(t *testing.T) {
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			opt := Options{NoWeights: true}
			if tc.name == "set-unknown" {
				opt.Set = map[string]int{"depth": 3}
			}
			_, err := Load("m.dl", []byte(tc.src), opt)
			if err == nil {
				t.Fatal("no error")
			}
			if _, ok := err.(*ErrorList); !ok {
				t.Fatalf("error is %T, want *ErrorList", err)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestTooManyErrors(t *testing.T) {
	src := strings.Repeat("y = x | nosuchlayer\n", 30)
	_, err := Load("m.dl", []byte("input x: f32[1]\n"+src), Options{NoWeights: true})
	l, ok := err.(*ErrorList)
	if !ok {
		t.Fatalf("got %v", err)
	}
	if len(*l) != maxErrors+1 || (*l)[maxErrors].Msg != "too many errors" {
		t.Errorf("got %d errors:\n%v", len(*l), err)
	}
}

func TestNoPanicOnOddInputs(t *testing.T) {
	for _, src := range []string{
		"", "(", ")", "}", "{", "y = ", strings.Repeat("(", 10000), strings.Repeat("-", 10000) + "1",
		"y = x | seq {", "block", "block b(", "block b(x) {", "weights \"a\" {", "input x: f32[",
		"input x: f32[-1]", "const batch = 0", "const a = 99999999999999999999", "const a = 1e999",
		"y = 1 / 0", "\xff\xfe", "\"abc", "labels", "output", "model", "input x: f32[2]\ny = x | repeat(1000) repeat(1000) relu\noutput y",
	} {
		Load("m.dl", []byte(src), Options{NoWeights: true})
	}
}

func writeWeights(t *testing.T, dir string, ts map[string][]int) {
	t.Helper()
	m := map[string]*weights.Tensor{}
	for name, shape := range ts {
		n := 1
		for _, d := range shape {
			n *= d
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(i) / 10
		}
		m[name] = &weights.Tensor{DType: weights.F32, Shape: shape, Data: data}
	}
	if err := weights.WriteSafetensors(filepath.Join(dir, "w.safetensors"), m, nil); err != nil {
		t.Fatal(err)
	}
}

func writeModel(t *testing.T, dir, src string) string {
	t.Helper()
	p := filepath.Join(dir, "net.dl")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const netSrc = `model net
input x: f32[1, 1, 8, 8]
weights "w.safetensors" {
  head.weight = "classifier.weight"
  head.bias = "classifier.bias"
}
y = x | features: seq {
  conv2d(2, 3)
  batchnorm2d
  relu
} | flatten | head: dense(3)
output y
`

var netWeights = map[string][]int{
	"features.0.weight": {2, 1, 3, 3}, "features.0.bias": {2},
	"features.1.weight": {2}, "features.1.bias": {2}, "features.1.running_mean": {2}, "features.1.running_var": {2},
	"features.1.num_batches_tracked": {}, "classifier.weight": {3, 72}, "classifier.bias": {3},
}

func TestLoadFileWithWeights(t *testing.T) {
	dir := t.TempDir()
	writeWeights(t, dir, netWeights)
	g, err := LoadFile(writeModel(t, dir, netSrc), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range g.Params {
		if p.Data == nil {
			t.Errorf("param %s has no data", p.Name)
		}
	}
	if p := g.Param("features.1.running_var"); p == nil || p.Kind != ir.Const || p.Data.F32()[1] != 0.1 {
		t.Errorf("running_var: %+v", p)
	}
	if p := g.Param("head.weight"); p == nil || p.Kind != ir.Param || !p.Type.Shape.Equal(ir.Shape{3, 72}) {
		t.Errorf("head.weight: %+v", p)
	}
	// Without weights the same file loads with initializers.
	g, err = LoadFile(filepath.Join(dir, "net.dl"), Options{NoWeights: true})
	if err != nil {
		t.Fatal(err)
	}
	if p := g.Param("head.weight"); p.Data != nil || p.Init != "he" {
		t.Errorf("head.weight without weights: %+v", p)
	}
	if p := g.Param("features.1.running_var"); p.Data == nil || p.Data.F32()[0] != 1 || p.Kind != ir.Const {
		t.Errorf("running_var without weights: %+v", p)
	}
}

func TestWeightErrors(t *testing.T) {
	cases := []struct {
		name   string
		change func(m map[string][]int)
		src    func(string) string
		want   string
	}{
		{"missing", func(m map[string][]int) { delete(m, "features.0.bias") }, nil,
			`net.dl:8:3: conv2d features.0: features.0.bias is not in w.safetensors (did you mean features.1.bias?)
    |   conv2d(2, 3)
    |   ^`},
		{"mis-shaped", func(m map[string][]int) { m["features.0.weight"] = []int{2, 1, 5, 5} }, nil,
			`net.dl:8:3: features.0.weight: safetensors has [2,1,5,5], layer features.0 wants [2,1,3,3]
    |   conv2d(2, 3)
    |   ^`},
		{"in-channels", func(m map[string][]int) { m["features.0.weight"] = []int{2, 3, 3, 3} }, nil,
			`net.dl:8:3: features.0.weight: safetensors has [2,3,3,3], layer features.0 wants [2,1,3,3]
    |   conv2d(2, 3)
    |   ^`},
		{"bn-channels", func(m map[string][]int) { m["features.1.running_mean"] = []int{5} }, nil,
			`net.dl:9:3: batchnorm2d features.1: batchnorm mean features.1.running_mean must be f32[2] (channels of features.0 [1,2,6,6]), got f32[5]
    |   batchnorm2d
    |   ^`},
		{"input-mismatch", func(m map[string][]int) { m["classifier.weight"] = []int{3, 50} }, nil,
			`net.dl:11:21: dense head: want 50 inputs, got 72 from flatten_1 [1,72]
    | } | flatten | head: dense(3)
    |                     ^`},
		{"renamed-missing", func(m map[string][]int) { delete(m, "classifier.bias") }, nil,
			`net.dl:11:21: dense head: head.bias ("classifier.bias" in the file) is not in w.safetensors
    | } | flatten | head: dense(3)
    |                     ^`},
		{"unused-rename", nil, func(s string) string {
			return strings.Replace(s, "head.bias = \"classifier.bias\"", "head.bias = \"classifier.bias\"\n  tail.weight = \"x\"", 1)
		}, `net.dl:6:3: weights: no parameter of the model is called tail.weight (or starts with tail.weight.)
    |   tail.weight = "x"
    |   ^`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			m := map[string][]int{}
			for k, v := range netWeights {
				m[k] = v
			}
			if tc.change != nil {
				tc.change(m)
			}
			writeWeights(t, dir, m)
			src := netSrc
			if tc.src != nil {
				src = tc.src(src)
			}
			_, err := LoadFile(writeModel(t, dir, src), Options{})
			if err == nil {
				t.Fatal("no error")
			}
			got := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
			if got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestLargeInputsAreFast(t *testing.T) {
	for _, src := range []string{
		"input x: f32[1]\n" + strings.Repeat("\n", 3<<20) + "output x",
		"input x: f32[1]\n" + strings.Repeat("# c\n", 1<<20) + "output x",
		"input x: f32[1]\ny = x" + strings.Repeat("\n | relu", 1<<14) + "\noutput y",
	} {
		start := time.Now()
		Load("m.dl", []byte(src), Options{NoWeights: true})
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("input of %d bytes took %v", len(src), d)
		}
	}
}

// TestNumberOperandDType: a number operand takes the dtype of the tensor
// operand, and a fraction with an integer tensor is an error that says
// why.
func TestNumberOperandDType(t *testing.T) {
	g := load(t, "input idx: i64[3]\ninput b: u8[2]\ninput h: f16[2]\ny = idx + 1\nz = b * 2\nw = h / 4\noutput y\noutput z\noutput w")
	p := ir.Print(g)
	for _, want := range []string{": i64[]", ": u8[]", ": f16[]", "add(idx, ", ": i64[3]", ": u8[2]", ": f16[2]"} {
		if !strings.Contains(p, want) {
			t.Errorf("printed IR lacks %q:\n%s", want, p)
		}
	}
	for _, c := range []struct{ src, want string }{
		{"input idx: i64[3]\ny = idx * 0.5\noutput y", "number 0.5 cannot be an operand of a i64 tensor: integer tensors take integers"},
		{"input b: u8[3]\ny = b + 300\noutput y", "int 300 is out of range for the u8 tensor operand"},
		{"input b: bool[3]\ny = b + 1\noutput y", "cannot be an operand of a bool tensor"},
		{"input b: f8[3]\noutput b", "unknown dtype \"f8\""},
	} {
		_, err := Load("m.dl", []byte(c.src), Options{NoWeights: true})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want an error containing %q", c.src, err, c.want)
		}
	}
}

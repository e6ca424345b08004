#!/usr/bin/python3
"""Generate PyTorch reference fixtures for dlc's gradients.

Run once with the system Python (torch 1.13):

    /usr/bin/python3 runtime/testdata/gen_grad_fixtures.py

It writes two kinds of safetensors files, in gen_fixtures.py's format:

runtime/testdata/fixtures/grad_<case>.safetensors
    cases of the gradient ops (conv_grad_input, conv_grad_weight,
    maxpool_grad, avgpool_grad), which TestFixtures runs like any op:
    the inputs and the gradient torch.autograd computes.

passes/autodiff/testdata/<case>.safetensors
    one forward op with its inputs, an upstream gradient "dy" for its
    output and torch's gradient of every float input (metadata "grads":
    a JSON list, one tensor name or null per input slot). The autodiff
    test differentiates the op and compares.

Inputs come from a generator seeded by the case name, as in
gen_fixtures.py; gradients are torch's, in float32.
"""

import json
import os

import torch
import torch.nn.functional as F

import gen_fixtures as gf

HERE = os.path.dirname(os.path.abspath(__file__))
AUTODIFF = os.path.join(HERE, "..", "..", "passes", "autodiff", "testdata")

OPS = []    # gradient-op cases: gf.case records into gf.CASES
BACK = []   # (name, tensors, metadata) of backward cases


def grads_of(ys, xs, dys):
    """torch's gradients of Σ_j Σ y_j·dy_j with respect to xs (None where
    an input has none)."""
    need = [x for x in xs if x is not None and x.requires_grad]
    gs = torch.autograd.grad(ys, need, dys, allow_unused=True)
    out, k = [], 0
    for x in xs:
        if x is not None and x.requires_grad:
            g = gs[k]
            out.append(torch.zeros_like(x) if g is None else g)
            k += 1
        else:
            out.append(None)
    return out


def back(name, op, inputs, fn, attrs=None):
    """Record a backward case: inputs are (slot name, tensor) or None;
    float tensors are differentiated; fn maps the input tensors to y."""
    r = gf.Rand("back_" + name)
    xs = []
    for slot in inputs:
        if slot is None:
            xs.append(None)
            continue
        t = slot[1].clone()
        if t.dtype == torch.float32 and (len(slot) < 3 or slot[2]):  # (name, t, False): no gradient
            t.requires_grad_(True)
        xs.append(t)
    with torch.enable_grad():
        ys = fn(*xs)
        ys = list(ys) if isinstance(ys, (tuple, list)) else [ys]
        dys = [r.randn(*y.shape) for y in ys]
        gs = grads_of(ys, xs, dys)
    tensors, names, gnames = {}, [], []
    for slot, x, g in zip(inputs, xs, gs):
        if slot is None:
            names.append(None)
            gnames.append(None)
            continue
        tensors[slot[0]] = x.detach()
        names.append(slot[0])
        if g is None:
            gnames.append(None)
        else:
            tensors["d_" + slot[0]] = g
            gnames.append("d_" + slot[0])
    outs, douts = [], []
    for j, (y, dy) in enumerate(zip(ys, dys)):
        suffix = "" if j == 0 else str(j)
        tensors["y" + suffix] = y.detach()
        tensors["dy" + suffix] = dy
        outs.append("y" + suffix)
        douts.append("dy" + suffix)
    meta = {"op": op, "attrs": json.dumps(attrs or {}, sort_keys=True),
            "inputs": json.dumps(names), "outputs": json.dumps(outs), "grads": json.dumps(gnames)}
    if len(outs) > 1:
        meta["douts"] = json.dumps(douts)  # the upstream gradient of each output
    BACK.append((name, tensors, meta))


def full_pads(pads, rank):
    p = pads or [0] * (2 * rank)
    return p + p if len(p) == rank else p


def conv_fn(rank, strides, pads, dilations, groups):
    fn = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[rank]
    tp = gf.torch_pads(full_pads(pads, rank))
    return lambda x, w, b=None: fn(F.pad(x, tp), w, b, stride=strides or 1, dilation=dilations or 1, groups=groups)


def conv_attrs(strides, pads, dilations, groups):
    a = {}
    for k, v in (("strides", strides), ("pads", pads), ("dilations", dilations)):
        if v is not None:
            a[k] = v
    if groups != 1:
        a["groups"] = groups
    return a


def conv_cases(name, xs, ws, bias=True, strides=None, pads=None, dilations=None, groups=1):
    """A backward case for conv and cases of its two gradient ops."""
    r = gf.Rand(name)
    x, w = r.randn(*xs), r.randn(*ws)
    b = r.randn(ws[0]) if bias else None
    rank = len(ws) - 2
    fn = conv_fn(rank, strides, pads, dilations, groups)
    attrs = conv_attrs(strides, pads, dilations, groups)
    back(name, "conv", [("x", x), ("weight", w), ("bias", b) if bias else None], fn, attrs)
    xg, wg = x.clone().requires_grad_(True), w.clone().requires_grad_(True)
    with torch.enable_grad():
        y = fn(xg, wg)
        dy = r.randn(*y.shape)
        dx, dw = torch.autograd.grad(y, (xg, wg), dy)
    gf.case("grad_" + name + "_input", "conv_grad_input", [("dy", dy), ("weight", w)], [("dx", dx)],
            dict(attrs, shape=list(xs)))
    gf.case("grad_" + name + "_weight", "conv_grad_weight", [("x", x), ("dy", dy)], [("dweight", dw)],
            dict(attrs, kernel=list(ws[2:])))


def pool_cases(name, avg, xs, kernel, strides=None, pads=None, ceil=False, include=None):
    """A backward case for a pool (symmetric pads, as torch takes them) and
    one of its gradient op."""
    r = gf.Rand(name)
    x = r.randn(*xs)
    rank = len(kernel)
    if avg:
        f = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[rank]
        inc = True if include is None else include
        fn = lambda t: f(t, kernel, stride=strides or kernel, padding=pads or 0, ceil_mode=ceil, count_include_pad=inc)
    else:
        f = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[rank]
        fn = lambda t: f(t, kernel, stride=strides or kernel, padding=pads or 0, ceil_mode=ceil)
    attrs = gf.pool_attrs(kernel, strides, pads, None, ceil, include)
    op = "avgpool" if avg else "maxpool"
    back(name, op, [("x", x)], fn, attrs)
    xg = x.clone().requires_grad_(True)
    with torch.enable_grad():
        y = fn(xg)
        dy = r.randn(*y.shape)
        (dx,) = torch.autograd.grad(y, (xg,), dy)
    ga = dict(attrs)
    ga["strides"] = strides or kernel
    if avg:
        ga["shape"] = list(xs)
        gf.case("grad_" + name, "avgpool_grad", [("dy", dy)], [("dx", dx)], ga)
    else:
        gf.case("grad_" + name, "maxpool_grad", [("x", x), ("dy", dy)], [("dx", dx)], ga)


def spatial():
    conv_cases("conv1d_stride_dil_groups", (2, 4, 13), (6, 2, 3), strides=[2], pads=[1, 2], dilations=[2], groups=2)
    conv_cases("conv2d_basic", (2, 3, 7, 8), (4, 3, 3, 3), pads=[1, 1])
    conv_cases("conv2d_stride_asym", (1, 3, 9, 7), (4, 3, 3, 2), bias=False, strides=[2, 3], pads=[1, 0, 2, 1])
    conv_cases("conv2d_dilation_groups", (1, 6, 9, 8), (6, 2, 3, 3), dilations=[2, 1], pads=[2, 1], groups=3)
    conv_cases("conv2d_depthwise", (2, 4, 6, 6), (4, 1, 3, 3), strides=[2, 2], pads=[1, 1], groups=4)
    conv_cases("conv3d_basic", (1, 2, 4, 5, 4), (3, 2, 2, 3, 2), strides=[1, 2, 1], pads=[1, 1, 0])
    pool_cases("maxpool2d", False, (2, 3, 8, 8), [2, 2])
    pool_cases("maxpool2d_overlap_pad", False, (1, 2, 7, 9), [3, 3], strides=[2, 2], pads=[1, 1])
    pool_cases("maxpool1d_ceil", False, (2, 2, 11), [3], strides=[2], ceil=True)
    pool_cases("maxpool3d", False, (1, 2, 4, 6, 5), [2, 3, 2], strides=[2, 2, 1])
    pool_cases("avgpool2d", True, (2, 3, 8, 6), [2, 2])
    pool_cases("avgpool2d_pad", True, (1, 2, 7, 9), [3, 3], strides=[2, 2], pads=[1, 1])
    pool_cases("avgpool2d_pad_exclude_ceil", True, (1, 2, 8, 7), [3, 3], strides=[2, 2], pads=[1, 1], ceil=True, include=False)
    pool_cases("avgpool1d_ceil", True, (2, 2, 10), [3], strides=[2], ceil=True)


def elementwise():
    def un(name, op, fn, x=None, attrs=None):
        r = gf.Rand(name)
        back(name, op, [("x", r.randn(2, 3, 5) if x is None else x)], fn, attrs)
    pos = lambda name: gf.Rand(name + "pos").rand(2, 3, 5) * 2 + 0.2
    half = lambda name: gf.Rand(name + "half").rand(2, 3, 5) * 1.6 - 0.8
    un("relu", "relu", torch.relu)
    un("sigmoid", "sigmoid", torch.sigmoid)
    un("tanh", "tanh", torch.tanh)
    un("leaky_relu", "leaky_relu", lambda x: F.leaky_relu(x, 0.2), attrs={"alpha": 0.2})
    un("gelu", "gelu", F.gelu)
    un("gelu_tanh", "gelu", lambda x: F.gelu(x, approximate="tanh"), attrs={"approximate": "tanh"})
    un("clip", "clip", lambda x: torch.clamp(x, -0.5, 0.7), attrs={"min": -0.5, "max": 0.7})
    for op in ["exp", "abs", "sin", "cos", "tan", "atan", "sinh", "cosh", "asinh", "erf", "neg"]:
        un(op, op, getattr(torch, op), x=half(op) if op == "tan" else None)
    for op in ["log", "sqrt", "reciprocal"]:
        un(op, op, getattr(torch, op), x=pos(op))
    un("acosh", "acosh", torch.acosh, x=pos("acosh") + 1)
    for op in ["asin", "acos", "atanh"]:
        un(op, op, getattr(torch, op), x=half(op))
    un("hardsigmoid", "hardsigmoid", F.hardsigmoid, x=gf.Rand("hs").randn(2, 3, 5) * 4)
    un("hardswish", "hardswish", F.hardswish, x=gf.Rand("hw").randn(2, 3, 5) * 4)
    un("elu", "elu", lambda x: F.elu(x, 0.7), attrs={"alpha": 0.7})
    un("selu", "selu", F.selu)
    un("celu", "celu", lambda x: F.celu(x, 1.5), attrs={"alpha": 1.5})
    un("softplus", "softplus", lambda x: F.softplus(x, 2.0, 1.0), attrs={"beta": 2.0, "threshold": 1.0})
    un("softsign", "softsign", F.softsign)
    un("mish", "mish", F.mish)
    un("silu", "silu", F.silu)
    un("threshold", "threshold", lambda x: F.threshold(x, 0.2, -1.0), attrs={"threshold": 0.2, "value": -1.0})
    un("hardshrink", "shrink", lambda x: F.hardshrink(x, 0.3), attrs={"lambd": 0.3})
    un("softshrink", "shrink", lambda x: F.softshrink(x, 0.3), attrs={"lambd": 0.3, "bias": 0.3})
    r = gf.Rand("prelu")
    back("prelu", "prelu", [("x", r.randn(2, 3, 4)), ("slope", r.randn(3, 1))], lambda x, s: torch.where(x > 0, x, s * x))  # ir prelu: numpy broadcasting of the slope
    r = gf.Rand("pow")
    back("pow", "pow", [("a", r.rand(2, 3, 4) * 2 + 0.1), ("b", r.randn(3, 1))], torch.pow)
    back("maximum", "maximum", [("a", r.randn(2, 3, 4)), ("b", r.randn(3, 1))], torch.maximum)
    back("minimum", "minimum", [("a", r.randn(2, 3, 4)), ("b", r.randn(3, 1))], torch.minimum)
    un("softmax", "softmax", lambda x: torch.softmax(x, 1), attrs={"axis": 1})
    un("log_softmax", "log_softmax", lambda x: torch.log_softmax(x, -1), attrs={"axis": -1})
    un("reduce_sum", "reduce_sum", lambda x: x.sum((0, 2)), attrs={"axes": [0, 2]})
    un("reduce_mean", "reduce_mean", lambda x: x.mean(1, keepdim=True), attrs={"axes": [1], "keepdims": True})
    un("flatten", "flatten", lambda x: x.flatten(1))
    un("transpose", "transpose", lambda x: x.permute(2, 0, 1), attrs={"perm": [2, 0, 1]})
    un("global_avgpool", "global_avgpool", lambda x: x.mean(-1, keepdim=True))
    un("global_maxpool", "global_maxpool", lambda x: x.amax(-1, keepdim=True))
    for op, fn in (("add", torch.add), ("sub", torch.sub), ("mul", torch.mul), ("div", torch.div)):
        r = gf.Rand("bin_" + op)
        a, b = r.randn(2, 1, 4), r.randn(3, 1)
        if op == "div":
            b = r.nonzero(3, 1)
        back("broadcast_" + op, op, [("a", a), ("b", b)], fn)


def layers():
    r = gf.Rand("layers")
    back("dense", "dense", [("x", r.randn(4, 6)), ("weight", r.randn(5, 6)), ("bias", r.randn(5))], F.linear)
    back("dense_3d_nobias", "dense", [("x", r.randn(2, 3, 6)), ("weight", r.randn(5, 6)), None], lambda x, w, b=None: F.linear(x, w))
    back("matmul", "matmul", [("a", r.randn(2, 3, 4)), ("b", r.randn(4, 5))], torch.matmul)
    back("matmul_batch_broadcast", "matmul", [("a", r.randn(1, 3, 4)), ("b", r.randn(2, 4, 2))], torch.matmul)
    x, s, b, m, v = r.randn(3, 4, 2, 2), r.randn(4), r.randn(4), r.randn(4), r.rand(4) + 0.5
    back("batchnorm", "batchnorm", [("x", x), ("scale", s), ("bias", b), ("mean", m), ("var", v)],
         lambda x, s, b, m, v: (x - m[:, None, None]) / torch.sqrt(v[:, None, None] + 1e-5) * s[:, None, None] + b[:, None, None])
    a, c = r.randn(2, 1, 3), r.randn(2, 2, 3)
    back("concat", "concat", [("a", a), ("b", c), ("c", a.clone())], lambda *xs: torch.cat(xs, 1), {"axis": 1})
    ids = torch.tensor([[1, 4, 1], [0, 2, 4]], dtype=torch.int64)
    back("embedding", "embedding", [("ids", ids), ("weight", r.randn(5, 3))], F.embedding)


def main():
    torch.set_num_threads(1)
    spatial()
    elementwise()
    layers()
    import gen_grad_fixtures2
    gen_grad_fixtures2.cases(back)
    os.makedirs(AUTODIFF, exist_ok=True)
    for d, prefix in ((gf.OUT, "grad_"), (AUTODIFF, "")):
        for f in os.listdir(d):
            if f.endswith(".safetensors") and f.startswith(prefix):
                os.remove(os.path.join(d, f))
    for name, tensors, meta in gf.CASES:
        gf.write_safetensors(os.path.join(gf.OUT, name + ".safetensors"), tensors, meta)
    for name, tensors, meta in BACK:
        gf.write_safetensors(os.path.join(AUTODIFF, name + ".safetensors"), tensors, meta)
    print("wrote %d gradient-op cases to %s and %d backward cases to %s" % (len(gf.CASES), gf.OUT, len(BACK), AUTODIFF))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Generate PyTorch reference fixtures for dlc's non-recurrent ops.

Run once with the system Python (torch 1.13):

    /usr/bin/python3 runtime/testdata/gen_fixtures.py

It writes one safetensors file per case into runtime/testdata/fixtures/
<case>.safetensors holding the case's input tensors and expected outputs,
plus string metadata:

    op       ir op name
    attrs    JSON object of ir attributes (ints, lists of ints, floats,
             strings, bools); absent attributes take the ir default
    inputs   JSON list, one entry per ir input slot: a tensor name, or null
             for an absent optional input
    outputs  JSON list of the output tensor names, in ir output order

Inputs are float32 (or int64 ids and indices) from a generator seeded by
the case name, so adding a case does not change the others. Outputs are
computed by torch in float32, as PyTorch users run them. Go tests read the
files with package weights and never need Python.

The rnn/lstm/gru fixtures (rnn_*, lstm_*, gru_*) come from
gen_rnn_fixtures.py and are left alone here.
"""

import json
import os
import struct
import zlib

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")
OTHERS = ("rnn_", "lstm_", "gru_", "grad_", "sample_", "q_")  # written by gen_rnn_fixtures.py, gen_grad_fixtures.py, gen_sample_fixtures.py, gen_quant_fixtures.py

CASES = []

# torch dtype -> (safetensors dtype, struct format)
STRUCT = {
    torch.float32: ("F32", "f"), torch.float64: ("F64", "d"), torch.float16: ("F16", "e"),
    torch.int8: ("I8", "b"), torch.int16: ("I16", "h"), torch.int32: ("I32", "i"),
    torch.int64: ("I64", "q"), torch.uint8: ("U8", "B"), torch.bool: ("BOOL", "?"),
}


def write_safetensors(path, tensors, metadata):
    """Write tensors (name -> float32 or int64 torch tensor, in order) and
    string metadata in the safetensors format: an 8-byte little-endian
    header length, a JSON header, then the raw little-endian data."""
    header = {"__metadata__": metadata}
    blobs = []
    off = 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        flat = t.flatten().tolist()
        if t.dtype == torch.bfloat16:  # struct has no bfloat16: write its bits
            flat = t.view(torch.int16).flatten().tolist()
            dtype, data = "BF16", struct.pack("<%dh" % len(flat), *flat)
        elif t.dtype in STRUCT:
            dtype, fmt = STRUCT[t.dtype]
            data = struct.pack("<%d%s" % (len(flat), fmt), *flat)
        else:
            raise TypeError("%s: unsupported dtype %s" % (name, t.dtype))
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)  # align the data section to 8 bytes
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def case(name, op, inputs, outputs, attrs=None):
    """Record one case. inputs is a list with one entry per ir input slot:
    (tensor name, tensor) or None; outputs is a list of (name, tensor)."""
    tensors = {}
    names = []
    for slot in inputs:
        if slot is None:
            names.append(None)
            continue
        n, t = slot
        if n in tensors:
            assert tensors[n] is t, "two tensors named " + n
        tensors[n] = t
        names.append(n)
    for n, t in outputs:
        assert n not in tensors, "output name reused: " + n
        tensors[n] = t
    CASES.append((name, tensors, {
        "op": op,
        "attrs": json.dumps(attrs or {}, sort_keys=True),
        "inputs": json.dumps(names),
        "outputs": json.dumps([n for n, _ in outputs]),
    }))


class Rand:
    """Random tensors from a generator seeded by the case name."""

    def __init__(self, name):
        self.g = torch.Generator().manual_seed(zlib.crc32(name.encode()))

    def randn(self, *shape, scale=1.0):
        return torch.randn(shape, generator=self.g, dtype=torch.float32) * scale

    def rand(self, *shape):
        return torch.rand(shape, generator=self.g, dtype=torch.float32)

    def ints(self, lo, hi, *shape):
        return torch.randint(lo, hi, shape, generator=self.g, dtype=torch.int64)

    def nonzero(self, *shape):
        """Values bounded away from zero (divisors)."""
        s = torch.where(self.rand(*shape) < 0.5, -1.0, 1.0)
        return s * (0.5 + self.rand(*shape) * 2)


# ---------------------------------------------------------------- elementwise


def unary(name, op, x, y, attrs=None):
    case(name, op, [("x", x)], [("y", y)], attrs)


def elementwise():
    r = Rand("relu_3d"); x = r.randn(3, 7, 5)
    unary("relu_3d", "relu", x, F.relu(x))
    r = Rand("relu_rank0"); x = r.randn()
    unary("relu_rank0", "relu", x, F.relu(x))
    r = Rand("sigmoid_2d"); x = r.randn(4, 9, scale=4)
    unary("sigmoid_2d", "sigmoid", x, torch.sigmoid(x))
    r = Rand("sigmoid_wide"); x = r.randn(2, 3, 11, scale=20)
    unary("sigmoid_wide", "sigmoid", x, torch.sigmoid(x))
    r = Rand("tanh_2d"); x = r.randn(5, 7, scale=2)
    unary("tanh_2d", "tanh", x, torch.tanh(x))
    r = Rand("tanh_4d"); x = r.randn(2, 3, 4, 5, scale=5)
    unary("tanh_4d", "tanh", x, torch.tanh(x))
    r = Rand("leaky_relu_default"); x = r.randn(6, 7)
    unary("leaky_relu_default", "leaky_relu", x, F.leaky_relu(x))
    r = Rand("leaky_relu_alpha"); x = r.randn(3, 5, 4)
    unary("leaky_relu_alpha", "leaky_relu", x, F.leaky_relu(x, 0.2), {"alpha": 0.2})
    r = Rand("leaky_relu_steep"); x = r.randn(9)
    unary("leaky_relu_steep", "leaky_relu", x, F.leaky_relu(x, 1.5), {"alpha": 1.5})
    r = Rand("clip_both"); x = r.randn(4, 9)
    unary("clip_both", "clip", x, torch.clamp(x, -0.5, 0.7), {"min": -0.5, "max": 0.7})
    r = Rand("clip_min"); x = r.randn(3, 8)
    unary("clip_min", "clip", x, torch.clamp(x, min=0), {"min": 0})
    r = Rand("clip_max"); x = r.randn(2, 13)
    unary("clip_max", "clip", x, torch.clamp(x, max=0.25), {"max": 0.25})
    r = Rand("clip_inverted"); x = r.randn(11)
    unary("clip_inverted", "clip", x, torch.clamp(x, min=1.0, max=0.5), {"min": 1.0, "max": 0.5})
    r = Rand("gelu_exact"); x = r.randn(4, 9, scale=3.0)
    x[0, :5] = torch.tensor([float("nan"), float("inf"), float("-inf"), -0.0, -12.0])
    unary("gelu_exact", "gelu", x, F.gelu(x), {"approximate": "none"})
    r = Rand("gelu_tanh"); x = r.randn(3, 11, scale=3.0)
    x[0, :5] = torch.tensor([float("nan"), float("inf"), float("-inf"), -0.0, -12.0])
    unary("gelu_tanh", "gelu", x, F.gelu(x, approximate="tanh"), {"approximate": "tanh"})
    r = Rand("identity_2d"); x = r.randn(3, 7)
    unary("identity_2d", "identity", x, x.clone())
    r = Rand("identity_4d"); x = r.randn(1, 2, 3, 5)
    unary("identity_4d", "identity", x, x.clone())
    r = Rand("dropout_default"); x = r.randn(4, 10)
    unary("dropout_default", "dropout", x, F.dropout(x, training=False))
    r = Rand("dropout_p"); x = r.randn(2, 3, 7)
    unary("dropout_p", "dropout", x, F.dropout(x, p=0.2, training=False), {"p": 0.2})


# ----------------------------------------------------------- elementwise math


SPECIAL = [float("nan"), float("inf"), float("-inf"), -0.0, 0.0]


def with_special(x, *extra):
    """x with NaN, ±Inf, ±0 and extra values written over its first row."""
    v = SPECIAL + list(extra)
    x = x.clone()
    x.view(-1)[:len(v)] = torch.tensor(v)
    return x


def math_fns():
    # name: (torch function, sample scale, shift, extra values)
    fns = {
        "sqrt": (torch.sqrt, 3.0, 2.0, [-1.0, 4.0]),
        "exp": (torch.exp, 4.0, 0.0, [88.0, 89.0, -104.0]),
        "log": (torch.log, 3.0, 3.0, [-1.0, 1.0, 1e-30]),
        "abs": (torch.abs, 3.0, 0.0, [-2.5]),
        "neg": (torch.neg, 3.0, 0.0, [1.5]),
        "reciprocal": (torch.reciprocal, 3.0, 0.0, [1e-39, -3.0]),
        "floor": (torch.floor, 4.0, 0.0, [-2.5, 2.5, -0.3, 1e9 + 0.5]),
        "ceil": (torch.ceil, 4.0, 0.0, [-2.5, 2.5, -0.3]),
        "round": (torch.round, 4.0, 0.0, [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997]),
        "sign": (torch.sign, 3.0, 0.0, [1e-40, -1e-40]),
        "erf": (torch.erf, 2.0, 0.0, [5.0, -5.0]),
        "sin": (torch.sin, 4.0, 0.0, [3.1415927]),
        "cos": (torch.cos, 4.0, 0.0, [3.1415927]),
        "tan": (torch.tan, 1.0, 0.0, [1.5]),
        "asin": (torch.asin, 0.6, 0.0, [1.0, -1.0, 1.5]),
        "acos": (torch.acos, 0.6, 0.0, [1.0, -1.0, 1.5]),
        "atan": (torch.atan, 4.0, 0.0, [1e10]),
        "sinh": (torch.sinh, 3.0, 0.0, [90.0, -90.0]),
        "cosh": (torch.cosh, 3.0, 0.0, [90.0, -90.0]),
        "asinh": (torch.asinh, 5.0, 0.0, [1e20]),
        "acosh": (torch.acosh, 3.0, 4.0, [1.0, 0.5, 1e20]),
        "atanh": (torch.atanh, 0.6, 0.0, [1.0, -1.0, 1.5]),
    }
    for op, (f, scale, shift, extra) in fns.items():
        r = Rand(op + "_special"); x = with_special(r.randn(4, 7, scale=scale) + shift, *extra)
        unary(op + "_special", op, x, f(x))
        r = Rand(op + "_3d"); x = r.randn(2, 3, 5, scale=scale) + shift
        unary(op + "_3d", op, x, f(x))


# ---------------------------------------------------------------- activations


def activations():
    # case: (ir op, ir attrs, torch function, scale, extra values)
    sp = 1.0 / 6
    fns = {
        "hardsigmoid": ("hardsigmoid", {}, F.hardsigmoid, 4.0, [3.0, -3.0, 2.9999998]),
        "hardswish": ("hardswish", {}, F.hardswish, 4.0, [3.0, -3.0, -1.5]),
        "elu": ("elu", {}, F.elu, 3.0, [-1e-8, -20.0]),
        "elu_alpha": ("elu", {"alpha": 0.3}, lambda x: F.elu(x, 0.3), 3.0, [-20.0]),
        "selu": ("selu", {}, F.selu, 3.0, [-20.0]),
        "celu": ("celu", {}, F.celu, 3.0, [-20.0]),
        "celu_alpha": ("celu", {"alpha": 2.5}, lambda x: F.celu(x, 2.5), 3.0, [-20.0]),
        "softplus": ("softplus", {}, F.softplus, 8.0, [20.0, 20.5, -30.0, 100.0]),
        "softplus_beta": ("softplus", {"beta": 2.0, "threshold": 5.0}, lambda x: F.softplus(x, 2.0, 5.0), 4.0, [2.5, 2.6]),
        "softsign": ("softsign", {}, F.softsign, 4.0, [1e30]),
        "mish": ("mish", {}, F.mish, 4.0, [30.0, -30.0, 100.0]),
        "silu": ("silu", {}, F.silu, 4.0, [30.0, -30.0, 100.0, -100.0]),
        "threshold": ("threshold", {"threshold": 0.5, "value": -2.0}, lambda x: F.threshold(x, 0.5, -2.0), 2.0, [0.5]),
        "threshold_relu": ("threshold", {"threshold": 1.0}, lambda x: F.threshold(x, 1.0, 0.0), 2.0, [1.0]),
        "hardshrink": ("shrink", {}, F.hardshrink, 2.0, [0.5, -0.5]),
        "hardshrink_lambd": ("shrink", {"lambd": 1.5}, lambda x: F.hardshrink(x, 1.5), 2.0, [1.5, -1.5]),
        # torch 1.13's softshrink sends NaN to 0 (a comparison chain); dlc
        # keeps NaN, as hardshrink and later PyTorch releases do: the NaN
        # input is left out here.
        "softshrink": ("shrink", {"lambd": 0.5, "bias": 0.5}, F.softshrink, 2.0, [0.5, -0.5]),
    }
    for name, (op, attrs, f, scale, extra) in fns.items():
        r = Rand(name + "_special"); x = with_special(r.randn(4, 7, scale=scale), *extra)
        if name == "softshrink":
            x.view(-1)[0] = 0.25
        unary(name + "_special", op, x, f(x), attrs)
        r = Rand(name + "_3d"); x = r.randn(2, 3, 5, scale=scale)
        unary(name + "_3d", op, x, f(x), attrs)
    # prelu: one slope per channel (axis 1, a [C,1,1] slope as ONNX
    # writes it), and one shared slope.
    r = Rand("prelu_channels"); x = with_special(r.randn(2, 3, 4, 5, scale=2.0)); w = r.rand(3) - 0.3
    case("prelu_channels", "prelu", [("x", x), ("slope", w.reshape(3, 1, 1))], [("y", F.prelu(x, w))])
    r = Rand("prelu_shared"); x = r.randn(4, 6, scale=2.0); w = torch.tensor([0.25])
    case("prelu_shared", "prelu", [("x", x), ("slope", w)], [("y", F.prelu(x, w))])


def pow_minmax():
    # pow: every pair of special bases and exponents (0^0 = 1, NaN^0 = 1,
    # 1^NaN = 1, negative bases with integer and fractional exponents,
    # ±0 to negative powers), then random broadcasting operands.
    sv = [float("nan"), float("inf"), float("-inf"), -0.0, 0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -8.0, 3.0, -0.5]
    a = torch.tensor(sv).reshape(-1, 1)
    b = torch.tensor(sv + [1.0 / 3, 0.0, -3.0]).reshape(1, -1)
    binary("pow_special", "pow", a, b, torch.pow(a, b))
    r = Rand("pow_bcast"); a, b = r.rand(2, 3, 4) * 3, r.randn(4, scale=2.0)
    binary("pow_bcast", "pow", a, b, torch.pow(a, b))
    r = Rand("pow_square"); a = r.randn(3, 5, scale=3.0); b = torch.tensor(2.0)
    binary("pow_square", "pow", a, b, torch.pow(a, b))
    for op, f in (("maximum", torch.maximum), ("minimum", torch.minimum)):
        a = torch.tensor([float("nan"), 1.0, float("inf"), float("-inf"), -0.0, 0.0, 2.0]).reshape(-1, 1)
        b = torch.tensor([float("nan"), 0.0, -0.0, 1.5, float("-inf")]).reshape(1, -1)
        binary(op + "_special", op, a, b, f(a, b))
        r = Rand(op + "_bcast"); a, b = r.randn(2, 1, 5), r.randn(3, 1)
        binary(op + "_bcast", op, a, b, f(a, b))
        r = Rand(op + "_i64"); a, b = r.ints(-100, 100, 3, 4), r.ints(-100, 100, 4)
        binary(op + "_i64", op, a, b, f(a, b))


def norms2():
    # layernorm over the last axis and the last two, with and without
    # affine parameters, and with special values (a NaN or Inf spoils its
    # row); the mean and 1/std outputs from native_layer_norm.
    r = Rand("layernorm_last"); x = r.randn(3, 4, 10, scale=2) + 1; w, b = r.randn(10), r.randn(10)
    case("layernorm_last", "layernorm", [("x", x), ("scale", w), ("bias", b)], [("y", F.layer_norm(x, (10,), w, b))])
    r = Rand("layernorm_2axes"); x = r.randn(2, 3, 4, 5, scale=3); w, b = r.randn(4, 5), r.randn(4, 5)
    y, mean, rstd = torch.ops.aten.native_layer_norm(x, [4, 5], w, b, 1e-3)
    case("layernorm_2axes", "layernorm", [("x", x), ("scale", w), ("bias", b)], [("y", y), ("mean", mean), ("inv_std_dev", rstd)],
         {"axis": -2, "epsilon": 1e-3, "stats": True})
    r = Rand("layernorm_noaffine"); x = with_special(r.randn(5, 6, scale=2)); x[1, 0] = float("nan"); x[2, 3] = float("inf")
    x[0, :] = torch.tensor([float("nan"), 1.0, 2.0, 3.0, 4.0, 5.0]); x[3, :] = 7.0  # a constant row: 0, not NaN
    case("layernorm_noaffine", "layernorm", [("x", x), None, None], [("y", F.layer_norm(x, (6,)))])
    r = Rand("layernorm_scaleonly"); x = r.randn(2, 7); w = r.randn(7)
    case("layernorm_scaleonly", "layernorm", [("x", x), ("scale", w), None], [("y", F.layer_norm(x, (7,), w))], {"axis": 1})
    # rmsnorm: x / sqrt(mean(x²) + eps) · w, torch 1.13 having no rms_norm.
    for name, shape, axis, eps in [("rmsnorm_last", (3, 8), -1, 1e-6), ("rmsnorm_2axes", (2, 3, 4), 1, 1e-5)]:
        r = Rand(name); x = r.randn(*shape, scale=2); w = r.randn(*shape[axis:])
        dims = tuple(range(axis % len(shape), len(shape)))
        x64 = x.double()
        y = (x64 / torch.sqrt((x64 * x64).mean(dims, keepdim=True) + eps) * w.double()).float()
        case(name, "rmsnorm", [("x", x), ("scale", w)], [("y", y)], {"axis": axis, "epsilon": eps})
    # groupnorm and instancenorm (one group per channel).
    r = Rand("groupnorm_2d"); x = r.randn(2, 6, 4, 5, scale=2) + 0.5; w, b = r.randn(6), r.randn(6)
    case("groupnorm_2d", "groupnorm", [("x", x), ("scale", w), ("bias", b)], [("y", F.group_norm(x, 3, w, b))], {"num_groups": 3})
    r = Rand("groupnorm_1d_noaffine"); x = r.randn(3, 4, 7)
    case("groupnorm_1d_noaffine", "groupnorm", [("x", x), None, None], [("y", F.group_norm(x, 2, eps=1e-3))], {"num_groups": 2, "epsilon": 1e-3})
    r = Rand("groupnorm_instance"); x = r.randn(2, 3, 5, 5, scale=3); w, b = r.randn(3), r.randn(3)
    case("groupnorm_instance", "groupnorm", [("x", x), ("scale", w), ("bias", b)], [("y", F.instance_norm(x, weight=w, bias=b))], {"num_groups": 3})
    r = Rand("groupnorm_rank2"); x = r.randn(4, 6)
    case("groupnorm_rank2", "groupnorm", [("x", x), None, None], [("y", F.group_norm(x, 3))], {"num_groups": 3})


def prod_dims(x, dims, keep):
    y = x.double()
    for a in sorted(dims, reverse=True):
        y = y.prod(dim=a, keepdim=keep)
    return y.float()


def reductions2():
    # One axis list and all axes per reduction, one case with special
    # values; torch 1.13's functions in float64 where torch has none.
    r = Rand("reduce_max_inf_nan"); x = with_special(r.randn(3, 5))
    x[1, 1:3] = torch.tensor([float("inf"), float("nan")])
    reduction("reduce_max_inf_nan", "reduce_max", x, torch.amax(x, dim=1), [1], False)
    fns = {
        "reduce_min": lambda x, d, k: torch.amin(x, dim=d, keepdim=k),
        "reduce_prod": prod_dims,
        "reduce_l1": lambda x, d, k: x.double().abs().sum(dim=d, keepdim=k).float(),
        "reduce_l2": lambda x, d, k: x.double().pow(2).sum(dim=d, keepdim=k).sqrt().float(),
        "reduce_sum_square": lambda x, d, k: x.double().pow(2).sum(dim=d, keepdim=k).float(),
        "reduce_log_sum": lambda x, d, k: x.double().sum(dim=d, keepdim=k).log().float(),
        "reduce_log_sum_exp": lambda x, d, k: torch.logsumexp(x, dim=d, keepdim=k),
    }
    for op, f in fns.items():
        r = Rand(op + "_axis"); x = r.randn(3, 4, 5, scale=2.0)
        if op == "reduce_log_sum":
            x = x.abs() + 0.1
        reduction(op + "_axis", op, x, f(x, [1], True), [1], True)
        r = Rand(op + "_all"); x = r.rand(2, 3) + 0.5
        reduction(op + "_all", op, x, f(x, [0, 1], False), [], False)
    r = Rand("reduce_min_special"); x = with_special(r.randn(4, 6))
    x[2, 0:2] = torch.tensor([float("-inf"), float("nan")])
    reduction("reduce_min_special", "reduce_min", x, torch.amin(x, dim=1), [1], False)
    r = Rand("reduce_log_sum_exp_big"); x = r.randn(3, 4) * 300
    x[0, 0] = float("-inf"); x[1, :] = float("-inf"); x[2, 1] = float("inf")
    reduction("reduce_log_sum_exp_big", "reduce_log_sum_exp", x, torch.logsumexp(x, dim=1), [1], False)
    # argmax / argmin: ties (first index), NaN wins, keepdims, the last axis.
    for op, f in (("argmax", torch.argmax), ("argmin", torch.argmin)):
        r = Rand(op + "_ties"); x = r.ints(0, 3, 4, 6).float()
        x[3, 2] = float("nan"); x[3, 4] = float("nan")
        case(op + "_ties", op, [("x", x)], [("y", f(x, dim=1))], {"axis": 1})
        r = Rand(op + "_keep"); x = r.randn(3, 4, 5)
        case(op + "_keep", op, [("x", x)], [("y", f(x, dim=0, keepdim=True))], {"axis": 0, "keepdims": True})
        r = Rand(op + "_last"); x = r.ints(0, 2, 3, 5).float()
        flipped = x.flip(-1)
        y = x.shape[-1] - 1 - f(flipped, dim=-1)
        case(op + "_last", op, [("x", x)], [("y", y)], {"axis": -1, "select_last_index": True})
    # hardmax: 1 at the first largest (ties; NaN wins).
    for name, shape, axis in [("hardmax_last", (3, 5), -1), ("hardmax_axis0", (4, 2, 3), 0)]:
        r = Rand(name); x = r.ints(0, 3, *shape).float()
        x.view(-1)[1] = float("nan")
        idx = torch.argmax(x, dim=axis, keepdim=True)
        y = torch.zeros_like(x).scatter_(axis, idx, 1.0)
        case(name, "hardmax", [("x", x)], [("y", y)], {"axis": axis})
    # lrn: torch's local_response_norm (odd size: the same window as
    # ONNX), and an even size by ONNX's formula in float64.
    r = Rand("lrn_torch"); x = r.randn(2, 7, 3, 4, scale=3.0)
    case("lrn_torch", "lrn", [("x", x)], [("y", F.local_response_norm(x, 3, alpha=0.01, beta=0.6, k=2.0))],
         {"size": 3, "alpha": 0.01, "beta": 0.6, "bias": 2.0})
    r = Rand("lrn_even"); x = r.randn(1, 6, 5, scale=2.0); x64 = x.double(); C = 6; size = 4
    sq = torch.zeros_like(x64)
    for c in range(C):
        lo, hi = max(0, c - (size - 1) // 2), min(C, c + size // 2 + 1)
        sq[:, c] = (x64[:, lo:hi] ** 2).sum(1)
    case("lrn_even", "lrn", [("x", x)], [("y", (x64 / (1.0 + 1e-4 / size * sq) ** 0.75).float())], {"size": size})
    # topk: largest and smallest, ties kept in order (distinct values
    # here: torch.topk's order among ties is not specified), NaN largest.
    r = Rand("topk_largest"); x = r.randn(3, 7)
    v, i = torch.topk(x, 3, dim=1)
    case("topk_largest", "topk", [("x", x)], [("values", v), ("indices", i)], {"k": 3, "axis": 1})
    r = Rand("topk_smallest_axis0"); x = r.randn(5, 2, 3); x[1, 0, 0] = float("nan")
    v, i = torch.topk(x, 2, dim=0, largest=False)
    case("topk_smallest_axis0", "topk", [("x", x)], [("values", v), ("indices", i)], {"k": 2, "axis": 0, "largest": False})
    r = Rand("topk_nan"); x = r.randn(2, 6); x[0, 4] = float("nan")
    v, i = torch.topk(x, 6, dim=-1)
    case("topk_nan", "topk", [("x", x)], [("values", v), ("indices", i)], {"k": 6})
    # cumsum: f32 and i64, every flag combination (torch has neither
    # exclusive nor reverse: built from flip and a shift).
    r = Rand("cumsum_f32"); x = with_special(r.randn(3, 6, scale=2.0))
    case("cumsum_f32", "cumsum", [("x", x)], [("y", torch.cumsum(x, dim=1))], {"axis": 1})
    r = Rand("cumsum_i64"); x = r.ints(-50, 50, 2, 3, 4)
    case("cumsum_i64", "cumsum", [("x", x)], [("y", torch.cumsum(x, dim=0))], {"axis": 0})
    r = Rand("cumsum_excl_rev"); x = r.randn(2, 5); x64 = x.double()
    rev = torch.cumsum(x64.flip(1), dim=1).flip(1)
    case("cumsum_reverse", "cumsum", [("x", x)], [("y", rev.float())], {"axis": -1, "reverse": True})
    case("cumsum_exclusive", "cumsum", [("x", x)], [("y", (torch.cumsum(x64, dim=1) - x64).float())], {"axis": 1, "exclusive": True})
    case("cumsum_excl_rev", "cumsum", [("x", x)], [("y", (rev - x64).float())], {"axis": 1, "exclusive": True, "reverse": True})


# ------------------------------------------------------------------ reductions


def reduction(name, op, x, y, axes, keepdims):
    case(name, op, [("x", x)], [("y", y)], {"axes": axes, "keepdims": keepdims})


def reductions():
    r = Rand("reduce_sum_all"); x = r.randn(3, 4, 5)
    reduction("reduce_sum_all", "reduce_sum", x, torch.sum(x), [], False)
    r = Rand("reduce_sum_axis_keep"); x = r.randn(2, 6, 3)
    reduction("reduce_sum_axis_keep", "reduce_sum", x, torch.sum(x, dim=1, keepdim=True), [1], True)
    r = Rand("reduce_sum_neg_axes"); x = r.randn(4, 3, 5, 2)
    reduction("reduce_sum_neg_axes", "reduce_sum", x, torch.sum(x, dim=(-1, 0)), [-1, 0], False)
    r = Rand("reduce_mean_axes"); x = r.randn(3, 4, 5, 2)
    reduction("reduce_mean_axes", "reduce_mean", x, torch.mean(x, dim=(1, -1)), [1, -1], False)
    r = Rand("reduce_mean_all_keep"); x = r.randn(2, 7, 3)
    reduction("reduce_mean_all_keep", "reduce_mean", x, torch.mean(x, dim=(0, 1, 2), keepdim=True), [], True)
    r = Rand("reduce_mean_nonfinite"); x = r.randn(3, 4)
    x[0, 1] = float("nan"); x[1, 2] = float("inf"); x[2, 0] = float("inf"); x[2, 3] = float("-inf")
    reduction("reduce_mean_nonfinite", "reduce_mean", x, torch.mean(x, dim=1), [1], False)
    r = Rand("reduce_max_axes"); x = r.randn(3, 5, 4)
    reduction("reduce_max_axes", "reduce_max", x, torch.amax(x, dim=(0, 2)), [0, 2], False)
    r = Rand("reduce_max_nonfinite"); x = r.randn(4, 6)
    x[1, 2] = float("nan"); x[2, 0] = float("inf"); x[3, 5] = float("-inf")
    reduction("reduce_max_nonfinite", "reduce_max", x, torch.amax(x, dim=1, keepdim=True), [1], True)


# ------------------------------------------------------------------ broadcast


def binary(name, op, a, b, y):
    case(name, op, [("a", a), ("b", b)], [("y", y)])


def broadcast():
    r = Rand("add_same"); a, b = r.randn(3, 5), r.randn(3, 5)
    binary("add_same", "add", a, b, a + b)
    r = Rand("add_bcast"); a, b = r.randn(2, 3, 1, 5), r.randn(4, 1)
    binary("add_bcast", "add", a, b, a + b)
    r = Rand("add_scalar"); a, b = r.randn(3, 4), r.randn()
    binary("add_scalar", "add", a, b, a + b)
    r = Rand("add_i64"); a, b = r.ints(-100, 100, 3, 1), r.ints(-100, 100, 1, 4)
    binary("add_i64", "add", a, b, a + b)
    r = Rand("sub_bcast"); a, b = r.randn(5, 1, 3), r.randn(4, 3)
    binary("sub_bcast", "sub", a, b, a - b)
    r = Rand("sub_rank1"); a, b = r.randn(6), r.randn(2, 1)
    binary("sub_rank1", "sub", a, b, a - b)
    r = Rand("sub_i64"); a, b = r.ints(-50, 50, 2, 3, 4), r.ints(-50, 50, 4)
    binary("sub_i64", "sub", a, b, a - b)
    r = Rand("mul_bcast"); a, b = r.randn(1, 6), r.randn(5, 1)
    binary("mul_bcast", "mul", a, b, a * b)
    r = Rand("mul_4d"); a, b = r.randn(2, 1, 4, 3), r.randn(1, 3, 1, 3)
    binary("mul_4d", "mul", a, b, a * b)
    r = Rand("mul_i64"); a, b = r.ints(-1000, 1000, 3, 5), r.ints(-1000, 1000, 3, 1)
    binary("mul_i64", "mul", a, b, a * b)
    r = Rand("div_bcast"); a, b = r.randn(4, 1, 5), r.nonzero(3, 1)
    binary("div_bcast", "div", a, b, a / b)
    r = Rand("div_scalar"); a, b = r.randn(), r.nonzero(3, 3)
    binary("div_scalar", "div", a, b, a / b)
    # Integer division truncates toward zero (C / Go / ONNX).
    r = Rand("div_i64")
    a = r.ints(-100, 100, 2, 6)
    b = r.ints(1, 9, 6) * torch.where(r.rand(6) < 0.5, -1, 1).to(torch.int64)
    binary("div_i64", "div", a, b, torch.div(a, b, rounding_mode="trunc"))


# --------------------------------------------------------------------- linear


def linear():
    r = Rand("dense_bias"); x, w, b = r.randn(4, 13), r.randn(7, 13), r.randn(7)
    case("dense_bias", "dense", [("x", x), ("weight", w), ("bias", b)], [("y", F.linear(x, w, b))])
    r = Rand("dense_nobias"); x, w = r.randn(2, 3, 11), r.randn(5, 11)
    case("dense_nobias", "dense", [("x", x), ("weight", w), None], [("y", F.linear(x, w))])
    r = Rand("dense_1d"); x, w, b = r.randn(9), r.randn(4, 9), r.randn(4)
    case("dense_1d", "dense", [("x", x), ("weight", w), ("bias", b)], [("y", F.linear(x, w, b))])
    for name, sa, sb in [
        ("matmul_2d", (5, 7), (7, 3)),
        ("matmul_batch_bcast", (2, 1, 4, 6), (3, 6, 5)),
        ("matmul_vec_mat", (6,), (2, 6, 4)),
        ("matmul_mat_vec", (3, 4, 5), (5,)),
        ("matmul_vec_vec", (7,), (7,)),
    ]:
        r = Rand(name); a, b = r.randn(*sa), r.randn(*sb)
        binary(name, "matmul", a, b, torch.matmul(a, b))


# ----------------------------------------------------------------------- conv


def torch_pads(pads):
    """ir pads (all begins, then all ends) as F.pad's list (last axis first)."""
    r = len(pads) // 2
    out = []
    for i in reversed(range(r)):
        out += [pads[i], pads[r + i]]
    return out


def conv_case(name, xs, ws, bias=True, strides=None, pads=None, dilations=None, groups=1):
    r = Rand(name)
    x, w = r.randn(*xs), r.randn(*ws)
    b = r.randn(ws[0]) if bias else None
    rank = len(ws) - 2
    attrs = {}
    if strides is not None:
        attrs["strides"] = strides
    if pads is not None:
        attrs["pads"] = pads
    if dilations is not None:
        attrs["dilations"] = dilations
    if groups != 1:
        attrs["groups"] = groups
    full = pads or [0] * (2 * rank)
    if len(full) == rank:
        full = full + full
    xp = F.pad(x, torch_pads(full))  # asymmetric padding: pad explicitly
    fn = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[rank]
    y = fn(xp, w, b, stride=strides or 1, padding=0, dilation=dilations or 1, groups=groups)
    ins = [("x", x), ("weight", w), ("bias", b) if bias else None]
    case(name, "conv", ins, [("y", y)], attrs)


def conv():
    conv_case("conv1d_basic", (2, 3, 11), (4, 3, 3))
    conv_case("conv1d_groups_stride_dil", (1, 4, 17), (6, 2, 3), strides=[2], pads=[1, 2], dilations=[2], groups=2)
    conv_case("conv2d_basic", (2, 3, 7, 9), (5, 3, 3, 3), pads=[1, 1, 1, 1])
    conv_case("conv2d_symmetric_pads", (1, 3, 6, 5), (2, 3, 3, 3), pads=[1, 2])
    conv_case("conv2d_stride_asym_pads", (1, 3, 9, 7), (4, 3, 3, 2), bias=False, strides=[2, 3], pads=[1, 0, 2, 1])
    conv_case("conv2d_dilation", (1, 2, 11, 10), (3, 2, 3, 3), dilations=[2, 3], pads=[2, 1, 2, 1])
    conv_case("conv2d_groups", (2, 6, 7, 9), (9, 2, 3, 3), strides=[2, 2], pads=[1, 1, 1, 1], groups=3)
    conv_case("conv2d_depthwise", (1, 5, 8, 7), (5, 1, 3, 3), pads=[1, 1, 1, 1], groups=5)
    conv_case("conv2d_depthwise_multiplier", (1, 4, 7, 7), (8, 1, 5, 5), bias=False, strides=[2, 2], pads=[2, 2, 2, 2], groups=4)
    conv_case("conv2d_1x1", (2, 8, 5, 5), (3, 8, 1, 1))
    conv_case("conv2d_kernel_over_input", (1, 1, 3, 3), (2, 1, 5, 5), pads=[2, 2, 2, 2])
    conv_case("conv3d_basic", (1, 2, 5, 6, 7), (3, 2, 3, 3, 3), pads=[1, 1, 1, 1, 1, 1])
    conv_case("conv3d_groups_stride_dil", (2, 4, 7, 6, 5), (4, 2, 2, 3, 2), strides=[2, 1, 2], pads=[1, 0, 1, 0, 2, 1],
              dilations=[1, 2, 1], groups=2)


# ----------------------------------------------------------------------- pool


def pool_attrs(kernel, strides, pads, dilations, ceil, include=None):
    attrs = {"kernel": kernel}
    if strides is not None:
        attrs["strides"] = strides
    if pads is not None:
        attrs["pads"] = pads
    if dilations is not None:
        attrs["dilations"] = dilations
    if ceil:
        attrs["ceil_mode"] = True
    if include is not None:
        attrs["count_include_pad"] = include
    return attrs


def maxpool_case(name, xs, kernel, strides=None, pads=None, dilations=None, ceil=False, shift=0.0):
    """pads: one per axis (symmetric, passed to torch) or begins+ends
    (asymmetric: padded explicitly with -inf, ceil_mode off)."""
    r = Rand(name)
    x = r.randn(*xs) + shift
    rank = len(kernel)
    fn = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[rank]
    kw = dict(stride=strides or kernel, dilation=dilations or 1, ceil_mode=ceil)
    if pads is not None and len(pads) == 2 * rank:
        assert not ceil
        y = fn(F.pad(x, torch_pads(pads), value=float("-inf")), kernel, padding=0, **kw)
    else:
        y = fn(x, kernel, padding=pads or 0, **kw)
    unary(name, "maxpool", x, y, pool_attrs(kernel, strides, pads, dilations, ceil))


def avgpool_case(name, xs, kernel, strides=None, pads=None, ceil=False, include=None):
    """pads: one per axis (symmetric, passed to torch) or begins+ends
    (asymmetric, ceil_mode off: computed as a zero-padded sum over a count)."""
    r = Rand(name)
    x = r.randn(*xs)
    rank = len(kernel)
    fn = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[rank]
    inc = True if include is None else include
    if pads is not None and len(pads) == 2 * rank:
        assert not ceil
        tp = torch_pads(pads)
        y = fn(F.pad(x, tp), kernel, stride=strides or kernel)
        if not inc:
            ones = F.pad(torch.ones_like(x), tp)
            y = y / fn(ones, kernel, stride=strides or kernel)
    else:
        y = fn(x, kernel, stride=strides or kernel, padding=pads or 0, ceil_mode=ceil, count_include_pad=inc)
    unary(name, "avgpool", x, y, pool_attrs(kernel, strides, pads, None, ceil, include))


def pool():
    maxpool_case("maxpool2d_basic", (2, 3, 8, 8), [2, 2])
    maxpool_case("maxpool2d_pad_stride", (1, 3, 7, 9), [3, 3], strides=[2, 2], pads=[1, 1], shift=-10)
    maxpool_case("maxpool2d_ceil", (1, 2, 7, 9), [3, 3], strides=[2, 2], ceil=True)
    maxpool_case("maxpool2d_ceil_pad", (1, 2, 8, 7), [3, 2], strides=[2, 2], pads=[1, 1], ceil=True, shift=-10)
    maxpool_case("maxpool2d_dilation", (1, 2, 9, 10), [3, 3], strides=[1, 1], pads=[1, 1], dilations=[2, 2])
    maxpool_case("maxpool2d_asym_pads", (1, 3, 7, 8), [3, 3], strides=[2, 2], pads=[0, 1, 1, 1], shift=-10)
    maxpool_case("maxpool1d_ceil_pad", (2, 3, 13), [4], strides=[3], pads=[2], ceil=True)
    maxpool_case("maxpool3d_ceil", (1, 2, 5, 7, 6), [2, 3, 2], strides=[2, 2, 1], pads=[1, 1, 0], ceil=True)
    maxpool_case("maxpool3d_dilation", (1, 2, 7, 6, 6), [2, 2, 2], strides=[1, 2, 2], dilations=[2, 1, 2])

    avgpool_case("avgpool2d_basic", (2, 3, 8, 6), [2, 2])
    avgpool_case("avgpool2d_pad_include", (1, 3, 7, 9), [3, 3], strides=[2, 2], pads=[1, 1])
    avgpool_case("avgpool2d_pad_exclude", (1, 3, 7, 9), [3, 3], strides=[2, 2], pads=[1, 1], include=False)
    avgpool_case("avgpool2d_ceil_include", (1, 2, 7, 8), [3, 3], strides=[2, 2], pads=[1, 1], ceil=True, include=True)
    avgpool_case("avgpool2d_ceil_exclude", (1, 2, 7, 8), [3, 3], strides=[2, 2], pads=[1, 1], ceil=True, include=False)
    avgpool_case("avgpool2d_ceil_nopad", (1, 2, 6, 9), [2, 4], strides=[3, 3], ceil=True)
    avgpool_case("avgpool2d_asym_include", (1, 2, 7, 8), [3, 3], strides=[2, 2], pads=[1, 0, 0, 1])
    avgpool_case("avgpool2d_asym_exclude", (1, 2, 7, 8), [3, 3], strides=[2, 2], pads=[1, 0, 0, 1], include=False)
    avgpool_case("avgpool1d_ceil_include", (2, 3, 10), [3], strides=[2], pads=[1], ceil=True)
    avgpool_case("avgpool3d_ceil_exclude", (1, 2, 5, 6, 7), [3, 2, 3], strides=[2, 2, 2], pads=[1, 1, 1], ceil=True,
                 include=False)
    avgpool_case("avgpool3d_include", (1, 2, 6, 5, 4), [2, 2, 2], strides=[1, 2, 1], pads=[1, 0, 1])

    for name, xs in [("global_avgpool_1d", (2, 3, 7)), ("global_avgpool_2d", (2, 5, 7, 9)),
                     ("global_avgpool_3d", (1, 3, 3, 4, 5))]:
        r = Rand(name); x = r.randn(*xs)
        dims = tuple(range(2, x.dim()))
        unary(name, "global_avgpool", x, x.mean(dim=dims, keepdim=True))
    for name, xs in [("global_maxpool_1d", (2, 3, 7)), ("global_maxpool_2d", (2, 5, 7, 9)),
                     ("global_maxpool_3d", (1, 3, 3, 4, 5))]:
        r = Rand(name); x = r.randn(*xs)
        dims = tuple(range(2, x.dim()))
        unary(name, "global_maxpool", x, torch.amax(x, dim=dims, keepdim=True))


# ----------------------------------------------------------------------- norm


def norm():
    for name, xs, eps in [("batchnorm_2d", (2, 5, 7, 9), None), ("batchnorm_rank2_eps", (4, 6), 1e-3),
                          ("batchnorm_1d", (2, 3, 11), None), ("batchnorm_3d", (1, 4, 3, 5, 2), 0.1)]:
        r = Rand(name)
        c = xs[1]
        x = r.randn(*xs, scale=2) + 0.5
        scale, bias = r.randn(c), r.randn(c)
        mean, var = r.randn(c, scale=0.5), r.rand(c) * 2 + 0.1
        y = F.batch_norm(x, mean, var, scale, bias, training=False, eps=1e-5 if eps is None else eps)
        case(name, "batchnorm", [("x", x), ("scale", scale), ("bias", bias), ("mean", mean), ("var", var)],
             [("y", y)], {} if eps is None else {"epsilon": eps})
    for op, fn in [("softmax", F.softmax), ("log_softmax", F.log_softmax)]:
        for suffix, xs, axis, scale in [("last", (4, 9), None, 1.0), ("axis0", (5, 3, 4), 0, 1.0),
                                        ("axis1_4d", (2, 6, 3, 4), 1, 2.0), ("neg_axis", (3, 5, 7), -2, 1.0),
                                        ("large", (3, 8), -1, 50.0)]:
            name = op + "_" + suffix
            r = Rand(name); x = r.randn(*xs, scale=scale)
            unary(name, op, x, fn(x, dim=-1 if axis is None else axis), None if axis is None else {"axis": axis})


# ---------------------------------------------------------------------- shape


def cast():
    """cast between dtypes, with torch's Tensor.to as the reference. Float to
    integer casts use in-range values only: out of range and NaN are
    undefined in torch and ONNX (dlc's rule is tested in Go)."""
    edges = torch.tensor([0.0, -0.0, 1.0, -2.5, 2.5, 3.5, 0.1, 65504.0, 65519.0, 65520.0, 1e10, -1e10,
                          6e-8, 2.9e-8, 1e-40, 3.0e38, float("inf"), float("-inf"), float("nan")],
                         dtype=torch.float32)
    for dt, name in [(torch.float16, "f16"), (torch.bfloat16, "bf16"), (torch.float64, "f64"), (torch.bool, "bool")]:
        unary("cast_f32_" + name, "cast", edges, edges.to(dt), {"to": name})
    r = Rand("cast_f32_ints"); x = r.randn(4, 5, scale=50)
    for dt, name in [(torch.int8, "i8"), (torch.int16, "i16"), (torch.int32, "i32"), (torch.int64, "i64"), (torch.uint8, "u8")]:
        v = x.abs() if dt == torch.uint8 else x
        unary("cast_f32_" + name, "cast", v, v.to(dt), {"to": name})
    r = Rand("cast_i64"); i = r.ints(-70000, 70000, 3, 4)
    for dt, name in [(torch.int8, "i8"), (torch.int16, "i16"), (torch.int32, "i32"), (torch.uint8, "u8"),
                     (torch.float32, "f32"), (torch.float16, "f16"), (torch.bool, "bool")]:
        unary("cast_i64_" + name, "cast", i, i.to(dt), {"to": name})
    h = edges.to(torch.float16)
    for dt, name in [(torch.float32, "f32"), (torch.bfloat16, "bf16"), (torch.int64, "i64")]:
        v = h if dt != torch.int64 else h[:8]  # finite, in range
        unary("cast_f16_" + name, "cast", v, v.to(dt), {"to": name})
    b = torch.tensor([True, False, True])
    for dt, name in [(torch.float32, "f32"), (torch.int32, "i32")]:
        unary("cast_bool_" + name, "cast", b, b.to(dt), {"to": name})


# ------------------------------------------------------------------- logic


def logic():
    """Comparisons, logic, bitwise ops, where, isnan, isinf, fmod and
    remainder (ir/ops_logic.go) on NaN, ±Inf, ±0, integer extremes and
    broadcasting, with torch's functions as the reference."""
    fl = torch.tensor([[float("nan"), float("inf"), float("-inf"), -0.0, 0.0, 1.5, -2.5, 7.0],
                       [3.0, -3.0, 0.5, 2.0, -7.0, 1e30, -1e-30, 5.5]], dtype=torch.float32)
    fr = torch.tensor([float("nan"), float("inf"), 2.0, 0.0, -0.0, 1.5, -2.0, 3.0], dtype=torch.float32)
    i64 = torch.tensor([[-2**63, 2**63 - 1, -7, 7, -7, 0, 5, -1]], dtype=torch.int64)
    # [3, 1] with [1, 8]: broadcast both ways. No -1 divisor: torch traps
    # on MinInt % -1 (dlc gives 0, tested in Go).
    j64 = torch.tensor([[-5], [2], [-3]], dtype=torch.int64)
    i8 = torch.tensor([-128, 127, -7, 7, 0, -1, 100, -100], dtype=torch.int8)
    j8 = torch.tensor([-3, 3, 2, -2, 5, 7, -128, 127], dtype=torch.int8)
    u8 = torch.tensor([0, 1, 7, 128, 255, 200, 3, 64], dtype=torch.uint8)
    v8 = torch.tensor([1, 3, 2, 7, 8, 255, 1, 6], dtype=torch.uint8)
    i32 = torch.tensor([[2**31 - 1, -2**31, 5, -5]], dtype=torch.int32)
    j32 = torch.tensor([[3], [-3]], dtype=torch.int32)
    bl = torch.tensor([[False, False, True, True]])
    br = torch.tensor([[False], [True]])
    f64 = fl.to(torch.float64)
    for op, fn in [("eq", torch.eq), ("lt", torch.lt), ("gt", torch.gt), ("le", torch.le), ("ge", torch.ge)]:
        binary(op + "_f32", op, fl, fr, fn(fl, fr))
        binary(op + "_i64", op, i64, j64, fn(i64, j64))
        binary(op + "_u8", op, u8, v8, fn(u8, v8))
        binary(op + "_bool", op, bl, br, fn(bl, br))
        binary(op + "_f16", op, fl.to(torch.float16), fr.to(torch.float16), fn(fl.to(torch.float16), fr.to(torch.float16)))
    for op, fn in [("logical_and", torch.logical_and), ("logical_or", torch.logical_or), ("logical_xor", torch.logical_xor)]:
        binary(op, op, bl, br, fn(bl, br))
    unary("logical_not", "logical_not", bl, torch.logical_not(bl))
    for op, fn in [("bitwise_and", torch.bitwise_and), ("bitwise_or", torch.bitwise_or), ("bitwise_xor", torch.bitwise_xor)]:
        binary(op + "_i64", op, i64, j64, fn(i64, j64))
        binary(op + "_i8", op, i8, j8, fn(i8, j8))
        binary(op + "_u8", op, u8, v8, fn(u8, v8))
    for name, x in [("i64", i64), ("i32", i32), ("u8", u8)]:
        unary("bitwise_not_" + name, "bitwise_not", x, torch.bitwise_not(x))
    sh = torch.tensor([0, 1, 3, 7, 2, 1, 5, 4], dtype=torch.uint8)  # below the width: torch's shifts by more are its own
    binary("bitwise_left_shift_u8", "bitwise_left_shift", u8, sh, torch.bitwise_left_shift(u8, sh))
    binary("bitwise_right_shift_u8", "bitwise_right_shift", u8, sh, torch.bitwise_right_shift(u8, sh))
    cond = torch.tensor([[True], [False]])
    for name, x, y in [("f32", fl, fr), ("i64", i64, j64[:2]), ("u8", u8, v8), ("bool", bl, br), ("f64", f64, fr.to(torch.float64))]:
        case("where_" + name, "where", [("condition", cond), ("x", x), ("y", y)], [("out", torch.where(cond, x, y))])
    for name, x in [("f32", fl), ("f64", f64), ("f16", fl.to(torch.float16))]:
        unary("isnan_" + name, "isnan", x, torch.isnan(x))
        unary("isinf_" + name, "isinf", x, torch.isinf(x))
    unary("isinf_pos", "isinf", fl, torch.isposinf(fl), {"detect_negative": False})
    unary("isinf_neg", "isinf", fl, torch.isneginf(fl), {"detect_positive": False})
    # Divisors: a float 0 gives NaN; integer divisors are nonzero (a zero
    # one is a run-time error, tested in Go).
    for op, fn in [("fmod", torch.fmod), ("remainder", torch.remainder)]:
        binary(op + "_f32", op, fl, fr, fn(fl, fr))
        binary(op + "_f64", op, f64, fr.to(torch.float64), fn(f64, fr.to(torch.float64)))
        binary(op + "_i64", op, i64, j64, fn(i64, j64))
        binary(op + "_i32", op, i32, j32, fn(i32, j32))
        binary(op + "_i8", op, i8, j8, fn(i8, j8))
        binary(op + "_u8", op, u8, v8, fn(u8, v8))


def shape():
    for name, xs, axis in [("flatten_default", (2, 3, 4, 5), None), ("flatten_axis0", (2, 3, 4), 0),
                           ("flatten_axis3", (2, 3, 4, 5), 3), ("flatten_neg_axis", (2, 3, 4, 5), -2),
                           ("flatten_axis_rank", (2, 3, 4), 3)]:
        r = Rand(name); x = r.randn(*xs)
        a = 1 if axis is None else axis
        if a < 0:
            a += x.dim()
        lead = 1
        for d in xs[:a]:
            lead *= d
        unary(name, "flatten", x, x.reshape(lead, -1), None if axis is None else {"axis": axis})

    r = Rand("reshape_infer"); x = r.randn(2, 3, 4)
    unary("reshape_infer", "reshape", x, x.reshape(4, -1), {"shape": [4, -1]})
    r = Rand("reshape_copy_dim"); x = r.randn(2, 3, 4)
    unary("reshape_copy_dim", "reshape", x, x.reshape(2, -1, 2), {"shape": [0, -1, 2]})
    r = Rand("reshape_i64"); x = r.ints(-9, 9, 6, 2)
    unary("reshape_i64", "reshape", x, x.reshape(3, 2, 2), {"shape": [3, 2, 2]})

    r = Rand("transpose_default"); x = r.randn(2, 3, 4)
    unary("transpose_default", "transpose", x, x.permute(2, 1, 0))
    r = Rand("transpose_nchw_nhwc"); x = r.randn(2, 3, 4, 5)
    unary("transpose_nchw_nhwc", "transpose", x, x.permute(0, 2, 3, 1), {"perm": [0, 2, 3, 1]})
    r = Rand("transpose_2d"); x = r.randn(5, 7)
    unary("transpose_2d", "transpose", x, x.t(), {"perm": [1, 0]})
    r = Rand("transpose_i64"); x = r.ints(0, 100, 3, 2, 4)
    unary("transpose_i64", "transpose", x, x.permute(1, 2, 0), {"perm": [1, 2, 0]})

    r = Rand("concat_axis1"); xs = [r.randn(2, 3, 4), r.randn(2, 1, 4), r.randn(2, 5, 4)]
    case("concat_axis1", "concat", [("x0", xs[0]), ("x1", xs[1]), ("x2", xs[2])], [("y", torch.cat(xs, 1))])
    r = Rand("concat_neg_axis"); xs = [r.randn(3, 2), r.randn(3, 4)]
    case("concat_neg_axis", "concat", [("x0", xs[0]), ("x1", xs[1])], [("y", torch.cat(xs, -1))], {"axis": -1})
    r = Rand("concat_axis0_i64"); xs = [r.ints(0, 9, 1, 3), r.ints(0, 9, 2, 3)]
    case("concat_axis0_i64", "concat", [("x0", xs[0]), ("x1", xs[1])], [("y", torch.cat(xs, 0))], {"axis": 0})
    r = Rand("concat_single"); x = r.randn(2, 3)
    case("concat_single", "concat", [("x0", x)], [("y", torch.cat([x], 1))])

    r = Rand("squeeze_all"); x = r.randn(1, 3, 1, 4, 1)
    unary("squeeze_all", "squeeze", x, x.squeeze())
    r = Rand("squeeze_axes"); x = r.randn(1, 3, 1, 4)
    unary("squeeze_axes", "squeeze", x, x.squeeze(2).squeeze(0), {"axes": [0, -2]})
    r = Rand("squeeze_i64"); x = r.ints(0, 5, 2, 1)
    unary("squeeze_i64", "squeeze", x, x.squeeze(1), {"axes": [1]})

    r = Rand("unsqueeze_ends"); x = r.randn(3, 4)
    unary("unsqueeze_ends", "unsqueeze", x, x.unsqueeze(0).unsqueeze(3), {"axes": [0, 3]})
    r = Rand("unsqueeze_neg"); x = r.randn(2, 3)
    unary("unsqueeze_neg", "unsqueeze", x, x.unsqueeze(-1), {"axes": [-1]})
    r = Rand("unsqueeze_mid"); x = r.randn(2, 5)
    unary("unsqueeze_mid", "unsqueeze", x, x.unsqueeze(1).unsqueeze(2), {"axes": [2, 1]})

    def gather_case(name, data, idx, axis):
        a = axis % data.dim()
        dim = data.shape[a]
        norm = torch.where(idx < 0, idx + dim, idx)
        y = torch.index_select(data, a, norm.flatten())
        y = y.reshape(tuple(data.shape[:a]) + tuple(idx.shape) + tuple(data.shape[a + 1:]))
        case(name, "gather", [("data", data), ("indices", idx)], [("y", y)], None if axis == 0 else {"axis": axis})

    r = Rand("gather_axis0_neg")
    gather_case("gather_axis0_neg", r.randn(5, 4), torch.tensor([3, -1, 0, -5, 2], dtype=torch.int64), 0)
    r = Rand("gather_axis1_2d_idx")
    gather_case("gather_axis1_2d_idx", r.randn(3, 6, 2), torch.tensor([[0, -2, 5], [-6, 1, 1]], dtype=torch.int64), 1)
    r = Rand("gather_scalar_idx")
    gather_case("gather_scalar_idx", r.randn(2, 3, 7), torch.tensor(-3, dtype=torch.int64), -1)
    r = Rand("gather_i64_data")
    gather_case("gather_i64_data", r.ints(-50, 50, 4, 3), torch.tensor([2, -4, 3], dtype=torch.int64), 0)

    r = Rand("embedding_2d"); ids, w = r.ints(0, 11, 2, 5), r.randn(11, 6)
    case("embedding_2d", "embedding", [("ids", ids), ("weight", w)], [("y", F.embedding(ids, w))])
    r = Rand("embedding_1d_repeats"); w = r.randn(4, 3)
    ids = torch.tensor([3, 0, 3, 1, 0, 2, 3], dtype=torch.int64)
    case("embedding_1d_repeats", "embedding", [("ids", ids), ("weight", w)], [("y", F.embedding(ids, w))])
    r = Rand("embedding_rank0"); w = r.randn(5, 4); ids = torch.tensor(4, dtype=torch.int64)
    case("embedding_rank0", "embedding", [("ids", ids), ("weight", w)], [("y", F.embedding(ids, w))])


# -------------------------------------------------------------------- spatial


def conv_transpose_case(name, xs, ws, groups=1, bias=True, stride=1, padding=0, output_padding=0, dilation=1):
    r = Rand(name)
    x, w = r.randn(*xs), r.randn(*ws)
    b = r.randn(ws[1] * groups) if bias else None
    rank = len(ws) - 2
    fn = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[rank]
    y = fn(x, w, b, stride=stride, padding=padding, output_padding=output_padding, groups=groups, dilation=dilation)
    per = lambda v: list(v) if isinstance(v, (list, tuple)) else [v] * rank
    pads = per(padding)
    attrs = {"strides": per(stride), "pads": pads + pads, "dilations": per(dilation), "groups": groups,
             "output_padding": per(output_padding)}
    ins = [("x", x), ("weight", w), ("bias", b) if bias else None]
    case(name, "conv_transpose", ins, [("y", y)], attrs)


def resize_case(name, x, mode="nearest", size=None, scale_factor=None, align_corners=None, antialias=False):
    """F.interpolate, recorded as ir's resize with the attributes
    frontend/dl's upsample gives it."""
    y = F.interpolate(x, size=size, scale_factor=scale_factor, mode=mode, align_corners=align_corners,
                      antialias=antialias)
    r = x.dim() - 2
    sizes = list(y.shape)
    if scale_factor is not None and not align_corners:
        sf = scale_factor if isinstance(scale_factor, (list, tuple)) else [scale_factor] * r
        scales = [1.0, 1.0] + [float(v) for v in sf]
    else:
        scales = [1.0, 1.0] + [sizes[2 + i] / x.shape[2 + i] for i in range(r)]
    irmode = {"nearest": "nearest", "nearest-exact": "nearest", "linear": "linear", "bilinear": "linear",
              "trilinear": "linear", "bicubic": "cubic"}[mode]
    attrs = {"sizes": sizes, "scales": scales, "mode": irmode, "antialias": antialias}
    if antialias:  # PIL's filters: taps outside are left out; bicubic with a = -0.5
        attrs["exclude_outside"] = True
        if irmode == "cubic":
            attrs["cubic_coeff_a"] = -0.5
    if mode == "nearest":
        attrs.update(coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    elif mode == "nearest-exact":
        attrs.update(coordinate_transformation_mode="half_pixel", nearest_mode="round_prefer_ceil")
    elif align_corners:
        attrs["coordinate_transformation_mode"] = "align_corners"
    else:
        attrs["coordinate_transformation_mode"] = "pytorch_half_pixel"
    unary(name, "resize", x, y, attrs)


def spatial():
    conv_transpose_case("conv_transpose1d_basic", (2, 3, 7), (3, 4, 3))
    conv_transpose_case("conv_transpose1d_stride_pad_outpad", (1, 4, 9), (4, 2, 4), stride=3, padding=1, output_padding=2)
    conv_transpose_case("conv_transpose2d_unet_up", (2, 8, 5, 5), (8, 4, 2, 2), stride=2)
    conv_transpose_case("conv_transpose2d_stride_pad", (1, 3, 6, 5), (3, 5, 3, 3), stride=2, padding=1, output_padding=1)
    conv_transpose_case("conv_transpose2d_groups_dil", (2, 6, 5, 4), (6, 2, 3, 2), groups=3, dilation=(2, 1),
                        stride=(1, 2), padding=(2, 0), bias=False)
    conv_transpose_case("conv_transpose2d_depthwise", (1, 4, 6, 6), (4, 1, 3, 3), groups=4, stride=2, padding=1)
    conv_transpose_case("conv_transpose2d_asym", (1, 2, 4, 7), (2, 3, 3, 5), stride=(3, 1), padding=(0, 2),
                        output_padding=(2, 0))
    conv_transpose_case("conv_transpose3d_basic", (1, 2, 3, 4, 5), (2, 3, 2, 3, 2), stride=(2, 1, 2), padding=(0, 1, 1))
    r = Rand("resize")
    x4 = r.randn(2, 3, 5, 7)
    resize_case("resize_nearest_x2", r.randn(1, 2, 4, 6), scale_factor=2)
    resize_case("resize_nearest_size", x4, size=(3, 11))
    resize_case("resize_nearest_scale_frac", x4, scale_factor=(1.5, 0.6))
    resize_case("resize_nearest_1d", r.randn(2, 3, 9), size=4)
    resize_case("resize_nearest_3d", r.randn(1, 2, 3, 4, 5), scale_factor=(2, 1, 3))
    resize_case("resize_nearest_exact", x4, size=(8, 4), mode="nearest-exact")
    resize_case("resize_linear_1d", r.randn(2, 3, 6), scale_factor=2.5, mode="linear")
    resize_case("resize_bilinear_x2", x4, scale_factor=2, mode="bilinear", align_corners=False)
    resize_case("resize_bilinear_down", x4, size=(3, 4), mode="bilinear", align_corners=False)
    resize_case("resize_bilinear_align", x4, size=(9, 10), mode="bilinear", align_corners=True)
    resize_case("resize_bilinear_antialias", r.randn(1, 2, 12, 9), size=(5, 4), mode="bilinear", antialias=True)
    resize_case("resize_bicubic_x2", x4, scale_factor=2, mode="bicubic", align_corners=False)
    resize_case("resize_bicubic_down", x4, size=(3, 5), mode="bicubic", align_corners=False)
    resize_case("resize_bicubic_align", x4, size=(7, 6), mode="bicubic", align_corners=True)
    resize_case("resize_bicubic_antialias", r.randn(1, 1, 11, 13), size=(4, 6), mode="bicubic", antialias=True)
    resize_case("resize_trilinear", r.randn(1, 2, 3, 4, 5), size=(5, 3, 7), mode="trilinear", align_corners=False)
    sp = with_special(r.randn(1, 1, 2, 6))
    resize_case("resize_nearest_special", sp.reshape(1, 1, 2, -1), scale_factor=(2, 3))


def pad_case(name, x, pad, mode="constant", value=0.0):
    """F.pad (pad: last axis first, (begin, end) pairs), recorded as ir's
    pad (every axis' begins, then ends)."""
    y = F.pad(x, pad, mode=mode, value=value) if mode == "constant" else F.pad(x, pad, mode=mode)
    r = x.dim()
    pads = [0] * (2 * r)
    for k in range(len(pad) // 2):
        a = r - 1 - k
        pads[a], pads[r + a] = pad[2 * k], pad[2 * k + 1]
    irmode = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    unary(name, "pad", x, y, {"pads": pads, "mode": irmode, "value": value})


def plumbing():
    r = Rand("plumbing")
    x4 = r.randn(2, 3, 4, 5)
    pad_case("pad_constant", x4, (1, 2, 0, 3), value=1.5)
    pad_case("pad_constant_crop", x4, (-1, 2, 1, -2, 1, 0))
    pad_case("pad_constant_i64", r.ints(-9, 9, 2, 3, 4), (2, 1, 0, 2), value=7.0)
    pad_case("pad_constant_special", with_special(r.randn(1, 2, 7)), (2, 3), value=-3.25)
    pad_case("pad_reflect", x4, (2, 3, 3, 1), mode="reflect")
    pad_case("pad_reflect_1d", r.randn(2, 3, 6), (5, 4), mode="reflect")
    pad_case("pad_replicate", r.randn(1, 2, 3, 4, 5), (1, 2, 3, 0, 2, 2), mode="replicate")
    pad_case("pad_circular", x4, (2, 4, 3, 1), mode="circular")
    pad_case("pad_circular_1d", with_special(r.randn(1, 2, 7)), (3, 5), mode="circular")
    x = r.randn(3, 1, 4)
    unary("expand_basic", "expand", x, x.expand(2, 3, 5, 4), {"shape": [2, 3, 5, 4]})
    xi = r.ints(-5, 5, 1, 3)
    unary("expand_i64", "expand", xi, xi.expand(4, 3), {"shape": [4, 1]})
    xb = r.rand(2, 1) < 0.5
    unary("expand_bool", "expand", xb, xb.expand(2, 3), {"shape": [1, 3]})
    xs = with_special(r.randn(1, 6))
    unary("expand_special", "expand", xs, xs.expand(3, 6), {"shape": [3, 1]})
    m = r.randn(2, 4, 6)
    unary("trilu_lower", "trilu", m, torch.tril(m), {})
    unary("trilu_lower_k", "trilu", m, torch.tril(m, diagonal=-1), {"k": -1})
    unary("trilu_upper_k", "trilu", m, torch.triu(m, diagonal=2), {"upper": True, "k": 2})
    mi = r.ints(-9, 9, 5, 3)
    unary("trilu_upper_i64", "trilu", mi, torch.triu(mi, diagonal=-2), {"upper": True, "k": -2})
    ms = with_special(r.randn(3, 4))
    unary("trilu_special", "trilu", ms, torch.triu(ms, diagonal=1), {"upper": True, "k": 1})
    for name, xs, os in [("adaptive_avgpool1d", (2, 3, 10), [4]), ("adaptive_avgpool2d", (1, 2, 7, 9), [3, 4]),
                         ("adaptive_avgpool2d_up", (1, 2, 3, 2), [5, 4]), ("adaptive_avgpool3d", (1, 2, 5, 4, 6), [2, 3, 4])]:
        x = Rand(name).randn(*xs)
        fn = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}[len(os)]
        unary(name, "adaptive_avgpool", x, fn(x, os), {"output_size": os})
    gathers()


def gathers():
    """torch.gather, scatter/scatter_reduce, advanced indexing and
    index_put_ (ONNX's GatherND/ScatterND) and F.one_hot."""
    r = Rand("gathers")
    x = r.randn(3, 4, 5)
    idx = r.ints(-4, 4, 3, 2, 5)
    case("gather_elements_axis1", "gather_elements", [("data", x), ("indices", idx)],
         [("y", torch.gather(x, 1, idx % 4))], {"axis": 1})
    xi = r.ints(-50, 50, 4, 3)
    idx = r.ints(0, 4, 2, 3)
    case("gather_elements_i64", "gather_elements", [("data", xi), ("indices", idx)], [("y", torch.gather(xi, 0, idx))], {"axis": 0})
    base = r.randn(4, 5)
    perm = torch.stack([torch.randperm(4, generator=r.g)[:3] for _ in range(5)], 1)  # no duplicates per column
    upd = r.randn(3, 5)
    case("scatter_elements_none", "scatter_elements", [("data", base), ("indices", perm), ("updates", upd)],
         [("y", base.scatter(0, perm, upd))], {"axis": 0})
    idx = r.ints(-5, 5, 4, 7)
    upd = r.randn(4, 7)
    for red, tr in [("add", "sum"), ("mul", "prod"), ("max", "amax"), ("min", "amin")]:
        case("scatter_elements_" + red, "scatter_elements", [("data", base), ("indices", idx), ("updates", upd)],
             [("y", base.scatter_reduce(1, idx % 5, upd, tr))], {"axis": -1, "reduction": red})
    bi = r.ints(-9, 9, 4, 5)
    ui = r.ints(-9, 9, 4, 7)
    case("scatter_elements_add_i64", "scatter_elements", [("data", bi), ("indices", idx), ("updates", ui)],
         [("y", bi.scatter_reduce(1, idx % 5, ui, "sum"))], {"axis": 1, "reduction": "add"})
    d = r.randn(4, 5, 6)
    t = torch.stack([r.ints(0, 4, 3, 2), r.ints(0, 5, 3, 2)], -1)  # [3, 2, 2] tuples into axes 0, 1
    case("gather_nd_tuples", "gather_nd", [("data", d), ("indices", t)], [("y", d[t[..., 0], t[..., 1]])])
    t1 = r.ints(-4, 4, 5, 1)
    case("gather_nd_rows", "gather_nd", [("data", d), ("indices", t1)], [("y", d[t1[..., 0] % 4])])
    tb = r.ints(0, 5, 4, 3, 1)  # batch_dims 1: per batch row, index axis 1
    case("gather_nd_batch", "gather_nd", [("data", d), ("indices", tb)],
         [("y", torch.stack([d[i][tb[i, :, 0]] for i in range(4)]))], {"batch_dims": 1})
    rows = torch.tensor([[3], [0], [2]])
    upd = r.randn(3, 5, 6)
    y = d.clone()
    y[rows[:, 0]] = upd
    case("scatter_nd_none", "scatter_nd", [("data", d), ("indices", rows), ("updates", upd)], [("y", y)])
    pts = torch.tensor([[1, 2], [3, 4], [1, 2], [0, 0]])
    upd = r.randn(4, 6)
    y = d.clone()
    y.index_put_((pts[:, 0], pts[:, 1]), upd, accumulate=True)
    case("scatter_nd_add", "scatter_nd", [("data", d), ("indices", pts), ("updates", upd)], [("y", y)], {"reduction": "add"})
    ids = r.ints(0, 6, 2, 3)
    vals = torch.tensor([0, 1])
    case("one_hot_last", "one_hot", [("indices", ids), ("values", vals)], [("y", F.one_hot(ids, 6))], {"depth": 6})
    case("one_hot_axis0", "one_hot", [("indices", ids), ("values", vals)],
         [("y", F.one_hot(ids, 6).permute(2, 0, 1).contiguous())], {"depth": 6, "axis": 0})


# ------------------------------------------------- unary ops on other dtypes


def unary_dtypes():
    # floats other than f32 in float64 rounded once to the dtype; integers
    # wrap to their width (neg and abs of the most negative value).
    r = Rand("exp_f64"); x = with_special(r.randn(3, 5, scale=4.0).double(), 700.0, -750.0)
    unary("exp_f64", "exp", x, torch.exp(x))
    r = Rand("log_f64"); x = with_special(r.rand(2, 6).double() * 5, -1.0, 1e-300)
    unary("log_f64", "log", x, torch.log(x))
    r = Rand("sigmoid_f64"); x = with_special(r.randn(4, 4, scale=10.0).double())
    unary("sigmoid_f64", "sigmoid", x, torch.sigmoid(x))
    r = Rand("elu_f16"); x = with_special(r.randn(3, 6, scale=3.0)).half()
    unary("elu_f16", "elu", x, F.elu(x.double(), 0.5).half(), {"alpha": 0.5})
    r = Rand("tanh_f16"); x = with_special(r.randn(2, 7, scale=2.0)).half()
    unary("tanh_f16", "tanh", x, torch.tanh(x.double()).half())
    x = torch.tensor([[-2**63, 2**63 - 1, -7, 7, 0, 1]], dtype=torch.int64)
    unary("neg_i64", "neg", x, torch.neg(x))
    x = torch.tensor([-128, 127, -5, 5, 0, -1], dtype=torch.int8)
    unary("abs_i8", "abs", x, torch.abs(x))
    unary("sign_i8", "sign", x, torch.sign(x))
    unary("relu_i8", "relu", x, torch.relu(x))
    unary("clip_i8", "clip", x, torch.clamp(x, -3, 5), {"min": -3, "max": 5})
    x = torch.tensor([0, 1, 200, 255, 7], dtype=torch.uint8)
    unary("clip_u8", "clip", x, torch.clamp(x, 2, 100), {"min": 2.0, "max": 100.0})
    x = torch.tensor([[-2**31, 2**31 - 1, -3, 3]], dtype=torch.int32)
    unary("abs_i32", "abs", x, torch.abs(x))
    # reductions and cumsum: floats accumulate in float64 and round once;
    # i32 cumsum wraps.
    r = Rand("reduce_log_sum_exp_f64"); x = r.randn(3, 4, 5, scale=30.0).double()
    reduction("reduce_log_sum_exp_f64", "reduce_log_sum_exp", x, torch.logsumexp(x, dim=(0, 2)), [0, 2], False)
    r = Rand("reduce_sum_f64"); x = with_special(r.randn(4, 6).double())
    reduction("reduce_sum_f64", "reduce_sum", x, torch.sum(x, dim=1, keepdim=True), [1], True)
    r = Rand("reduce_mean_f16"); x = r.randn(3, 8, scale=4.0).half()
    reduction("reduce_mean_f16", "reduce_mean", x, torch.mean(x.double(), dim=-1).half(), [-1], False)
    r = Rand("cumsum_f64"); x = with_special(r.randn(3, 5).double())
    case("cumsum_f64", "cumsum", [("x", x)], [("y", torch.cumsum(x, dim=1))], {"axis": 1})
    x = torch.tensor([[2**31 - 1, 1, -5, 7], [3, -2**31, -1, 4]], dtype=torch.int32)
    wrapped = torch.cumsum(x.long(), dim=1)
    wrapped = ((wrapped + 2**31) % 2**32 - 2**31).int()
    case("cumsum_i32_wrap", "cumsum", [("x", x)], [("y", wrapped)], {"axis": 1})
    # cumprod: torch has neither exclusive nor reverse (built from flip
    # and a shifted product); NaN and inf spread.
    r = Rand("cumprod_f32"); x = with_special(r.randn(3, 6, scale=1.5))
    case("cumprod_f32", "cumprod", [("x", x)], [("y", torch.cumprod(x, dim=1))], {"axis": 1})
    r = Rand("cumprod_excl_rev"); x = r.randn(2, 5, 3)
    fl = torch.flip(x, [1]); ex = torch.cat([torch.ones(2, 1, 3), torch.cumprod(fl, dim=1)[:, :-1]], 1)
    case("cumprod_excl_rev", "cumprod", [("x", x)], [("y", torch.flip(ex, [1]))], {"axis": 1, "exclusive": True, "reverse": True})
    x = torch.tensor([[3, -7, 100, 2]], dtype=torch.int64)
    case("cumprod_i64", "cumprod", [("x", x)], [("y", torch.cumprod(x, dim=1))], {"axis": -1})


# ---------------------------------------------------------------- losses


def losses():
    # nll_loss: every reduction, with and without weights, ignore_index
    # inside and outside [0, C) (torch's default -100 when not given).
    r = Rand("nll_loss_mean_weight_ii"); x = F.log_softmax(r.randn(4, 5, 3), 1)
    t = r.ints(0, 5, 4, 3); t[0, 0] = 1; w = r.rand(5) + 0.1
    case("nll_loss_mean_weight_ii", "nll_loss", [("x", x), ("target", t), ("weight", w)],
         [("loss", F.nll_loss(x, t, weight=w, ignore_index=1))], {"ignore_index": 1})
    r = Rand("nll_loss_none_2d"); x = with_special(r.randn(6, 4)); t = r.ints(0, 4, 6)
    case("nll_loss_none_2d", "nll_loss", [("x", x), ("target", t), None],
         [("loss", F.nll_loss(x, t, reduction="none"))], {"reduction": "none"})
    r = Rand("nll_loss_sum_negative_ii"); x = r.randn(3, 4, 2, 2); t = r.ints(0, 4, 3, 2, 2)
    t[1, 0, 1] = -1; t[2, 1, 0] = -1; w = r.rand(4)
    case("nll_loss_sum_negative_ii", "nll_loss", [("x", x), ("target", t), ("weight", w)],
         [("loss", F.nll_loss(x, t, weight=w, ignore_index=-1, reduction="sum"))], {"reduction": "sum", "ignore_index": -1})
    r = Rand("nll_loss_mean"); x = r.randn(5, 3); t = r.ints(0, 3, 5)
    case("nll_loss_mean", "nll_loss", [("x", x), ("target", t), None], [("loss", F.nll_loss(x, t))])


def einsum_cases():
    """torch.einsum over the forms models use (batched products,
    attention scores, diagonals, traces, full and partial sums)."""
    for name, eq, shapes in [
        ("einsum_bmm", "bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
        ("einsum_attn", "bhqd,bhkd->bhqk", [(1, 2, 3, 4), (1, 2, 5, 4)]),
        ("einsum_diag", "bii->bi", [(2, 4, 4)]),
        ("einsum_trace", "ii->", [(5, 5)]),
        ("einsum_outer", "i,j->ij", [(3,), (4,)]),
        ("einsum_three", "ij,jk,k->i", [(3, 4), (4, 5), (5,)]),
        ("einsum_transpose_sum", "ijk->kj", [(2, 3, 4)]),
    ]:
        r = Rand(name)
        xs = [r.randn(*s) for s in shapes]
        if name == "einsum_bmm":
            xs[0] = with_special(xs[0])
        case(name, "einsum", [("x%d" % i, x) for i, x in enumerate(xs)], [("y", torch.einsum(eq, *xs))], {"equation": eq})
    r = Rand("einsum_i64")
    a, b = r.ints(-5, 5, 3, 4), r.ints(-5, 5, 4, 2)
    case("einsum_i64", "einsum", [("x0", a), ("x1", b)], [("y", torch.einsum("ij,jk->ik", a, b))], {"equation": "ij,jk->ik"})


def linear_attention_ref(q, k, v, hq, hkv, past=None, decay=None, beta=None, scale=0.0, rule="gated_delta"):
    """ONNX LinearAttention's recurrence written with torch ops, on the
    3-D [B, T, heads*d] layouts."""
    B, T, _ = q.shape
    dk, dv = q.shape[2] // hq, v.shape[2] // hkv
    q4 = q.reshape(B, T, hq, dk).transpose(1, 2)
    k4 = k.reshape(B, T, hkv, dk).transpose(1, 2)
    v4 = v.reshape(B, T, hkv, dv).transpose(1, 2)
    S = past.clone() if past is not None else torch.zeros(B, hkv, dk, dv)
    scale = scale or 1 / dk ** 0.5
    out = torch.zeros(B, hq, T, dv)
    for t in range(T):
        kt, vt = k4[:, :, t], v4[:, :, t]
        if rule in ("gated", "gated_delta"):
            g = decay[:, t].reshape(B, hkv, -1)
            S = S * torch.exp(g)[..., None]
        if rule in ("delta", "gated_delta"):
            bt = beta[:, t].reshape(B, -1, 1)
            vt = bt * (vt - torch.einsum("bhdm,bhd->bhm", S, kt))
        S = S + kt[..., :, None] * vt[..., None, :]
        Sr = S.repeat_interleave(hq // hkv, dim=1)
        out[:, :, t] = scale * torch.einsum("bhd,bhdm->bhm", q4[:, :, t], Sr)
    return out.transpose(1, 2).reshape(B, T, hq * dv), S


def linear_attention_cases():
    for name, hq, hkv, rule, per_dim, beta_heads, past, scale in [
        ("linattn_gated_delta", 4, 2, "gated_delta", True, True, True, 0.0),
        ("linattn_linear", 2, 2, "linear", False, False, False, 0.5),
        ("linattn_gated_head", 2, 1, "gated", False, False, True, 0.0),
        ("linattn_delta_beta1", 2, 2, "delta", False, False, False, 0.0),
    ]:
        r = Rand(name)
        B, T, dk, dv = 2, 3, 4, 3
        q, k, v = r.randn(B, T, hq * dk), r.randn(B, T, hkv * dk, scale=0.5), r.randn(B, T, hkv * dv)
        S0 = r.randn(B, hkv, dk, dv) if past else None
        decay = -r.rand(B, T, hkv * dk if per_dim else hkv) if rule in ("gated", "gated_delta") else None
        beta = r.rand(B, T, hkv if beta_heads else 1) if rule in ("delta", "gated_delta") else None
        y, S = linear_attention_ref(q, k, v, hq, hkv, S0, decay, beta, scale, rule)
        ins = [("query", q), ("key", k), ("value", v)]
        ins += [("past_state", S0) if S0 is not None else None, ("decay", decay) if decay is not None else None, ("beta", beta) if beta is not None else None]
        case(name, "linear_attention", ins, [("output", y), ("present_state", S)],
             {"q_num_heads": hq, "kv_num_heads": hkv, "scale": scale, "update_rule": rule})


def rotary_ref(x, cos, sin, interleaved, rdim, heads):
    """ONNX RotaryEmbedding with torch ops; cos and sin [B, S, rdim/2]."""
    shape = x.shape
    x = x.transpose(1, 2) if x.dim() == 4 else x.reshape(shape[0], shape[1], heads, -1)
    rdim = rdim or x.shape[-1]
    xr, xp = x[..., :rdim], x[..., rdim:]
    c, s = cos.unsqueeze(2), sin.unsqueeze(2)
    x1, x2 = (xr[..., 0::2], xr[..., 1::2]) if interleaved else xr.chunk(2, -1)
    re, im = c * x1 - s * x2, s * x1 + c * x2
    xr = torch.stack([re, im], -1).reshape(xr.shape) if interleaved else torch.cat([re, im], -1)
    y = torch.cat([xr, xp], -1)
    return y.transpose(1, 2) if len(shape) == 4 else y.reshape(shape)


def tensor_scatter_ref(cache, upd, w, axis, circular):
    y = cache.clone()
    a = axis % cache.dim()
    for idx in torch.cartesian_prod(*[torch.arange(d) for d in cache.shape[:a]]).reshape(-1, a).tolist():
        for s in range(upd.shape[a]):
            p = int(w[idx[0]]) + s
            if circular:
                p %= cache.shape[a]
            y[tuple(idx) + (p,)] = upd[tuple(idx) + (s,)]
    return y


def rotary_scatter_cases():
    for name, xs, inter, rdim, heads in [
        ("rotary_4d", (2, 3, 4, 8), False, 0, 0), ("rotary_interleaved_part", (1, 2, 3, 8), True, 4, 0),
        ("rotary_3d", (2, 4, 12), False, 4, 2),
    ]:
        r = Rand(name)
        x = r.randn(*xs)
        B, S = (xs[0], xs[2]) if len(xs) == 4 else (xs[0], xs[1])
        D = xs[3] if len(xs) == 4 else xs[2] // heads
        half = (rdim or D) // 2
        ang = r.randn(B, S, half)
        cos, sin = torch.cos(ang), torch.sin(ang)
        case(name, "rotary_embedding", [("x", x), ("cos", cos), ("sin", sin)], [("y", rotary_ref(x, cos, sin, inter, rdim, heads))],
             {"interleaved": inter, "rotary_dim": rdim, "num_heads": heads})
    for name, cs, us, axis, circ in [("tscatter_linear", (2, 3, 5, 4), (2, 3, 2, 4), -2, False), ("tscatter_circular", (3, 4, 2), (3, 3, 2), 1, True)]:
        r = Rand(name)
        cache, upd = r.randn(*cs), r.randn(*us)
        w = r.ints(0, cs[axis] - us[axis] + 1, cs[0]) if not circ else r.ints(0, cs[axis], cs[0])
        case(name, "tensor_scatter", [("cache", cache), ("update", upd), ("write_indices", w)],
             [("y", tensor_scatter_ref(cache, upd, w, axis, circ))], {"axis": axis, "mode": "circular" if circ else "linear"})


def tfidf_ref(x, grams, glen, index, out, minn, maxn, skip, mode, weights):
    """ONNX TfIdfVectorizer's counting, per row: every listed n-gram at
    every start and skip distance (unigrams at distance 1 only)."""
    rows = x.reshape(-1, x.shape[-1]).tolist()
    y = torch.zeros(len(rows), out)
    for r, row in enumerate(rows):
        for d in range(1, skip + 2):
            lo = minn if d == 1 else max(minn, 2)
            if lo > maxn:
                break
            for s in range(len(row)):
                off = 0
                for g, l in enumerate(glen):
                    if lo <= l <= maxn and s + (l - 1) * d < len(row) and [row[s + k * d] for k in range(l)] == grams[off:off + l]:
                        y[r, index[g]] += 1
                    off += l
    w = torch.tensor(weights) if weights else torch.ones(out)
    if mode == "IDF":
        y = torch.where(y > 0, w.expand_as(y), torch.zeros_like(y))
    elif mode == "TFIDF":
        y = w * y
    return y.reshape(list(x.shape[:-1]) + [out])


def tfidf_cases():
    grams, glen, index = [2, 3, 5, 4, 5, 6, 7, 8, 6, 7, 5, 6], [1, 1, 1, 1, 2, 2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 2]
    for name, shape, minn, maxn, skip, mode, weights in [
        ("tfidf_tf", (2, 7), 1, 2, 2, "TF", []), ("tfidf_idf", (9,), 2, 2, 0, "IDF", [0.5, 1, 2, 3, 4, 5, 6]),
        ("tfidf_tfidf", (3, 5), 1, 2, 4, "TFIDF", [1.5, 1, 2, 3, 4, 5, 6]),
    ]:
        r = Rand(name)
        x = r.ints(2, 9, *shape)
        attrs = {"grams": grams, "gram_len": glen, "index": index, "output_size": 7, "min_gram_length": minn,
                 "max_gram_length": maxn, "max_skip_count": skip, "mode": mode, "weights": weights}
        case(name, "tfidf", [("x", x)], [("y", tfidf_ref(x, grams, glen, index, 7, minn, maxn, skip, mode, weights))], attrs)


def main():
    torch.set_grad_enabled(False)
    torch.set_num_threads(1)
    elementwise()
    math_fns()
    activations()
    pow_minmax()
    norms2()
    reductions2()
    reductions()
    broadcast()
    linear()
    conv()
    pool()
    norm()
    shape()
    cast()
    logic()
    spatial()
    plumbing()
    losses()
    unary_dtypes()
    einsum_cases()
    linear_attention_cases()
    rotary_scatter_cases()
    tfidf_cases()
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".safetensors") and not f.startswith(OTHERS):
            os.remove(os.path.join(OUT, f))
    names = set()
    total = 0
    for name, tensors, meta in CASES:
        assert name not in names, "duplicate case " + name
        assert not name.startswith(OTHERS), name
        names.add(name)
        path = os.path.join(OUT, name + ".safetensors")
        write_safetensors(path, tensors, meta)
        total += os.path.getsize(path)
    print("wrote %d cases, %d bytes, to %s" % (len(CASES), total, OUT))


if __name__ == "__main__":
    main()

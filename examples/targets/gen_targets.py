"""PyTorch references for the attention layers and the hand-written .dl
targets (examples/targets_test.go).

    /usr/bin/python3 examples/targets/gen_targets.py [case ...]

Each case is a folder here with a hand-written model.dl; this script builds
the same network in PyTorch (torch 1.13, torchvision 0.14) with seeded
random weights, saves its state_dict as weights.safetensors and the inputs
and outputs as ref.safetensors ("in.<input>", "out.<output>"). Outputs are
computed in float64 from the float32 weights and inputs and rounded once
to float32 (as examples/make_refs.py does), so PyTorch's own float32
rounding is not part of what the tests compare.
"""
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from safetensors_io import write_safetensors  # noqa: E402


def causal(n, s=None):
    s = n if s is None else s
    return torch.triu(torch.ones(n, s, dtype=torch.bool), diagonal=1)


def randomize(m, seed):
    """Seeded weights, and non-trivial norm and batch-norm statistics."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(m.state_dict().items()):
            if not p.is_floating_point():
                continue
            if name.endswith("running_var"):
                p.copy_(torch.rand(p.shape, generator=g) + 0.5)
            elif name.endswith("running_mean") or name.endswith("bias"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
            elif "norm" in name and name.endswith("weight") or name.endswith("bn.weight"):
                p.copy_(1 + torch.randn(p.shape, generator=g) * 0.1)
            else:
                fan = p[0].numel() if p.dim() > 1 else p.numel()
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(max(fan, 1)))
    return m


def save(case, model, inputs, fwd):
    """inputs: ordered dict name -> tensor; fwd(model, **inputs) -> dict of outputs."""
    d = os.path.join(HERE, case)
    model.eval()
    write_safetensors(os.path.join(d, "weights.safetensors"), model.state_dict())
    m64 = model.double()
    ins64 = {k: (v.double() if v.is_floating_point() else v) for k, v in inputs.items()}
    with torch.no_grad():
        outs = fwd(m64, **ins64)
    model.float()
    ref = {"in." + k: v for k, v in inputs.items()}
    for k, v in outs.items():
        ref["out." + k] = v.float()
    write_safetensors(os.path.join(d, "ref.safetensors"), ref)
    n = sum(p.numel() for p in model.state_dict().values())
    print("%s: %d weights; outputs %s" % (case, n, {k: tuple(v.shape) for k, v in outs.items()}))


def randn(*s, seed=0):
    return torch.randn(*s, generator=torch.Generator().manual_seed(seed))


# --- attention layers -------------------------------------------------------

def mha():
    """Self-attention [L, N, E] with a key padding mask; cross-attention
    (batch_first, kdim/vdim, a float attn_mask, head-averaged weights);
    causal self-attention without bias and with per-head weights; one head
    over a sequence of one."""
    m = nn.Module()
    m.self_attn = nn.MultiheadAttention(16, 4)
    m.cross = nn.MultiheadAttention(16, 2, kdim=12, vdim=8, batch_first=True)
    m.causal = nn.MultiheadAttention(16, 4, bias=False, batch_first=True)
    m.one = nn.MultiheadAttention(4, 1)
    randomize(m, 1)
    x = randn(5, 2, 16, seed=2)
    kpm = torch.tensor([[False, False, True, False, True], [False, False, False, False, False]])
    q = randn(2, 5, 16, seed=3)
    k = randn(2, 7, 12, seed=4)
    v = randn(2, 7, 8, seed=5)
    am = randn(5, 7, seed=6)
    e = randn(1, 1, 4, seed=21)

    def fwd(m, x, kpm, q, k, v, am, e):
        a, _ = m.self_attn(x, x, x, key_padding_mask=kpm)
        c, cw = m.cross(q, k, v, attn_mask=am)
        z, zw = m.causal(q, q, q, attn_mask=causal(5), average_attn_weights=False)
        o, ow = m.one(e, e, e)
        return {"a": a, "c": c, "cw": cw, "z": z, "zw": zw, "o": o, "ow": ow}
    save("mha", m, dict(x=x, kpm=kpm, q=q, k=k, v=v, am=am, e=e), fwd)


def encoder():
    """Post-norm ReLU layer [S, N, E] with a key padding mask; pre-norm GELU
    layer, batch_first, causal src_mask, layer_norm_eps=1e-6."""
    m = nn.Module()
    m.post = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32)
    m.pre = nn.TransformerEncoderLayer(16, 2, dim_feedforward=24, activation="gelu", layer_norm_eps=1e-6,
                                       batch_first=True, norm_first=True)
    randomize(m, 7)
    x = randn(6, 2, 16, seed=8)
    kpm = torch.tensor([[False] * 6, [False, False, False, False, True, True]])

    def fwd(m, x, kpm):
        a = m.post(x, src_key_padding_mask=kpm)
        b = m.pre(x.transpose(0, 1), src_mask=causal(6))
        return {"a": a, "b": b}
    save("encoder", m, dict(x=x, kpm=kpm), fwd)


def decoder():
    """Post-norm decoder layer with a causal tgt_mask and a memory key
    padding mask; pre-norm GELU, batch_first."""
    m = nn.Module()
    m.post = nn.TransformerDecoderLayer(16, 4, dim_feedforward=32)
    m.pre = nn.TransformerDecoderLayer(16, 2, dim_feedforward=24, activation="gelu", batch_first=True, norm_first=True)
    randomize(m, 9)
    t = randn(5, 2, 16, seed=10)
    mem = randn(7, 2, 16, seed=11)
    mkpm = torch.tensor([[False] * 6 + [True], [False] * 7])

    def fwd(m, t, mem, mkpm):
        a = m.post(t, mem, tgt_mask=causal(5), memory_key_padding_mask=mkpm)
        b = m.pre(t.transpose(0, 1), mem.transpose(0, 1))
        return {"a": a, "b": b}
    save("decoder", m, dict(t=t, mem=mem, mkpm=mkpm), fwd)


class Sinusoidal(nn.Module):
    """The PyTorch tutorial's PositionalEncoding ([S, N, E] input), its table
    computed in float64 (dlc's table is the float64 one rounded once)."""

    def __init__(self, d, max_len=64):
        super().__init__()
        pos = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
        div = torch.exp(torch.arange(0, d, 2, dtype=torch.float64) * (-math.log(10000.0) / d))
        pe = torch.zeros(max_len, 1, d, dtype=torch.float64)
        pe[:, 0, 0::2] = torch.sin(pos * div)
        pe[:, 0, 1::2] = torch.cos(pos * div)
        self.pe64 = pe  # not a buffer: not in the state_dict, kept in float64

    def forward(self, x):
        return x + self.pe64[: x.size(0)].to(x.dtype)


def positions():
    """A learned table (nn.Embedding over arange) on batch_first input and
    the sinusoidal encoding on [S, N, E] input."""
    m = nn.Module()
    m.pos = nn.Embedding(12, 16)
    m.sin = Sinusoidal(16)
    randomize(m, 12)
    x = randn(2, 9, 16, seed=13)

    def fwd(m, x):
        a = x + m.pos(torch.arange(9)).unsqueeze(0)
        b = m.sin(x.transpose(0, 1) * 3)
        return {"a": a, "b": b}
    save("positions", m, dict(x=x), fwd)


# --- targets ----------------------------------------------------------------

class TransformerClassifier(nn.Module):
    """Token embedding scaled by sqrt(d), sinusoidal positions, a two-layer
    nn.TransformerEncoder with a padding mask, the first token's state, a
    linear classifier."""

    def __init__(self, vocab=50, d=32, heads=4, ff=64, layers=2, classes=5):
        super().__init__()
        self.d = d
        self.embed = nn.Embedding(vocab, d)
        self.pos = Sinusoidal(d)
        layer = nn.TransformerEncoderLayer(d, heads, ff, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.fc = nn.Linear(d, classes)

    def forward(self, ids, pad):
        h = self.embed(ids) * math.sqrt(self.d)
        h = self.pos(h.transpose(0, 1)).transpose(0, 1)
        h = self.encoder(h, src_key_padding_mask=pad)
        return self.fc(self.norm(h[:, 0]))


def transformer():
    m = randomize(TransformerClassifier(), 14)
    g = torch.Generator().manual_seed(15)
    ids = torch.randint(0, 50, (3, 12), generator=g)
    pad = torch.zeros(3, 12, dtype=torch.bool)
    pad[1, 9:] = True
    pad[2, 4:] = True
    save("transformer", m, dict(ids=ids, pad=pad), lambda m, ids, pad: {"logits": m(ids, pad)})


def mobilenet():
    import torchvision
    torch.manual_seed(16)
    m = torchvision.models.mobilenet_v3_small(width_mult=0.25, num_classes=10)
    randomize(m, 16)
    x = randn(2, 3, 64, 64, seed=17)
    save("mobilenetv3", m, dict(x=x), lambda m, x: {"logits": m(x)})


class Imported(nn.Module):
    """Cross-attention, a learned position table, a post-norm encoder layer
    with a causal mask and a pre-norm GELU decoder layer, exported to ONNX
    (torch.onnx decomposes them into MatMul, Slice, Reshape, Transpose,
    Softmax, Where, LayerNorm pieces)."""

    def __init__(self):
        super().__init__()
        self.mha = nn.MultiheadAttention(16, 4, batch_first=True)
        self.enc = nn.TransformerEncoderLayer(16, 4, 32, batch_first=True)
        self.dec = nn.TransformerDecoderLayer(16, 2, 24, activation="gelu", norm_first=True, batch_first=True)
        self.pos = nn.Embedding(12, 16)

    def forward(self, x, mem):
        a, _ = self.mha(x, mem, mem, need_weights=False)
        h = self.enc(x + a + self.pos(torch.arange(x.shape[1])), src_mask=causal(x.shape[1]))
        return self.dec(h, mem)


def imported():
    m = randomize(Imported(), 18).eval()
    x, mem = randn(2, 5, 16, seed=19), randn(2, 7, 16, seed=20)
    d = os.path.join(HERE, "imported")
    torch.onnx.export(m, (x, mem), os.path.join(d, "model.onnx"), input_names=["x", "mem"], output_names=["y"],
                      opset_version=14, do_constant_folding=True)
    with torch.no_grad():
        y = m.double()(x.double(), mem.double()).float()
    write_safetensors(os.path.join(d, "ref.safetensors"), {"in.x": x, "in.mem": mem, "out.y": y})
    print("imported: model.onnx %d bytes" % os.path.getsize(os.path.join(d, "model.onnx")))


CASES = {"imported": imported, "mha": mha, "encoder": encoder, "decoder": decoder, "positions": positions,
         "transformer": transformer, "mobilenetv3": mobilenet}

if __name__ == "__main__":
    torch.set_num_threads(1)
    for name in sys.argv[1:] or sorted(CASES):
        os.makedirs(os.path.join(HERE, name), exist_ok=True)
        CASES[name]()

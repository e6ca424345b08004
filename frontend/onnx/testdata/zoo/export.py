#!/usr/bin/python3
"""Export issue 10's coverage target networks ("the zoo") from PyTorch.

Run with Debian's Python (python3-torch 1.13, python3-torchvision 0.14,
python3-onnx 1.12), from anywhere:

    /usr/bin/python3 frontend/onnx/testdata/zoo/export.py

For every model it writes, in <name>/:

    model.onnx       the exported model (seeded random weights, eval mode)
    input_<i>.npy    the inputs, in graph-input order (float32, or int64 ids)
    output_<i>.npy   PyTorch's outputs, in graph-output order (float32, or
                     int64 for token ids)
    ops.txt          the ONNX op types of the graph, "OpType<TAB>count"

and README.md (models, shapes, sizes, op counts) in this folder.
zoo_test.go (in frontend/onnx) imports each one and either compares the
interpreter with these outputs or checks that the import is refused for
exactly the ops its table of expected refusals names.

No pretrained weights can be downloaded here: every model has random
weights from torch.manual_seed, and batch-norm layers get random affine
parameters and running statistics. The models are shrunk (width_mult,
fewer classes, small inputs) so that every file stays well under 2 MB;
the op types are those of the full-size networks.

The reference outputs are PyTorch's forward pass in float64 on the very
same float32 weights and inputs, rounded to float32. PyTorch's own
float32 forward is checked against them at the Go test's tolerance
(|got - want| <= 1e-6 + 1e-5*|want|), so no fixture asks more than a
float32 implementation can give; token ids must agree exactly, with a
margin between the best and second-best logit at every greedy step.
"""

import collections
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
RTOL = 1e-5
ATOL = 1e-6
MAX_FILE = 2 << 20


def randomize_bn(m, gen):
    """Gives every batch-norm layer of m non-trivial parameters and stats."""
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            n = mod.num_features
            with torch.no_grad():
                mod.weight.copy_(torch.rand(n, generator=gen) + 0.5)
                mod.bias.copy_(torch.randn(n, generator=gen) * 0.2)
                mod.running_mean.copy_(torch.randn(n, generator=gen) * 0.3)
                mod.running_var.copy_(torch.rand(n, generator=gen) * 1.5 + 0.5)


# ---------------------------------------------------------------- models


def shufflenet_v2():
    """torchvision ShuffleNetV2 x0.5 (its stage widths 24-48-96-192-1024),
    10 classes: channel shuffle (Reshape, Transpose), chunk (Shape, Gather,
    Div, Slice), depthwise Conv, Concat, global mean (ReduceMean)."""
    return torchvision.models.shufflenet_v2_x0_5(weights=None, num_classes=10)


def mobilenet_v3_small():
    """torchvision MobileNetV3-Small at width_mult 0.5, 10 classes, at
    opset 14 (the first with HardSwish; at 13 torch writes hardswish as
    HardSigmoid + Mul): HardSwish, HardSigmoid (squeeze-excitation gates),
    depthwise Conv, GlobalAveragePool, Mul, residual Add."""
    return torchvision.models.mobilenet_v3_small(weights=None, num_classes=10, width_mult=0.5)


class TransformerClassifier(nn.Module):
    """Transformer encoder classifier, sequence first: token embedding
    (Gather) plus a learned position embedding, nn.TransformerEncoder of 2
    post-norm layers (d_model 64, 4 heads, feed-forward 128, GELU), mean
    over the sequence, Linear to 5 classes. LayerNorm is a
    LayerNormalization node at opset 17 and ReduceMean/Sub/Pow/Sqrt/Div at
    opset 13; GELU is Erf."""

    def __init__(self, vocab=100, d=64, heads=4, layers=2, seq=16, classes=5):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.randn(seq, 1, d) * 0.5)
        # batch_first=False keeps eval mode off the fused fast path
        # (torch._transformer_encoder_layer_fwd), which torch.onnx cannot
        # export.
        layer = nn.TransformerEncoderLayer(d, heads, dim_feedforward=128, dropout=0.1,
                                           activation="gelu", batch_first=False)
        self.enc = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.fc = nn.Linear(d, classes)

    def forward(self, tokens):  # [T, N]
        x = self.enc(self.emb(tokens) + self.pos)
        return self.fc(x.mean(dim=0))


class UNet(nn.Module):
    """Small U-Net on 1x1x64x64: two encoder levels (Conv with its
    BatchNorm folded in by the exporter, Relu, MaxPool), a bottleneck, then one decoder level up-sampled by
    ConvTranspose2d (stride 2) and one by nn.Upsample(scale_factor=2,
    mode='nearest') (Resize) followed by a Conv, each concatenated with its
    skip connection (Concat); a 1x1 Conv and Sigmoid give the mask."""

    def __init__(self, c=8):
        super().__init__()

        def block(cin, cout):
            return nn.Sequential(
                nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())

        self.enc1, self.enc2 = block(1, c), block(c, 2 * c)
        self.pool = nn.MaxPool2d(2)
        self.mid = block(2 * c, 4 * c)
        self.up2 = nn.ConvTranspose2d(4 * c, 2 * c, 2, stride=2)
        self.dec2 = block(4 * c, 2 * c)
        self.up1 = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(2 * c, c, 1))
        self.dec1 = block(2 * c, c)
        self.head = nn.Conv2d(c, 1, 1)

    def forward(self, x):
        e1 = self.enc1(x)                     # [N, c, 64, 64]
        e2 = self.enc2(self.pool(e1))         # [N, 2c, 32, 32]
        m = self.mid(self.pool(e2))           # [N, 4c, 16, 16]
        d2 = self.dec2(torch.cat([self.up2(m), e2], 1))
        d1 = self.dec1(torch.cat([self.up1(d2), e1], 1))
        return torch.sigmoid(self.head(d1))


class GreedySeq2Seq(nn.Module):
    """Greedy GRU seq2seq decoder, sequence first, batch 1: a GRU encoder
    over the source embedding, then one decoder GRU called for 8 unrolled
    steps, each feeding back the ArgMax of its logits (Gather of the target
    embedding). The decoder's weights are shared by its 8 GRU nodes: the
    ONNX file holds one initializer each for W, R, B and the output
    MatMul's weight, handed to the 7 later steps through Identity nodes,
    and one target embedding read by 8 Gathers. Outputs: the logits of
    every step and the decoded token ids (int64)."""

    STEPS = 8

    def __init__(self, vocab=24, dim=16, hidden=32):
        super().__init__()
        self.src_emb = nn.Embedding(vocab, dim)
        self.enc = nn.GRU(dim, hidden)
        self.tgt_emb = nn.Embedding(vocab, dim)
        self.dec = nn.GRU(dim, hidden)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, src):  # [S, 1]
        _, h = self.enc(self.src_emb(src))
        tok = torch.zeros(1, 1, dtype=torch.long)  # begin-of-sequence id 0
        logits, toks = [], []
        for _ in range(self.STEPS):
            y, h = self.dec(self.tgt_emb(tok), h)
            step = self.out(y)  # [1, 1, vocab]
            tok = step.argmax(-1)  # [1, 1]
            logits.append(step)
            toks.append(tok)
        return torch.cat(logits, 0), torch.cat(toks, 0)


def amplify(m, gain):
    """Scales the weights of every Linear, Conv and recurrent layer of m, so
    that outputs spread over O(1) and a wrong kernel shows."""
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
                mod.weight.mul_(gain)
            elif isinstance(mod, nn.RNNBase):
                for name, p in mod.named_parameters():
                    if name.startswith("weight"):
                        p.mul_(gain)


# ---------------------------------------------------------------- specs

Spec = collections.namedtuple("Spec", "name make opset inputs input_names output_names gain")


def specs():
    r = lambda seed: np.random.default_rng(seed)  # noqa: E731
    image = lambda seed, *s: r(seed).standard_normal(s).astype(np.float32)  # noqa: E731
    tokens = lambda seed, vocab, n: r(seed).integers(0, vocab, size=(n, 1), dtype=np.int64)  # noqa: E731
    return [
        Spec("shufflenet_v2", shufflenet_v2, 13, [image(1, 1, 3, 128, 128)], ["image"], ["logits"], 1.0),
        Spec("mobilenet_v3_small", mobilenet_v3_small, 14, [image(2, 1, 3, 128, 128)],
             ["image"], ["logits"], 1.0),
        Spec("transformer_op13", TransformerClassifier, 13, [tokens(3, 100, 16)], ["tokens"], ["logits"], 1.0),
        Spec("transformer_op17", TransformerClassifier, 17, [tokens(3, 100, 16)], ["tokens"], ["logits"], 1.0),
        Spec("unet", UNet, 13, [image(4, 1, 1, 64, 64)], ["image"], ["mask"], 1.0),
        Spec("seq2seq_gru", GreedySeq2Seq, 13, [tokens(5, 24, 10)], ["source"], ["logits", "tokens"], 2.0),
    ]


# ---------------------------------------------------------------- export


def as_tuple(y):
    return tuple(y) if isinstance(y, (tuple, list)) else (y,)


def check_close(name, got, want):
    """Checks float32 PyTorch against the float64 reference at the Go
    test's tolerance (ids exactly); returns the worst error / tolerance."""
    if want.dtype == np.int64:
        if not np.array_equal(got, want):
            sys.exit(f"{name}: float32 and float64 PyTorch decode different tokens")
        return 0.0
    ratio = float(np.max(np.abs(got.astype(np.float64) - want) / (ATOL + RTOL * np.abs(want))))
    if ratio > 1:
        sys.exit(f"{name}: float32 PyTorch is {ratio:.2f}x the tolerance away from float64 PyTorch")
    return ratio


def check_margin(name, logits):
    """Greedy decoding is only a stable reference if every step's best logit
    beats the second by far more than float32 rounding."""
    top2 = np.sort(logits.reshape(-1, logits.shape[-1]), axis=-1)[:, -2:]
    margin = float(np.min(top2[:, 1] - top2[:, 0]))
    if margin < 1e-3:
        sys.exit(f"{name}: a greedy step's two best logits are only {margin:.2g} apart")
    return margin


def export(spec, seed):
    torch.manual_seed(seed)
    model = spec.make()
    amplify(model, spec.gain)
    randomize_bn(model, torch.Generator().manual_seed(seed + 1000))
    model.eval()

    d = os.path.join(HERE, spec.name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.endswith(".npy") or f in ("model.onnx", "ops.txt"):
            os.remove(os.path.join(d, f))
    args = tuple(torch.from_numpy(a) for a in spec.inputs)
    path = os.path.join(d, "model.onnx")
    torch.onnx.export(model, args, path, opset_version=spec.opset, do_constant_folding=True,
                      input_names=spec.input_names, output_names=spec.output_names,
                      training=torch.onnx.TrainingMode.EVAL)

    with torch.no_grad():
        y32 = as_tuple(model(*args))
        m64 = spec.make()
        m64.load_state_dict(model.state_dict())
        m64 = m64.double().eval()
        y64 = as_tuple(m64(*(a.double() if a.is_floating_point() else a for a in args)))
    outs = [y.numpy() if y.dtype == torch.int64 else y.numpy().astype(np.float32) for y in y64]
    worst = max(check_close(f"{spec.name} output {i}", a.numpy(), b.numpy())
                for i, (a, b) in enumerate(zip(y32, y64)))
    margin = None
    if spec.name.startswith("seq2seq"):
        margin = check_margin(spec.name, y64[0].numpy())
    for i, a in enumerate(spec.inputs):
        np.save(os.path.join(d, f"input_{i}.npy"), a)
    for i, o in enumerate(outs):
        np.save(os.path.join(d, f"output_{i}.npy"), o)

    m = onnx.load(path)
    onnx.checker.check_model(m)
    counts = collections.Counter(n.op_type for n in m.graph.node)
    with open(os.path.join(d, "ops.txt"), "w") as f:
        for op in sorted(counts):
            f.write(f"{op}\t{counts[op]}\n")
    sizes = {f: os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)}
    big = [f for f, s in sizes.items() if s >= MAX_FILE]
    if big:
        sys.exit(f"{spec.name}: {big} over {MAX_FILE} bytes: shrink the model")
    return dict(name=spec.name, doc=(spec.make.__doc__ or "").split("\n\n")[0], opset=spec.opset,
                size=sizes["model.onnx"], files=sum(sizes.values()),
                params=sum(p.numel() for p in model.parameters()),
                inits=len(m.graph.initializer),
                io=(io_desc(m, False), io_desc(m, True)),
                counts=counts, worst=worst, margin=margin)


def io_desc(m, outputs):
    init = {t.name for t in m.graph.initializer}
    vs = m.graph.output if outputs else [v for v in m.graph.input if v.name not in init]

    def one(v):
        t = v.type.tensor_type
        dt = onnx.TensorProto.DataType.Name(t.elem_type).lower()
        return f"{v.name} {dt}[{'x'.join(str(x.dim_value) for x in t.shape.dim)}]"

    return "<br>".join(one(v) for v in vs)


def write_readme(rows):
    L = ["# Coverage target networks (issue 10)\n",
         "Generated by `export.py` (run it with `/usr/bin/python3`: Debian's "
         f"python3-torch {torch.__version__}, python3-torchvision {torchvision.__version__}, "
         f"python3-onnx {onnx.__version__}). Do not edit by hand: change the script and rerun it.\n",
         "The networks that issue 10 names as refused today, shrunk (fewer classes, "
         "width_mult, small inputs) so that every file is under 2 MB, with seeded random "
         "weights (no pretrained download is possible here), batch-norm layers with random "
         "running statistics, exported in eval mode with `do_constant_folding=True`. "
         "Each folder holds `model.onnx`, `input_<i>.npy`, `output_<i>.npy` (PyTorch's "
         "float64 forward on the same float32 weights and inputs, rounded to float32; "
         "token ids as int64) and `ops.txt`.\n",
         "`zoo_test.go` (`go test ./frontend/onnx -run TestZoo -v`) imports every model: "
         "a model that imports must match these outputs through the interpreter at "
         f"|got - want| <= {ATOL:g} + {RTOL:g}·|want|; a refused model must be refused for "
         "exactly the ops its table `zooRefused` lists, each with the reason. "
         "*fp32 ratio* is how much of that tolerance PyTorch's own float32 forward uses "
         "(the script refuses a fixture above 1).\n",
         "| model | opset | inputs | outputs | params | initializers | model.onnx | fp32 ratio |",
         "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        L.append(f"| `{r['name']}` | {r['opset']} | {r['io'][0]} | {r['io'][1]} | {r['params']} | "
                 f"{r['inits']} | {r['size'] / 1024:.1f} KiB | {r['worst']:.3f} |")
    L.append(f"\nTotal size of the folders' files: {sum(r['files'] for r in rows) / 1024:.1f} KiB.\n")
    L.append("## Models\n")
    for r in rows:
        ops = ", ".join(f"{op} ×{n}" if n > 1 else op for op, n in sorted(r["counts"].items()))
        extra = ""
        if r["margin"] is not None:
            extra = f" Smallest gap between a greedy step's two best logits: {r['margin']:.3f}."
        L.append(f"- **`{r['name']}`** (opset {r['opset']}): {' '.join(r['doc'].split())}{extra}  \n"
                 f"  ONNX ops ({sum(r['counts'].values())} nodes): {ops}.")
    L.append("\n## Ops by model\n")
    L.append("| op | " + " | ".join(f"`{r['name']}`" for r in rows) + " |")
    L.append("| --- |" + " --- |" * len(rows))
    for op in sorted(set().union(*(r["counts"] for r in rows))):
        L.append(f"| {op} | " + " | ".join(str(r["counts"].get(op, "")) for r in rows) + " |")
    L.append("")
    with open(os.path.join(HERE, "README.md"), "w") as f:
        f.write("\n".join(L))


def main():
    torch.set_num_threads(1)
    rows = []
    for i, spec in enumerate(specs()):
        row = export(spec, 500 + i)
        rows.append(row)
        print(f"{spec.name:19s} opset {spec.opset:2d} {row['size']:8d} B  ratio {row['worst']:.3f}  "
              + " ".join(f"{op}:{n}" for op, n in sorted(row["counts"].items())))
    write_readme(rows)


if __name__ == "__main__":
    main()

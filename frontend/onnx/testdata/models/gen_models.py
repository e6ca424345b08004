#!/usr/bin/python3
"""Export the ONNX model fixtures of frontend/onnx from PyTorch.

Run with Debian's Python (python3-torch 1.13, python3-onnx 1.12):

    cd frontend/onnx/testdata/models && /usr/bin/python3 gen_models.py

For every model it writes, in <name>/:

    model.onnx       the exported model (random weights, fixed seed, eval mode)
    input_<i>.npy    the inputs, in graph-input order (float32, or int64 ids)
    output_<i>.npy   PyTorch's outputs, in graph-output order (float32)
    ops.txt          the ONNX op types of the graph, "OpType<TAB>count"

and README.md (models, opsets, shapes, op counts, sizes) in this folder.

Reference outputs are PyTorch's forward pass in float64 on the very same
(float32) weights and inputs, rounded to float32: the value an exact
float32 implementation should approach. The float32 PyTorch forward is
checked against it at the tolerance the Go test uses, so a fixture that
PyTorch itself could not meet is never written.

Batch-norm layers get random affine parameters and running statistics so
that they are not identities. Dropout layers are present in the PyTorch
modules, but torch.onnx exports eval-mode dropout as nothing at all (no
Dropout and no Identity node), so no exported file holds a Dropout node.
"""

import collections
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))

# The Go test's comparison: |got - want| <= ATOL + RTOL*|want|.
RTOL = 1e-5
ATOL = 1e-6


def randomize_bn(m, gen):
    """Gives every batch-norm layer of m non-trivial parameters and stats."""
    for mod in m.modules():
        if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
            n = mod.num_features
            with torch.no_grad():
                mod.weight.copy_(torch.rand(n, generator=gen) + 0.5)
                mod.bias.copy_(torch.randn(n, generator=gen) * 0.2)
                mod.running_mean.copy_(torch.randn(n, generator=gen) * 0.3)
                mod.running_var.copy_(torch.rand(n, generator=gen) * 1.5 + 0.5)


def amplify(m, gain):
    """Scales the weights of every Linear, Conv and recurrent layer of m by
    gain. PyTorch's default init shrinks activations layer by layer, which
    leaves near-uniform class scores (a LeNet's softmax all ~0.1); a larger
    spread makes the fixtures more sensitive to a wrong kernel."""
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
                mod.weight.mul_(gain)
            elif isinstance(mod, nn.RNNBase):
                for name, p in mod.named_parameters():
                    if name.startswith("weight"):
                        p.mul_(gain)


# ---------------------------------------------------------------- models


class MLP(nn.Module):
    """Normalized MNIST-style MLP: Sub/Div, Flatten, Gemm, Relu, hardtanh
    (Clip, attribute form at opset 9), LeakyRelu, LogSoftmax."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(28 * 28, 64)
        self.drop = nn.Dropout(0.5)
        self.fc2 = nn.Linear(64, 32)
        self.fc3 = nn.Linear(32, 32)
        self.fc4 = nn.Linear(32, 10)

    def forward(self, x):
        x = (x - 0.1307) / 0.3081
        x = torch.flatten(x, 1)
        x = self.drop(F.relu(self.fc1(x)))
        x = F.hardtanh(self.fc2(x), -0.5, 0.5)
        x = F.leaky_relu(self.fc3(x), 0.1)
        return F.log_softmax(self.fc4(x), dim=1)


class LeNet5(nn.Module):
    """LeNet-5 on [N, 28, 28] images: Unsqueeze (add the channel), Conv,
    Tanh, AveragePool, Reshape (view), Gemm, Relu, Softmax."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        # count_include_pad=False: with the default True, torch 1.13 puts an
        # explicit (here all-zero) Pad node before every AveragePool.
        x = x.unsqueeze(1)
        x = F.avg_pool2d(torch.tanh(self.conv1(x)), 2, count_include_pad=False)
        x = F.avg_pool2d(torch.tanh(self.conv2(x)), 2, count_include_pad=False)
        x = x.view(x.size(0), -1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return F.softmax(self.fc3(x), dim=1)


class VGGBN(nn.Module):
    """VGG-style net with batch norm. Conv+BN pairs are fused by the
    exporter; the BN after a pool and the BN1d of the head stay
    BatchNormalization nodes. Also: per-channel Sub/Div input
    normalization, ReLU6 (Clip with min/max inputs), MaxPool with padding
    and with ceil_mode, GlobalAveragePool."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.Conv2d(16, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.MaxPool2d(3, stride=2, padding=1),           # 30 -> 15
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU6(),
            nn.MaxPool2d(2, stride=2, ceil_mode=True),      # 15 -> 8
            nn.BatchNorm2d(32),                              # not after a conv: kept
            nn.Conv2d(32, 32, 3, padding=1, bias=False), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(32, 64), nn.BatchNorm1d(64), nn.ReLU(),
            nn.Dropout(0.3), nn.Linear(64, 10),
        )

    def forward(self, x):
        x = (x - self.mean) / self.std
        return self.classifier(self.features(x))


class GlobalMaxPool2d(torch.autograd.Function):
    """adaptive_max_pool2d(x, 1), exported as ONNX GlobalMaxPool. torch 1.13
    exports AdaptiveMaxPool2d(1) over a known spatial size as a MaxPool whose
    kernel is the whole image (GlobalMaxPool only when the size is unknown),
    so the symbolic is given here."""

    @staticmethod
    def forward(ctx, x):
        return F.adaptive_max_pool2d(x, 1)

    @staticmethod
    def symbolic(g, x):
        return g.op("GlobalMaxPool", x)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride, se=False):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))
        self.se = None
        if se:  # squeeze-and-excitation: a Sigmoid gate applied with Mul
            self.se = nn.Sequential(
                nn.AdaptiveAvgPool2d(1), nn.Conv2d(cout, cout // 4, 1), nn.ReLU(),
                nn.Conv2d(cout // 4, cout, 1), nn.Sigmoid())

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        if self.se is not None:
            y = y * self.se(y)
        s = x if self.down is None else self.down(x)
        return F.relu(y + s)


class ResNetSmall(nn.Module):
    """Small ResNet: residual Add, strided 1x1 downsample, SE gate
    (Sigmoid + Mul), GlobalAveragePool and GlobalMaxPool branches
    concatenated (Concat), Flatten, Gemm."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.layer1 = BasicBlock(16, 16, 1)
        self.layer2 = BasicBlock(16, 32, 2, se=True)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.layer2(self.layer1(self.stem(x)))
        x = torch.cat([self.gap(x), GlobalMaxPool2d.apply(x)], dim=1)
        return self.fc(torch.flatten(x, 1))


class TextCNN(nn.Module):
    """1D text CNN (Kim 2014): Gather (embedding), Transpose (permute),
    Conv 1D with three widths, Relu, MaxPool over the whole sequence
    (adaptive_max_pool1d), Squeeze, Concat, Gemm. It also returns the
    pooled features before and after dropout: in eval mode the two are the
    same tensor, so the exporter writes the second as an Identity node."""

    def __init__(self, vocab=50, dim=16, classes=4):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.convs = nn.ModuleList([nn.Conv1d(dim, 8, k) for k in (2, 3, 4)])
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(24, classes)

    def forward(self, tokens):
        x = self.emb(tokens).permute(0, 2, 1)  # [N, T, E] -> [N, E, T]
        feats = torch.cat([F.adaptive_max_pool1d(F.relu(c(x)), 1).squeeze(-1) for c in self.convs], dim=1)
        dropped = self.drop(feats)
        return self.fc(dropped), feats, dropped


class Conv3DNet(nn.Module):
    """3D conv net: Conv 3D (BN fused), Relu, MaxPool 3D, strided padded
    Conv 3D, LeakyRelu, AveragePool 3D with padding and
    count_include_pad=0, Flatten, Gemm."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv3d(1, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm3d(4)
        self.conv2 = nn.Conv3d(4, 8, 3, stride=(1, 2, 2), padding=1)
        self.pool2 = nn.AvgPool3d(2, stride=2, padding=1, count_include_pad=False)
        self.fc = nn.Linear(8 * 3 * 2 * 2, 5)

    def forward(self, x):                                   # [N, 1, 8, 12, 12]
        x = F.max_pool3d(F.relu(self.bn1(self.conv1(x))), 2)  # [N, 4, 4, 6, 6]
        x = F.leaky_relu(self.conv2(x), 0.2)                # [N, 8, 4, 3, 3]
        x = self.pool2(x)                                   # [N, 8, 3, 2, 2]
        return self.fc(torch.flatten(x, 1))


class LSTMLM(nn.Module):
    """Two-layer LSTM language model, sequence first: Gather (embedding),
    one LSTM node per layer with its slice of the given initial states
    (Slice), Squeeze of the direction axis, final states joined by Concat,
    MatMul + Add (Linear on a 3-D tensor), LogSoftmax."""

    def __init__(self, vocab=40, dim=16, hidden=24):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, hidden, num_layers=2, dropout=0.2)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, tokens, h0, c0):                     # tokens [T, N]
        y, (h, c) = self.lstm(self.emb(tokens), (h0, c0))
        return F.log_softmax(self.out(y), dim=-1), h, c


class GRUClassifier(nn.Module):
    """Bidirectional GRU classifier, batch first, with a learned initial
    state: GRU (linear_before_reset=1, initial_h an initializer),
    Transpose, the final states of both directions (Gather) concatenated,
    Gemm, Softmax."""

    def __init__(self, feat=10, hidden=16, classes=3, batch=2):
        super().__init__()
        self.gru = nn.GRU(feat, hidden, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * hidden, classes)
        # The initial state has the batch size baked in: without one, nn.GRU
        # makes zeros of the input's batch size, which the exporter writes
        # as Shape/Gather/Unsqueeze/Concat/Expand, and Expand is not in dlc.
        self.h0 = nn.Parameter(torch.randn(2, batch, hidden) * 0.3)

    def forward(self, x):                                   # x [N, T, F]
        y, h = self.gru(x, self.h0)
        logits = self.fc(torch.cat([h[0], h[1]], dim=1))
        return F.softmax(logits, dim=1), y, h


class TanhRNN(nn.Module):
    """Two-layer Elman RNN (tanh), sequence first, at opset 11: one RNN
    node per layer with its slice of the initial state, Squeeze with the
    opset-11 axes attribute, Concat of the final states, MatMul + Add,
    LogSoftmax (opset-11 axis form)."""

    def __init__(self, feat=8, hidden=12, classes=6):
        super().__init__()
        self.rnn = nn.RNN(feat, hidden, num_layers=2, nonlinearity="tanh")
        self.fc = nn.Linear(hidden, classes)

    def forward(self, x, h0):                               # x [T, N, F]
        y, h = self.rnn(x, h0)
        return F.log_softmax(self.fc(y), dim=-1), h


# ---------------------------------------------------------------- specs

Spec = collections.namedtuple("Spec", "name cls opset inputs input_names output_names gain")


def f32(rng, *shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def ids(rng, vocab, *shape):
    return rng.integers(0, vocab, size=shape, dtype=np.int64)


def specs():
    r = lambda seed: np.random.default_rng(seed)  # noqa: E731
    # gain: see amplify; chosen so that the outputs spread over O(1).
    return [
        Spec("mlp", MLP, 9, [r(1).random((2, 1, 28, 28), dtype=np.float32)],
             ["image"], ["log_probs"], 2.5),
        Spec("lenet5", LeNet5, 13, [f32(r(2), 2, 28, 28)], ["image"], ["probs"], 3.0),
        Spec("vgg_bn", VGGBN, 13, [r(3).random((2, 3, 30, 30), dtype=np.float32)],
             ["image"], ["logits"], 2.0),
        Spec("resnet_small", ResNetSmall, 13, [f32(r(4), 2, 3, 16, 16)], ["image"], ["logits"], 1.5),
        Spec("text_cnn", TextCNN, 13, [ids(r(5), 50, 2, 20)], ["tokens"],
             ["logits", "features", "features_dropped"], 1.5),
        Spec("conv3d", Conv3DNet, 13, [f32(r(6), 2, 1, 8, 12, 12)], ["volume"], ["logits"], 2.5),
        Spec("lstm_lm", LSTMLM, 13,
             [ids(r(7), 40, 6, 2), f32(r(70), 2, 2, 24, scale=0.5), f32(r(71), 2, 2, 24, scale=0.5)],
             ["tokens", "h0", "c0"], ["log_probs", "h_n", "c_n"], 3.0),
        Spec("gru_classifier", GRUClassifier, 13, [f32(r(8), 2, 7, 10)], ["sequence"],
             ["probs", "states", "h_n"], 2.5),
        Spec("tanh_rnn", TanhRNN, 11, [f32(r(9), 5, 2, 8), f32(r(90), 2, 2, 12, scale=0.5)],
             ["sequence", "h0"], ["log_probs", "h_n"], 2.0),
    ]


# ---------------------------------------------------------------- export


def as_tuple(y):
    return tuple(y) if isinstance(y, (tuple, list)) else (y,)


def check_close(name, got, want):
    """Asserts |got-want| <= ATOL + RTOL*|want| and returns the worst ratio."""
    got = got.astype(np.float64)
    want = want.astype(np.float64)
    bound = ATOL + RTOL * np.abs(want)
    ratio = float(np.max(np.abs(got - want) / bound))
    if ratio > 1:
        sys.exit(f"{name}: float32 PyTorch is {ratio:.2f}x the tolerance away from float64 PyTorch")
    return ratio


def export(spec, seed):
    torch.manual_seed(seed)
    model = spec.cls()
    amplify(model, spec.gain)
    randomize_bn(model, torch.Generator().manual_seed(seed + 1000))
    model.eval()

    dirname = os.path.join(HERE, spec.name)
    os.makedirs(dirname, exist_ok=True)
    for f in os.listdir(dirname):
        if f.endswith(".npy") or f in ("model.onnx", "ops.txt"):
            os.remove(os.path.join(dirname, f))

    args = tuple(torch.from_numpy(a) for a in spec.inputs)
    path = os.path.join(dirname, "model.onnx")
    torch.onnx.export(
        model, args, path,
        opset_version=spec.opset,
        do_constant_folding=True,
        input_names=spec.input_names,
        output_names=spec.output_names,
        training=torch.onnx.TrainingMode.EVAL,
    )

    # Reference: float64 forward on the same weights; float32 forward checked.
    with torch.no_grad():
        y32 = as_tuple(model(*args))
        m64 = spec.cls()
        m64.load_state_dict(model.state_dict())
        m64 = m64.double().eval()
        args64 = tuple(a.double() if a.is_floating_point() else a for a in args)
        y64 = as_tuple(m64(*args64))
    assert len(y64) == len(spec.output_names)
    worst = 0.0
    for i, (a, b) in enumerate(zip(y32, y64)):
        worst = max(worst, check_close(f"{spec.name} output {i}", a.numpy(), b.numpy()))

    for i, a in enumerate(spec.inputs):
        np.save(os.path.join(dirname, f"input_{i}.npy"), a)
    outs = [b.numpy().astype(np.float32) for b in y64]
    for i, o in enumerate(outs):
        np.save(os.path.join(dirname, f"output_{i}.npy"), o)

    m = onnx.load(path)
    onnx.checker.check_model(m)
    counts = collections.Counter(n.op_type for n in m.graph.node)
    with open(os.path.join(dirname, "ops.txt"), "w") as f:
        for op in sorted(counts):
            f.write(f"{op}\t{counts[op]}\n")

    init = {t.name for t in m.graph.initializer}
    gin = [v for v in m.graph.input if v.name not in init]

    def shape_of(v):
        return "x".join(str(d.dim_value) for d in v.type.tensor_type.shape.dim)

    def dtype_of(v):
        return onnx.TensorProto.DataType.Name(v.type.tensor_type.elem_type).lower()

    return dict(
        name=spec.name, doc=(spec.cls.__doc__ or "").split("\n\n")[0], opset=spec.opset,
        size=os.path.getsize(path),
        params=sum(p.numel() for p in model.parameters()),
        inputs=[f"{v.name} {dtype_of(v)}[{shape_of(v)}]" for v in gin],
        outputs=[f"{v.name} {dtype_of(v)}[{shape_of(v)}]" for v in m.graph.output],
        counts=counts, worst=worst,
    )


# Ops the importer must cover (the list). Dropout cannot appear:
# torch.onnx drops eval-mode dropout without a trace.
IN_SCOPE = """Gemm MatMul Add Sub Mul Div Relu LeakyRelu Sigmoid Tanh Softmax LogSoftmax
Conv MaxPool AveragePool GlobalAveragePool GlobalMaxPool BatchNormalization Flatten
Reshape Transpose Concat Gather Squeeze Unsqueeze Dropout Identity Clip LSTM GRU RNN""".split()


def write_readme(rows):
    union = collections.Counter()
    for r in rows:
        union.update(r["counts"])
    missing = [op for op in IN_SCOPE if op not in union]
    extra = sorted(op for op in union if op not in IN_SCOPE)
    total = sum(r["size"] for r in rows)
    L = []
    L.append("# ONNX model fixtures\n")
    L.append("Generated by `gen_models.py` (run it with `/usr/bin/python3`: Debian's "
             f"python3-torch {torch.__version__}, python3-onnx {onnx.__version__}). "
             "Do not edit by hand: change the script and rerun it.\n")
    L.append("Every model has random weights (fixed seeds), is in eval mode, and is exported "
             "with `torch.onnx.export(..., do_constant_folding=True)` at the opset shown. "
             "Batch-norm layers get random running statistics and affine parameters. "
             "Each folder holds `model.onnx`, `input_<i>.npy` (graph-input order), "
             "`output_<i>.npy` (graph-output order, float32) and `ops.txt` "
             "(op types of the exported graph with counts).\n")
    L.append("The reference outputs are PyTorch's forward pass in float64 on the same "
             "float32 weights and inputs, rounded to float32. `models_test.go` "
             f"requires |got - want| <= {ATOL:g} + {RTOL:g}·|want| for every element; "
             "the column *fp32 ratio* is how much of that tolerance PyTorch's own "
             "float32 forward uses (the script refuses a fixture above 1). "
             "The same files are the self-test vectors of the packages "
             "`TestModelsGenerated` generates at -O2 (same tolerance, with the absolute "
             "floor scaled by the output's largest magnitude as codegen's self-test does).\n")
    L.append("| model | opset | inputs | outputs | params | model.onnx | fp32 ratio |")
    L.append("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        L.append(f"| `{r['name']}` | {r['opset']} | {'<br>'.join(r['inputs'])} | "
                 f"{'<br>'.join(r['outputs'])} | {r['params']} | {r['size'] / 1024:.1f} KiB | "
                 f"{r['worst']:.3f} |")
    L.append(f"\nTotal size of the ONNX files: {total / 1024:.1f} KiB.\n")
    L.append("## Models\n")
    for r in rows:
        ops = ", ".join(f"{op} ×{n}" if n > 1 else op for op, n in sorted(r["counts"].items()))
        L.append(f"- **`{r['name']}`** (opset {r['opset']}): {' '.join(r['doc'].split())}  \n"
                 f"  ONNX ops: {ops}.")
    L.append("\n## Op coverage\n")
    L.append("| op | models |")
    L.append("| --- | --- |")
    for op in IN_SCOPE:
        users = [f"{r['name']} ({r['counts'][op]})" for r in rows if op in r["counts"]]
        L.append(f"| {op} | {', '.join(users) if users else '—'} |")
    L.append("")
    if missing:
        L.append(f"In scope but in no exported model: {', '.join(missing)}.\n")
    L.append("Dropout: torch.onnx exports a model in eval mode without its dropout layers "
             "(no Dropout node, not even an Identity), and exporting in training mode "
             "would make the outputs random and put batch norm in training mode; the "
             "importer's Dropout is covered by ONNX's node tests instead. "
             "Identity: torch emits one where a graph output would otherwise be "
             "another output or an input unchanged (here `text_cnn`'s features_dropped, "
             "which eval-mode dropout makes the same tensor as features).\n")
    if extra:
        L.append(f"Ops outside the list that the exporter produced: {', '.join(extra)}.\n")
    with open(os.path.join(HERE, "README.md"), "w") as f:
        f.write("\n".join(L))
    return missing


def main():
    torch.set_num_threads(1)
    rows = []
    for i, spec in enumerate(specs()):
        row = export(spec, 100 + i)
        rows.append(row)
        print(f"{spec.name:15s} opset {spec.opset:2d} {row['size']:8d} B  ratio {row['worst']:.3f}  "
              + " ".join(f"{op}:{n}" for op, n in sorted(row["counts"].items())))
    missing = write_readme(rows)
    total = sum(r["size"] for r in rows)
    print(f"total {total} B; in scope but not exported: {' '.join(missing) or 'none'}")
    assert all(r["size"] < 1 << 20 for r in rows) and total < 5 << 20


if __name__ == "__main__":
    main()

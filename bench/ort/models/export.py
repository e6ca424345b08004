#!/usr/bin/python3
"""Export bench/ort's benchmark models from PyTorch, with reference vectors.

Run with Debian's Python (python3-torch 1.13, python3-torchvision 0.14,
python3-onnx 1.12), from anywhere:

    /usr/bin/python3 bench/ort/models/export.py            # every model
    /usr/bin/python3 bench/ort/models/export.py resnet18   # only these

For every model it writes, in bench/ort/models/<name>/:

    model.onnx       the exported model (seeded random weights, eval mode)
    input_<i>.npy    the inputs, in graph-input order (float32, or int64 ids)
    output_<i>.npy   PyTorch's outputs, in graph-output order (float32)
    ops.txt          the ONNX op types of the graph, "OpType<TAB>count"

No pretrained weights can be downloaded here, so every model has random
weights from torch.manual_seed: speed does not depend on the values, and
the outputs are still a check that onnxruntime and dlc compute the same
function. Batch-norm layers get random affine parameters and running
statistics (so folding them into the convolutions changes the weights),
and the models are exported with training=PRESERVE on an eval-mode model:
the BatchNormalization nodes stay in the ONNX file (the default EVAL
export would fold them into the Conv weights itself), so onnxruntime and
dlc each fold them.

The reference outputs are PyTorch's forward pass in float64 on the very
same float32 weights and inputs, rounded to float32.

resnet18 and mobilenet_v2 (45 MB and 14 MB) are git-ignored (see
/.gitignore): run this script to make them. mlp64 and lstm_lm_128 are under
1 MB and committed.
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


class MLP64(nn.Module):
    """MLP on flattened 28x28 images at batch 64: Gemm 784-256-128-10 with
    Relu: the batched dense layers of issue 9."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, 10)

    def forward(self, x):
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


class LSTMLM128(nn.Module):
    """LSTM language model, sequence first, 32 steps at batch 1: embedding
    (Gather) 128 tokens x 32, a 2-layer LSTM of hidden size 128 (one LSTM
    node per layer, zero initial state), a dense layer to the vocabulary
    (MatMul + Add)."""

    def __init__(self, vocab=128, dim=32, hidden=128):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, hidden, num_layers=2)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, tokens):  # [T, N]
        y, _ = self.lstm(self.emb(tokens))
        return self.out(y)


def resnet18():
    """torchvision ResNet-18 (1000 classes), 1x3x224x224."""
    return torchvision.models.resnet18(weights=None)


def mobilenet_v2():
    """torchvision MobileNetV2 (width 1.0, 1000 classes), 1x3x224x224:
    depthwise convolutions, ReLU6 (Clip), residual Add."""
    return torchvision.models.mobilenet_v2(weights=None)


Spec = collections.namedtuple("Spec", "name make opset inputs input_names output_names")


def specs():
    r = lambda seed: np.random.default_rng(seed)  # noqa: E731
    image = lambda seed: r(seed).standard_normal((1, 3, 224, 224)).astype(np.float32)  # noqa: E731
    return [
        Spec("resnet18", resnet18, 13, [image(1)], ["image"], ["logits"]),
        Spec("mobilenet_v2", mobilenet_v2, 13, [image(2)], ["image"], ["logits"]),
        Spec("lstm_lm_128", LSTMLM128, 13, [r(3).integers(0, 128, size=(32, 1), dtype=np.int64)],
             ["tokens"], ["logits"]),
        Spec("mlp64", MLP64, 13, [r(4).random((64, 784), dtype=np.float32)], ["image"], ["logits"]),
    ]


def export(spec, seed):
    torch.manual_seed(seed)
    model = spec.make()
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
                      training=torch.onnx.TrainingMode.PRESERVE)

    with torch.no_grad():
        y32 = model(*args)
        m64 = spec.make()
        m64.load_state_dict(model.state_dict())
        m64 = m64.double().eval()
        y64 = m64(*(a.double() if a.is_floating_point() else a for a in args))
    err = float(torch.max(torch.abs(y32.double() - y64) / torch.clamp(torch.abs(y64), min=1)))
    for i, a in enumerate(spec.inputs):
        np.save(os.path.join(d, f"input_{i}.npy"), a)
    np.save(os.path.join(d, "output_0.npy"), y64.numpy().astype(np.float32))

    m = onnx.load(path)
    onnx.checker.check_model(m)
    counts = collections.Counter(n.op_type for n in m.graph.node)
    with open(os.path.join(d, "ops.txt"), "w") as f:
        for op in sorted(counts):
            f.write(f"{op}\t{counts[op]}\n")
    print(f"{spec.name:13s} opset {spec.opset} {os.path.getsize(path) / 1e6:7.2f} MB  "
          f"params {sum(p.numel() for p in model.parameters()):9d}  "
          f"fp32 vs fp64 {err:.1e}  out {list(y64.shape)}  "
          + " ".join(f"{op}:{n}" for op, n in sorted(counts.items())))


def main():
    torch.set_num_threads(1)
    only = set(sys.argv[1:])
    all_specs = specs()
    unknown = only - {s.name for s in all_specs}
    if unknown:
        sys.exit(f"unknown model(s) {sorted(unknown)}; have {[s.name for s in all_specs]}")
    for i, spec in enumerate(all_specs):
        if not only or spec.name in only:
            export(spec, 900 + i)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Export small PyTorch models the way users do, for exports_test.go.

Run with Debian's Python (python3-torch 1.13, python3-onnx 1.12):

    cd frontend/onnx/testdata/exports && /usr/bin/python3 gen_exports.py

Unlike ../models, these models are written the way PyTorch code usually
is, and exported without care for what the importer likes: AvgPool with
the default count_include_pad=True (an explicit Pad node before
AveragePool), recurrent layers called without an initial state (a
Shape/Gather/Unsqueeze/Concat/ConstantOfShape or Expand chain building
zeros), F.pad before a Conv, x.view(x.size(0), -1) and torch.flatten, and
dynamic batch axes (dynamic_axes={"input": {0: "batch"}}).

For every model it writes, in <name>/:

    model.onnx       the exported model (random weights, fixed seed, eval mode)
    input_<i>.npy    the inputs, in graph-input order
    output_<i>.npy   the outputs, in graph-output order (float32)
    ops.txt          the ONNX op types of the graph, "OpType<TAB>count"
    dims.txt         only for exports with dynamic axes: "name<TAB>size" for
                     each symbolic dimension of the recorded inputs (the Go
                     test imports with Options.Batch and Options.Dims)

The reference outputs are PyTorch's forward pass in float64 on the same
float32 weights and inputs, rounded to float32; the float32 forward is
checked against them at the Go test's tolerance.
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
RTOL = 1e-5
ATOL = 1e-6


class AvgPool2dPad(nn.Module):
    """Conv2d, then AvgPool2d(3, stride=2, padding=1) with the default
    count_include_pad=True: Pad (zeros, pads an input) + AveragePool."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3)
        self.pool = nn.AvgPool2d(3, stride=2, padding=1)
        self.drop = nn.Dropout(0.25)

    def forward(self, x):
        return self.pool(self.drop(torch.relu(self.conv1(x))))


class AvgPool1dPad(nn.Module):
    """AvgPool1d(3, stride=1, padding=1) at opset 9: Pad with the pads
    attribute + AveragePool, then MaxPool1d with padding (no Pad)."""

    def __init__(self):
        super().__init__()
        self.pool = nn.AvgPool1d(3, stride=1, padding=1)
        self.mpool = nn.MaxPool1d(2, padding=1)

    def forward(self, x):
        return self.mpool(self.pool(x))


class AvgPoolCeil(nn.Module):
    """AvgPool2d(3, stride=2, padding=1, ceil_mode=True): Pad +
    AveragePool(ceil_mode=1), or before opset 10 Pad + AveragePool with
    extra uncounted end padding standing for ceil_mode."""

    def __init__(self):
        super().__init__()
        self.pool = nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True)

    def forward(self, x):
        return self.pool(x)


class PadConv(nn.Module):
    """F.pad (asymmetric zeros) before a padded Conv2d, Dropout,
    x.view(x.size(0), -1) and a Linear; torch.flatten on a second head."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 3, 3, padding=1)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(3 * 7 * 8, 5)

    def forward(self, x):                                   # [N, 2, 6, 5]
        y = self.conv1(F.pad(x, (1, 2, 0, 1)))              # [N, 3, 7, 8]
        y = self.drop(torch.relu(y))
        return self.fc(y.view(y.size(0), -1)), torch.flatten(y, 1)


class GRUNoState(nn.Module):
    """GRU classifier, batch first, without an initial state; the last
    step's output feeds a Linear."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(5, 6, batch_first=True)
        self.fc = nn.Linear(6, 3)

    def forward(self, x):                                   # [N, T, F]
        y, h = self.gru(x)
        return self.fc(y[:, -1]), h


class LSTMNoState(nn.Module):
    """Two-layer LSTM, sequence first, without an initial state."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 5, num_layers=2)
        self.fc = nn.Linear(5, 2)

    def forward(self, x):                                   # [T, N, F]
        y, (h, c) = self.lstm(x)
        return self.fc(y), h, c


class RNNNoState(nn.Module):
    """Bidirectional tanh RNN, batch first, without an initial state."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(4, 3, batch_first=True, bidirectional=True)

    def forward(self, x):
        y, h = self.rnn(x)
        return y, h


class LSTMBatchFirst(nn.Module):
    """LSTM, batch first, without an initial state, Dropout before it."""

    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.1)
        self.lstm = nn.LSTM(3, 4, batch_first=True)

    def forward(self, x):
        y, _ = self.lstm(self.drop(x))
        return torch.flatten(y, 1)


class DynCNN(nn.Module):
    """Small CNN exported with a dynamic batch axis: AvgPool2d with
    padding, flatten by x.view(x.size(0), -1)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 3, 3, padding=1)
        self.pool = nn.AvgPool2d(2, padding=1)
        self.fc = nn.Linear(3 * 4 * 4, 4)

    def forward(self, x):                                   # [N, 1, 6, 6]
        x = self.pool(torch.relu(self.conv1(x)))            # [N, 3, 4, 4]
        return F.softmax(self.fc(x.view(x.size(0), -1)), dim=1)


class DynGRU(nn.Module):
    """GRU without an initial state, exported with dynamic batch (and
    dynamic sequence length on the input)."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(3, 4)
        self.fc = nn.Linear(4, 2)

    def forward(self, x):                                   # [T, N, F]
        y, h = self.gru(x)
        return self.fc(h[-1])


Spec = collections.namedtuple("Spec", "name cls opset inputs input_names output_names dynamic")


def f32(seed, *shape):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def specs():
    batch = {0: "batch"}
    return [
        Spec("avgpool2d_pad", AvgPool2dPad, 13, [f32(1, 2, 3, 9, 9)], ["image"], ["y"], None),
        Spec("avgpool1d_pad", AvgPool1dPad, 9, [f32(2, 2, 3, 7)], ["x"], ["y"], None),
        Spec("avgpool_ceil", AvgPoolCeil, 13, [f32(10, 1, 2, 8, 8)], ["x"], ["y"], None),
        Spec("avgpool_ceil_op9", AvgPoolCeil, 9, [f32(10, 1, 2, 8, 8)], ["x"], ["y"], None),
        Spec("pad_conv", PadConv, 11, [f32(3, 2, 2, 6, 5)], ["image"], ["logits", "features"], None),
        Spec("gru_nostate", GRUNoState, 13, [f32(4, 2, 4, 5)], ["seq"], ["logits", "h_n"], None),
        Spec("lstm_nostate", LSTMNoState, 13, [f32(5, 4, 2, 4)], ["seq"], ["y", "h_n", "c_n"], None),
        Spec("rnn_nostate", RNNNoState, 11, [f32(6, 2, 3, 4)], ["seq"], ["y", "h_n"], None),
        Spec("lstm_batch_first", LSTMBatchFirst, 14, [f32(7, 2, 3, 3)], ["seq"], ["y"], None),
        Spec("dyn_cnn", DynCNN, 13, [f32(8, 3, 1, 6, 6)], ["image"], ["probs"],
             {"image": batch, "probs": batch}),
        Spec("dyn_gru", DynGRU, 13, [f32(9, 5, 3, 3)], ["seq"], ["logits"],
             {"seq": {0: "time", 1: "batch"}, "logits": batch}),
    ]


def as_tuple(y):
    return tuple(y) if isinstance(y, (tuple, list)) else (y,)


def check_close(name, got, want):
    got, want = got.astype(np.float64), want.astype(np.float64)
    ratio = float(np.max(np.abs(got - want) / (ATOL + RTOL * np.abs(want))))
    if ratio > 1:
        sys.exit(f"{name}: float32 PyTorch is {ratio:.2f}x the tolerance away from float64 PyTorch")
    return ratio


def export(spec, seed):
    torch.manual_seed(seed)
    model = spec.cls().eval()
    dirname = os.path.join(HERE, spec.name)
    os.makedirs(dirname, exist_ok=True)
    for f in os.listdir(dirname):
        os.remove(os.path.join(dirname, f))
    args = tuple(torch.from_numpy(a) for a in spec.inputs)
    path = os.path.join(dirname, "model.onnx")
    torch.onnx.export(model, args, path, opset_version=spec.opset, do_constant_folding=True,
                      input_names=spec.input_names, output_names=spec.output_names,
                      dynamic_axes=spec.dynamic, training=torch.onnx.TrainingMode.EVAL)
    with torch.no_grad():
        y32 = as_tuple(model(*args))
        m64 = spec.cls()
        m64.load_state_dict(model.state_dict())
        m64 = m64.double().eval()
        y64 = as_tuple(m64(*(a.double() for a in args)))
    worst = max(check_close(f"{spec.name} output {i}", a.numpy(), b.numpy())
                for i, (a, b) in enumerate(zip(y32, y64)))
    for i, a in enumerate(spec.inputs):
        np.save(os.path.join(dirname, f"input_{i}.npy"), a)
    for i, b in enumerate(y64):
        np.save(os.path.join(dirname, f"output_{i}.npy"), b.numpy().astype(np.float32))
    if spec.dynamic:
        sizes = {}
        for k, name in enumerate(spec.input_names):
            for axis, dim in spec.dynamic.get(name, {}).items():
                sizes[dim] = spec.inputs[k].shape[axis]
        with open(os.path.join(dirname, "dims.txt"), "w") as f:
            for dim in sorted(sizes):
                f.write(f"{dim}\t{sizes[dim]}\n")
    m = onnx.load(path)
    onnx.checker.check_model(m)
    counts = collections.Counter(n.op_type for n in m.graph.node)
    with open(os.path.join(dirname, "ops.txt"), "w") as f:
        for op in sorted(counts):
            f.write(f"{op}\t{counts[op]}\n")
    return os.path.getsize(path), worst, counts


def main():
    torch.set_num_threads(1)
    total = 0
    for i, spec in enumerate(specs()):
        size, worst, counts = export(spec, 200 + i)
        total += size
        print(f"{spec.name:17s} opset {spec.opset:2d} {size:6d} B  ratio {worst:.3f}  "
              + " ".join(f"{op}:{n}" for op, n in sorted(counts.items())))
    print(f"total {total} B")
    assert total < 256 << 10


if __name__ == "__main__":
    main()

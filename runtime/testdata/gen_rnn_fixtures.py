#!/usr/bin/python3
"""Generate the rnn, lstm and gru fixtures of dlc's reference interpreter.

Run once from anywhere with Debian's /usr/bin/python3 (torch 1.13, numpy):

    /usr/bin/python3 runtime/testdata/gen_rnn_fixtures.py

It writes one safetensors file per case into runtime/testdata/fixtures/,
named rnn_*, lstm_* and gru_*. The Go tests read them and never need
Python. The output is deterministic: running the script again rewrites
the same bytes.

File format (shared with the fixture loader in runtime/fixture_test.go):
safetensors written by hand (8-byte little-endian header length, JSON
header padded with spaces to a multiple of 8, raw little-endian data), all
tensors F32, and "__metadata__" with string values:

    op       the ir op name: "rnn", "lstm" or "gru"
    attrs    JSON object of every ir attribute of the op
    inputs   JSON list, one entry per ir input: the tensor name in the file,
             or null for an absent optional h0/c0. Order: x, h0, [c0,] then
             the weights in ir.RNNParamNames order (weight_ih_l0,
             weight_hh_l0, bias_ih_l0, bias_hh_l0, weight_ih_l0_reverse, ...)
    outputs  JSON list of tensor names: y, h[, c]

Inputs and weights are float32 (PyTorch's default initialisation under a
fixed seed, inputs from randn). The expected outputs are computed in
float64 from those same float32 values and rounded to float32 once, so
they carry no float32 accumulation error of PyTorch's own; the Go
kernels must match them within |got-want| <= 1e-6 + 1e-5*|want|.

GRU with linear_before_reset=false (ONNX's default GRU, not available in
PyTorch) is computed by gru_reference below, an explicit float64 loop:

    r  = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
    z  = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
    n  = tanh(W_in x + b_in + W_hn (r * h) + b_hn)     # reset before matmul
    h' = (1 - z) * n + z * h

with the weights in PyTorch's layout (gate blocks r, z, n of the rows of
weight_ih/weight_hh), the same stacking (layer l > 0 reads the
concatenated [forward, reverse] outputs of layer l-1) and the same
reverse-direction convention as torch.nn.GRU. Its linear_before_reset=true
form (n = tanh(W_in x + b_in + r * (W_hn h + b_hn))) is checked against
torch.nn.GRU for every case before anything is written, which validates
the loop itself.
"""

import json
import os
import struct

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")

# Each case: name, op, nonlinearity (rnn), sizes T, N, F (input features),
# H, layers, bidirectional, batch_first, bias, which initial states are
# given, and linear_before_reset (gru).
CASES = [
    # rnn, tanh
    dict(name="rnn_tanh_single", op="rnn", act="tanh", T=5, N=3, F=4, H=5),
    dict(name="rnn_tanh_layers3_h0", op="rnn", act="tanh", T=4, N=2, F=3, H=7, L=3, h0=True),
    dict(name="rnn_tanh_bidir_batchfirst_h0", op="rnn", act="tanh", T=6, N=1, F=5, H=3, bidi=True, bf=True, h0=True),
    dict(name="rnn_tanh_bidir_layers2", op="rnn", act="tanh", T=3, N=3, F=2, H=4, L=2, bidi=True),
    dict(name="rnn_tanh_nobias_batchfirst_h0", op="rnn", act="tanh", T=7, N=2, F=3, H=3, L=2, bf=True, bias=False, h0=True),
    # rnn, relu
    dict(name="rnn_relu_single_h0", op="rnn", act="relu", T=5, N=2, F=3, H=6, h0=True),
    dict(name="rnn_relu_layers2", op="rnn", act="relu", T=4, N=3, F=5, H=3, L=2),
    dict(name="rnn_relu_bidir_layers3_batchfirst_h0", op="rnn", act="relu", T=3, N=2, F=4, H=5, L=3, bidi=True, bf=True, h0=True),
    dict(name="rnn_relu_nobias_bidir", op="rnn", act="relu", T=6, N=1, F=3, H=4, bidi=True, bias=False),
    # lstm
    dict(name="lstm_single", op="lstm", T=5, N=3, F=4, H=5),
    dict(name="lstm_layers3_h0c0", op="lstm", T=4, N=2, F=3, H=7, L=3, h0=True, c0=True),
    dict(name="lstm_bidir_batchfirst_h0c0", op="lstm", T=6, N=1, F=5, H=3, bidi=True, bf=True, h0=True, c0=True),
    dict(name="lstm_bidir_layers2", op="lstm", T=3, N=3, F=2, H=4, L=2, bidi=True),
    dict(name="lstm_nobias_batchfirst_h0c0", op="lstm", T=7, N=2, F=3, H=3, L=2, bf=True, bias=False, h0=True, c0=True),
    dict(name="lstm_h0_only", op="lstm", T=4, N=2, F=3, H=5, h0=True),
    dict(name="lstm_c0_only_bidir", op="lstm", T=3, N=2, F=4, H=3, bidi=True, c0=True),
    # gru, PyTorch form
    dict(name="gru_single", op="gru", T=5, N=3, F=4, H=5),
    dict(name="gru_layers3_h0", op="gru", T=4, N=2, F=3, H=7, L=3, h0=True),
    dict(name="gru_bidir_batchfirst_h0", op="gru", T=6, N=1, F=5, H=3, bidi=True, bf=True, h0=True),
    dict(name="gru_bidir_layers2", op="gru", T=3, N=3, F=2, H=4, L=2, bidi=True),
    dict(name="gru_nobias_batchfirst_h0", op="gru", T=7, N=2, F=3, H=3, L=2, bf=True, bias=False, h0=True),
    # gru, ONNX form (linear_before_reset=false), from gru_reference
    dict(name="gru_onnx_single_h0", op="gru", T=5, N=2, F=3, H=4, h0=True, lbr=False),
    dict(name="gru_onnx_bidir_layers2_batchfirst", op="gru", T=4, N=3, F=2, H=5, L=2, bidi=True, bf=True, lbr=False),
]


def param_names(layers, bidi, bias):
    """ir.RNNParamNames: weight order of the ir inputs."""
    names = []
    for l in range(layers):
        for d in range(2 if bidi else 1):
            suf = "_l%d" % l + ("_reverse" if d == 1 else "")
            names += ["weight_ih" + suf, "weight_hh" + suf]
            if bias:
                names += ["bias_ih" + suf, "bias_hh" + suf]
    return names


def gru_reference(x, h0, params, H, layers, bidi, batch_first, bias, lbr):
    """Explicit float64 GRU over the whole sequence (see the module doc).

    x is [T, N, F] (or [N, T, F] with batch_first), h0 [layers*dirs, N, H],
    params maps state_dict names to float64 arrays. Returns y and h_n.
    """
    if batch_first:
        x = x.transpose(1, 0, 2)
    T, N, _ = x.shape
    D = 2 if bidi else 1
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))
    seq = x
    hn = np.zeros((layers * D, N, H))
    for l in range(layers):
        out = np.zeros((T, N, D * H))
        for d in range(D):
            suf = "_l%d" % l + ("_reverse" if d == 1 else "")
            w_ih, w_hh = params["weight_ih" + suf], params["weight_hh" + suf]
            b_ih = params["bias_ih" + suf] if bias else np.zeros(3 * H)
            b_hh = params["bias_hh" + suf] if bias else np.zeros(3 * H)
            h = h0[l * D + d].copy()
            steps = range(T - 1, -1, -1) if d == 1 else range(T)
            for t in steps:
                gi = seq[t] @ w_ih.T + b_ih  # [N, 3H]: blocks r, z, n
                gh = h @ w_hh.T + b_hh
                r = sig(gi[:, :H] + gh[:, :H])
                z = sig(gi[:, H:2 * H] + gh[:, H:2 * H])
                if lbr:
                    n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
                else:
                    n = np.tanh(gi[:, 2 * H:] + (r * h) @ w_hh[2 * H:].T + b_hh[2 * H:])
                h = (1 - z) * n + z * h
                out[t, :, d * H:(d + 1) * H] = h
            hn[l * D + d] = h
        seq = out
    if batch_first:
        seq = seq.transpose(1, 0, 2)
    return seq, hn


def write_safetensors(path, tensors, metadata):
    """Write F32 tensors (name -> numpy array) and string metadata."""
    header = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        data = np.ascontiguousarray(tensors[name], dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def make(case, seed):
    op, T, N, F, H = case["op"], case["T"], case["N"], case["F"], case["H"]
    L, bidi, bf, bias = case.get("L", 1), case.get("bidi", False), case.get("bf", False), case.get("bias", True)
    lbr = case.get("lbr", True)
    D = 2 if bidi else 1
    torch.manual_seed(seed)
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[op]
    kw = dict(input_size=F, hidden_size=H, num_layers=L, bias=bias, batch_first=bf, bidirectional=bidi)
    if op == "rnn":
        kw["nonlinearity"] = case["act"]
    model = cls(**kw)  # float32 weights, PyTorch's default init
    x = torch.randn(N, T, F) if bf else torch.randn(T, N, F)
    h0 = torch.randn(L * D, N, H) if case.get("h0") else None
    c0 = torch.randn(L * D, N, H) if case.get("c0") else None

    names = param_names(L, bidi, bias)
    sd = model.state_dict()
    assert list(sd.keys()) == names, (list(sd.keys()), names)
    tensors = {"x": x.numpy()}
    for k in names:
        tensors[k] = sd[k].numpy()
    if h0 is not None:
        tensors["h0"] = h0.numpy()
    if c0 is not None:
        tensors["c0"] = c0.numpy()

    # Expected outputs in float64 from the same float32 values; an absent
    # state is zeros, as in the ir.
    model = model.double()
    zeros = torch.zeros(L * D, N, H, dtype=torch.float64)
    hd = h0.double() if h0 is not None else zeros
    cd = c0.double() if c0 is not None else zeros
    with torch.no_grad():
        if op == "lstm":
            y, (hn, cn) = model(x.double(), (hd, cd))
        else:
            y, hn = model(x.double(), hd)
    y, hn = y.numpy(), hn.numpy()
    if op == "gru":
        p64 = {k: v.astype(np.float64) for k, v in tensors.items()}
        ry, rh = gru_reference(x.double().numpy(), hd.numpy(), p64, H, L, bidi, bf, bias, True)
        assert np.abs(ry - y).max() < 1e-12 and np.abs(rh - hn).max() < 1e-12, case["name"]
        if not lbr:
            y2, hn2 = gru_reference(x.double().numpy(), hd.numpy(), p64, H, L, bidi, bf, bias, False)
            assert np.abs(y2 - y).max() > 1e-3, "the ONNX form should differ from PyTorch's"
            y, hn = y2, hn2
    tensors["y"] = y.astype(np.float32)
    tensors["h"] = hn.astype(np.float32)
    outputs = ["y", "h"]
    if op == "lstm":
        tensors["c"] = cn.numpy().astype(np.float32)
        outputs.append("c")

    attrs = dict(hidden_size=H, num_layers=L, bidirectional=bidi, batch_first=bf, bias=bias)
    if op == "rnn":
        attrs["nonlinearity"] = case["act"]
    if op == "gru":
        attrs["linear_before_reset"] = lbr
    inputs = ["x", "h0" if h0 is not None else None]
    if op == "lstm":
        inputs.append("c0" if c0 is not None else None)
    inputs += names
    metadata = {
        "op": op,
        "attrs": json.dumps(attrs, sort_keys=True),
        "inputs": json.dumps(inputs),
        "outputs": json.dumps(outputs),
    }
    write_safetensors(os.path.join(OUT, case["name"] + ".safetensors"), tensors, metadata)


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    for i, case in enumerate(CASES):
        make(case, 1000 + i)
        print(case["name"])


if __name__ == "__main__":
    main()

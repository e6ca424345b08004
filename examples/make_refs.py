"""Recompute every example's ref/output*.npy exactly: the trained model
(weights.safetensors) in float64, rounded once to float32.

    /usr/bin/python3 examples/make_refs.py

train.py writes PyTorch's float32 outputs, whose own rounding error on
near-zero logits can exceed the test's bound 1e-6 + 1e-5*|want| (a logit
near zero is a difference of terms as large as the other logits). This
script rebuilds each model class from its train.py (nothing is retrained),
loads the weights, converts the model to float64 (float inputs float32 ->
float64; token ids stay int64), runs ref/input*.npy in eval mode and writes
ref/output*.npy as the float64 result rounded to float32, so the reference
is the correctly rounded output of the model. It prints, per file, the
largest difference from the previous output*.npy.
"""
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from safetensors_io import read_safetensors  # noqa: E402

# example folder -> model class in its train.py
EXAMPLES = [
    ("mnist_mlp", "MLP"),
    ("lenet5", "LeNet5"),
    ("lstm_text", "LSTMText"),
    ("vgg_bn", "VGGBN"),
    ("resnet_small", "ResNetSmall"),
    ("vit_mnist", "ViT"),
]


def load_model(name, cls):
    folder = os.path.join(HERE, name)
    spec = importlib.util.spec_from_file_location("train_" + name, os.path.join(folder, "train.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # training is under __main__: only definitions run
    model = getattr(mod, cls)()
    tensors, _ = read_safetensors(os.path.join(folder, "weights.safetensors"))
    state = {k: torch.from_numpy(v) for k, v in tensors.items()}
    model.load_state_dict(state, strict=True)
    model.double()
    model.eval()
    return model


def main():
    torch.set_num_threads(2)
    for name, cls in EXAMPLES:
        model = load_model(name, cls)
        ref = os.path.join(HERE, name, "ref")
        for fn in sorted(os.listdir(ref)):
            if not (fn.startswith("input") and fn.endswith(".npy")):
                continue
            x = np.load(os.path.join(ref, fn))
            xt = torch.from_numpy(x)
            if xt.is_floating_point():
                assert xt.dtype == torch.float32, (name, fn, xt.dtype)
                xt = xt.double()
            else:
                assert xt.dtype == torch.int64, (name, fn, xt.dtype)
            with torch.no_grad():
                y64 = model(xt)
            assert y64.dtype == torch.float64
            y = np.ascontiguousarray(y64.numpy().astype(np.float32))
            out = os.path.join(ref, fn.replace("input", "output", 1))
            old = np.load(out) if os.path.exists(out) else None
            np.save(out, y)
            if old is None:
                print("%s/ref/%s: written (no previous file)" % (name, os.path.basename(out)))
                continue
            assert old.shape == y.shape and old.dtype == y.dtype, (out, old.shape, old.dtype)
            d = np.abs(old.astype(np.float64) - y.astype(np.float64))
            i = np.unravel_index(np.argmax(d), d.shape)
            ulp = np.spacing(np.abs(y[i])).astype(np.float64)
            print("%s/ref/%s %s: max |new-old| = %.3g at %s (new %.9g, old %.9g; %.1f float32 ulps there), %d of %d values changed"
                  % (name, os.path.basename(out), y.shape, d[i], i, y[i], old[i], d[i] / ulp,
                     int(np.count_nonzero(d)), d.size))


if __name__ == "__main__":
    main()

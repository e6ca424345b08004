"""Shared helpers for the dlc example training scripts."""
import os
import random

import numpy as np
import torch


def setup(seed=0):
    torch.set_num_threads(2)
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def save_ref(folder, name, x, model):
    """Save x (numpy) as ref/<name>.npy and the eval-mode model's float32
    output for it as ref/<name with input->output>.npy. Returns the output.

    Also reports the float32 rounding error of PyTorch itself (against the
    same model run in float64) relative to the tolerance the Go test uses,
    |got-want| <= 1e-6 + 1e-5*|want|."""
    ref = os.path.join(folder, "ref")
    os.makedirs(ref, exist_ok=True)
    model.eval()
    xt = torch.from_numpy(x)
    with torch.no_grad():
        y = model(xt).float().numpy()
        m64 = _double(model)
        y64 = m64(xt.double() if xt.is_floating_point() else xt).numpy()
    y = np.ascontiguousarray(y, dtype=np.float32)
    np.save(os.path.join(ref, name + ".npy"), np.ascontiguousarray(x))
    # The reference is the float64 result rounded once to float32 (as
    # make_refs.py writes it): PyTorch's own float32 rounding would eat
    # most of the tests' 1e-6 + 1e-5|want| bound on near-zero logits.
    np.save(os.path.join(ref, name.replace("input", "output") + ".npy"), y64.astype(np.float32))
    err = np.abs(y.astype(np.float64) - y64)
    scale = max(1.0, float(np.abs(y64).max()))
    ratio = np.max(err / (1e-6 * scale + 1e-5 * np.abs(y64)))
    strict = np.max(err / (1e-6 + 1e-5 * np.abs(y64)))
    print("%s: input %s %s -> output %s; PyTorch float32 error / tolerance = %.3f (unscaled bound: %.3f)"
          % (name, x.dtype, x.shape, y.shape, ratio, strict))
    return y


def _double(model):
    import copy
    m = copy.deepcopy(model).double()
    m.eval()
    return m

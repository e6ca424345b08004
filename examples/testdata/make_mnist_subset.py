"""Write the first 1000 MNIST test images and labels as gzipped IDX files
(the format of the originals) for examples_test.go:

    /usr/bin/python3 examples/testdata/make_mnist_subset.py
"""
import gzip
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import mnist_data  # noqa: E402

N = 1000


def write_idx(path, arr):
    hdr = struct.pack(">HBB", 0, 0x08, arr.ndim) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    # mtime=0 keeps the output byte-for-byte reproducible.
    with open(path, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", compresslevel=9, mtime=0) as f:
        f.write(hdr + arr.astype("u1").tobytes())


x, y = mnist_data.load("test")
write_idx(os.path.join(HERE, "mnist-t10k-1000-images-idx3-ubyte.gz"), x[:N])
write_idx(os.path.join(HERE, "mnist-t10k-1000-labels-idx1-ubyte.gz"), y[:N])

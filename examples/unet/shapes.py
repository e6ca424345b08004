"""Synthetic shapes for examples/unet (main.go draws them the same way).

An image is 32x32 float32: background noise N(0, 0.1) plus one to three
filled shapes, each a disc (label 1) or an axis-aligned rectangle (label
2) of brightness 0.5 to 1.0 (possibly negative: the sign is random), drawn
in order so a later shape covers an earlier one.
"""
import numpy as np

SIZE = 32


def sample(rng):
    img = rng.normal(0, 0.1, (SIZE, SIZE)).astype(np.float32)
    lab = np.zeros((SIZE, SIZE), np.uint8)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    for _ in range(rng.integers(1, 4)):
        v = rng.uniform(0.5, 1.0) * rng.choice([-1.0, 1.0])
        if rng.random() < 0.5:
            cy, cx, r = rng.uniform(4, 28), rng.uniform(4, 28), rng.uniform(3, 8)
            m = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
            c = 1
        else:
            y0, x0 = rng.integers(0, 26), rng.integers(0, 26)
            h, w = rng.integers(4, 14), rng.integers(4, 14)
            m = (yy >= y0) & (yy < y0 + h) & (xx >= x0) & (xx < x0 + w)
            c = 2
        img[m] = v + img[m] * 0.5
        lab[m] = c
    return img, lab

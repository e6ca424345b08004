#!/usr/bin/python3
"""PyTorch reference fixtures for the sampling and signal ops
(ir/ops_sample.go, ir/ops_signal.go): grid_sample, affine_grid, col2im,
max_unpool, ...

Run with the system Python (torch 1.13, torchvision 0.14):

    /usr/bin/python3 runtime/testdata/gen_sample_fixtures.py

It writes runtime/testdata/fixtures/sample_<case>.safetensors in
gen_fixtures.py's format (that script leaves the sample_ files alone).
"""

import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_fixtures as gf  # noqa: E402
from gen_fixtures import Rand, case  # noqa: E402

PREFIX = "sample_"


def grid_sample():
    # 2-D: every mode, padding and alignment, the grid reaching past
    # [-1, 1] so that every padding mode is exercised.
    for mode, onnx_mode in (("bilinear", "linear"), ("nearest", "nearest"), ("bicubic", "cubic")):
        for pad in ("zeros", "border", "reflection"):
            for align in (False, True):
                name = "grid_sample_%s_%s_%d" % (onnx_mode, pad, align)
                r = Rand(name)
                x = r.randn(2, 3, 5, 7)
                g = r.rand(2, 4, 6, 2) * 3.2 - 1.6
                y = F.grid_sample(x, g, mode=mode, padding_mode=pad, align_corners=align)
                case(PREFIX + name, "grid_sample", [("x", x), ("grid", g)], [("y", y)],
                     {"mode": onnx_mode, "padding_mode": pad, "align_corners": align})
    # 3-D (torch has linear and nearest there); nearest grids avoid
    # exact halves, where torch 1.13 rounds away from zero (see
    # runtime/sample.go).
    for mode, onnx_mode in (("bilinear", "linear"), ("nearest", "nearest")):
        for pad in ("zeros", "border", "reflection"):
            name = "grid_sample_3d_%s_%s" % (onnx_mode, pad)
            r = Rand(name)
            x = r.randn(1, 2, 3, 4, 5)
            g = r.rand(1, 2, 3, 4, 3) * 3 - 1.5
            y = F.grid_sample(x, g, mode=mode, padding_mode=pad, align_corners=pad == "border")
            case(PREFIX + name, "grid_sample", [("x", x), ("grid", g)], [("y", y)],
                 {"mode": onnx_mode, "padding_mode": pad, "align_corners": pad == "border"})
    # NaN, ±Inf and -0 in x; a size-1 axis.
    name = "grid_sample_special"
    r = Rand(name)
    x = gf.with_special(r.randn(1, 2, 4, 1))
    g = r.rand(1, 3, 3, 2) * 2.4 - 1.2
    y = F.grid_sample(x, g, mode="bilinear", padding_mode="zeros", align_corners=False)
    case(PREFIX + name, "grid_sample", [("x", x), ("grid", g)], [("y", y)])


def affine_grid():
    for dims in ((2, 3, 5, 4), (2, 1, 3, 1, 4)):
        for align in (False, True):
            name = "affine_grid_%dd_%d" % (len(dims) - 2, align)
            r = Rand(name)
            k = len(dims) - 2
            th = r.randn(dims[0], k, k + 1)
            y = F.affine_grid(th, list(dims), align_corners=align)
            case(PREFIX + name, "affine_grid", [("theta", th)], [("grid", y)],
                 {"size": list(dims), "align_corners": align})


def col2im():
    for name, image, block, dil, pad, st in (
            ("col2im_basic", (5, 5), (2, 2), (1, 1), (0, 0), (1, 1)),
            ("col2im_all", (7, 6), (3, 2), (2, 1), (1, 2), (2, 3))):
        r = Rand(name)
        L = 1
        for i in range(2):
            L *= (image[i] + 2 * pad[i] - dil[i] * (block[i] - 1) - 1) // st[i] + 1
        x = r.randn(2, 3 * block[0] * block[1], L)
        y = F.fold(x, image, block, dilation=dil, padding=pad, stride=st)
        case(PREFIX + name, "col2im", [("x", x)], [("y", y)],
             {"image": list(image), "block": list(block), "dilations": list(dil),
              "pads": [pad[0], pad[1], pad[0], pad[1]], "strides": list(st)})


def max_unpool():
    name = "max_unpool_2d"
    r = Rand(name)
    x = r.randn(2, 3, 6, 8)
    p, idx = F.max_pool2d(x, 2, 2, return_indices=True)
    y = F.max_unpool2d(p, idx, 2, 2, output_size=(6, 8))
    # dlc's indices are flat over the whole tensor, as ONNX MaxPool's.
    flat = idx + (torch.arange(2 * 3).reshape(2, 3, 1, 1) * 48)
    case(PREFIX + name, "max_unpool", [("x", p), ("indices", flat)], [("y", y)], {"size": [6, 8]})


def as_pairs(z):
    """A complex tensor as its (re, im) pairs on a last axis of 2."""
    return torch.view_as_real(z).contiguous()


def dft():
    # Forward, inverse, onesided (rfft) and inverse onesided (irfft),
    # real and complex inputs, cut and zero-padded lengths, inner axes.
    r = Rand("dft_real"); x = gf.with_special(r.randn(3, 8, 1), 0.5)
    x[0, :4, 0] = torch.tensor([1.0, -0.0, 2.0, 3.0])  # no NaN or Inf: they spread over every bin
    case(PREFIX + "dft_real", "dft", [("x", x)], [("y", as_pairs(torch.fft.fft(x[..., 0], dim=1)))])
    r = Rand("dft_complex_axis0"); x = r.randn(7, 3, 2)
    z = torch.view_as_complex(x)
    case(PREFIX + "dft_complex_axis0", "dft", [("x", x)], [("y", as_pairs(torch.fft.fft(z, n=10, dim=0)))],
         {"axis": 0, "length": 10})
    r = Rand("dft_inverse"); x = r.randn(2, 9, 4, 2)
    z = torch.view_as_complex(x)
    case(PREFIX + "dft_inverse", "dft", [("x", x)], [("y", as_pairs(torch.fft.ifft(z, n=6, dim=1)))],
         {"axis": 1, "length": 6, "inverse": True})
    r = Rand("dft_rfft"); x = r.randn(2, 3, 11, 1)
    case(PREFIX + "dft_rfft", "dft", [("x", x)], [("y", as_pairs(torch.fft.rfft(x[..., 0], dim=2)))],
         {"axis": 2, "onesided": True})
    for n in (None, 9, 16):
        name = "dft_irfft_%s" % (n or "default")
        r = Rand(name); x = r.randn(2, 6, 3, 2)
        z = torch.view_as_complex(x)
        y = torch.fft.irfft(z, n=n, dim=1).unsqueeze(-1)
        attrs = {"axis": 1, "inverse": True, "onesided": True}
        if n:
            attrs["length"] = n
        case(PREFIX + name, "dft", [("x", x)], [("y", y)], attrs)


def nms():
    # torchvision.ops.nms per batch and class on [y1, x1, y2, x2] boxes
    # (ONNX's order), scores above a threshold, at most max_per_class.
    import torchvision
    for name, B, C, S, mx, iou, thr in (("nms_threshold", 2, 3, 12, 4, 0.3, 0.2),
                                        ("nms_all", 1, 2, 9, 9, 0.5, None)):
        r = Rand(name)
        lo = r.rand(B, S, 2) * 4
        boxes = torch.cat([lo, lo + 0.5 + r.rand(B, S, 2) * 2], 2)  # y1, x1, y2, x2
        scores = r.rand(B, C, S)
        rows = []
        for b in range(B):
            xyxy = boxes[b][:, [1, 0, 3, 2]]
            for c in range(C):
                idx = torch.arange(S) if thr is None else torch.nonzero(scores[b, c] > thr)[:, 0]
                keep = torchvision.ops.nms(xyxy[idx], scores[b, c, idx], iou)[:mx]
                rows += [[b, c, int(idx[k])] for k in keep]
        sel = torch.full((B * C * min(mx, S), 3), -1, dtype=torch.int64)
        sel[:len(rows)] = torch.tensor(rows, dtype=torch.int64)
        attrs = {"max_per_class": mx, "iou_threshold": iou}
        if thr is not None:
            attrs.update(score_threshold=thr, use_score_threshold=True)
        case(PREFIX + name, "nms", [("boxes", boxes), ("scores", scores)],
             [("selected", sel), ("count", torch.tensor(len(rows), dtype=torch.int64))], attrs)


def det():
    r = Rand("det_batch"); x = r.randn(2, 3, 4, 4)
    x[0, 1] = x[0, 1][[2, 0, 3, 1]]  # row swaps
    x[1, 0, :, 2] = 0  # a singular matrix
    case(PREFIX + "det_batch", "det", [("x", x)], [("y", torch.linalg.det(x))])
    r = Rand("det_1x1"); x = r.randn(3, 1, 1)
    case(PREFIX + "det_1x1", "det", [("x", x)], [("y", torch.linalg.det(x))])
    r = Rand("det_2d"); x = r.randn(5, 5)
    case(PREFIX + "det_2d", "det", [("x", x)], [("y", torch.linalg.det(x))])


def roi_align():
    # torchvision.ops.roi_align (average), aligned or not, adaptive and
    # fixed sampling, regions partly outside the image.
    import torchvision
    r = Rand("roi_align")
    x = r.randn(2, 3, 8, 10)
    rois = torch.tensor([[0.5, 1.0, 6.2, 5.5], [-2.0, -1.0, 4.0, 3.0], [3.0, 2.0, 12.0, 9.5], [1.0, 1.0, 1.2, 1.1]])
    bi = torch.tensor([0, 1, 1, 0], dtype=torch.int64)
    boxes = torch.cat([bi[:, None].float(), rois], 1)
    for aligned in (False, True):
        for sr, scale in ((0, 1.0), (2, 0.5)):
            name = "roi_align_%d_%d" % (aligned, sr)
            y = torchvision.ops.roi_align(x, boxes, (3, 4), spatial_scale=scale, sampling_ratio=sr, aligned=aligned)
            case(PREFIX + name, "roi_align", [("x", x), ("rois", rois), ("batch_indices", bi)], [("y", y)],
                 {"output_height": 3, "output_width": 4, "sampling_ratio": sr, "spatial_scale": scale, "half_pixel": aligned})


def deform_conv():
    # torchvision.ops.deform_conv2d: offsets reaching outside the image,
    # strides, pads, dilations, weight and offset groups, mask and bias.
    import torchvision
    for name, C, M, G, OG, k, st, pad, dil, mask, bias in (
            ("deform_conv_basic", 2, 3, 1, 1, (3, 3), (1, 1), (1, 1), (1, 1), False, True),
            ("deform_conv_groups", 4, 6, 2, 2, (2, 3), (2, 1), (0, 2), (2, 1), True, True),
            ("deform_conv_mask", 3, 2, 1, 3, (2, 2), (1, 2), (1, 0), (1, 1), True, False)):
        r = Rand(name)
        x = r.randn(2, C, 6, 7)
        w = r.randn(M, C // G, *k)
        oh = (6 + 2 * pad[0] - dil[0] * (k[0] - 1) - 1) // st[0] + 1
        ow = (7 + 2 * pad[1] - dil[1] * (k[1] - 1) - 1) // st[1] + 1
        off = r.randn(2, OG * 2 * k[0] * k[1], oh, ow, scale=2.0)
        b = r.randn(M) if bias else None
        m = r.rand(2, OG * k[0] * k[1], oh, ow) if mask else None
        # In float64, rounded once: torch's float32 im2col GEMM loses
        # ~1e-6 on outputs near 0 that dlc's float64 sums keep.
        d = lambda t: None if t is None else t.double()  # noqa: E731
        y = torchvision.ops.deform_conv2d(x.double(), off.double(), w.double(), d(b), stride=st, padding=pad,
                                          dilation=dil, mask=d(m)).float()
        ins = [("x", x), ("weight", w), ("offset", off), ("bias", b) if bias else None, ("mask", m) if mask else None]
        case(PREFIX + name, "deform_conv", ins, [("y", y)],
             {"strides": list(st), "pads": [pad[0], pad[1], pad[0], pad[1]], "dilations": list(dil), "groups": G, "offset_groups": OG})


def main():
    torch.set_grad_enabled(False)
    torch.set_num_threads(1)
    grid_sample()
    affine_grid()
    col2im()
    max_unpool()
    dft()
    nms()
    det()
    roi_align()
    deform_conv()
    os.makedirs(gf.OUT, exist_ok=True)
    for f in os.listdir(gf.OUT):
        if f.startswith(PREFIX) and f.endswith(".safetensors"):
            os.remove(os.path.join(gf.OUT, f))
    total = 0
    for name, tensors, meta in gf.CASES:
        assert name.startswith(PREFIX), name
        path = os.path.join(gf.OUT, name + ".safetensors")
        gf.write_safetensors(path, tensors, meta)
        total += os.path.getsize(path)
    print("wrote %d cases, %d bytes, to %s" % (len(gf.CASES), total, gf.OUT))


if __name__ == "__main__":
    main()

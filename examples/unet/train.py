"""Train the small U-Net of examples/unet to segment synthetic shapes.

    /usr/bin/python3 examples/unet/train.py

Each 32x32 image holds one to three filled shapes, discs and rectangles, of
random size, position and brightness on a noisy background (shapes.py, the
same recipe as main.go's). The label of a pixel is 0 (background), 1 (disc)
or 2 (rectangle); a later shape covers an earlier one. The network is
milesial/Pytorch-UNet's UNet (DoubleConv, Down, Up with ConvTranspose2d,
OutConv, and its state_dict names) with 8 base channels and three levels.
Writes weights.safetensors and ref.safetensors (inputs "in.x" and the
float64 outputs "out.logits" rounded to float32, for examples/targets_test.go).
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import refutil  # noqa: E402
import shapes  # noqa: E402
from safetensors_io import write_safetensors  # noqa: E402

STEPS, BATCH, LR = 400, 16, 3e-3


class DoubleConv(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.double_conv = nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

    def forward(self, x):
        return self.double_conv(x)


class Down(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(cin, cout))

    def forward(self, x):
        return self.maxpool_conv(x)


class Up(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.up = nn.ConvTranspose2d(cin, cin // 2, kernel_size=2, stride=2)
        self.conv = DoubleConv(cin, cout)

    def forward(self, x1, x2):
        return self.conv(torch.cat([x2, self.up(x1)], dim=1))


class UNet(nn.Module):
    def __init__(self, n_channels=1, n_classes=3, base=8):
        super().__init__()
        self.inc = DoubleConv(n_channels, base)
        self.down1 = Down(base, 2 * base)
        self.down2 = Down(2 * base, 4 * base)
        self.down3 = Down(4 * base, 8 * base)
        self.up1 = Up(8 * base, 4 * base)
        self.up2 = Up(4 * base, 2 * base)
        self.up3 = Up(2 * base, base)
        self.outc = nn.Conv2d(base, n_classes, kernel_size=1)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x4 = self.down3(x3)
        x = self.up1(x4, x3)
        x = self.up2(x, x2)
        x = self.up3(x, x1)
        return self.outc(x)


def batch(rng, n):
    xs, ys = zip(*(shapes.sample(rng) for _ in range(n)))
    return torch.from_numpy(np.stack(xs)[:, None]), torch.from_numpy(np.stack(ys).astype(np.int64))


def evaluate(model, x, y):
    model.eval()
    with torch.no_grad():
        p = model(x).argmax(1)
    acc = (p == y).float().mean().item()
    ious = []
    for c in range(3):
        inter = ((p == c) & (y == c)).sum().item()
        union = ((p == c) | (y == c)).sum().item()
        ious.append(inter / max(union, 1))
    return acc, ious


def main():
    refutil.setup(0)
    torch.set_num_threads(1)  # two busy-waiting threads make no progress on a loaded machine
    rng = np.random.default_rng(1)
    model = UNet()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=STEPS)
    t0 = time.time()
    model.train()
    for step in range(STEPS):
        x, y = batch(rng, BATCH)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if (step + 1) % 50 == 0:
            print("step %d/%d: loss %.4f (%.0fs)" % (step + 1, STEPS, loss.item(), time.time() - t0), flush=True)
    xt, yt = batch(np.random.default_rng(2), 500)
    acc, ious = evaluate(model, xt, yt)
    print("held-out 500 images: pixel accuracy %.2f%%, IoU background %.3f disc %.3f rectangle %.3f"
          % (100 * acc, *ious))
    write_safetensors(os.path.join(HERE, "weights.safetensors"), model.state_dict(),
                      {"model": "unet", "pixel_accuracy": "%.4f" % acc})
    x = xt[:2]
    m64 = refutil._double(model)
    with torch.no_grad():
        out = m64(x.double()).float()
    write_safetensors(os.path.join(HERE, "ref.safetensors"), {"in.x": x, "out.logits": out})


if __name__ == "__main__":
    main()

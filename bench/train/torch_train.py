#!/usr/bin/python3
"""PyTorch baseline for `dlc train`: the same models (examples/mnist_mlp,
examples/lenet5), data (real MNIST from the Go module cache, normalized
as the examples do), batch, optimizer and learning rate, shuffled each
epoch, the last partial batch dropped as dlc train does, on one thread
by default. Prints one line per epoch: wall and CPU seconds of the
training (not the evaluation), train loss, test accuracy.

    /usr/bin/python3 bench/train/torch_train.py mlp|lenet5 [EPOCHS] [THREADS] [LIMIT]

LIMIT > 0 trains on the first LIMIT examples only (dlc train --limit), to
time part of an epoch on a busy machine.
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "examples"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import mnist_data  # noqa: E402

BATCH, LR = 64, 1e-3


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(784, 512), nn.Linear(512, 256), nn.Linear(256, 10)

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x.flatten(1))))))


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 6, 5, padding=2), nn.Conv2d(6, 16, 5)
        self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(x.flatten(1)))
        return self.fc3(F.relu(self.fc2(x)))


def main():
    which = sys.argv[1]
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    torch.manual_seed(1)
    xs, ys = mnist_data.load("train")
    xt, yt = mnist_data.load("test")
    limit = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    if limit > 0:
        xs, ys = xs[:limit], ys[:limit]
    x, y = torch.from_numpy(mnist_data.normalize(xs)).reshape(-1, 1, 28, 28), torch.from_numpy(ys)
    xt, yt = torch.from_numpy(mnist_data.normalize(xt)).reshape(-1, 1, 28, 28), torch.from_numpy(yt)
    model = MLP() if which == "mlp" else LeNet5()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    for ep in range(1, epochs + 1):
        model.train()
        perm = torch.randperm(len(x))
        t0, c0 = time.perf_counter(), time.process_time()
        total, steps = 0.0, len(x) // BATCH
        for s in range(steps):
            idx = perm[s * BATCH:(s + 1) * BATCH]
            opt.zero_grad()
            loss = F.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.item()
        sec, cpu = time.perf_counter() - t0, time.process_time() - c0
        model.eval()
        with torch.no_grad():
            acc = (model(xt).argmax(1) == yt).float().mean().item()
        print("torch %s epoch %d: %.1f s wall, %.1f s cpu, loss %.4f, test acc %.2f%%" % (
            which, ep, sec, cpu, total / steps, 100 * acc), flush=True)


if __name__ == "__main__":
    main()

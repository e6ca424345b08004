"""Train the 784-512-256-10 MLP of examples/mnist_mlp on real MNIST.

    /usr/bin/python3 examples/mnist_mlp/train.py

Writes weights.safetensors and ref/{input,output,input_b8,output_b8}.npy next
to this file. The network's input is the normalized image, flattened:
x = (pixel/255 - 0.1307) / 0.3081, shape [batch, 784].
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import mnist_data  # noqa: E402
import refutil  # noqa: E402
from safetensors_io import write_safetensors  # noqa: E402

EPOCHS, BATCH, LR = 3, 128, 1e-3


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 512)
        self.fc2 = nn.Linear(512, 256)
        self.fc3 = nn.Linear(256, 10)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def main():
    refutil.setup(0)
    xtr, ytr = mnist_data.load("train")
    xte, yte = mnist_data.load("test")
    xtr = torch.from_numpy(mnist_data.normalize(xtr).reshape(-1, 784))
    xte = torch.from_numpy(mnist_data.normalize(xte).reshape(-1, 784))
    ytr, yte = torch.from_numpy(ytr), torch.from_numpy(yte)

    model = MLP()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    t0 = time.time()
    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(len(xtr))
        total = 0.0
        for i in range(0, len(xtr), BATCH):
            idx = perm[i : i + BATCH]
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        model.eval()
        with torch.no_grad():
            acc = (model(xte).argmax(1) == yte).float().mean().item()
        print("epoch %d: train loss %.4f, test accuracy %.2f%% (%.0fs)" % (epoch + 1, total / len(xtr), 100 * acc, time.time() - t0))

    model.eval()
    with torch.no_grad():
        acc = (model(xte).argmax(1) == yte).float().mean().item()
        acc1000 = (model(xte[:1000]).argmax(1) == yte[:1000]).float().mean().item()
    print("final test accuracy: %.2f%% (10000 images); first 1000: %.1f%%" % (100 * acc, 100 * acc1000))
    write_safetensors(os.path.join(HERE, "weights.safetensors"), model.state_dict(),
                      {"model": "mnist_mlp", "test_accuracy": "%.4f" % acc})
    refutil.save_ref(HERE, "input", xte[:1].numpy(), model)
    refutil.save_ref(HERE, "input_b8", xte[:8].numpy(), model)


if __name__ == "__main__":
    main()

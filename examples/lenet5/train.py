"""Train LeNet-5 of examples/lenet5 on real MNIST.

    /usr/bin/python3 examples/lenet5/train.py

Writes weights.safetensors and ref/{input,output,input_b8,output_b8}.npy next
to this file. Input: normalized images [batch, 1, 28, 28],
x = (pixel/255 - 0.1307) / 0.3081.
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import mnist_data  # noqa: E402
import refutil  # noqa: E402
from safetensors_io import write_safetensors  # noqa: E402

EPOCHS, BATCH, LR = 2, 64, 2e-3


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def evaluate(model, x, y):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 1000):
            correct += (model(x[i : i + 1000]).argmax(1) == y[i : i + 1000]).sum().item()
    return correct / len(x)


def main():
    refutil.setup(0)
    xtr, ytr = mnist_data.load("train")
    xte, yte = mnist_data.load("test")
    xtr = torch.from_numpy(mnist_data.normalize(xtr)).unsqueeze(1)
    xte = torch.from_numpy(mnist_data.normalize(xte)).unsqueeze(1)
    ytr, yte = torch.from_numpy(ytr), torch.from_numpy(yte)

    model = LeNet5()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    steps = EPOCHS * ((len(xtr) + BATCH - 1) // BATCH)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=steps)
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
            sched.step()
            total += loss.item() * len(idx)
        acc = evaluate(model, xte, yte)
        print("epoch %d: train loss %.4f, test accuracy %.2f%% (%.0fs)" % (epoch + 1, total / len(xtr), 100 * acc, time.time() - t0))

    acc = evaluate(model, xte, yte)
    acc1000 = evaluate(model, xte[:1000], yte[:1000])
    print("final test accuracy: %.2f%% (10000 images); first 1000: %.1f%%" % (100 * acc, 100 * acc1000))
    write_safetensors(os.path.join(HERE, "weights.safetensors"), model.state_dict(),
                      {"model": "lenet5", "test_accuracy": "%.4f" % acc})
    refutil.save_ref(HERE, "input", xte[:1].numpy(), model)
    refutil.save_ref(HERE, "input_b8", xte[:8].numpy(), model)


if __name__ == "__main__":
    main()

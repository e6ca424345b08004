"""Shared training loop of the 32x32x3 examples (vgg_bn, resnet_small):
MNIST digits zero-padded to 32x32 and replicated to three channels, a short
Adam run with a one-cycle schedule, then eval mode (batch norm uses its
running statistics) for the test accuracy and the reference outputs."""
import os
import time

import torch
import torch.nn.functional as F

import mnist_data
import refutil
from safetensors_io import write_safetensors


def evaluate(model, x, y):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 500):
            correct += (model(x[i : i + 500]).argmax(1) == y[i : i + 500]).sum().item()
    return correct / len(x)


def train(model, name, here, steps, batch, lr):
    refutil.setup(0)
    xtr, ytr = mnist_data.load("train")
    xte, yte = mnist_data.load("test")
    xtr = torch.from_numpy(mnist_data.rgb32(xtr))
    xte = torch.from_numpy(mnist_data.rgb32(xte))
    ytr, yte = torch.from_numpy(ytr), torch.from_numpy(yte)

    torch.manual_seed(0)
    model = model()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    t0 = time.time()
    perm = torch.randperm(len(xtr))
    model.train()
    for step in range(steps):
        idx = perm[(step * batch) % len(xtr) :][:batch]
        loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if (step + 1) % 50 == 0:
            print("step %d/%d: loss %.4f (%.0fs)" % (step + 1, steps, loss.item(), time.time() - t0), flush=True)

    acc = evaluate(model, xte, yte)
    acc1000 = evaluate(model, xte[:1000], yte[:1000])
    print("final test accuracy (eval mode): %.2f%% (10000 images); first 1000: %.1f%%" % (100 * acc, 100 * acc1000))
    write_safetensors(os.path.join(here, "weights.safetensors"), model.state_dict(),
                      {"model": name, "test_accuracy": "%.4f" % acc})
    refutil.save_ref(here, "input", xte[:1].numpy(), model)
    refutil.save_ref(here, "input_b8", xte[:8].numpy(), model)

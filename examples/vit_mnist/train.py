"""Train the small Vision Transformer of examples/vit_mnist on real MNIST.

    /usr/bin/python3 examples/vit_mnist/train.py

28x28 digits cut into 16 patches of 7x7, embedded to 48 channels by a
strided convolution, a class token and a learned position embedding
(nn.Parameter), two pre-norm nn.TransformerEncoderLayer blocks (3 heads,
feed-forward 96, GELU), a final LayerNorm and a linear head on the class
token. Writes weights.safetensors and ref/{input,output,input_b8,output_b8}.npy.
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
from safetensors_io import read_safetensors, write_safetensors  # noqa: E402

DIM, HEADS, LAYERS, FF, PATCH = 48, 3, 2, 96, 7
EPOCHS, BATCH, LR = 3, 128, 3e-3


class ViT(nn.Module):
    def __init__(self):
        super().__init__()
        n = (28 // PATCH) ** 2
        self.patch_embed = nn.Conv2d(1, DIM, PATCH, stride=PATCH)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, DIM))
        self.pos_embed = nn.Parameter(torch.randn(1, n + 1, DIM) * 0.02)
        self.blocks = nn.ModuleList([
            nn.TransformerEncoderLayer(DIM, HEADS, dim_feedforward=FF, dropout=0.0, activation="gelu",
                                       batch_first=True, norm_first=True)
            for _ in range(LAYERS)])
        self.norm = nn.LayerNorm(DIM)
        self.head = nn.Linear(DIM, 10)

    def forward(self, x):
        p = self.patch_embed(x).flatten(2).transpose(1, 2)  # [N, 16, DIM]
        h = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), p], dim=1) + self.pos_embed
        for b in self.blocks:
            h = b(h)
        return self.head(self.norm(h[:, 0]))


def evaluate(model, x, y):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 500):
            correct += (model(x[i : i + 500]).argmax(1) == y[i : i + 500]).sum().item()
    return correct / len(x)


def main():
    # --more N: train N more epochs from weights.safetensors (AdamW, cosine
    # decay from 1e-3), for when the first run falls short.
    more = int(sys.argv[sys.argv.index("--more") + 1]) if "--more" in sys.argv else 0
    refutil.setup(1 if more else 0)
    torch.set_num_threads(1)  # two busy-waiting threads make no progress on a loaded machine
    xtr, ytr = mnist_data.load("train")
    xte, yte = mnist_data.load("test")
    xtr = torch.from_numpy(mnist_data.normalize(xtr)[:, None])
    xte = torch.from_numpy(mnist_data.normalize(xte)[:, None])
    ytr, yte = torch.from_numpy(ytr), torch.from_numpy(yte)
    torch.manual_seed(1 if more else 0)
    model = ViT()
    epochs = more or EPOCHS
    steps = epochs * (len(xtr) // BATCH)
    if more:
        tensors, _ = read_safetensors(os.path.join(HERE, "weights.safetensors"))
        model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()})
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.01)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=steps)
    t0 = time.time()
    step = 0
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(xtr))
        for i in range(len(xtr) // BATCH):
            idx = perm[i * BATCH : (i + 1) * BATCH]
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if step % 100 == 0:
                print("step %d/%d: loss %.4f (%.0fs)" % (step, steps, loss.item(), time.time() - t0), flush=True)
        print("epoch %d: accuracy on the first 1000 test images %.1f%%" % (epoch + 1, 100 * evaluate(model, xte[:1000], yte[:1000])), flush=True)
    acc = evaluate(model, xte, yte)
    acc1000 = evaluate(model, xte[:1000], yte[:1000])
    print("final test accuracy (eval mode): %.2f%% (10000 images); first 1000: %.1f%%; %.0fs"
          % (100 * acc, 100 * acc1000, time.time() - t0))
    write_safetensors(os.path.join(HERE, "weights.safetensors"), model.state_dict(),
                      {"model": "vit_mnist", "test_accuracy": "%.4f" % acc})
    refutil.save_ref(HERE, "input", xte[:1].numpy(), model)
    refutil.save_ref(HERE, "input_b8", xte[:8].numpy(), model)


if __name__ == "__main__":
    main()

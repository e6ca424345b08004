"""Train the LSTM sentiment classifier of examples/lstm_text on a tiny
synthetic language with negation.

    /usr/bin/python3 examples/lstm_text/train.py

The task (generated deterministically from a seed): a sentence is T=20 tokens
from a 17-word vocabulary: ten neutral filler words, three positive words
(good, great, fun), three negative words (bad, awful, boring) and "not".
Every sentiment word scores +1 or -1, flipped when the word right before it
is "not" ("not good" = -1, "not bad" = +1). The label is 1 (positive) when
the total score is > 0 and 0 (negative) when it is < 0; sentences scoring 0
are redrawn. Because of the negation, counting words is not enough: the
model has to remember the previous token.

Writes weights.safetensors and ref/{input,output,input_b8,output_b8}.npy
(token ids int64 [batch, 20] -> logits float32 [batch, 2]).
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

import refutil  # noqa: E402
from safetensors_io import write_safetensors  # noqa: E402

VOCAB = ["the", "movie", "was", "and", "it", "plot", "actors", "really", "very", "i",
         "good", "great", "fun", "bad", "awful", "boring", "not"]
POS, NEG, NOT = {10, 11, 12}, {13, 14, 15}, 16
T = 20
N_TRAIN, N_TEST = 16000, 2000
EPOCHS, BATCH, LR = 2, 64, 3e-3


def sentence(rng):
    while True:
        toks = []
        for _ in range(T):
            u = rng.random()
            if u < 0.12:
                toks.append(NOT)
            elif u < 0.32:
                toks.append(int(rng.integers(10, 16)))
            else:
                toks.append(int(rng.integers(0, 10)))
        score = 0
        for i, t in enumerate(toks):
            s = 1 if t in POS else -1 if t in NEG else 0
            if s and i > 0 and toks[i - 1] == NOT:
                s = -s
            score += s
        if score != 0:
            return toks, int(score > 0)


def dataset(n, seed):
    rng = np.random.default_rng(seed)
    xs, ys = zip(*(sentence(rng) for _ in range(n)))
    return torch.tensor(xs, dtype=torch.int64), torch.tensor(ys, dtype=torch.int64)


class LSTMText(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(len(VOCAB), 32)
        self.lstm = nn.LSTM(32, 64, num_layers=2, batch_first=True)
        self.fc = nn.Linear(64, 2)

    def forward(self, ids):
        y, (h, c) = self.lstm(self.emb(ids))
        return self.fc(h[-1])  # last layer's final hidden state


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def main():
    refutil.setup(0)
    xtr, ytr = dataset(N_TRAIN, 1)
    xte, yte = dataset(N_TEST, 2)
    print("positive fraction: train %.3f, test %.3f" % (ytr.float().mean(), yte.float().mean()))
    model = LSTMText()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    t0 = time.time()
    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(N_TRAIN)
        total = 0.0
        for i in range(0, N_TRAIN, BATCH):
            idx = perm[i : i + BATCH]
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            total += loss.item() * len(idx)
        print("epoch %d: train loss %.4f, held-out accuracy %.2f%% (%.0fs)"
              % (epoch + 1, total / N_TRAIN, 100 * accuracy(model, xte, yte), time.time() - t0))
    acc = accuracy(model, xte, yte)
    print("final held-out accuracy: %.2f%% (%d sentences)" % (100 * acc, N_TEST))
    write_safetensors(os.path.join(HERE, "weights.safetensors"), model.state_dict(),
                      {"model": "lstm_text", "test_accuracy": "%.4f" % acc})
    refutil.save_ref(HERE, "input", xte[:2].numpy(), model)
    refutil.save_ref(HERE, "input_b8", xte[:8].numpy(), model)
    for row in xte[:2].tolist():
        print(" ".join(VOCAB[t] for t in row))


if __name__ == "__main__":
    main()

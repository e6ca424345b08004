"""Train the VGG-style network with batch norm of examples/vgg_bn on MNIST
digits padded to 32x32 and replicated to 3 channels.

    /usr/bin/python3 examples/vgg_bn/train.py

Writes weights.safetensors and ref/{input,output,input_b8,output_b8}.npy.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import torch.nn as nn  # noqa: E402

import cnn32  # noqa: E402

STEPS, BATCH, LR = 300, 64, 3e-3


def stage(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
            nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
            nn.MaxPool2d(2)]


class VGGBN(nn.Module):
    def __init__(self):
        super().__init__()
        # features.0 conv, .1 bn, .2 relu, .3 conv, .4 bn, .5 relu, .6 pool, .7 conv ...
        self.features = nn.Sequential(*stage(3, 32), *stage(32, 64), *stage(64, 128))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        return self.fc(self.pool(self.features(x)).flatten(1))


if __name__ == "__main__":
    cnn32.train(VGGBN, "vgg_bn", HERE, STEPS, BATCH, LR)

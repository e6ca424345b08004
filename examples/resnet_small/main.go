// Command resnet_small classifies real MNIST test digits, padded to
// 32x32x3, with a small ResNet (basic blocks with residual adds at widths
// 16/32/64) that dlc compiled into the Go package ./resnet. The package
// imports only the standard library and carries its weights inside.
//
//	go run ./examples/resnet_small                 # the 1000 test digits shipped in examples/testdata
//	go run ./examples/resnet_small -mnist DIR      # a folder with t10k-images-idx3-ubyte.gz (GoMNIST's data/)
//
// Regenerate ./resnet after changing model.dl or the weights:
//
//	go generate ./examples/resnet_small
package main

// -threads 2: the larger convolutions run on two goroutines (bit-identical
// results; see dlc help compile).
//
//go:generate go run ../../cmd/dlc compile -threads 2 model.dl -o resnet

import (
	"github.com/dlcompiler/dlc/examples/internal/mnist"
	"github.com/dlcompiler/dlc/examples/resnet_small/resnet"
)

func main() {
	m := resnet.New()
	defer m.Close() // stops the Model's worker goroutine
	var in [resnet.InputSize]float32
	mnist.Main("resnet", resnet.WeightBytes, resnet.ScratchBytes, func(img *[784]byte) (int, float32, error) {
		mnist.RGB32(img, (*[3 * 32 * 32]float32)(in[:]))
		return m.Classify(&in)
	})
}

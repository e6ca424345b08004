// Command vit_mnist classifies real MNIST test digits with a small Vision
// Transformer (16 patches of 7x7, a class token, two pre-norm Transformer
// encoder layers) that dlc compiled into the Go package ./vit. The package
// imports only the standard library and carries its weights inside.
//
//	go run ./examples/vit_mnist                 # the 1000 test digits shipped in examples/testdata
//	go run ./examples/vit_mnist -mnist DIR      # a folder with t10k-images-idx3-ubyte.gz (GoMNIST's data/)
//
// Regenerate ./vit after changing model.dl or the weights:
//
//	go generate ./examples/vit_mnist
package main

//go:generate go run ../../cmd/dlc compile model.dl -o vit

import (
	"github.com/dlcompiler/dlc/examples/internal/mnist"
	"github.com/dlcompiler/dlc/examples/vit_mnist/vit"
)

func main() {
	m := vit.New()
	var in [vit.InputSize]float32
	mnist.Main("vit", vit.WeightBytes, vit.ScratchBytes, func(img *[784]byte) (int, float32, error) {
		mnist.Normalize(img, (*[784]float32)(in[:]))
		return m.Classify(&in)
	})
}

// Command mnist_mlp classifies real MNIST test digits with a 784-512-256-10
// perceptron that dlc compiled into the Go package ./mlp. The package
// imports only the standard library and carries its weights inside.
//
//	go run ./examples/mnist_mlp                 # the 1000 test digits shipped in examples/testdata
//	go run ./examples/mnist_mlp -mnist DIR      # a folder with t10k-images-idx3-ubyte.gz (GoMNIST's data/)
//
// Regenerate ./mlp after changing model.dl or the weights:
//
//	go generate ./examples/mnist_mlp
package main

//go:generate go run ../../cmd/dlc compile model.dl -o mlp

import (
	"github.com/dlcompiler/dlc/examples/internal/mnist"
	"github.com/dlcompiler/dlc/examples/mnist_mlp/mlp"
)

func main() {
	m := mlp.New()
	var in [mlp.InputSize]float32
	mnist.Main("mlp", mlp.WeightBytes, mlp.ScratchBytes, func(img *[784]byte) (int, float32, error) {
		mnist.Normalize(img, (*[784]float32)(in[:]))
		return m.Classify(&in)
	})
}

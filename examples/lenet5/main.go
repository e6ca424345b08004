// Command lenet5 classifies real MNIST test digits with LeNet-5 (two 5x5
// conv layers with max pooling, three dense layers) that dlc compiled into
// the Go package ./lenet5. The package imports only the standard library
// and carries its weights inside.
//
//	go run ./examples/lenet5                 # the 1000 test digits shipped in examples/testdata
//	go run ./examples/lenet5 -mnist DIR      # a folder with t10k-images-idx3-ubyte.gz (GoMNIST's data/)
//
// Regenerate ./lenet5 after changing model.dl or the weights:
//
//	go generate ./examples/lenet5
package main

//go:generate go run ../../cmd/dlc compile model.dl -o lenet5

import (
	"github.com/dlcompiler/dlc/examples/internal/mnist"
	"github.com/dlcompiler/dlc/examples/lenet5/lenet5"
)

func main() {
	m := lenet5.New()
	var in [lenet5.InputSize]float32
	mnist.Main("lenet5", lenet5.WeightBytes, lenet5.ScratchBytes, func(img *[784]byte) (int, float32, error) {
		mnist.Normalize(img, (*[784]float32)(in[:]))
		return m.Classify(&in)
	})
}

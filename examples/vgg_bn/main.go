// Command vgg_bn classifies real MNIST test digits, padded to 32x32x3,
// with a VGG-style network with batch norm (three stages of two 3x3 convs
// at widths 32/64/128) that dlc compiled into the Go package ./vgg. The
// package imports only the standard library and carries its weights inside.
//
//	go run ./examples/vgg_bn                 # the 1000 test digits shipped in examples/testdata
//	go run ./examples/vgg_bn -mnist DIR      # a folder with t10k-images-idx3-ubyte.gz (GoMNIST's data/)
//
// Regenerate ./vgg after changing model.dl or the weights:
//
//	go generate ./examples/vgg_bn
package main

//go:generate go run ../../cmd/dlc compile model.dl -o vgg

import (
	"github.com/dlcompiler/dlc/examples/internal/mnist"
	"github.com/dlcompiler/dlc/examples/vgg_bn/vgg"
)

func main() {
	m := vgg.New()
	var in [vgg.InputSize]float32
	mnist.Main("vgg", vgg.WeightBytes, vgg.ScratchBytes, func(img *[784]byte) (int, float32, error) {
		mnist.RGB32(img, (*[3 * 32 * 32]float32)(in[:]))
		return m.Classify(&in)
	})
}

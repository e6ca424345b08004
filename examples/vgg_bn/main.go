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
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/dlcompiler/dlc/examples/internal/mnist"
	"github.com/dlcompiler/dlc/examples/vgg_bn/vgg"
)

func main() {
	dir := flag.String("mnist", "", "folder with the MNIST test set IDX files (default: the shipped 1000-digit slice)")
	show := flag.Int("show", 3, "digits to draw with their predictions")
	flag.Parse()
	set, err := mnist.Load(*dir)
	if err != nil {
		log.Fatal(err)
	}
	m := vgg.New()
	fmt.Printf("vgg: %d weight bytes, %d scratch bytes\n", vgg.WeightBytes, vgg.ScratchBytes)
	var in [vgg.InputSize]float32
	mnist.Report(os.Stdout, set, *show, func(img *[784]byte) (int, float32) {
		mnist.RGB32(img, (*[3 * 32 * 32]float32)(in[:]))
		return m.Classify(&in)
	})
}

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

//go:generate go run ../../cmd/dlc compile model.dl -o resnet

import (
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/dlcompiler/dlc/examples/internal/mnist"
	"github.com/dlcompiler/dlc/examples/resnet_small/resnet"
)

func main() {
	dir := flag.String("mnist", "", "folder with the MNIST test set IDX files (default: the shipped 1000-digit slice)")
	show := flag.Int("show", 3, "digits to draw with their predictions")
	flag.Parse()
	set, err := mnist.Load(*dir)
	if err != nil {
		log.Fatal(err)
	}
	m := resnet.New()
	fmt.Printf("resnet: %d weight bytes, %d scratch bytes\n", resnet.WeightBytes, resnet.ScratchBytes)
	var in [resnet.InputSize]float32
	mnist.Report(os.Stdout, set, *show, func(img *[784]byte) (int, float32) {
		mnist.RGB32(img, (*[3 * 32 * 32]float32)(in[:]))
		return m.Classify(&in)
	})
}

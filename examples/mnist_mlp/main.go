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
	"flag"
	"fmt"
	"log"
	"time"

	"github.com/dlcompiler/dlc/examples/internal/mnist"
	"github.com/dlcompiler/dlc/examples/mnist_mlp/mlp"
)

func main() {
	dir := flag.String("mnist", "", "folder with the MNIST test set IDX files (default: the shipped 1000-digit slice)")
	show := flag.Int("show", 3, "digits to draw with their predictions")
	flag.Parse()
	set, err := mnist.Load(*dir)
	if err != nil {
		log.Fatal(err)
	}
	m := mlp.New()
	var in [mlp.InputSize]float32
	correct := 0
	start := time.Now()
	for i := range set.Images {
		mnist.Normalize(&set.Images[i], &in)
		class, prob := m.Classify(&in)
		if class == int(set.Labels[i]) {
			correct++
		}
		if i < *show {
			fmt.Printf("%sdigit %d: predicted %d (p=%.3f)\n\n", mnist.ASCII(&set.Images[i]), set.Labels[i], class, prob)
		}
	}
	elapsed := time.Since(start)
	n := len(set.Images)
	fmt.Printf("accuracy %.2f%% on %d MNIST test digits; %.1f µs per digit (%d weight bytes, %d scratch bytes)\n",
		100*float64(correct)/float64(n), n, float64(elapsed.Microseconds())/float64(n), mlp.WeightBytes, mlp.ScratchBytes)
}

// Command show draws test digits above their reconstructions by the
// trained autoencoder (../autoencoder.dl with the weights dlc train wrote beside
// it) into a PNG:
//
//	go run ./examples/mnist_autoencoder/show -o reconstructions.png
//
// It runs the model on dlc's reference interpreter: sixteen digits take a
// moment, and no package needs generating. The digits are the first of
// the MNIST test set shipped in examples/testdata.
package main

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"
	"os"

	"github.com/dlcompiler/dlc/examples/internal/mnist"
	"github.com/dlcompiler/dlc/frontend/dl"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/runtime"
)

const (
	n     = 16 // digits shown
	scale = 2  // screen pixels per image pixel
	gap   = 2  // pixels between the digits
)

func main() {
	model := flag.String("model", "examples/mnist_autoencoder/autoencoder.dl", "the autoencoder, its trained weights beside it")
	out := flag.String("o", "reconstructions.png", "the PNG `FILE` to write")
	flag.Parse()
	if err := run(*model, *out); err != nil {
		log.Fatal(err)
	}
}

func run(model, out string) error {
	g, err := dl.LoadFile(model, dl.Options{Set: map[string]int{"batch": n}})
	if err != nil {
		return err
	}
	set, err := mnist.Load("")
	if err != nil {
		return err
	}
	x := ir.NewTensor(ir.F32, ir.Shape{n, 784})
	for i := range n {
		mnist.Normalize(&set.Images[i], (*[784]float32)(x.F32()[i*784:]))
	}
	outs, err := runtime.Run(g, []*ir.Tensor{x})
	if err != nil {
		return err
	}
	img := image.NewGray(image.Rect(0, 0, n*(28*scale+gap)+gap, 2*(28*scale+gap)+gap))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for row, t := range []*ir.Tensor{x, outs[0]} {
		for i := range n {
			draw(img, t.F32()[i*784:(i+1)*784], gap+i*(28*scale+gap), gap+row*(28*scale+gap))
		}
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	fmt.Println("wrote", out)
	return f.Close()
}

// draw puts one normalized 28×28 image, dark ink on white, at (x0, y0).
func draw(img *image.Gray, v []float32, x0, y0 int) {
	for y := range 28 {
		for x := range 28 {
			p := (v[y*28+x]*0.3081 + 0.1307) * 255
			c := color.Gray{Y: 255 - uint8(max(0, min(255, p)))}
			for dy := range scale {
				for dx := range scale {
					img.SetGray(x0+x*scale+dx, y0+y*scale+dy, c)
				}
			}
		}
	}
}

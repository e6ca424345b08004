// Command unet segments synthetic shapes with a small U-Net (8 base
// channels, three levels, transposed-convolution upsampling and skip
// connections) that dlc compiled into the Go package ./unetpkg. Each 32x32
// image holds one to three discs and rectangles on a noisy background,
// drawn as examples/unet/shapes.py draws the training images; the network
// labels every pixel background, disc or rectangle. The package imports
// only the standard library and carries its weights inside.
//
//	go run ./examples/unet                 # 300 random images, 2 of them drawn
//	go run ./examples/unet -n 1000 -show 5 -seed 7
//
// Regenerate ./unetpkg after changing model.dl or the weights:
//
//	go generate ./examples/unet
package main

//go:generate go run ../../cmd/dlc compile model.dl -o unetpkg

import (
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"strings"

	"github.com/dlcompiler/dlc/examples/unet/unetpkg"
)

const size = 32

// sample draws an image and its labels (0 background, 1 disc, 2
// rectangle), as shapes.py does.
func sample(r *rand.Rand, img *[unetpkg.InputSize]float32, lab *[size * size]int) {
	for i := range img {
		img[i] = float32(r.NormFloat64() * 0.1)
		lab[i] = 0
	}
	for k := 1 + r.IntN(3); k > 0; k-- {
		v := 0.5 + 0.5*r.Float64()
		if r.IntN(2) == 0 {
			v = -v
		}
		disc := r.Float64() < 0.5
		cy, cx, rad := 4+24*r.Float64(), 4+24*r.Float64(), 3+5*r.Float64()
		y0, x0, h, w := r.IntN(26), r.IntN(26), 4+r.IntN(10), 4+r.IntN(10)
		for y := 0; y < size; y++ {
			for x := 0; x < size; x++ {
				dy, dx := float64(y)-cy, float64(x)-cx
				in, c := dy*dy+dx*dx <= rad*rad, 1
				if !disc {
					in, c = y >= y0 && y < y0+h && x >= x0 && x < x0+w, 2
				}
				if in {
					i := y*size + x
					img[i] = float32(v) + img[i]*0.5
					lab[i] = c
				}
			}
		}
	}
}

// segment labels each pixel with its largest logit.
func segment(out *[unetpkg.OutputSize]float32, pred *[size * size]int) {
	for i := range pred {
		best := 0
		for c := 1; c < 3; c++ {
			if out[c*size*size+i] > out[best*size*size+i] {
				best = c
			}
		}
		pred[i] = best
	}
}

func draw(img *[unetpkg.InputSize]float32, lab, pred *[size * size]int) string {
	var b strings.Builder
	b.WriteString(fmt.Sprintf("%-34s%-34s%s\n", "input", "truth", "dlc (. background, o disc, # rectangle)"))
	marks := []byte(".o#")
	for y := 0; y < size; y++ {
		row := make([]byte, 0, 3*size+4)
		for x := 0; x < size; x++ {
			v := img[y*size+x]
			switch {
			case v > 0.3:
				row = append(row, '+')
			case v < -0.3:
				row = append(row, '-')
			default:
				row = append(row, ' ')
			}
		}
		row = append(row, "  "...)
		for x := 0; x < size; x++ {
			row = append(row, marks[lab[y*size+x]])
		}
		row = append(row, "  "...)
		for x := 0; x < size; x++ {
			row = append(row, marks[pred[y*size+x]])
		}
		b.Write(row)
		b.WriteByte('\n')
	}
	return b.String()
}

func main() {
	n := flag.Int("n", 300, "images to segment")
	show := flag.Int("show", 2, "images to draw")
	seed := flag.Uint64("seed", 1, "random seed of the shapes")
	flag.Parse()
	r := rand.New(rand.NewPCG(*seed, 0))
	m := unetpkg.New()
	var img [unetpkg.InputSize]float32
	var out [unetpkg.OutputSize]float32
	var lab, pred [size * size]int
	var correct, inter, union [3]int
	total := 0
	for k := 0; k < *n; k++ {
		sample(r, &img, &lab)
		if err := m.Predict(&img, &out); err != nil {
			log.Fatal(err)
		}
		segment(&out, &pred)
		for i := range pred {
			p, t := pred[i], lab[i]
			if p == t {
				correct[t]++
				inter[t]++
				union[t]++
			} else {
				union[p]++
				union[t]++
			}
			total++
		}
		if k < *show {
			fmt.Println(draw(&img, &lab, &pred))
		}
	}
	fmt.Printf("%d images: pixel accuracy %.2f%%; IoU background %.3f, disc %.3f, rectangle %.3f\n", *n,
		100*float64(correct[0]+correct[1]+correct[2])/float64(total),
		float64(inter[0])/float64(max(union[0], 1)), float64(inter[1])/float64(max(union[1], 1)), float64(inter[2])/float64(max(union[2], 1)))
	fmt.Printf("weights %d bytes, scratch %d bytes\n", unetpkg.WeightBytes, unetpkg.ScratchBytes)
}

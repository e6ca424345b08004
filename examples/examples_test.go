package examples_test

// End-to-end checks of the example models: each model.dl is loaded with the
// .dl frontend (weights included), run by the reference interpreter on the
// inputs recorded by its train.py, and compared with PyTorch's outputs.
// The MNIST models are also scored by the interpreter on the first real
// MNIST test images (testdata/mnist-t10k-1000-*.gz, a slice of the original
// IDX files): 1000 for mnist_mlp and lenet5, 200 for the slower vgg_bn and
// resnet_small (all 1000 with -examples.all, 100 with -short). A model whose
// ops the interpreter cannot run yet is skipped, naming the op.

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/frontend/dl"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/runtime"
	"github.com/dlcompiler/dlc/weights"
)

// Input layouts of the models scored on MNIST.
const (
	noMNIST  = iota
	flat784  // [N, 784], normalized
	img28    // [N, 1, 28, 28], normalized
	img32rgb // [N, 3, 32, 32]: zero-padded by 2 pixels, normalized, gray replicated to 3 channels
)

var examples = []struct {
	name   string
	mnist  int
	images int     // MNIST test images to score (all 1000 with -examples.all)
	minAcc float64 // accuracy the interpreter must reach on them
}{
	{"mnist_mlp", flat784, 1000, 0.97},
	{"lenet5", img28, 1000, 0.97},
	{"lstm_text", noMNIST, 0, 0},
	// The interpreter needs about 0.1 s per image for these two.
	{"vgg_bn", img32rgb, 200, 0.97},
	{"resnet_small", img32rgb, 200, 0.97},
	{"vit_mnist", img28, 1000, 0.97},
}

var allImages = flag.Bool("examples.all", false, "score every model on all 1000 MNIST test images in testdata")

// Tolerance against PyTorch: |got-want| <= absTol + relTol*|want|, the
// project's "relative 1e-5, absolute 1e-6 near zero". The references are
// exact: make_refs.py runs each trained model in float64 and rounds the
// result once to float32, so PyTorch's own float32 rounding (which exceeds
// this bound on some near-zero logits) is not part of what is compared.
const (
	absTol = 1e-6
	relTol = 1e-5
)

func load(t *testing.T, name string, batch int) *ir.Graph {
	t.Helper()
	opt := dl.Options{}
	if batch != 1 { // batch 1 is every model's default: exercise it unset
		opt.Set = map[string]int{"batch": batch}
	}
	g, err := dl.LoadFile(filepath.Join(name, "model.dl"), opt)
	if err != nil {
		t.Fatalf("load %s/model.dl (batch %d): %v", name, batch, err)
	}
	for _, n := range g.Nodes {
		if !runtime.HasKernel(n.Op) {
			t.Skipf("the interpreter has no kernel for op %q (node %s) yet", n.Op, n.Name)
		}
	}
	return g
}

func readNpy(t *testing.T, path string) *ir.Tensor {
	t.Helper()
	w, err := weights.ReadNpy(path)
	if err != nil {
		t.Fatal(err)
	}
	return toIR(t, w)
}

func toIR(t *testing.T, w *weights.Tensor) *ir.Tensor {
	t.Helper()
	x := &ir.Tensor{Shape: ir.Shape(append([]int(nil), w.Shape...)), DType: w.DType, Data: w.Data}
	switch w.DType {
	case weights.F32:
		x.DType = ir.F32
	case weights.I64:
		x.DType = ir.I64
	default:
		t.Fatalf("unexpected dtype %v", w.DType)
	}
	return x
}

func TestExamplesAgainstPyTorch(t *testing.T) {
	for _, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			if _, err := os.Stat(filepath.Join(ex.name, "model.dl")); err != nil {
				t.Skipf("%s not written yet", ex.name)
			}
			ins, err := filepath.Glob(filepath.Join(ex.name, "ref", "input*.npy"))
			if err != nil || len(ins) == 0 {
				t.Fatalf("no reference inputs in %s/ref", ex.name)
			}
			for _, inPath := range ins {
				outPath := filepath.Join(filepath.Dir(inPath), strings.Replace(filepath.Base(inPath), "input", "output", 1))
				t.Run(filepath.Base(inPath), func(t *testing.T) {
					in := readNpy(t, inPath)
					want := readNpy(t, outPath)
					g := load(t, ex.name, in.Shape[0])
					outs, err := runtime.Run(g, []*ir.Tensor{in})
					if err != nil {
						t.Fatal(err)
					}
					compare(t, outs[0], want)
				})
			}
		})
	}
}

func compare(t *testing.T, got, want *ir.Tensor) {
	t.Helper()
	if !got.Type().Equal(want.Type()) {
		t.Fatalf("output is %v, PyTorch's is %v", got.Type(), want.Type())
	}
	bad, worst, worstAt := 0, 0.0, 0
	for i, w := range want.F32() {
		d := math.Abs(float64(got.F32()[i]) - float64(w))
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		r := d / (absTol + relTol*math.Abs(float64(w)))
		if r > 1 {
			bad++
		}
		if r > worst {
			worst, worstAt = r, i
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d outputs differ from PyTorch beyond %g+%g*|want|; worst at %d: got %g, want %g (%.2f× the tolerance)",
			bad, len(want.F32()), absTol, relTol, worstAt, got.F32()[worstAt], want.F32()[worstAt], worst)
	} else {
		t.Logf("largest difference is %.3f× the tolerance %g+%g*|want|", worst, absTol, relTol)
	}
}

func TestMNISTAccuracy(t *testing.T) {
	images := readIDX(t, "testdata/mnist-t10k-1000-images-idx3-ubyte.gz", 3)
	labels := readIDX(t, "testdata/mnist-t10k-1000-labels-idx1-ubyte.gz", 1)
	const batch = 100
	for _, ex := range examples {
		if ex.mnist == noMNIST {
			continue
		}
		n := ex.images
		switch {
		case *allImages:
			n = len(labels)
		case testing.Short():
			n = batch
		}
		t.Run(ex.name, func(t *testing.T) {
			if _, err := os.Stat(filepath.Join(ex.name, "model.dl")); err != nil {
				t.Skipf("%s not written yet", ex.name)
			}
			g := load(t, ex.name, batch)
			correct := 0
			for start := 0; start < n; start += batch {
				in := mnistBatch(images[start*784:(start+batch)*784], batch, ex.mnist)
				outs, err := runtime.Run(g, []*ir.Tensor{in})
				if err != nil {
					t.Fatal(err)
				}
				logits := outs[0]
				if want := (ir.Shape{batch, 10}); !logits.Shape.Equal(want) {
					t.Fatalf("logits are %v, want %v", logits.Shape, want)
				}
				for i := 0; i < batch; i++ {
					if argmax(logits.F32()[i*10:(i+1)*10]) == int(labels[start+i]) {
						correct++
					}
				}
			}
			acc := float64(correct) / float64(n)
			t.Logf("interpreter accuracy on the first %d MNIST test images: %.1f%%", n, 100*acc)
			if acc < ex.minAcc {
				t.Errorf("accuracy %.1f%% on the first %d MNIST test images, want at least %.0f%%", 100*acc, n, 100*ex.minAcc)
			}
		})
	}
}

// mnistBatch normalizes batch images of 28×28 bytes into the model's layout.
func mnistBatch(px []byte, batch, layout int) *ir.Tensor {
	norm := func(b byte) float32 { return (float32(b)/255 - 0.1307) / 0.3081 }
	switch layout {
	case flat784, img28:
		x := make([]float32, len(px))
		for i, b := range px {
			x[i] = norm(b)
		}
		shape := ir.Shape{batch, 784}
		if layout == img28 {
			shape = ir.Shape{batch, 1, 28, 28}
		}
		return &ir.Tensor{DType: ir.F32, Shape: shape, Data: x}
	case img32rgb:
		x := make([]float32, batch*3*32*32)
		for n := 0; n < batch; n++ {
			for c := 0; c < 3; c++ {
				for i := 0; i < 32; i++ {
					for j := 0; j < 32; j++ {
						var b byte // padding is background (pixel 0)
						if i >= 2 && i < 30 && j >= 2 && j < 30 {
							b = px[n*784+(i-2)*28+(j-2)]
						}
						x[((n*3+c)*32+i)*32+j] = norm(b)
					}
				}
			}
		}
		return &ir.Tensor{DType: ir.F32, Shape: ir.Shape{batch, 3, 32, 32}, Data: x}
	}
	panic(fmt.Sprint("unknown layout ", layout))
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// readIDX reads a gzipped IDX file of unsigned bytes with ndim dimensions
// and returns its data.
func readIDX(t *testing.T, path string, ndim int) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	hdr := 4 + 4*ndim
	if len(data) < hdr || data[0] != 0 || data[1] != 0 || data[2] != 0x08 || int(data[3]) != ndim {
		t.Fatalf("%s: not a %d-d unsigned-byte IDX file", path, ndim)
	}
	size := 1
	for i := 0; i < ndim; i++ {
		size *= int(binary.BigEndian.Uint32(data[4+4*i:]))
	}
	if len(data)-hdr != size {
		t.Fatalf("%s: %d data bytes, header says %d", path, len(data)-hdr, size)
	}
	return data[hdr:]
}

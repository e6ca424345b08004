package train

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/weights"
)

// DataSpec says what a data file must hold for a model: the shape of one
// example (the model's input without the batch axis) and the target,
// either a class index (Classes > 0: cross_entropy, nll) or Targets
// float values per example (bce, mse).
type DataSpec struct {
	Shape   ir.Shape
	Classes int
	Targets int
}

// DataSpecFor is the DataSpec of training model with loss.
func DataSpecFor(model *ir.Graph, loss string) DataSpec {
	out := model.Outputs[0].Type.Shape
	s := DataSpec{Shape: model.Inputs[0].Type.Shape[1:].Clone()}
	if loss == "cross_entropy" || loss == "nll" {
		s.Classes = out[1]
	} else {
		s.Targets = out[1:].NumElems()
	}
	return s
}

// LoadData reads a data set from a file: FILE.csv, or X.npy,Y.npy (the
// examples and the targets as two .npy files).
func LoadData(arg string, spec DataSpec) (*Dataset, error) {
	if x, y, ok := strings.Cut(arg, ","); ok {
		return LoadNpy(x, y, spec)
	}
	if strings.HasSuffix(strings.ToLower(arg), ".csv") {
		return LoadCSV(arg, spec)
	}
	return nil, fmt.Errorf("%s: want a folder of MNIST IDX files, a .csv file, or X.npy,Y.npy", arg)
}

// LoadCSV reads a CSV file of one example per line: the example's values
// (row-major), then its target: the class index, or the float targets.
// Fields are separated by commas; a first line that is not numbers is a
// header and skipped; empty lines and lines starting with # are skipped.
func LoadCSV(path string, spec DataSpec) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	n := spec.Shape.NumElems()
	nt := spec.Targets
	if spec.Classes > 0 {
		nt = 1
	}
	d := &Dataset{Name: path, Shape: spec.Shape, Classes: spec.Classes}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		fields := strings.Split(text, ",")
		vals := make([]float64, len(fields))
		for i, s := range fields {
			if vals[i], err = strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil {
				break
			}
		}
		if err != nil {
			if d.Len() == 0 && line == 1 {
				err = nil // a header
				continue
			}
			return nil, fmt.Errorf("%s:%d: %v", path, line, err)
		}
		if len(vals) != n+nt {
			return nil, fmt.Errorf("%s:%d: %d fields, want %d (%d values of an example %v, then %s)", path, line, len(vals), n+nt, n, spec.Shape, targetWhat(spec))
		}
		if err := d.add(vals[:n], vals[n:], spec); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if d.Len() == 0 {
		return nil, fmt.Errorf("%s: no examples", path)
	}
	return d, nil
}

func targetWhat(spec DataSpec) string {
	if spec.Classes > 0 {
		return fmt.Sprintf("the class index in [0, %d)", spec.Classes)
	}
	return fmt.Sprintf("%d target values", spec.Targets)
}

// add appends one example and its target.
func (d *Dataset) add(x, target []float64, spec DataSpec) error {
	for _, v := range x {
		d.X = append(d.X, float32(v))
	}
	if spec.Classes > 0 {
		c := target[0]
		if c != math.Trunc(c) || c < 0 || c >= float64(spec.Classes) {
			return fmt.Errorf("class %v: want an integer in [0, %d)", c, spec.Classes)
		}
		d.Labels = append(d.Labels, int64(c))
		return nil
	}
	for _, v := range target {
		d.Targets = append(d.Targets, float32(v))
	}
	return nil
}

// LoadNpy reads the examples from xPath, an array [N, example shape...],
// and the targets from yPath: [N] class indices (integers, or floats
// holding integers) or [N, targets...] floats.
func LoadNpy(xPath, yPath string, spec DataSpec) (*Dataset, error) {
	x, err := weights.ReadNpy(xPath)
	if err != nil {
		return nil, err
	}
	y, err := weights.ReadNpy(yPath)
	if err != nil {
		return nil, err
	}
	if len(x.Shape) == 0 || !x.Shape[1:].Equal(spec.Shape) {
		return nil, fmt.Errorf("%s: examples of shape %v, want [N,%s]", xPath, x.Shape, strings.Trim(fmt.Sprint(spec.Shape), "[]"))
	}
	N := x.Shape[0]
	nt := spec.Targets
	if spec.Classes > 0 {
		nt = 1
	}
	if len(y.Shape) == 0 || y.Shape[0] != N || y.Shape.NumElems() != N*nt {
		return nil, fmt.Errorf("%s: targets of shape %v for %d examples, want %d per example (%s)", yPath, y.Shape, N, nt, targetWhat(spec))
	}
	d := &Dataset{Name: xPath, Shape: spec.Shape, Classes: spec.Classes}
	n := spec.Shape.NumElems()
	xs, ys := make([]float64, n), make([]float64, nt)
	for i := range N {
		for j := range xs {
			xs[j] = x.Float(i*n + j)
		}
		for j := range ys {
			ys[j] = y.Float(i*nt + j)
		}
		if err := d.add(xs, ys, spec); err != nil {
			return nil, fmt.Errorf("%s: example %d: %v", yPath, i, err)
		}
	}
	return d, nil
}

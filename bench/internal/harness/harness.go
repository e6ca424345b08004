// Package harness holds what the comparison harnesses bench/ort and
// bench/onnxgo share: reading a fixture's .npy files, timing a generated
// package's BenchmarkRun, and the report's medians and units.
package harness

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dlcompiler/dlc/weights"
)

// Npys reads dir/prefix_0.npy, dir/prefix_1.npy, ... until one is missing.
func Npys(dir, prefix string) ([]*weights.Tensor, error) {
	var ts []*weights.Tensor
	for i := 0; ; i++ {
		p := filepath.Join(dir, fmt.Sprintf("%s_%d.npy", prefix, i))
		if _, err := os.Stat(p); err != nil {
			return ts, nil
		}
		t, err := weights.ReadNpy(p)
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
}

var nsRe = regexp.MustCompile(`BenchmarkRun\S*\s+\d+\s+([0-9.]+) ns/op`)

// RunBench runs the BenchmarkRun of the test binary dir/pkg.test (built
// with go test -c) in dir/pkg for benchtime, with the extra test flags
// args, and returns its ns/op.
func RunBench(dir, pkg string, benchtime time.Duration, args ...string) (float64, error) {
	flags := append([]string{"-test.run", "^$", "-test.bench", "."}, args...)
	cmd := exec.Command(filepath.Join(dir, pkg+".test"), append(flags, "-test.benchtime", benchtime.String())...)
	cmd.Dir = filepath.Join(dir, pkg)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%v\n%s", err, buf.String())
	}
	s := nsRe.FindStringSubmatch(buf.String())
	if s == nil {
		return 0, fmt.Errorf("no ns/op in\n%s", buf.String())
	}
	return strconv.ParseFloat(s[1], 64)
}

// Median is the median of v, NaN for none.
func Median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Micros formats nanoseconds as microseconds, "-" for NaN.
func Micros(ns float64) string {
	if math.IsNaN(ns) {
		return "-"
	}
	return fmt.Sprintf("%.1f", ns/1e3)
}

// GFLOPs formats the rate of macs multiply-adds (two flops each) in ns
// nanoseconds, "-" when either is unknown.
func GFLOPs(macs int64, ns float64) string {
	if math.IsNaN(ns) || macs == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", 2*float64(macs)/ns)
}

// FirstLines is err's message cut to its first n lines.
func FirstLines(err error, n int) string {
	l := strings.Split(strings.TrimSpace(err.Error()), "\n")
	if len(l) > n {
		l = append(l[:n], "...")
	}
	return strings.Join(l, "\n")
}

package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// smallMLP is a model that trains in seconds on the interpreter.
const smallMLP = `model small
const batch = 1
input x: f32[batch, 1, 28, 28]
weights "weights.safetensors"
labels "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"
logits = x | flatten | fc1: dense(24) | relu | fc2: dense(10)
output logits
`

// mnistSlice writes the shipped 1000 test digits as a small MNIST folder:
// the first 800 as the training set, the last 200 as the test set.
func mnistSlice(t *testing.T) string {
	t.Helper()
	read := func(name string) []byte {
		f, err := os.Open(filepath.Join("../../examples/testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	img, lab := read("mnist-t10k-1000-images-idx3-ubyte.gz"), read("mnist-t10k-1000-labels-idx1-ubyte.gz")
	dir := t.TempDir()
	write := func(name string, dims []int, data []byte) {
		var b bytes.Buffer
		b.Write([]byte{0, 0, 8, byte(len(dims))})
		for _, d := range dims {
			binary.Write(&b, binary.BigEndian, uint32(d))
		}
		b.Write(data)
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const px = 28 * 28
	write("train-images-idx3-ubyte", []int{800, 28, 28}, img[16:16+800*px])
	write("train-labels-idx1-ubyte", []int{800}, lab[8:8+800])
	write("t10k-images-idx3-ubyte", []int{200, 28, 28}, img[16+800*px:])
	write("t10k-labels-idx1-ubyte", []int{200}, lab[8+800:])
	return dir
}

// lastRow reads the last row of a dlc train CSV log.
func lastRow(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("%s: %v (%d rows)", path, err, len(rows))
	}
	m := map[string]string{}
	for i, k := range rows[0] {
		m[k] = rows[len(rows)-1][i]
	}
	return m
}

// TestTrainResume checks that an interrupted run continued with --resume
// ends with the same weights, bit for bit, as an uninterrupted one, and
// that training learned something.
func TestTrainResume(t *testing.T) {
	data := mnistSlice(t)
	dir := t.TempDir()
	model := filepath.Join(dir, "model.dl")
	os.WriteFile(model, []byte(smallMLP), 0o644)
	common := []string{"train", model, "--engine", "interp", "--data", data, "--batch", "32", "--opt", "sgd", "--lr", "0.05", "--momentum", "0.9", "--nesterov", "--wd", "1e-4"}
	full := filepath.Join(dir, "full.safetensors")
	if code, _, errs := dlc(t, append(common, "--epochs", "2", "-o", full, "--log", filepath.Join(dir, "full.csv"))...); code != 0 {
		t.Fatalf("train: %s", errs)
	}
	part := filepath.Join(dir, "part.safetensors")
	if code, _, errs := dlc(t, append(common, "--epochs", "1", "-o", part)...); code != 0 {
		t.Fatalf("train 1 epoch: %s", errs)
	}
	if code, _, errs := dlc(t, append(common, "--epochs", "2", "-o", part, "--resume")...); code != 0 || !strings.Contains(errs, "resuming after epoch 1") {
		t.Fatalf("resume: %d %s", code, errs)
	}
	a, _ := os.ReadFile(full)
	b, _ := os.ReadFile(part)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("resumed weights differ from an uninterrupted run's (%d and %d bytes)", len(a), len(b))
	}
	row := lastRow(t, filepath.Join(dir, "full.csv"))
	if acc, _ := strconv.ParseFloat(row["test_accuracy"], 64); acc < 0.6 {
		t.Errorf("test accuracy after 2 epochs on 800 digits: %v, want ≥ 0.6 (row %v)", acc, row)
	}
}

// TestTrainThenCompile trains with dlc train (compiled engine), compiles
// the model with the trained weights with dlc compile, and checks that the
// generated package classifies the test digits as dlc train's evaluation
// did.
func TestTrainThenCompile(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatal("the go command is needed to build the generated package")
	}
	data := mnistSlice(t)
	dir := t.TempDir()
	model := filepath.Join(dir, "model.dl")
	os.WriteFile(model, []byte(smallMLP), 0o644)
	build := t.TempDir()
	args := []string{"train", model, "--build-dir", build, "--data", data, "--batch", "50", "--epochs", "2", "--lr", "3e-3",
		"-o", filepath.Join(dir, "weights.safetensors"), "--log", filepath.Join(dir, "log.csv")}
	if code, _, errs := dlc(t, args...); code != 0 {
		t.Fatalf("train: %s", errs)
	}
	// Interrupted after epoch 1 and resumed, the compiled engine ends with
	// the same weights, bit for bit.
	part := filepath.Join(dir, "part", "w.safetensors")
	resume := []string{"train", model, "--build-dir", build, "--data", data, "--batch", "50", "--lr", "3e-3", "-o", part}
	if code, _, errs := dlc(t, append(resume, "--epochs", "1")...); code != 0 {
		t.Fatalf("train 1 epoch: %s", errs)
	}
	if code, _, errs := dlc(t, append(resume, "--epochs", "2", "--resume")...); code != 0 {
		t.Fatalf("resume: %s", errs)
	}
	full, _ := os.ReadFile(filepath.Join(dir, "weights.safetensors"))
	if resumed, _ := os.ReadFile(part); len(full) == 0 || !bytes.Equal(full, resumed) {
		t.Errorf("compiled engine: resumed weights differ from an uninterrupted run's")
	}
	want, _ := strconv.ParseFloat(lastRow(t, filepath.Join(dir, "log.csv"))["test_accuracy"], 64)
	pkg := filepath.Join(dir, "mod", "small")
	if code, _, errs := dlc(t, "compile", model, "-o", pkg, "--selftest=false"); code != 0 {
		t.Fatalf("compile: %s", errs)
	}
	mod := filepath.Join(dir, "mod")
	os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module m\n\ngo 1.26\n"), 0o644)
	os.MkdirAll(filepath.Join(mod, "cmd"), 0o755)
	prog := fmt.Sprintf(`package main

import (
	"fmt"
	"os"

	"m/small"
)

func main() {
	img, _ := os.ReadFile(%q)
	lab, _ := os.ReadFile(%q)
	m := small.New()
	var in [small.InputSize]float32
	right := 0
	for i := range 200 {
		for j := range in {
			in[j] = (float32(img[16+i*784+j])/255 - 0.1307) / 0.3081
		}
		c, _, err := m.Classify(&in)
		if err != nil {
			panic(err)
		}
		if c == int(lab[8+i]) {
			right++
		}
	}
	fmt.Println(right)
}
`, filepath.Join(data, "t10k-images-idx3-ubyte"), filepath.Join(data, "t10k-labels-idx1-ubyte"))
	os.WriteFile(filepath.Join(mod, "cmd", "main.go"), []byte(prog), 0o644)
	cmd := exec.Command("go", "run", "./cmd")
	cmd.Dir = mod
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go run: %v\n%s", err, out)
	}
	right, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("program output %q", out)
	}
	// The generated code sums in float32, the interpreter in float64: a
	// digit whose two best logits are within rounding may flip, so one
	// digit of the 200 may differ.
	if d := right - int(want*200+0.5); d < -1 || d > 1 || want < 0.6 {
		t.Errorf("the compiled package classifies %d of 200 digits right; dlc train's evaluation gave %.1f%%", right, 100*want)
	}
}

// TestTrainOutputs checks dlc train's side outputs on a short run: -o,
// --log and --plot in folders that do not exist yet, a PNG plot, and
// --grad-stats lines for every param; then that --resume redraws the
// plot from the logged epochs too.
func TestTrainOutputs(t *testing.T) {
	data := mnistSlice(t)
	dir := t.TempDir()
	model := filepath.Join(dir, "model.dl")
	os.WriteFile(model, []byte(smallMLP), 0o644)
	out, plot := filepath.Join(dir, "a", "b", "w.safetensors"), filepath.Join(dir, "p", "curves.png")
	args := []string{"train", model, "--engine", "interp", "--data", data, "--batch", "50", "--limit", "400", "--test-limit", "100",
		"-o", out, "--log", filepath.Join(dir, "l", "log.csv"), "--plot", plot, "--grad-stats"}
	code, _, errs := dlc(t, append(args, "--epochs", "1")...)
	if code != 0 {
		t.Fatalf("train: %s", errs)
	}
	for _, p := range []string{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"} {
		if !regexp.MustCompile(`grad norm ` + regexp.QuoteMeta(p) + ` +[0-9.]+e[-+][0-9]+ #+\n`).MatchString(errs) {
			t.Errorf("no grad norm line for %s in\n%s", p, errs)
		}
	}
	if _, err := os.Stat(out); err != nil {
		t.Error(err)
	}
	size := func() image.Point {
		f, err := os.Open(plot)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			t.Fatalf("%s: %v", plot, err)
		}
		return img.Bounds().Size()
	}
	if s := size(); s.X < 300 || s.Y < 300 {
		t.Errorf("plot is %v pixels", s)
	}
	if code, _, errs = dlc(t, append(args, "--epochs", "2", "--resume")...); code != 0 {
		t.Fatalf("resume: %s", errs)
	}
	eps, err := readLog(filepath.Join(dir, "l", "log.csv"))
	if err != nil || len(eps) != 2 || eps[1].Epoch != 2 {
		t.Errorf("log after resuming: %v %+v", err, eps)
	}
}

// TestTrainAutoencoder trains with --target input: the test loss (mean
// squared error against the input itself) must fall below what predicting
// zero costs, the mean square of the normalized pixels (about 1).
func TestTrainAutoencoder(t *testing.T) {
	data := mnistSlice(t)
	dir := t.TempDir()
	model := filepath.Join(dir, "ae.dl")
	os.WriteFile(model, []byte(`model ae
const batch = 1
input x: f32[batch, 784]
y = x | enc: dense(16) | relu | dec: dense(784)
output y
`), 0o644)
	args := []string{"train", model, "--engine", "interp", "--data", data, "--batch", "20", "--test-limit", "100",
		"--loss", "mse", "--target", "input", "--epochs", "5", "--lr", "1e-2", "-o", filepath.Join(dir, "w.safetensors"), "--log", filepath.Join(dir, "log.csv")}
	if code, _, errs := dlc(t, args...); code != 0 {
		t.Fatalf("train: %s", errs)
	}
	row := lastRow(t, filepath.Join(dir, "log.csv"))
	if l, _ := strconv.ParseFloat(row["test_loss"], 64); !(l > 0 && l < 0.8) {
		t.Errorf("test loss %v after 5 epochs, want in (0, 0.8)", row["test_loss"])
	}
	if code, _, errs := dlc(t, append(args[:len(args)-4], "--loss", "cross_entropy", "-o", filepath.Join(dir, "x"))...); code != 2 || !strings.Contains(errs, "--target input") {
		t.Errorf("--target input with cross_entropy: exit %d, %s", code, errs)
	}
}

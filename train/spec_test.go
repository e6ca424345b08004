package train

import (
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/codegen"
	"github.com/dlcompiler/dlc/compiler"
	"github.com/dlcompiler/dlc/frontend/dl"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/passes"
)

// specModel has every part the Trainer handles: convolutions, a batch
// norm (running statistics), dropout (masks), pooling and dense.
const specModel = `model small
const batch = 8
input x: f32[batch, 1, 10, 10]
weights "w.safetensors"
logits = x | c1: conv2d(4, 3, padding=1) | bn1: batchnorm2d | relu | maxpool2d(2)
  | c2: conv2d(6, 3, stride=2) | relu | avgpool2d(2) | flatten | dropout(0.2) | fc: dense(3)
output logits
`

// specMain runs the generated Trainer: steps over the minibatches in
// data.bin (x then class indices as float32), printing each loss's bits,
// then writes w.safetensors and runs the package's own tests' subject
// once more for the caller.
const specMain = `package main

import (
	"encoding/binary"
	"fmt"
	"os"

	"spec/small"
)

func main() {
	b, err := os.ReadFile("data.bin")
	if err != nil {
		panic(err)
	}
	t := small.NewTrainer()
	var x [small.TrainInputSize]float32
	var classes [small.TrainBatch]int
	per := 4 * (small.TrainInputSize + small.TrainBatch)
	for s := 0; s < len(b)/per; s++ {
		var cl [small.TrainBatch]float32
		n, _ := binary.Decode(b[s*per:], binary.LittleEndian, x[:])
		binary.Decode(b[s*per+n:], binary.LittleEndian, cl[:])
		for i, c := range cl {
			classes[i] = int(c)
		}
		loss, err := t.StepClasses(&x, &classes)
		if err != nil {
			panic(err)
		}
		fmt.Println(loss)
	}
	f, err := os.Create("w.safetensors")
	if err != nil {
		panic(err)
	}
	if err := t.WriteSafetensors(f); err != nil {
		panic(err)
	}
	if err := f.Close(); err != nil {
		panic(err)
	}
}
`

// specRun generates the package with a Trainer for cfg into a module in
// a temporary folder, runs its self-test and specMain over steps random
// minibatches, and returns the folder, the losses, and the reference
// trainer (the interpreter) after the same steps.
func specRun(t *testing.T, cfg Config, steps int) (string, []float32, *Trainer) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatal("the test builds a generated package with the go command")
	}
	dir := t.TempDir()
	load := func() *ir.Graph {
		g, err := dl.Load(filepath.Join(dir, "model.dl"), []byte(specModel), dl.Options{NoWeights: true})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	g := load()
	if err := InitTorch(g, cfg.Seed); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.dl"), []byte(specModel), 0o644); err != nil {
		t.Fatal(err)
	}
	ps, err := passes.Select(2, "")
	if err != nil {
		t.Fatal(err)
	}
	// The reference trainer starts from the same weights.
	ref := g.Clone()
	for _, p := range ref.Params {
		p.Data = p.Data.Clone()
	}
	spec, err := Spec(g, g, cfg, ps, true)
	if err != nil {
		t.Fatal(err)
	}
	files, err := compiler.Compile(g, compiler.Options{Package: "small", Passes: ps, SelfTest: true, Train: spec})
	if err != nil {
		t.Fatal(err)
	}
	if err := codegen.WritePackage(filepath.Join(dir, "small"), files); err != nil {
		t.Fatal(err)
	}
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module spec\n\ngo 1.26\n")
	write("main.go", specMain)
	rt, err := New(ref, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var data []byte
	x, target := ir.NewTensor(ir.F32, ir.Shape{8, 1, 10, 10}), ir.NewTensor(ir.F32, ir.Shape{8, 3})
	var want []float32
	for s := range steps {
		for i := range x.F32() {
			x.F32()[i] = float32(math.Sin(float64(i*7+s*13))) + float32(i%3)/4
		}
		cl := make([]float32, 8)
		for i := range cl {
			cl[i] = float32((i + s) % 3)
			for c := range 3 {
				target.F32()[i*3+c] = 0
			}
			target.F32()[i*3+int(cl[i])] = 1
			// the class shows in the input, so there is something to learn
			x.F32()[i*100+int(cl[i])] += 2
		}
		data, _ = binary.Append(data, binary.LittleEndian, x.F32())
		data, _ = binary.Append(data, binary.LittleEndian, cl)
		loss, _, err := rt.StepBatch(x, target, cfg.LR)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, loss)
	}
	write("data.bin", string(data))
	test := exec.Command("go", "test", "-count=1", "./small")
	test.Dir = dir
	if out, err := test.CombinedOutput(); err != nil {
		t.Fatalf("the generated package's self-test: %v\n%s", err, out)
	}
	run := exec.Command("go", "run", ".")
	run.Dir = dir
	out, err := run.Output()
	if err != nil {
		t.Fatalf("running the Trainer: %v", err)
	}
	var got []float32
	for _, l := range strings.Fields(string(out)) {
		v, err := strconv.ParseFloat(l, 32)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, float32(v))
	}
	if len(got) != steps {
		t.Fatalf("%d losses, want %d", len(got), steps)
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); !(d <= 1e-3*math.Max(1, math.Abs(float64(want[i])))) {
			t.Errorf("step %d: the compiled Trainer's loss %v, package train's %v", i, got[i], want[i])
		}
	}
	return dir, got, rt
}

// TestCompiledTrainerSGD: the generated Trainer (SGD with Nesterov
// momentum and weight decay) takes the steps package train takes: the
// same losses and, after 20 steps, the same weights and running
// statistics to within float32 summation order; the loss decreases;
// the safetensors it writes are what dlc compile reads back.
func TestCompiledTrainerSGD(t *testing.T) {
	cfg := Defaults()
	cfg.Opt, cfg.LR, cfg.Momentum, cfg.Nesterov, cfg.WeightDecay = "sgd", 0.05, 0.9, true, 1e-3
	dir, losses, rt := specRun(t, cfg, 20)
	if first, last := mean(losses[:5]), mean(losses[15:]); !(last < first) {
		t.Errorf("the loss went from %v (mean of the first 5 steps) to %v (the last 5)", first, last)
	}
	// dlc compile reads the written weights back (the model's weights
	// statement names w.safetensors).
	g, err := compiler.Load(filepath.Join(dir, "model.dl"), compiler.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	trained := rt.Weights()
	for _, p := range g.Params {
		want, ok := trained[p.Name]
		if !ok {
			continue
		}
		if p.Data == nil {
			t.Fatalf("%s: not read from w.safetensors", p.Name)
		}
		var big float64
		for _, v := range want.F32() {
			big = math.Max(big, math.Abs(float64(v)))
		}
		for i, v := range want.F32() {
			if d := math.Abs(float64(p.Data.F32()[i] - v)); !(d <= 1e-3*big+1e-5) {
				t.Fatalf("%s[%d]: the Trainer's %v, package train's %v", p.Name, i, p.Data.F32()[i], v)
			}
		}
	}
}

// TestCompiledTrainerAdamW: AdamW with gradient clipping; the losses
// agree step by step (specRun) and decrease.
func TestCompiledTrainerAdamW(t *testing.T) {
	cfg := Defaults()
	cfg.Opt, cfg.LR, cfg.WeightDecay, cfg.ClipNorm = "adamw", 1e-2, 1e-2, 1
	_, losses, _ := specRun(t, cfg, 12)
	if first, last := mean(losses[:4]), mean(losses[8:]); !(last < first) {
		t.Errorf("the loss went from %v (mean of the first 4 steps) to %v (the last 4)", first, last)
	}
}

func mean(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x)
	}
	return s / float64(len(v))
}

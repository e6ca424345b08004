package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/dlcompiler/dlc/compiler"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/runtime"
)

// TestXORExample trains examples/xor as its README says, from the CSV
// file: the hidden layer solves XOR (every case on the right side of 0),
// the single linear unit cannot (its loss stays at ln 2, every output
// 0.5).
func TestXORExample(t *testing.T) {
	dir := t.TempDir()
	finalLoss := regexp.MustCompile(`epoch 300: loss ([0-9.]+)`)
	for _, c := range []struct {
		model   string
		solves  bool
		weights string
	}{{"model.dl", true, "weights.safetensors"}, {"linear.dl", false, "linear.safetensors"}} {
		src, err := os.ReadFile(filepath.Join("../../examples/xor", c.model))
		if err != nil {
			t.Fatal(err)
		}
		model := filepath.Join(dir, c.model)
		if err := os.WriteFile(model, src, 0o644); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := dlc(t, "train", model, "--data", "../../examples/xor/xor.csv", "--loss", "bce", "--batch", "4",
			"--epochs", "300", "--lr", "0.05", "--engine", "interp", "-o", filepath.Join(dir, c.weights))
		if code != 0 {
			t.Fatalf("%s: dlc train: exit %d\n%s%s", c.model, code, stdout, stderr)
		}
		m := finalLoss.FindStringSubmatch(stderr)
		if m == nil {
			t.Fatalf("%s: no final loss in\n%s", c.model, stderr)
		}
		loss, _ := strconv.ParseFloat(m[1], 64)
		if c.solves != (loss < 0.05) || !c.solves && loss < 0.69 {
			t.Errorf("%s: final loss %v", c.model, loss)
		}
		g, err := compiler.Load(model, compiler.LoadOptions{Set: map[string]int{"batch": 4}})
		if err != nil {
			t.Fatal(err)
		}
		out, err := runtime.Run(g, []*ir.Tensor{ir.FromF32(ir.Shape{4, 2}, []float32{0, 0, 0, 1, 1, 0, 1, 1})})
		if err != nil {
			t.Fatal(err)
		}
		right := 0
		for i, want := range []bool{false, true, true, false} {
			if (out[0].F32()[i] > 0) == want {
				right++
			}
		}
		if c.solves && right != 4 {
			t.Errorf("%s: logits %v: %d of 4 XOR cases right", c.model, out[0].F32(), right)
		}
	}
}

package main

import (
	"github.com/dlcompiler/dlc/weights"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackageName: -pkg is used as given or refused with the reason; a
// directory name that is not a package name is changed with a note.
func TestPackageName(t *testing.T) {
	model := writeModel(t, tinyDL)
	dir := t.TempDir()
	pkgClause := func(out, file string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(out, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "package ") {
				return line
			}
		}
		return ""
	}
	out := filepath.Join(dir, "a")
	if code, _, errs := dlc(t, "compile", "--selftest=false", model, "-o", out, "-pkg", "my_pkg"); code != 0 {
		t.Fatalf("-pkg my_pkg: %d %s", code, errs)
	}
	if got := pkgClause(out, "model.go"); got != "package my_pkg" {
		t.Errorf("-pkg my_pkg gave %q", got)
	}
	for _, c := range []struct{ pkg, want string }{
		{"my-pkg", `-pkg: package name my-pkg is not a Go identifier: '-' at byte 2 is not a letter, digit or _`},
		{"2net", "-pkg: package name 2net is not a Go identifier: it starts with the digit 2"},
		{"func", "-pkg: package name func is a Go keyword"},
		{"main", "-pkg: package name main makes a program"},
		{"_", "-pkg: package name _ is the blank identifier"},
	} {
		code, _, errs := dlc(t, "compile", "--selftest=false", model, "-o", filepath.Join(dir, "b"), "-pkg", c.pkg)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("-pkg %s: exit %d, stderr %q, want %q", c.pkg, code, errs, c.want)
		}
	}
	// The directory's name is used when it is a package name ...
	out = filepath.Join(dir, "my_net")
	if code, _, errs := dlc(t, "compile", "--selftest=false", model, "-o", out); code != 0 || strings.Contains(errs, "not a Go package name") {
		t.Fatalf("-o my_net: %d %s", code, errs)
	}
	if got := pkgClause(out, "model.go"); got != "package my_net" {
		t.Errorf("-o my_net gave %q", got)
	}
	// ... and changed, with a note, when it is not.
	out = filepath.Join(dir, "my-net")
	code, _, errs := dlc(t, "compile", "--selftest=false", model, "-o", out)
	if code != 0 || !strings.Contains(errs, `the directory name "my-net" is not a Go package name: the package is called mynet (choose one with -pkg NAME)`) {
		t.Errorf("-o my-net: %d %s", code, errs)
	}
	if got := pkgClause(out, "mynet.go"); got != "package mynet" {
		t.Errorf("-o my-net gave %q", got)
	}
}

// TestCheckMACs: transposes and embedding lookups move data and count no
// multiply-accumulates; the dense layer's 20×3 per row are all there is.
func TestCheckMACs(t *testing.T) {
	m := writeModel(t, `model movers
input ids: i64[1, 5]
e = ids | emb: embedding(10, 4) | transpose(1, 2) | flatten | fc: dense(3)
output e
`)
	code, out, errs := dlc(t, "check", "--no-weights", m)
	if code != 0 {
		t.Fatalf("check: %d %s", code, errs)
	}
	if !strings.Contains(out, "total: 103 parameters, 60 MACs per call") {
		t.Errorf("check counts data movement as MACs:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[1] == "embedding" || f[1] == "transpose") && f[len(f)-1] != "0" {
			t.Errorf("%s counts MACs: %q", f[1], line)
		}
	}
}

// TestRunClassScores: only an output with labels or declared as class
// scores is shown as classes; --top 0 prints the values.
func TestRunClassScores(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "x.npy")
	if err := weights.WriteNpy(in, &weights.Tensor{DType: weights.F32, Shape: []int{2, 4}, Data: []float32{1, 2, 3, 4, -1, 0, 1, 2}}); err != nil {
		t.Fatal(err)
	}
	const body = `input x: f32[2, 4]
init he
y = x | fc: dense(6)
`
	run := func(src string, args ...string) string {
		t.Helper()
		code, out, errs := dlc(t, append([]string{"run", writeModel(t, src), "--input", in}, args...)...)
		if code != 0 {
			t.Fatalf("run: %d %s", code, errs)
		}
		return out
	}
	// An autoencoder-like [2, 6] output: its values, not classes.
	out := run(body + "output y\n")
	if strings.Contains(out, "class") || !strings.Contains(out, "y: f32[2,6]\n  ") {
		t.Errorf("undeclared output shown as classes:\n%s", out)
	}
	// Declared class scores, and labels, give the top classes.
	out = run(body + "output y: classes\n")
	if !strings.Contains(out, "y: f32[2,6], top 5 classes (probability: softmax of the logits)") || !strings.Contains(out, "  [1]  class ") {
		t.Errorf("class scores not shown as classes:\n%s", out)
	}
	out = run(body+`labels "a", "b", "c", "d", "e", "f"`+"\noutput y\n", "--top", "2")
	if !strings.Contains(out, "top 2 classes") || !strings.Contains(out, "class 0 (a)") && !strings.Contains(out, "(f)") {
		t.Errorf("labelled output:\n%s", out)
	}
	// --top 0 prints the values of a classifier.
	out = run(body+"output y: classes\n", "--top", "0")
	if strings.Contains(out, "class") || !strings.Contains(out, "y: f32[2,6]\n  ") {
		t.Errorf("--top 0 did not print the values:\n%s", out)
	}
	// --top N given for a model that declares nothing lists classes.
	out = run(body+"output y\n", "--top", "3")
	if !strings.Contains(out, "top 3 classes") {
		t.Errorf("--top 3 on an undeclared output:\n%s", out)
	}
	if code, _, errs := dlc(t, "run", writeModel(t, body+"output y\n"), "--input", in, "--top", "-1"); code != 2 || !strings.Contains(errs, "--top -1: want 0") {
		t.Errorf("--top -1: %d %q", code, errs)
	}
	// A declaration that cannot be class scores is refused.
	code, _, errs := dlc(t, "check", writeModel(t, "input x: i64[2, 4]\noutput x: classes\n"))
	if code != 1 || !strings.Contains(errs, "output x: classes are scores along the last axis of a float tensor with at least 2 of them, got i64[2,4]") {
		t.Errorf("i64 class scores: %d %q", code, errs)
	}
}

// TestCompileClassScores: the generated package has Classify only for an
// output declared as class scores.
func TestCompileClassScores(t *testing.T) {
	for _, c := range []struct {
		decl     string
		classify bool
	}{{"output y", false}, {"output y: classes", true}} {
		src := strings.Replace(tinyDL, "output y", c.decl, 1)
		out := filepath.Join(t.TempDir(), "tiny")
		if code, _, errs := dlc(t, "compile", "--selftest=false", writeModel(t, src), "-o", out); code != 0 {
			t.Fatalf("compile: %d %s", code, errs)
		}
		b, err := os.ReadFile(filepath.Join(out, "tiny.go"))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(string(b), "func (m *Model) Classify("); got != c.classify {
			t.Errorf("%s: Classify %v, want %v", c.decl, got, c.classify)
		}
	}
}

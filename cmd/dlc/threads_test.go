package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompileThreads checks -threads: a layer with enough work is split
// (its schedule says threads=2, the package starts a worker and runs the
// kernel's parts through it), a small one keeps one thread, and a count
// out of range is a usage error. The generated code's behaviour with
// threads is codegen's TestThreads.
func TestCompileThreads(t *testing.T) {
	model := writeModel(t, `model wide
input x: f32[64, 512]
init he
y = x | big: dense(512) | relu | small: dense(3)
output y
`)
	out := filepath.Join(t.TempDir(), "wide")
	code, dump, errs := dlc(t, "compile", "--selftest=false", "-threads", "2", "--dump-after=tile", model, "-o", out)
	if code != 0 {
		t.Fatalf("compile -threads 2: %d %s", code, errs)
	}
	var big, small string
	for _, l := range strings.Split(dump, "\n") {
		switch {
		case strings.Contains(l, "big"):
			big = l
		case strings.Contains(l, "small"):
			small = l
		}
	}
	if !strings.Contains(big, "threads=2") {
		t.Errorf("the 16M multiply-add layer is not split: %q", big)
	}
	if small == "" || strings.Contains(small, "threads=") {
		t.Errorf("the 192 multiply-add layer is split: %q", small)
	}
	api, err := os.ReadFile(filepath.Join(out, "wide.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"m.parallel(2, bigPart)", "m.pool = newPool(1)", "func (m *Model) Close() error"} {
		if !strings.Contains(string(api), want) {
			t.Errorf("the package lacks %q", want)
		}
	}
	// Without -threads: no pool, still a Close.
	code, _, errs = dlc(t, "compile", "--selftest=false", model, "-o", out)
	if code != 0 {
		t.Fatalf("compile: %d %s", code, errs)
	}
	api, err = os.ReadFile(filepath.Join(out, "wide.go"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(api), "newPool") || !strings.Contains(string(api), "func (m *Model) Close() error") {
		t.Error("-threads 1: want no pool and a Close")
	}
	// --tile overrides a layer's threads.
	code, dump, errs = dlc(t, "compile", "--selftest=false", "--tile", "big:threads=3", "--dump-after=all", model, "-o", out)
	if code != 0 {
		t.Fatalf("compile --tile big:threads=3: %d %s", code, errs)
	}
	api, _ = os.ReadFile(filepath.Join(out, "wide.go"))
	if !strings.Contains(string(api), "m.parallel(3, bigPart)") {
		t.Error("--tile big:threads=3: the kernel is not split in 3")
	}
	for _, bad := range []string{"0", "-1", "100000"} {
		if code, _, errs := dlc(t, "compile", "-threads", bad, model, "-o", out); code != 2 || !strings.Contains(errs, "-threads") {
			t.Errorf("-threads %s: exit %d %q, want a usage error", bad, code, errs)
		}
	}
	if _, help, _ := dlc(t, "compile", "-h"); !strings.Contains(help, "-threads") {
		t.Error("dlc compile -h does not document -threads")
	}
}

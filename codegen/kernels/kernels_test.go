package kernels

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestAsmTestFresh fails when internal/asmtest's generated files differ
// from what this package generates now: run go generate there.
func TestAsmTestFresh(t *testing.T) {
	files, err := AsmTestFiles()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("internal", "asmtest")
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("stale generated files: %s differs from what codegen/kernels generates (err %v); run go generate ./codegen/kernels/internal/asmtest", filepath.Join(dir, name), err)
		}
	}
	// No generated file left over from a kernel since removed.
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "kernels_") && files[e.Name()] == nil {
			t.Errorf("stale generated files: %s is no longer generated; delete it", e.Name())
		}
	}
}

// TestRegistry checks every registered kernel: a block that fits its
// instruction set's registers, unique names, a twin, and lookups.
func TestRegistry(t *testing.T) {
	names, funcs := map[string]bool{}, map[string]bool{}
	for _, k := range testKernels {
		if err := k.check(); err != nil {
			t.Error(err)
		}
		if names[k.Name] || funcs[k.Func] {
			t.Errorf("kernel %s (%s): name or function registered twice", k.Name, k.Func)
		}
		names[k.Name], funcs[k.Func] = true, true
		if !strings.HasPrefix(k.Name, string(k.ISA())+".") && !strings.HasPrefix(k.Name, "test.") {
			t.Errorf("kernel %s: name does not start with its instruction set %s", k.Name, k.ISA())
		}
		if k.Twin() == k.Func || k.Asm(k.ISA()) == k.Func {
			t.Errorf("kernel %s: twin or assembly named like the wrapper", k.Name)
		}
	}
	for _, k := range All() {
		if Lookup(k.Name) != k {
			t.Errorf("Lookup(%q) does not find it", k.Name)
		}
	}
	if Lookup("avx512.gemm12x32") == nil || Find(Gemm, AVX512) == nil || Find(Gemm, AVX2) == nil || Find(Dot, AVX2) == nil || Lookup("nope") != nil {
		t.Error("the tiling pass's kernels are not found, or an unknown name is")
	}
	if got := Names(); len(got) != len(registry) {
		t.Errorf("Names() = %v, want %d names", got, len(registry))
	}
}

// TestCheck checks that blocks which cannot be generated are refused.
func TestCheck(t *testing.T) {
	for _, k := range []*Kernel{
		{Name: "avx2.gemm1x64", Op: Gemm, ISAs: []ISA{AVX2}, MR: 1, NR: 64},       // 8+8+1 = 17 ymm
		{Name: "avx512.gemm13x32", Op: Gemm, ISAs: []ISA{AVX512}, MR: 13, NR: 32}, // 5 row bases
		{Name: "avx512.gemm10x48", Op: Gemm, ISAs: []ISA{AVX512}, MR: 10, NR: 48}, // not a power of two
		{Name: "avx512.gemm2x8", Op: Gemm, ISAs: []ISA{AVX512}, MR: 2, NR: 8},     // not whole zmm
		{Name: "avx512.gemm1x64", Op: Gemm, ISAs: []ISA{AVX512}, MR: 1, NR: 64},   // masks of 64 columns
		{Name: "avx2.gemm2x12", Op: Gemm, ISAs: []ISA{AVX2}, MR: 2, NR: 12},       // not whole vectors
		{Name: "avx2.dot5", Op: Dot, ISAs: []ISA{AVX2}, MR: 5, NR: 1},             // 17 ymm
		{Name: "avx512.dot4", Op: Dot, ISAs: []ISA{AVX512}, MR: 4, NR: 1},         // no generator
		{Name: "avx2.gemm2x16", Op: Gemm, MR: 2, NR: 16},                          // no instruction set
	} {
		if err := k.check(); err == nil {
			t.Errorf("%s: accepted", k.Name)
		}
		if _, err := Files("p", []*Kernel{k}); err == nil {
			t.Errorf("%s: Files accepted it", k.Name)
		}
	}
	if _, err := Files("p", []*Kernel{{Name: "neon.dot4", Op: Dot, ISAs: []ISA{NEON}, MR: 4, NR: 1, Func: "d"}}); err == nil {
		t.Error("Files generated a NEON kernel it has no generator for")
	}
}

// TestFilesOnlyUsed checks that a package gets the kernels it calls and
// no others, in a deterministic order.
func TestFilesOnlyUsed(t *testing.T) {
	dot := Lookup("avx2.dot4")
	f1, err := Files("p", []*Kernel{dot})
	if err != nil {
		t.Fatal(err)
	}
	if s := string(f1["kernels_amd64.s"]); !strings.Contains(s, "·simdDotAVX2(SB)") || strings.Contains(s, "simdGemm16") {
		t.Errorf("kernels_amd64.s for the dot kernel alone:\n%s", s)
	}
	a, _ := Files("p", All())
	rev := All()
	slices.Reverse(rev)
	b, _ := Files("p", rev)
	for name := range a {
		if !bytes.Equal(a[name], b[name]) {
			t.Errorf("%s depends on the order of the kernels given", name)
		}
	}
}

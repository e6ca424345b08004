package codegen

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/passes"
)

// threadsProbe is added to every package TestThreads generates: it runs
// the Model on the self-test's inputs (twice: a second call must not see
// the first's state), writes the outputs' bytes to $DLC_THREADS_DUMP/<pkg>
// for the bit-for-bit comparison across thread counts, and checks the
// zero Model (no pool: the parts run one after another), allocations,
// and Close: idempotent, later calls fail, the workers exit, and a Model
// dropped unclosed has its workers stopped by its cleanup. %[1]s is the
// package, %[2]d the number of worker goroutines New starts.
const threadsProbe = `package %[1]s

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
	"unsafe"
)

func outBytes(out *Output) []byte {
	return append([]byte(nil), unsafe.Slice((*byte)(unsafe.Pointer(out)), unsafe.Sizeof(*out))...)
}

// waitGoroutines waits until at most n goroutines run.
func waitGoroutines(t *testing.T, n int, what string) {
	for i := 0; runtime.NumGoroutine() > n; i++ {
		if i == 500 {
			t.Fatalf("%%s: %%d goroutines, want at most %%d", what, runtime.NumGoroutine(), n)
		}
		runtime.GC()
		time.Sleep(2 * time.Millisecond)
	}
}

// settle lets the GC cleanups stop the workers of Models that earlier
// tests dropped without Close and waits until the goroutine count holds
// still, so that their exits do not disturb the count of New's workers.
func settle() int {
	n, same := runtime.NumGoroutine(), 0
	for i := 0; i < 1000 && same < 20; i++ {
		runtime.GC()
		time.Sleep(time.Millisecond)
		if m := runtime.NumGoroutine(); m == n {
			same++
		} else {
			n, same = m, 0
		}
	}
	return n
}

func TestThreadsProbe(t *testing.T) {
	d := loadSelfTest(t)
	g0 := settle()
	m := New()
	if got := runtime.NumGoroutine(); got != g0+%[2]d {
		t.Errorf("New started %%d goroutines, want %%d", got-g0, %[2]d)
	}
	var out, again, zero Output
	if err := m.Run(&d.in, &out); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(&d.in, &again); err != nil {
		t.Fatal(err)
	}
	if string(outBytes(&out)) != string(outBytes(&again)) {
		t.Error("a second Run gave other outputs")
	}
	var z Model
	if err := z.Run(&d.in, &zero); err != nil {
		t.Fatal(err)
	}
	if string(outBytes(&out)) != string(outBytes(&zero)) {
		t.Error("the zero Model gave other outputs")
	}
	if a := testing.AllocsPerRun(20, func() { m.Run(&d.in, &again) }); a != 0 {
		t.Errorf("Run allocates %%v times per call", a)
	}
	if err := os.WriteFile(filepath.Join(os.Getenv("DLC_THREADS_DUMP"), "%[1]s"), outBytes(&out), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %%v", err)
	}
	if err := m.Run(&d.in, &out); err == nil {
		t.Fatal("Run after Close returned nil")
	}
	waitGoroutines(t, g0, "after Close")
	func() { New().Run(&d.in, &out) }() // dropped without Close
	waitGoroutines(t, g0, "after dropping a Model")
}
`

// threadCases are graphs with every kernel that splits: im2col conv on the
// Gemm kernel (plain, with a fused pool), scalar im2col and direct conv,
// depthwise, dense at batch > 1 on the Gemm kernel (with a fused tail that
// must keep it whole), and matmul. sched, if set, replaces the schedule
// of every conv after -O2.
var threadCases = []struct {
	name  string
	build func(b *gb)
	sched *ir.Schedule
	split int    // kernels that must be split when threads > 1
	share string // the split's locals (span's name): which dimension
}{
	{"convsimd", func(b *gb) {
		h := b.n1("conv", []*ir.Value{b.input("x", 1, 8, 12, 12), b.param(16, 8, 3, 3), b.param(16)}, ir.Attrs{"pads": []int{1, 1}})
		b.out(b.n1("relu", []*ir.Value{h}, nil))
	}, nil, 1, "mLo, mHi"}, // an implicit GEMM: split by output channels
	{"convpool", func(b *gb) {
		h := b.n1("conv", []*ir.Value{b.input("x", 2, 4, 12, 12), b.param(8, 4, 3, 3), b.param(8)}, ir.Attrs{"pads": []int{1, 1}})
		h = b.n1("relu", []*ir.Value{h}, nil)
		b.out(b.n1("maxpool", []*ir.Value{h}, ir.Attrs{"kernel": []int{2, 2}}))
	}, nil, 1, "mLo, mHi"}, // each worker pools its channels
	{"convscalar", func(b *gb) {
		b.out(b.n1("conv", []*ir.Value{b.input("x", 1, 3, 9, 9), b.param(12, 3, 3, 3), b.param(12)}, ir.Attrs{"pads": []int{1, 1}}))
	}, &ir.Schedule{Algo: "im2col", Unroll: 4, Vector: 4, Tiles: map[string]int{"n": 20}}, 1, "nLo, nHi"},
	{"convdirect", func(b *gb) {
		b.out(b.n1("conv", []*ir.Value{b.input("x", 2, 3, 10, 10), b.param(10, 3, 3, 3), b.param(10)}, ir.Attrs{"strides": []int{2, 2}}))
	}, &ir.Schedule{Algo: "direct", Unroll: 2}, 1, "ocLo, ocHi"},
	{"dw", func(b *gb) {
		h := b.n1("conv", []*ir.Value{b.input("x", 2, 8, 13, 13), b.param(8, 1, 3, 3), b.param(8)}, ir.Attrs{"groups": 8, "pads": []int{1, 1}})
		b.out(b.n1("relu", []*ir.Value{h}, nil))
	}, nil, 1, "gLo, gHi"},
	{"dense", func(b *gb) {
		h := b.n1("dense", []*ir.Value{b.input("x", 8, 40), b.param(70, 40), b.param(70)}, nil)
		h = b.n1("relu", []*ir.Value{h}, nil)
		h = b.n1("dense", []*ir.Value{h, b.param(40, 70), b.param(40)}, nil)
		b.out(b.n1("tanh", []*ir.Value{h}, nil)) // a tail over the whole output: not split
	}, nil, 1, "pLo, pHi"},
	{"matmul", func(b *gb) {
		b.out(b.n1("matmul", []*ir.Value{b.input("a", 2, 29, 20), b.input("b", 20, 64)}, nil))
	}, nil, 1, "mLo, mHi"},
	{"convchannels", func(b *gb) { // few columns: split by output channels
		h := b.n1("conv", []*ir.Value{b.input("x", 1, 16, 6, 6), b.param(50, 16, 3, 3), b.param(50)}, ir.Attrs{"pads": []int{1, 1}})
		b.out(b.n1("relu", []*ir.Value{h}, nil))
	}, nil, 1, "mLo, mHi"},
	// Last, so that the cases above keep their random weights.
	{"convgemm", func(b *gb) { // the im2col Gemm kernel, as larger layers get
		h := b.n1("conv", []*ir.Value{b.input("x", 1, 8, 12, 12), b.param(16, 8, 3, 3), b.param(16)}, ir.Attrs{"pads": []int{1, 1}})
		b.out(b.n1("relu", []*ir.Value{h}, nil))
	}, &ir.Schedule{Algo: "im2col", Unroll: 12, Kernel: "avx512.gemm12x32", Tiles: map[string]int{}}, 1, "nLo, nHi"},
	{"convtgemm", func(b *gb) { // the transposed GEMM: split by panels of output channels
		h := b.n1("conv", []*ir.Value{b.input("x", 1, 8, 6, 6), b.param(70, 8, 3, 3), b.param(70)}, ir.Attrs{"pads": []int{1, 1}})
		b.out(b.n1("relu", []*ir.Value{h}, nil))
	}, &ir.Schedule{Algo: "tgemm", Unroll: 12, Kernel: "avx512.gemm12x32", WeightLayout: "tpanel32", Tiles: map[string]int{}}, 1, "pLo, pHi"},
}

// TestThreads checks -threads: for 1, 2 and 3 threads, every kernel that
// splits gives bit-identical outputs (and passes its self-test against
// the interpreter), allocates nothing, and the Model closes cleanly.
func TestThreads(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	dir := t.TempDir()
	writeModule(t, dir)
	dump := t.TempDir()
	ps, err := passes.Select(2, "")
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range threadCases {
		for _, threads := range []int{1, 2, 3} {
			b := &gb{t: t, g: ir.NewGraph(c.name), r: rand.New(rand.NewPCG(uint64(i), 9))}
			c.build(b)
			ref := b.g.Clone()
			g := b.g
			// The cases are small: force the split rather than pass the
			// tiling pass's work threshold.
			if err := passes.Run(g, ps, passes.Options{Verify: true, Threads: threads}); err != nil {
				t.Fatal(err)
			}
			for _, n := range g.Nodes {
				if c.sched != nil && (n.Op == "conv" || n.Op == "fused_conv") {
					s := *c.sched
					n.Schedule = &s
				}
				if n.Schedule != nil {
					n.Schedule.Threads = threads
				}
			}
			pkg := fmt.Sprintf("%st%d", c.name, threads)
			g.Name = pkg
			files, err := generateRef(t, g, ref)
			if err != nil {
				t.Fatalf("%s: %v", pkg, err)
			}
			if got, want := strings.Count(string(files["kernels.go"]), "worker int)"), min(threads-1, 1)*c.split; got != want {
				t.Errorf("%s: %d kernels split, want %d", pkg, got, want)
			}
			if threads > 1 && !strings.Contains(string(files["kernels.go"]), c.share) {
				t.Errorf("%s: the kernel does not split by %s", pkg, c.share)
			}
			files[pkg+"_threads_test.go"] = []byte(fmt.Sprintf(threadsProbe, pkg, threads-1))
			if err := WritePackage(filepath.Join(dir, pkg), files); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Setenv("DLC_THREADS_DUMP", dump)
	if out, err := goTest(t, dir, "-count=1", "./..."); err != nil {
		t.Fatalf("go test over the generated packages: %v\n%s", err, trim(out))
	}
	// The race detector on the three-thread packages: the pool's channels
	// must order every part's writes before forward reads them.
	var three []string
	for _, c := range threadCases {
		three = append(three, "./"+c.name+"t3")
	}
	if out, err := goTest(t, dir, append([]string{"-count=1", "-race", "-run", "ThreadsProbe"}, three...)...); err != nil {
		t.Fatalf("go test -race over the three-thread packages: %v\n%s", err, trim(out))
	}
	for _, c := range threadCases {
		one, err := os.ReadFile(filepath.Join(dump, c.name+"t1"))
		if err != nil {
			t.Fatal(err)
		}
		for _, threads := range []int{2, 3} {
			got, err := os.ReadFile(filepath.Join(dump, fmt.Sprintf("%st%d", c.name, threads)))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, one) {
				t.Errorf("%s: outputs with %d threads differ from 1 thread's", c.name, threads)
			}
		}
	}
}

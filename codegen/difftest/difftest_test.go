package difftest

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/codegen"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/passes"
	dlcrt "github.com/dlcompiler/dlc/runtime"
)

var (
	nGraphs = flag.Int("n", 3, "number of random graphs (one generated package each)")
	seed0   = flag.Uint64("seed", 1, "seed of the first graph; graph i uses seed+i")
	chains  = flag.Int("chains", 6, "independent op chains per graph")
	keep    = flag.String("keep", "", "generate the module into this directory and keep it")
	threads = flag.Int("threads", 0, "workers forced on every kernel's schedule (dlc compile -threads, past the tiling pass's work threshold); 0: 3 for graphs with an even seed, 1 for the others")
)

// workers is the Schedule.Threads graph seed's kernels get (-threads).
func workers(seed uint64) int {
	if *threads > 0 {
		return *threads
	}
	if seed%2 == 0 {
		return 3
	}
	return 1
}

// isaFile forces the generated kernels down to AVX2 when the package is
// tested with -tags dlcavx2 (cpuLevel is a variable the wrappers read at
// each call; package variables are set before init functions run).
const isaFile = `//go:build amd64 && !purego && dlcavx2

package %s

func init() {
	if cpuLevel > isaAVX2 {
		cpuLevel = isaAVX2
	}
}
`

// TestRandom generates -n random graphs, compiles each at -O2 into one
// package of a temporary module with a self-test recording the
// interpreter's outputs on the graph before the passes, then runs the
// module's tests three times: with the best instruction set the CPU has,
// forced down to AVX2, and with -tags purego.
func TestRandom(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	if testing.Short() && *nGraphs > 1 {
		*nGraphs = 1
	}
	dir := t.TempDir()
	if *keep != "" {
		dir = *keep
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module difftest\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ps, err := passes.Select(2, "")
	if err != nil {
		t.Fatal(err)
	}
	seeds := map[string]uint64{}
	paths := map[string]int{}
	simd := false
	for i := range *nGraphs {
		seed := *seed0 + uint64(i)
		g, err := Graph(seed, *chains)
		if err != nil {
			t.Fatalf("building graph: %v", err)
		}
		name := fmt.Sprintf("g%d", seed)
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		// The graph as built, for a failure's report.
		if err := os.WriteFile(filepath.Join(dir, name+".ir"), []byte(ir.Print(g)), 0o644); err != nil {
			t.Fatal(err)
		}
		og := g.Clone()
		if err := passes.Run(og, ps, passes.Options{Verify: true}); err != nil {
			t.Errorf("seed %d: passes: %v\n%s", seed, err, ir.Print(g))
			continue
		}
		for _, n := range og.Nodes {
			if s := n.Schedule; s != nil {
				// Split even the small kernels (codegen splits those it can).
				s.Threads = workers(seed)
			}
			if s := n.Schedule; s != nil && (s.Kernel != "" || s.Algo != "") {
				paths[fmt.Sprintf("%s %s %s threads %d", n.Op, s.Algo, s.Kernel, s.Workers())]++
			}
		}
		ins := codegen.RandomInputs(g, seed)
		outs, err := dlcrt.Run(g, ins)
		if err != nil {
			t.Errorf("seed %d: interpreter: %v\n%s", seed, err, ir.Print(g))
			continue
		}
		files, err := codegen.Generate(og, codegen.Options{Package: name, SelfTest: true, TestInputs: ins, TestOutputs: outs})
		if err != nil {
			t.Errorf("seed %d: generate: %v\n%s", seed, err, ir.Print(og))
			continue
		}
		if _, ok := files["kernels_amd64.go"]; ok {
			files["isa_dlcavx2_test.go"] = []byte(fmt.Sprintf(isaFile, name))
			simd = true
		}
		if err := codegen.WritePackage(filepath.Join(dir, name), files); err != nil {
			t.Fatal(err)
		}
		seeds[name] = seed
	}
	if t.Failed() {
		return
	}
	var cover []string
	for p, n := range paths {
		cover = append(cover, fmt.Sprintf("%s ×%d", strings.Join(strings.Fields(p), " "), n))
	}
	sort.Strings(cover)
	t.Logf("schedules covered:\n\t%s", strings.Join(cover, "\n\t"))
	modes := [][]string{nil}
	if runtime.GOARCH == "amd64" && simd {
		modes = append(modes, []string{"-tags", "dlcavx2"}, []string{"-tags", "purego"})
	}
	for _, m := range modes {
		args := append([]string{"test", "-count=1"}, m...)
		out, err := goCmd(dir, append(args, "./...")...)
		if err != nil {
			t.Errorf("go %s ./... failed: %v\n%s", strings.Join(args, " "), err, report(dir, out, seeds))
		}
	}
}

// report trims the go test output and names each failing package's seed
// and the file with its graph.
func report(dir, out string, seeds map[string]uint64) string {
	var b strings.Builder
	for _, m := range regexp.MustCompile(`(?m)^(?:FAIL|---.*)\s+difftest/(g\d+)`).FindAllStringSubmatch(out, -1) {
		name := m[1]
		fmt.Fprintf(&b, "%s: seed %d; rerun with -args -n 1 -seed %d -keep DIR; graph in %s\n",
			name, seeds[name], seeds[name], filepath.Join(dir, name+".ir"))
	}
	if len(out) > 20000 {
		out = out[:20000]
	}
	return b.String() + out
}

func goCmd(dir string, args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	return buf.String(), err
}

// TestGraphsValid builds many random graphs without compiling them: every
// seed gives a graph that verifies and runs in the interpreter.
func TestGraphsValid(t *testing.T) {
	for seed := uint64(1000); seed < 1200; seed++ {
		g, err := Graph(seed, *chains)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dlcrt.Run(g, codegen.RandomInputs(g, seed)); err != nil {
			t.Fatalf("seed %d: %v\n%s", seed, err, ir.Print(g))
		}
	}
}

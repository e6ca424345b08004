// Command bench measures what dlc's optimizing passes buy. It compiles
// every example model (examples/*/model.dl) and every ONNX fixture model
// (frontend/onnx/testdata/models/*/model.onnx) at -O0 (a direct
// translation) and -O2 into one temporary Go module, plus one-layer
// packages for the largest convolutions, builds each package's test
// binary once, then runs all the benchmarks interleaved, several rounds,
// and prints medians: latency at -O0 and -O2 and their ratio, the
// reference interpreter's latency, GFLOP/s (2 × ir.MACs per second), and
// the arena the planning pass lays out against the naive sum of all
// intermediate values.
//
// Usage (from the module root):
//
//	go run ./bench [-rounds 5] [-benchtime 200ms] [-layers 6] [-run REGEXP] [-keep DIR]
//
// Models without a weights file get deterministic random weights: speed
// does not depend on their values.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dlcompiler/dlc/codegen"
	"github.com/dlcompiler/dlc/compiler"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/passes"
	rt "github.com/dlcompiler/dlc/runtime"
)

func main() {
	rounds := flag.Int("rounds", 5, "benchmark rounds; each round runs every package once, and medians are reported")
	benchtime := flag.String("benchtime", "200ms", "go test -benchtime per package per round")
	layers := flag.Int("layers", 6, "how many of the largest conv layers to time alone")
	run := flag.String("run", "", "only models whose name matches this regexp")
	keep := flag.String("keep", "", "write the generated module here and keep it (default: a temporary directory, removed)")
	gemm := flag.Bool("gemm", false, "run the GEMM microbenchmark (s×s×s dense layers, 64 ≤ s ≤ 1024) against the one-core FMA peaks instead of the models")
	flag.Func("sizes", "with -gemm: the sizes s, comma-separated (default 64,128,256,384,512,768,1024)", func(v string) error {
		gemmSizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				return fmt.Errorf("bad size %q", f)
			}
			gemmSizes = append(gemmSizes, n)
		}
		return nil
	})
	flag.BoolVar(&cpuClock, "cpu", false, "with -gemm: time by CPU time (the peak loop's thread, the benchmark processes' user+system time) rather than wall time, which a loaded machine inflates")
	flag.Parse()
	if *gemm {
		dir, done, err := benchDir(*keep)
		if err == nil {
			err = benchGEMM(*rounds, *benchtime, dir)
			done()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := bench(*rounds, *benchtime, *layers, *run, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// model is one model (or one-layer graph) compiled at both levels.
type model struct {
	name     string
	ref      *ir.Graph // as loaded, before any pass
	o2       *ir.Graph // after the -O2 passes
	macs     int64
	naive    int // bytes of all intermediates, no reuse
	arena    int // bytes of the planned arena (-O2)
	scratch  [2]int
	ns       [][]float64 // ns/op per round of each variant: -O0, -O2, then alt
	alt      []*ir.Graph // one-layer graphs: the other algorithms' schedules
	interp   []float64
	layer    string // for one-layer graphs: the layer's name and schedule
	inputs   []*ir.Tensor
	binaries []string
}

func bench(rounds int, benchtime string, nlayers int, run, keep string) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	dir, done, err := benchDir(keep)
	if err != nil {
		return err
	}
	defer done()
	var paths []string
	for _, pat := range []string{"examples/*/model.dl", "frontend/onnx/testdata/models/*/model.onnx"} {
		m, _ := filepath.Glob(filepath.Join(root, pat))
		paths = append(paths, m...)
	}
	re, err := regexp.Compile(run)
	if err != nil {
		return err
	}
	var models []*model
	for _, p := range paths {
		kind := "dl"
		if strings.HasSuffix(p, ".onnx") {
			kind = "onnx"
		}
		name := filepath.Base(filepath.Dir(p)) + "." + kind
		if !re.MatchString(name) {
			continue
		}
		g, err := load(p)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: skipping %s: %v\n", name, err)
			continue
		}
		models = append(models, &model{name: name, ref: g})
	}
	// The largest conv layers of the -O2 graphs, each alone.
	type cand struct {
		m *model
		n *ir.Node
	}
	var convs []cand
	for _, m := range models {
		if err := m.optimize(); err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		for _, n := range m.o2.Nodes {
			if n.Op == "conv" || n.Op == "fused_conv" {
				convs = append(convs, cand{m, n})
			}
		}
	}
	sort.SliceStable(convs, func(i, j int) bool { return layerMACs(convs[i].n) > layerMACs(convs[j].n) })
	seen := map[string]bool{}
	var layerModels []*model
	for _, c := range convs {
		if len(layerModels) == nlayers {
			break
		}
		key := c.n.Inputs[0].Type.String() + c.n.Inputs[1].Type.String() + ir.FormatAttr(c.n.Attrs.Ints("strides"))
		if seen[key] {
			continue // same layer shape in another model (dl and onnx twins)
		}
		seen[key] = true
		lm, err := oneLayer(c.m.name, c.n)
		if err != nil {
			return err
		}
		layerModels = append(layerModels, lm)
	}
	all := append(append([]*model(nil), models...), layerModels...)
	fmt.Fprintf(os.Stderr, "bench: generating %d packages in %s\n", 2*len(all), dir)
	for i, m := range all {
		if err := m.generate(dir, fmt.Sprintf("m%02d", i)); err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
	}
	fmt.Fprintf(os.Stderr, "bench: building test binaries\n")
	for _, m := range all {
		for _, b := range m.binaries {
			if err := build(dir, b); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
		}
		m.ns = make([][]float64, len(m.binaries))
	}
	var peaks []float64
	for r := range rounds {
		fmt.Fprintf(os.Stderr, "bench: round %d of %d\n", r+1, rounds)
		peaks = append(peaks, max(peakGFLOPs(100*time.Millisecond), peak512GFLOPs(100*time.Millisecond)))
		for _, m := range all {
			for v, b := range m.binaries {
				ns, err := runBench(dir, b, benchtime)
				if err != nil {
					return fmt.Errorf("%s (%s): %w", m.name, b, err)
				}
				m.ns[v] = append(m.ns[v], ns)
			}
			if m.layer == "" {
				m.interp = append(m.interp, interpret(m.ref, m.inputs))
			}
		}
	}
	report(models, layerModels, rounds, slices.Max(peaks)) // noise only lowers a peak
	return nil
}

// benchDir makes the module the generated packages go in: keep, or a
// temporary directory that done removes.
func benchDir(keep string) (dir string, done func(), err error) {
	dir, done = keep, func() {}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "dlcbench"); err != nil {
			return "", nil, err
		}
		done = func() { os.RemoveAll(dir) }
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module dlcbench\n\ngo 1.26\n"), 0o644); err != nil {
		return "", nil, err
	}
	return dir, done, nil
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("go list -m: %w (run from the dlc module)", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// load reads a model; a .dl model whose weights file is missing (still
// being trained) gets deterministic random weights.
func load(path string) (*ir.Graph, error) {
	g, err := compiler.Load(path, compiler.LoadOptions{})
	if err != nil && strings.HasSuffix(path, ".dl") {
		g, err = compiler.Load(path, compiler.LoadOptions{NoWeights: true})
	}
	if err != nil {
		return nil, err
	}
	if err := rt.InitParams(g, 1); err != nil {
		return nil, err
	}
	return g, nil
}

func (m *model) optimize() error {
	m.macs = 0
	for _, n := range m.ref.Nodes {
		m.macs += ir.MACs(n)
	}
	m.o2 = m.ref.Clone()
	ps, err := passes.Select(2, "")
	if err != nil {
		return err
	}
	if err := passes.Run(m.o2, ps, passes.Options{Verify: true}); err != nil {
		return err
	}
	if m.o2.Memory != nil {
		m.arena, m.naive = m.o2.Memory.Bytes(), m.o2.Memory.Naive
	}
	m.inputs = codegen.RandomInputs(m.ref, 1)
	return nil
}

// layerMACs counts a (possibly fused) conv's multiply-accumulates.
func layerMACs(n *ir.Node) int64 {
	w := n.Inputs[1].Type.Shape
	x := n.Inputs[0].Type.Shape
	out := n.Out().Type.Shape.NumElems()
	if n.Op == "fused_conv" && n.Attrs.String("pool") != "" {
		out *= ir.Shape(n.Attrs.Ints("pool_kernel")).NumElems()
	}
	_ = x
	return int64(out) * int64(w[1:].NumElems())
}

// oneLayer makes a graph of the conv n alone (its fused epilogue and
// schedule included): -O0 of it is the direct loop nest, -O2 what the
// tiling pass chose.
func oneLayer(from string, n *ir.Node) (*model, error) {
	g := ir.NewGraph(ident(n.Name))
	g.Batch = 1
	r := rand.New(rand.NewPCG(7, 7))
	var ins []*ir.Value
	for i, v := range n.Inputs {
		switch {
		case v == nil:
			ins = append(ins, nil)
		case v.Kind == ir.Temp || v.Kind == ir.Input:
			ins = append(ins, g.AddInput(fmt.Sprintf("x%d", i), v.Type, ir.Pos{}))
		default:
			t := ir.NewTensor(ir.F32, v.Type.Shape)
			for j := range t.F32() {
				t.F32()[j] = float32(r.Float64()*0.2 - 0.1)
			}
			ins = append(ins, g.AddParam(fmt.Sprintf("p%d", i), ir.Param, v.Type, t, "", ir.Pos{}))
		}
	}
	nn, err := g.AddNode(n.Op, n.Name, ins, n.Attrs.Clone(), ir.Pos{})
	if err != nil {
		return nil, err
	}
	g.AddOutput("y", nn.Out())
	m := &model{name: from + ":" + n.Name, ref: g, macs: layerMACs(n)}
	m.o2 = g.Clone()
	if s := n.Schedule; s != nil {
		c := *s
		m.o2.Nodes[0].Schedule = &c
	}
	m.layer = n.Op
	if s := m.o2.Nodes[0].Schedule; s != nil {
		m.layer += " " + s.String()
		// The other algorithm, with the tiling pass's register block.
		c := *s
		c.Tiles = map[string]int{}
		if c.Algo == "im2col" {
			c.Algo, c.Kernel = "direct", ""
		} else {
			c.Algo, c.Vector = "im2col", 1
		}
		alt := g.Clone()
		alt.Nodes[0].Schedule = &c
		m.alt = append(m.alt, alt)
	}
	m.inputs = codegen.RandomInputs(g, 1)
	return m, nil
}

func ident(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, s)
}

// generate writes the -O0 and -O2 packages of m under dir/<pkg>o0 and
// dir/<pkg>o2, each with its self-test and benchmark.
func (m *model) generate(dir, pkg string) error {
	var names []string
	for lvl := range 2 + len(m.alt) {
		name := fmt.Sprintf("%so%d", pkg, 2*lvl)
		if lvl > 1 {
			name = fmt.Sprintf("%salt%d", pkg, lvl-1)
		}
		names = append(names, name)
	}
	return m.generateLevels(dir, pkg, append([]*ir.Graph{m.ref, m.o2}, m.alt...), names)
}

// generateLevels writes the packages of gs (the first, for a model, is
// compiled at -O0) under dir/names[i].
func (m *model) generateLevels(dir, pkg string, gs []*ir.Graph, names []string) error {
	outs, err := rt.Run(m.ref, m.inputs)
	if err != nil {
		return fmt.Errorf("interpreter: %w", err)
	}
	for lvl, g := range gs {
		if lvl == 0 && m.layer == "" && g == m.ref {
			g = m.ref.Clone()
			ps, err := passes.Select(0, "")
			if err != nil {
				return err
			}
			if err := passes.Run(g, ps, passes.Options{Verify: true}); err != nil {
				return err
			}
		}
		name := names[lvl]
		files, err := codegen.Generate(g, codegen.Options{Package: name, SelfTest: true, TestInputs: m.inputs, TestOutputs: outs})
		if err != nil {
			return err
		}
		if err := codegen.WritePackage(filepath.Join(dir, name), files); err != nil {
			return err
		}
		if b, ok := files[name+".go"]; ok && lvl < 2 {
			if s := regexp.MustCompile(`ScratchBytes = (\d+)`).FindSubmatch(b); s != nil {
				m.scratch[lvl], _ = strconv.Atoi(string(s[1]))
			}
		}
		m.binaries = append(m.binaries, name)
	}
	return nil
}

// build compiles a package's test binary, running its self-test once
// (a benchmark of wrong code would be meaningless).
func build(dir, pkg string) error {
	cmd := exec.Command("go", "test", "-c", "-o", pkg+".test", "./"+pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go test -c: %v\n%s", err, out)
	}
	cmd = exec.Command(filepath.Join(dir, pkg+".test"), "-test.run", "SelfTest")
	cmd.Dir = filepath.Join(dir, pkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("self-test: %v\n%s", err, out)
	}
	return nil
}

var nsRe = regexp.MustCompile(`BenchmarkRun\S*\s+\d+\s+([0-9.]+) ns/op`)

func runBench(dir, pkg, benchtime string) (float64, error) {
	cmd := exec.Command(filepath.Join(dir, pkg+".test"), "-test.run", "^$", "-test.bench", ".", "-test.benchtime", benchtime)
	cmd.Dir = filepath.Join(dir, pkg)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%v\n%s", err, buf.String())
	}
	m := nsRe.FindStringSubmatch(buf.String())
	if m == nil {
		return 0, fmt.Errorf("no ns/op in\n%s", buf.String())
	}
	return strconv.ParseFloat(m[1], 64)
}

// interpret times the reference interpreter: the median of a few runs.
func interpret(g *ir.Graph, ins []*ir.Tensor) float64 {
	var ts []float64
	deadline := time.Now().Add(300 * time.Millisecond)
	for len(ts) < 3 || (len(ts) < 50 && time.Now().Before(deadline)) {
		t0 := time.Now()
		if _, err := rt.Run(g, ins); err != nil {
			return 0
		}
		ts = append(ts, float64(time.Since(t0).Nanoseconds()))
	}
	return median(ts)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func dur(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2fms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1fµs", ns/1e3)
	}
	return fmt.Sprintf("%.0fns", ns)
}

func kib(b int) string { return fmt.Sprintf("%.1fK", float64(b)/1024) }

func report(models, layers []*model, rounds int, peak float64) {
	fmt.Printf("dlc bench: %s/%s, %d CPUs, GOMAXPROCS %d, medians of %d interleaved rounds\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), rounds)
	if peak > 0 {
		name := peakName
		if havePeak512() {
			name = peak512Name
		}
		fmt.Printf("machine peak: %.1f GFLOP/s (%s; bench/peak_amd64.s)\n\n", peak, name)
	} else {
		fmt.Printf("machine peak: not measured (no FMA)\n\n")
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "model\tMMACs\tinterp\t-O0\t-O2\t-O0/-O2\tinterp/-O2\tGFLOP/s -O0\tGFLOP/s -O2\tarena -O2\tnaive\tscratch -O0\tscratch -O2\t")
	for _, m := range models {
		o0, o2, in := median(m.ns[0]), median(m.ns[1]), median(m.interp)
		fmt.Fprintf(w, "%s\t%.2f\t%s\t%s\t%s\t%.2fx\t%.0fx\t%.2f\t%.2f\t%s\t%s\t%s\t%s\t\n", m.name, float64(m.macs)/1e6,
			dur(in), dur(o0), dur(o2), o0/o2, in/o2, 2*float64(m.macs)/o0, 2*float64(m.macs)/o2,
			kib(m.arena), kib(m.naive), kib(m.scratch[0]), kib(m.scratch[1]))
	}
	w.Flush()
	if len(layers) == 0 {
		return
	}
	fmt.Println("\nlargest conv layers alone (-O0: direct loops, no schedule; -O2: the tiling pass's schedule):")
	fmt.Println()
	w = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "layer\tMMACs\t-O0\t-O2\t-O0/-O2\tGFLOP/s -O0\tGFLOP/s -O2\t% peak\tother algo\tkernel (-O2)")
	for _, m := range layers {
		o0, o2 := median(m.ns[0]), median(m.ns[1])
		alt := "-"
		if len(m.ns) > 2 {
			a := median(m.ns[2])
			alt = fmt.Sprintf("%.2f GFLOP/s", 2*float64(m.macs)/a)
		}
		pct := "-"
		if peak > 0 {
			pct = fmt.Sprintf("%.0f%%", 100*2*float64(m.macs)/o2/peak)
		}
		fmt.Fprintf(w, "%s\t%.2f\t%s\t%s\t%.2fx\t%.2f\t%.2f\t%s\t%s\t%s\n", m.name, float64(m.macs)/1e6, dur(o0), dur(o2), o0/o2,
			2*float64(m.macs)/o0, 2*float64(m.macs)/o2, pct, alt, m.layer)
	}
	w.Flush()
}

// Command onnxgo compares dlc's pure-Go generated code with onnx-go
// (github.com/owulveryck/onnx-go v0.5.0 with its gorgonia backend,
// backend/x/gorgonnx), the best pure-Go peer. For every ONNX fixture model
// (frontend/onnx/testdata/models/*/model.onnx) and every benchmark model of
// bench/ort (../ort/models/*/model.onnx; the two large ones are git-ignored,
// made by ../ort/models/export.py) it
//
//  1. loads the model in onnx-go, runs it on the fixture's input_*.npy and
//     checks the outputs against output_*.npy; a model onnx-go cannot load,
//     cannot run or gets wrong is reported as such (not fatal) and not
//     timed (and dlc's side is not built);
//  2. compiles the model with dlc at -O2 (compiler.Compile, with the
//     self-test) into a temporary Go module, builds the package's test
//     binary with -tags purego (the pure-Go kernels every GOARCH but amd64
//     runs) and runs its self-test against dlc's interpreter;
//  3. times both, interleaved, -rounds times, on one core: the generated
//     package's BenchmarkRun (go test -bench with -test.cpu 1, i.e.
//     GOMAXPROCS 1) and onnx-go's SetInput + Run in process, with
//     runtime.GOMAXPROCS(1) and the goroutine locked to its thread for the
//     timing loop;
//
// and prints medians over the rounds. The ratio is onnx-go time / dlc
// time: above 1 means dlc's code is faster.
//
// It lives in its own Go module (github.com/dlcompiler/dlc/bench/onnxgo) so
// that dlc itself does not depend on onnx-go, gorgonia and gonum.
//
// Usage (from bench/onnxgo):
//
//	go run . [-rounds 5] [-benchtime 200ms] [-run REGEXP] [-keep DIR] [-clock wall|cpu]
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dlcompiler/dlc/bench/internal/harness"
	"github.com/dlcompiler/dlc/codegen"
	"github.com/dlcompiler/dlc/compiler"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/passes"
	"github.com/dlcompiler/dlc/weights"
	onnx "github.com/owulveryck/onnx-go"
	"github.com/owulveryck/onnx-go/backend/x/gorgonnx"
	"gorgonia.org/tensor"
)

// order is the order of the report (bench/ort's); models not listed follow
// in alphabetical order.
var order = []string{"mlp", "lenet5", "vgg_bn", "resnet_small", "text_cnn", "conv3d", "lstm_lm", "gru_classifier", "tanh_rnn",
	"mlp64", "lstm_lm_128", "resnet18", "mobilenet_v2"}

// tol is the largest accepted |got - want| / max(1, |want|) against the
// fixture's recorded outputs (bench/ort's).
const tol = 1e-4

// clock is the -clock flag: "wall" or "cpu".
var clock string

func main() {
	rounds := flag.Int("rounds", 5, "benchmark rounds; each round times every model once on each side, and medians are reported")
	benchtime := flag.Duration("benchtime", 200*time.Millisecond, "time per model per side per round (go test -benchtime for dlc, the Run loop for onnx-go)")
	run := flag.String("run", "", "only models whose name matches this regexp")
	keep := flag.String("keep", "", "write the generated Go module here and keep it (default: a temporary directory, removed)")
	flag.StringVar(&clock, "clock", "wall", "what times both sides: wall (elapsed time) or cpu (the process's CPU time, which survives other jobs loading the machine; see bench/internal/harness/cpuclock.go)")
	flag.Parse()
	if clock != "wall" && clock != "cpu" {
		fmt.Fprintf(os.Stderr, "onnxgo: -clock %q: want wall or cpu\n", clock)
		os.Exit(2)
	}
	if err := bench(*rounds, *benchtime, *run, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "onnxgo:", err)
		os.Exit(1)
	}
}

// model is one ONNX fixture on both sides.
type model struct {
	name, dir string
	macs      int64

	// onnx-go
	backend *gorgonnx.Graph
	og      *onnx.Model
	ins     []tensor.Tensor
	want    []*weights.Tensor
	maxErr  float64
	ogErr   error
	ogNs    []float64

	// dlc -O2, purego
	pkg    string
	dlcErr error
	dlcNs  []float64
}

func bench(rounds int, benchtime time.Duration, run, keep string) error {
	self, err := goList("-m", "-f", "{{.Dir}}")
	if err != nil {
		return err
	}
	root, err := goList("-m", "-f", "{{.Dir}}", "github.com/dlcompiler/dlc")
	if err != nil {
		return err
	}
	dir := keep
	if dir == "" {
		if dir, err = os.MkdirTemp("", "dlconnxgo"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module dlconnxgobench\n\ngo 1.26\n"), 0o644); err != nil {
		return err
	}
	re, err := regexp.Compile(run)
	if err != nil {
		return err
	}
	paths, _ := filepath.Glob(filepath.Join(root, "frontend/onnx/testdata/models/*/model.onnx"))
	more, _ := filepath.Glob(filepath.Join(self, "../ort/models/*/model.onnx"))
	paths = append(paths, more...)
	rank := func(p string) int {
		if i := slices.Index(order, filepath.Base(filepath.Dir(p))); i >= 0 {
			return i
		}
		return len(order)
	}
	sort.SliceStable(paths, func(i, j int) bool { return rank(paths[i]) < rank(paths[j]) })
	var models []*model
	for _, p := range paths {
		name := filepath.Base(filepath.Dir(p))
		if !re.MatchString(name) {
			continue
		}
		m := &model{name: name, dir: filepath.Dir(p), pkg: compiler.PackageName(name)}
		fmt.Fprintf(os.Stderr, "onnxgo: %s: onnx-go\n", name)
		m.ogErr = m.setupOnnxGo()
		models = append(models, m)
		if m.ogErr != nil {
			// Nothing to compare with: dlc's side is not built.
			fmt.Fprintf(os.Stderr, "onnxgo: %s: onnx-go: %v\n", name, harness.FirstLines(m.ogErr, 3))
			continue
		}
		fmt.Fprintf(os.Stderr, "onnxgo: %s: dlc -O2 purego\n", name)
		if m.dlcErr = m.setupDLC(dir); m.dlcErr != nil {
			fmt.Fprintf(os.Stderr, "onnxgo: %s: dlc: %v\n", name, m.dlcErr)
		}
	}
	if len(models) == 0 {
		return fmt.Errorf("no model matches %q", run)
	}
	for r := range rounds {
		fmt.Fprintf(os.Stderr, "onnxgo: round %d of %d\n", r+1, rounds)
		for _, m := range models {
			if m.ogErr != nil {
				continue // nothing to compare with
			}
			// Interleaved, alternating which side goes first.
			for k := range 2 {
				if (k+r)%2 == 0 {
					if m.dlcErr == nil {
						var ns float64
						var err error
						if clock == "cpu" {
							ns, err = harness.RunBenchCPU(dir, m.pkg, benchtime, "-test.cpu", "1")
						} else {
							ns, err = harness.RunBench(dir, m.pkg, benchtime, "-test.cpu", "1")
						}
						if err != nil {
							m.dlcErr = err
							fmt.Fprintf(os.Stderr, "onnxgo: %s: dlc: %v\n", m.name, err)
						} else {
							m.dlcNs = append(m.dlcNs, ns)
						}
					}
				} else if m.ogErr == nil {
					ns, err := m.timeOnnxGo(benchtime)
					if err != nil {
						m.ogErr = err
						fmt.Fprintf(os.Stderr, "onnxgo: %s: onnx-go: %v\n", m.name, err)
					} else {
						m.ogNs = append(m.ogNs, ns)
					}
				}
			}
		}
	}
	report(models, rounds)
	return nil
}

func goList(args ...string) (string, error) {
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		return "", fmt.Errorf("go list %s: %w (run from bench/onnxgo)", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}

// guard turns a panic inside onnx-go (it panics on some graphs it does
// not support) into an error.
func guard(what string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s panicked: %v", what, r)
		}
	}()
	return f()
}

// setupOnnxGo loads the model into onnx-go, runs it once on the fixture's
// inputs and checks the outputs.
func (m *model) setupOnnxGo() error {
	b, err := os.ReadFile(filepath.Join(m.dir, "model.onnx"))
	if err != nil {
		return err
	}
	inputs, err := harness.Npys(m.dir, "input")
	if err != nil {
		return err
	}
	if m.want, err = harness.Npys(m.dir, "output"); err != nil {
		return err
	}
	for i, t := range inputs {
		switch t.DType {
		case weights.F32:
			m.ins = append(m.ins, tensor.New(tensor.WithShape(t.Shape...), tensor.WithBacking(slices.Clone(t.F32()))))
		case weights.I64:
			m.ins = append(m.ins, tensor.New(tensor.WithShape(t.Shape...), tensor.WithBacking(slices.Clone(t.I64()))))
		default:
			return fmt.Errorf("input %d: dtype %v", i, t.DType)
		}
	}
	m.backend = gorgonnx.NewGraph()
	m.og = onnx.NewModel(m.backend)
	if err := guard("load", func() error { return m.og.UnmarshalBinary(b) }); err != nil {
		return fmt.Errorf("cannot load: %w", err)
	}
	if len(m.og.Input) != len(m.ins) || len(m.og.Output) != len(m.want) {
		return fmt.Errorf("cannot load: model has %d inputs and %d outputs, fixture %d and %d", len(m.og.Input), len(m.og.Output), len(m.ins), len(m.want))
	}
	var outs []tensor.Tensor
	if err := guard("run", func() error {
		if err := m.runOnce(); err != nil {
			return err
		}
		outs, err = m.og.GetOutputTensors()
		return err
	}); err != nil {
		if v := reflect.ValueOf(err); v.Kind() == reflect.Pointer && v.IsNil() {
			// gorgonnx's generated element-wise operators return a typed
			// nil *onnx.ErrNotImplemented when broadcasting fails with
			// any other error, losing it.
			return fmt.Errorf("cannot run: an element-wise operator failed (onnx-go returns a nil %T)", err)
		}
		return fmt.Errorf("cannot run: %w", err)
	}
	for i, t := range m.want {
		if outs[i] == nil {
			return fmt.Errorf("wrong: output %d is nil", i)
		}
		got, ok := outs[i].Data().([]float32)
		if !ok || t.DType != weights.F32 {
			return fmt.Errorf("wrong: output %d is %T, want %v", i, outs[i].Data(), t.DType)
		}
		want := t.F32()
		if len(got) != len(want) {
			return fmt.Errorf("wrong: output %d has %d elements (shape %v), want %d (%v)", i, len(got), outs[i].Shape(), len(want), t.Shape)
		}
		for j := range got {
			e := math.Abs(float64(got[j])-float64(want[j])) / max(1, math.Abs(float64(want[j])))
			if !(e <= m.maxErr) { // NaN sticks
				m.maxErr = e
			}
		}
	}
	if !(m.maxErr <= tol) {
		return fmt.Errorf("wrong: outputs differ from output_*.npy: max |got-want|/max(1,|want|) = %.3g > %g", m.maxErr, tol)
	}
	return nil
}

// runOnce is one inference as a user of onnx-go runs it: set the inputs,
// run the backend's graph (gorgonia's tape machine, reset per call).
func (m *model) runOnce() error {
	for i, t := range m.ins {
		if err := m.og.SetInput(i, t); err != nil {
			return err
		}
	}
	return m.backend.Run()
}

// timeOnnxGo runs the model for about d after a warm-up, with GOMAXPROCS 1
// (Go code on one core, as -test.cpu 1 does for dlc's benchmark) and this
// goroutine locked to its thread, and returns the mean ns per run.
func (m *model) timeOnnxGo(d time.Duration) (ns float64, err error) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	err = guard("run", func() error {
		warm := time.Now().Add(d / 10)
		for i := 0; i < 3 || time.Now().Before(warm); i++ {
			if err := m.runOnce(); err != nil {
				return err
			}
		}
		runtime.GC() // start clean: onnx-go allocates per call, and its GC time is its cost
		n := 0
		t0, c0 := time.Now(), harness.CPUNow()
		for ; n < 5 || time.Since(t0) < d; n++ {
			if err := m.runOnce(); err != nil {
				return err
			}
		}
		ns = float64(time.Since(t0).Nanoseconds()) / float64(n)
		if clock == "cpu" {
			ns = (harness.CPUNow() - c0) / float64(n)
		}
		return nil
	})
	return ns, err
}

// setupDLC compiles the model at -O2 with its self-test into dir/<pkg>,
// builds the test binary with -tags purego and runs the self-test once (a
// benchmark of wrong code would be meaningless).
func (m *model) setupDLC(dir string) error {
	g, err := compiler.Load(filepath.Join(m.dir, "model.onnx"), compiler.LoadOptions{})
	if err != nil {
		return err
	}
	for _, n := range g.Nodes {
		m.macs += ir.MACs(n)
	}
	ps, err := passes.Select(2, "")
	if err != nil {
		return err
	}
	files, err := compiler.Compile(g, compiler.Options{Package: m.pkg, Passes: ps, SelfTest: true})
	if err != nil {
		return err
	}
	if err := codegen.WritePackage(filepath.Join(dir, m.pkg), files); err != nil {
		return err
	}
	if err := harness.WriteCPUBench(dir, m.pkg); err != nil {
		return err
	}
	cmd := exec.Command("go", "test", "-c", "-tags", "purego", "-o", m.pkg+".test", "./"+m.pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go test -c -tags purego: %v\n%s", err, out)
	}
	cmd = exec.Command(filepath.Join(dir, m.pkg+".test"), "-test.run", "SelfTest")
	cmd.Dir = filepath.Join(dir, m.pkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("self-test: %v\n%s", err, out)
	}
	return nil
}

func onnxGoVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/owulveryck/onnx-go" {
				return d.Version
			}
		}
	}
	return "(version unknown)"
}

func report(models []*model, rounds int) {
	fmt.Printf("dlc -tags purego vs onnx-go %s (gorgonnx backend), one core (GOMAXPROCS 1 on both sides)\n", onnxGoVersion())
	fmt.Printf("%s/%s, %d CPUs, %s; medians of %d interleaved rounds; %s time\n\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), rounds, clock)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "model\tMMACs\tonnx-go µs\tdlc purego µs\tonnx-go/dlc\tper-round range\tGFLOP/s onnx-go\tGFLOP/s dlc\tonnx-go max err\t")
	var notRun []*model
	var ratios []float64
	for _, m := range models {
		if m.ogErr != nil {
			notRun = append(notRun, m)
			continue
		}
		o, d := harness.Median(m.ogNs), harness.Median(m.dlcNs)
		ratio, spread := "-", "-"
		if !math.IsNaN(o) && !math.IsNaN(d) {
			ratio = fmt.Sprintf("%.2fx", o/d)
			ratios = append(ratios, o/d)
			var rs []float64
			for i := range min(len(m.ogNs), len(m.dlcNs)) {
				rs = append(rs, m.ogNs[i]/m.dlcNs[i])
			}
			spread = fmt.Sprintf("%.2f-%.2f", slices.Min(rs), slices.Max(rs))
		}
		fmt.Fprintf(w, "%s\t%.3f\t%s\t%s\t%s\t%s\t%s\t%s\t%.1e\t\n", m.name, float64(m.macs)/1e6, harness.Micros(o), harness.Micros(d), ratio, spread,
			harness.GFLOPs(m.macs, o), harness.GFLOPs(m.macs, d), m.maxErr)
	}
	w.Flush()
	if len(ratios) > 0 {
		fmt.Printf("\nonnx-go/dlc > 1: dlc's pure-Go code is faster (ratio of the medians; per-round range: min-max of the\n"+
			"ratio within each round); smallest %.2fx, geomean %.2fx over the %d models onnx-go runs.\n", slices.Min(ratios), geomean(ratios), len(ratios))
	}
	if len(notRun) > 0 {
		fmt.Println("\nNot timed (onnx-go cannot load, cannot run, or gets wrong):")
		for _, m := range notRun {
			fmt.Printf("  %s: %s\n", m.name, oneLine(m.ogErr))
		}
	}
	for _, m := range models {
		if m.dlcErr != nil {
			fmt.Printf("\n%s: dlc failed: %v\n", m.name, harness.FirstLines(m.dlcErr, 8))
		}
	}
}

func geomean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += math.Log(x)
	}
	return math.Exp(s / float64(len(v)))
}

func oneLine(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}

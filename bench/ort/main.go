// Command ort compares dlc's generated code with onnxruntime, the usual
// baseline for CPU inference. For every ONNX fixture model
// (frontend/onnx/testdata/models/*/model.onnx) and every benchmark model
// exported by models/export.py (models/*/model.onnx: ResNet-18,
// MobileNetV2, an LSTM language model, an MLP at batch 64; the two large
// ones are git-ignored, so run the script first) it
//
//  1. runs the model in onnxruntime (single-threaded: one intra-op and one
//     inter-op thread, sequential execution, ORT_ENABLE_ALL graph
//     optimizations) on the fixture's input_*.npy and checks the outputs
//     against output_*.npy;
//  2. compiles the model with dlc at -O2 (compiler.Compile, with the
//     self-test) into a temporary Go module, builds the package's test
//     binary and runs its self-test against dlc's interpreter;
//  3. times both, interleaved, -rounds times: the generated package's
//     BenchmarkRun (go test -bench, one zero-allocation call on the
//     recorded self-test inputs) and onnxruntime's Run on the fixture
//     inputs with preallocated input and output tensors, in process;
//
// and prints medians over the rounds. The ratio is ORT time / dlc time:
// above 1 means dlc's code is faster.
//
// It lives in its own Go module (github.com/dlcompiler/dlc/bench/ort) so
// that dlc itself needs neither cgo nor onnxruntime. The shared library
// comes from the npm package onnxruntime-node; see ../README.md.
//
// Usage (from bench/ort):
//
//	ONNXRUNTIME_NODE_INSTALL=skip npm ci   # once: fetches libonnxruntime.so
//	go run . [-rounds 5] [-benchtime 200ms] [-run REGEXP] [-lib PATH] [-keep DIR] [-threads N] [-clock wall|cpu]
//
// With -threads N the models are also compiled with dlc compile -threads N
// and timed right after the one-thread package in every round; the table
// gains their time and the speed-up over one thread (onnxruntime stays on
// one thread: the ORT/dlc ratio is the one-thread one).
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/dlcompiler/dlc/bench/internal/harness"
	"github.com/dlcompiler/dlc/codegen"
	"github.com/dlcompiler/dlc/compiler"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/passes"
	"github.com/dlcompiler/dlc/weights"
	ort "github.com/yalue/onnxruntime_go"
)

// order is the order of the report; fixture models not listed follow in
// alphabetical order.
var order = []string{"mlp", "lenet5", "vgg_bn", "resnet_small", "text_cnn", "conv3d", "lstm_lm", "gru_classifier", "tanh_rnn",
	"mlp64", "lstm_lm_128", "resnet18", "mobilenet_v2"}

// exported lists the models of models/export.py (in bench/ort/models);
// resnet18 and mobilenet_v2 are too large to commit, so a fresh checkout
// has only the script's committed outputs until it runs.
var exported = []string{"resnet18", "mobilenet_v2", "lstm_lm_128", "mlp64"}

// exportCmd makes the models of exported (from bench/ort).
const exportCmd = "/usr/bin/python3 models/export.py"

// tol is the largest accepted |ort - want| / max(1, |want|) against the
// fixture's recorded outputs.
const tol = 1e-4

func main() {
	rounds := flag.Int("rounds", 5, "benchmark rounds; each round times every model once on each side, and medians are reported")
	benchtime := flag.Duration("benchtime", 200*time.Millisecond, "time per model per side per round (go test -benchtime for dlc, the Run loop for ORT)")
	run := flag.String("run", "", "only models whose name matches this regexp")
	lib := flag.String("lib", "", "path of libonnxruntime.so (default: $ONNXRUNTIME_LIB, else the one under node_modules/onnxruntime-node)")
	keep := flag.String("keep", "", "write the generated Go module here and keep it (default: a temporary directory, removed)")
	flag.IntVar(&threads, "threads", 1, "also compile each model with dlc compile -threads `N` (N > 1) and time it in the same rounds: two more columns")
	flag.StringVar(&clock, "clock", "wall", "what times both sides: wall (elapsed time) or cpu (CPU time: dlc's test process and ORT's calling thread, which survives other jobs loading the machine; not with -threads)")
	flag.Parse()
	if clock != "wall" && clock != "cpu" || clock == "cpu" && threads > 1 {
		fmt.Fprintf(os.Stderr, "ort: -clock %q: want wall or cpu, and cpu only with one thread\n", clock)
		os.Exit(2)
	}
	if err := bench(*rounds, *benchtime, *run, *lib, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "ort:", err)
		os.Exit(1)
	}
}

// threads is -threads: with N > 1 every model is also compiled for N
// threads (package <pkg>t) and timed right after the one-thread package.
var threads int

// clock is -clock: "wall" or "cpu" (see bench/internal/harness/cpuclock.go).
var clock string

// model is one ONNX fixture on both sides.
type model struct {
	name, dir string
	macs      int64

	// onnxruntime
	sess     *ort.AdvancedSession
	ins      []ort.Value
	outs     []ort.Value
	want     []*weights.Tensor
	maxErr   float64
	ortErr   error
	ortNs    []float64
	ortIter  []int
	cpuRatio float64 // the largest process/thread CPU time ratio of a timing loop

	// dlc -O2
	pkg    string
	dlcErr error
	dlcNs  []float64
	// dlc -O2 -threads N (when threads > 1)
	thrErr error
	thrNs  []float64
}

func bench(rounds int, benchtime time.Duration, run, lib, keep string) error {
	self, err := goList("-m", "-f", "{{.Dir}}")
	if err != nil {
		return err
	}
	root, err := goList("-m", "-f", "{{.Dir}}", "github.com/dlcompiler/dlc")
	if err != nil {
		return err
	}
	if lib == "" {
		lib = os.Getenv("ONNXRUNTIME_LIB")
	}
	if lib == "" {
		m, _ := filepath.Glob(filepath.Join(self, "node_modules/onnxruntime-node/bin/napi-v*/linux/x64/libonnxruntime.so*"))
		if len(m) == 0 {
			return fmt.Errorf("no libonnxruntime.so under %s/node_modules: run `ONNXRUNTIME_NODE_INSTALL=skip npm ci` in bench/ort, or pass -lib", self)
		}
		sort.Strings(m)
		lib = m[len(m)-1]
	}
	ort.SetSharedLibraryPath(lib)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("onnxruntime (%s): %w", lib, err)
	}
	defer ort.DestroyEnvironment()
	opts, err := sessionOptions()
	if err != nil {
		return err
	}
	defer opts.Destroy()

	dir := keep
	if dir == "" {
		if dir, err = os.MkdirTemp("", "dlcort"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module dlcortbench\n\ngo 1.26\n"), 0o644); err != nil {
		return err
	}

	re, err := regexp.Compile(run)
	if err != nil {
		return err
	}
	var missing []string
	paths, _ := filepath.Glob(filepath.Join(root, "frontend/onnx/testdata/models/*/model.onnx"))
	for _, name := range exported {
		p := filepath.Join(self, "models", name, "model.onnx")
		if _, err := os.Stat(p); err == nil {
			paths = append(paths, p)
		} else if re.MatchString(name) {
			missing = append(missing, name)
			fmt.Fprintf(os.Stderr, "ort: %s: no %s: run `%s` in bench/ort\n", name, p, exportCmd)
		}
	}
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
		fmt.Fprintf(os.Stderr, "ort: %s: onnxruntime\n", name)
		m.ortErr = m.setupORT(opts)
		fmt.Fprintf(os.Stderr, "ort: %s: dlc -O2\n", name)
		m.dlcErr = m.setupDLC(dir, m.pkg, 1)
		if threads > 1 {
			fmt.Fprintf(os.Stderr, "ort: %s: dlc -O2 -threads %d\n", name, threads)
			if m.thrErr = m.setupDLC(dir, m.pkg+"t", threads); m.thrErr != nil {
				fmt.Fprintf(os.Stderr, "ort: %s: dlc -threads %d: %v\n", name, threads, m.thrErr)
			}
		}
		if m.ortErr != nil {
			fmt.Fprintf(os.Stderr, "ort: %s: onnxruntime: %v\n", name, m.ortErr)
		}
		if m.dlcErr != nil {
			fmt.Fprintf(os.Stderr, "ort: %s: dlc: %v\n", name, m.dlcErr)
		}
		models = append(models, m)
	}
	defer func() {
		for _, m := range models {
			m.destroy()
		}
	}()
	if len(models) == 0 {
		if len(missing) > 0 {
			return fmt.Errorf("%s not exported: run `%s` in bench/ort", strings.Join(missing, ", "), exportCmd)
		}
		return fmt.Errorf("no model matches %q", run)
	}

	for r := range rounds {
		fmt.Fprintf(os.Stderr, "ort: round %d of %d\n", r+1, rounds)
		for _, m := range models {
			// Interleaved, alternating which side goes first.
			for k := range 2 {
				if (k+r)%2 == 0 {
					if m.dlcErr == nil {
						ns, err := harness.RunBench(dir, m.pkg, benchtime)
						if clock == "cpu" {
							ns, err = harness.RunBenchCPU(dir, m.pkg, benchtime)
						}
						if err != nil {
							m.dlcErr = err
							fmt.Fprintf(os.Stderr, "ort: %s: dlc: %v\n", m.name, err)
						} else {
							m.dlcNs = append(m.dlcNs, ns)
						}
					}
					if threads > 1 && m.thrErr == nil {
						ns, err := harness.RunBench(dir, m.pkg+"t", benchtime)
						if err != nil {
							m.thrErr = err
							fmt.Fprintf(os.Stderr, "ort: %s: dlc -threads %d: %v\n", m.name, threads, err)
						} else {
							m.thrNs = append(m.thrNs, ns)
						}
					}
				} else if m.ortErr == nil {
					ns, n, err := m.timeORT(benchtime)
					if err != nil {
						m.ortErr = err
						fmt.Fprintf(os.Stderr, "ort: %s: onnxruntime: %v\n", m.name, err)
					} else {
						m.ortNs = append(m.ortNs, ns)
						m.ortIter = append(m.ortIter, n)
					}
				}
			}
		}
	}
	report(models, rounds, lib)
	if len(missing) > 0 {
		fmt.Printf("\nnot measured (no model.onnx under models/): %s; run `%s` in bench/ort\n", strings.Join(missing, ", "), exportCmd)
	}
	return nil
}

func goList(args ...string) (string, error) {
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		return "", fmt.Errorf("go list %s: %w (run from bench/ort)", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}

// sessionOptions: single-threaded, sequential, all graph optimizations.
func sessionOptions() (*ort.SessionOptions, error) {
	o, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	for _, f := range []func() error{
		func() error { return o.SetIntraOpNumThreads(1) },
		func() error { return o.SetInterOpNumThreads(1) },
		func() error { return o.SetExecutionMode(ort.ExecutionModeSequential) },
		func() error { return o.SetGraphOptimizationLevel(ort.GraphOptimizationLevelEnableAll) },
	} {
		if err := f(); err != nil {
			o.Destroy()
			return nil, fmt.Errorf("session options: %w", err)
		}
	}
	return o, nil
}

func shape(s []int) ort.Shape {
	d := make([]int64, len(s))
	for i, v := range s {
		d[i] = int64(v)
	}
	return ort.NewShape(d...)
}

// setupORT creates the session with preallocated input and output tensors
// (the fixture's inputs; outputs shaped like the fixture's outputs), runs
// it once and checks the outputs.
func (m *model) setupORT(opts *ort.SessionOptions) error {
	path := filepath.Join(m.dir, "model.onnx")
	inInfo, outInfo, err := ort.GetInputOutputInfo(path)
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
	if len(inputs) != len(inInfo) || len(m.want) != len(outInfo) {
		return fmt.Errorf("model has %d inputs and %d outputs, fixture %d and %d", len(inInfo), len(outInfo), len(inputs), len(m.want))
	}
	var inNames, outNames []string
	for i, t := range inputs {
		inNames = append(inNames, inInfo[i].Name)
		var v ort.Value
		switch t.DType {
		case weights.F32:
			v, err = ort.NewTensor(shape(t.Shape), slices.Clone(t.F32()))
		case weights.I64:
			v, err = ort.NewTensor(shape(t.Shape), slices.Clone(t.I64()))
		default:
			err = fmt.Errorf("input %d: dtype %v", i, t.DType)
		}
		if err != nil {
			return err
		}
		m.ins = append(m.ins, v)
	}
	for i, t := range m.want {
		outNames = append(outNames, outInfo[i].Name)
		var v ort.Value
		switch t.DType {
		case weights.F32:
			v, err = ort.NewEmptyTensor[float32](shape(t.Shape))
		case weights.I64:
			v, err = ort.NewEmptyTensor[int64](shape(t.Shape))
		default:
			err = fmt.Errorf("output %d: dtype %v", i, t.DType)
		}
		if err != nil {
			return err
		}
		m.outs = append(m.outs, v)
	}
	if m.sess, err = ort.NewAdvancedSession(path, inNames, outNames, m.ins, m.outs, opts); err != nil {
		return err
	}
	if err := m.sess.Run(); err != nil {
		return err
	}
	for i, t := range m.want {
		var got, want []float64
		switch t.DType {
		case weights.F32:
			for j, g := range m.outs[i].(*ort.Tensor[float32]).GetData() {
				got, want = append(got, float64(g)), append(want, float64(t.F32()[j]))
			}
		case weights.I64:
			for j, g := range m.outs[i].(*ort.Tensor[int64]).GetData() {
				got, want = append(got, float64(g)), append(want, float64(t.I64()[j]))
			}
		}
		for j := range got {
			e := math.Abs(got[j]-want[j]) / max(1, math.Abs(want[j]))
			if !(e <= m.maxErr) { // NaN sticks
				m.maxErr = e
			}
		}
	}
	if !(m.maxErr <= tol) {
		return fmt.Errorf("outputs differ from output_*.npy: max |got-want|/max(1,|want|) = %.3g > %g", m.maxErr, tol)
	}
	return nil
}

// timeORT runs the session for about d after a warm-up and returns the
// mean ns per Run (the statistic go test -bench reports) and the count.
func (m *model) timeORT(d time.Duration) (float64, int, error) {
	warm := time.Now().Add(d / 10)
	for i := 0; i < 5 || time.Now().Before(warm); i++ {
		if err := m.sess.Run(); err != nil {
			return 0, 0, err
		}
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	n := 0
	c0, th0 := cpuTime(syscall.RUSAGE_SELF), cpuTime(rusageThread)
	t0 := time.Now()
	for ; n < 10 || time.Since(t0) < d; n++ {
		if err := m.sess.Run(); err != nil {
			return 0, 0, err
		}
	}
	wall := time.Since(t0)
	// CPU time of the whole process over that of this (locked) thread:
	// about 1 if onnxruntime really ran on one thread (2 would mean a
	// helper thread as busy as this one).
	th := cpuTime(rusageThread) - th0
	m.cpuRatio = max(m.cpuRatio, float64(cpuTime(syscall.RUSAGE_SELF)-c0)/float64(th))
	if clock == "cpu" {
		// onnxruntime runs on this thread (one intra-op thread): its CPU
		// time, without the Go runtime's other threads.
		return float64(th.Nanoseconds()) / float64(n), n, nil
	}
	return float64(wall.Nanoseconds()) / float64(n), n, nil
}

const rusageThread = 1 // RUSAGE_THREAD (Linux)

// cpuTime is the user+system CPU time this process (RUSAGE_SELF) or the
// calling thread (rusageThread) has used.
func cpuTime(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (m *model) destroy() {
	if m.sess != nil {
		m.sess.Destroy()
	}
	for _, v := range append(m.ins, m.outs...) {
		v.Destroy()
	}
}

// setupDLC compiles the model at -O2 for threads threads with its
// self-test into dir/<pkg>, builds the test binary and runs the self-test
// once (a benchmark of wrong code would be meaningless).
func (m *model) setupDLC(dir, pkg string, threads int) error {
	g, err := compiler.Load(filepath.Join(m.dir, "model.onnx"), compiler.LoadOptions{})
	if err != nil {
		return err
	}
	if threads == 1 {
		for _, n := range g.Nodes {
			m.macs += ir.MACs(n)
		}
	}
	ps, err := passes.Select(2, "")
	if err != nil {
		return err
	}
	files, err := compiler.Compile(g, compiler.Options{Package: pkg, Passes: ps, SelfTest: true, Threads: threads})
	if err != nil {
		return err
	}
	if err := codegen.WritePackage(filepath.Join(dir, pkg), files); err != nil {
		return err
	}
	if err := harness.WriteCPUBench(dir, pkg); err != nil {
		return err
	}
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

func report(models []*model, rounds int, lib string) {
	fmt.Printf("dlc vs onnxruntime %s (1 intra-op, 1 inter-op thread, ORT_ENABLE_ALL; %s)\n", ort.GetVersion(), filepath.Base(lib))
	fmt.Printf("%s/%s, %d CPUs, GOMAXPROCS %d, %s; medians of %d interleaved rounds; %s time\n\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), rounds, clock)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	thrCols := ""
	if threads > 1 {
		thrCols = fmt.Sprintf("dlc -threads %d µs\t1/%d-thread\t", threads, threads)
	}
	fmt.Fprintln(w, "model\tMMACs\tORT 1-thread µs\tdlc -O2 µs\tORT/dlc\tper-round range\tGFLOP/s ORT\tGFLOP/s dlc\tORT max err\t"+thrCols)
	var failed []*model
	cpuRatio, cpuModel := 0.0, ""
	for _, m := range models {
		o, d := harness.Median(m.ortNs), harness.Median(m.dlcNs)
		ratio, spread := "-", "-"
		if !math.IsNaN(o) && !math.IsNaN(d) {
			ratio = fmt.Sprintf("%.2fx", o/d)
			// The ratio within each round (its two timings ran back to
			// back): its spread shows how noisy the machine was.
			var rs []float64
			for i := range min(len(m.ortNs), len(m.dlcNs)) {
				rs = append(rs, m.ortNs[i]/m.dlcNs[i])
			}
			spread = fmt.Sprintf("%.2f-%.2f", slices.Min(rs), slices.Max(rs))
		}
		errs := "-"
		if m.sess != nil {
			errs = fmt.Sprintf("%.1e", m.maxErr)
		}
		if m.cpuRatio > cpuRatio {
			cpuRatio, cpuModel = m.cpuRatio, m.name
		}
		if m.ortErr != nil || m.dlcErr != nil || m.thrErr != nil {
			failed = append(failed, m)
		}
		thr := ""
		if threads > 1 {
			// The speed-up of N threads: the ratio of the medians (the two
			// packages ran back to back in every round).
			t, up := harness.Median(m.thrNs), "-"
			if !math.IsNaN(t) && !math.IsNaN(d) {
				up = fmt.Sprintf("%.2fx", d/t)
			}
			thr = harness.Micros(t) + "\t" + up + "\t"
		}
		fmt.Fprintf(w, "%s\t%.3f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.name, float64(m.macs)/1e6, harness.Micros(o), harness.Micros(d), ratio, spread,
			harness.GFLOPs(m.macs, o), harness.GFLOPs(m.macs, d), errs, thr)
	}
	w.Flush()
	fmt.Println("\nORT/dlc > 1: dlc's generated code is faster (ratio of the medians; per-round range: min-max of the")
	fmt.Println("ratio within each round). ORT max err: max |ORT-want|/max(1,|want|) against output_*.npy.")
	fmt.Printf("ORT timing loops: process CPU time at most %.2fx the calling thread's (%s; 1 = no other thread;\n~1.1 is the Go runtime around long cgo calls).\n", cpuRatio, cpuModel)
	for _, m := range failed {
		if m.ortErr != nil {
			fmt.Printf("\n%s: onnxruntime failed: %v\n", m.name, harness.FirstLines(m.ortErr, 8))
		}
		if m.dlcErr != nil {
			fmt.Printf("\n%s: dlc failed: %v\n", m.name, harness.FirstLines(m.dlcErr, 8))
		}
		if m.thrErr != nil {
			fmt.Printf("\n%s: dlc -threads %d failed: %v\n", m.name, threads, harness.FirstLines(m.thrErr, 8))
		}
	}
}

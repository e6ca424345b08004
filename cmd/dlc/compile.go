package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/dlcompiler/dlc/codegen"
	"github.com/dlcompiler/dlc/codegen/kernels"
	"github.com/dlcompiler/dlc/compiler"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/passes"
)

var compileCmd = &command{
	name: "compile",
	summary: `Compile a model into a dependency-free Go package: specialized kernels, weights embedded
with go:embed, a Model type that allocates nothing per call, and a self-test against the
reference interpreter. The output directory is replaced atomically: a failed compile
leaves an existing package untouched.`,
	usage: "[flags] model.dl|model.onnx -o DIR",
	example: `  dlc compile examples/lenet5/model.dl -o lenet5
  dlc compile -O0 model.onnx -o mymodel -pkg mymodel
  dlc compile --dump-after=fuse examples/vgg_bn/model.dl -o /tmp/vgg    # IR after fusion
  dlc compile --passes shapes,bnfold,plan model.dl -o out               # an explicit pass list
  dlc compile --tile conv2:oh=4 --tile fc1:n=64,k=256 model.dl -o out   # override schedules
  dlc compile -train --train-opt adam examples/lenet5/model.dl -o lenet5  # add a Trainer (Step, Weights, safetensors)
  dlc compile -threads 2 model.onnx -o out                              # split large layers over 2 goroutines

In a Go module, a go:generate line keeps the package in step with the model:
  //go:generate go run github.com/dlcompiler/dlc/cmd/dlc compile model.dl -o lenet5`,
}

func init() { compileCmd.run = runCompile }

// tileFlag collects --tile LAYER:NAME=SIZE,... overrides (and algo=NAME,
// kernel=NAME).
type tileFlag map[string]map[string]string

func (t tileFlag) String() string { return "" }

func (t tileFlag) Set(v string) error {
	layer, spec, ok := strings.Cut(v, ":")
	if !ok || layer == "" || spec == "" {
		return fmt.Errorf("want LAYER:LOOP=SIZE[,LOOP=SIZE...], got %q", v)
	}
	m := t[layer]
	if m == nil {
		m = map[string]string{}
		t[layer] = m
	}
	for _, kv := range strings.Split(spec, ",") {
		k, val, ok := strings.Cut(kv, "=")
		if k == "algo" && ok && (val == "direct" || val == "im2col") {
			m[k] = val
			continue
		}
		if k == "kernel" && ok {
			if val != "none" && kernels.Lookup(val) == nil {
				return fmt.Errorf("kernel=%s: no such kernel (kernels: none, %s)", val, strings.Join(kernels.Names(), ", "))
			}
			m[k] = val
			continue
		}
		n, err := strconv.Atoi(val)
		if !ok || err != nil || n < 0 {
			return fmt.Errorf("want LOOP=SIZE with a size >= 0 (or algo=direct|im2col, kernel=NAME|none), got %q", kv)
		}
		m[k] = val
	}
	return nil
}

// optLevelArgs turns -O0/-O1/-O2 into -O=N for the flag package.
func optLevelArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if len(a) == 3 && strings.HasPrefix(a, "-O") && a[2] >= '0' && a[2] <= '9' {
			a = "-O=" + a[2:]
		}
		out[i] = a
	}
	return out
}

func runCompile(args []string, stdout, stderr io.Writer) error {
	fs := newFlags(compileCmd, stdout)
	var mf modelFlags
	mf.register(fs)
	outDir := fs.String("o", "", "write the package to `DIR` (required)")
	pkg := fs.String("pkg", "", "Go package `NAME`, used as given (a Go identifier); default: the directory's base name if it is one, else that name in lower-case letters and digits")
	level := fs.Int("O", 2, "optimization `LEVEL`: -O0 (none), -O1 (fold, cse, dce), -O2 (also bnfold, fuse, tile)")
	passList := fs.String("passes", "", "run exactly these comma-separated `PASSES` instead of a level (passes: "+strings.Join(passes.Names(), ",")+")")
	dumpAfter := fs.String("dump-after", "", "print the IR after `PASS` (or \"all\") to standard output")
	threads := fs.Int("threads", 1, "split large convolutions, batched dense layers and matrix products across up to `N` goroutines the Model owns (results are bit-identical to -threads 1; layers too small to pay for waking a worker keep one)")
	selfTest := fs.Bool("selftest", true, "write a self-test and benchmark (<pkg>_test.go, testdata/selftest.bin)")
	tiles := tileFlag{}
	fs.Var(tiles, "tile", "override a layer's schedule: `LAYER:LOOP=SIZE[,...]` (loops m,n,k for dense and im2col conv, oh for direct conv; unroll=N, vector=N, threads=N, algo=direct|im2col, kernel=NAME|none; see --dump-after=tile); repeatable")
	tf := registerTrainCompile(fs)
	path, err := parseModel(compileCmd, fs, optLevelArgs(args), stdout)
	if err != nil {
		return err
	}
	if *outDir == "" {
		return &usageError{"no output directory: give -o DIR"}
	}
	if *pkg != "" {
		if err := compiler.CheckPackageName(*pkg); err != nil {
			return &usageError{"-pkg: " + err.Error()}
		}
	}
	if *threads < 1 || *threads > maxThreads {
		return &usageError{fmt.Sprintf("-threads %d: want 1 to %d", *threads, maxThreads)}
	}
	if *dumpAfter != "" && *dumpAfter != "all" {
		if _, ok := passes.Lookup(*dumpAfter); !ok {
			return &usageError{fmt.Sprintf("--dump-after: unknown pass %q (passes: %s)", *dumpAfter, strings.Join(passes.Names(), ", "))}
		}
	}
	ps, err := passes.Select(*level, *passList)
	if err != nil {
		return &usageError{err.Error()}
	}
	g, err := loadModel(path, &mf)
	if err != nil {
		return err
	}
	spec, err := tf.spec(path, g, &mf, ps, *selfTest)
	if err != nil {
		return err
	}
	var after func(string, *ir.Graph)
	if *dumpAfter != "" {
		after = func(name string, g *ir.Graph) {
			if *dumpAfter == "all" || *dumpAfter == name {
				fmt.Fprintf(stdout, "# IR after %s\n%s", name, ir.Print(g))
			}
		}
	}
	pkgName, err := packageName(*pkg, *outDir, stderr)
	if err != nil {
		return err
	}
	files, err := compiler.Compile(g, compiler.Options{
		Package:  pkgName,
		Passes:   ps,
		After:    after,
		Tune:     func(g *ir.Graph) error { return applyTiles(g, tiles) },
		Threads:  *threads,
		SelfTest: *selfTest,
		Train:    spec,
		Notef:    func(format string, args ...any) { fmt.Fprintf(stderr, "dlc: "+format+"\n", args...) },
	})
	if err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			return err
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := codegen.WritePackage(*outDir, files); err != nil {
		return fmt.Errorf("dlc compile: %w", err)
	}
	var names []string
	total := 0
	for f, b := range files {
		names = append(names, f)
		total += len(b)
	}
	sort.Strings(names)
	fmt.Fprintf(stderr, "dlc: wrote package %s to %s (%s, %d files)\n", pkgName, *outDir, bytesStr(int64(total)), len(names))
	return nil
}

// packageName is the generated package's name: -pkg as given (checked
// by the caller), else the output directory's base name when it is a
// valid package name, else that name made into one, with a note saying
// so, so that the name is never changed silently.
func packageName(pkg, outDir string, stderr io.Writer) (string, error) {
	if pkg != "" {
		return pkg, nil
	}
	base := filepath.Base(filepath.Clean(outDir))
	if compiler.CheckPackageName(base) == nil {
		return base, nil
	}
	name := compiler.PackageName(base)
	fmt.Fprintf(stderr, "dlc: the directory name %q is not a Go package name: the package is called %s (choose one with -pkg NAME)\n", base, name)
	return name, nil
}

// maxThreads bounds -threads: a Model starts threads-1 goroutines.
const maxThreads = 256

// applyTiles overrides the schedules of the named layers.
func applyTiles(g *ir.Graph, tiles tileFlag) error {
	for layer, t := range tiles {
		var n *ir.Node
		for _, x := range g.Nodes {
			if x.Name == layer {
				n = x
			}
		}
		if n == nil {
			var names []string
			for _, x := range g.Nodes {
				names = append(names, x.Name)
			}
			return &usageError{fmt.Sprintf("--tile %s: no layer %q after optimization (layers: %s)", layer, layer, strings.Join(names, ", "))}
		}
		if n.Schedule == nil {
			n.Schedule = &ir.Schedule{}
		}
		if n.Schedule.Tiles == nil {
			n.Schedule.Tiles = map[string]int{}
		}
		for k, v := range t {
			size, _ := strconv.Atoi(v)
			switch k {
			case "algo":
				n.Schedule.Algo = v
			case "unroll":
				n.Schedule.Unroll = size
			case "vector":
				n.Schedule.Vector = size
			case "threads":
				n.Schedule.Threads = size
			case "kernel":
				n.Schedule.Kernel = v
				if v == "none" {
					n.Schedule.Kernel = ""
				}
			default:
				n.Schedule.Tiles[k] = size
			}
		}
	}
	return nil
}

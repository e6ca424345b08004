package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/passes"
)

var graphCmd = &command{
	name:    "graph",
	summary: "Write the network as a Graphviz DOT file (render it with `dot -Tsvg`).",
	usage:   "[flags] model.dl|model.onnx",
	example: `  dlc graph examples/lenet5/model.dl > lenet5.dot && dot -Tsvg lenet5.dot -o lenet5.svg
  dlc graph -o resnet.dot examples/resnet_small/model.dl
  dlc graph --after fuse examples/vgg_bn/model.dl | dot -Tpng -o vgg-fused.png`,
}

func init() { graphCmd.run = runGraph }

func runGraph(args []string, stdout, stderr io.Writer) error {
	fs := newFlags(graphCmd, stdout)
	var mf modelFlags
	mf.register(fs)
	out := fs.String("o", "", "write to `FILE` instead of standard output")
	after := fs.String("after", "", "draw the IR after the -O2 pipeline has run up to `PASS` (e.g. fuse); default: as loaded")
	path, err := parseModel(graphCmd, fs, args, stdout)
	if err != nil {
		return err
	}
	if *after != "" {
		if _, ok := passes.Lookup(*after); !ok {
			return &usageError{fmt.Sprintf("--after: unknown pass %q (passes: %s)", *after, strings.Join(passes.Names(), ", "))}
		}
	}
	g, err := loadModel(path, &mf)
	if err != nil {
		return err
	}
	if *after != "" {
		ps, err := passes.Select(2, "")
		if err != nil {
			return err
		}
		var upto []passes.Pass
		for _, p := range ps {
			upto = append(upto, p)
			if p.Name == *after {
				break
			}
		}
		if upto[len(upto)-1].Name != *after {
			// Not in -O2: run the -O2 passes, then this one.
			p, _ := passes.Lookup(*after)
			upto = append(upto, p)
		}
		if err := passes.Run(g, upto, passes.Options{Verify: true}); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	dot := ir.DOT(g)
	if *out == "" {
		_, err := io.WriteString(stdout, dot)
		return err
	}
	if err := writeFileAtomic(*out, []byte(dot)); err != nil {
		return fmt.Errorf("dlc graph: %w", err)
	}
	return nil
}

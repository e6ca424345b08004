package main

import (
	"fmt"
	"io"

	"github.com/dlcompiler/dlc/ir"
)

var graphCmd = &command{
	name:    "graph",
	summary: "Write the network as a Graphviz DOT file (render it with `dot -Tsvg`).",
	usage:   "[flags] model.dl|model.onnx",
	example: `  dlc graph examples/lenet5/model.dl > lenet5.dot && dot -Tsvg lenet5.dot -o lenet5.svg
  dlc graph -o resnet.dot examples/resnet_small/model.dl`,
}

func init() { graphCmd.run = runGraph }

func runGraph(args []string, stdout, stderr io.Writer) error {
	fs := newFlags(graphCmd, stdout)
	var mf modelFlags
	mf.register(fs)
	out := fs.String("o", "", "write to `FILE` instead of standard output")
	pos, err := parse(graphCmd, fs, args, stdout)
	if err != nil {
		return err
	}
	path, err := oneModel(pos)
	if err != nil {
		return err
	}
	mf.noWeights = true
	g, err := loadModel(path, &mf)
	if err != nil {
		return err
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

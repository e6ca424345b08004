package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/dlcompiler/dlc/compiler"
	"github.com/dlcompiler/dlc/ir"
)

// modelFlags are the flags every command that reads a model takes.
type modelFlags struct {
	set       setFlag
	noWeights bool
}

func (m *modelFlags) register(fs *flag.FlagSet) {
	m.set = setFlag{}
	fs.Var(m.set, "set", "override a `NAME=VALUE` compile-time constant of a .dl model, e.g. --set batch=8 (repeatable)")
	fs.BoolVar(&m.noWeights, "no-weights", false, "do not read the weights file (.dl): params get their initializers")
}

// loadModel reads a .dl or .onnx model.
func loadModel(path string, m *modelFlags) (*ir.Graph, error) {
	g, err := compiler.Load(path, compiler.LoadOptions{Set: m.set, NoWeights: m.noWeights})
	var ue *compiler.ErrUsage
	if errors.As(err, &ue) {
		return nil, &usageError{ue.Msg}
	}
	return g, err
}

// parseModel parses a command's flags and its one model file argument.
func parseModel(c *command, fs *flag.FlagSet, args []string, stdout io.Writer) (string, error) {
	pos, err := parse(c, fs, args, stdout)
	if err != nil {
		return "", err
	}
	return oneModel(pos)
}

func oneModel(pos []string) (string, error) {
	switch len(pos) {
	case 0:
		return "", &usageError{"no model file given"}
	case 1:
		return pos[0], nil
	}
	return "", &usageError{fmt.Sprintf("want one model file, got %d arguments: %s", len(pos), strings.Join(pos, " "))}
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/dlcompiler/dlc/compiler"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/weights"
)

// modelFlags are the flags every command that reads a model takes.
type modelFlags struct {
	set       setFlag
	noWeights bool
	bind      listFlag
}

func (m *modelFlags) register(fs *flag.FlagSet) {
	m.set = setFlag{}
	fs.Var(m.set, "set", "override a `NAME=VALUE` compile-time constant of a .dl model, e.g. --set batch=8 (repeatable)")
	fs.BoolVar(&m.noWeights, "no-weights", false, "do not read the weights file (.dl): params get their initializers")
	fs.Var(&m.bind, "bind", "fix graph input `NAME=FILE.npy` of an ONNX model to that value at compile time (a shape, axes or bounds the model takes as an input); the model then no longer has the input (repeatable)")
}

// loadModel reads a .dl or .onnx model.
func loadModel(path string, m *modelFlags) (*ir.Graph, error) {
	bind, err := readBinds(m.bind)
	if err != nil {
		return nil, err
	}
	return loadBound(path, m, bind)
}

// loadBound is loadModel with the bound input values read.
func loadBound(path string, m *modelFlags, bind map[string]*ir.Tensor) (*ir.Graph, error) {
	g, err := compiler.Load(path, compiler.LoadOptions{Set: m.set, NoWeights: m.noWeights, Bind: bind})
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

// readBinds reads the --bind NAME=FILE.npy values.
func readBinds(binds []string) (map[string]*ir.Tensor, error) {
	out := map[string]*ir.Tensor{}
	for _, b := range binds {
		name, file, ok := strings.Cut(b, "=")
		if !ok || name == "" || file == "" {
			return nil, &usageError{fmt.Sprintf("--bind %s: want NAME=FILE.npy", b)}
		}
		if _, dup := out[name]; dup {
			return nil, &usageError{fmt.Sprintf("--bind %s given twice", name)}
		}
		t, err := weights.ReadNpy(file)
		if err != nil {
			return nil, err
		}
		out[name] = t
	}
	return out, nil
}

// Command dlc compiles deep-learning models into dependency-free Go packages.
//
// A model is a .dl file (dlc's text model language, see docs/language.md)
// with its weights in a safetensors file, or an ONNX file exported from
// PyTorch and friends.
//
// Usage:
//
//	dlc check   model.dl|model.onnx        layer table, parameters, MACs, memory
//	dlc run     model --input x.npy        run the reference interpreter
//	dlc compile model -o DIR [-pkg NAME]   write a Go package
//	dlc graph   model > model.dot          Graphviz picture of the network
//	dlc import  model.onnx -o model.dl     turn an ONNX file into .dl + safetensors
//	dlc train   model.dl -o weights.safetensors   train on MNIST
//	dlc help [command]
//
// Every command takes -h. Errors in a .dl file are reported as
// file:line:col with the line and a caret under the spot; the exit status
// is 1 for bad input and 2 for bad usage.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/dlcompiler/dlc/frontend/onnx"
)

type command struct {
	name    string
	summary string
	usage   string // after "dlc NAME "
	example string
	run     func(args []string, stdout, stderr io.Writer) error
}

var commands []*command

func init() {
	commands = []*command{checkCmd, runCmd, compileCmd, graphCmd, importCmd}
}

// usageError is bad command-line usage: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func main() {
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}

// Main runs dlc with the given arguments and returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printHelp(stderr)
		return 2
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "--help" || name == "-help" {
		if len(args) > 1 {
			if c := lookup(args[1]); c != nil {
				printCommandHelp(stdout, c, nil)
				return 0
			}
			fmt.Fprintf(stderr, "dlc: unknown command %q\n", args[1])
			return 2
		}
		printHelp(stdout)
		return 0
	}
	c := lookup(name)
	if c == nil {
		fmt.Fprintf(stderr, "dlc: unknown command %q (run 'dlc help')\n", name)
		return 2
	}
	err := c.run(args[1:], stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "dlc %s: %s\nusage: dlc %s %s\n(run 'dlc %s -h' for help)\n", c.name, ue.msg, c.name, c.usage, c.name)
		return 2
	}
	msg := err.Error()
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	fmt.Fprint(stderr, msg)
	return 1
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "dlc compiles deep-learning models (.dl or .onnx) into dependency-free Go packages.")
	fmt.Fprintln(w, "\nUsage:\n  dlc <command> [arguments]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'dlc help <command>' or 'dlc <command> -h' for details and examples.")
	fmt.Fprintln(w, "The .dl language is described in docs/language.md, with a table from PyTorch's modules to .dl layers.")
	lo, hi := onnx.Opsets()
	fmt.Fprintf(w, "ONNX models: the ai.onnx domain, opsets %d to %d (docs/onnx-ops.md lists the ops).\n", lo, hi)
	fmt.Fprintln(w, "Tensors keep their dtype: bool, int8..int64, uint8..uint64, float16, bfloat16, float32, float64;")
	fmt.Fprintln(w, ".npy files of each (but bfloat16, which numpy lacks) feed --input and --bind.")
}

func printCommandHelp(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: dlc %s %s\n\n%s\n", c.name, c.usage, c.summary)
	if fs == nil {
		fs = c.flags()
	}
	if fs != nil {
		fmt.Fprintln(w, "\nFlags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	if c.example != "" {
		fmt.Fprintf(w, "\nExamples:\n%s\n", c.example)
	}
}

// flags returns the command's flag set for help output, by running its
// parser on -h with output discarded.
func (c *command) flags() *flag.FlagSet { return flagSets[c.name] }

var flagSets = map[string]*flag.FlagSet{}

// newFlags makes a flag set whose -h prints the command's help.
func newFlags(c *command, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("dlc "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	flagSets[c.name] = fs
	return fs
}

// parse parses flags and positional arguments in any order.
func parse(c *command, fs *flag.FlagSet, args []string, stdout io.Writer) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printCommandHelp(stdout, c, fs)
				return nil, err
			}
			return nil, &usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// listFlag collects a repeated string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// setFlag collects repeated NAME=INT settings (--set batch=8).
type setFlag map[string]int

func (s setFlag) String() string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+strconv.Itoa(s[k]))
	}
	return strings.Join(parts, ",")
}

func (s setFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want NAME=INTEGER, got %q", v)
	}
	n, err := strconv.Atoi(val)
	if err != nil || n < 1 {
		return fmt.Errorf("want a positive integer for %s, got %q", k, val)
	}
	s[k] = n
	return nil
}

// Package compiler is dlc's driver: it loads a model (.dl or .onnx), runs
// the pass pipeline and generates the Go package. The dlc command, the
// golden tests and the examples' staleness test all compile through it, so
// they agree byte for byte.
package compiler

import (
	"fmt"
	"go/token"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/dlcompiler/dlc/codegen"
	"github.com/dlcompiler/dlc/frontend/dl"
	"github.com/dlcompiler/dlc/frontend/onnx"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/passes"
	"github.com/dlcompiler/dlc/runtime"
)

// LoadOptions control how a model file is read.
type LoadOptions struct {
	// Set overrides `const` parameters of a .dl model (e.g. batch).
	Set map[string]int
	// NoWeights skips reading a .dl model's weights file.
	NoWeights bool
	// Bind gives graph inputs of an ONNX model values at compile time,
	// by ONNX name (onnx.Options.Constants): shapes, axes or bounds the
	// model takes as inputs. The loaded graph no longer has those inputs.
	Bind map[string]*ir.Tensor
}

// ErrUsage marks errors caused by how the model was asked for rather than
// by its contents.
type ErrUsage struct{ Msg string }

func (e *ErrUsage) Error() string { return e.Msg }

// Load reads a .dl or .onnx model.
func Load(path string, opt LoadOptions) (*ir.Graph, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".dl":
		if len(opt.Bind) > 0 {
			return nil, &ErrUsage{"--bind applies to .onnx models only; a .dl model's shapes and axes are written in it"}
		}
		return dl.LoadFile(path, dl.Options{Set: opt.Set, NoWeights: opt.NoWeights})
	case ".onnx":
		if len(opt.Set) > 0 {
			return nil, &ErrUsage{"--set applies to .dl models only; an ONNX file's shapes are fixed"}
		}
		return onnx.LoadWith(path, onnx.Options{Constants: opt.Bind})
	}
	return nil, &ErrUsage{fmt.Sprintf("%s: want a .dl or .onnx model file", path)}
}

// Options control Compile.
type Options struct {
	// Package is the generated package's name.
	Package string
	// Passes is the pipeline to run (see passes.Select).
	Passes []passes.Pass
	// After, if set, sees the IR after every pass.
	After func(pass string, g *ir.Graph)
	// Tune, if set, runs after the passes, before code generation (for
	// schedule overrides).
	Tune func(g *ir.Graph) error
	// Threads is the most goroutines one kernel is split across
	// (passes.Options.Threads; dlc compile -threads).
	Threads int
	// SelfTest records interpreter outputs on deterministic random inputs
	// and writes a self-test and benchmark into the package.
	SelfTest bool
	// Notef, if set, receives notes for the user (e.g. that untrained
	// params were initialized).
	Notef func(format string, args ...any)
	// Train, if set, adds a Trainer to the package: the compiled training
	// step of dlc compile -train (made by train.Spec, which needs the
	// params' data: call InitUntrained first).
	Train *codegen.TrainSpec
}

// Compile optimizes g (in place) and returns the generated package files.
// The self-test's expected outputs come from the interpreter running the
// graph as loaded, before any pass, so the self-test checks the passes as
// well as the generated code.
func Compile(g *ir.Graph, opt Options) (map[string][]byte, error) {
	// A model without weights still compiles (for benchmarks and for
	// training later).
	untrained, err := InitUntrained(g)
	if err != nil {
		return nil, err
	}
	if untrained > 0 && opt.Notef != nil {
		opt.Notef("%d params have no weights: initialized with their initializers (seed 1); the package computes nothing useful until trained weights are given", untrained)
	}
	ref := g.Clone()
	if err := passes.Run(g, opt.Passes, passes.Options{Verify: true, After: opt.After, Threads: opt.Threads}); err != nil {
		return nil, err
	}
	if opt.Tune != nil {
		if err := opt.Tune(g); err != nil {
			return nil, err
		}
	}
	copt := codegen.Options{Package: opt.Package, SelfTest: opt.SelfTest, Train: opt.Train}
	if opt.SelfTest {
		copt.TestInputs = codegen.RandomInputs(ref, 1)
		outs, err := runtime.Run(ref, copt.TestInputs)
		if err != nil {
			return nil, fmt.Errorf("recording self-test outputs with the interpreter: %w", err)
		}
		copt.TestOutputs = outs
		if err := applyTolerance(ref, &copt, opt.Notef); err != nil {
			return nil, err
		}
	}
	return codegen.Generate(g, copt)
}

// InitUntrained gives params without data their initializers' values,
// seeded so that the same model always gets the same weights, and returns
// how many it initialized.
func InitUntrained(g *ir.Graph) (int, error) {
	n := 0
	for _, p := range g.Params {
		if p.Data == nil {
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	return n, runtime.InitParams(g, 1)
}

// CompileFile loads path and compiles it at optimization level 2 with a
// self-test: what `dlc compile model -o DIR` does with default flags.
func CompileFile(path, pkg string) (map[string][]byte, error) {
	return CompileFileThreads(path, pkg, 1)
}

// CompileFileThreads is CompileFile with -threads (Options.Threads).
func CompileFileThreads(path, pkg string, threads int) (map[string][]byte, error) {
	g, err := Load(path, LoadOptions{})
	if err != nil {
		return nil, err
	}
	ps, err := passes.Select(2, "")
	if err != nil {
		return nil, err
	}
	files, err := Compile(g, Options{Package: pkg, Passes: ps, SelfTest: true, Threads: threads})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return files, nil
}

// CheckPackageName reports why s cannot be the name of the generated
// package, or nil: a Go identifier, not a keyword, not the blank
// identifier and not main (a package main cannot be imported).
func CheckPackageName(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("the package name is empty")
	case s == "_":
		return fmt.Errorf("package name _ is the blank identifier: give a name")
	case s == "main":
		return fmt.Errorf("package name main makes a program, not a package that can be imported: give another name")
	case token.IsKeyword(s):
		return fmt.Errorf("package name %s is a Go keyword", s)
	case !token.IsIdentifier(s):
		for i, r := range s {
			if !(r == '_' || unicode.IsLetter(r) || i > 0 && unicode.IsDigit(r)) {
				if i == 0 && unicode.IsDigit(r) {
					return fmt.Errorf("package name %s is not a Go identifier: it starts with the digit %c", s, r)
				}
				return fmt.Errorf("package name %s is not a Go identifier: %q at byte %d is not a letter, digit or _", s, r, i)
			}
		}
		return fmt.Errorf("package name %s is not a Go identifier", s)
	}
	return nil
}

// PackageName makes a Go package name from a directory or model name:
// lower-case letters and digits, starting with a letter.
func PackageName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9' && b.Len() > 0) {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "model"
	}
	return b.String()
}

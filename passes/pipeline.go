// Package passes holds dlc's graph rewrites. Each pass is a plain function
// over the IR in a file named after it; Pipeline lists them in order, and
// the -O levels are lists of pass names.
//
// Every pass must leave a graph that ir.Verify accepts and that computes
// the same outputs as before (up to floating-point reassociation); the
// tests check both on every example and on small targeted graphs.
package passes

import (
	"fmt"
	"strings"

	"github.com/dlcompiler/dlc/ir"
)

// Pass is one named rewrite.
type Pass struct {
	// Name is the short name used by --passes and --dump-after.
	Name string
	// Doc is one line for `dlc compile -h`.
	Doc string
	Fn  func(*ir.Graph) error
	// Opt, if set, is run instead of Fn by Run: a pass that reads
	// Options (tile reads Threads).
	Opt func(*ir.Graph, Options) error
}

// Pipeline is every pass in the order they run. A level picks a subset,
// keeping this order.
var Pipeline = []Pass{
	{Name: "shapes", Doc: "re-infer every shape and check it against the op table", Fn: inferShapes},
	{Name: "fold", Doc: "evaluate ops whose inputs are all constants", Fn: fold},
	{Name: "bnfold", Doc: "fold batch-norm into the preceding conv or dense layer", Fn: foldBatchNorm},
	{Name: "cse", Doc: "merge identical ops on identical inputs", Fn: cse},
	{Name: "dce", Doc: "remove ops and params no output depends on", Fn: dce},
	{Name: "fuse", Doc: "merge conv/dense with bias, residual add, activation and pooling; chain element-wise ops", Fn: fuse},
	{Name: "tile", Doc: "choose each conv/dense/matmul kernel's algorithm, register block, cache tiles and threads", Fn: tile, Opt: tileOpt},
	{Name: "plan", Doc: "place activations in one arena, reusing memory of dead values", Fn: plan},
}

// Levels maps -O levels to pass names.
var Levels = map[int][]string{
	0: {"shapes"}, // a direct translation: every value in its own buffer
	1: {"shapes", "fold", "cse", "dce", "plan"},
	2: {"shapes", "fold", "bnfold", "cse", "dce", "fuse", "tile", "plan"},
}

// Lookup returns the named pass.
func Lookup(name string) (Pass, bool) {
	for _, p := range Pipeline {
		if p.Name == name {
			return p, true
		}
	}
	return Pass{}, false
}

// Names returns every pass name, in pipeline order.
func Names() []string {
	var ns []string
	for _, p := range Pipeline {
		ns = append(ns, p.Name)
	}
	return ns
}

// Select returns the passes of a level, or of an explicit comma-separated
// list (which runs in the order given).
func Select(level int, list string) ([]Pass, error) {
	var names []string
	if list != "" {
		names = strings.Split(list, ",")
	} else {
		var ok bool
		names, ok = Levels[level]
		if !ok {
			return nil, fmt.Errorf("no optimization level -O%d (have -O0, -O1, -O2)", level)
		}
	}
	var ps []Pass
	for _, n := range names {
		p, ok := Lookup(strings.TrimSpace(n))
		if !ok {
			return nil, fmt.Errorf("unknown pass %q (passes: %s)", n, strings.Join(Names(), ", "))
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// Options controls Run.
type Options struct {
	// Verify runs ir.Verify after every pass and names the pass that broke
	// an invariant. Tests always set it.
	Verify bool
	// After, when non-empty, is called with the graph after each pass.
	After func(pass string, g *ir.Graph)
	// Threads is the most workers the tiling pass may split one kernel
	// across (dlc compile -threads); 0 or 1: every kernel runs on the
	// calling goroutine.
	Threads int
}

// Run applies the passes in order to g, in place.
func Run(g *ir.Graph, ps []Pass, opt Options) error {
	for _, p := range ps {
		fn := p.Fn
		if p.Opt != nil {
			fn = func(g *ir.Graph) error { return p.Opt(g, opt) }
		}
		if err := fn(g); err != nil {
			return fmt.Errorf("pass %s: %w", p.Name, err)
		}
		if opt.Verify {
			if err := ir.Verify(g); err != nil {
				return fmt.Errorf("after pass %s the IR is broken:\n%w", p.Name, err)
			}
		}
		if opt.After != nil {
			opt.After(p.Name, g)
		}
	}
	return nil
}

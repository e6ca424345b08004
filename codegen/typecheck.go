package codegen

import (
	"fmt"
	"go/ast"
	"go/build/constraint"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"sort"
	"strings"
	"sync"
)

// Generate type-checks every package it makes (go/types), so that a name
// clash or an emitter bug is an internal error naming the layer, never a
// package on disk that does not compile. The package is checked once per
// build configuration its files distinguish (amd64 with the assembly
// kernels; another GOARCH or -tags purego without), test file included.
//
// The standard library is imported through the gc importer (export data
// from the go command's build cache), falling back to type-checking its
// source when there is no go command. One importer serves the whole
// process, so only the first check pays for importing fmt, testing and the
// rest (about 0.3 s with gc, 1-2 s from source); later checks take 5-30 ms.

// checkConfigs are the build configurations checked: tag sets for
// go:build lines and GOARCH file-name suffixes.
var checkConfigs = []map[string]bool{
	{"amd64": true, "linux": true, "unix": true, "gc": true},
	{"arm64": true, "linux": true, "unix": true, "gc": true, "purego": true},
}

var stdTypes struct {
	sync.Mutex
	fset *token.FileSet
	imp  types.Importer
}

// stdImporter returns the process-wide importer; call with stdTypes locked.
func stdImporter() (*token.FileSet, types.Importer) {
	if stdTypes.imp == nil {
		fset := token.NewFileSet()
		imp := importer.ForCompiler(fset, "gc", nil)
		if _, err := imp.Import("fmt"); err != nil {
			imp = importer.ForCompiler(fset, "source", nil)
		}
		stdTypes.fset, stdTypes.imp = fset, imp
	}
	return stdTypes.fset, stdTypes.imp
}

// checkTypes type-checks the Go files among files.
func (gn *gen) checkTypes(files map[string][]byte) error {
	stdTypes.Lock()
	defer stdTypes.Unlock()
	fset, imp := stdImporter()
	names := make([]string, 0, len(files))
	for name := range files {
		if strings.HasSuffix(name, ".go") && !strings.Contains(name, "/") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	parsed := map[string]*ast.File{}
	for _, name := range names {
		f, err := parser.ParseFile(fset, name, files[name], parser.ParseComments)
		if err != nil {
			return fmt.Errorf("codegen: internal error: generated %s does not parse: %v", name, err)
		}
		parsed[name] = f
	}
	for _, tags := range checkConfigs {
		var fs []*ast.File
		for _, name := range names {
			if buildsWith(name, parsed[name], tags) {
				fs = append(fs, parsed[name])
			}
		}
		conf := types.Config{Importer: imp}
		if _, err := conf.Check(gn.pkg, fset, fs, nil); err != nil {
			if te, ok := err.(types.Error); ok {
				return gn.typeError(fs, te)
			}
			return fmt.Errorf("codegen: internal error: type-checking the generated package %s: %v", gn.pkg, err)
		}
	}
	return nil
}

// buildsWith reports whether a file is part of the build under tags: its
// _GOARCH.go suffix and its //go:build line.
func buildsWith(name string, f *ast.File, tags map[string]bool) bool {
	base := strings.TrimSuffix(strings.TrimSuffix(name, ".go"), "_test")
	if i := strings.LastIndex(base, "_"); i >= 0 {
		if arch := base[i+1:]; arch == "amd64" || arch == "arm64" || arch == "386" || arch == "wasm" {
			if !tags[arch] {
				return false
			}
		}
	}
	for _, cg := range f.Comments {
		if cg.Pos() >= f.Package {
			break
		}
		for _, c := range cg.List {
			if constraint.IsGoBuild(c.Text) {
				x, err := constraint.Parse(c.Text)
				if err == nil && !x.Eval(func(tag string) bool { return tags[tag] }) {
					return false
				}
			}
		}
	}
	return true
}

// typeError turns a type error into an internal error naming the layer
// whose kernel holds it, when a kernel does.
func (gn *gen) typeError(fs []*ast.File, te types.Error) error {
	where := ""
	for _, f := range fs {
		if f.Pos() > te.Pos || te.Pos > f.End() {
			continue
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv != nil || te.Pos < fd.Pos() || te.Pos > fd.End() {
				continue
			}
			if n := gn.kernelNode(fd.Name.Name); n != "" {
				where = " (in the kernel of " + n + ")"
			}
		}
	}
	return fmt.Errorf("codegen: internal error: the generated package %s does not type-check%s: %v", gn.pkg, where, te)
}

// kernelNode names the layer whose kernel (or one-step kernel) is the
// function name, or returns "".
func (gn *gen) kernelNode(name string) string {
	for n, k := range gn.kname {
		if k == name {
			return fmt.Sprintf("layer %s (%s)", n.Name, n.Op)
		}
	}
	if gn.streamable() {
		for n, k := range gn.stream.sgen.kname {
			if k == name {
				return fmt.Sprintf("layer %s (%s), one-step kernel", n.Name, n.Op)
			}
		}
	}
	return ""
}

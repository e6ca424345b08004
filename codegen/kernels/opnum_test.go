package kernels

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpNumbersDistinct type-checks this package's source and fails when
// two constants of type Op share a value. The registries (templates,
// generators) are maps keyed by Op, so two kernel families that took the
// same number would silently overwrite each other at init, and which one
// won would depend on file order.
func TestOpNumbersDistinct(t *testing.T) {
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		src, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, n, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil)}
	pkg, err := conf.Check("kernels", fset, files, nil)
	if err != nil {
		t.Fatal(err)
	}
	op := pkg.Scope().Lookup("Op")
	if op == nil {
		t.Fatal("no type Op")
	}
	seen := map[string]string{}
	count := 0
	for _, name := range pkg.Scope().Names() {
		c, ok := pkg.Scope().Lookup(name).(*types.Const)
		if !ok || !types.Identical(c.Type(), op.Type()) {
			continue
		}
		count++
		v := c.Val().ExactString()
		if other, dup := seen[v]; dup {
			t.Errorf("kernel ops %s and %s are both Op %s: give the newer one the next free number", other, name, v)
		}
		seen[v] = name
	}
	if count < 2 {
		t.Errorf("found %d constants of type Op; the test no longer sees them", count)
	}
}

package examples_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"testing"

	"github.com/dlcompiler/dlc/compiler"
)

// TestGeneratedPackagesFresh fails with "stale generated files" when an
// example's committed package differs from what its //go:generate line
// would write now (protobuf-go's rule): run `go generate ./examples/...`
// and commit the result.
func TestGeneratedPackagesFresh(t *testing.T) {
	mains, err := filepath.Glob("*/main.go")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^//go:generate go run \.\./\.\./cmd/dlc compile (?:-threads ([0-9]+) )?(\S+) -o (\S+)$`)
	found := 0
	for _, m := range mains {
		src, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		g := re.FindSubmatch(src)
		if g == nil {
			t.Errorf("%s has no //go:generate line running dlc compile", m)
			continue
		}
		found++
		dir := filepath.Dir(m)
		model, out := filepath.Join(dir, string(g[2])), filepath.Join(dir, string(g[3]))
		threads := 1
		if len(g[1]) > 0 {
			threads, _ = strconv.Atoi(string(g[1]))
		}
		t.Run(dir, func(t *testing.T) {
			files, err := compiler.CompileFileThreads(model, compiler.PackageName(filepath.Base(out)), threads)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for name := range files {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				have, err := os.ReadFile(filepath.Join(out, name))
				if err != nil {
					t.Errorf("stale generated files: %s is missing (run go generate ./%s)", filepath.Join(out, name), dir)
					continue
				}
				if !bytes.Equal(have, files[name]) {
					t.Errorf("stale generated files: %s differs from what dlc writes now (run go generate ./%s)", filepath.Join(out, name), dir)
				}
			}
		})
	}
	if found == 0 {
		t.Fatal("no example programs found")
	}
}

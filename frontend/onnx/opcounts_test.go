package onnx

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The op table of docs/onnx-ops.md: for every op type of ONNX's whole
// backend node suite (../shared/onnx-node-all, by its MANIFEST.tsv), how
// many tests use it, and whether dlc's importer maps it today. It tells
// the coverage work (issue 10) which ops matter most. The file is written
// by
//
//	go test ./frontend/onnx -run TestOpCounts -write-op-table
//
// and otherwise checked: when an op lands in opTable, the table is stale
// until rewritten.

var writeOpTable = flag.Bool("write-op-table", false, "rewrite docs/onnx-ops.md from ../shared/onnx-node-all/MANIFEST.tsv")

const (
	suiteAllDir = "../../../shared/onnx-node-all"
	opTablePath = "../../docs/onnx-ops.md"
)

// manifestRow is one test of MANIFEST.tsv.
type manifestRow struct {
	test, op, kind string
	nodes          []string // distinct op types of the graph
	domains        []string // opset imports other than ai.onnx
}

func readSuiteManifest(path string) ([]manifestRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []manifestRow
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		c := strings.Split(sc.Text(), "\t")
		if line == 1 {
			if strings.Join(c, " ") != "test op kind nodes opsets ir_version" {
				return nil, fmt.Errorf("%s:1: unexpected header %q", path, sc.Text())
			}
			continue
		}
		if len(c) != 6 {
			return nil, fmt.Errorf("%s:%d: %d columns, want 6", path, line, len(c))
		}
		r := manifestRow{test: c[0], op: c[1], kind: c[2], nodes: strings.Split(c[3], ",")}
		for _, o := range strings.Split(c[4], ",") {
			if d, _, _ := strings.Cut(o, ":"); d != "ai.onnx" && d != "" {
				r.domains = append(r.domains, d)
			}
		}
		rows = append(rows, r)
	}
	return rows, sc.Err()
}

// opCount is one row of the table.
type opCount struct {
	op, domain        string
	uses              int // tests whose graph holds the op
	node, expanded    int // tests of the op itself, as one node and as its function body
	alone             int // tests in which it is the only op type dlc does not map
	supported         bool
	supportedElsewise bool // in opTable, but only in another domain's tests
}

// countOps builds the table, most used first.
func countOps(rows []manifestRow) []*opCount {
	by := map[string]*opCount{}
	get := func(op string) *opCount {
		if by[op] == nil {
			_, ok := opTable[op]
			by[op] = &opCount{op: op, supported: ok}
		}
		return by[op]
	}
	for _, r := range rows {
		o := get(r.op)
		if r.kind == "node" {
			o.node++
			if len(r.domains) == 1 {
				o.domain = r.domains[0]
			}
		} else {
			o.expanded++
		}
		var refused []string
		for _, n := range r.nodes {
			get(n).uses++
			if _, ok := opTable[n]; !ok {
				refused = append(refused, n)
			}
		}
		if len(refused) == 1 {
			by[refused[0]].alone++
		}
	}
	var ops []*opCount
	for _, o := range by {
		if o.domain != "" && o.supported {
			// Same name as a mapped op, other domain: the importer
			// refuses every domain but ai.onnx.
			o.supported, o.supportedElsewise = false, true
		}
		ops = append(ops, o)
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].uses != ops[j].uses {
			return ops[i].uses > ops[j].uses
		}
		return ops[i].op < ops[j].op
	})
	return ops
}

func opTableMarkdown(rows []manifestRow, ops []*opCount) string {
	var b strings.Builder
	supported, usable := 0, 0
	for _, o := range ops {
		if o.supported {
			supported++
		}
	}
	for _, r := range rows {
		ok := len(r.domains) == 0
		for _, n := range r.nodes {
			_, in := opTable[n]
			ok = ok && in
		}
		if ok {
			usable++
		}
	}
	fmt.Fprintf(&b, "# ONNX ops by use in the backend node suite\n\n")
	fmt.Fprintf(&b, "Written by `go test ./frontend/onnx -run TestOpCounts -write-op-table` from "+
		"`../shared/onnx-node-all/MANIFEST.tsv` (%d tests, %d op types) and the importer's op table "+
		"(`frontend/onnx/ops.go`); the test fails while this file is stale. Do not edit by hand.\n\n", len(rows), len(ops))
	fmt.Fprintf(&b, "dlc maps %d of these op types. %d tests use only mapped op types of the ai.onnx domain "+
		"(an upper bound on what can pass today: opsets above the importer's range, dtypes and attributes "+
		"still refuse some).\n\n", supported, usable)
	b.WriteString("Columns: *tests* = tests whose graph holds the op (the suite's `nodes` column); " +
		"*node* / *expanded* = tests of the op itself, as one node and as its function body spelled out " +
		"in simpler ops; *alone* = tests in which it is the only op type dlc does not map (what mapping " +
		"it unblocks by itself); *dlc* = whether the importer maps it.\n\n")
	b.WriteString("| # | op | tests | node | expanded | alone | dlc |\n| ---: | --- | ---: | ---: | ---: | ---: | --- |\n")
	for i, o := range ops {
		status := "refused"
		switch {
		case o.supported:
			status = "supported"
		case o.supportedElsewise:
			status = "refused (domain " + o.domain + "; mapped in ai.onnx)"
		case o.domain != "":
			status = "refused (domain " + o.domain + ")"
		}
		fmt.Fprintf(&b, "| %d | %s | %d | %d | %d | %d | %s |\n", i+1, o.op, o.uses, o.node, o.expanded, o.alone, status)
	}
	return b.String()
}

// TestOpCounts checks docs/onnx-ops.md against the suite's manifest and
// the importer's op table (or rewrites it with -write-op-table).
func TestOpCounts(t *testing.T) {
	manifest := filepath.Join(suiteAllDir, "MANIFEST.tsv")
	if _, err := os.Stat(manifest); os.IsNotExist(err) {
		t.Skipf("%s is absent: the op table needs ONNX's node suite there (see its README)", manifest)
	}
	rows, err := readSuiteManifest(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatalf("%s lists no tests", manifest)
	}
	ops := countOps(rows)
	for i, o := range ops[:min(40, len(ops))] {
		t.Logf("%2d %-22s %4d tests (%d node, %d expanded, %d alone) supported=%v", i+1, o.op, o.uses, o.node, o.expanded, o.alone, o.supported)
	}
	md := opTableMarkdown(rows, ops)
	if *writeOpTable {
		if err := os.WriteFile(opTablePath, []byte(md), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	old, err := os.ReadFile(opTablePath)
	if err != nil {
		t.Fatalf("%v: run go test ./frontend/onnx -run TestOpCounts -write-op-table", err)
	}
	if string(old) != md {
		t.Errorf("%s is stale (the suite or the importer's op table changed): run go test ./frontend/onnx -run TestOpCounts -write-op-table", opTablePath)
	}
}

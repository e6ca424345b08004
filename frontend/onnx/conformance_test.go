package onnx

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/runtime"
)

// TestConformance runs ONNX's backend node suite: the whole suite
// (../shared/onnx-node-all, 1802 tests) or, when only it is there, the
// 520-test subset ../shared/onnx-node (the same test folders). Every test
// goes through the importer and the interpreter (what `dlc run` does,
// binding graph inputs that are needed at compile time to their test
// values) and, unless -short, through the -O2 passes and generated code
// (conformance_gen_test.go): in plain `go test` for one test of every op,
// with DLC_CONFORMANCE_GEN=all for every test the interpreter passes.
// A test passes when its outputs have ONNX's count, dtypes and shapes and
// values within ONNX's rtol=1e-3, atol=1e-7 (NaN equals NaN).
//
// testdata/conformance_xfail.txt lists the tests expected to fail, under
// the reason each fails. Any other test must pass, and a listed test that
// passes fails the run until it is removed from the list. After adding
// ops, rewrite the list with
//
//	go test ./frontend/onnx -run TestConformance -update-xfail
//
// which lists each failure under its message ("op Erf is not supported"),
// or under a reason written by hand for that message.

var updateXfail = flag.Bool("update-xfail", false, "rewrite "+xfailPath+" from this run's failures")

const (
	// suiteDir is the 520-test subset, used when suiteAllDir is absent.
	suiteDir  = "../../../shared/onnx-node"
	xfailPath = "testdata/conformance_xfail.txt"
	// genEnv set to "all" builds generated code for every test the
	// interpreter passes, not one test per op.
	genEnv = "DLC_CONFORMANCE_GEN"
)

type suiteTest struct{ name, op string }

// readManifest returns the suite folder found and its tests (the first
// two columns of MANIFEST.tsv: test and op), or skips.
func readManifest(t *testing.T) (string, []suiteTest) {
	t.Helper()
	for _, dir := range []string{suiteAllDir, suiteDir} {
		f, err := os.Open(filepath.Join(dir, "MANIFEST.tsv"))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var tests []suiteTest
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			cols := strings.Split(sc.Text(), "\t")
			if len(cols) < 2 || cols[0] == "test" {
				continue
			}
			tests = append(tests, suiteTest{cols[0], cols[1]})
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		return dir, tests
	}
	t.Skipf("ONNX node tests not available: neither %s nor %s exists", suiteAllDir, suiteDir)
	return "", nil
}

func readTensor(path string) (*ir.Tensor, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	tt, _, _, err := DecodeTensor(data)
	return tt, err
}

// suiteCase is one node test that the interpreter passes: the imported
// graph and test_data_set_0's inputs (in g.Inputs order) and ONNX's
// expected outputs (in g.Outputs order).
type suiteCase struct {
	g          *ir.Graph
	ins, wants []*ir.Tensor
	frozen     int
}

// outcome is what became of one test.
type outcome int

const (
	passed  outcome = iota
	refused         // dlc says it cannot import or run it (op, attribute, dtype, opset, domain)
	wrong           // it ran, and an output differs from ONNX's
	crashed         // an error that is not a refusal, or a panic
)

var outcomeNames = [...]string{"pass", "refused", "wrong", "crashed"}

// suiteResult is one test's result through the interpreter and, when
// built, through generated code.
type suiteResult struct {
	suiteTest
	out    outcome
	msg    string     // why it did not pass
	c      *suiteCase // when it passed
	gen    bool       // generated code was built and run
	genMsg string     // why generated code did not pass, "" if it did
}

// failed reports whether the test fails: through the interpreter, or
// through generated code when that ran.
func (r *suiteResult) failed() bool { return r.out != passed || r.gen && r.genMsg != "" }

// reason is the expected-failure reason derived from the failure: the
// refusal message without node names, offsets and file names, so that
// tests failing for the same cause share it.
func (r *suiteResult) reason() string {
	if r.out == passed {
		return "generated code: " + firstLineOf(r.genMsg)
	}
	var parts []string
	for _, l := range strings.Split(r.msg, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasSuffix(l, "unsupported node:") || strings.HasSuffix(l, "unsupported nodes:") {
			continue
		}
		l = strings.TrimPrefix(l, "model.onnx: ")
		if m := nodeLabelRE.FindStringSubmatch(l); m != nil {
			l = strings.TrimPrefix(l, m[0])
			if !strings.HasPrefix(l, "op ") && !strings.HasPrefix(l, "domain ") && !strings.HasPrefix(l, "opset ") {
				l = m[1] + ": " + l
			}
		}
		l = offsetRE.ReplaceAllString(l, "")
		l = testInputRE.ReplaceAllString(l, "test data: ")
		l = outputRE.ReplaceAllString(l, "output: ")
		if !slices.Contains(parts, l) {
			parts = append(parts, l)
		}
		if r.out != refused {
			break
		}
	}
	s := strings.Join(parts, "; ")
	if r.out != refused {
		s = outcomeNames[r.out] + ": " + s
	}
	return s
}

var (
	nodeLabelRE = regexp.MustCompile(`^node "[^"]*" \(([A-Za-z0-9_]+), opset \d+\): `)
	offsetRE    = regexp.MustCompile(` \(offset \d+\)`)
	testInputRE = regexp.MustCompile(`^(input|output) \d+: tensor "[^"]*": `)
	outputRE    = regexp.MustCompile(`^output \d+ \([^)]*\): `)
)

// runSuiteTest imports one test's model and runs test_data_set_0 through
// the interpreter. Graph inputs that dlc needs at compile time (a Reshape
// shape, Squeeze axes, Clip bounds: initializers in real models) are
// bound to their test values with Options.Constants, as `dlc run` does;
// frozen counts them.
func runSuiteTest(dir string) (res suiteResult) {
	defer func() {
		if p := recover(); p != nil {
			res.out, res.msg = crashed, fmt.Sprintf("panic: %v", p)
		}
	}()
	fail := func(o outcome, format string, args ...any) suiteResult {
		return suiteResult{out: o, msg: fmt.Sprintf(format, args...)}
	}
	path := filepath.Join(dir, "model.onnx")
	data, err := os.ReadFile(path)
	if err != nil {
		return fail(crashed, "%v", err)
	}
	m, err := decodeModel(data)
	if err != nil {
		return fail(refusedOr(err), "%v", err)
	}
	inits := map[string]bool{}
	for _, t := range m.graph.inits {
		inits[t.name] = true
	}
	for _, v := range append(slices.Clone(m.graph.inputs), m.graph.outputs...) {
		if !v.isTensor && v.kind != "" && !inits[v.name] {
			return fail(refused, "%s graph inputs and outputs are not supported (dlc has tensors only)", v.kind)
		}
	}
	set := filepath.Join(dir, "test_data_set_0")
	var names []string
	byName := map[string]*ir.Tensor{}
	for _, in := range m.graph.inputs {
		if inits[in.name] {
			continue
		}
		names = append(names, in.name)
		x, err := readTensor(filepath.Join(set, fmt.Sprintf("input_%d.pb", len(names)-1)))
		if err != nil {
			return fail(refusedOr(err), "input %d: %v", len(names)-1, err)
		}
		byName[in.name] = x
	}
	consts := map[string]*ir.Tensor{}
	var g *ir.Graph
	for {
		g, err = ImportWith("model.onnx", data, dir, Options{Constants: consts})
		var u *UnsupportedError
		if err == nil || !errors.As(err, &u) {
			break
		}
		grew := false
		for _, name := range u.ConstInputs {
			if _, done := consts[name]; !done && byName[name] != nil {
				consts[name] = byName[name]
				grew = true
			}
		}
		if !grew {
			break
		}
	}
	if err != nil {
		return fail(refusedOr(err), "%v", err)
	}
	var inputs []*ir.Tensor
	for _, name := range names {
		if _, frozen := consts[name]; !frozen {
			inputs = append(inputs, byName[name])
		}
	}
	got, err := runtime.Run(g, inputs)
	if err != nil {
		return fail(refusedOr(err), "run: %v", err)
	}
	var wants []*ir.Tensor
	for i := range got {
		p := filepath.Join(set, fmt.Sprintf("output_%d.pb", i))
		want, err := readTensor(p)
		if err != nil {
			return fail(refusedOr(err), "output %d: %v", i, err)
		}
		if o, err := checkOutput(got[i], want, p); err != nil {
			return fail(o, "output %d (%s): %v", i, g.OutputNames[i], err)
		}
		wants = append(wants, want)
	}
	if _, err := os.Stat(filepath.Join(set, fmt.Sprintf("output_%d.pb", len(got)))); err == nil {
		return fail(wrong, "the test expects more than %d outputs", len(got))
	}
	return suiteResult{out: passed, c: &suiteCase{g: g, ins: inputs, wants: wants, frozen: len(consts)}}
}

// refusedOr classifies an error: a refusal if dlc says it does not
// support something, else a crash.
func refusedOr(err error) outcome {
	var u *UnsupportedError
	s := err.Error()
	if errors.As(err, &u) || strings.Contains(s, "unsupported") || strings.Contains(s, "not supported") {
		return refused
	}
	return crashed
}

// checkOutput compares an output with ONNX's, dtype first: an expected
// dtype that dlc holds as another one (before dlc has every dtype) is a
// refusal, not a wrong answer.
func checkOutput(got, want *ir.Tensor, path string) (outcome, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return crashed, err
	}
	_, _, elem, err := DecodeTensor(raw)
	if err != nil {
		return crashed, err
	}
	if onnxElem(got.DType) != elem {
		if onnxElem(want.DType) != elem {
			return refused, fmt.Errorf("output dtype %s is not supported (dlc holds it as %v)", dtName(elem), want.DType)
		}
		return wrong, fmt.Errorf("dtype %v, want %s", got.DType, dtName(elem))
	}
	if err := compare(got, want, 1e-3, 1e-7); err != nil {
		return wrong, err
	}
	return passed, nil
}

// onnxElem is the ONNX element type of an ir dtype, or -1.
func onnxElem(d ir.DType) int32 {
	info, ok := d.Info()
	if !ok {
		return -1
	}
	return info.ONNX
}

func elems(t *ir.Tensor) []float64 { return ir.Convert(t, ir.F64).F64() }

// compare is numpy's assert_allclose: |got-want| <= atol + rtol*|want|.
func compare(got, want *ir.Tensor, rtol, atol float64) error {
	if got == nil {
		return errors.New("no output")
	}
	if !got.Shape.Equal(want.Shape) {
		return fmt.Errorf("shape %v, want %v", got.Shape, want.Shape)
	}
	if got.DType != want.DType {
		return fmt.Errorf("dtype %v, want %v", got.DType, want.DType)
	}
	g, w := elems(got), elems(want)
	bad, worst := 0, -1
	for i := range g {
		if math.IsNaN(w[i]) && math.IsNaN(g[i]) {
			continue
		}
		if g[i] == w[i] {
			continue
		}
		if !(math.Abs(g[i]-w[i]) <= atol+rtol*math.Abs(w[i])) {
			if worst < 0 || math.Abs(g[i]-w[i]) > math.Abs(g[worst]-w[worst]) {
				worst = i
			}
			bad++
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d values differ; worst at %d: got %g, want %g", bad, len(g), worst, g[worst], w[worst])
	}
	return nil
}

// opCounts are one op's results.
type opCounts struct {
	n       [4]int // by outcome, through the interpreter
	frozen  int    // passed with inputs bound at compile time
	gen     int    // generated code built and run
	genPass int
}

func TestConformance(t *testing.T) {
	dir, tests := readManifest(t)
	xfail, byMsg, err := readXfail(xfailPath)
	if os.IsNotExist(err) && *updateXfail {
		xfail, byMsg, err = map[string]string{}, map[string]string{}, nil
	}
	if err != nil {
		t.Fatal(err)
	}
	results := make([]*suiteResult, len(tests))
	for i, tc := range tests {
		r := runSuiteTest(filepath.Join(dir, tc.name))
		r.suiteTest = tc
		results[i] = &r
	}
	genNote := runGeneratedSample(t, results)
	if *updateXfail {
		if err := writeXfail(xfailPath, results, xfail, byMsg); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %s", xfailPath)
	} else {
		judge(t, results, xfail)
	}
	t.Log(conformanceTable(dir, results, genNote))
}

// runGeneratedSample builds generated code for the tests the interpreter
// passed: every one with DLC_CONFORMANCE_GEN=all, else the first of each
// op; none with -short. It returns a note on what ran.
func runGeneratedSample(t *testing.T, results []*suiteResult) string {
	switch {
	case testing.Short():
		return "not run (-short)"
	case os.Getenv(genEnv) == "" && *updateXfail:
		return "not run (-update-xfail keeps the generated-code entries; add " + genEnv + "=all to judge them)"
	}
	if _, err := exec.LookPath("go"); err != nil {
		return "not run (no go command)"
	}
	all := os.Getenv(genEnv) == "all"
	var cases []*suiteResult
	seen := map[string]bool{}
	for _, r := range results {
		if r.out == passed && (all || !seen[r.op]) {
			cases = append(cases, r)
			seen[r.op] = true
		}
	}
	note := runGenerated(t, cases)
	if all {
		return fmt.Sprintf("every test the interpreter passes (%s=all): %s", genEnv, note)
	}
	return fmt.Sprintf("the first passing test of each op (%s=all for every one): %s", genEnv, note)
}

// judge fails the test for every failure not on the list and every listed
// test that passes.
func judge(t *testing.T, results []*suiteResult, xfail map[string]string) {
	present := map[string]bool{}
	for _, r := range results {
		present[r.name] = true
		reason, listed := xfail[r.name]
		switch {
		case r.failed() && !listed:
			if r.out != passed {
				t.Errorf("%s (%s): %s: %v", r.name, r.op, outcomeNames[r.out], r.msg)
			} else {
				t.Errorf("%s (%s): generated code: %s", r.name, r.op, r.genMsg)
			}
		case !r.failed() && listed && (r.gen || !strings.HasPrefix(reason, "generated code")):
			t.Errorf("%s passes but is listed in %s as failing (%s): remove it from the list", r.name, xfailPath, reason)
		}
	}
	if len(results) > 600 { // the whole suite: the list names only its tests
		for name := range xfail {
			if !present[name] {
				t.Errorf("%s lists %s, which is not in the suite: remove it from the list", xfailPath, name)
			}
		}
	}
}

// conformanceTable is the per-op table and the summary.
func conformanceTable(dir string, results []*suiteResult, genNote string) string {
	per := map[string]*opCounts{}
	var tot opCounts
	for _, r := range results {
		c := per[r.op]
		if c == nil {
			c = &opCounts{}
			per[r.op] = c
		}
		for _, x := range []*opCounts{c, &tot} {
			x.n[r.out]++
			if r.c != nil && r.c.frozen > 0 {
				x.frozen++
			}
			if r.gen {
				x.gen++
				if r.genMsg == "" {
					x.genPass++
				}
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-28s %5s %7s %5s %7s %6s | %4s %5s\n", "op", "pass", "refused", "wrong", "crashed", "frozen", "gen", "gpass")
	row := func(op string, c *opCounts) {
		fmt.Fprintf(&b, "%-28s %5d %7d %5d %7d %6d | %4d %5d\n", op, c.n[passed], c.n[refused], c.n[wrong], c.n[crashed], c.frozen, c.gen, c.genPass)
	}
	for _, op := range slices.Sorted(maps.Keys(per)) {
		row(op, per[op])
	}
	row("total", &tot)
	fmt.Fprintf(&b, "%s: %d tests. Interpreter (import -> runtime.Run, at ONNX's rtol=1e-3, atol=1e-7 with equal dtypes and shapes):\n", dir, len(results))
	b.WriteString("  refused: dlc says it cannot take it (op, attribute, dtype, opset, domain; types without a NumPy counterpart)\n")
	b.WriteString("  frozen: passed with shape/axes/bound graph inputs bound at compile time (Options.Constants, dlc run)\n")
	b.WriteString("Generated code (import -> -O2 -> codegen -> go test, at the same tolerance): " + genNote + "\n")
	fmt.Fprintf(&b, "SUMMARY: %d of %d pass through the interpreter (%d refused, %d wrong, %d crashed); generated code: %d of %d built pass",
		tot.n[passed], len(results), tot.n[refused], tot.n[wrong], tot.n[crashed], tot.genPass, tot.gen)
	return b.String()
}

// readXfail reads the expected-failure list: "## reason" lines head
// groups of test names, one a line; a "#= message" line under a reason
// written by hand gives the failure message it stands for; other "#"
// lines are comments. It returns the reason of every test and the
// hand-written reason of every message.
func readXfail(path string) (tests, byMsg map[string]string, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	tests, byMsg = map[string]string{}, map[string]string{}
	reason := ""
	for i, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "## "):
			reason = strings.TrimPrefix(l, "## ")
		case strings.HasPrefix(l, "#= ") && reason != "":
			byMsg[strings.TrimPrefix(l, "#= ")] = reason
		case l == "" || strings.HasPrefix(l, "#"):
		case reason == "":
			return nil, nil, fmt.Errorf("%s:%d: test %s comes before any \"## reason\" line", path, i+1, l)
		default:
			if _, dup := tests[l]; dup {
				return nil, nil, fmt.Errorf("%s:%d: %s is listed twice", path, i+1, l)
			}
			tests[l] = reason
		}
	}
	return tests, byMsg, nil
}

const xfailHeader = `# Expected failures of TestConformance (frontend/onnx/conformance_test.go)
# over ONNX's backend node suite, ../shared/onnx-node-all: one test a line,
# under the reason it fails ("## reason"). Any other test must pass; a
# listed test that passes fails the run until it is removed from here.
# Rewritten by
#   go test ./frontend/onnx -run TestConformance -update-xfail
# which lists each failure under its message, or under a reason written by
# hand for that message: replace the "## message" line with "## reason"
# followed by "#= message". Reasons starting "generated code" are judged only
# when generated code ran for the test (DLC_CONFORMANCE_GEN=all runs it
# for every test).
`

// writeXfail rewrites the list from results, each failure under its
// message, or under the hand-written reason given for that message
// (byMsg). Generated-code entries of tests whose generated code did not
// run are kept as they were.
func writeXfail(path string, results []*suiteResult, old, byMsg map[string]string) error {
	groups := map[string][]string{}
	msgOf := map[string]string{} // hand-written reason -> message
	for _, r := range results {
		reason, ok := old[r.name]
		switch {
		case r.failed():
			reason = r.reason()
			if hand, ok := byMsg[reason]; ok {
				msgOf[hand] = reason
				reason = hand
			}
		case ok && !r.gen && strings.HasPrefix(reason, "generated code"):
		default:
			continue
		}
		groups[reason] = append(groups[reason], r.name)
	}
	reasons := slices.Sorted(maps.Keys(groups))
	sort.SliceStable(reasons, func(i, j int) bool { return len(groups[reasons[i]]) > len(groups[reasons[j]]) })
	var b strings.Builder
	b.WriteString(xfailHeader)
	for _, reason := range reasons {
		fmt.Fprintf(&b, "\n## %s\n", reason)
		if m, ok := msgOf[reason]; ok {
			fmt.Fprintf(&b, "#= %s\n", m)
		}
		for _, name := range groups[reason] {
			b.WriteString(name + "\n")
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

package onnx

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dlcompiler/dlc/codegen"
	"github.com/dlcompiler/dlc/passes"
)

// The generated-code path of TestConformance: every node test that the
// interpreter passes is optimized at -O2 and compiled into a Go package
// whose self-test runs the generated code on the test's inputs and
// compares with ONNX's expected outputs. The packages go into one
// temporary module and one `go test -json ./...` builds and runs them all;
// the JSON events attribute each result to its package, so to its test.

// genExpectedFail lists node tests that pass through the interpreter but
// not through generated code, each with the reason. Anything else the
// interpreter passes must pass as generated code; an entry that passes is
// an error, so fixing a bug means deleting its entries.
var genExpectedFail = map[string]string{}

// genCase is a node test the interpreter passed.
type genCase struct {
	suiteTest
	c *suiteCase
}

// genCounts are one op's generated-code results.
type genCounts struct{ pass, fail, xfail, strict, tight int }

func (c *genCounts) add(o *genCounts) {
	c.pass += o.pass
	c.fail += o.fail
	c.xfail += o.xfail
	c.strict += o.strict
	c.tight += o.tight
}

// genModule is the temporary module's path; each test's package is
// genModule/<test name>.
const genModule = "dlconformance"

// tolMarker starts the line the extra test prints.
const tolMarker = "dlc-conformance-tolerance:"

// tolTest is an extra test file written into each generated package. The
// self-test's tolerance floor scales with the output's magnitude
// (codegen/selftest.go); this test reports, without failing, whether the
// outputs are also within ONNX's unscaled rtol=1e-3, atol=1e-7 and within
// dlc's rtol=1e-5, atol=1e-6. It calls the public Run on the self-test's
// decoded vectors, so it relies on the generated test's loadSelfTest and
// its in/want fields: if codegen renames them this file stops compiling
// and TestConformance says so.
const tolTest = `package %s

import (
	"fmt"
	"math"
	"reflect"
	"testing"
)

func TestConformanceTolerance(t *testing.T) {
	d := loadSelfTest(t)
	var out Output
	if err := New().Run(&d.in, &out); err != nil {
		t.Fatal(err)
	}
	res, wants := reflect.ValueOf(out), reflect.ValueOf(d.want)
	strict, tight := true, true
	for i := range res.NumField() {
		got, want := res.Field(i), wants.Field(i)
		if got.Len() != want.Len() {
			t.Fatalf("output %%d: %%d values, want %%d", i, got.Len(), want.Len())
		}
		for j := range got.Len() {
			var g, w float64
			if got.Index(j).Kind() == reflect.Int64 {
				g, w = float64(got.Index(j).Int()), float64(want.Index(j).Int())
			} else {
				g, w = got.Index(j).Float(), want.Index(j).Float()
			}
			if g == w || math.IsNaN(g) && math.IsNaN(w) {
				continue
			}
			d := math.Abs(g - w)
			strict = strict && d <= 1e-7+1e-3*math.Abs(w)
			tight = tight && d <= 1e-6+1e-5*math.Abs(w)
		}
	}
	fmt.Printf("` + tolMarker + ` strict=%%v tight=%%v\n", strict, tight)
}
`

// testEvent is one line of `go test -json`.
type testEvent struct {
	Action     string
	Package    string
	ImportPath string
	Test       string
	Output     string
}

// runGenerated compiles every case into a package of one module, runs
// `go test` over the module and returns per-op counts. It reports
// unexpected failures with t.Errorf.
func runGenerated(t *testing.T, cases []genCase) map[string]*genCounts {
	t.Helper()
	start := time.Now()
	// DLC_CONFORMANCE_DIR keeps the module for inspection (it must not exist).
	mod := os.Getenv("DLC_CONFORMANCE_DIR")
	if mod == "" {
		mod = t.TempDir()
	} else if err := os.Mkdir(mod, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module "+genModule+"\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	per := map[string]*genCounts{}
	count := func(op string) *genCounts {
		if per[op] == nil {
			per[op] = &genCounts{}
		}
		return per[op]
	}
	fail := func(tc suiteTest, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if reason, ok := genExpectedFail[tc.name]; ok {
			count(tc.op).xfail++
			t.Logf("%s: generated code: expected failure (%s): %s", tc.name, reason, firstLineOf(msg))
			return
		}
		count(tc.op).fail++
		t.Errorf("%s (%s): generated code: %s", tc.name, tc.op, msg)
	}
	built := map[string]genCase{} // by package directory (the test name)
	for _, gc := range cases {
		g := gc.c.g.Clone()
		ps, err := passes.Select(2, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := passes.Run(g, ps, passes.Options{Verify: true}); err != nil {
			fail(gc.suiteTest, "-O2 passes: %v", err)
			continue
		}
		pkg := genPackage(gc.name)
		files, err := codegen.Generate(g, codegen.Options{
			Package: pkg, SelfTest: true, TestInputs: gc.c.ins, TestOutputs: gc.c.wants,
			RelTol: 1e-3, AbsTol: 1e-7,
		})
		if err != nil {
			fail(gc.suiteTest, "generate: %s", firstLine(err))
			continue
		}
		files["zz_tolerance_test.go"] = fmt.Appendf(nil, tolTest, pkg)
		if err := codegen.WritePackage(filepath.Join(mod, gc.name), files); err != nil {
			t.Fatal(err)
		}
		built[gc.name] = gc
	}
	genTime := time.Since(start)
	if len(built) == 0 {
		return per
	}

	start = time.Now()
	cmd := exec.Command("go", "test", "-count=1", "-vet=off", "-json", "./...")
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, runErr := cmd.Output()
	testTime := time.Since(start)

	result := map[string]string{} // test name -> "pass" or "fail"
	output := map[string]string{} // test name -> test and build output
	tol := map[string][2]bool{}   // test name -> strict, tight
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var e testEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			continue // not an event (go test prints a few plain lines)
		}
		p := e.Package
		if p == "" {
			p = e.ImportPath
		}
		p, _, _ = strings.Cut(p, " ") // "pkg [pkg.test]" build events
		name, ok := strings.CutPrefix(p, genModule+"/")
		if !ok {
			continue
		}
		switch e.Action {
		case "output", "build-output":
			if m, ok := strings.CutPrefix(strings.TrimSpace(e.Output), tolMarker); ok {
				tol[name] = [2]bool{strings.Contains(m, "strict=true"), strings.Contains(m, "tight=true")}
			}
			if len(output[name]) < 4000 {
				output[name] += e.Output
			}
		case "pass", "fail":
			if e.Test == "" {
				result[name] = e.Action
			}
		case "build-fail":
			result[name] = "fail"
		}
	}
	if len(result) == 0 {
		t.Fatalf("go test over %d generated packages reported nothing (%v):\n%s", len(built), runErr, stderr.Bytes())
	}
	for _, gc := range cases {
		if _, ok := built[gc.name]; !ok {
			continue
		}
		switch result[gc.name] {
		case "pass":
			c := count(gc.op)
			c.pass++
			r, ok := tol[gc.name]
			if !ok {
				t.Errorf("%s: generated package passed but did not report its tolerances", gc.name)
			}
			if r[0] {
				c.strict++
			} else if ok {
				t.Logf("%s: generated code passes the self-test, not ONNX's unscaled atol=1e-7", gc.name)
			}
			if r[1] {
				c.tight++
			} else if ok {
				t.Logf("%s: generated code passes at ONNX's tolerance, not at dlc's 1e-5", gc.name)
			}
			if reason, ok := genExpectedFail[gc.name]; ok {
				t.Errorf("%s passes as generated code but is listed in genExpectedFail (%s)", gc.name, reason)
			}
		case "fail":
			fail(gc.suiteTest, "go test failed:\n%s", output[gc.name])
		default:
			fail(gc.suiteTest, "go test reported no result (%v):\n%s", runErr, stderr.Bytes())
		}
	}
	t.Logf("generated code: %d packages; import+passes+codegen %v, go test %v", len(built), genTime.Round(time.Millisecond), testTime.Round(time.Second))
	return per
}

// genPackage makes a package name of a test name: lower-case letters and
// digits ("test_add_bcast" -> "maddbcast"), so that no file name gets a
// _test or GOOS/GOARCH suffix.
func genPackage(test string) string {
	var b strings.Builder
	b.WriteString("m")
	for _, r := range strings.ToLower(strings.TrimPrefix(test, "test_")) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func firstLineOf(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

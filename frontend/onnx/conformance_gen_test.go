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
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/passes"
)

// The generated-code path of TestConformance: node tests that the
// interpreter passes are optimized at -O2 and compiled into Go packages
// whose self-tests run the generated code on the tests' inputs and
// compare with ONNX's expected outputs. The packages go into one
// temporary module and one `go test -json ./...` builds and runs them all;
// the JSON events attribute each result to its package, so to its test.

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
			g, w := num(got.Index(j), halfExp[i]), num(want.Index(j), halfExp[i])
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

// halfExp is, per output, the exponent mask of an f16 (0x7c00) or bf16
// (0x7f80) output stored as uint16 bits, else 0.
var halfExp = %#v

// num is an element of any dtype's storage as a float64; exp is its
// halfExp.
func num(v reflect.Value, exp uint16) float64 {
	switch v.Kind() {
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(v.Int())
	case reflect.Uint16:
		if b := uint16(v.Uint()); exp == 0x7f80 {
			return float64(math.Float32frombits(uint32(b) << 16))
		} else if exp == 0x7c00 {
			e, m := int(b>>10&0x1f), float64(b&0x3ff)
			f := math.Ldexp(m+1024, e-25)
			switch {
			case e == 0x1f && m != 0:
				return math.NaN()
			case e == 0x1f:
				f = math.Inf(1)
			case e == 0:
				f = math.Ldexp(m, -24)
			}
			if b&0x8000 != 0 {
				f = -f
			}
			return f
		}
		return float64(v.Uint())
	case reflect.Uint8, reflect.Uint32, reflect.Uint64:
		return float64(v.Uint())
	case reflect.Bool:
		if v.Bool() {
			return 1
		}
		return 0
	}
	return v.Float()
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
// `go test` over the module and records each case's result in gen and
// genMsg. It returns a note on what ran and how long it took.
func runGenerated(t *testing.T, cases []*suiteResult) string {
	t.Helper()
	if len(cases) == 0 {
		return "no test to build"
	}
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
	var built []*suiteResult
	for _, r := range cases {
		r.gen = true
		if msg := writeGenPackage(mod, r); msg != "" {
			r.genMsg = msg
			continue
		}
		built = append(built, r)
	}
	genTime := time.Since(start)
	if len(built) == 0 {
		return fmt.Sprintf("%d tests, none generated", len(cases))
	}

	start = time.Now()
	cmd := exec.Command("go", "test", "-count=1", "-vet=off", "-json", "./...")
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, runErr := cmd.Output()
	testTime := time.Since(start)
	result, output, tol := parseTestEvents(stdout)
	if len(result) == 0 {
		t.Fatalf("go test over %d generated packages reported nothing (%v):\n%s", len(built), runErr, stderr.Bytes())
	}
	for _, r := range built {
		switch result[r.name] {
		case "pass":
			if strict, ok := tol[r.name]; !ok {
				r.genMsg = "the package passed but did not report its tolerances"
			} else if !strict[0] {
				r.genMsg = "passes the self-test (its absolute floor scaled by max|want|), not ONNX's unscaled rtol=1e-3, atol=1e-7"
			}
		case "fail":
			r.genMsg = "go test failed:\n" + output[r.name]
		default:
			r.genMsg = fmt.Sprintf("go test reported no result (%v):\n%s", runErr, stderr.Bytes())
		}
	}
	return fmt.Sprintf("%d packages; import+passes+codegen %v, go test %v", len(built), genTime.Round(time.Millisecond), testTime.Round(time.Second))
}

// writeGenPackage optimizes r's graph at -O2 and writes its package into
// the module; it returns why it could not, or "".
func writeGenPackage(mod string, r *suiteResult) string {
	g := r.c.g.Clone()
	ps, err := passes.Select(2, "")
	if err != nil {
		return err.Error()
	}
	if err := passes.Run(g, ps, passes.Options{Verify: true}); err != nil {
		return fmt.Sprintf("-O2 passes: %v", err)
	}
	pkg := genPackage(r.name)
	files, err := codegen.Generate(g, codegen.Options{
		Package: pkg, SelfTest: true, TestInputs: r.c.ins, TestOutputs: r.c.wants,
		RelTol: 1e-3, AbsTol: 1e-7,
	})
	if err != nil {
		return "generate: " + firstLine(err)
	}
	halfExp := make([]uint16, len(g.Outputs))
	for i, o := range g.Outputs {
		switch o.Type.DType {
		case ir.F16:
			halfExp[i] = 0x7c00
		case ir.BF16:
			halfExp[i] = 0x7f80
		}
	}
	files["zz_tolerance_test.go"] = fmt.Appendf(nil, tolTest, pkg, halfExp)
	if err := codegen.WritePackage(filepath.Join(mod, r.name), files); err != nil {
		return err.Error()
	}
	return ""
}

// parseTestEvents reads `go test -json` output: per test (package) its
// result ("pass" or "fail"), its output, and the strict and tight
// tolerances its extra test reported.
func parseTestEvents(stdout []byte) (result, output map[string]string, tol map[string][2]bool) {
	result, output, tol = map[string]string{}, map[string]string{}, map[string][2]bool{}
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
	return result, output, tol
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

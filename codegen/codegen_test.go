package codegen

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/ir"
)

// TestEveryOpHasEmitter walks the op table: an op without an emitter
// cannot be compiled.
func TestEveryOpHasEmitter(t *testing.T) {
	for _, d := range ir.Ops() {
		if _, ok := emitters[d.Name]; !ok {
			t.Errorf("op %s has no emitter in codegen", d.Name)
		}
	}
	for op := range emitters {
		if ir.Lookup(op) == nil {
			t.Errorf("emitter for %s, which is not in the op table", op)
		}
	}
}

// TestEveryOpHasEquivCase checks that the equivalence cases cover every op.
func TestEveryOpHasEquivCase(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range buildCases(t) {
		for _, n := range c.g.Nodes {
			seen[n.Op] = true
		}
	}
	for _, d := range ir.Ops() {
		if !seen[d.Name] {
			t.Errorf("no equivalence case uses op %s", d.Name)
		}
	}
}

func caseGraph(t *testing.T, name string) *ir.Graph {
	t.Helper()
	for i, c := range equivCases() {
		if c.name == name {
			b := &gb{t: t, g: ir.NewGraph(c.name), r: rand.New(rand.NewPCG(uint64(i), 7))}
			c.build(b)
			return b.g
		}
	}
	t.Fatalf("no case %s", name)
	return nil
}

func TestDeterministic(t *testing.T) {
	for _, name := range []string{"lenet", "textlstm", "resblock"} {
		g := caseGraph(t, name)
		a, err := generateCase(t, g)
		if err != nil {
			t.Fatal(err)
		}
		b, err := generateCase(t, g)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != len(b) {
			t.Fatalf("%s: %d files, then %d", name, len(a), len(b))
		}
		for f := range a {
			if !bytes.Equal(a[f], b[f]) {
				t.Errorf("%s: %s differs between two runs", name, f)
			}
		}
		for f, src := range a {
			if strings.HasSuffix(f, ".go") && !bytes.HasPrefix(src, []byte(Header+"\n")) {
				t.Errorf("%s: %s does not start with %q", name, f, Header)
			}
		}
	}
}

func TestUnsupportedOpNamesLayer(t *testing.T) {
	g := caseGraph(t, "mlp")
	e := emitters["tanh"]
	delete(emitters, "tanh")
	defer func() { emitters["tanh"] = e }()
	_, err := Generate(g, Options{})
	if err == nil || !strings.Contains(err.Error(), "tanh") || !strings.Contains(err.Error(), "layer tanh") {
		t.Fatalf("want an error naming the layer and op, got %v", err)
	}
}

// classifier declares the graph's only output as class scores, as a
// labels statement or `output NAME: classes` does.
func classifier(g *ir.Graph) *ir.Graph {
	g.ClassScores = []string{g.OutputNames[0]}
	return g
}

func TestAPI(t *testing.T) {
	// An output not declared as class scores gets no Classify, whatever
	// its shape.
	files, err := generateCase(t, caseGraph(t, "mlp"))
	if err != nil {
		t.Fatal(err)
	}
	if api := string(files["mlp.go"]); strings.Contains(api, "Classify") || strings.Contains(api, "NumClasses") {
		t.Error("mlp.go without class scores declared has Classify")
	}
	files, err = generateCase(t, classifier(caseGraph(t, "mlp")))
	if err != nil {
		t.Fatal(err)
	}
	api := string(files["mlp.go"])
	for _, want := range []string{
		"func New() *Model",
		"type Input struct {\n\t// X is input x, f32[1,20].\n\tX [InputXSize]float32\n}",
		"func (m *Model) Run(in *Input, out *Output) error",
		"func (m *Model) Predict(in *[InputSize]float32, out *[OutputSize]float32) error",
		"func (m *Model) PredictSlice(in []float32, out []float32) error",
		"func (m *Model) Classify(in *[InputSize]float32) (class int, prob float32, err error)",
		"InputXSize = 20", "InputSize = InputXSize", "OutputSize = OutputOut0Size", "NumClasses = 4",
		"InputXShape = [2]int{1, 20}", "InputShape = InputXShape",
		"//go:embed weights.bin", "var weightsBin string", "one Model per goroutine",
	} {
		if !strings.Contains(api, want) {
			t.Errorf("mlp.go lacks %q", want)
		}
	}
	files, err = generateCase(t, classifier(caseGraph(t, "textlstm")))
	if err != nil {
		t.Fatal(err)
	}
	api = string(files["textlstm.go"])
	for _, want := range []string{
		"func (m *Model) Run(in *Input, out *Output) error",
		"func (m *Model) Predict(in *[InputSize]int64, out *[OutputSize]float32) error",
		"func (m *Model) Classify(in *[InputSize]int64) (class int, prob float32, err error)",
		"for an id or index out of range",
	} {
		if !strings.Contains(api, want) {
			t.Errorf("textlstm.go lacks %q:\n%s", want, api)
		}
	}
	if strings.Contains(api, "func init()") {
		t.Error("textlstm.go has an init function: weights must load on first use")
	}
	// Weights never appear as Go literals: sources grow with layers only.
	for f, src := range files {
		if strings.HasSuffix(f, ".go") && len(src) > 20000 {
			t.Errorf("%s is %d bytes", f, len(src))
		}
	}
}

func TestWritePackageAtomic(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "pkg")
	old := map[string][]byte{"pkg.go": []byte(Header + "\npackage pkg\n"), "weights.bin": {1, 2, 3}}
	if err := WritePackage(dir, old); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "README"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	// "x" as a file and as a directory: the write fails midway.
	bad := map[string][]byte{"pkg.go": []byte(Header + "\npackage pkg // new\n"), "x": {1}, "x/y": {2}}
	if err := WritePackage(dir, bad); err == nil {
		t.Fatal("conflicting paths: want an error")
	}
	for f, want := range old {
		got, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("after a failed write, %s = %q, %v; want %q", f, got, err, want)
		}
	}
	ents, _ := os.ReadDir(root)
	if len(ents) != 1 {
		t.Errorf("temporary directories left behind: %v", ents)
	}
	// A successful write replaces generated files and keeps the README.
	nw := map[string][]byte{"pkg.go": []byte(Header + "\npackage pkg // new\n"), "testdata/selftest.bin": {9}}
	if err := WritePackage(dir, nw); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "weights.bin")); err == nil {
		t.Error("stale weights.bin survived the rewrite")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "README")); string(b) != "mine" {
		t.Error("README was not kept")
	}
	// A hand-written Go file makes WritePackage refuse.
	if err := os.WriteFile(filepath.Join(dir, "extra.go"), []byte("package pkg\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := WritePackage(dir, nw)
	if err == nil || !strings.Contains(err.Error(), "extra.go") {
		t.Fatalf("want a refusal naming extra.go, got %v", err)
	}
	for _, name := range []string{"../evil.go", "/abs.go", ""} {
		if err := WritePackage(dir, map[string][]byte{name: nil}); err == nil {
			t.Errorf("file name %q: want an error", name)
		}
	}
}

// TestGeneratedChecksFail builds packages that must fail: one with a
// corrupted weights.bin (init panics with a clear message) and one whose
// recorded outputs were changed (the self-test must notice).
func TestGeneratedChecksFail(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	dir := t.TempDir()
	writeModule(t, dir)
	files, err := generateCase(t, caseGraph(t, "mlp"))
	if err != nil {
		t.Fatal(err)
	}
	corrupt := map[string][]byte{}
	for f, b := range files {
		corrupt[f] = b
	}
	w := append([]byte(nil), files["weights.bin"]...)
	w[len(w)/2] ^= 0x40
	corrupt["weights.bin"] = w
	if err := WritePackage(filepath.Join(dir, "mlp"), corrupt); err != nil {
		t.Fatal(err)
	}
	files2, err := generateCase(t, caseGraph(t, "lenet"))
	if err != nil {
		t.Fatal(err)
	}
	st := append([]byte(nil), files2["testdata/selftest.bin"]...)
	st[len(st)-4*3+3] ^= 0x20 // flip the exponent of an output value
	files2["testdata/selftest.bin"] = st
	if err := WritePackage(filepath.Join(dir, "lenet"), files2); err != nil {
		t.Fatal(err)
	}
	// A third, sound package with a test of both ways weightView loads a
	// section: in place (aligned, little endian: amd64) or decoded.
	files3, err := generateCase(t, caseGraph(t, "mlp"))
	if err != nil {
		t.Fatal(err)
	}
	files3["views_test.go"] = []byte(weightViewTest)
	if err := WritePackage(filepath.Join(dir, "views"), files3); err != nil {
		t.Fatal(err)
	}
	out, err := goTest(t, dir, "-count=1", "./...")
	if err == nil {
		t.Fatalf("go test passed with corrupted packages:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^ok\s+dlctest/views\s`).MatchString(out) {
		t.Errorf("the weight view test failed:\n%s", out)
	}
	if !strings.Contains(out, "embedded weights.bin is corrupt") {
		t.Errorf("no checksum panic for the corrupted weights.bin:\n%s", out)
	}
	if !strings.Contains(out, "differ beyond tolerance") {
		t.Errorf("self-test did not notice a wrong recorded output:\n%s", out)
	}
}

// weightViewTest checks weightView in a generated package: an aligned
// section on amd64 is the embedded bytes themselves, and a misaligned one
// is decoded into a copy with the same values.
const weightViewTest = `package mlp

import (
	"encoding/binary"
	"math"
	"runtime"
	"testing"
	"unsafe"
)

func TestWeightViews(t *testing.T) {
	New()
	dec := func(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) }
	in := weightView[float32](0, 8)
	if runtime.GOARCH == "amd64" && unsafe.Pointer(&in[0]) != unsafe.Pointer(unsafe.StringData(weightsBin)) {
		t.Error("aligned weights on amd64 were copied, not used in place")
	}
	if &weightsF32[0] != &in[0] && runtime.GOARCH == "amd64" {
		t.Error("weightsF32 is not the in-place view")
	}
	odd := weightView[float32](1, 8) // misaligned for float32: decoded
	for i := range odd {
		want := dec([]byte(weightsBin[1+4*i:]))
		if math.Float32bits(odd[i]) != math.Float32bits(want) {
			t.Fatalf("decoded value %d = %v, want %v", i, odd[i], want)
		}
	}
	if uintptr(unsafe.Pointer(&odd[0]))-uintptr(unsafe.Pointer(unsafe.StringData(weightsBin))) == 1 {
		t.Error("a misaligned section was used in place")
	}
}
`

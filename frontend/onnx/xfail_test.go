package onnx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestXfailRewrite checks -update-xfail's rewriting: failures grouped by
// their message, a hand-written reason kept for its message (also for a
// newly failing test), passing tests dropped, generated-code entries kept
// when generated code did not run.
func TestXfailRewrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "xfail.txt")
	old := "# comment\n\n## numpy's RNG draws the mask\n#= Dropout: training_mode draws random numbers\ntest_a\n\n" +
		"## op Foo is not supported\ntest_fixed\n\n## generated code: go test failed:\ntest_gen\n"
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	tests, byMsg, err := readXfail(path)
	if err != nil {
		t.Fatal(err)
	}
	if tests["test_a"] != "numpy's RNG draws the mask" || byMsg["Dropout: training_mode draws random numbers"] != "numpy's RNG draws the mask" {
		t.Fatalf("read %v %v", tests, byMsg)
	}
	refusal := `model.onnx: unsupported node:
  node "d" (Dropout, opset 13): training_mode draws random numbers`
	results := []*suiteResult{
		{suiteTest: suiteTest{"test_a", "Dropout"}, out: refused, msg: refusal},
		{suiteTest: suiteTest{"test_b", "Dropout"}, out: refused, msg: refusal},
		{suiteTest: suiteTest{"test_fixed", "Foo"}, out: passed},
		{suiteTest: suiteTest{"test_gen", "Relu"}, out: passed},
		{suiteTest: suiteTest{"test_c", "Bar"}, out: refused, msg: `model.onnx: unsupported node:
  node "#0" (Bar, opset 13): op Bar is not supported`},
	}
	if err := writeXfail(path, results, tests, byMsg); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := string(data[len(xfailHeader):])
	want := "\n## numpy's RNG draws the mask\n#= Dropout: training_mode draws random numbers\ntest_a\ntest_b\n" +
		"\n## generated code: go test failed:\ntest_gen\n\n## op Bar is not supported\ntest_c\n"
	if got != want {
		t.Errorf("rewritten list:\n%s\nwant:\n%s", got, want)
	}
	if strings.Contains(got, "test_fixed") {
		t.Error("a passing test stayed listed")
	}
}

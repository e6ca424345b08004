package dl

import (
	"github.com/dlcompiler/dlc/ir"
	"strings"
	"testing"
)

// Tests of the "fewer surprises for a PyTorch user" features: each pins
// the behaviour or the message that leads to the fix.

// loadErr loads src without weights and returns the error text.
func loadErr(t *testing.T, src string) string {
	t.Helper()
	_, err := Load("m.dl", []byte(src), Options{NoWeights: true})
	if err == nil {
		t.Fatalf("no error for:\n%s", src)
	}
	return err.Error()
}

func TestClassScoresDecl(t *testing.T) {
	g := load(t, vec+"y = x | fc: dense(3, bias=false)\noutput y: classes, z = relu(y)\noutput p: classes = softmax(y)")
	g.Param("fc.weight").Data = ir.NewTensor(ir.F32, ir.Shape{3, 10})
	if len(g.ClassScores) != 2 || !g.IsClassScores(0) || g.IsClassScores(1) || !g.IsClassScores(2) {
		t.Errorf("class scores %v", g.ClassScores)
	}
	src, _, err := Format(g, "w.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"output y: classes = fc\n", "output p: classes = "} {
		if !strings.Contains(string(src), want) {
			t.Errorf("formatted source lacks %q:\n%s", want, src)
		}
	}
	h := load(t, strings.Replace(string(src), "weights ", "# weights ", 1))
	if len(h.ClassScores) != 2 {
		t.Errorf("round trip lost the class scores: %v", h.ClassScores)
	}
	// labels make the first output class scores, without a declaration.
	g = load(t, vec+"labels \"a\", \"b\", \"c\"\ny = x | fc: dense(3)\noutput y")
	if !g.IsClassScores(0) || len(g.ClassScores) != 0 {
		t.Errorf("labels: %v", g.ClassScores)
	}
	if got := loadErr(t, vec+"output x: class"); !strings.Contains(got, "m.dl:2:11: syntax error: want classes (output NAME: classes declares class scores), found \"class\"") {
		t.Errorf("got %s", got)
	}
}

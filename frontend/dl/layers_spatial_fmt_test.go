package dl_test

import (
	"math/rand"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/frontend/dl"
	"github.com/dlcompiler/dlc/ir"
)

// TestFormatSpatial writes conv_transpose and resize back as .dl: each
// resize PyTorch can say as upsample, the others as resize, and the
// reloaded model computes the same.
func TestFormatSpatial(t *testing.T) {
	src := `input x: f32[2, 4, 6, 5]
h = x | up: conv_transpose2d(6, [3, 2], stride=[2, 1], pads=[1, 0, 0, 1], output_padding=[1, 0], groups=2, dilation=[1, 2])
a = h | upsample(scale_factor=2)
b = h | interpolate(size=[7, 9], mode="bilinear", align_corners=true)
c = h | upsample(scale_factor=[0.5, 1.5], mode="bicubic", antialias=true)
d = h | resize(sizes=[1, 6, 4, 4], mode="linear", coordinate_transformation_mode="tf_crop_and_resize", roi=[0, 0, 0.1, 0.2, 1, 1, 0.9, 1.1], extrapolation_value=-1)
e = h | upsample(size=[5, 5], mode="nearest-exact")
f = h | pad([1, -2, 3, 0], value=-2.5) | pad([2, 1], mode="reflect") | pad([1, 2, 3, 4, 1, 0], mode="circular") | pad([3, 3], mode="replicate")
g = h | tril(diagonal=1) | triu | adaptive_avgpool2d((3, 4))
k = x | adaptive_avgpool2d(1) | expand(3, 2, 4, 2, 1)
output a
output b
output c
output d
output e
output f
output g
output k
`
	g, err := dl.Load("m.dl", []byte(src), dl.Options{NoWeights: true})
	if err != nil {
		t.Fatal(err)
	}
	fillParams(g, rand.New(rand.NewSource(3)))
	h, out := roundTrip(t, g, t.TempDir())
	for _, want := range []string{"conv_transpose2d(6, [3, 2], stride=[2, 1], pads=[1, 0, 0, 1], output_padding=[1, 0], groups=2, dilation=[1, 2])",
		"upsample(scale_factor=2)", `upsample(size=[7, 9], mode="bilinear", align_corners=true)`, `upsample(scale_factor=[0.5, 1.5], mode="bicubic", antialias=true)`,
		`resize(sizes=[1,6,4,4]`, `upsample(size=5, mode="nearest-exact")`,
		`pad([1, -2, 3, 0], value=-2.5)`, `pad([2, 1], mode="reflect")`, `pad([1, 2, 3, 4, 1, 0], mode="circular")`, `pad([3, 3], mode="replicate")`,
		`tril(diagonal=1)`, `triu`, `adaptive_avgpool2d([3, 4])`, `expand(3, 2, 4, 2, 1)`} {
		if !strings.Contains(out, want) {
			t.Errorf("written .dl lacks %s:\n%s", want, out)
		}
	}
	// Node names may change (interpolate is written as upsample); ops
	// and attributes may not.
	if len(g.Nodes) != len(h.Nodes) {
		t.Fatalf("the reloaded model has %d nodes, want %d:\n%s", len(h.Nodes), len(g.Nodes), out)
	}
	for i, n := range g.Nodes {
		m := h.Nodes[i]
		if n.Op != m.Op || attrString(n) != attrString(m) {
			t.Errorf("node %d reloads as %s %s, want %s %s", i, m.Op, attrString(m), n.Op, attrString(n))
		}
	}
	sameOutputs(t, g, h, randomInputs(g, rand.New(rand.NewSource(4))), out)
	t.Logf("%s", out)
}

func attrString(n *ir.Node) string {
	s := ""
	for _, k := range n.Attrs.Keys() {
		s += k + "=" + ir.FormatAttr(n.Attrs[k]) + " "
	}
	return s
}

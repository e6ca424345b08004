package dl

import (
	"fmt"
	"math"
	"testing"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/runtime"
)

// logicSrc uses every layer of layers_logic.go.
const logicSrc = `model logic
input x: f32[2, 3]
input y: f32[3]
input k: i32[2, 3]
input u: u8[2, 3]
input m: bool[2, 3]
a = eq(x, y)
b = x | gt(0)
c = logical_and(a, m) | logical_or(b) | logical_xor(m) | logical_not
d = where(c, x, y)
e = isinf(x, detect_negative=false)
f = remainder(k, 3)
g = fmod(x, y)
h = k | bitwise_and(6) | bitwise_or(k) | bitwise_xor(1) | bitwise_not
i = lt(x, y) | logical_and(le(x, y)) | logical_or(ge(k, 2))
j = isnan(g)
l = bitwise_left_shift(u, 3) | bitwise_right_shift(1)
output d
output e
output f
output h
output i
output j
output l
`

func init() {
	layerCases = append(layerCases, struct {
		name, src string
		want      []string
	}{"logic", logicSrc, []string{
		"eq_1 = eq(x, y): bool[2,3]", "gt_1 = gt(x, gt_1.scalar): bool[2,3]", "where_1 = where(logical_not_1, x, y): f32[2,3]",
		`isinf_1 = isinf(x) {detect_negative=false detect_positive=true}: bool[2,3]`, "remainder_1 = remainder(k, remainder_1.scalar): i32[2,3]",
		"fmod_1 = fmod(x, y): f32[2,3]", "bitwise_not_1 = bitwise_not(bitwise_xor_1): i32[2,3]", "bitwise_left_shift_1 = bitwise_left_shift(u, bitwise_left_shift_1.scalar): u8[2,3]",
	}})
}

// TestLogicRoundTrip writes the logic layers back as .dl (dlc import's
// writer) and checks that the source reloads to a graph computing the
// same outputs, on NaN, ±Inf and integer edge values.
func TestLogicRoundTrip(t *testing.T) {
	g := load(t, logicSrc)
	src, _, err := Format(g, "m.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	h, err := Load("m.dl", src, Options{NoWeights: true})
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	vals := []float64{math.NaN(), math.Inf(1), math.Inf(-1), -2.5, 0, 7}
	var ins []*ir.Tensor
	for _, v := range g.Inputs {
		x := ir.NewTensor(v.Type.DType, v.Type.Shape)
		for i := range x.Len() {
			x.SetFloat(i, vals[(i+len(ins))%len(vals)])
		}
		if v.Name == "y" {
			x.SetFloat(0, 0) // a zero float divisor: NaN
		}
		ins = append(ins, x)
	}
	want, err := runtime.Run(g, ins)
	if err != nil {
		t.Fatal(err)
	}
	got, err := runtime.Run(h, ins)
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	for i := range want {
		if w, gt := fmt.Sprint(want[i].Data), fmt.Sprint(got[i].Data); w != gt || want[i].DType != got[i].DType {
			t.Errorf("output %d: got %s, want %s\n%s", i, gt, w, src)
		}
	}
}

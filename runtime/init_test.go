package runtime

import (
	"math"
	"testing"

	"github.com/dlcompiler/dlc/ir"
)

func TestInitParams(t *testing.T) {
	g := ir.NewGraph("t")
	he := g.AddParam("w", ir.Param, ir.TensorType{DType: ir.F32, Shape: ir.Shape{64, 32, 3, 3}}, nil, "he", ir.Pos{})
	xa := g.AddParam("r", ir.Param, ir.TensorType{DType: ir.F32, Shape: ir.Shape{400, 100}}, nil, "xavier", ir.Pos{})
	z := g.AddParam("b", ir.Param, ir.TensorType{DType: ir.F32, Shape: ir.Shape{64}}, nil, "zeros", ir.Pos{})
	o := g.AddParam("s", ir.Param, ir.TensorType{DType: ir.F32, Shape: ir.Shape{5}}, nil, "ones", ir.Pos{})
	if err := InitParams(g, 1); err != nil {
		t.Fatal(err)
	}
	std := func(x []float32) float64 {
		var s, s2 float64
		for _, v := range x {
			s += float64(v)
			s2 += float64(v) * float64(v)
		}
		m := s / float64(len(x))
		return math.Sqrt(s2/float64(len(x)) - m*m)
	}
	if got, want := std(he.Data.F32()), math.Sqrt(2.0/288); math.Abs(got-want) > 0.05*want {
		t.Errorf("he std %g, want %g", got, want)
	}
	a := math.Sqrt(6.0 / 500)
	for _, v := range xa.Data.F32() {
		if math.Abs(float64(v)) > a {
			t.Fatalf("xavier value %g outside ±%g", v, a)
		}
	}
	if z.Data.F32()[3] != 0 || o.Data.F32()[4] != 1 {
		t.Error("zeros/ones")
	}
	g2 := ir.NewGraph("t")
	he2 := g2.AddParam("w", ir.Param, he.Type, nil, "he", ir.Pos{})
	if err := InitParams(g2, 1); err != nil {
		t.Fatal(err)
	}
	if he2.Data.F32()[100] != he.Data.F32()[100] {
		t.Error("same seed, different weights")
	}
	g3 := ir.NewGraph("t")
	g3.AddParam("w", ir.Param, he.Type, nil, "kaiming?", ir.Pos{})
	if err := InitParams(g3, 1); err == nil {
		t.Error("unknown initializer accepted")
	}
}

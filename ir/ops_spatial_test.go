package ir

import (
	"testing"
)

// TestPadIndex pins each mode against numpy.pad's on a 4-element axis
// padded by 6 before and 5 after.
func TestPadIndex(t *testing.T) {
	want := map[string][]int{
		"constant": {-1, -1, -1, -1, -1, -1, 0, 1, 2, 3, -1, -1, -1, -1, -1},
		"edge":     {0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 3, 3, 3, 3, 3},
		"wrap":     {2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0},
		"reflect":  {0, 1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1, 2},
	}
	for mode, w := range want {
		for o, i := range w {
			if got := PadIndex(mode, o, 6, 4); got != i {
				t.Errorf("%s: output %d reads %d, want %d", mode, o, got, i)
			}
		}
	}
	if got := PadIndex("reflect", 0, 2, 1); got != 0 {
		t.Errorf("reflect of a 1-element axis reads %d, want 0", got)
	}
}

func TestConvTransposeShapeAndMACs(t *testing.T) {
	g := NewGraph("t")
	x := g.AddInput("x", TensorType{F32, Shape{2, 4, 5, 6}}, Pos{})
	w := g.AddParam("w", Param, TensorType{F32, Shape{4, 3, 3, 2}}, nil, "", Pos{})
	n, err := g.AddNode("conv_transpose", "up", []*Value{x, w}, Attrs{"strides": []int{2, 3}, "pads": []int{1, 0, 2, 0},
		"output_padding": []int{1, 2}, "groups": 2}, Pos{})
	if err != nil {
		t.Fatal(err)
	}
	// H: (5-1)*2 - 1 - 2 + 3 + 1 = 9; W: (6-1)*3 + 2 + 2 = 19; out channels 3*2
	if want := (Shape{2, 6, 9, 19}); !n.Out().Type.Shape.Equal(want) {
		t.Errorf("shape %v, want %v", n.Out().Type.Shape, want)
	}
	if got, want := MACs(n), int64(2*4*5*6*3*3*2); got != want {
		t.Errorf("MACs %d, want %d", got, want)
	}
	for _, bad := range []Attrs{{"output_padding": []int{-1, 0}}, {"pads": []int{9, 9}}, {"groups": 3}} {
		if _, err := g.AddNode("conv_transpose", "bad", []*Value{x, w}, bad, Pos{}); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

// TestResizeTables checks the coordinate mappings on small cases worked
// by hand: nearest rounding, linear weights, and tf_crop_and_resize's
// outside flags.
func TestResizeTables(t *testing.T) {
	tab := func(in, out int, a Attrs) ResizeAxis {
		a = a.Clone()
		a["sizes"], a["scales"] = []int{out}, []float64{float64(out) / float64(in)}
		for k, v := range map[string]any{"mode": "nearest", "coordinate_transformation_mode": "half_pixel", "nearest_mode": "round_prefer_floor", "cubic_coeff_a": -0.75} {
			if _, ok := a[k]; !ok {
				a[k] = v
			}
		}
		return ResizeTables(Shape{in}, a)[0]
	}
	// asymmetric floor, 2x: 0 0 1 1 2 2
	if got := tab(3, 6, Attrs{"coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}); !equal(got.Idx, []int{0, 0, 1, 1, 2, 2}) {
		t.Errorf("nearest 2x: %v", got.Idx)
	}
	// half_pixel 4 -> 3: x = (o+0.5)*4/3-0.5 = 0.1667, 1.5, 2.833; prefer floor: 0, 1, 3; prefer ceil: 0, 2, 3
	if got := tab(4, 3, nil); !equal(got.Idx, []int{0, 1, 3}) {
		t.Errorf("round_prefer_floor: %v", got.Idx)
	}
	if got := tab(4, 3, Attrs{"nearest_mode": "round_prefer_ceil"}); !equal(got.Idx, []int{0, 2, 3}) {
		t.Errorf("round_prefer_ceil: %v", got.Idx)
	}
	// linear align_corners 3 -> 5: x = 0, .5, 1, 1.5, 2
	lin := tab(3, 5, Attrs{"mode": "linear", "coordinate_transformation_mode": "align_corners"})
	if !equal(lin.Start, []int{0, 1, 3, 4, 6, 7}) || !equal(lin.Idx, []int{0, 0, 1, 1, 1, 2, 2}) || lin.W[1] != 0.5 {
		t.Errorf("linear align_corners: start %v idx %v w %v", lin.Start, lin.Idx, lin.W)
	}
	id1, id2 := tab(5, 5, nil), tab(5, 5, Attrs{"coordinate_transformation_mode": "asymmetric", "nearest_mode": "ceil"})
	if !id1.Identity() || !id2.Identity() || lin.Identity() {
		t.Errorf("Identity: scale 1 %v %v, linear 3 -> 5 %v", id1.Identity(), id2.Identity(), lin.Identity())
	}
	crop := tab(4, 3, Attrs{"mode": "linear", "coordinate_transformation_mode": "tf_crop_and_resize", "roi": []float64{-0.5, 1.2}})
	if !(crop.Outside[0] && !crop.Outside[1] && crop.Outside[2]) {
		t.Errorf("tf_crop_and_resize outside flags %v", crop.Outside)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

package ir

import "math"

// ResizeAxis is the interpolation table of one axis of a resize node:
// output index o reads the input indices Idx[Start[o]:Start[o+1]] with
// weights W[Start[o]:Start[o+1]] (taps of weight 0 are left out, so a
// NaN or Inf beside the sampled point does not leak in). Outside[o]
// (tf_crop_and_resize) says that output index o maps outside the input:
// every output element with such an index is the extrapolation value.
// The interpreter and the generated code both read these tables, so
// they agree on every index and weight; the fixtures and ONNX's node
// tests check the tables themselves.
type ResizeAxis struct {
	Start   []int
	Idx     []int
	W       []float64
	Outside []bool
}

// Identity reports whether the axis copies its input unchanged.
func (t *ResizeAxis) Identity() bool {
	for o := 0; o+1 < len(t.Start); o++ {
		if t.Start[o+1]-t.Start[o] != 1 || t.Idx[t.Start[o]] != o || t.W[t.Start[o]] != 1 || t.Outside[o] {
			return false
		}
	}
	return len(t.Start)-1 == len(t.Idx)
}

// ResizeTables computes the tables of every axis of a resize node from
// its input shape and attributes, following ONNX's reference (onnx/
// reference/ops/op_resize.py): the coordinate transform in float64, the
// two (linear), four (cubic) or, with antialias, 1/scale times as many
// neighbours of the mapped coordinate, out-of-range neighbours clamped to
// the edge (or dropped with exclude_outside).
func ResizeTables(in Shape, a Attrs) []ResizeAxis {
	sizes, scales, roi := a.Ints("sizes"), a.Floats("scales"), a.Floats("roi")
	r := len(in)
	tabs := make([]ResizeAxis, r)
	for ax := 0; ax < r; ax++ {
		var lo, hi float64
		if len(roi) == 2*r {
			lo, hi = roi[ax], roi[r+ax]
		}
		tabs[ax] = resizeAxis(in[ax], sizes[ax], scales[ax], lo, hi, a)
	}
	return tabs
}

func resizeAxis(in, out int, scale, roiLo, roiHi float64, a Attrs) ResizeAxis {
	t := ResizeAxis{Start: []int{0}, Outside: make([]bool, out)}
	mode := a.String("mode")
	for o := 0; o < out; o++ {
		x, outside := resizeCoord(a.String("coordinate_transformation_mode"), o, in, out, scale, roiLo, roiHi)
		if outside {
			t.Outside[o] = true
			t.Start = append(t.Start, len(t.Idx))
			continue
		}
		// base is the neighbour at or left of x, with the ratio in (0, 1]:
		// an integral x is the right neighbour of base, as in ONNX.
		base := int(math.Ceil(x)) - 1
		ratio := x - float64(base)
		var offs []int
		var ws []float64
		switch {
		case mode == "nearest":
			up := false
			switch a.String("nearest_mode") {
			case "round_prefer_floor":
				up = ratio > 0.5
			case "round_prefer_ceil":
				up = ratio >= 0.5
			case "floor":
				up = ratio == 1
			case "ceil":
				up = true
			}
			if up {
				offs, ws = []int{1}, []float64{1}
			} else {
				offs, ws = []int{0}, []float64{1}
			}
		case a.Bool("antialias"):
			offs, ws = antialiasTaps(mode, ratio, math.Min(scale, 1), a.Float("cubic_coeff_a"))
		case mode == "linear":
			offs, ws = []int{0, 1}, []float64{1 - ratio, ratio}
		default: // cubic
			offs, ws = []int{-1, 0, 1, 2}, cubicCoeffs(ratio, a.Float("cubic_coeff_a"))
		}
		if a.Bool("exclude_outside") {
			sum := 0.0
			for k, off := range offs {
				if i := base + off; i < 0 || i >= in {
					ws[k] = 0
				}
				sum += ws[k]
			}
			for k := range ws {
				ws[k] /= sum
			}
		}
		for k, off := range offs {
			if ws[k] == 0 {
				continue
			}
			t.Idx = append(t.Idx, min(max(base+off, 0), in-1))
			t.W = append(t.W, ws[k])
		}
		t.Start = append(t.Start, len(t.Idx))
	}
	return t
}

// resizeCoord maps output index o to an input coordinate; outside is set
// when tf_crop_and_resize maps it outside [0, in-1].
func resizeCoord(mode string, o, in, out int, scale, roiLo, roiHi float64) (x float64, outside bool) {
	xo := float64(o)
	// ONNX's reference maps through the output width scale·in, which is
	// not the integral output size when scales are given.
	outW := scale * float64(in)
	switch mode {
	case "align_corners":
		if outW == 1 {
			return 0, false
		}
		return xo * float64(in-1) / (outW - 1), false
	case "asymmetric":
		return xo / scale, false
	case "tf_crop_and_resize":
		if outW == 1 {
			x = (roiHi - roiLo) * float64(in-1) / 2
		} else {
			x = xo * (roiHi - roiLo) * float64(in-1) / (outW - 1)
		}
		x += roiLo * float64(in-1)
		return x, x < 0 || x > float64(in-1)
	case "pytorch_half_pixel":
		if outW == 1 {
			return -0.5, false
		}
		return (xo+0.5)/scale - 0.5, false
	case "half_pixel_symmetric":
		adj := float64(out) / outW // the integral size over the width
		center := float64(in) / 2
		return center*(1-adj) + (xo+0.5)/scale - 0.5, false
	}
	return (xo+0.5)/scale - 0.5, false // half_pixel
}

// cubicCoeffs are the weights of the neighbours at -1, 0, 1, 2 from base
// for a point at ratio in (0, 1] after base (Keys' kernel with a).
func cubicCoeffs(r, A float64) []float64 {
	return []float64{
		((A*(r+1)-5*A)*(r+1)+8*A)*(r+1) - 4*A,
		((A+2)*r-(A+3))*r*r + 1,
		((A+2)*(1-r)-(A+3))*(1-r)*(1-r) + 1,
		((A*((1-r)+1)-5*A)*((1-r)+1)+8*A)*((1-r)+1) - 4*A,
	}
}

// antialiasTaps stretches the linear or cubic kernel by 1/scale (scale
// <= 1) and normalizes the weights to sum 1.
func antialiasTaps(mode string, ratio, scale, A float64) ([]int, []float64) {
	support := 1.0
	if mode == "cubic" {
		support = 2
	}
	start := int(math.Floor(-support/scale)) + 1
	end := 2 - start
	var offs []int
	var ws []float64
	sum := 0.0
	for i := start; i < end; i++ {
		x := math.Abs(scale * (float64(i) - ratio))
		var w float64
		switch {
		case mode == "linear":
			w = max(0, 1-x)
		case x <= 1:
			w = ((A+2)*x-(A+3))*x*x + 1
		case x < 2:
			w = ((A*x-5*A)*x+8*A)*x - 4*A
		}
		offs, ws = append(offs, i), append(ws, w)
		sum += w
	}
	for k := range ws {
		ws[k] /= sum
	}
	return offs, ws
}

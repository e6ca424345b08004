package ir

import "math"

// Detection ops: nms (ONNX NonMaxSuppression; torchvision.ops.nms per
// batch and class) and roi_align (ONNX RoiAlign, torchvision.ops.roi_align).
//
// NonMaxSuppression's output has as many rows as boxes survive, which
// depends on the values of boxes and scores; dlc's shapes are static. So
// nms returns the most rows it can select, B·C·min(max_per_class, S),
// filled from the top with the selected (batch, class, box) triples and
// then with -1, plus the count of selected rows: generated code can run
// it on any values. The ONNX importer, which must give ONNX's exact
// shape, needs boxes and scores at compile time (dlc run binds them from
// its inputs, as it does shapes): it then evaluates nms once and keeps
// the first count rows as a constant.

func init() {
	Register(&OpDef{
		Name: "roi_align", Doc: "pools each region rois[r] = [x1, y1, x2, y2] (times spatial_scale) of image batch_indices[r] of x [N, C, H, W] into [oh, ow] bins, each the average (or the largest weighted tap) of a grid of bilinear samples (sampling_ratio per axis, or ceil(bin size)) (ONNX RoiAlign, torchvision.ops.roi_align); y [R, C, oh, ow]",
		Class: Opaque, NoGrad: noGradYet, Pure: Pure, Stream: StreamWhole,
		Inputs:  []InputDef{{Name: "x", DTypes: OnlyF32}, {Name: "rois", DTypes: OnlyF32}, {Name: "batch_indices", DTypes: Indices}},
		Outputs: []string{"y"},
		Attrs: []AttrDef{
			{Name: "mode", Kind: AttrString, Default: "avg", Enum: []string{"avg", "max"}, Doc: "avg, or max (of the bilinear taps times their weights, as onnxruntime)"},
			{Name: "output_height", Kind: AttrInt, Default: 1, Doc: "bins per region along y"},
			{Name: "output_width", Kind: AttrInt, Default: 1, Doc: "bins per region along x"},
			{Name: "sampling_ratio", Kind: AttrInt, Default: 0, Doc: "samples per bin along each axis (0: ceil of the bin's size)"},
			{Name: "spatial_scale", Kind: AttrFloat, Default: 1.0, Doc: "scales the region coordinates to x's"},
			{Name: "half_pixel", Kind: AttrBool, Default: false, Doc: "shift the regions by -0.5 (torchvision's aligned=True); else regions are at least 1×1"},
		},
		Infer: func(n *Node) ([]TensorType, error) {
			x, r, b := in(n, 0).Shape, in(n, 1).Shape, in(n, 2).Shape
			oh, ow := n.Attrs.Int("output_height"), n.Attrs.Int("output_width")
			if len(x) != 4 {
				return nil, shapeErr("roi_align: x %s %v must be [N, C, H, W]", n.Inputs[0].Name, x)
			}
			if len(r) != 2 || r[1] != 4 || len(b) != 1 || b[0] != r[0] {
				return nil, shapeErr("roi_align: rois %v and batch_indices %v must be [R, 4] and [R]", r, b)
			}
			if oh < 1 || ow < 1 || n.Attrs.Int("sampling_ratio") < 0 {
				return nil, shapeErr("roi_align: output size %dx%d must be positive and sampling_ratio not negative", oh, ow)
			}
			return []TensorType{{F32, Shape{r[0], x[1], oh, ow}}}, nil
		},
	})
	Register(&OpDef{
		Name: "nms", Doc: "non-maximum suppression per batch and class: boxes [B, S, 4] ([y1, x1, y2, x2] corners, or [xc, yc, w, h] with center_point_box), scores [B, C, S]; in falling score order (ties: lower box first), keep a box whose score passes score_threshold unless its IoU with a kept box of its class exceeds iou_threshold, at most max_per_class per class; selected [B·C·min(max_per_class, S), 3] (batch, class, box), unused rows -1, and count (ONNX NonMaxSuppression)",
		Class: Opaque, NoGrad: "the output is indices", Pure: Pure, Stream: StreamWhole,
		Inputs:  []InputDef{{Name: "boxes", DTypes: OnlyF32}, {Name: "scores", DTypes: OnlyF32}},
		Outputs: []string{"selected", "count"},
		Attrs: []AttrDef{
			{Name: "max_per_class", Kind: AttrInt, Default: 0, Doc: "the most boxes kept per batch and class (0 keeps none)"},
			{Name: "iou_threshold", Kind: AttrFloat, Default: 0.0, Doc: "a box whose IoU with a kept one is above this is dropped"},
			{Name: "score_threshold", Kind: AttrFloat, Default: 0.0, Doc: "with use_score_threshold, boxes must score above this"},
			{Name: "use_score_threshold", Kind: AttrBool, Default: false, Doc: "apply score_threshold"},
			{Name: "center_point_box", Kind: AttrBool, Default: false, Doc: "boxes are [xc, yc, w, h] (else [y1, x1, y2, x2], corners in either order)"},
		},
		Infer: func(n *Node) ([]TensorType, error) {
			b, s := in(n, 0).Shape, in(n, 1).Shape
			if len(b) != 3 || b[2] != 4 {
				return nil, shapeErr("nms: boxes %s %v must be [B, S, 4]", n.Inputs[0].Name, b)
			}
			if len(s) != 3 || s[0] != b[0] || s[2] != b[1] {
				return nil, shapeErr("nms: scores %s %v must be [%d, C, %d] for boxes %v", n.Inputs[1].Name, s, b[0], b[1], b)
			}
			m := n.Attrs.Int("max_per_class")
			if m < 0 {
				return nil, shapeErr("nms: max_per_class must not be negative, got %d", m)
			}
			rows := b[0] * s[1] * min(m, b[1])
			if rows < 1 {
				return nil, shapeErr("nms: no box can be selected (max_per_class %d, %d boxes, %d classes)", m, b[1], s[1])
			}
			return []TensorType{{I64, Shape{rows, 3}}, {I64, Shape{}}}, nil
		},
	})
}

// NMSSuppress reports whether box a's IoU with box b exceeds thr, in
// float32 as ONNX's reference computes it: corner boxes [y1, x1, y2, x2]
// in either order, or center boxes [xc, yc, w, h]; disjoint boxes and
// boxes of no area never suppress.
func NMSSuppress(a, b []float32, center bool, thr float32) bool {
	ax0, ay0, ax1, ay1 := nmsCorners(a, center)
	bx0, by0, bx1, by1 := nmsCorners(b, center)
	ix0, ix1 := max(ax0, bx0), min(ax1, bx1)
	if ix1 <= ix0 {
		return false
	}
	iy0, iy1 := max(ay0, by0), min(ay1, by1)
	if iy1 <= iy0 {
		return false
	}
	inter := (ix1 - ix0) * (iy1 - iy0)
	areaA := (ax1 - ax0) * (ay1 - ay0)
	areaB := (bx1 - bx0) * (by1 - by0)
	union := areaA + areaB - inter
	if inter <= 0 || areaA <= 0 || areaB <= 0 || union <= 0 {
		return false
	}
	return inter/union > thr
}

// nmsCorners returns a box's x and y extents, lows first.
func nmsCorners(b []float32, center bool) (x0, y0, x1, y1 float32) {
	if center {
		w, h := b[2]/2, b[3]/2
		return b[0] - w, b[1] - h, b[0] + w, b[1] + h
	}
	x0, x1 = min(b[1], b[3]), max(b[1], b[3])
	y0, y1 = min(b[0], b[2]), max(b[0], b[2])
	return x0, y0, x1, y1
}

// MaxRoiSamples bounds the samples of one roi_align region: a region
// (or sampling_ratio) that would need more fails instead of running
// without end.
const MaxRoiSamples = 1 << 24

// RoiSample is one bilinear sample of roi_align: four plane offsets and
// their weights (all zero for a sample outside the image).
type RoiSample struct {
	Off [4]int
	W   [4]float64
}

// RoiAlignSamples returns region r's samples of roi_align, bin by bin (y
// bins outer) and within a bin row by row, and the per-bin sample count
// that averages divide by (0 when the region needs more than
// MaxRoiSamples samples); the arithmetic of onnxruntime and torchvision
// (in float64).
func RoiAlignSamples(n *Node, roi []float32, H, W int) ([]RoiSample, int) {
	a := n.Attrs
	oh, ow, sr := a.Int("output_height"), a.Int("output_width"), a.Int("sampling_ratio")
	scale := a.Float("spatial_scale")
	off := 0.0
	if a.Bool("half_pixel") {
		off = 0.5
	}
	x0, y0 := float64(roi[0])*scale-off, float64(roi[1])*scale-off
	rw, rh := float64(roi[2])*scale-off-x0, float64(roi[3])*scale-off-y0
	if !a.Bool("half_pixel") {
		rw, rh = max(rw, 1), max(rh, 1)
	}
	bh, bw := rh/float64(oh), rw/float64(ow)
	gh, gw := sr, sr
	if sr <= 0 {
		gh, gw = int(math.Ceil(rh/float64(oh))), int(math.Ceil(rw/float64(ow)))
	}
	gh, gw = max(gh, 0), max(gw, 0)
	if float64(gh)*float64(gw)*float64(oh*ow) > MaxRoiSamples {
		return nil, 0
	}
	var out []RoiSample
	for ph := range oh {
		for pw := range ow {
			for iy := range gh {
				y := y0 + float64(ph)*bh + (float64(iy)+0.5)*bh/float64(gh)
				for ix := range gw {
					x := x0 + float64(pw)*bw + (float64(ix)+0.5)*bw/float64(gw)
					out = append(out, roiBilinear(y, x, H, W))
				}
			}
		}
	}
	return out, max(gh*gw, 1)
}

func roiBilinear(y, x float64, H, W int) RoiSample {
	if y < -1 || y > float64(H) || x < -1 || x > float64(W) || y != y || x != x {
		return RoiSample{}
	}
	y, x = max(y, 0), max(x, 0)
	yl, xl := int(y), int(x)
	yh, xh := yl+1, xl+1
	if yl >= H-1 {
		yl, yh, y = H-1, H-1, float64(H-1)
	}
	if xl >= W-1 {
		xl, xh, x = W-1, W-1, float64(W-1)
	}
	ly, lx := y-float64(yl), x-float64(xl)
	hy, hx := 1-ly, 1-lx
	return RoiSample{Off: [4]int{yl*W + xl, yl*W + xh, yh*W + xl, yh*W + xh}, W: [4]float64{hy * hx, hy * lx, ly * hx, ly * lx}}
}

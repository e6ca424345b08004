package ir

// Detection ops: nms (ONNX NonMaxSuppression; torchvision.ops.nms per
// batch and class).
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

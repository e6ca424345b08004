package onnx

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// NonMaxSuppression (ir nms). Its output has as many rows as boxes
// survive, a count only the values of boxes and scores decide, and dlc's
// shapes are static: so boxes and scores must be known at compile time
// (bound, as `dlc run` binds them from its inputs), and the node becomes
// the constant of nms's first count rows (see ir/ops_detect.go).

func init() {
	opTable["NonMaxSuppression"] = opConv{2, nil, nonMaxSuppression}
}

func nonMaxSuppression(c *nctx) error {
	const why = " (NonMaxSuppression's output size depends on its values)"
	boxes, errB := c.constIn(0, "boxes"+why)
	scores, errS := c.constIn(1, "scores"+why)
	if errB != nil {
		return errB
	}
	if errS != nil {
		return errS
	}
	center, err := c.int("center_point_box", 0)
	if err != nil {
		return err
	}
	attrs := ir.Attrs{"center_point_box": center != 0}
	maxOut := 0
	if c.in(2) != nil {
		m, _, err := c.constInts(2, "max_output_boxes_per_class")
		if err != nil {
			return err
		}
		if len(m) != 1 {
			return fmt.Errorf("max_output_boxes_per_class must be one value, got %d", len(m))
		}
		maxOut = max(m[0], 0)
	}
	attrs["max_per_class"] = maxOut
	for i, name := range []string{"", "", "", "iou_threshold", "score_threshold"} {
		if i < 3 || c.in(i) == nil {
			continue
		}
		t, err := c.constIn(i, name)
		if err != nil {
			return err
		}
		if t.Len() != 1 || !t.DType.IsFloat() {
			return fmt.Errorf("%s must be one float, got %v", name, t.Type())
		}
		attrs[name] = t.Float(0)
		if i == 4 {
			attrs["use_score_threshold"] = true
		}
	}
	bs, ss := boxes.Shape, scores.Shape
	if len(bs) != 3 || len(ss) != 3 {
		return fmt.Errorf("boxes %v and scores %v must be [B, S, 4] and [B, C, S]", bs, ss)
	}
	if bs[0]*ss[1]*min(maxOut, bs[1]) == 0 {
		c.set(0, c.known(ir.NewTensor(ir.I64, ir.Shape{0, 3}), elemOf(ir.I64), false))
		return nil
	}
	if boxes.DType != ir.F32 || scores.DType != ir.F32 {
		return unsup("NonMaxSuppression of %v boxes and %v scores is not supported (f32 only)", boxes.DType, scores.DType)
	}
	sel, err := evalKnownAll("nms", attrs, boxes, scores)
	if err != nil {
		return err
	}
	n := int(sel[1].Int(0))
	t := ir.NewTensor(ir.I64, ir.Shape{n, 3})
	copy(t.I64(), sel[0].I64()[:n*3])
	c.set(0, c.known(t, elemOf(ir.I64), false))
	return nil
}

func init() { opTable["RoiAlign"] = opConv{3, nil, roiAlign} }

// roiAlign maps RoiAlign; before opset 16 there is no
// coordinate_transformation_mode and regions are not shifted
// (output_half_pixel).
func roiAlign(c *nctx) error {
	ctm := "output_half_pixel"
	if c.opset >= 16 {
		ctm = "half_pixel"
	}
	ctm, err := c.str("coordinate_transformation_mode", ctm)
	if err != nil {
		return err
	}
	if ctm != "half_pixel" && ctm != "output_half_pixel" {
		return fmt.Errorf("coordinate_transformation_mode %q is not half_pixel or output_half_pixel", ctm)
	}
	mode, err := c.str("mode", "avg")
	if err != nil {
		return err
	}
	attrs := ir.Attrs{"mode": mode, "half_pixel": ctm == "half_pixel"}
	for _, a := range []string{"output_height", "output_width", "sampling_ratio"} {
		if c.has(a) {
			v, err := c.int(a, 0)
			if err != nil {
				return err
			}
			attrs[a] = v
		}
	}
	if c.has("spatial_scale") {
		v, err := c.float("spatial_scale", 1)
		if err != nil {
			return err
		}
		attrs["spatial_scale"] = v
	}
	y, err := c.emit1("roi_align", "", []*val{c.in(0), c.in(1), c.in(2)}, attrs)
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

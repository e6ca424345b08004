package codegen

import (
	"github.com/dlcompiler/dlc/ir"
)

// Detection ops (ir/ops_detect.go), as the interpreter computes them
// (runtime/detect.go). nms keeps its candidates and kept boxes in
// fixed-size arrays (S and min(max_per_class, S) ints) and sorts with
// slices.SortFunc under the same total order (score falling, box rising;
// NaN scores are never candidates), so it allocates nothing and selects
// what the interpreter selects; suppress repeats ir.NMSSuppress.

func init() { register("nms", emitter{emit: emitNMS}) }

func emitNMS(k *kctx) error {
	bs, C := k.inShape(0), k.inShape(1)[1]
	B, S := bs[0], bs[1]
	a := k.n.Attrs
	maxOut := a.Int("max_per_class")
	BX, SC, Y, CNT := k.in[0], k.in[1], k.out[0], k.out[1]
	k.l("for i := range %s {\n%s[i] = -1\n}", Y, Y)
	if a.Bool("center_point_box") {
		k.l("corners := func(b []float32) (x0, y0, x1, y1 float32) {")
		k.l("w, h := b[2]/2, b[3]/2")
		k.l("return b[0] - w, b[1] - h, b[0] + w, b[1] + h\n}")
	} else {
		k.l("corners := func(b []float32) (x0, y0, x1, y1 float32) {")
		k.l("return min(b[1], b[3]), min(b[0], b[2]), max(b[1], b[3]), max(b[0], b[2])\n}")
	}
	k.l("suppress := func(a, b []float32) bool {")
	k.l("ax0, ay0, ax1, ay1 := corners(a)")
	k.l("bx0, by0, bx1, by1 := corners(b)")
	k.l("ix0, ix1 := max(ax0, bx0), min(ax1, bx1)")
	k.l("if ix1 <= ix0 {\nreturn false\n}")
	k.l("iy0, iy1 := max(ay0, by0), min(ay1, by1)")
	k.l("if iy1 <= iy0 {\nreturn false\n}")
	k.l("inter := (ix1 - ix0) * (iy1 - iy0)")
	k.l("areaA := (ax1 - ax0) * (ay1 - ay0)")
	k.l("areaB := (bx1 - bx0) * (by1 - by0)")
	k.l("union := areaA + areaB - inter")
	k.l("if inter <= 0 || areaA <= 0 || areaB <= 0 || union <= 0 {\nreturn false\n}")
	k.l("return inter/union > float32(%s)\n}", fmtFloat(a.Float("iou_threshold")))
	k.l("var cand [%d]int", S)
	k.l("var kept [%d]int", min(maxOut, S))
	k.l("count := 0")
	k.l("for b := range %d {", B)
	k.l("bx := %s[b*%d : (b+1)*%d]", BX, S*4, S*4)
	k.l("for c := range %d {", C)
	k.l("sc := %s[(b*%d+c)*%d : (b*%d+c+1)*%d]", SC, C, S, C, S)
	k.l("nc := 0")
	k.l("for i, s := range sc {")
	cond := "s == s"
	if a.Bool("use_score_threshold") {
		cond += " && s > float32(" + fmtFloat(a.Float("score_threshold")) + ")"
	}
	k.l("if %s {\ncand[nc] = i\nnc++\n}\n}", cond)
	k.l("@slices.SortFunc(cand[:nc], func(i, j int) int {")
	k.l("switch {\ncase sc[i] > sc[j]:\nreturn -1\ncase sc[i] < sc[j]:\nreturn 1\n}")
	k.l("return i - j\n})")
	k.l("nk := 0")
	k.l("for _, i := range cand[:nc] {")
	k.l("if nk >= %d {\nbreak\n}", maxOut)
	k.l("keep := true")
	k.l("for _, j := range kept[:nk] {")
	k.l("if suppress(bx[i*4:i*4+4], bx[j*4:j*4+4]) {\nkeep = false\nbreak\n}\n}")
	k.l("if keep {")
	k.l("kept[nk] = i\nnk++")
	k.l("%s[count*3], %s[count*3+1], %s[count*3+2] = int64(b), int64(c), int64(i)", Y, Y, Y)
	k.l("count++\n}\n}\n}\n}")
	k.l("%s[0] = int64(count)", CNT)
	return nil
}

func init() {
	register("roi_align", emitter{emit: emitRoiAlign, fails: func(*ir.Node) bool { return true }})
}

// emitRoiAlign computes each region's samples as ir.RoiAlignSamples does,
// on the fly per channel (the regions are run-time values), and pools
// them in the interpreter's order.
func emitRoiAlign(k *kctx) error {
	x, y := k.inShape(0), k.outShape(0)
	N, C, H, W := x[0], x[1], x[2], x[3]
	R, oh, ow := y[0], y[2], y[3]
	a := k.n.Attrs
	half := a.Bool("half_pixel")
	off := "0.0"
	if half {
		off = "0.5"
	}
	X, RO, BI, Y := k.in[0], k.in[1], k.in[2], k.out[0]
	k.l("sample := func(y, x float64) (off [4]int, w [4]float64) {")
	k.l("if y < -1 || y > %d || x < -1 || x > %d || y != y || x != x {\nreturn off, w\n}", H, W)
	k.l("y, x = max(y, 0), max(x, 0)")
	k.l("yl, xl := int(y), int(x)")
	k.l("yh, xh := yl+1, xl+1")
	k.l("if yl >= %d {\nyl, yh, y = %d, %d, %d\n}", H-1, H-1, H-1, H-1)
	k.l("if xl >= %d {\nxl, xh, x = %d, %d, %d\n}", W-1, W-1, W-1, W-1)
	k.l("ly, lx := y-float64(yl), x-float64(xl)")
	k.l("hy, hx := 1-ly, 1-lx")
	k.l("return [4]int{yl*%d + xl, yl*%d + xh, yh*%d + xl, yh*%d + xh}, [4]float64{hy * hx, hy * lx, ly * hx, ly * lx}\n}", W, W, W, W)
	k.l("for r := range %d {", R)
	k.l("b := int(%s[r])", BI)
	k.l("if b < 0 || b >= %d {", N)
	k.l("return @fmt.Errorf(\"layer %s: batch index %%d of region %%d is out of range [0, %d)\", b, r)\n}", k.n.Name, N)
	k.l("roi := %s[r*4 : r*4+4]", RO)
	k.l("scale := %s", fmtFloat(a.Float("spatial_scale")))
	k.l("rx0, ry0 := float64(roi[0])*scale-%s, float64(roi[1])*scale-%s", off, off)
	k.l("rw, rh := float64(roi[2])*scale-%s-rx0, float64(roi[3])*scale-%s-ry0", off, off)
	if !half {
		k.l("rw, rh = max(rw, 1), max(rh, 1)")
	}
	k.l("bh, bw := rh/%d, rw/%d", oh, ow)
	if sr := a.Int("sampling_ratio"); sr > 0 {
		k.l("gh, gw := %d, %d", sr, sr)
	} else {
		k.l("gh, gw := int(@math.Ceil(rh/%d)), int(@math.Ceil(rw/%d))", oh, ow)
	}
	k.l("gh, gw = max(gh, 0), max(gw, 0)")
	k.l("if float64(gh)*float64(gw)*%d > %d {", oh*ow, ir.MaxRoiSamples)
	k.l("return @fmt.Errorf(\"layer %s: region %%d %%v needs more than %d samples\", r, roi)\n}", k.n.Name, ir.MaxRoiSamples)
	k.l("count := float64(max(gh*gw, 1))")
	k.l("_ = count")
	k.l("for c := range %d {", C)
	k.l("plane := %s[(b*%d+c)*%d:]", X, C, H*W)
	k.l("for ph := range %d {\nfor pw := range %d {", oh, ow)
	k.l("acc, q := 0.0, 0")
	k.l("for iy := range gh {")
	k.l("y := ry0 + float64(ph)*bh + (float64(iy)+0.5)*bh/float64(gh)")
	k.l("for ix := range gw {")
	k.l("x := rx0 + float64(pw)*bw + (float64(ix)+0.5)*bw/float64(gw)")
	k.l("o, w := sample(y, x)")
	if a.String("mode") == "max" {
		k.l("v := w[0] * float64(plane[o[0]])")
		k.l("for t := 1; t < 4; t++ {\nv = @math.Max(v, w[t]*float64(plane[o[t]]))\n}")
		k.l("if q == 0 || v > acc {\nacc = v\n}")
	} else {
		k.l("acc += w[0]*float64(plane[o[0]]) + w[1]*float64(plane[o[1]]) + w[2]*float64(plane[o[2]]) + w[3]*float64(plane[o[3]])")
	}
	k.l("q++\n}\n}")
	if a.String("mode") != "max" {
		k.l("acc /= count")
	}
	k.l("%s[(r*%d+c)*%d+ph*%d+pw] = float32(acc)", Y, C, oh*ow, ow)
	k.l("}\n}\n}\n}")
	return nil
}

package codegen

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

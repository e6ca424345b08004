package codegen

import (
	"strings"

	"github.com/dlcompiler/dlc/ir"
)

// Sampling ops (ir/ops_sample.go), as the interpreter computes them
// (runtime/sample.go): the same float32 coordinate arithmetic, the same
// taps in the same order, each output one float64 sum rounded once.

func init() {
	register("grid_sample", emitter{emit: emitGridSample})
	register("affine_grid", emitter{emit: emitAffineGrid})
	register("col2im", emitter{emit: emitCol2Im})
	register("max_unpool", emitter{emit: emitMaxUnpool, fails: func(*ir.Node) bool { return true }})
}

// gsHelpers are grid_sample's coordinate helpers as kernel-local
// closures: pad moves a coordinate into the image (runtime gsPad), index
// is a padded integral coordinate's index or -1 (gsIndex).
func gsHelpers(k *kctx, pad string, align bool) {
	k.l("pad := func(x float32, L int) float32 {")
	switch pad {
	case "border":
		k.l("return min(max(x, 0), float32(L-1))")
	case "reflection":
		lo, hi := "-0.5", "float32(L)-0.5"
		if align {
			lo, hi = "0", "float32(L-1)"
		}
		k.l("lo, hi := float32(%s), %s", lo, hi)
		k.l("if lo != hi {")
		k.l("span := hi - lo")
		k.l("in := float32(@math.Abs(float64(x - lo)))")
		k.l("extra := float32(@math.Mod(float64(in), float64(span)))")
		k.l("if int(@math.Floor(float64(in/span)))%%2 == 0 {\nx = extra + lo\n} else {\nx = span - extra + lo\n}")
		k.l("} else {\nx = 0\n}")
		k.l("if x < 0 {\nx = 0\n}")
		k.l("if x > float32(L-1) {\nx = float32(L-1)\n}")
		k.l("return x")
	default:
		k.l("_ = L\nreturn x")
	}
	k.l("}")
	k.l("index := func(x float32, L int) int {")
	k.l("if !(x >= 0 && x <= float32(L-1)) {\nreturn -1\n}")
	k.l("return int(x)\n}")
}

func emitGridSample(k *kctx) error {
	x := k.inShape(0)
	dims := x[2:]
	R := len(dims)
	N, C, plane := x[0], x[1], dims.NumElems()
	P := k.inShape(1)[1 : R+1].NumElems()
	mode, pad, align := k.n.Attrs.String("mode"), k.n.Attrs.String("padding_mode"), k.n.Attrs.Bool("align_corners")
	T := map[string]int{"nearest": 1, "linear": 2, "cubic": 4}[mode]
	TT := 1
	for range R {
		TT *= T
	}
	X, G, Y := k.in[0], k.in[1], k.out[0]
	gsHelpers(k, pad, align)
	k.l("dims := [%d]int{%s}", R, intList(dims))
	k.l("var ai [%d][%d]int", R, T)
	k.l("var aw [%d][%d]float64", R, T)
	k.l("var off [%d]int", TT)
	k.l("var wt [%d]float64", TT)
	k.l("for b := range %d {", N)
	k.l("for p := range %d {", P)
	k.l("for d := range %d {", R)
	k.l("L := dims[d]")
	k.l("u := %s[(b*%d+p)*%d+%d-d]", G, P, R, R-1)
	if align {
		k.l("x := (u + 1) / 2 * float32(L-1)")
	} else {
		k.l("x := ((u+1)*float32(L) - 1) / 2")
	}
	if mode != "cubic" {
		k.l("x = pad(x, L)")
	} else {
		k.l("_ = pad")
	}
	switch mode {
	case "nearest":
		k.l("ai[d][0], aw[d][0] = index(float32(@math.RoundToEven(float64(x))), L), 1")
	case "linear":
		k.l("x0 := float32(@math.Floor(float64(x)))")
		k.l("ai[d][0], aw[d][0] = index(x0, L), float64(x0+1-x)")
		k.l("ai[d][1], aw[d][1] = index(x0+1, L), float64(x-x0)")
	case "cubic":
		k.l("x0 := float32(@math.Floor(float64(x)))")
		k.l("t := x - x0")
		k.l("const A = -0.75")
		k.l("c1 := func(x float32) float32 { return ((A+2)*x-(A+3))*x*x + 1 }")
		k.l("c2 := func(x float32) float32 { return ((A*x-5*A)*x+8*A)*x - 4*A }")
		k.l("cs := [4]float32{c2(t + 1), c1(t), c1(1 - t), c2(2 - t)}")
		k.l("for j := range 4 {\nai[d][j], aw[d][j] = index(pad(x0+float32(j-1), L), L), float64(cs[j])\n}")
	}
	k.l("}")
	// The taps of every axis, axis 0 outermost, invalid ones skipped.
	k.l("m := 0")
	strides := dims.Strides()
	var offs, ws []string
	for d := range R {
		k.l("for j%d := range %d {", d, T)
		k.l("if ai[%d][j%d] < 0 {\ncontinue\n}", d, d)
		offs = append(offs, "ai["+itoa(d)+"][j"+itoa(d)+"]*"+itoa(strides[d]))
		ws = append(ws, "aw["+itoa(d)+"][j"+itoa(d)+"]")
	}
	k.l("off[m], wt[m] = %s, 1*%s", strings.Join(offs, "+"), strings.Join(ws, "*"))
	k.l("m++")
	k.l("%s", strings.Repeat("}\n", R))
	k.l("for c := range %d {", C)
	k.l("xp := %s[(b*%d+c)*%d:]", X, C, plane)
	k.l("s := 0.0")
	k.l("for t := range m {\ns += wt[t] * float64(xp[off[t]])\n}")
	k.l("%s[(b*%d+c)*%d+p] = float32(s)", Y, C, P)
	k.l("}")
	k.l("}")
	k.l("}")
	return nil
}

func itoa(v int) string { return intList([]int{v}) }

func emitAffineGrid(k *kctx) error {
	size := k.n.Attrs.Ints("size")
	dims := size[2:]
	R := len(dims)
	P := ir.Shape(dims).NumElems()
	align := k.n.Attrs.Bool("align_corners")
	// The base grid is the same for every batch row: a constant table,
	// x first, as the interpreter orders it.
	base := make([]float64, 0, P*(R+1))
	for p := range P {
		q := p
		row := make([]float64, R+1)
		for d := R - 1; d >= 0; d-- {
			row[R-1-d] = ir.AffineGridBase(q%dims[d], dims[d], align)
			q /= dims[d]
		}
		row[R] = 1
		base = append(base, row...)
	}
	TH, Y := k.in[0], k.out[0]
	k.l("base := [%d]float64{%s}", len(base), floatList(base))
	k.l("for b := range %d {", size[0])
	k.l("for p := range %d {", P)
	k.l("for i := range %d {", R)
	k.l("s := 0.0")
	k.l("for j := range %d {\ns += float64(%s[(b*%d+i)*%d+j]) * base[p*%d+j]\n}", R+1, TH, R, R+1, R+1)
	k.l("%s[(b*%d+p)*%d+i] = float32(s)", Y, P, R)
	k.l("}\n}\n}")
	return nil
}

// emitCol2Im gathers, for each output element, the column elements that
// land on it, in the interpreter's order (block rows then positions),
// from a table fixed at generation time: the sum order of F.fold's
// scatter, each output one float64 sum.
func emitCol2Im(k *kctx) error {
	x := k.inShape(0)
	a := k.n.Attrs
	image, block := a.Ints("image"), a.Ints("block")
	st, dil, pads := a.Ints("strides"), a.Ints("dilations"), a.Ints("pads")
	r := len(image)
	L := ir.Col2ImBlocks(image, block, st, dil, pads)
	N, CB, nL := x[0], x[1], x[2]
	nb := ir.Shape(block).NumElems()
	C := CB / nb
	plane := ir.Shape(image).NumElems()
	istr := ir.Shape(image).Strides()
	// src[o] lists the (k·nL + l) column offsets within a channel's
	// block rows that add into image offset o.
	src := make([][]int, plane)
	for kk := range nb {
		for l := range nL {
			off, ok := 0, true
			kq, lq := kk, l
			for d := r - 1; d >= 0; d-- {
				pos := (lq%L[d])*st[d] - pads[d] + (kq%block[d])*dil[d]
				kq, lq = kq/block[d], lq/L[d]
				if pos < 0 || pos >= image[d] {
					ok = false
				}
				off += pos * istr[d]
			}
			if ok {
				src[off] = append(src[off], kk*nL+l)
			}
		}
	}
	var start, list []int
	for _, s := range src {
		start = append(start, len(list))
		list = append(list, s...)
	}
	start = append(start, len(list))
	X, Y := k.in[0], k.out[0]
	k.l("start := [%d]int{%s}", len(start), intList(start))
	k.l("src := [%d]int{%s}", max(1, len(list)), intList(append(list, make([]int, 1-min(1, len(list)))...)))
	k.l("for bc := range %d {", N*C)
	k.l("xp := %s[bc*%d:]", X, nb*nL)
	k.l("for o := range %d {", plane)
	k.l("s := 0.0")
	k.l("for _, j := range src[start[o]:start[o+1]] {\ns += float64(xp[j])\n}")
	k.l("%s[bc*%d+o] = float32(s)", Y, plane)
	k.l("}\n}")
	return nil
}

func emitMaxUnpool(k *kctx) error {
	x, y := k.inShape(0), k.outShape(0)
	size, out := k.n.Attrs.Ints("size"), k.n.Attrs.Ints("out")
	plane := ir.Shape(size).NumElems()
	total := x[0] * x[1] * plane
	X, I, Y := k.in[0], k.in[1], k.out[0]
	k.l("clear(%s[:])", Y)
	k.l("sizes, outs := [%d]int{%s}, [%d]int{%s}", len(size), intList(size), len(out), intList(out))
	k.l("for e := range %d {", x.NumElems())
	k.l("i := %s[e]", I)
	k.l("if i < 0 || i >= %d {", total)
	k.l("return @fmt.Errorf(\"layer %s: index %%d at position %%d is out of range [0, %d)\", i, e)", k.n.Name, total)
	k.l("}")
	k.l("nc, rem := int(i)/%d, int(i)%%%d", plane, plane)
	k.l("off, ostride := 0, 1")
	k.l("for d := %d; d >= 0; d-- {", len(size)-1)
	k.l("off += (rem %% sizes[d]) * ostride")
	k.l("rem /= sizes[d]")
	k.l("ostride *= outs[d]")
	k.l("}")
	k.l("%s[nc*%d+off] = %s[e]", Y, y[2:].NumElems(), X)
	k.l("}")
	return nil
}

func init() { register("deform_conv", emitter{emit: emitDeformConv}) }

// emitDeformConv is the interpreter's direct sum; bilinear repeats
// ir.DeformBilinear as a kernel-local closure.
func emitDeformConv(k *kctx) error {
	k.in = padNames(k.in, 5)
	x, w, y := k.inShape(0), k.inShape(1), k.outShape(0)
	N, C, H, W := x[0], x[1], x[2], x[3]
	M, Cg, KH, KW := w[0], w[1], w[2], w[3]
	G, OG := k.n.Attrs.Int("groups"), k.n.Attrs.Int("offset_groups")
	st, pads, dil := k.n.Attrs.Ints("strides"), k.n.Attrs.Ints("pads"), k.n.Attrs.Ints("dilations")
	OH, OW := y[2], y[3]
	taps, P := KH*KW, OH*OW
	X, WT, OFF, B, MK, Y := k.in[0], k.in[1], k.in[2], k.in[3], k.in[4], k.out[0]
	k.l("bilinear := func(p []float32, y, x float64) float64 {")
	k.l("if !(y > -1 && y < %d && x > -1 && x < %d) {\nreturn 0\n}", H, W)
	k.l("y0, x0 := @math.Floor(y), @math.Floor(x)")
	k.l("yl, xl := int(y0), int(x0)")
	k.l("ly, lx := y-y0, x-x0")
	k.l("hy, hx := 1-ly, 1-lx")
	k.l("at := func(i, j int) float64 {")
	k.l("if i < 0 || j < 0 || i >= %d || j >= %d {\nreturn 0\n}", H, W)
	k.l("return float64(p[i*%d+j])\n}", W)
	k.l("return hy*hx*at(yl, xl) + hy*lx*at(yl, xl+1) + ly*hx*at(yl+1, xl) + ly*lx*at(yl+1, xl+1)\n}")
	k.l("for b := range %d {", N)
	k.l("for oc := range %d {", M)
	k.l("g := oc / %d", M/G)
	k.l("for p := range %d {", P)
	k.l("oh, ow := p/%d, p%%%d", OW, OW)
	if B != "" {
		k.l("acc := float64(%s[oc])", B)
	} else {
		k.l("acc := 0.0")
	}
	k.l("for ci := range %d {", Cg)
	k.l("c := g*%d + ci", Cg)
	k.l("og := c / %d", C/OG)
	k.l("plane := %s[(b*%d+c)*%d : (b*%d+c+1)*%d]", X, C, H*W, C, H*W)
	k.l("for t := range %d {", taps)
	k.l("kh, kw := t/%d, t%%%d", KW, KW)
	k.l("dy := float64(%s[((b*%d+og)*%d+2*t)*%d+p])", OFF, OG, 2*taps, P)
	k.l("dx := float64(%s[((b*%d+og)*%d+2*t+1)*%d+p])", OFF, OG, 2*taps, P)
	k.l("yy := float64(oh*%d-%d+kh*%d) + dy", st[0], pads[0], dil[0])
	k.l("xx := float64(ow*%d-%d+kw*%d) + dx", st[1], pads[1], dil[1])
	k.l("v := bilinear(plane, yy, xx)")
	if MK != "" {
		k.l("v *= float64(%s[((b*%d+og)*%d+t)*%d+p])", MK, OG, taps, P)
	}
	k.l("acc += float64(%s[(oc*%d+ci)*%d+t]) * v", WT, Cg, taps)
	k.l("}\n}")
	k.l("%s[(b*%d+oc)*%d+p] = float32(acc)", Y, M, P)
	k.l("}\n}\n}")
	return nil
}

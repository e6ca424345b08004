package codegen

import "github.com/dlcompiler/dlc/ir"

// The gradient ops of convolution and pooling (see ir/ops_grad.go), in the
// interpreter's summation order: the convolution gradients gather each
// output element as one float64 sum; the pooling gradients clear dx and
// scatter dy into it in its dtype, windows in scan order. Every rank is
// handled as 3-D with leading axes of size 1, as in conv.go.

func init() {
	register("conv_grad_input", emitter{emit: emitConvGradInput})
	register("conv_grad_weight", withF64(emitter{emit: emitConvGradWeightAny, scratch: convGradWeightScratch}, emitConvGradWeight))
	register("maxpool_grad", emitter{emit: func(k *kctx) error { return emitPoolGrad(k, false) }})
	register("avgpool_grad", emitter{emit: func(k *kctx) error { return emitPoolGrad(k, true) }})
}

// gradWin3 is the forward window of a gradient node over input shape x
// with kernel kern.
func gradWin3(k *kctx, x ir.Shape, kern []int) win3 {
	a := k.n.Attrs
	r := len(kern)
	y := x[:2].Clone()
	st, p, d := a.Ints("strides"), a.Ints("pads"), a.Ints("dilations")
	for i := range r {
		y = append(y, ir.WindowOut(x[2+i], kern[i], st[i], p[i], p[r+i], d[i], a.Bool("ceil_mode")))
	}
	return window3(x, y, kern, st, p, d)
}

var axes3 = []string{"d", "h", "w"}

// spans declares, for each axis, the tap-indexed arrays lo<ax> and hi<ax>
// of the output range whose tap reads inside the input (window3.span), so
// the inner loops need no bounds tests.
func spans(k *kctx, wn win3) {
	for i, ax := range axes3 {
		lo, hi := wn.span(i)
		k.l("lo%s, hi%s := [%d]int{%s}, [%d]int{%s}", ax, ax, len(lo), intList(lo), len(hi), intList(hi))
	}
}

// maxGradPlane bounds the float64 accumulator of one input plane that
// conv_grad_input keeps on the stack (larger planes use the gather form).
const maxGradPlane = 1 << 16

// emitConvGradInput: dx[b, c, p] = Σ_m Σ_taps dy[b, m, o] · w[m, c%cg, j]
// over the taps j and outputs o with o·s + j·d - pb = p. It scatters into
// a float64 accumulator of the plane, m then taps outermost, which adds
// into each element in the interpreter's order (so the results are the
// same bits); planes over maxGradPlane use the gather form.
func emitConvGradInput(k *kctx) error {
	x, w := ir.Shape(k.n.Attrs.Ints("shape")), k.inShape(1)
	wn := gradWin3(k, x, w[2:])
	C, M, G := x[1], w[0], k.n.Attrs.Int("groups")
	cg, mg := C/G, M/G
	IS, OS, KS := wn.in[0]*wn.in[1]*wn.in[2], wn.out[0]*wn.out[1]*wn.out[2], wn.k[0]*wn.k[1]*wn.k[2]
	if IS > maxGradPlane {
		return emitConvGradInputGather(k)
	}
	DY, W, DX := k.in[0], k.in[1], k.out[0]
	spans(k, wn)
	k.l("var acc [%d]float64", IS)
	k.l("for b := range %d {", x[0])
	k.l("for c := range %d {", C)
	k.l("g := c / %d", cg)
	k.l("clear(acc[:])")
	k.l("for m := g * %d; m < (g+1)*%d; m++ {", mg, mg)
	k.l("yb := (b*%d + m) * %d", M, OS)
	for i, ax := range axes3 {
		k.l("for j%s := range %d {", ax, wn.k[i])
	}
	k.l("wv := float64(%s[(m*%d+c%%%d)*%d+(jd*%d+jh)*%d+jw])", W, cg, cg, KS, wn.k[1], wn.k[2])
	k.l("for od := lod[jd]; od < hid[jd]; od++ {")
	k.l("for oh := loh[jh]; oh < hih[jh]; oh++ {")
	k.l("xr := ((od*%d+jd*%d-%d)*%d+oh*%d+jh*%d-%d)*%d + jw*%d - %d", wn.s[0], wn.d[0], wn.pb[0], wn.in[1], wn.s[1], wn.d[1], wn.pb[1], wn.in[2], wn.d[2], wn.pb[2])
	k.l("yr := yb + (od*%d+oh)*%d", wn.out[1], wn.out[2])
	k.l("for ow := low[jw]; ow < hiw[jw]; ow++ {\nacc[xr+ow*%d] += float64(%s[yr+ow]) * wv\n}", wn.s[2], DY)
	k.l("}\n}")
	for range axes3 {
		k.l("}")
	}
	k.l("}")
	k.l("xb := (b*%d + c) * %d", C, IS)
	k.l("for i, v := range acc {\n%s[xb+i] = %s(v)\n}", DX, elemType(k.n.Out().Type.DType))
	k.l("}\n}")
	return nil
}

// emitConvGradInputGather is the gather form of conv_grad_input for large
// planes: each dx element one float64 sum, m then taps in order.
func emitConvGradInputGather(k *kctx) error {
	x, w := ir.Shape(k.n.Attrs.Ints("shape")), k.inShape(1)
	wn := gradWin3(k, x, w[2:])
	C, M, G := x[1], w[0], k.n.Attrs.Int("groups")
	cg, mg := C/G, M/G
	IS, OS, KS := wn.in[0]*wn.in[1]*wn.in[2], wn.out[0]*wn.out[1]*wn.out[2], wn.k[0]*wn.k[1]*wn.k[2]
	DY, W, DX := k.in[0], k.in[1], k.out[0]
	k.l("for b := range %d {", x[0])
	k.l("for c := range %d {", C)
	k.l("g := c / %d", cg)
	for i, ax := range axes3 {
		k.l("for p%s := range %d {", ax, wn.in[i])
	}
	k.l("var s float64")
	k.l("for m := g * %d; m < (g+1)*%d; m++ {", mg, mg)
	for i, ax := range axes3 {
		k.l("for j%s := range %d {", ax, wn.k[i])
		k.l("q%s := p%s + %d - j%s*%d", ax, ax, wn.pb[i], ax, wn.d[i])
		k.l("if q%s < 0 || q%s%%%d != 0 || q%s/%d >= %d {\ncontinue\n}", ax, ax, wn.s[i], ax, wn.s[i], wn.out[i])
		k.l("o%s := q%s / %d", ax, ax, wn.s[i])
	}
	k.l("s += float64(%s[(b*%d+m)*%d+(od*%d+oh)*%d+ow]) * float64(%s[(m*%d+c%%%d)*%d+(jd*%d+jh)*%d+jw])",
		DY, M, OS, wn.out[1], wn.out[2], W, cg, cg, KS, wn.k[1], wn.k[2])
	for range axes3 {
		k.l("}")
	}
	k.l("}")
	k.l("%s[(b*%d+c)*%d+(pd*%d+ph)*%d+pw] = %s(s)", DX, C, IS, wn.in[1], wn.in[2], elemType(k.n.Out().Type.DType))
	for range axes3 {
		k.l("}")
	}
	k.l("}\n}")
	return nil
}

// emitConvGradWeight: dw[m, c, j] = Σ_b Σ_o dy[b, m, o] · x[b, g·cg+c, p]
// over the outputs o whose tap j reads p inside the input: one float64
// sum per element in the interpreter's order, the output ranges of each
// tap precomputed so the inner loop has no tests.
func emitConvGradWeight(k *kctx) error {
	x, dy, kern := k.inShape(0), k.inShape(1), k.n.Attrs.Ints("kernel")
	wn := gradWin3(k, x, kern)
	C, M, G := x[1], dy[1], k.n.Attrs.Int("groups")
	cg, mg := C/G, M/G
	IS, OS, KS := wn.in[0]*wn.in[1]*wn.in[2], wn.out[0]*wn.out[1]*wn.out[2], wn.k[0]*wn.k[1]*wn.k[2]
	X, DY, DW := k.in[0], k.in[1], k.out[0]
	spans(k, wn)
	k.l("for m := range %d {", M)
	k.l("g := m / %d", mg)
	k.l("for c := range %d {", cg)
	for i, ax := range axes3 {
		k.l("for j%s := range %d {", ax, wn.k[i])
	}
	k.l("var s float64")
	k.l("for b := range %d {", x[0])
	k.l("xb, yb := (b*%d+g*%d+c)*%d, (b*%d+m)*%d", C, cg, IS, M, OS)
	k.l("for od := lod[jd]; od < hid[jd]; od++ {")
	k.l("for oh := loh[jh]; oh < hih[jh]; oh++ {")
	k.l("xr := xb + ((od*%d+jd*%d-%d)*%d+oh*%d+jh*%d-%d)*%d + jw*%d - %d", wn.s[0], wn.d[0], wn.pb[0], wn.in[1], wn.s[1], wn.d[1], wn.pb[1], wn.in[2], wn.d[2], wn.pb[2])
	k.l("yr := yb + (od*%d+oh)*%d", wn.out[1], wn.out[2])
	k.l("for ow := low[jw]; ow < hiw[jw]; ow++ {\ns += float64(%s[yr+ow]) * float64(%s[xr+ow*%d])\n}", DY, X, wn.s[2])
	k.l("}\n}\n}")
	k.l("%s[(m*%d+c)*%d+(jd*%d+jh)*%d+jw] = %s(s)", DW, cg, KS, wn.k[1], wn.k[2], elemType(k.n.Out().Type.DType))
	for range axes3 {
		k.l("}")
	}
	k.l("}\n}")
	return nil
}

// emitPoolGrad scatters dy into a cleared dx: to each window's first
// maximum (maxpool_grad) or, divided by avgpool's divisor, to each of its
// taps inside the input (avgpool_grad).
func emitPoolGrad(k *kctx, avg bool) error {
	a := k.n.Attrs
	var x ir.Shape
	var X, DY string
	if avg {
		x, DY = ir.Shape(a.Ints("shape")), k.in[0]
	} else {
		x, X, DY = k.inShape(0), k.in[0], k.in[1]
	}
	wn := gradWin3(k, x, a.Ints("kernel"))
	DX := k.out[0]
	IS, OS := wn.in[0]*wn.in[1]*wn.in[2], wn.out[0]*wn.out[1]*wn.out[2]
	k.l("clear(%s[:%d])", DX, x.NumElems())
	k.l("for pl := range %d {", x[0]*x[1])
	k.l("xb, yb := pl*%d, pl*%d", IS, OS)
	k.l("o := 0")
	for i, ax := range axes3 {
		k.l("for o%s := range %d {", ax, wn.out[i])
	}
	taps := func(body string) {
		for i, ax := range axes3 {
			k.l("for j%s := range %d {", ax, wn.k[i])
			k.l("p%s := o%s*%d - %d + j%s*%d", ax, ax, wn.s[i], wn.pb[i], ax, wn.d[i])
			k.l("if p%s < 0 || p%s >= %d {\ncontinue\n}", ax, ax, wn.in[i])
		}
		k.l("i := (pd*%d+ph)*%d + pw", wn.in[1], wn.in[2])
		k.l("%s", body)
		for range axes3 {
			k.l("}")
		}
	}
	if avg {
		if a.Bool("count_include_pad") {
			k.l("cnt := 1")
			for i, ax := range axes3 {
				k.l("c%s := 0", ax)
				k.l("for j := range %d {\nif p := o%s*%d - %d + j*%d; p >= %d && p < %d {\nc%s++\n}\n}",
					wn.k[i], ax, wn.s[i], wn.pb[i], wn.d[i], -wn.pb[i], wn.in[i]+wn.pe[i], ax)
				k.l("cnt *= c%s", ax)
			}
		} else {
			k.l("cnt := 0")
			taps("_ = i\ncnt++")
		}
		k.l("if cnt > 0 {")
		k.l("v := %s(float64(%s[yb+o]) / float64(cnt))", elemType(k.n.Out().Type.DType), DY)
		taps(DX + "[xb+i] += v")
		k.l("}")
	} else {
		k.l("m, at := %s(@math.Inf(-1)), -1", elemType(k.n.Out().Type.DType))
		taps("if v := " + X + "[xb+i]; v > m || v != v {\nm, at = v, i\n}")
		k.l("if at >= 0 {\n%s[xb+at] += %s[yb+o]\n}", DX, DY)
	}
	k.l("o++")
	for range axes3 {
		k.l("}")
	}
	k.l("}")
	return nil
}

package codegen

import "github.com/dlcompiler/dlc/ir"

// Float64 forms of dense, conv and conv_transpose (ir's layerFloats; the
// pools, resize, adaptive_avgpool, embedding and the gradient ops of
// convolution and pooling are written over the dtype in their own files).
// They exist so that f64 graphs compile, above all the backward graphs of
// the gradient rules checked in float64; speed is not their point. Each
// is a plain scalar loop nest that sums in the interpreter's order
// (runtime/linear.go, conv.go, spatial.go), so the results are the
// interpreter's bits. The schedule is ignored: an f64 node never reaches
// a SIMD kernel, an im2col buffer, a packed weight layout (layout.go packs
// f32 weights only) or a split across workers (these emitters never call
// span).

// withF64 returns e with its f64 nodes sent to f64, which needs no
// scratch.
func withF64(e emitter, f64 func(k *kctx) error) emitter {
	emit, scratch := e.emit, e.scratch
	e.emit = func(k *kctx) error {
		if k.n.Out().Type.DType == ir.F64 {
			return f64(k)
		}
		return emit(k)
	}
	if scratch != nil {
		e.scratch = func(n *ir.Node) int {
			if n.Out().Type.DType == ir.F64 {
				return 0
			}
			return scratch(n)
		}
	}
	return e
}

// biasStart is the statement that starts output channel ch's sum: its
// bias, or zero.
func biasStart(k *kctx, ch string) string {
	if k.in[2] == "" {
		return "var s float64"
	}
	return "s := float64(" + k.in[2] + "[" + ch + "])"
}

// emitDense64: y[r, o] = b[o] + Σ_i x[r, i]·w[o, i], i in order.
func emitDense64(k *kctx) error {
	k.in = padNames(k.in, 3)
	x, w := k.inShape(0), k.inShape(1)
	N, K := w[0], w[1]
	X, W, Y := k.in[0], k.in[1], k.out[0]
	k.l("for r := range %d {", x.NumElems()/K)
	k.l("for o := range %d {", N)
	k.l("%s", biasStart(k, "o"))
	k.l("for i := range %d {\ns += %s[r*%d+i] * %s[o*%d+i]\n}", K, X, K, W, K)
	k.l("%s[r*%d+o] = s", Y, N)
	k.l("}\n}")
	return nil
}

// emitConv64: each output starts from the bias and adds, per input
// channel of its group, that channel's sum over the taps inside the
// input (runtime's windowDot).
func emitConv64(k *kctx) error {
	k.in = padNames(k.in, 3)
	x, wsh, y := k.inShape(0), k.inShape(1), k.outShape(0)
	a := k.n.Attrs
	w := window3(x, y, wsh[2:], a.Ints("strides"), a.Ints("pads"), a.Ints("dilations"))
	C, M, G := x[1], y[1], a.Int("groups")
	cg, mg := C/G, M/G
	IS, OS, KS := w.in[0]*w.in[1]*w.in[2], w.out[0]*w.out[1]*w.out[2], w.k[0]*w.k[1]*w.k[2]
	X, W, Y := k.in[0], k.in[1], k.out[0]
	k.l("for b := range %d {", x[0])
	k.l("for m := range %d {", M)
	k.l("g := m / %d", mg)
	for i, ax := range axes3 {
		k.l("for o%s := range %d {", ax, w.out[i])
	}
	k.l("%s", biasStart(k, "m"))
	k.l("for c := range %d {", cg)
	k.l("xc, wc := (b*%d+g*%d+c)*%d, (m*%d+c)*%d", C, cg, IS, cg, KS)
	k.l("var t float64")
	for i, ax := range axes3 {
		k.l("for j%s := range %d {", ax, w.k[i])
		k.l("p%s := o%s*%d + j%s*%d - %d", ax, ax, w.s[i], ax, w.d[i], w.pb[i])
		k.l("if p%s < 0 || p%s >= %d {\ncontinue\n}", ax, ax, w.in[i])
	}
	k.l("t += %s[xc+(pd*%d+ph)*%d+pw] * %s[wc+(jd*%d+jh)*%d+jw]", X, w.in[1], w.in[2], W, w.k[1], w.k[2])
	k.l("}\n}\n}") // taps
	k.l("s += t")
	k.l("}") // c
	k.l("%s[(b*%d+m)*%d+(od*%d+oh)*%d+ow] = s", Y, M, OS, w.out[1], w.out[2])
	k.l("}\n}\n}") // outputs
	k.l("}\n}")    // m, b
	return nil
}

// emitConvTranspose64: each output starts from the bias and adds x·w
// over the input channels of its group and the taps that reach it
// (runtime's convTranspose gather), in order.
func emitConvTranspose64(k *kctx) error {
	k.in = padNames(k.in, 3)
	x, wsh, y := k.inShape(0), k.inShape(1), k.outShape(0)
	a := k.n.Attrs
	// window3 over (output, input): the transposed window maps output
	// position o and tap j to input (o + pb - j·d) / s.
	w := window3(x, y, wsh[2:], a.Ints("strides"), a.Ints("pads"), a.Ints("dilations"))
	C, G := x[1], a.Int("groups")
	Cg, Mg := C/G, wsh[1]
	M := Mg * G
	IS, OS, KS := w.in[0]*w.in[1]*w.in[2], w.out[0]*w.out[1]*w.out[2], w.k[0]*w.k[1]*w.k[2]
	X, W, Y := k.in[0], k.in[1], k.out[0]
	k.l("for b := range %d {", x[0])
	k.l("for m := range %d {", M)
	k.l("g, mm := m/%d, m%%%d", Mg, Mg)
	for i, ax := range axes3 {
		k.l("for o%s := range %d {", ax, w.out[i])
	}
	k.l("%s", biasStart(k, "m"))
	k.l("for c := g * %d; c < (g+1)*%d; c++ {", Cg, Cg)
	k.l("xc, wc := (b*%d+c)*%d, (c*%d+mm)*%d", C, IS, Mg, KS)
	for i, ax := range axes3 {
		k.l("for j%s := range %d {", ax, w.k[i])
		k.l("q%s := o%s + %d - j%s*%d", ax, ax, w.pb[i], ax, w.d[i])
		k.l("if q%s < 0 || q%s%%%d != 0 || q%s/%d >= %d {\ncontinue\n}", ax, ax, w.s[i], ax, w.s[i], w.in[i])
		k.l("i%s := q%s / %d", ax, ax, w.s[i])
	}
	k.l("s += %s[xc+(id*%d+ih)*%d+iw] * %s[wc+(jd*%d+jh)*%d+jw]", X, w.in[1], w.in[2], W, w.k[1], w.k[2])
	k.l("}\n}\n}") // taps
	k.l("}")       // c
	k.l("%s[(b*%d+m)*%d+(od*%d+oh)*%d+ow] = s", Y, M, OS, w.out[1], w.out[2])
	k.l("}\n}\n}") // outputs
	k.l("}\n}")    // m, b
	return nil
}

package codegen

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// Recurrent layers in float64: the interpreter's loops (runtime/rnn.go)
// written out as scalar Go, every sum in the same order and sigmoid and
// tanh from package math, so the generated kernel agrees with the
// interpreter to the last bits rather than within the f32 path's
// tolerance (rnn.go's float32 panels and rnnTanh). No schedule applies:
// the tiling pass leaves f64 layers alone and useRNNSIMD refuses them.
//
// The scratch is float64 (emitter.scratchDT): a time-major copy of x when
// batch_first, the outputs of intermediate layers, and per step the new
// state (and gru's r and r*h), each H long.

// rnn64Layout is the f64 kernel's scratch layout (f64 element offsets).
type rnn64Layout struct {
	bufA, bufB  int // layer outputs (time-major); the x copy is at 0
	next, r, rh int // the step's new state, gru's r and r*h
	total       int
}

func (d rnnDims) layout64() rnn64Layout {
	var lay rnn64Layout
	up := func(n int) int { return (n + align - 1) / align * align }
	total := 0
	if d.batchFirst {
		total = up(d.T * d.N * d.F)
	}
	seq := up(d.T * d.N * d.D * d.H)
	lay.bufA, lay.bufB = total, total
	if d.L > 1 || d.batchFirst {
		total += seq
	}
	if d.L > 1 {
		lay.bufB = total
		total += seq
	}
	for _, p := range []*int{&lay.next, &lay.r, &lay.rh} {
		*p = total
		total += up(d.H)
	}
	lay.total = total
	return lay
}

// isF64 reports whether the recurrent node n computes in float64.
func isF64(n *ir.Node) bool { return n.Inputs[0].Type.DType == ir.F64 }

// emitRNN64 writes the f64 kernel: layers in order, each direction's
// steps in time order (reversed for the reverse direction).
func emitRNN64(k *kctx) error {
	d := rnnShape(k.n)
	T, N, F, L, D := d.T, d.N, d.F, d.L, d.D
	DH := D * d.H
	lay := d.layout64()
	lbr := k.n.Op == "gru" && k.n.Attrs.Bool("linear_before_reset")
	seqIn := operand{base: k.in[0]}
	if d.batchFirst {
		k.l("for b := range %d {\nfor t := range %d {", N, T)
		k.l("copy(tmp[(t*%[1]d+b)*%[2]d:(t*%[1]d+b+1)*%[2]d], %[3]s[(b*%[4]d+t)*%[2]d:(b*%[4]d+t+1)*%[2]d])", N, F, k.in[0], T)
		k.l("}\n}")
		seqIn = operand{base: "tmp"}
	}
	k.l("sig := func(v float64) float64 { return 1 / (1 + @math.Exp(-v)) }")
	k.l("_ = sig")
	wk := 1 + d.ns
	inSize := F
	for l := range L {
		out := operand{base: "y"}
		if l < L-1 || d.batchFirst {
			out = operand{base: "tmp", off: []int{lay.bufA, lay.bufB}[l%2]}
		}
		for dir := range D {
			r := rnnDir{k: k, d: d, op: k.n.Op, lbr: lbr, l: l, dir: dir, in: seqIn, out: out, inSize: inSize}
			wk = r.weights(wk)
			r.emit64(lay)
		}
		seqIn, inSize = out, DH
	}
	if d.batchFirst {
		k.l("for b := range %d {\nfor t := range %d {", N, T)
		k.l("copy(y[(b*%[1]d+t)*%[2]d:(b*%[1]d+t+1)*%[2]d], %[3]s)", T, DH, seqIn.at(fmt.Sprintf("(t*%d+b)*%d", N, DH)))
		k.l("}\n}")
	}
	return nil
}

// emit64 writes one direction of one layer in float64.
func (r *rnnDir) emit64(lay rnn64Layout) {
	k, d := r.k, r.d
	T, N, H, DH := d.T, d.N, d.H, d.D*d.H
	k.l("{ // layer %d %s", r.l, []string{"forward", "reverse"}[r.dir])
	r.initState()
	k.l("nx := (*[%d]float64)(tmp[%d:])", H, lay.next)
	k.l("for step := range %d {", T)
	if r.dir == 0 {
		k.l("t := step")
	} else {
		k.l("t := %d - step", T-1)
	}
	k.l("for b := range %d {", N)
	k.l("xt := (*[%d]float64)(%s)", r.inSize, r.in.at(fmt.Sprintf("(t*%d+b)*%d", N, r.inSize)))
	k.l("hb := (*[%d]float64)(h[b*%d:])", H, H)
	r.affine64("gi", r.wih, r.bih, "xt", r.inSize)
	r.affine64("gh", r.whh, r.bhh, "hb", H)
	switch r.op {
	case "rnn":
		k.l("for j := range %d {", H)
		k.l("v := gi(j) + gh(j)")
		if k.n.Attrs.String("nonlinearity") == "relu" {
			k.l("nx[j] = max(v, 0)")
		} else {
			k.l("nx[j] = @math.Tanh(v)")
		}
		k.l("}")
	case "lstm":
		r.lstmCell64()
	case "gru":
		r.gruCell64(lay)
	}
	k.l("copy(hb[:], nx[:])")
	k.l("copy(%s, hb[:])", r.out.at(fmt.Sprintf("(t*%d+b)*%d+%d", N, DH, r.dir*H)))
	k.l("}") // b
	k.l("}") // step
	k.l("}") // layer block
}

// affine64 defines name(row) = bias[row] + Σ_j w[row, j]·v[j] in float64,
// summed in j order as runtime's rnnAffine.
func (r *rnnDir) affine64(name, w, bias, v string, n int) {
	s := "0.0"
	if bias != "" {
		s = bias + "[row]"
	}
	r.k.l("%s := func(row int) float64 {\ns := %s\nwr := (*[%d]float64)(%s[row*%d:])\nfor j, vj := range %s {\ns += wr[j] * vj\n}\nreturn s\n}", name, s, n, w, n, v)
}

// lstmCell64 writes the lstm gates of batch row b (peepholes included;
// without them the interpreter's zero terms are kept, so NaN and ±Inf
// propagate alike).
func (r *rnnDir) lstmCell64() {
	k, H := r.k, r.d.H
	k.l("cb := (*[%d]float64)(c[b*%d:])", H, H)
	k.l("for j := range %d {", H)
	if r.peep != "" {
		k.l("pi, pf, po := pw[j], pw[%d+j], pw[%d+j]", H, 2*H)
	} else {
		k.l("pi, pf, po := 0.0, 0.0, 0.0")
	}
	k.l("cold := cb[j]")
	k.l("i := sig(gi(j) + gh(j) + pi*cold)")
	k.l("f := sig(gi(%d+j) + gh(%[1]d+j) + pf*cold)", H)
	k.l("g := @math.Tanh(gi(%d+j) + gh(%[1]d+j))", 2*H)
	k.l("cj := f*cold + i*g")
	k.l("o := sig(gi(%d+j) + gh(%[1]d+j) + po*cj)", 3*H)
	k.l("cb[j] = cj")
	k.l("nx[j] = o * @math.Tanh(cj)")
	k.l("}")
}

// gruCell64 writes the gru gates of batch row b: r and r*h for every j
// first (the new gate of ONNX's form reads r*h whole).
func (r *rnnDir) gruCell64(lay rnn64Layout) {
	k, H := r.k, r.d.H
	k.l("rg := (*[%d]float64)(tmp[%d:])", H, lay.r)
	k.l("rh := (*[%d]float64)(tmp[%d:])", H, lay.rh)
	k.l("for j := range %d {", H)
	k.l("rg[j] = sig(gi(j) + gh(j))")
	k.l("rh[j] = rg[j] * hb[j]")
	k.l("}")
	if !r.lbr {
		// W_hn·(r*h) + b_hn: rows 2H.. of W_hh and b_hh
		r.affine64("gn", r.whh, r.bhh, "rh", H)
	}
	k.l("for j := range %d {", H)
	k.l("z := sig(gi(%d+j) + gh(%[1]d+j))", H)
	if r.lbr {
		k.l("hn := rg[j] * gh(%d+j)", 2*H)
	} else {
		k.l("hn := gn(%d + j)", 2*H)
	}
	k.l("n := @math.Tanh(gi(%d+j) + hn)", 2*H)
	k.l("nx[j] = (1-z)*n + z*hb[j]")
	k.l("}")
}

package codegen

import (
	"fmt"

	"github.com/dlcompiler/dlc/codegen/kernels"
	"github.com/dlcompiler/dlc/ir"
)

// The recurrent layers on the SIMD kernels (codegen/kernels), chosen when
// the node's Schedule.Kernel names a Gemv or Dot kernel (the tiling pass
// does for rnn, lstm and gru without peepholes; peepholes and unscheduled
// nodes take rnn.go's float64 gates):
//
//   - per layer and direction, the input projections of all T·N steps,
//     b + W_ih·x (b = b_ih + b_hh where the formula allows, summed once),
//     as one matrix product on the Gemm kernel (the transposed W_ih is its
//     k-major operand) when G·H is whole blocks of its NR columns, else
//     step by step like the recurrence;
//   - per step, the gates' pre-activations gx_t + W_hh·h, the whole of
//     W_hh in one pass (gru: r and z, then n);
//   - the products on the Gemv kernel over W_ih and W_hh transposed at
//     compile time into k-major panels of 64 gate rows (WeightLayout
//     "rnn-wT", rnnPanels: each call streams one contiguous block), 64
//     gate rows per call
//     as 8 vector lanes of 8 rows, FMA chains with no horizontal sums, the
//     bias or gx as the starting value. When the gate blocks are not
//     whole vectors (rnnGemvOK) the weights stay as stored and the Dot
//     kernel computes 4 rows per call, the starting value added after;
//   - the gates on the Act kernel, vectorized float32 sigmoid and tanh
//     of a whole gate block per call, and the cell arithmetic in float32
//     loops whose bounds are constants;
//   - bidirectional layers run their two directions interleaved in one
//     step loop (forward at t, reverse at T−1−t): two independent chains
//     for the core to overlap.
//
// Gate rows are not interleaved in the packed weights: each Act call
// wants one gate's block contiguous, and one Gemv pass over W_hh already
// yields every gate of the step.
//
// Each direction has its own block of scratch (rnnSIMDLayout). The
// results stay within the self-test tolerance of the float64
// interpreter: the Act kernel's errors are below 3 ulp (act.go), and a
// step's sums are float32 like rnn.go's.

// useRNNSIMD reports whether a recurrent node runs on the SIMD kernels.
func useRNNSIMD(n *ir.Node) bool {
	kn := kernelOf(n.Schedule)
	return kn != nil && !isF64(n) && (kn.Op == kernels.Dot || kn.Op == kernels.Gemv) && !ir.RNNPeepholes(n)
}

// rnnActKernel is the Act kernel the SIMD path calls.
var rnnActKernel = func() *kernels.Kernel {
	for _, k := range kernels.All() {
		if k.Op == kernels.Act {
			return k
		}
	}
	panic("codegen: no Act kernel registered")
}()

// rnnSIMDLayout is the scratch of the SIMD path (f32 element offsets): the
// layer sequences as in rnnLayout, then per direction gx (T·N·G·H), gh
// (N·G·H), the activated gates (N·G·H), a vector of H per batch row (tanh
// of c, r·h, or the n pre-activation) and the summed biases (G·H). Every
// block has 4 spare elements: the Dot kernel stores 4 sums at a time.
type rnnSIMDLayout struct {
	bufA, bufB int
	dir        []rnnSIMDDir
	total      int
}

type rnnSIMDDir struct{ gx, gh, act, vec, bias int }

func (d rnnDims) simdLayout() rnnSIMDLayout {
	base := d.layout() // x copy and layer buffers come first
	lay := rnnSIMDLayout{bufA: base.bufA, bufB: base.bufB}
	up := func(n int) int { return (n + 4 + align - 1) / align * align }
	total := base.gx
	GH := d.G * d.H
	for range d.D {
		var r rnnSIMDDir
		for _, f := range []struct {
			p *int
			n int
		}{{&r.gx, d.T * d.N * GH}, {&r.gh, d.N * GH}, {&r.act, d.N * GH}, {&r.vec, d.N * d.H}, {&r.bias, GH}} {
			*f.p = total
			total += up(f.n)
		}
		lay.dir = append(lay.dir, r)
	}
	lay.total = total
	return lay
}

// emitRNNSIMD is emitRNN on the SIMD kernels.
func emitRNNSIMD(k *kctx) error {
	d := rnnShape(k.n)
	T, N, F, H, L, D := d.T, d.N, d.F, d.H, d.L, d.D
	DH := D * H
	lay := d.simdLayout()
	lbr := k.n.Op == "gru" && k.n.Attrs.Bool("linear_before_reset")
	seqIn := operand{base: k.in[0]}
	if d.batchFirst {
		k.l("for b := range %d {\nfor t := range %d {", N, T)
		k.l("copy(tmp[(t*%[1]d+b)*%[2]d:(t*%[1]d+b+1)*%[2]d], %[3]s[(b*%[4]d+t)*%[2]d:(b*%[4]d+t+1)*%[2]d])", N, F, k.in[0], T)
		k.l("}\n}")
		seqIn = operand{base: "tmp"}
	}
	wk := 1 + d.ns
	inSize := F
	for l := range L {
		out := operand{base: "y"}
		if l < L-1 || d.batchFirst {
			out = operand{base: "tmp", off: []int{lay.bufA, lay.bufB}[l%2]}
		}
		var dirs []*rnnDir
		for dir := range D {
			r := &rnnDir{k: k, d: d, op: k.n.Op, lbr: lbr, l: l, dir: dir, in: seqIn, out: out, inSize: inSize}
			wk = r.weights(wk)
			dirs = append(dirs, r)
		}
		k.l("{ // layer %d", l)
		for _, r := range dirs {
			r.simdInit(lay.dir[r.dir])
		}
		k.l("for step := range %d {", T)
		for _, r := range dirs {
			r.simdStep()
		}
		k.l("}") // step
		k.l("}") // layer
		seqIn, inSize = out, DH
	}
	if d.batchFirst {
		k.l("for b := range %d {\nfor t := range %d {", N, T)
		k.l("copy(y[(b*%[1]d+t)*%[2]d:(b*%[1]d+t+1)*%[2]d], %[3]s)", T, DH, seqIn.at(fmt.Sprintf("(t*%d+b)*%d", N, DH)))
		k.l("}\n}")
	}
	return nil
}

// v is the name of this direction's variable base.
func (r *rnnDir) v(base string) string { return fmt.Sprintf("%s%d", base, r.dir) }

// simdInit declares the direction's state and scratch views, sums its
// biases, and computes the input projection of every step.
func (r *rnnDir) simdInit(s rnnSIMDDir) {
	k, d := r.k, r.d
	T, N, H, GH := d.T, d.N, d.H, d.G*d.H
	slot := (r.l*d.D + r.dir) * N * H
	k.l("%s := (*[%d]float32)(hOut[%d:])", r.v("h"), N*H, slot)
	if k.in[1] != "" {
		k.l("copy(%s[:], %s[%d:%d])", r.v("h"), k.in[1], slot, slot+N*H)
	} else {
		k.l("*%s = [%d]float32{}", r.v("h"), N*H)
	}
	if r.op == "lstm" {
		k.l("%s := (*[%d]float32)(cOut[%d:])", r.v("c"), N*H, slot)
		if k.in[2] != "" {
			k.l("copy(%s[:], %s[%d:%d])", r.v("c"), k.in[2], slot, slot+N*H)
		} else {
			k.l("*%s = [%d]float32{}", r.v("c"), N*H)
		}
	}
	k.l("%s := tmp[%d : %d+%d]", r.v("gx"), s.gx, s.gx, T*N*GH+4)
	k.l("%s := tmp[%d : %d+%d]", r.v("gh"), s.gh, s.gh, N*GH+4)
	k.l("%s := (*[%d]float32)(tmp[%d:])", r.v("ga"), N*GH, s.act)
	k.l("%s := tmp[%d : %d+%d]", r.v("hv"), s.vec, s.vec, N*H+4)
	k.l("_, _, _, _ = %s, %s, %s, %s", r.v("gx"), r.v("gh"), r.v("ga"), r.v("hv"))
	bias := ""
	if r.bih != "" {
		bias = r.v("bs")
		// b_hh folds into the projection except gru's n gate with
		// linear_before_reset (it is scaled by r).
		fold := GH
		if r.lbr {
			fold = 2 * H
		}
		k.l("%s := (*[%d]float32)(tmp[%d:])", bias, GH, s.bias)
		k.l("for i := range %d {\n%s[i] = %s[i] + %s[i]\n}", fold, bias, r.bih, r.bhh)
		if fold < GH {
			k.l("copy(%s[%d:], %s[%d:%d])", bias, fold, r.bih, fold, GH)
		}
	}
	k.l("// input projection of all %d steps", T)
	if kn := rnnGemmKernel; r.gemv() && GH%kn.NR == 0 && rnnPanel%kn.NR == 0 {
		// One matrix product: blocks of MR steps × NR gate rows, the
		// transposed W_ih (in panels of rnnPanel rows) as the kernel's
		// k-major operand.
		bs, flags := "nil", 0
		if bias != "" {
			bs, flags = bias+"[j0:]", 4 // column bias
		}
		K := r.inSize
		k.l("for t0 := 0; t0 < %d; t0 += %d {", T*N, kn.MR)
		k.l("rr := min(%d, %d-t0)", kn.MR, T*N)
		gemm := func(p0 string, ld int) {
			k.l("%s(rr, %d, %d, %s, %d, %s[%s*%d+j0-%s:], %d, %s[t0*%d+j0:], %d, %s, %d)", kn.Func, kn.NR, K,
				r.in.at(fmt.Sprintf("t0*%d", K)), K, r.wih, p0, K, p0, ld, r.v("gx"), GH, GH, bs, flags)
		}
		if full := GH / rnnPanel * rnnPanel; full > 0 {
			k.l("for p0 := 0; p0 < %d; p0 += %d {", full, rnnPanel)
			k.l("for j0 := p0; j0 < p0+%d; j0 += %d {", rnnPanel, kn.NR)
			gemm("p0", rnnPanel)
			k.l("}\n}")
		}
		if p0 := GH / rnnPanel * rnnPanel; p0 < GH {
			k.l("for j0 := %d; j0 < %d; j0 += %d {", p0, GH, kn.NR)
			gemm(fmt.Sprint(p0), GH-p0)
			k.l("}")
		}
		k.l("}")
		return
	}
	k.l("for tn := range %d {", T*N)
	r.mv(r.in.at(fmt.Sprintf("tn*%d", r.inSize)), r.inSize, r.wih, 0, GH, bias, r.v("gx"), fmt.Sprintf("tn*%d", GH))
	k.l("}")
}

// rnnGemmKernel computes the input projections of all steps when the
// weights are transposed and the gate rows are whole column blocks.
var rnnGemmKernel = kernels.Find(kernels.Gemm, kernels.AVX512)

// gemv reports whether the direction's matrices are stored transposed
// (pack.go) for the Gemv kernel.
func (r *rnnDir) gemv() bool {
	kn := kernelOf(r.k.n.Schedule)
	p := r.k.gen.plan.laidOut
	return kn != nil && kn.Op == kernels.Gemv && p[r.k.n.Inputs[r.wIdx]] && p[r.k.n.Inputs[r.wIdx+1]]
}

// mv emits out[off+i] = c[i] + Σ_k x[k]·W[r0+i][k] for i < n (c "": 0),
// W the direction's w (W_ih or W_hh, G·H rows of K): on the Gemv kernel
// over the transposed matrix, 64 rows per call, or on the Dot kernel over
// W as stored, then c added.
func (r *rnnDir) mv(x string, K int, w string, r0, n int, c, out, off string) {
	k, GH := r.k, r.d.G*r.d.H
	if !r.gemv() {
		dotRows(k, x, K, w, r0, n, out, off)
		if c != "" {
			k.l("{\nor := (*[%d]float32)(%s[%s:])", n, out, off)
			k.l("for i, v := range (*[%d]float32)(%s[:]) {\nor[i] += v\n}\n}", n, c)
		}
		return
	}
	kn := kernelOf(r.k.n.Schedule)
	if kn.NR != rnnPanel {
		panic(fmt.Sprintf("codegen: Gemv kernel %s has %d columns, the rnn-wT panels %d", kn.Name, kn.NR, rnnPanel))
	}
	// call multiplies the nv·8 rows from r0+rel (rel a Go expression),
	// which start at element wOff of w, within a panel of ld rows.
	call := func(nv int, wOff string, ld int, rel string) {
		cs := "nil"
		if c != "" {
			cs = fmt.Sprintf("%s[%s:]", c, rel)
		}
		k.l("%s(%d, %s[:%d], %s[%s:], %d, %s, %s[%s+%s:])", kn.Func, nv, x, K, w, wOff, ld, cs, out, off, rel)
	}
	for row, end := r0, r0+n; row < end; {
		p0 := row / rnnPanel * rnnPanel
		ld := min(rnnPanel, GH-p0)
		if np := (end - row) / rnnPanel; row == p0 && np > 1 {
			// Whole panels: one loop.
			k.l("for c0 := 0; c0 < %d; c0 += %d {", np*rnnPanel, rnnPanel)
			call(rnnPanel/8, fmt.Sprintf("%d+c0*%d", p0*K, K), rnnPanel, fmt.Sprintf("%d+c0", row-r0))
			k.l("}")
			row += np * rnnPanel
			continue
		}
		next := min(p0+ld, end)
		call((next-row)/8, fmt.Sprint(p0*K+row-p0), ld, fmt.Sprint(row-r0))
		row = next
	}
}

// rnnPanel is the width of the panels the rnn-wT layout packs W_ih and
// W_hh in: the Gemv kernel's columns.
var rnnPanel = func() int {
	for _, k := range kernels.All() {
		if k.Op == kernels.Gemv {
			return k.NR
		}
	}
	panic("codegen: no Gemv kernel registered")
}()

// rnnPanels packs a recurrent weight matrix W ([rows][K], rows the gate
// rows) for the Gemv kernel (WeightLayout "rnn-wT"): transposed, in
// panels of rnnPanel rows (the last one narrower), panel p at p·rnnPanel·K
// holding W[p·rnnPanel+j][k] at k·w+j for its width w. A call of the Gemv
// kernel then streams one contiguous block of K·w values (a step's W_hh·h
// reads the whole matrix front to back) rather than w values every
// rows·4 bytes, which the hardware prefetchers follow less well.
func rnnPanels(t *ir.Tensor) *ir.Tensor {
	R, K := t.Shape[0], t.Shape[1]
	out := ir.NewTensor(ir.F32, ir.Shape{K, R})
	src, dst := t.F32(), out.F32()
	for p0 := 0; p0 < R; p0 += rnnPanel {
		w := min(rnnPanel, R-p0)
		for j := range w {
			for k, v := range src[(p0+j)*K : (p0+j+1)*K] {
				dst[p0*K+k*w+j] = v
			}
		}
	}
	return out
}

// dotRows emits out[off+i] = Σ_k x[k]·w[(r0+i)·K+k] for i < n, through the
// Dot kernel, 4 rows per call (out has 4 spare elements).
func dotRows(k *kctx, x string, K int, w string, r0, n int, out, off string) {
	kn := rnnDotKernel
	mr := kn.MR
	k.l("{")
	k.l("xv := %s", x)
	k.l("xv = xv[:%d]", K)
	if n >= mr {
		k.l("for i := 0; i < %d; i += %d {", n/mr*mr, mr)
		k.l("%s(%d, xv, %s[(%d+i)*%d:], %d, (*[%d]float32)(%s[%s+i:]))", kn.Func, mr, w, r0, K, K, mr, out, off)
		k.l("}")
	}
	if rem := n % mr; rem > 0 {
		i := n / mr * mr
		k.l("%s(%d, xv, %s[%d:], %d, (*[%d]float32)(%s[%s+%d:]))", kn.Func, rem, w, (r0+i)*K, K, mr, out, off, i)
	}
	k.l("}")
}

// rnnDotKernel is the Dot kernel of the SIMD path.
var rnnDotKernel = kernels.Find(kernels.Dot, kernels.AVX2)

// act emits y = f(a + b) on the Act kernel (b "" for f(a)).
func act(k *kctx, fn int, a, b, y string) {
	if b == "" {
		b = "nil"
	}
	k.l("%s(%d, %s, %s, %s)", rnnActKernel.Func, fn, a, b, y)
}

// simdStep emits one step of the direction: the gates' pre-activations
// gx + W_hh·h, the gates, the new state, and its copy into the output
// sequence.
func (r *rnnDir) simdStep() {
	k, d := r.k, r.d
	T, N, H, GH, DH := d.T, d.N, d.H, d.G*d.H, d.D*d.H
	hr := r.hr()
	k.l("{ // %s", []string{"forward", "reverse"}[r.dir])
	if r.dir == 0 {
		k.l("t := step")
	} else {
		k.l("t := %d - step", T-1)
	}
	h, gx, gh, ga, hv := r.v("h"), r.v("gx"), r.v("gh"), r.v("ga"), r.v("hv")
	k.l("for b := range %d {", N)
	k.l("hb := (*[%d]float32)(%s[b*%d:])", H, h, H)
	k.l("gb := %s[(t*%d+b)*%d:][:%d]", gx, N, GH, GH)
	k.l("hh := %s[b*%d:][:%d]", gh, hr, hr)
	k.l("ga := (*[%d]float32)(%s[b*%d:])", GH, ga, GH)
	k.l("hv := (*[%d]float32)(%s[b*%d:])", H, hv, H)
	k.l("_, _ = ga, hv")
	sig, tanh := kernels.ActSigmoid, kernels.ActTanh
	seg := func(a string, i, j int) string { return fmt.Sprintf("%s[%d:%d]", a, i*H, j*H) }
	whh := func(r0, n int, c, out, off string) { r.mv("hb[:]", H, r.whh, r0, n, c, out, off) }
	switch r.op {
	case "rnn":
		whh(0, H, "gb", gh, fmt.Sprintf("b*%d", hr))
		if r.k.n.Attrs.String("nonlinearity") == "relu" {
			k.l("for j := range %d {\nhb[j] = max(hh[j], 0)\n}", H)
		} else {
			act(k, tanh, "hh", "", "hb[:]")
		}
	case "lstm":
		whh(0, GH, "gb", gh, fmt.Sprintf("b*%d", hr))
		act(k, sig, seg("hh", 0, 2), "", seg("ga", 0, 2))
		act(k, tanh, seg("hh", 2, 3), "", seg("ga", 2, 3))
		act(k, sig, seg("hh", 3, 4), "", seg("ga", 3, 4))
		k.l("cb := (*[%d]float32)(%s[b*%d:])", H, r.v("c"), H)
		k.l("ig, fg, gg, og := (*[%[1]d]float32)(ga[0:]), (*[%[1]d]float32)(ga[%[1]d:]), (*[%[1]d]float32)(ga[%[2]d:]), (*[%[1]d]float32)(ga[%[3]d:])", H, 2*H, 3*H)
		k.l("for j := range %d {\ncb[j] = fg[j]*cb[j] + ig[j]*gg[j]\n}", H)
		act(k, tanh, "cb[:]", "", "hv[:]")
		k.l("for j := range %d {\nhb[j] = og[j] * hv[j]\n}", H)
	case "gru":
		whh(0, 2*H, "gb", gh, fmt.Sprintf("b*%d", hr))
		act(k, sig, seg("hh", 0, 2), "", seg("ga", 0, 2))
		k.l("rg, zg := (*[%[1]d]float32)(ga[0:]), (*[%[1]d]float32)(ga[%[1]d:])", H)
		if r.lbr {
			// n = tanh(gx_n + r·(W_hn·h + b_hn))
			whh(2*H, H, "", gh, fmt.Sprintf("b*%d+%d", hr, 2*H))
			k.l("gn, hn := (*[%[1]d]float32)(gb[%[2]d:]), (*[%[1]d]float32)(hh[%[2]d:])", H, 2*H)
			if r.bhh != "" {
				k.l("bn := (*[%d]float32)(%s[%d:])", H, r.bhh, 2*H)
				k.l("for j := range %d {\nhv[j] = gn[j] + rg[j]*(hn[j]+bn[j])\n}", H)
			} else {
				k.l("for j := range %d {\nhv[j] = gn[j] + rg[j]*hn[j]\n}", H)
			}
			act(k, tanh, "hv[:]", "", "hv[:]")
		} else {
			// n = tanh(gx_n + W_hn·(r·h)), b_hn folded into gx_n; the sum
			// goes into gh past the r and z rows of every batch row.
			k.l("for j := range %d {\nhv[j] = rg[j] * hb[j]\n}", H)
			k.l("ng := %s[%d+b*%d:]", gh, N*hr, H)
			r.mv("hv[:]", H, r.whh, 2*H, H, fmt.Sprintf("gb[%d:]", 2*H), "ng", "0")
			act(k, tanh, fmt.Sprintf("ng[:%d]", H), "", "hv[:]")
		}
		k.l("for j := range %d {\nhb[j] = (1-zg[j])*hv[j] + zg[j]*hb[j]\n}", H)
	}
	k.l("copy(%s, hb[:])", r.out.at(fmt.Sprintf("(t*%d+b)*%d+%d", N, DH, r.dir*H)))
	k.l("}") // b
	k.l("}") // direction
}

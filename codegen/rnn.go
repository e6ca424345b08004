package codegen

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// Recurrent layers rnn, lstm and gru with every attribute: stacked layers,
// bidirectional, batch_first, bias, rnn's relu, gru's
// linear_before_reset, lstm's peepholes. The math is that of runtime/rnn.go, arranged for
// speed within the self-test tolerance:
//
//   - for each layer and direction, the input projection W_ih·x_t + b_ih
//     (+ b_hh wherever the formula allows: every gate of rnn and lstm,
//     gru's r and z, and gru's n without linear_before_reset, where
//     W_hn·(r*h) + b_hn is linear) is computed for all T steps at once
//     into scratch (gx, [T·N][G·H]);
//   - each step then only computes h·W_hhᵀ (gh, [N][G·H]), register
//     blocked over 8 rows of W_hh with float32 accumulators (emitGemmNT);
//   - the gates add gx and gh in float64 and apply float64 sigmoid and
//     tanh (rnnSigmoid, rnnTanh); the state is rounded to float32 once per
//     step, as in the interpreter;
//   - lstm peepholes are elementwise in the gate loop: p_i and p_f scale
//     the old cell state, p_o the new one.
//
// The sequence is walked time-major; the running state lives in the h
// (and c) outputs, which end as the final states. Scratch holds a
// time-major copy of x when batch_first, the outputs of intermediate
// layers, gx, gh and, for gru without linear_before_reset, r*h.

func init() {
	for _, op := range []string{"rnn", "lstm", "gru"} {
		register(op, emitter{emit: emitRNN, scratch: rnnScratch, scratchDT: rnnScratchDT})
	}
}

// rnnScratchDT is the dtype of the kernel's scratch: the layer's (f64
// layers run rnn64.go's kernel).
func rnnScratchDT(n *ir.Node) ir.DType {
	if isF64(n) {
		return ir.F64
	}
	return ir.F32
}

type rnnDims struct {
	T, N, F, H, L, D, G, ns int
	batchFirst, bias, peep  bool
}

func rnnShape(n *ir.Node) rnnDims {
	x := n.Inputs[0].Type.Shape
	d := rnnDims{T: x[0], N: x[1], F: x[2], H: n.Attrs.Int("hidden_size"), L: n.Attrs.Int("num_layers"),
		D: ir.RNNDirs(n), G: ir.RNNGates(n.Op), ns: ir.RNNStates(n.Op),
		batchFirst: n.Attrs.Bool("batch_first"), bias: n.Attrs.Bool("bias"), peep: ir.RNNPeepholes(n)}
	if d.batchFirst {
		d.T, d.N = d.N, d.T
	}
	return d
}

// rnnLayout is the kernel's scratch layout (f32 element offsets).
type rnnLayout struct {
	bufA, bufB int // layer outputs (time-major); the x copy is at 0
	gx, gh, rh int // input projections, h·W_hhᵀ, gru's r*h
	total      int
}

func (d rnnDims) layout() rnnLayout {
	var lay rnnLayout
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
	GH := d.G * d.H
	lay.gx = total
	total += up(d.T * d.N * GH)
	lay.gh = total
	total += up(d.N * GH)
	lay.rh = total
	total += up(d.N * d.H)
	lay.total = total
	return lay
}

func rnnScratch(n *ir.Node) int {
	if isF64(n) {
		return rnnShape(n).layout64().total
	}
	if useRNNSIMD(n) {
		return rnnShape(n).simdLayout().total
	}
	return rnnShape(n).layout().total
}

func emitRNN(k *kctx) error {
	if isF64(k.n) {
		return emitRNN64(k)
	}
	if useRNNSIMD(k.n) {
		return emitRNNSIMD(k)
	}
	d := rnnShape(k.n)
	T, N, F, H, L, D, G := d.T, d.N, d.F, d.H, d.L, d.D, d.G
	DH, GH := D*H, G*H
	lay := d.layout()
	lbr := k.n.Op == "gru" && k.n.Attrs.Bool("linear_before_reset")
	seqIn := operand{base: k.in[0]}
	if d.batchFirst {
		// time-major copy of x: [N, T, F] → [T, N, F]
		k.l("for b := range %d {\nfor t := range %d {", N, T)
		k.l("copy(tmp[(t*%[1]d+b)*%[2]d:(t*%[1]d+b+1)*%[2]d], %[3]s[(b*%[4]d+t)*%[2]d:(b*%[4]d+t+1)*%[2]d])", N, F, k.in[0], T)
		k.l("}\n}")
		seqIn = operand{base: "tmp"}
	}
	k.l("gx := (*[%d]float32)(tmp[%d:])", T*N*GH, lay.gx)
	k.l("gh := (*[%d]float32)(tmp[%d:])", N*GH, lay.gh)
	if k.n.Op == "gru" && !lbr {
		k.l("rh := (*[%d]float32)(tmp[%d:])", N*H, lay.rh)
	}
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
			r.emit()
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

// rnnDir is one direction of one layer of a recurrent kernel.
type rnnDir struct {
	k       *kctx
	d       rnnDims
	op      string
	lbr     bool // gru's linear_before_reset
	l, dir  int
	in, out operand // the layer's input and output sequences
	inSize  int
	// parameter names of the direction's weights ("" when absent), and
	// W_ih's input index (W_hh's is next)
	wih, whh, bih, bhh, peep string
	wIdx                     int
}

// weights takes the direction's weights from the kernel's inputs from
// index wk on and returns the index after them.
func (r *rnnDir) weights(wk int) int {
	r.wih, r.whh, r.wIdx = r.k.in[wk], r.k.in[wk+1], wk
	if r.d.bias {
		r.bih, r.bhh = r.k.in[wk+2], r.k.in[wk+3]
		wk += 4
	} else {
		wk += 2
	}
	if r.d.peep {
		r.peep = r.k.in[wk]
		wk++
	}
	return wk
}

// hr is the number of rows of W_hh multiplied with h each step: all G·H,
// but only r and z (2H) for gru without linear_before_reset, whose n gate
// reads r*h.
func (r *rnnDir) hr() int {
	if r.op == "gru" && !r.lbr {
		return 2 * r.d.H
	}
	return r.d.G * r.d.H
}

// emit writes the direction: initial state, input projection of all
// steps, then the steps.
func (r *rnnDir) emit() {
	k, d := r.k, r.d
	T, N, H, GH := d.T, d.N, d.H, d.G*d.H
	k.l("{ // layer %d %s", r.l, []string{"forward", "reverse"}[r.dir])
	r.initState()
	// Input projection of every step: gx[tn][r] = W_ih[r]·x[tn] + biases.
	k.l("// input projection of all %d steps", T)
	if r.lbr {
		r.project(0, 2*H, true)
		r.project(2*H, GH, false)
	} else {
		r.project(0, GH, true)
	}
	k.l("for step := range %d {", T)
	if r.dir == 0 {
		k.l("t := step")
	} else {
		k.l("t := %d - step", T-1)
	}
	k.l("gt := (*[%d]float32)(gx[t*%d:])", N*GH, N*GH)
	// Recurrent projection: gh[b][r] = W_hh[r]·h[b].
	hr := r.hr()
	emitGemmNT(k, N, 0, hr, H, operand{base: "h"}, operand{base: r.whh}, func(m, row, s string) string {
		return fmt.Sprintf("gh[%s*%d+%s] = float32(%s)", m, hr, row, s)
	})
	r.cells()
	if r.op == "gru" && !r.lbr {
		r.gruNewGate()
	}
	k.l("}") // step
	k.l("}") // layer block
}

// initState points h (and c) at the direction's slot of the final-state
// outputs and loads the initial state (or zeros).
func (r *rnnDir) initState() {
	k, N, H := r.k, r.d.N, r.d.H
	ft := elemType(k.n.Out().Type.DType)
	slot := (r.l*r.d.D + r.dir) * N * H
	k.l("h := (*[%d]%s)(hOut[%d:])", N*H, ft, slot)
	if k.in[1] != "" {
		k.l("copy(h[:], %s[%d:%d])", k.in[1], slot, slot+N*H)
	} else {
		k.l("*h = [%d]%s{}", N*H, ft)
	}
	if r.peep != "" {
		k.l("pw := (*[%d]%s)(%s[:%d])", 3*H, ft, r.peep, 3*H)
	}
	if r.op == "lstm" {
		k.l("c := (*[%d]%s)(cOut[%d:])", N*H, ft, slot)
		if k.in[2] != "" {
			k.l("copy(c[:], %s[%d:%d])", k.in[2], slot, slot+N*H)
		} else {
			k.l("*c = [%d]%s{}", N*H, ft)
		}
	}
}

// project writes rows r0..r1 of gx for all steps: W_ih·x + b_ih, plus
// b_hh when foldHH.
func (r *rnnDir) project(r0, r1 int, foldHH bool) {
	GH := r.d.G * r.d.H
	emitGemmNT(r.k, r.d.T*r.d.N, r0, r1, r.inSize, r.in, operand{base: r.wih}, func(m, row, s string) string {
		v := s
		if r.bih != "" {
			v = fmt.Sprintf("float32(float64(%s) + float64(%s[%s])", s, r.bih, row)
			if foldHH {
				v += fmt.Sprintf(" + float64(%s[%s])", r.bhh, row)
			}
			v += ")"
		}
		return fmt.Sprintf("gx[%s*%d+%s] = %s", m, GH, row, v)
	})
}

// pre is gate's pre-activation in float64: gx + gh.
func (r *rnnDir) pre(gate int) string {
	return fmt.Sprintf("float64(gb[%d+j]) + float64(hh[%d+j])", gate*r.d.H, gate*r.d.H)
}

// cells writes the gates of one step for every batch row, and stores h
// into the output sequence (for gru without linear_before_reset, only r*h:
// gruNewGate finishes the step).
func (r *rnnDir) cells() {
	k, d := r.k, r.d
	N, H, GH, DH, hr := d.N, d.H, d.G*d.H, d.D*d.H, r.hr()
	k.l("for b := range %d {", N)
	k.l("hb := (*[%d]float32)(h[b*%d:])", H, H)
	k.l("gb := (*[%d]float32)(gt[b*%d:])", GH, GH)
	k.l("hh := (*[%d]float32)(gh[b*%d:])", hr, hr)
	switch r.op {
	case "rnn":
		k.l("for j := range %d {", H)
		k.l("v := %s", r.pre(0))
		if k.n.Attrs.String("nonlinearity") == "relu" {
			k.l("hb[j] = float32(max(v, 0))")
		} else {
			k.l("hb[j] = float32(rnnTanh(v))")
		}
		k.l("}")
	case "lstm":
		r.lstmCell()
	case "gru":
		r.gruCell()
	}
	if !(r.op == "gru" && !r.lbr) {
		k.l("copy(%s, hb[:])", r.out.at(fmt.Sprintf("(t*%d+b)*%d+%d", N, DH, r.dir*H)))
	}
	k.l("}") // b
}

// lstmCell writes the lstm gates of batch row b (peepholes included).
func (r *rnnDir) lstmCell() {
	k, H := r.k, r.d.H
	k.l("cb := (*[%d]float32)(c[b*%d:])", H, H)
	k.l("for j := range %d {", H)
	if r.peep != "" {
		k.l("cold := float64(cb[j])")
		k.l("i := rnnSigmoid(%s + float64(pw[j])*cold)", r.pre(0))
		k.l("f := rnnSigmoid(%s + float64(pw[%d+j])*cold)", r.pre(1), H)
		k.l("g := rnnTanh(%s)", r.pre(2))
		k.l("cj := f*cold + i*g")
		k.l("o := rnnSigmoid(%s + float64(pw[%d+j])*cj)", r.pre(3), 2*H)
	} else {
		k.l("i := rnnSigmoid(%s)", r.pre(0))
		k.l("f := rnnSigmoid(%s)", r.pre(1))
		k.l("g := rnnTanh(%s)", r.pre(2))
		k.l("o := rnnSigmoid(%s)", r.pre(3))
		k.l("cj := f*float64(cb[j]) + i*g")
	}
	k.l("cb[j] = float32(cj)")
	k.l("hb[j] = float32(o * rnnTanh(cj))")
	k.l("}")
}

// gruCell writes the gru gates of batch row b: the whole step with
// linear_before_reset, else r*h into rh (gruNewGate finishes).
func (r *rnnDir) gruCell() {
	k, H := r.k, r.d.H
	if r.lbr {
		k.l("for j := range %d {", H)
		k.l("r := rnnSigmoid(%s)", r.pre(0))
		k.l("z := rnnSigmoid(%s)", r.pre(1))
		bn := "0"
		if r.bhh != "" {
			bn = fmt.Sprintf("float64(%s[%d+j])", r.bhh, 2*H)
		}
		k.l("n := rnnTanh(float64(gb[%d+j]) + r*(float64(hh[%d+j])+%s))", 2*H, 2*H, bn)
		k.l("hb[j] = float32((1-z)*n + z*float64(hb[j]))")
		k.l("}")
		return
	}
	k.l("rb := (*[%d]float32)(rh[b*%d:])", H, H)
	k.l("for j := range %d {", H)
	k.l("rb[j] = float32(rnnSigmoid(%s) * float64(hb[j]))", r.pre(0))
	k.l("}")
}

// gruNewGate finishes a gru step without linear_before_reset:
// n = tanh(gx_n + W_hn·(r*h)), b_hn folded into gx_n, then h.
func (r *rnnDir) gruNewGate() {
	k, d := r.k, r.d
	N, H, GH, DH, hr := d.N, d.H, d.G*d.H, d.D*d.H, r.hr()
	k.l("hn := (*[%d]float32)(gh[%d:])", N*H, N*hr)
	emitGemmNT(k, N, 0, H, H, operand{base: "rh"}, operand{base: r.whh, off: 2 * H * H}, func(m, row, s string) string {
		return fmt.Sprintf("hn[%s*%d+%s] = float32(%s)", m, H, row, s)
	})
	k.l("for b := range %d {", N)
	k.l("hb := (*[%d]float32)(h[b*%d:])", H, H)
	k.l("gb := (*[%d]float32)(gt[b*%d:])", GH, GH)
	k.l("hh := (*[%d]float32)(gh[b*%d:])", hr, hr)
	k.l("nb := (*[%d]float32)(hn[b*%d:])", H, H)
	k.l("for j := range %d {", H)
	k.l("z := rnnSigmoid(%s)", r.pre(1))
	k.l("n := rnnTanh(float64(gb[%d+j]) + float64(nb[j]))", 2*H)
	k.l("hb[j] = float32((1-z)*n + z*float64(hb[j]))")
	k.l("}")
	k.l("copy(%s, hb[:])", r.out.at(fmt.Sprintf("(t*%d+b)*%d+%d", N, DH, r.dir*H)))
	k.l("}") // b
}

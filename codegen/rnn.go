package codegen

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// Recurrent layers rnn, lstm and gru with every attribute: stacked layers,
// bidirectional, batch_first, bias, rnn's relu, gru's
// linear_before_reset. The math follows runtime/rnn.go exactly, down to
// the rounding: each gate pre-activation is bias_ih + W_ih·x + bias_hh +
// W_hh·h accumulated in float64 in index order (the helper affine64), and
// the state is rounded to float32 once per step. The sequence is walked
// time-major; the running state lives in the h (and c) outputs, which end
// as the final states. Scratch holds a time-major copy of x when
// batch_first and the outputs of intermediate layers.

func init() {
	register("rnn", emitter{emit: emitRNN, scratch: rnnScratch})
	register("lstm", emitter{emit: emitRNN, scratch: rnnScratch})
	register("gru", emitter{emit: emitRNN, scratch: rnnScratch})
}

type rnnDims struct {
	T, N, F, H, L, D, G, ns int
	batchFirst, bias        bool
}

func rnnShape(n *ir.Node) rnnDims {
	x := n.Inputs[0].Type.Shape
	d := rnnDims{T: x[0], N: x[1], F: x[2], H: n.Attrs.Int("hidden_size"), L: n.Attrs.Int("num_layers"),
		D: ir.RNNDirs(n), G: ir.RNNGates(n.Op), ns: ir.RNNStates(n.Op),
		batchFirst: n.Attrs.Bool("batch_first"), bias: n.Attrs.Bool("bias")}
	if d.batchFirst {
		d.T, d.N = d.N, d.T
	}
	return d
}

// rnnLayout gives the scratch offsets: the time-major input copy (when
// batch_first) and the layer output buffers.
func (d rnnDims) layout() (xs, bufA, bufB, total int) {
	seq := d.T * d.N * d.D * d.H
	if d.batchFirst {
		total = d.T * d.N * d.F
	}
	bufA, bufB = total, total
	if d.L > 1 || d.batchFirst {
		total += seq
	}
	if d.L > 1 {
		bufB = total
		total += seq
	}
	return 0, bufA, bufB, total
}

func rnnScratch(n *ir.Node) int {
	_, _, _, t := rnnShape(n).layout()
	return t
}

func emitRNN(k *kctx) error {
	d := rnnShape(k.n)
	T, N, F, H, L, D := d.T, d.N, d.F, d.H, d.L, d.D
	DH := D * H
	_, bufA, bufB, _ := d.layout()
	op := k.n.Op
	seqIn := k.in[0]
	if d.batchFirst {
		// time-major copy of x: [N, T, F] → [T, N, F]
		k.l("for b := range %d {\nfor t := range %d {", N, T)
		k.l("copy(tmp[(t*%[1]d+b)*%[2]d:(t*%[1]d+b+1)*%[2]d], %[3]s[(b*%[4]d+t)*%[2]d:(b*%[4]d+t+1)*%[2]d])", N, F, seqIn, T)
		k.l("}\n}")
		seqIn = "tmp[0:]"
	}
	wk := 1 + d.ns
	inSize := F
	for l := range L {
		out := "y[0:]"
		if l < L-1 || d.batchFirst {
			out = fmt.Sprintf("tmp[%d:]", []int{bufA, bufB}[l%2])
		}
		for dir := range D {
			wih, whh := k.in[wk], k.in[wk+1]
			bih, bhh := "", ""
			if d.bias {
				bih, bhh = k.in[wk+2], k.in[wk+3]
				wk += 4
			} else {
				wk += 2
			}
			slot := (l*D + dir) * N * H
			k.l("{ // layer %d %s", l, []string{"forward", "reverse"}[dir])
			k.l("h := (*[%d]float32)(hOut[%d:])", N*H, slot)
			if k.in[1] != "" {
				k.l("copy(h[:], %s[%d:%d])", k.in[1], slot, slot+N*H)
			} else {
				k.l("*h = [%d]float32{}", N*H)
			}
			if op == "lstm" {
				k.l("c := (*[%d]float32)(cOut[%d:])", N*H, slot)
				if k.in[2] != "" {
					k.l("copy(c[:], %s[%d:%d])", k.in[2], slot, slot+N*H)
				} else {
					k.l("*c = [%d]float32{}", N*H)
				}
			}
			k.l("for step := range %d {", T)
			if dir == 0 {
				k.l("t := step")
			} else {
				k.l("t := %d - step", T-1)
			}
			k.l("for b := range %d {", N)
			k.l("xt := %s[(t*%d+b)*%d : (t*%d+b+1)*%[3]d]", seqIn, N, inSize, N)
			k.l("hb := h[b*%d : (b+1)*%[1]d]", H)
			k.l("var next [%d]float32", H)
			bias := func(b, r string) string {
				if b == "" {
					return "0"
				}
				return fmt.Sprintf("%s[%s]", b, r)
			}
			gi := func(r string) string {
				return fmt.Sprintf("affine64(%s[(%s)*%d:(%s+1)*%d], %s, xt)", wih, r, inSize, r, inSize, bias(bih, r))
			}
			gh := func(r string) string {
				return fmt.Sprintf("affine64(%s[(%s)*%d:(%s+1)*%d], %s, hb)", whh, r, H, r, H, bias(bhh, r))
			}
			row := func(gate int) string {
				if gate == 0 {
					return "j"
				}
				return fmt.Sprintf("%d+j", gate*H)
			}
			switch op {
			case "rnn":
				k.l("for j := range %d {", H)
				k.l("v := %s + %s", gi("j"), gh("j"))
				if k.n.Attrs.String("nonlinearity") == "relu" {
					k.l("next[j] = float32(max(v, 0))")
				} else {
					k.l("next[j] = float32(@math.Tanh(v))")
				}
				k.l("}")
			case "lstm":
				k.l("cb := c[b*%d : (b+1)*%[1]d]", H)
				k.l("for j := range %d {", H)
				k.l("i := sigmoid64(%s + %s)", gi(row(0)), gh(row(0)))
				k.l("f := sigmoid64(%s + %s)", gi(row(1)), gh(row(1)))
				k.l("g := @math.Tanh(%s + %s)", gi(row(2)), gh(row(2)))
				k.l("o := sigmoid64(%s + %s)", gi(row(3)), gh(row(3)))
				k.l("cj := f*float64(cb[j]) + i*g")
				k.l("cb[j] = float32(cj)")
				k.l("next[j] = float32(o * @math.Tanh(cj))")
				k.l("}")
			case "gru":
				k.l("var r, rh [%d]float64", H)
				k.l("for j := range %d {", H)
				k.l("r[j] = sigmoid64(%s + %s)", gi(row(0)), gh(row(0)))
				k.l("rh[j] = r[j] * float64(hb[j])")
				k.l("}")
				k.l("_ = rh")
				k.l("for j := range %d {", H)
				k.l("z := sigmoid64(%s + %s)", gi(row(1)), gh(row(1)))
				if k.n.Attrs.Bool("linear_before_reset") {
					k.l("hn := r[j] * %s", gh(row(2)))
				} else {
					r := row(2)
					k.l("hn := affine64d(%s[(%s)*%d:(%s+1)*%d], %s, rh[:])", whh, r, H, r, H, bias(bhh, r))
				}
				k.l("nj := @math.Tanh(%s + hn)", gi(row(2)))
				k.l("next[j] = float32((1-z)*nj + z*float64(hb[j]))")
				k.l("}")
			}
			k.l("copy(hb, next[:])")
			k.l("copy(%s[(t*%d+b)*%d+%d:], hb)", out, N, DH, dir*H)
			k.l("}") // b
			k.l("}") // step
			k.l("}") // layer block
		}
		seqIn, inSize = out, DH
	}
	if d.batchFirst {
		k.l("for b := range %d {\nfor t := range %d {", N, T)
		k.l("copy(y[(b*%[1]d+t)*%[2]d:(b*%[1]d+t+1)*%[2]d], %[3]s[(t*%[4]d+b)*%[2]d:(t*%[4]d+b+1)*%[2]d])", T, DH, seqIn, N)
		k.l("}\n}")
	}
	return nil
}

package onnx

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// Recurrent layers. ONNX and dlc (PyTorch) differ in four ways, each
// converted here:
//
//   - gate order: ONNX LSTM stacks i,o,f,c, PyTorch i,f,g,o; ONNX GRU
//     z,r,h, PyTorch r,z,n. Rows of W, R and both biases are gathered
//     into PyTorch's order.
//   - weight layout: ONNX W [dirs, G*H, I], R [dirs, G*H, H] and
//     B [dirs, 2*G*H] (Wb then Rb); dlc takes per direction w_ih, w_hh,
//     b_ih, b_hh.
//   - outputs: ONNX Y is [T, dirs, N, H] (layout 0) or [N, T, dirs, H]
//     (layout 1); dlc's y is [T, N, dirs*H] (or batch first), so y is
//     reshaped and, for layout 0, transposed. Y_h matches h for layout 0
//     and is transposed for layout 1.
//   - direction "reverse": dlc runs forward over the time-reversed input
//     and reverses y back.
//   - LSTM peepholes: ONNX P [dirs, 3*H] stacks i,o,f; dlc's lstm with
//     peepholes=true takes per direction p [3*H] in order i,f,o. An
//     all-zero P given as an initializer is dropped.
//
// All of it folds at import when the weights are initializers; weights
// given as graph inputs become gather nodes.

// Input slots of ONNX RNN, GRU and LSTM.
const (
	rnnX = iota
	rnnW
	rnnR
	rnnB
	rnnSeqLens
	rnnH0
	rnnC0
	rnnP
)

// gatePerm lists, for each PyTorch gate block, the ONNX block it comes from.
var gatePerm = map[string][]int{
	"lstm": {0, 2, 3, 1}, // i,o,f,c → i,f,g(c),o
	"gru":  {1, 0, 2},    // z,r,h → r,z,n(h)
	"rnn":  {0},
}

// peepPerm lists, for each of dlc's peephole blocks i,f,o, the block of
// ONNX's P (i,o,f) it comes from.
var peepPerm = []int{0, 2, 1}

var defaultActs = map[string][]string{
	"LSTM": {"sigmoid", "tanh", "tanh"},
	"GRU":  {"sigmoid", "tanh"},
	"RNN":  {"tanh"},
}

func checkRNN(c *nctx) error {
	if c.has("clip") {
		return unsup("clip is not supported")
	}
	if v, _ := c.int("input_forget", 0); v != 0 {
		return unsup("input_forget=1 is not supported")
	}
	dir, err := c.str("direction", "forward")
	if err != nil {
		return err
	}
	if dir != "forward" && dir != "reverse" && dir != "bidirectional" {
		return fmt.Errorf("direction %q is not forward, reverse or bidirectional", dir)
	}
	_, err = rnnNonlinearity(c)
	return err
}

// rnnNonlinearity checks the activations attribute against the ones dlc
// implements and returns the RNN nonlinearity ("tanh" or "relu").
func rnnNonlinearity(c *nctx) (string, error) {
	acts, err := c.strs("activations")
	if err != nil {
		return "", err
	}
	def := defaultActs[c.n.opType]
	if len(acts) == 0 {
		return "tanh", nil
	}
	if len(acts)%len(def) != 0 {
		return "", fmt.Errorf("activations %v: want %d per direction", acts, len(def))
	}
	nl := lower(acts[0])
	for i, a := range acts {
		want := def[i%len(def)]
		if c.n.opType == "RNN" {
			if lower(a) != nl || (nl != "tanh" && nl != "relu") {
				return "", unsup("activations %v: only Tanh or Relu, the same for every direction, are supported", acts)
			}
			continue
		}
		if lower(a) != want {
			return "", unsup("activations %v: only the defaults %v are supported", acts, def)
		}
	}
	return nl, nil
}

func rnn(op string) func(c *nctx) error {
	return func(c *nctx) error {
		x, w, r, b := c.in(rnnX), c.in(rnnW), c.in(rnnR), c.in(rnnB)
		layout, err := c.int("layout", 0)
		if err != nil {
			return err
		}
		dir, _ := c.str("direction", "forward")
		nl, err := rnnNonlinearity(c)
		if err != nil {
			return err
		}
		D := 1
		if dir == "bidirectional" {
			D = 2
		}
		G := ir.RNNGates(op)
		xs, ws := x.shape(), w.shape()
		if !ir.F32F64.Has(x.typ().DType) || len(xs) != 3 {
			return fmt.Errorf("X must be f32 or f64 of rank 3, got %v", x.typ())
		}
		if len(ws) != 3 || ws[0] != D || ws[1]%G != 0 {
			return fmt.Errorf("W %v must be [%d, %d*hidden, input]", ws, D, G)
		}
		H := ws[1] / G
		if hs, err := c.int("hidden_size", H); err != nil {
			return err
		} else if hs != H {
			return fmt.Errorf("hidden_size %d does not match W %v", hs, ws)
		}
		T := xs[0]
		tAxis := 0
		if layout != 0 {
			T, tAxis = xs[1], 1
		}
		if G*H > maxFold || T > maxFold {
			return fmt.Errorf("hidden size %d or sequence length %d is too large", H, T)
		}
		if c.in(rnnSeqLens) != nil {
			// Known at import (a graph input is fixed with
			// Options.Constants): dlc runs every sequence in full.
			sl, err := c.constIn(rnnSeqLens, "sequence_lens")
			if err != nil {
				return err
			}
			for k := range sl.Len() {
				if sl.Int(k) != int64(T) {
					return unsup("sequence_lens %v shorter than the sequence (%d) is not supported", sl.Data, T)
				}
			}
		}
		var p *val
		if op == "lstm" {
			if p = c.in(rnnP); p != nil {
				if ps := p.shape(); p.typ().DType != x.typ().DType || len(ps) != 2 || ps[0] != D || ps[1] != 3*H {
					return fmt.Errorf("P %v must be %v[%d, %d]", p.typ(), x.typ().DType, D, 3*H)
				}
				if p.c != nil && allZero(p.c) {
					p = nil
				}
			}
		}
		rev := func(v *val, axis int, suffix string) (*val, error) {
			idx := make([]int, T)
			for i := range idx {
				idx[i] = T - 1 - i
			}
			return c.gather(v, c.known(i64s(idx...), dtInt64, false), axis, suffix)
		}
		if dir == "reverse" {
			if x, err = rev(x, tAxis, "reverse_x"); err != nil {
				return err
			}
		}
		ins := []*val{x}
		states := []int{rnnH0}
		if op == "lstm" {
			states = append(states, rnnC0)
		}
		for _, s := range states {
			st := c.in(s)
			if st != nil && st.c != nil && allZero(st.c) {
				// PyTorch's default initial state, built at export
				// as Shape → Gather → Concat → Expand of zeros.
				st = nil
			}
			if st != nil && layout != 0 {
				if st, err = c.transpose(st, []int{1, 0, 2}, "state"); err != nil {
					return err
				}
			}
			ins = append(ins, st)
		}
		rowsOf := func(perm []int, off int) *val {
			idx := make([]int, len(perm)*H)
			for k, p := range perm {
				for j := 0; j < H; j++ {
					idx[k*H+j] = off + p*H + j
				}
			}
			return c.known(i64s(idx...), dtInt64, false)
		}
		base := c.n.name
		if base == "" {
			base = fmt.Sprintf("%s_%d", c.n.opType, c.idx)
		}
		// pick gathers direction d of t, then its gate blocks in dlc's
		// order (perm lists the ONNX block of each) from row off on.
		pick := func(t *val, d int, perm []int, off int, name string) (*val, error) {
			one := c.known(&ir.Tensor{DType: ir.I64, Shape: ir.Shape{}, Data: []int64{int64(d)}}, dtInt64, false)
			v, err := c.gather(t, one, 0, name+"_dir")
			if err != nil {
				return nil, err
			}
			if v, err = c.gather(v, rowsOf(perm, off), 0, name); err != nil {
				return nil, err
			}
			if v.c != nil {
				v = &val{name: base + "_" + name, c: v.c, elem: v.elem, weight: v.weight, key: v.key}
			}
			return v, nil
		}
		if b != nil {
			if bs := b.shape(); len(bs) != 2 || bs[0] != D || bs[1] != 2*G*H {
				return fmt.Errorf("B %v must be [%d, %d]", bs, D, 2*G*H)
			}
		}
		for d := 0; d < D; d++ {
			suf := "_l0"
			if d == 1 {
				suf += "_reverse"
			}
			perm := gatePerm[op]
			wi, err := pick(w, d, perm, 0, "weight_ih"+suf)
			if err != nil {
				return err
			}
			wh, err := pick(r, d, perm, 0, "weight_hh"+suf)
			if err != nil {
				return err
			}
			ins = append(ins, wi, wh)
			if b != nil {
				bi, err := pick(b, d, perm, 0, "bias_ih"+suf)
				if err != nil {
					return err
				}
				bh, err := pick(b, d, perm, G*H, "bias_hh"+suf)
				if err != nil {
					return err
				}
				ins = append(ins, bi, bh)
			}
			if p != nil {
				pp, err := pick(p, d, peepPerm, 0, "weight_peephole"+suf)
				if err != nil {
					return err
				}
				ins = append(ins, pp)
			}
		}
		attrs := ir.Attrs{"hidden_size": H, "num_layers": 1, "bidirectional": D == 2,
			"batch_first": layout != 0, "bias": b != nil}
		switch op {
		case "rnn":
			attrs["nonlinearity"] = nl
		case "gru":
			lbr, err := c.int("linear_before_reset", 0)
			if err != nil {
				return err
			}
			attrs["linear_before_reset"] = lbr != 0
		case "lstm":
			if p != nil {
				attrs["peepholes"] = true
			}
		}
		outs, err := c.emit(op, "", ins, attrs)
		if err != nil {
			return err
		}
		y := outs[0]
		if c.hasOut(0) {
			if dir == "reverse" {
				if y, err = rev(y, tAxis, "reverse_y"); err != nil {
					return err
				}
			}
			ys := y.shape()
			if y, err = c.reshape(y, ir.Shape{ys[0], ys[1], D, H}, "y"); err != nil {
				return err
			}
			if layout == 0 {
				if y, err = c.transpose(y, []int{0, 2, 1, 3}, "y_t"); err != nil {
					return err
				}
			}
			c.set(0, y)
		}
		for i := 1; i < len(outs); i++ {
			s := outs[i]
			if layout != 0 && c.hasOut(i) {
				if s, err = c.transpose(s, []int{1, 0, 2}, "state_t"); err != nil {
					return err
				}
			}
			c.set(i, s)
		}
		return nil
	}
}

// allZero reports whether known contents are all zero.
func allZero(t *ir.Tensor) bool {
	for i := range t.Len() {
		if t.Float(i) != 0 {
			return false
		}
	}
	return true
}

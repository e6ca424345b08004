package runtime

import (
	"fmt"
	"math"

	"github.com/dlcompiler/dlc/ir"
)

// Reference kernels for the recurrent layers rnn, lstm and gru, with the
// meaning of torch.nn.RNN, torch.nn.LSTM and torch.nn.GRU. The input
// order and weight layout are those of ir/ops_rnn.go: x, h0, [c0,] then
// per layer and direction (forward, then reverse) w_ih [G*H, in],
// w_hh [G*H, H], with bias, b_ih [G*H] and b_hh [G*H] and, for an lstm
// with peepholes, p [3*H] (gates i, f, o).
//
// One step for batch item b, with gi = W_ih x + b_ih and gh = W_hh h + b_hh
// split into gate blocks of H rows:
//
//	rnn:  h' = act(gi + gh)                    act is tanh or relu
//	lstm: i, f, o = σ(gi_k + gh_k); g = tanh(gi_g + gh_g)
//	      c' = f*c + i*g;  h' = o * tanh(c')
//	      with peepholes: i and f add p_i*c and p_f*c, o adds p_o*c'
//	gru:  r, z = σ(gi_k + gh_k)
//	      n = tanh(gi_n + r*(W_hn h + b_hn))   linear_before_reset (PyTorch)
//	      n = tanh(gi_n + W_hn (r*h) + b_hn)   otherwise (ONNX's default)
//	      h' = (1-z)*n + z*h
//
// Each gate pre-activation is accumulated in float64 and the new state is
// rounded to the dtype (f32 or f64, one generic kernel) once per step.

func init() {
	register("rnn", rnnKernel)
	register("lstm", rnnKernel)
	register("gru", rnnKernel)
}

// rnnConfig holds a recurrent node's attributes, defaults filled in.
type rnnConfig struct {
	op         string
	hidden     int  // H
	layers     int  // L
	dirs       int  // 1, or 2 when bidirectional
	batchFirst bool // x and y are [N, T, F]
	bias       bool // b_ih and b_hh are present
	peep       bool // lstm only: peephole weights p follow the biases
	relu       bool // rnn only: relu instead of tanh
	lbr        bool // gru only: linear_before_reset
	gates      int  // G: 1, 4 or 3
	states     int  // 1, or 2 for lstm (h and c)
}

// rnnAttr returns the node's attribute, or the op table's default when
// the node was built without CheckAttrs filling it in.
func rnnAttr(n *ir.Node, name string) any {
	if v, ok := n.Attrs[name]; ok {
		return v
	}
	if d := n.Def(); d != nil {
		if a := d.AttrDef(name); a != nil {
			return a.Default
		}
	}
	return nil
}

func newRNNConfig(n *ir.Node) (*rnnConfig, error) {
	c := &rnnConfig{op: n.Op, gates: ir.RNNGates(n.Op), states: ir.RNNStates(n.Op)}
	var bad []string
	num := func(name string) int {
		v, ok := rnnAttr(n, name).(int)
		if !ok {
			bad = append(bad, name)
		}
		return v
	}
	flag := func(name string) bool {
		v, ok := rnnAttr(n, name).(bool)
		if !ok {
			bad = append(bad, name)
		}
		return v
	}
	c.hidden, c.layers = num("hidden_size"), num("num_layers")
	bidi := flag("bidirectional")
	c.batchFirst, c.bias = flag("batch_first"), flag("bias")
	switch n.Op {
	case "rnn":
		switch act, _ := rnnAttr(n, "nonlinearity").(string); act {
		case "tanh":
		case "relu":
			c.relu = true
		default:
			return nil, fmt.Errorf("nonlinearity must be tanh or relu, got %q", act)
		}
	case "gru":
		c.lbr = flag("linear_before_reset")
	case "lstm":
		c.peep = flag("peepholes")
	default:
		return nil, fmt.Errorf("op %q is not a recurrent layer", n.Op)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("attributes %v are missing or of the wrong kind", bad)
	}
	if c.hidden < 1 || c.layers < 1 {
		return nil, fmt.Errorf("hidden_size and num_layers must be positive, got %d and %d", c.hidden, c.layers)
	}
	// Bounds that keep the input count and the weights' element counts
	// (4H·H at most) far from overflow.
	if c.hidden > rnnMaxHidden || c.layers > rnnMaxHidden {
		return nil, fmt.Errorf("hidden_size %d or num_layers %d is too large (limit %d)", c.hidden, c.layers, rnnMaxHidden)
	}
	c.dirs = 1
	if bidi {
		c.dirs = 2
	}
	return c, nil
}

// Limits that turn absurd attributes or shapes into errors rather than
// overflows or out-of-memory crashes.
const (
	rnnMaxHidden = 1 << 20 // hidden_size and num_layers
	rnnMaxElems  = 1 << 28 // elements of an output (1 GiB of f32)
)

// rnnFits reports whether the product of dims (all >= 0) is at most
// rnnMaxElems.
func rnnFits(dims ...int) bool {
	p := 1
	for _, d := range dims {
		if d == 0 {
			return true
		}
		if p > rnnMaxElems/d {
			return false
		}
		p *= d
	}
	return true
}

// weightsPer is the number of weight tensors per layer and direction.
func (c *rnnConfig) weightsPer() int {
	k := 2
	if c.bias {
		k = 4
	}
	if c.peep {
		k++
	}
	return k
}

// rnnCheck returns an error unless t is a tensor of dtype dt and the given
// shape whose data matches it.
func rnnCheck(t *ir.Tensor, what string, dt ir.DType, want ir.Shape) error {
	if t == nil {
		return fmt.Errorf("%s is missing", what)
	}
	if err := t.Check(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if t.DType != dt || !t.Shape.Equal(want) {
		return fmt.Errorf("%s must be %v%v, got %v", what, dt, want, t.Type())
	}
	return nil
}

// rnnKernel runs a (possibly stacked, possibly bidirectional) rnn, lstm or
// gru over the whole sequence and returns y, h_n and, for lstm, c_n.
func rnnKernel(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	if len(in) > 0 && in[0] != nil && in[0].DType == ir.F64 {
		return rnnOf[float64](n, in)
	}
	return rnnOf[float32](n, in)
}

func rnnOf[E floatKind](n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	c, err := newRNNConfig(n)
	if err != nil {
		return nil, err
	}
	H, L, D := c.hidden, c.layers, c.dirs
	if want := 1 + c.states + L*D*c.weightsPer(); len(in) != want {
		peep := ""
		if c.peep {
			peep = " and peepholes"
		}
		return nil, fmt.Errorf("%s with %d layers, %d directions%s and bias=%v takes %d inputs, got %d",
			c.op, L, D, peep, c.bias, want, len(in))
	}
	x := in[0]
	if x == nil {
		return nil, fmt.Errorf("input x is missing")
	}
	if err := x.Check(); err != nil {
		return nil, fmt.Errorf("x: %w", err)
	}
	if len(x.Shape) != 3 {
		return nil, fmt.Errorf("x must be of rank 3, got %v", x.Type())
	}
	dt := x.DType
	T, N, F := x.Shape[0], x.Shape[1], x.Shape[2]
	if c.batchFirst {
		T, N = N, T
	}
	// The weights' shapes bound H by their data; the outputs' sizes are
	// bounded here, as an empty x (F = 0) may claim any T and N.
	ws, err := rnnWeightsOf[E](c, in[1+c.states:], dt, F)
	if err != nil {
		return nil, err
	}
	if !rnnFits(T, N, D, H) || !rnnFits(L, D, N, H) {
		return nil, fmt.Errorf("outputs for T=%d, N=%d, %d layers, %d directions and hidden_size %d are too large", T, N, L, D, H)
	}
	stateShape := ir.Shape{L * D, N, H}
	stateNames := [...]string{"h0", "c0"}
	for s := 0; s < c.states; s++ {
		if t := in[1+s]; t != nil {
			if err := rnnCheck(t, stateNames[s], dt, stateShape); err != nil {
				return nil, err
			}
		}
	}

	// seq is the current layer's input, time-major [T][N][inSize].
	inSize := F
	seq := make([]E, T*N*F)
	xs := ir.Elems[E](x)
	for t := 0; t < T; t++ {
		for b := 0; b < N; b++ {
			src := (t*N + b) * F
			if c.batchFirst {
				src = (b*T + t) * F
			}
			copy(seq[(t*N+b)*F:(t*N+b+1)*F], xs[src:src+F])
		}
	}

	hn := ir.NewTensor(dt, stateShape)
	var cn *ir.Tensor
	if c.states == 2 {
		cn = ir.NewTensor(dt, stateShape)
	}
	for l := 0; l < L; l++ {
		out := make([]E, T*N*D*H)
		for d := 0; d < D; d++ {
			w := &ws[l*D+d]
			// State slot l*D+d of h0/c0 and of h_n/c_n: layer-major, then
			// direction, as PyTorch orders them.
			slot := (l*D + d) * N * H
			h := make([]E, N*H)
			if h0 := in[1]; h0 != nil {
				copy(h, ir.Elems[E](h0)[slot:slot+N*H])
			}
			var cell []E
			if c.states == 2 {
				cell = make([]E, N*H)
				if c0 := in[2]; c0 != nil {
					copy(cell, ir.Elems[E](c0)[slot:slot+N*H])
				}
			}
			for step := 0; step < T; step++ {
				t := step
				if d == 1 {
					t = T - 1 - step
				}
				for b := 0; b < N; b++ {
					xt := seq[(t*N+b)*inSize : (t*N+b+1)*inSize]
					hb := h[b*H : (b+1)*H]
					var cb []E
					if cell != nil {
						cb = cell[b*H : (b+1)*H]
					}
					rnnStep(c, w, xt, hb, cb)
					o := (t*N+b)*D*H + d*H
					copy(out[o:o+H], hb)
				}
			}
			copy(ir.Elems[E](hn)[slot:slot+N*H], h)
			if cn != nil {
				copy(ir.Elems[E](cn)[slot:slot+N*H], cell)
			}
		}
		seq, inSize = out, D*H
	}

	y := ir.NewTensor(dt, ir.Shape{T, N, D * H})
	if c.batchFirst {
		y = ir.NewTensor(dt, ir.Shape{N, T, D * H})
	}
	ys := ir.Elems[E](y)
	for t := 0; t < T; t++ {
		for b := 0; b < N; b++ {
			dstOff := (t*N + b) * D * H
			if c.batchFirst {
				dstOff = (b*T + t) * D * H
			}
			copy(ys[dstOff:dstOff+D*H], seq[(t*N+b)*D*H:(t*N+b+1)*D*H])
		}
	}
	if cn != nil {
		return []*ir.Tensor{y, hn, cn}, nil
	}
	return []*ir.Tensor{y, hn}, nil
}

// rnnWeights are one layer and direction's weights; bih and bhh are nil
// without bias, p without peepholes.
type rnnWeights[T floatKind] struct {
	ih, hh, bih, bhh, p []T
}

// rnnWeightsOf checks the weight inputs (everything after x and the
// states) against dtype dt and their shapes and returns them indexed by
// layer*dirs+direction. F is the number of input features of the first
// layer.
func rnnWeightsOf[T floatKind](c *rnnConfig, in []*ir.Tensor, dt ir.DType, F int) ([]rnnWeights[T], error) {
	H, G := c.hidden, c.gates
	ws := make([]rnnWeights[T], c.layers*c.dirs)
	k := 0
	for l := 0; l < c.layers; l++ {
		inSize := F
		if l > 0 {
			inSize = c.dirs * H
		}
		for d := 0; d < c.dirs; d++ {
			w := &ws[l*c.dirs+d]
			shapes := []ir.Shape{{G * H, inSize}, {G * H, H}}
			dst := []*[]T{&w.ih, &w.hh}
			names := []string{"w_ih", "w_hh"}
			if c.bias {
				shapes = append(shapes, ir.Shape{G * H}, ir.Shape{G * H})
				dst = append(dst, &w.bih, &w.bhh)
				names = append(names, "b_ih", "b_hh")
			}
			if c.peep {
				shapes = append(shapes, ir.Shape{3 * H})
				dst = append(dst, &w.p)
				names = append(names, "p")
			}
			for j := range shapes {
				what := fmt.Sprintf("layer %d %s %s", l, [...]string{"forward", "reverse"}[d], names[j])
				if err := rnnCheck(in[k], what, dt, shapes[j]); err != nil {
					return nil, err
				}
				*dst[j] = ir.Elems[T](in[k])
				k++
			}
		}
	}
	return ws, nil
}

// rnnAffine returns bias[r] + Σ_j w[r, j]·v[j] for row r of w, in float64.
// bias may be nil.
func rnnAffine[T, V floatKind](w, bias []T, r int, v []V) float64 {
	var s float64
	if bias != nil {
		s = float64(bias[r])
	}
	row := w[r*len(v) : (r+1)*len(v)]
	for j, vj := range v {
		s += float64(row[j]) * float64(vj)
	}
	return s
}

func rnnSigmoid(v float64) float64 { return 1 / (1 + math.Exp(-v)) }

// rnnStep advances one batch item by one time step: it reads x and h (and
// cell for lstm) and overwrites h (and cell) with the new state.
func rnnStep[T floatKind](c *rnnConfig, w *rnnWeights[T], x, h, cell []T) {
	H := c.hidden
	gi := func(r int) float64 { return rnnAffine(w.ih, w.bih, r, x) }
	gh := func(r int) float64 { return rnnAffine(w.hh, w.bhh, r, h) }
	next := make([]T, H)
	switch c.op {
	case "rnn":
		for j := 0; j < H; j++ {
			v := gi(j) + gh(j)
			if c.relu {
				v = math.Max(v, 0)
			} else {
				v = math.Tanh(v)
			}
			next[j] = T(v)
		}
	case "lstm":
		for j := 0; j < H; j++ {
			// Peepholes: p_i*c and p_f*c on the old cell state, p_o*c'
			// on the new one.
			var pi, pf, po float64
			if w.p != nil {
				pi, pf, po = float64(w.p[j]), float64(w.p[H+j]), float64(w.p[2*H+j])
			}
			cold := float64(cell[j])
			i := rnnSigmoid(gi(j) + gh(j) + pi*cold)
			f := rnnSigmoid(gi(H+j) + gh(H+j) + pf*cold)
			g := math.Tanh(gi(2*H+j) + gh(2*H+j))
			cj := f*cold + i*g
			o := rnnSigmoid(gi(3*H+j) + gh(3*H+j) + po*cj)
			cell[j] = T(cj) // cell[j] is read only by this j
			next[j] = T(o * math.Tanh(cj))
		}
	case "gru":
		// rh is r*h, needed whole before any n when the reset gate is
		// applied before the hidden matmul.
		r := make([]float64, H)
		rh := make([]float64, H)
		for j := 0; j < H; j++ {
			r[j] = rnnSigmoid(gi(j) + gh(j))
			rh[j] = r[j] * float64(h[j])
		}
		for j := 0; j < H; j++ {
			z := rnnSigmoid(gi(H+j) + gh(H+j))
			var hn float64
			if c.lbr {
				hn = r[j] * gh(2*H+j)
			} else {
				hn = rnnAffine(w.hh, w.bhh, 2*H+j, rh)
			}
			nj := math.Tanh(gi(2*H+j) + hn)
			next[j] = T((1-z)*nj + z*float64(h[j]))
		}
	}
	copy(h, next)
}

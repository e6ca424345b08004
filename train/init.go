package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/dlcompiler/dlc/ir"
)

// InitTorch gives every Param of g the values torch.nn's layers start
// with, drawn from a generator seeded with seed:
//
//	dense, conv weight     kaiming_uniform(a=√5): U(±1/√fan_in)
//	dense, conv bias       U(±1/√fan_in), fan_in of the layer's weight
//	batchnorm scale, bias  1, 0 (running mean 0, variance 1)
//	embedding              N(0, 1)
//	rnn, lstm, gru         U(±1/√hidden_size)
//
// A param no layer of those reads keeps its data, or gets its declared
// initializer. Params are visited in declaration order, so the same seed
// gives the same weights.
func InitTorch(g *ir.Graph, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, 0x746f726368))
	use := map[*ir.Value]func(t []float32){}
	uniform := func(b float64) func(t []float32) {
		return func(t []float32) {
			for i := range t {
				t[i] = float32((2*r.Float64() - 1) * b)
			}
		}
	}
	fill := func(v float32) func(t []float32) {
		return func(t []float32) {
			for i := range t {
				t[i] = v
			}
		}
	}
	for _, n := range g.Nodes {
		switch n.Op {
		case "dense", "conv":
			w := n.Inputs[1]
			b := 1 / math.Sqrt(float64(w.Type.Shape[1:].NumElems()))
			use[w] = uniform(b)
			if len(n.Inputs) > 2 && n.Inputs[2] != nil {
				use[n.Inputs[2]] = uniform(b)
			}
		case "batchnorm":
			use[n.Inputs[1]], use[n.Inputs[2]] = fill(1), fill(0)
			use[n.Inputs[3]], use[n.Inputs[4]] = fill(0), fill(1)
		case "embedding":
			use[n.Inputs[1]] = func(t []float32) {
				for i := range t {
					t[i] = float32(r.NormFloat64())
				}
			}
		case "rnn", "lstm", "gru":
			b := 1 / math.Sqrt(float64(n.Attrs.Int("hidden_size")))
			for _, w := range n.Inputs[1:] {
				if w != nil && (w.Kind == ir.Param) {
					use[w] = uniform(b)
				}
			}
		}
	}
	for _, p := range g.Params {
		f := use[p]
		if f == nil {
			continue
		}
		if p.Type.DType != ir.F32 {
			return fmt.Errorf("param %s: torch initializers make f32 data, the param is %v", p.Name, p.Type)
		}
		p.Data = ir.NewTensor(ir.F32, p.Type.Shape)
		f(p.Data.F32())
	}
	return nil
}

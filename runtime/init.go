package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/dlcompiler/dlc/ir"
)

// InitParams gives every Param without data the values of its
// initializer, drawn from a generator seeded with seed (so the same seed
// gives the same weights):
//
//	he      normal with std sqrt(2/fan_in)              (ReLU networks)
//	xavier  uniform in ±sqrt(6/(fan_in+fan_out))        (tanh/sigmoid, recurrent)
//	normal  standard normal                             (embeddings)
//	zeros, ones
//
// fan_in is the product of all dimensions but the first, fan_out the first
// times the kernel's spatial size, as in torch.nn.init.
func InitParams(g *ir.Graph, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, 0x646c63))
	for _, p := range g.Params {
		if p.Data != nil {
			continue
		}
		t := ir.NewTensor(p.Type.DType, p.Type.Shape)
		if p.Type.DType != ir.F32 {
			return fmt.Errorf("param %s: initializers make f32 data, the param is %v", p.Name, p.Type)
		}
		s := p.Type.Shape
		fanIn, fanOut := 1, 1
		if len(s) > 0 {
			fanOut = s[0]
			fanIn = s[1:].NumElems()
			if len(s) > 2 {
				fanOut *= s[2:].NumElems()
			}
		}
		switch p.Init {
		case "he":
			std := math.Sqrt(2 / float64(fanIn))
			for i := range t.F32() {
				t.F32()[i] = float32(r.NormFloat64() * std)
			}
		case "xavier":
			a := math.Sqrt(6 / float64(fanIn+fanOut))
			for i := range t.F32() {
				t.F32()[i] = float32((2*r.Float64() - 1) * a)
			}
		case "normal":
			for i := range t.F32() {
				t.F32()[i] = float32(r.NormFloat64())
			}
		case "zeros":
		case "ones":
			for i := range t.F32() {
				t.F32()[i] = 1
			}
		default:
			return fmt.Errorf("param %s: unknown initializer %q (have he, xavier, normal, zeros, ones)", p.Name, p.Init)
		}
		p.Data = t
	}
	return nil
}

package runtime

import "github.com/dlcompiler/dlc/ir"

// rotary_embedding (ir/ops_rotary.go): each rotated value computed in
// float64 and rounded once (generated code does the same).

func init() { register("rotary_embedding", rotaryKernel) }

func rotaryKernel(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	r, err := ir.RotaryDims(n)
	if err != nil {
		return nil, err
	}
	x, cs, sn := in[0].F32(), in[1].F32(), in[2].F32()
	y := in[0].Clone()
	ys := y.F32()
	half, inter := r.R/2, n.Attrs.Bool("interleaved")
	for b := range r.B {
		for s := range r.S {
			row := (b*r.S + s) * half
			for h := range r.H {
				o := r.Head(b, s, h)
				for i := range half {
					i1, i2 := o+i, o+i+half
					if inter {
						i1, i2 = o+2*i, o+2*i+1
					}
					c, sv := float64(cs[row+i]), float64(sn[row+i])
					x1, x2 := float64(x[i1]), float64(x[i2])
					ys[i1], ys[i2] = float32(c*x1-sv*x2), float32(sv*x1+c*x2)
				}
			}
		}
	}
	return one(y)
}

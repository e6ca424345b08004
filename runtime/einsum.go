package runtime

import "github.com/dlcompiler/dlc/ir"

// einsum (ir/ops_einsum.go): every combination of the loops, the product
// of the operands' elements summed into the output's, in float64 for
// floats and int64 (wrapped to the width) for integers, rounded once.

func init() { register("einsum", einsumKernel) }

func einsumKernel(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	shapes := make([]ir.Shape, len(in))
	for i, t := range in {
		shapes[i] = t.Shape
	}
	e, err := ir.ParseEinsum(n.Attrs.String("equation"), shapes)
	if err != nil {
		return nil, err
	}
	y := ir.NewTensor(in[0].DType, e.OutShape())
	st := make([][]int, len(in))
	for i := range in {
		st[i] = e.Strides(i)
	}
	ost := e.Strides(-1)
	isInt := in[0].DType.IsInt()
	accF := make([]float64, y.Len())
	accI := make([]int64, y.Len())
	idx := make([]int, len(e.Sizes))
	off := make([]int, len(in))
	for _, s := range e.Sizes {
		if s == 0 {
			return one(y) // nothing to sum: zeros
		}
	}
	for {
		o := 0
		for l, v := range idx {
			o += v * ost[l]
		}
		for i := range in {
			off[i] = 0
			for l, v := range idx {
				off[i] += v * st[i][l]
			}
		}
		if isInt {
			p := int64(1)
			for i, t := range in {
				p *= t.Int(off[i])
			}
			accI[o] += p
		} else {
			p := 1.0
			for i, t := range in {
				p *= t.Float(off[i])
			}
			accF[o] += p
		}
		l := len(idx) - 1
		for ; l >= 0; l-- {
			if idx[l]++; idx[l] < e.Sizes[l] {
				break
			}
			idx[l] = 0
		}
		if l < 0 {
			break
		}
	}
	for i := range y.Len() {
		if isInt {
			y.SetInt(i, accI[i])
		} else {
			y.SetFloat(i, accF[i])
		}
	}
	return one(y)
}

package runtime

import (
	"github.com/dlcompiler/dlc/ir"
)

// reduceKernel makes the kernel of a reduction from its declarative form:
// every output element starts at Init, combines its input elements in
// row-major order in float64, and is finalized with the count of reduced
// elements, then rounded once to float32.
func reduceKernel(r *ir.Reduction) Kernel {
	return func(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
		x := in[0]
		axes, err := ir.ReduceAxes(n, len(x.Shape))
		if err != nil {
			return nil, err
		}
		out, ostride, count := reduceLayout(x.Shape, axes, n.Attrs.Bool("keepdims"))
		acc := make([]float64, out.NumElems())
		for i := range acc {
			acc[i] = r.Init
		}
		idx := make([]int, len(x.Shape)) // the input index, row-major
		o := 0                           // its output element
		for i := range x.Len() {
			acc[o] = r.Combine(acc[o], x.Float(i))
			for a := len(idx) - 1; a >= 0; a-- {
				idx[a]++
				o += ostride[a]
				if idx[a] < x.Shape[a] {
					break
				}
				o -= ostride[a] * idx[a]
				idx[a] = 0
			}
		}
		y := ir.NewTensor(x.DType, out)
		for i, v := range acc {
			if r.Finalize != nil {
				v = r.Finalize(v, count)
			}
			y.SetFloat(i, v)
		}
		return one(y)
	}
}

// reduceLayout returns the output shape of reducing axes of shape, the
// output stride of each input axis (0 along reduced axes), and the number
// of elements reduced into each output element.
func reduceLayout(shape ir.Shape, axes []int, keep bool) (ir.Shape, []int, int) {
	red := make([]bool, len(shape))
	for _, a := range axes {
		red[a] = true
	}
	out := ir.Shape{}
	count := 1
	for i, d := range shape {
		switch {
		case !red[i]:
			out = append(out, d)
		case keep:
			out = append(out, 1)
			count *= d
		default:
			count *= d
		}
	}
	ostride := make([]int, len(shape))
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		if !red[i] {
			ostride[i] = s
			s *= shape[i]
		}
	}
	return out, ostride, count
}

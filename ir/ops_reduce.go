package ir

import (
	"fmt"
	"math"
	"sort"
)

// Reductions over the axes attribute, declared by init / combine /
// finalize (Reduction): one interpreter kernel and one emitter serve
// them all, so a new reduction is one row here.

// Reduction is the declarative form of a reduction of float values (f32,
// f64, f16, bf16). The interpreter accumulates in float64 over the
// reduced elements in row-major order and rounds the result once to the
// dtype; generated code does the same, so both agree exactly.
type Reduction struct {
	// Init is the accumulator's starting value.
	Init float64
	// Combine folds the element x into the accumulator.
	Combine func(acc, x float64) float64
	// Finalize maps the accumulator and the number of reduced elements
	// to the result; nil is the identity.
	Finalize func(acc float64, count int) float64
	// GoCombine is Combine as a Go float64 expression of acc and x.
	GoCombine func(acc, x string) string
	// GoFinalize is Finalize as a Go float64 expression of acc, for a
	// constant count; nil is the identity.
	GoFinalize func(acc string, count int) string
}

// ReduceAxes returns a reduction node's axes, normalized and sorted; an
// empty axes attribute reduces every axis.
func ReduceAxes(n *Node, rank int) ([]int, error) {
	axes := n.Attrs.Ints("axes")
	if len(axes) == 0 {
		all := make([]int, rank)
		for i := range all {
			all[i] = i
		}
		return all, nil
	}
	seen := map[int]bool{}
	var out []int
	for _, a := range axes {
		ax, err := normAxis(a, rank)
		if err != nil {
			return nil, err
		}
		if seen[ax] {
			return nil, shapeErr("axis %d is reduced twice", a)
		}
		seen[ax] = true
		out = append(out, ax)
	}
	sort.Ints(out)
	return out, nil
}

func reduction(name, doc string, r *Reduction) *OpDef {
	return &OpDef{
		Name: name, Doc: doc, Class: Reduce, Grad: &Grad{},
		Pure: Pure, Stream: StreamReduce, Reduction: r,
		Inputs:  []InputDef{{Name: "x", DTypes: Floats}},
		Outputs: []string{"y"},
		Attrs: []AttrDef{
			{Name: "axes", Kind: AttrInts, Default: []int{}, Doc: "axes to reduce (negative counts from the end); empty: all"},
			{Name: "keepdims", Kind: AttrBool, Default: false, Doc: "keep each reduced axis with size 1"},
		},
		Infer: func(n *Node) ([]TensorType, error) {
			x := in(n, 0).Shape
			axes, err := ReduceAxes(n, len(x))
			if err != nil {
				return nil, err
			}
			red := map[int]bool{}
			for _, a := range axes {
				red[a] = true
			}
			out := Shape{}
			for i, d := range x {
				switch {
				case !red[i]:
					out = append(out, d)
				case n.Attrs.Bool("keepdims"):
					out = append(out, 1)
				}
			}
			return []TensorType{{in(n, 0).DType, out}}, nil
		},
	}
}

func init() {
	Register(reduction("reduce_sum", "sum over axes (torch.sum, ONNX ReduceSum)", &Reduction{
		Init:      0,
		Combine:   func(acc, x float64) float64 { return acc + x },
		GoCombine: func(acc, x string) string { return acc + " + " + x },
	}))
	Register(reduction("reduce_mean", "mean over axes (torch.mean, ONNX ReduceMean)", &Reduction{
		Init:       0,
		Combine:    func(acc, x float64) float64 { return acc + x },
		Finalize:   func(acc float64, count int) float64 { return acc / float64(count) },
		GoCombine:  func(acc, x string) string { return acc + " + " + x },
		GoFinalize: func(acc string, count int) string { return fmt.Sprintf("%s / %d", acc, count) },
	}))
	rmax := reduction("reduce_max", "maximum over axes; NaN if any element is NaN (torch.amax, ONNX ReduceMax)", &Reduction{
		Init: math.Inf(-1),
		// Go's max, not math.Max, which gives +Inf for max(+Inf, NaN).
		Combine:   NaNMax,
		GoCombine: func(acc, x string) string { return fmt.Sprintf("max(%s, %s)", acc, x) },
	})
	Register(rmax)
}

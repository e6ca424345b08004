package runtime

import (
	"github.com/dlcompiler/dlc/ir"
)

// Tensor plumbing: expand, pad and trilu move elements of every dtype
// alike, through take.

func init() {
	register("expand", expand)
	register("pad", pad)
	register("trilu", trilu)
}

// expand broadcasts x to the broadcast of its shape and the shape
// attribute.
func expand(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	out, err := ir.BroadcastShapes(x.Shape, n.Attrs.Ints("shape"))
	if err != nil {
		return nil, err
	}
	return one(take(x, out, broadcastIndex(out, x.Shape)))
}

// padTables gives, per axis of a pad node, the input index each output
// index copies, or -1 for the constant (ir.PadIndex).
func padTables(n *ir.Node, in ir.Shape) ([][]int, ir.Shape) {
	p := n.Attrs.Ints("pads")
	r := len(in)
	out := make(ir.Shape, r)
	tabs := make([][]int, r)
	for a := range r {
		out[a] = in[a] + p[a] + p[r+a]
		tabs[a] = make([]int, out[a])
		for o := range tabs[a] {
			tabs[a][o] = ir.PadIndex(n.Attrs.String("mode"), o, p[a], in[a])
		}
	}
	return tabs, out
}

// pad copies, for every output element, the input element its per-axis
// indices name, or the constant value (converted to the dtype) where any
// axis has none.
func pad(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	tabs, out := padTables(n, x.Shape)
	xs := x.Shape.Strides()
	src := make([]int, out.NumElems())
	fill := []int{}
	idx := make([]int, len(out))
	for e := range src {
		rem, off := e, 0
		for a := len(out) - 1; a >= 0; a-- {
			idx[a] = rem % out[a]
			rem /= out[a]
		}
		for a := range out {
			i := tabs[a][idx[a]]
			if i < 0 {
				off = -1
				break
			}
			off += i * xs[a]
		}
		if off < 0 {
			fill = append(fill, e)
			off = 0
		}
		src[e] = off
	}
	return one(takeFill(x, out, src, fill, n.Attrs.Float("value")))
}

// takeFill is take, then the value v (converted to the dtype) at the
// positions fill, whose src entries are ignored.
func takeFill(x *ir.Tensor, shape ir.Shape, src, fill []int, v float64) *ir.Tensor {
	var y *ir.Tensor
	if x.Len() == 0 {
		y = ir.NewTensor(x.DType, shape)
	} else {
		y = take(x, shape, src)
	}
	for _, e := range fill {
		y.SetFloat(e, v)
	}
	return y
}

// trilu keeps element (i, j) of each matrix of the last two axes when
// j-i <= k (lower) or j-i >= k (upper), and zeroes the others.
func trilu(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	r := len(x.Shape)
	h, w := x.Shape[r-2], x.Shape[r-1]
	k, upper := n.Attrs.Int("k"), n.Attrs.Bool("upper")
	src := make([]int, x.Len())
	var zero []int
	for e := range src {
		i, j := e/w%h, e%w
		src[e] = e
		keep := j-i <= k
		if upper {
			keep = j-i >= k
		}
		if !keep {
			zero = append(zero, e)
		}
	}
	return one(takeFill(x, x.Shape, src, zero, 0))
}

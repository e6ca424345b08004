package runtime

import (
	"fmt"

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

func init() {
	register("gather_elements", gatherElements)
	register("scatter_elements", scatterElements)
	register("gather_nd", gatherND)
	register("scatter_nd", scatterND)
	register("one_hot", oneHot)
}

// wrapIndex maps index v (negative counts from the end) into [0, size),
// or returns an error naming position q of indices.
func wrapIndex(v int64, size, q int, what string) (int, error) {
	if v < -int64(size) || v >= int64(size) {
		return 0, fmt.Errorf("index %d at position %d of %s is out of range for size %d (want %d..%d)", v, q, what, size, -size, size-1)
	}
	if v < 0 {
		v += int64(size)
	}
	return int(v), nil
}

// elementsTargets gives, for every element of indices, the flat offset
// into data it names along axis (gather_elements, scatter_elements).
func elementsTargets(n *ir.Node, data ir.Shape, idx *ir.Tensor) ([]int, error) {
	a, err := ir.NormAxis(n.Attrs.Int("axis"), len(data))
	if err != nil {
		return nil, err
	}
	ds := data.Strides()
	st := append([]int(nil), ds...)
	st[a] = 0
	base := strideWalk(idx.Shape, st)
	for q := range base {
		i, err := wrapIndex(idx.Int(q), data[a], q, "indices")
		if err != nil {
			return nil, err
		}
		base[q] += i * ds[a]
	}
	return base, nil
}

func gatherElements(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	src, err := elementsTargets(n, in[0].Shape, in[1])
	if err != nil {
		return nil, err
	}
	return one(take(in[0], in[1].Shape.Clone(), src))
}

func scatterElements(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	dst, err := elementsTargets(n, in[0].Shape, in[1])
	if err != nil {
		return nil, err
	}
	y := in[0].Clone()
	scatter(y, in[2], dst, n.Attrs.String("reduction"))
	return one(y)
}

// ndTargets gives the flat offset into data of the slice each index
// tuple names (gather_nd, scatter_nd), and the slice's size.
func ndTargets(data ir.Shape, idx *ir.Tensor, b int) ([]int, int, error) {
	q := len(idx.Shape)
	last := idx.Shape[q-1]
	block := prod(data[b+last:])
	ds := data.Strides()
	batch := prod(data[:b])
	tuples := idx.Len() / last
	per := tuples / max(batch, 1)
	offs := make([]int, tuples)
	for t := range offs {
		off := t / max(per, 1) * prod(data[b:])
		for j := range last {
			i, err := wrapIndex(idx.Int(t*last+j), data[b+j], t*last+j, "indices")
			if err != nil {
				return nil, 0, err
			}
			off += i * ds[b+j]
		}
		offs[t] = off
	}
	return offs, block, nil
}

func gatherND(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	data, idx := in[0], in[1]
	b := n.Attrs.Int("batch_dims")
	offs, block, err := ndTargets(data.Shape, idx, b)
	if err != nil {
		return nil, err
	}
	src := make([]int, 0, len(offs)*block)
	for _, o := range offs {
		for j := range block {
			src = append(src, o+j)
		}
	}
	last := idx.Shape[len(idx.Shape)-1]
	out := append(idx.Shape[:len(idx.Shape)-1].Clone(), data.Shape[b+last:]...)
	return one(take(data, out, src))
}

func scatterND(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	offs, block, err := ndTargets(in[0].Shape, in[1], 0)
	if err != nil {
		return nil, err
	}
	dst := make([]int, 0, len(offs)*block)
	for _, o := range offs {
		for j := range block {
			dst = append(dst, o+j)
		}
	}
	y := in[0].Clone()
	scatter(y, in[2], dst, n.Attrs.String("reduction"))
	return one(y)
}

// scatter applies update element i to y's element dst[i] in order: set,
// or combine by reduction (max and min propagate NaN). f16 and bf16 are
// only set (their reductions are refused by the op table).
func scatter(y, upd *ir.Tensor, dst []int, red string) {
	switch o := y.Data.(type) {
	case []float32:
		scatterT(o, upd.Data.([]float32), dst, red)
	case []float64:
		scatterT(o, upd.Data.([]float64), dst, red)
	case []int8:
		scatterT(o, upd.Data.([]int8), dst, red)
	case []int16:
		scatterT(o, upd.Data.([]int16), dst, red)
	case []int32:
		scatterT(o, upd.Data.([]int32), dst, red)
	case []int64:
		scatterT(o, upd.Data.([]int64), dst, red)
	case []uint8:
		scatterT(o, upd.Data.([]uint8), dst, red)
	case []uint16:
		scatterT(o, upd.Data.([]uint16), dst, red)
	case []uint32:
		scatterT(o, upd.Data.([]uint32), dst, red)
	case []uint64:
		scatterT(o, upd.Data.([]uint64), dst, red)
	case []bool:
		u := upd.Data.([]bool)
		for i, d := range dst {
			o[d] = u[i]
		}
	}
}

type number interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64
}

func scatterT[T number](o, u []T, dst []int, red string) {
	for i, d := range dst {
		switch red {
		case "add":
			o[d] += u[i]
		case "mul":
			o[d] *= u[i]
		case "max":
			o[d] = max(o[d], u[i])
		case "min":
			o[d] = min(o[d], u[i])
		default:
			o[d] = u[i]
		}
	}
}

// oneHot writes values[1] where the new axis equals the index (counted
// from the end when negative; floats truncate toward zero) and values[0]
// elsewhere; an index outside [-depth, depth) leaves its row off.
func oneHot(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	idx, vals := in[0], in[1]
	depth := n.Attrs.Int("depth")
	r := len(idx.Shape)
	a, err := ir.NormAxis(n.Attrs.Int("axis"), r+1)
	if err != nil {
		return nil, err
	}
	outer, inner := prod(idx.Shape[:a]), prod(idx.Shape[a:])
	out := append(idx.Shape[:a].Clone(), depth)
	out = append(out, idx.Shape[a:]...)
	src := make([]int, out.NumElems()) // 0: off, 1: on
	for o := range outer {
		for j := range inner {
			v := idx.Int(o*inner + j)
			if idx.DType.IsFloat() {
				// NaN and indices past ±depth are off; the others
				// truncate toward zero (ONNX casts them to integers).
				f := idx.Float(o*inner + j)
				if !(f > -float64(depth+1) && f < float64(depth)) {
					continue
				}
				v = int64(f)
			}
			if v < 0 {
				v += int64(depth)
			}
			if v >= 0 && v < int64(depth) {
				src[(o*depth+int(v))*inner+j] = 1
			}
		}
	}
	return one(take(vals, out, src))
}

package runtime

import (
	"fmt"
	"reflect"

	"github.com/dlcompiler/dlc/ir"
)

// Helpers shared by the kernels: allocation, index arithmetic and
// dtype-generic copies (every dtype of ir's table).

// newF32 allocates a zero f32 tensor.
func newF32(shape ir.Shape) *ir.Tensor { return ir.NewTensor(ir.F32, shape) }

// one wraps a single output tensor in a kernel result.
func one(t *ir.Tensor) ([]*ir.Tensor, error) { return []*ir.Tensor{t}, nil }

// optional returns input i, or nil when the node has fewer inputs (an
// absent optional input may be nil or left off the end).
func optional(in []*ir.Tensor, i int) *ir.Tensor {
	if i < len(in) {
		return in[i]
	}
	return nil
}

// prod is the product of dims (1 when empty).
func prod(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

// broadcastIndex returns, for every element of out (in C order), the flat
// index of the element of a tensor of shape in that numpy broadcasting
// maps to it. in is aligned with out at the right; its dimensions are
// either equal to out's or 1.
func broadcastIndex(out, in ir.Shape) []int {
	r := len(out)
	// st[i] is in's stride along output axis i, or 0 where in broadcasts.
	st := make([]int, r)
	inStrides := in.Strides()
	for i := 0; i < r; i++ {
		j := i - (r - len(in))
		if j >= 0 && in[j] != 1 {
			st[i] = inStrides[j]
		}
	}
	return strideWalk(out, st)
}

// strideWalk returns, for every position of shape in C order, the sum of
// its coordinates times st: the flat source index when st holds the
// source's stride along each axis (0 to repeat along a broadcast axis).
func strideWalk(shape ir.Shape, st []int) []int {
	idx := make([]int, shape.NumElems())
	pos := make([]int, len(shape))
	off := 0
	for k := range idx {
		idx[k] = off
		// Advance the multi-index like an odometer, keeping off in step.
		for i := len(shape) - 1; i >= 0; i-- {
			pos[i]++
			off += st[i]
			if pos[i] < shape[i] {
				break
			}
			off -= st[i] * pos[i]
			pos[i] = 0
		}
	}
	return idx
}

// take returns a tensor of the given shape whose element i is
// t's element src[i]. Every index in src must be valid.
func take(t *ir.Tensor, shape ir.Shape, src []int) *ir.Tensor {
	out := ir.NewTensor(t.DType, shape)
	switch s := t.Data.(type) {
	case []float32:
		takeInto(ir.Elems[float32](out), s, src)
	case []float64:
		takeInto(ir.Elems[float64](out), s, src)
	case []int8:
		takeInto(ir.Elems[int8](out), s, src)
	case []int16:
		takeInto(ir.Elems[int16](out), s, src)
	case []int32:
		takeInto(ir.Elems[int32](out), s, src)
	case []int64:
		takeInto(ir.Elems[int64](out), s, src)
	case []uint8:
		takeInto(ir.Elems[uint8](out), s, src)
	case []uint16:
		takeInto(ir.Elems[uint16](out), s, src)
	case []uint32:
		takeInto(ir.Elems[uint32](out), s, src)
	case []uint64:
		takeInto(ir.Elems[uint64](out), s, src)
	case []bool:
		takeInto(ir.Elems[bool](out), s, src)
	}
	return out
}

// copyElems copies n elements from src at so to dst at do; both tensors
// have the same dtype.
func copyElems(dst *ir.Tensor, do int, src *ir.Tensor, so, n int) {
	reflect.Copy(reflect.ValueOf(dst.Data).Slice(do, do+n), reflect.ValueOf(src.Data).Slice(so, so+n))
}

func takeInto[T ir.Storage](dst, src []T, idx []int) {
	for i, j := range idx {
		dst[i] = src[j]
	}
}

// withShape returns a copy of t's data under a new shape with the same
// number of elements.
func withShape(t *ir.Tensor, shape ir.Shape) (*ir.Tensor, error) {
	if shape.NumElems() != t.Len() {
		return nil, fmt.Errorf("cannot view %v (%d elements) as %v", t.Type(), t.Len(), shape)
	}
	c := t.Clone()
	c.Shape = shape.Clone()
	return c, nil
}

// window describes a sliding window (convolution or pooling) over up to
// three spatial axes. Kernels with fewer spatial axes are padded at the
// front with axes of size 1, kernel 1, stride 1, no padding and dilation
// 1, so one set of three nested loops serves 1-D, 2-D and 3-D.
type window struct {
	in, out, k, stride, padBegin, padEnd, dil [3]int
}

// newWindow builds a window from the spatial input and output sizes and
// the node's kernel sizes, strides, pads (all begins, then all ends) and
// dilations, each with one entry per spatial axis.
func newWindow(in, out, kernel, strides, pads, dilations []int) window {
	r := len(kernel)
	w := window{}
	for i := 0; i < 3; i++ {
		w.in[i], w.out[i], w.k[i], w.stride[i], w.dil[i] = 1, 1, 1, 1, 1
	}
	off := 3 - r
	for i := 0; i < r; i++ {
		w.in[off+i] = in[i]
		w.out[off+i] = out[i]
		w.k[off+i] = kernel[i]
		w.stride[off+i] = strides[i]
		w.padBegin[off+i] = pads[i]
		w.padEnd[off+i] = pads[r+i]
		w.dil[off+i] = dilations[i]
	}
	return w
}

// inSize is the number of spatial input elements.
func (w *window) inSize() int { return w.in[0] * w.in[1] * w.in[2] }

// outSize is the number of spatial output elements.
func (w *window) outSize() int { return w.out[0] * w.out[1] * w.out[2] }

// kSize is the number of taps in the window.
func (w *window) kSize() int { return w.k[0] * w.k[1] * w.k[2] }

// pos is the input coordinate along axis a of tap j of the window at
// output coordinate o; it is outside [0, in[a]) when the tap falls in the
// padding.
func (w *window) pos(a, o, j int) int { return o*w.stride[a] - w.padBegin[a] + j*w.dil[a] }

package ir

import "math"

// Signal ops: dft (torch.fft.fft/ifft/rfft/irfft, ONNX DFT and, with
// framing and a window, STFT).

func init() {
	Register(&OpDef{
		Name: "dft", Doc: "discrete Fourier transform of length n along axis of x [..., 1 (real) or 2 (re, im)]: forward, onesided (bins 0..n/2), inverse (divided by n), or inverse onesided (a real signal from bins 0..n/2 of a Hermitian spectrum, as irfft); y [..., bins, 2], or [..., n, 1] for inverse onesided (torch.fft, ONNX DFT)",
		Class: Opaque, NoGrad: noGradYet, Pure: Pure, Stream: StreamWhole,
		Inputs:  []InputDef{{Name: "x", DTypes: OnlyF32}},
		Outputs: []string{"y"},
		Attrs: []AttrDef{
			{Name: "axis", Kind: AttrInt, Default: 1, Doc: "the signal axis (not the last, which holds re, im)"},
			{Name: "length", Kind: AttrInt, Default: 0, Doc: "the transform's length n: the input is cut or zero-padded to it (0: the axis's size, or 2·(size-1) for inverse onesided)"},
			{Name: "inverse", Kind: AttrBool, Default: false, Doc: "the inverse transform, divided by n"},
			{Name: "onesided", Kind: AttrBool, Default: false, Doc: "forward: only bins 0..n/2; inverse: the input is those bins of a real signal's spectrum"},
		},
		Infer: func(n *Node) ([]TensorType, error) {
			x := in(n, 0).Shape
			r := len(x)
			axis := n.Attrs.Int("axis")
			if r < 2 || (x[r-1] != 1 && x[r-1] != 2) {
				return nil, shapeErr("dft: x %s %v must end in an axis of 1 (real) or 2 (re, im)", n.Inputs[0].Name, x)
			}
			if axis < 0 || axis >= r-1 {
				return nil, shapeErr("dft: axis %d must be one of x %v's signal axes [0, %d)", axis, x, r-1)
			}
			N, bins := DFTSizes(n, x[axis])
			if N < 1 || x[axis] < 1 {
				return nil, shapeErr("dft: transform length %d (axis %d of x %v) must be positive", N, axis, x)
			}
			y := x.Clone()
			y[axis], y[r-1] = bins, 2
			if n.Attrs.Bool("inverse") && n.Attrs.Bool("onesided") {
				y[r-1] = 1
			}
			return []TensorType{{F32, y}}, nil
		},
	})
}

// DFTSizes returns dft's transform length n and its output's size along
// the axis, for an input of m along it.
func DFTSizes(nd *Node, m int) (n, bins int) {
	n = nd.Attrs.Int("length")
	inv, one := nd.Attrs.Bool("inverse"), nd.Attrs.Bool("onesided")
	if n == 0 {
		n = m
		if inv && one {
			n = 2 * (m - 1)
		}
	}
	switch {
	case one && !inv:
		return n, n/2 + 1
	default:
		return n, n
	}
}

// DFTTwiddles returns cos and sin of 2πj/n for j in [0, n), in float64:
// the dft's k·t products index them modulo n, so every angle is exact to
// the table's rounding.
func DFTTwiddles(n int) (cos, sin []float64) {
	cos, sin = make([]float64, n), make([]float64, n)
	for j := range n {
		a := 2 * math.Pi * float64(j) / float64(n)
		cos[j], sin[j] = math.Cos(a), math.Sin(a)
	}
	return cos, sin
}

func init() {
	Register(&OpDef{
		Name: "det", Doc: "the determinant of each square matrix x [..., n, n], by LU decomposition with partial pivoting in float64 (torch.linalg.det, ONNX Det); y [...]",
		Class: Opaque, NoGrad: noGradYet, Pure: Pure, Stream: StreamWhole,
		Inputs:  []InputDef{{Name: "x", DTypes: OnlyF32}},
		Outputs: []string{"y"},
		Infer: func(n *Node) ([]TensorType, error) {
			x := in(n, 0).Shape
			r := len(x)
			if r < 2 || x[r-1] != x[r-2] || x[r-1] < 1 {
				return nil, shapeErr("det: x %s %v must be [..., n, n]", n.Inputs[0].Name, x)
			}
			return []TensorType{{F32, x[:r-2].Clone()}}, nil
		},
	})
}

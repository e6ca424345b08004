package runtime

import (
	"math"

	"github.com/dlcompiler/dlc/ir"
)

// Signal ops (ir/ops_signal.go).

func init() { register("dft", dft) }

// dft is the direct O(n²) transform: every output bin one float64 sum
// over the input samples in order, each product with the twiddle
// cos/sin(2π·(k·t mod n)/n) of ir.DFTTwiddles, rounded once to float32
// (inverse: the sum divided by n first). The float64 sum's error,
// about n·2⁻⁵³ of the summed magnitudes, is far below float32's rounding
// for any n the tests or models use. Inverse onesided extends bins
// 0..n/2 to the Hermitian spectrum X[n-k] = conj(X[k]) and keeps the
// real part, as numpy's irfft (the imaginary parts of bins 0 and n/2 do
// not contribute).
func dft(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	xs := x.F32()
	r := len(x.Shape)
	axis := n.Attrs.Int("axis")
	m, cin := x.Shape[axis], x.Shape[r-1]
	outer, inner := x.Shape[:axis].NumElems(), x.Shape[axis+1:r-1].NumElems()
	N, bins := ir.DFTSizes(n, m)
	inv, half := n.Attrs.Bool("inverse"), n.Attrs.Bool("onesided")
	cos, sin := ir.DFTTwiddles(N)
	sign := -1.0
	if inv {
		sign = 1
	}
	y := newF32(n.Outputs[0].Type.Shape)
	ys := y.F32()
	cout := y.Shape[r-1]
	at := func(o, k, i int) (float64, float64) {
		e := ((o*m+k)*inner + i) * cin
		if cin == 1 {
			return float64(xs[e]), 0
		}
		return float64(xs[e]), float64(xs[e+1])
	}
	for o := range outer {
		for i := range inner {
			for t := range bins {
				var sr, si float64
				if inv && half {
					for k := range N {
						idx, conj := k, 1.0
						if k > N/2 {
							idx, conj = N-k, -1
						}
						if idx >= m {
							continue
						}
						xr, xi := at(o, idx, i)
						j := k * t % N
						sr += xr*cos[j] - conj*xi*sin[j]
					}
				} else {
					for k := range min(m, N) {
						xr, xi := at(o, k, i)
						j := k * t % N
						c, s := cos[j], sign*sin[j]
						sr += xr*c - xi*s
						si += xr*s + xi*c
					}
				}
				if inv {
					sr, si = sr/float64(N), si/float64(N)
				}
				e := ((o*bins+t)*inner + i) * cout
				ys[e] = float32(sr)
				if cout == 2 {
					ys[e+1] = float32(si)
				}
			}
		}
	}
	return one(y)
}

func init() { register("det", det) }

// det reduces each matrix to upper triangular form in float64 (Gaussian
// elimination with partial pivoting: the largest magnitude in the column,
// the first on ties), the determinant the product of the pivots with the
// sign of the row swaps, rounded once. A zero column gives 0.
func det(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	xs := x.F32()
	r := len(x.Shape)
	N := x.Shape[r-1]
	y := newF32(n.Outputs[0].Type.Shape)
	ys := y.F32()
	a := make([]float64, N*N)
	for m := range ys {
		for i := range a {
			a[i] = float64(xs[m*N*N+i])
		}
		d := 1.0
		for c := range N {
			p := c
			for i := c + 1; i < N; i++ {
				if math.Abs(a[i*N+c]) > math.Abs(a[p*N+c]) {
					p = i
				}
			}
			if a[p*N+c] == 0 {
				d = 0
				break
			}
			if p != c {
				for j := range N {
					a[c*N+j], a[p*N+j] = a[p*N+j], a[c*N+j]
				}
				d = -d
			}
			d *= a[c*N+c]
			for i := c + 1; i < N; i++ {
				f := a[i*N+c] / a[c*N+c]
				for j := c; j < N; j++ {
					a[i*N+j] -= f * a[c*N+j]
				}
			}
		}
		ys[m] = float32(d)
	}
	return one(y)
}

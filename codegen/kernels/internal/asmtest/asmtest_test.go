package asmtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The kernels against a float64 reference written from their contracts
// (kernels.Gemm, kernels.Dot): the pure-Go twin always, the assembly when
// the CPU has it, on random shapes with row and k tails (r < MR, k not a
// multiple of the unrolling, k = 1), strided rows, NaN and ±Inf inputs,
// and every epilogue flag. Tolerance: 1e-5 relative to Σ|a·b| plus 1e-6,
// since the assembly fuses each multiply-add and the dot kernel sums in
// another order; NaN and infinities must match exactly.

// special is how often an input is NaN or ±Inf in the special cases.
const special = 0.02

func randVals(r *rand.Rand, n int, specials bool) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = r.Float32()*2 - 1
		if specials && r.Float64() < special {
			v[i] = []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}[r.IntN(3)]
		}
	}
	return v
}

// check compares got with the reference value want whose terms have
// absolute sum mag.
func check(got float32, want, mag float64) bool {
	switch {
	case math.IsNaN(want):
		return math.IsNaN(float64(got))
	case math.IsInf(want, 0):
		return float64(got) == want
	}
	return math.Abs(float64(got)-want) <= 1e-5*mag+1e-6
}

// gemmRef is the contract of a Gemm kernel in float64: the product, then
// per group of 2^p columns the maximum (NaN if any is NaN), bias, relu.
// It returns the reference, the magnitudes, and which columns are
// defined (the groups' first).
func gemmRef(r, k int, a []float32, lda int, b []float32, nr int, bias []float32, flags int) (want, mag []float64, def []bool) {
	g := 1 << (flags >> 2)
	want, mag, def = make([]float64, r*nr), make([]float64, r*nr), make([]bool, r*nr)
	for i := range r {
		acc := make([]float64, nr)
		for j := range nr {
			for kk := range k {
				p := float64(a[i*lda+kk]) * float64(b[kk*nr+j])
				acc[j] += p
				mag[i*nr+j] += math.Abs(p)
			}
		}
		for j0 := 0; j0 < nr; j0 += g {
			v, m := acc[j0], mag[i*nr+j0]
			for j := j0 + 1; j < j0+g; j++ {
				if acc[j] > v || math.IsNaN(acc[j]) && !math.IsNaN(v) {
					v = acc[j]
				}
				m = max(m, mag[i*nr+j])
			}
			if flags&1 != 0 {
				v += float64(bias[i])
				m += math.Abs(float64(bias[i]))
			}
			if flags&2 != 0 && v < 0 {
				v = 0
			}
			want[i*nr+j0], mag[i*nr+j0], def[i*nr+j0] = v, m, true
		}
	}
	return want, mag, def
}

var ks = []int{1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 64, 131}

func TestGemm(t *testing.T) {
	if !haveSIMD {
		t.Log("no AVX2/FMA (or -tags purego): testing the pure-Go twins only")
	}
	rng := rand.New(rand.NewPCG(8, 5))
	for _, kn := range gemms {
		lg := 0
		for 1<<lg < kn.nr {
			lg++
		}
		n := 0
		for r := 1; r <= kn.mr; r++ {
			for _, k := range ks {
				for flags := 0; flags < (lg+1)<<2; flags++ {
					specials := (r+k+flags)%3 == 0
					name := fmt.Sprintf("%s r=%d k=%d flags=%d specials=%v", kn.name, r, k, flags, specials)
					testGemm(t, rng, kn, name, r, k, flags, specials)
					n++
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: no cases", kn.name)
		}
	}
}

func testGemm(t *testing.T, rng *rand.Rand, kn gemmKernel, name string, r, k, flags int, specials bool) {
	t.Helper()
	lda := k + rng.IntN(4)
	a := randVals(rng, (r-1)*lda+k, specials)
	b := randVals(rng, k*kn.nr, specials)
	bias := randVals(rng, r, false)
	want, mag, def := gemmRef(r, k, a, lda, b, kn.nr, bias, flags)
	sentinel := float32(12345)
	run := func(what string, f func(c []float32)) {
		c := make([]float32, kn.mr*kn.nr)
		for i := range c {
			c[i] = sentinel
		}
		f(c)
		for i, v := range c {
			switch {
			case i >= r*kn.nr:
				if v != sentinel {
					t.Fatalf("%s: %s wrote c[%d] = %v past row %d", name, what, i, v, r)
				}
			case def[i] && !check(v, want[i], mag[i]):
				t.Fatalf("%s: %s: c[%d] (row %d, column %d) = %v, want %v", name, what, i, i/kn.nr, i%kn.nr, v, want[i])
			}
		}
	}
	run("twin", func(c []float32) { kn.twin(r, k, a, lda, b, c, bias, flags) })
	run("wrapper", func(c []float32) { kn.call(r, a, lda, b, c, bias, flags) })
	if haveSIMD {
		run("assembly", func(c []float32) {
			var bp *float32
			if flags&1 != 0 {
				bp = &bias[0]
			}
			kn.asm(r, k, &a[0], lda, &b[0], &c[0], bp, flags)
		})
	}
}

func TestDot(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	for _, kn := range dots {
		for r := 1; r <= kn.mr; r++ {
			for _, k := range append(ks, 15, 23, 24, 33, 200) {
				for _, specials := range []bool{false, true} {
					name := fmt.Sprintf("%s r=%d k=%d specials=%v", kn.name, r, k, specials)
					testDot(t, rng, kn, name, r, k, specials)
				}
			}
		}
	}
}

func testDot(t *testing.T, rng *rand.Rand, kn dotKernel, name string, r, k int, specials bool) {
	t.Helper()
	ldw := k + rng.IntN(5)
	x := randVals(rng, k, specials)
	w := randVals(rng, (r-1)*ldw+k, specials)
	want, mag := make([]float64, r), make([]float64, r)
	for i := range r {
		for kk := range k {
			p := float64(x[kk]) * float64(w[i*ldw+kk])
			want[i] += p
			mag[i] += math.Abs(p)
		}
	}
	sentinel := float32(-777)
	run := func(what string, f func(out []float32)) {
		out := make([]float32, kn.mr)
		for i := range out {
			out[i] = sentinel
		}
		f(out)
		for i, v := range out {
			if i >= r {
				if v != sentinel {
					t.Fatalf("%s: %s wrote out[%d] past row %d", name, what, i, r)
				}
			} else if !check(v, want[i], mag[i]) {
				t.Fatalf("%s: %s: out[%d] = %v, want %v", name, what, i, v, want[i])
			}
		}
	}
	run("twin", func(out []float32) { kn.twin(r, x, w, ldw, out) })
	run("wrapper", func(out []float32) { kn.call(r, x, w, ldw, out) })
	if haveSIMD {
		run("assembly", func(out []float32) { kn.asm(r, k, &x[0], &w[0], ldw, &out[0]) })
	}
}

// TestBadShapes checks that the wrappers refuse shapes outside their
// contract before any memory is touched.
func TestBadShapes(t *testing.T) {
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		f()
	}
	for _, kn := range gemms {
		c := make([]float32, kn.mr*kn.nr)
		b := make([]float32, kn.nr)
		a := make([]float32, 64)
		mustPanic(kn.name+" r=0", func() { kn.call(0, a, 1, b, c, nil, 0) })
		mustPanic(kn.name+" r>MR", func() { kn.call(kn.mr+1, a, 1, b, c, nil, 0) })
		mustPanic(kn.name+" k=0", func() { kn.call(1, a, 1, nil, c, nil, 0) })
		mustPanic(kn.name+" short a", func() { kn.call(kn.mr, a[:1], 4, b, c, nil, 0) })
		mustPanic(kn.name+" no bias", func() { kn.call(1, a, 1, b, c, nil, 1) })
	}
	for _, kn := range dots {
		out := make([]float32, kn.mr)
		mustPanic(kn.name+" r>MR", func() { kn.call(kn.mr+1, make([]float32, 4), make([]float32, 64), 4, out) })
		mustPanic(kn.name+" short w", func() { kn.call(2, make([]float32, 4), make([]float32, 5), 4, out) })
	}
}

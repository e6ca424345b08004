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

// gemmCase is one call of a Gemm kernel: r rows, n columns, k terms,
// strides, flags, and the inputs.
type gemmCase struct {
	r, n, k, lda, ldb, ldc, flags int
	a, b, c0, bias                []float32
}

// gemmRef is the contract of a Gemm kernel in float64: c's own value
// (flags&8) plus the product, then per group of 2^p columns the maximum
// (NaN if any is NaN), bias, relu. It returns the reference, the
// magnitudes, and which columns are defined (the groups' first), indexed
// i*ldc+j.
func gemmRef(tc gemmCase, nr int) (want, mag []float64, def []bool) {
	g := 1 << (tc.flags >> 4)
	size := len(tc.c0)
	want, mag, def = make([]float64, size), make([]float64, size), make([]bool, size)
	for i := range tc.r {
		acc, am := make([]float64, nr), make([]float64, nr)
		for j := range nr {
			if tc.flags&8 != 0 && j < tc.n {
				acc[j] = float64(tc.c0[i*tc.ldc+j])
				am[j] = math.Abs(acc[j])
			}
			for kk := range tc.k {
				p := float64(tc.a[i*tc.lda+kk]) * float64(tc.b[kk*tc.ldb+j])
				acc[j] += p
				am[j] += math.Abs(p)
			}
		}
		for j0 := 0; j0 < tc.n; j0 += g {
			v, m := acc[j0], am[j0]
			for j := j0 + 1; j < j0+g; j++ {
				if acc[j] > v || math.IsNaN(acc[j]) && !math.IsNaN(v) {
					v = acc[j]
				}
				m = max(m, am[j])
			}
			if tc.flags&1 != 0 {
				v += float64(tc.bias[i])
				m += math.Abs(float64(tc.bias[i]))
			}
			if tc.flags&4 != 0 {
				v += float64(tc.bias[j0])
				m += math.Abs(float64(tc.bias[j0]))
			}
			if tc.flags&2 != 0 && v < 0 {
				v = 0
			}
			o := i*tc.ldc + j0
			want[o], mag[o], def[o] = v, m, true
		}
	}
	return want, mag, def
}

var ks = []int{1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 64, 131}

func TestGemm(t *testing.T) {
	t.Logf("cpuLevel %d (0: pure Go only, %d: AVX2, %d: AVX-512)", cpuLevel, isaAVX2, isaAVX512)
	rng := rand.New(rand.NewPCG(8, 5))
	for _, kn := range gemms {
		lg := 0
		for 1<<lg < kn.nr {
			lg++
		}
		n := 0
		for r := 1; r <= kn.mr; r++ {
			for _, k := range ks {
				for p := 0; p <= lg; p++ {
					// Low flags: any of relu, accumulate, and one bias.
					flags := []int{0, 1, 2, 3, 4, 6, 8, 9, 10, 11, 12, 14}[rng.IntN(12)] | p<<4
					cols := kn.nr
					if p == 0 && rng.IntN(2) == 0 {
						cols = 1 + rng.IntN(kn.nr)
					}
					specials := (r+k+flags)%3 == 0
					tc := newGemmCase(rng, kn.nr, r, cols, k, flags, specials)
					name := fmt.Sprintf("%s r=%d n=%d k=%d lda=%d ldb=%d ldc=%d flags=%d specials=%v", kn.name, r, cols, k, tc.lda, tc.ldb, tc.ldc, flags, specials)
					testGemm(t, kn, name, tc)
					n++
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: no cases", kn.name)
		}
	}
}

// newGemmCase makes random operands; b has nr readable columns.
func newGemmCase(rng *rand.Rand, nr, r, n, k, flags int, specials bool) gemmCase {
	tc := gemmCase{r: r, n: n, k: k, flags: flags}
	tc.lda = k + rng.IntN(4)
	tc.ldb = nr + rng.IntN(3)
	tc.ldc = n + rng.IntN(3)
	tc.a = randVals(rng, (r-1)*tc.lda+k, specials)
	tc.b = randVals(rng, (k-1)*tc.ldb+nr, specials)
	tc.bias = randVals(rng, max(r, n), false)
	tc.c0 = randVals(rng, r*tc.ldc+5, false)
	return tc
}

// sentinel marks the elements of c a kernel must not write.
const sentinel = float32(12345)

func testGemm(t *testing.T, kn gemmKernel, name string, tc gemmCase) {
	t.Helper()
	want, mag, def := gemmRef(tc, kn.nr)
	run := func(what string, f func(c []float32)) {
		c := make([]float32, len(tc.c0))
		for i := range c {
			c[i] = sentinel
			if i/tc.ldc < tc.r && i%tc.ldc < tc.n {
				c[i] = tc.c0[i]
			}
		}
		f(c)
		for i, v := range c {
			switch {
			case i/tc.ldc >= tc.r || i%tc.ldc >= tc.n:
				if v != sentinel {
					t.Fatalf("%s: %s wrote c[%d] = %v outside the block", name, what, i, v)
				}
			case def[i] && !check(v, want[i], mag[i]):
				t.Fatalf("%s: %s: c[%d] (row %d, column %d) = %v, want %v", name, what, i, i/tc.ldc, i%tc.ldc, v, want[i])
			}
		}
	}
	args := func(f gemmFunc) func(c []float32) {
		return func(c []float32) { f(tc.r, tc.n, tc.k, tc.a, tc.lda, tc.b, tc.ldb, c, tc.ldc, tc.bias, tc.flags) }
	}
	run("twin", args(kn.twin))
	run("wrapper", args(kn.call))
	for _, as := range kn.asm {
		// A full-width routine runs alone on whole blocks of its rows.
		if cpuLevel < as.level || as.full && (tc.n < kn.nr || tc.r > as.rows) {
			continue
		}
		run(as.isa, func(c []float32) {
			var bp *float32
			if tc.flags&5 != 0 {
				bp = &tc.bias[0]
			}
			as.f(tc.r, tc.n, tc.k, &tc.a[0], tc.lda, &tc.b[0], tc.ldb, &c[0], tc.ldc, bp, tc.flags, nil, nil, 0)
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
	if cpuLevel >= isaAVX2 {
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
		b := make([]float32, 2*kn.nr)
		a := make([]float32, 64)
		nr := kn.nr
		mustPanic(kn.name+" r=0", func() { kn.call(0, nr, 1, a, 1, b, nr, c, nr, nil, 0) })
		mustPanic(kn.name+" r>MR", func() { kn.call(kn.mr+1, nr, 1, a, 1, b, nr, c, nr, nil, 0) })
		mustPanic(kn.name+" n>NR", func() { kn.call(1, nr+1, 1, a, 1, b, nr, c, nr, nil, 0) })
		mustPanic(kn.name+" k=0", func() { kn.call(1, nr, 0, a, 1, b, nr, c, nr, nil, 0) })
		mustPanic(kn.name+" short a", func() { kn.call(kn.mr, nr, 1, a[:1], 4, b, nr, c, nr, nil, 0) })
		mustPanic(kn.name+" short b", func() { kn.call(1, 1, 2, a, 1, b, 2*nr, c, nr, nil, 0) })
		mustPanic(kn.name+" short c", func() { kn.call(2, nr, 1, a, 1, b, nr, c[:nr+1], nr, nil, 0) })
		mustPanic(kn.name+" negative lda", func() { kn.call(2, nr, 1, a[8:], -8, b, nr, c, nr, nil, 0) })
		mustPanic(kn.name+" no bias", func() { kn.call(1, nr, 1, a, 1, b, nr, c, nr, nil, 1) })
		mustPanic(kn.name+" short column bias", func() { kn.call(1, nr, 1, a, 1, b, nr, c, nr, make([]float32, 1), 4) })
		mustPanic(kn.name+" two biases", func() { kn.call(1, nr, 1, a, 1, b, nr, c, nr, make([]float32, nr), 5) })
		mustPanic(kn.name+" narrow pool", func() { kn.call(1, nr-1, 1, a, 1, b, nr, c, nr, nil, 1<<4) })
	}
	for _, kn := range dots {
		out := make([]float32, kn.mr)
		mustPanic(kn.name+" r>MR", func() { kn.call(kn.mr+1, make([]float32, 4), make([]float32, 64), 4, out) })
		mustPanic(kn.name+" short w", func() { kn.call(2, make([]float32, 4), make([]float32, 5), 4, out) })
	}
}

// BenchmarkGemmBlock times every Gemm kernel's wrapper on a whole block
// with k = 256, its operands in L1: the micro-kernel's ceiling (flops/ns
// = GFLOP/s reported as a metric).
func BenchmarkGemmBlock(b *testing.B) {
	for _, kn := range gemms {
		b.Run(kn.name, func(b *testing.B) {
			const k = 256
			rng := rand.New(rand.NewPCG(1, 2))
			a := randVals(rng, kn.mr*k, false)
			bb := randVals(rng, k*kn.nr, false)
			c := make([]float32, kn.mr*kn.nr)
			for b.Loop() {
				kn.call(kn.mr, kn.nr, k, a, k, bb, kn.nr, c, kn.nr, nil, 0)
			}
			b.ReportMetric(float64(2*kn.mr*kn.nr*k)*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "GFLOP/s")
		})
	}
}

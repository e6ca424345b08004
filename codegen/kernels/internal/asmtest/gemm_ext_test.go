package asmtest

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// The extended Gemm epilogue (FUNCE: residual, clamp, compressed store)
// against a float64 reference from its contract, through the wrapper
// (AVX-512 in registers when the CPU has it), the staged path (the base
// kernel, then Go: what AVX2 and the twin run) and the AVX-512 routine
// itself, with NaN and ±Inf in the operands and the residual, clamp
// bounds crossing zero, empty and inverted ranges, and masks that keep
// any subset of the columns.

// extCase is one call of an extended Gemm kernel.
type extCase struct {
	gemmCase
	res   []float32
	lohi  [2]float32
	cmask uint32
}

// extRef is the contract: product (+ c0 with flags&8), biases, residual,
// relu, clamp; the kept columns stored packed with flags&512.
func extRef(tc extCase, nr int) (want, mag []float64) {
	want, mag = make([]float64, len(tc.c0)), make([]float64, len(tc.c0))
	cmask := tc.cmask
	if tc.flags&512 == 0 {
		cmask = uint32(uint64(1)<<tc.n - 1)
	}
	for i := range tc.r {
		o := i * tc.ldc
		for j := range nr {
			if cmask>>j&1 == 0 {
				continue
			}
			var v, m float64
			if tc.flags&8 != 0 {
				v = float64(tc.c0[o])
				m = math.Abs(v)
			}
			for kk := range tc.k {
				p := float64(tc.a[i*tc.lda+kk]) * float64(tc.b[kk*tc.ldb+j])
				v += p
				m += math.Abs(p)
			}
			if tc.flags&1 != 0 {
				v += float64(tc.bias[i])
				m += math.Abs(float64(tc.bias[i]))
			}
			if tc.flags&4 != 0 {
				v += float64(tc.bias[j])
				m += math.Abs(float64(tc.bias[j]))
			}
			if tc.flags&128 != 0 {
				v += float64(tc.res[o])
				m += math.Abs(float64(tc.res[o]))
			}
			if tc.flags&2 != 0 && v < 0 {
				v = 0
			}
			if tc.flags&256 != 0 {
				if v < float64(tc.lohi[0]) {
					v = float64(tc.lohi[0])
				}
				if v > float64(tc.lohi[1]) {
					v = float64(tc.lohi[1])
				}
			}
			want[o], mag[o] = v, m
			o++
		}
	}
	return want, mag
}

func TestGemmExt(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 7))
	flagSets := []int{128, 129, 130, 256, 258, 384, 387, 136, 132, 512, 513, 514, 520, 521, 640, 641, 643, 768, 897, 899, 904, 905}
	for _, kn := range gemms {
		n := 0
		for r := 1; r <= kn.mr; r++ {
			for _, k := range []int{1, 3, 4, 9, 17, 64} {
				for _, flags := range flagSets {
					if rng.IntN(3) != 0 {
						continue
					}
					tc := newExtCase(rng, kn.nr, r, k, flags, (r+k)%3 == 0)
					name := fmt.Sprintf("%s r=%d n=%d k=%d flags=%d cmask=%#x lohi=%v", kn.name, r, tc.n, k, flags, tc.cmask, tc.lohi)
					testGemmExt(t, kn, name, tc)
					n++
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: no cases", kn.name)
		}
	}
}

// newExtCase makes random operands for flags; with flags&512 a random
// mask, else n random columns.
func newExtCase(rng *rand.Rand, nr, r, k, flags int, specials bool) extCase {
	cols := 1 + rng.IntN(nr)
	var cmask uint32
	if flags&512 != 0 {
		for cmask == 0 {
			cmask = uint32(rng.Uint64() & (uint64(1)<<nr - 1))
			if rng.IntN(4) == 0 {
				cmask = uint32(uint64(1)<<nr - 1) // every column
			}
		}
		cols = bits.OnesCount32(cmask)
	}
	tc := extCase{gemmCase: newGemmCase(rng, nr, r, cols, k, flags, specials), cmask: cmask}
	tc.res = randVals(rng, len(tc.c0), specials)
	lo, hi := rng.Float32()-0.7, rng.Float32()*2-0.5
	if rng.IntN(5) == 0 {
		lo, hi = hi+0.1, lo // inverted: everything becomes hi
	}
	tc.lohi = [2]float32{lo, hi}
	return tc
}

func testGemmExt(t *testing.T, kn gemmKernel, name string, tc extCase) {
	t.Helper()
	want, mag := extRef(tc, kn.nr)
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
			case !check(v, want[i], mag[i]+1e-30):
				t.Fatalf("%s: %s: c[%d] (row %d, column %d) = %v, want %v", name, what, i, i/tc.ldc, i%tc.ldc, v, want[i])
			}
		}
	}
	args := func(f gemmExtFunc) func(c []float32) {
		return func(c []float32) {
			f(tc.r, tc.n, tc.k, tc.a, tc.lda, tc.b, tc.ldb, c, tc.ldc, tc.bias, tc.flags, tc.res, &tc.lohi, tc.cmask)
		}
	}
	run("wrapper", args(kn.ext))
	run("staged", args(kn.staged))
	for _, as := range kn.asm {
		if as.isa != "avx512" || cpuLevel < as.level || kn.nr > 32 {
			continue
		}
		run(as.isa, func(c []float32) {
			var bp *float32
			if tc.flags&5 != 0 {
				bp = &tc.bias[0]
			}
			as.f(tc.r, tc.n, tc.k, &tc.a[0], tc.lda, &tc.b[0], tc.ldb, &c[0], tc.ldc, bp, tc.flags, &tc.res[0], &tc.lohi[0], int(tc.cmask))
		})
	}
}

// TestGemmExtBadFlags checks that the extended wrapper refuses what its
// contract excludes before touching memory.
func TestGemmExtBadFlags(t *testing.T) {
	for _, kn := range gemms {
		nr := kn.nr
		a, b, c := make([]float32, 64), make([]float32, 2*nr), make([]float32, kn.mr*nr)
		lohi := [2]float32{0, 6}
		for _, tc := range []struct {
			what  string
			flags int
			cmask uint32
			n     int
			lohi  *[2]float32
			res   []float32
		}{
			{"pool with clamp", 256 | 1<<4, 0, nr, &lohi, nil},
			{"compress with column bias", 512 | 4, 1, 1, &lohi, nil},
			{"mask and n disagree", 512, 3, 1, &lohi, nil},
			{"mask without compress", 256, 3, 2, &lohi, nil},
			{"no bounds", 256, 0, nr, nil, nil},
			{"short residual", 128, 0, nr, &lohi, make([]float32, 1)},
			{"unknown bit", 1024, 0, nr, &lohi, nil},
		} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s %s: no panic", kn.name, tc.what)
					}
				}()
				kn.ext(1, tc.n, 1, a, 1, b, nr, c, nr, make([]float32, nr), tc.flags, tc.res, tc.lohi, tc.cmask)
			}()
		}
	}
}

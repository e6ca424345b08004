package asmtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The IGemm kernels against a float64 reference from their contract
// (kernels.IGemm): every row count, column counts below, at and past a
// panel (one column, a masked tail, several panels), k = 1, k tails of
// the unrolled loop, offsets in any order and repeated (taps reading the
// same column), row strides wider than the rows, every flag, NaN and
// ±Inf inputs. Nothing outside the r×n block of c may be written. The
// AVX2 routine alone computes whole panels of at most its rows.
func TestIGemm(t *testing.T) {
	if len(igemms) == 0 {
		t.Fatal("no IGemm kernel")
	}
	rng := rand.New(rand.NewPCG(20, 1))
	for _, kn := range igemms {
		for r := 1; r <= 12; r++ {
			for _, n := range []int{1, 7, 31, 32, 33, 64, 95} {
				for _, k := range []int{1, 3, 4, 5, 9, 27, 64} {
					flags := (r + n + k) % 4
					specials := (r+n)%5 == 0
					name := fmt.Sprintf("%s r=%d n=%d k=%d flags=%d specials=%v", kn.name, r, n, k, flags, specials)
					testIGemm(t, rng, kn, name, r, n, k, flags, specials)
				}
			}
		}
	}
}

func testIGemm(t *testing.T, rng *rand.Rand, kn igemmKernel, name string, r, n, k, flags int, specials bool) {
	t.Helper()
	const nr = 32
	lda := k + rng.IntN(3)
	ldc := n + rng.IntN(3)
	offs := make([]int32, k)
	for i := range offs {
		offs[i] = int32(rng.IntN(40))
	}
	hi := int32(0)
	for _, o := range offs {
		hi = max(hi, o)
	}
	a := randVals(rng, (r-1)*lda+k, specials)
	b := randVals(rng, int(hi)+(n+nr-1)/nr*nr, specials)
	bias := randVals(rng, r, false)
	want, mag := make([]float64, r*n), make([]float64, r*n)
	for i := range r {
		for j := range n {
			var s, m float64
			for kk := range k {
				p := float64(a[i*lda+kk]) * float64(b[int(offs[kk])+j])
				s += p
				m += math.Abs(p)
			}
			if flags&1 != 0 {
				s += float64(bias[i])
				m += math.Abs(float64(bias[i]))
			}
			if flags&2 != 0 && s < 0 {
				s = 0
			}
			want[i*n+j], mag[i*n+j] = s, m
		}
	}
	const sentinel = float32(-17)
	run := func(what string, rows int, f func(c []float32)) {
		c := make([]float32, (r-1)*ldc+n+8)
		for i := range c {
			c[i] = sentinel
		}
		f(c)
		for i := range c {
			row, j := i/ldc, i%ldc
			if row < rows && j < n {
				if !check(c[i], want[row*n+j], mag[row*n+j]) {
					t.Errorf("%s: %s: c[%d][%d] = %v, want %v", name, what, row, j, c[i], want[row*n+j])
					return
				}
			} else if c[i] != sentinel {
				t.Errorf("%s: %s: wrote c[%d] (row %d, column %d) outside the block", name, what, i, row, j)
				return
			}
		}
	}
	run("wrapper", r, func(c []float32) { kn.call(r, n, k, a, lda, b, offs, c, ldc, bias, flags) })
	run("twin", r, func(c []float32) { kn.twin(r, n, k, a, lda, b, offs, c, ldc, bias, flags) })
	for _, as := range kn.asm {
		rows := r
		if as.isa == "avx2" {
			if n%nr != 0 {
				continue // the wrapper stages a partial panel
			}
			rows = min(r, 2)
		}
		if cpuLevel < as.level {
			continue
		}
		run(as.isa, rows, func(c []float32) {
			as.f(rows, n, k, &a[0], lda, &b[0], &offs[0], &c[0], ldc, &bias[0], flags)
		})
	}
}

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
// ±Inf inputs; each case also with a keep table (random kept columns,
// none, every one, and the pattern of output rows between padding
// columns), whose kept columns land packed. Nothing outside the block of
// c may be written. The AVX2 routine alone computes whole panels of at
// most its rows, without a keep table.
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
					testIGemm(t, rng, kn, name, r, n, k, flags, specials, nil)
					testIGemm(t, rng, kn, name+" keep", r, n, k, flags, specials, keepTable(rng, n, r+k))
				}
			}
		}
	}
}

// keepTable returns a keep table for n columns: by kind%4 random bits,
// every column, none, or rows of 1 + n%7 columns kept between two
// dropped ones (a convolution's output rows among its padding columns).
func keepTable(rng *rand.Rand, n, kind int) []uint16 {
	const nr = 32
	keep := make([]uint16, (n+nr-1)/nr*nr/16)
	for j := range n {
		var on bool
		switch kind % 4 {
		case 0:
			on = rng.IntN(3) != 0
		case 1:
			on = true
		case 2:
			on = false
		case 3:
			on = j%(3+n%7) < 1+n%7
		}
		if on {
			keep[j/16] |= 1 << (j % 16)
		}
	}
	return keep
}

func testIGemm(t *testing.T, rng *rand.Rand, kn igemmKernel, name string, r, n, k, flags int, specials bool, keep []uint16) {
	t.Helper()
	const nr = 32
	// cols lists the columns stored, in order: the kept ones.
	var cols []int
	for j := range n {
		if keep == nil || keep[j/16]>>(j%16)&1 != 0 {
			cols = append(cols, j)
		}
	}
	lda := k + rng.IntN(3)
	ldc := max(1, len(cols)+rng.IntN(3))
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
		c := make([]float32, (r-1)*ldc+len(cols)+8)
		for i := range c {
			c[i] = sentinel
		}
		f(c)
		for i := range c {
			row, j := i/ldc, i%ldc
			if row < rows && j < len(cols) {
				if w := want[row*n+cols[j]]; !check(c[i], w, mag[row*n+cols[j]]) {
					t.Errorf("%s: %s: c[%d][%d] (column %d) = %v, want %v", name, what, row, j, cols[j], c[i], w)
					return
				}
			} else if c[i] != sentinel {
				t.Errorf("%s: %s: wrote c[%d] (row %d, column %d) outside the block", name, what, i, row, j)
				return
			}
		}
	}
	run("wrapper", r, func(c []float32) { kn.call(r, n, k, a, lda, b, offs, c, ldc, bias, flags, keep) })
	run("twin", r, func(c []float32) { kn.twin(r, n, k, a, lda, b, offs, c, ldc, bias, flags, keep) })
	var kp *uint16
	if keep != nil {
		kp = &keep[0]
	}
	for _, as := range kn.asm {
		rows := r
		if as.isa == "avx2" {
			if n%nr != 0 || keep != nil {
				continue // the wrapper stages a partial panel, or drops columns
			}
			rows = min(r, 2)
		}
		if cpuLevel < as.level || len(cols) == 0 {
			continue
		}
		run(as.isa, rows, func(c []float32) {
			as.f(rows, n, k, &a[0], lda, &b[0], &offs[0], &c[0], ldc, &bias[0], flags, kp)
		})
	}
}

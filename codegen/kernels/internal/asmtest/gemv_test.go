package asmtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The Gemv kernels against a float64 reference from their contract
// (kernels.Gemv): every width nv, k odd and even (the unrolled loop of
// nv ≤ 4), 1, and long; row strides wider than the columns; with and
// without c, and c aliasing y; NaN and ±Inf inputs. Nothing past 8·nv
// may be written.
func TestGemv(t *testing.T) {
	if len(gemvs) == 0 {
		t.Fatal("no Gemv kernel")
	}
	rng := rand.New(rand.NewPCG(6, 1))
	for _, kn := range gemvs {
		for nv := 1; nv <= 8; nv++ {
			for _, k := range []int{1, 2, 3, 7, 8, 33, 128} {
				for mode := range 3 { // c nil, c separate, c = y
					specials := (nv+k+mode)%4 == 0
					name := fmt.Sprintf("%s nv=%d k=%d mode=%d specials=%v", kn.name, nv, k, mode, specials)
					testGemv(t, rng, kn, name, nv, k, mode, specials)
				}
			}
		}
	}
}

func testGemv(t *testing.T, rng *rand.Rand, kn gemvKernel, name string, nv, k, mode int, specials bool) {
	t.Helper()
	n := 8 * nv
	ldp := n + rng.IntN(3)*8 + rng.IntN(2)
	x := randVals(rng, k, specials)
	p := randVals(rng, (k-1)*ldp+n, specials)
	c0 := randVals(rng, n, false)
	want, mag := make([]float64, n), make([]float64, n)
	for j := range n {
		if mode > 0 {
			want[j], mag[j] = float64(c0[j]), math.Abs(float64(c0[j]))
		}
		for kk := range k {
			pr := float64(x[kk]) * float64(p[kk*ldp+j])
			want[j] += pr
			mag[j] += math.Abs(pr)
		}
	}
	const sentinel = float32(-31)
	run := func(what string, f func(c, y []float32)) {
		y := make([]float32, n+8)
		for i := range y {
			y[i] = sentinel
		}
		var c []float32
		switch mode {
		case 1:
			c = append([]float32(nil), c0...)
		case 2:
			copy(y, c0)
			c = y[:n]
		}
		f(c, y[:n])
		for i, v := range y {
			if i >= n {
				if v != sentinel {
					t.Fatalf("%s: %s wrote y[%d] past the columns", name, what, i)
				}
			} else if !check(v, want[i], mag[i]) {
				t.Fatalf("%s: %s: y[%d] = %v, want %v", name, what, i, v, want[i])
			}
		}
	}
	run("twin", func(c, y []float32) { kn.twin(nv, x, p, ldp, c, y) })
	run("wrapper", func(c, y []float32) { kn.call(nv, x, p, ldp, c, y) })
	for _, a := range kn.asm {
		if cpuLevel < a.level {
			continue
		}
		run(a.isa, func(c, y []float32) {
			var cp *float32
			if c != nil {
				cp = &c[0]
			}
			a.f(nv, k, &x[0], &p[0], ldp, cp, &y[0])
		})
	}
}

// TestGemvBadShapes checks that the wrapper refuses what it cannot read.
func TestGemvBadShapes(t *testing.T) {
	for _, kn := range gemvs {
		x, p, y := make([]float32, 4), make([]float32, 4*64), make([]float32, 64)
		for what, f := range map[string]func(){
			"ok":      func() { kn.call(8, x, p, 64, nil, y) },
			"nv=0":    func() { kn.call(0, x, p, 64, nil, y) },
			"nv=9":    func() { kn.call(9, x, p, 72, nil, y) },
			"short p": func() { kn.call(8, x, p[:4*64-1], 64, nil, y) },
			"narrow":  func() { kn.call(8, x, p, 32, nil, y) },
			"short y": func() { kn.call(8, x, p, 64, nil, y[:63]) },
			"short c": func() { kn.call(8, x, p, 64, y[:8], y) },
			"no x":    func() { kn.call(1, nil, p, 64, nil, y) },
		} {
			panicked := func() (p bool) {
				defer func() { p = recover() != nil }()
				f()
				return false
			}()
			if panicked != (what != "ok") {
				t.Errorf("%s %s: panicked = %v", kn.name, what, panicked)
			}
		}
	}
}

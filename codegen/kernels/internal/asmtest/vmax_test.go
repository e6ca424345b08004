package asmtest

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The VMax kernels against max with NaN propagation, every length from
// 1 to 40 (whole vectors, masked and Go tails), NaN and ±Inf in either
// operand; nothing past len(y) may be written. Zeros of both signs
// compare equal.
func TestVMax(t *testing.T) {
	if len(vmaxes) == 0 {
		t.Fatal("no VMax kernel")
	}
	rng := rand.New(rand.NewPCG(21, 1))
	for _, kn := range vmaxes {
		for n := 1; n <= 40; n++ {
			specials := n%3 == 0
			y0, x := randVals(rng, n, specials), randVals(rng, n, specials)
			if n%5 == 0 {
				y0[0], x[0] = 0, float32(math.Copysign(0, -1))
			}
			run := func(what string, width int, f func(y []float32)) {
				y := append(append([]float32(nil), y0...), -7)
				f(y)
				for j := range width {
					want := max(y0[j], x[j])
					if got := y[j]; got != want && !(got != got && want != want) {
						t.Errorf("%s n=%d: %s: y[%d] = max(%v, %v) = %v, want %v", kn.name, n, what, j, y0[j], x[j], got, want)
						return
					}
				}
				if y[n] != -7 {
					t.Errorf("%s n=%d: %s: wrote past the end", kn.name, n, what)
				}
			}
			run("wrapper", n, func(y []float32) { kn.call(y[:n], x) })
			run("twin", n, func(y []float32) { kn.twin(y[:n], x) })
			for _, as := range kn.asm {
				m := n
				if as.isa == "avx2" {
					if m = n &^ 7; m == 0 {
						continue
					}
				}
				if cpuLevel < as.level {
					continue
				}
				run(as.isa, m, func(y []float32) { as.f(m, &y[0], &x[0]) })
			}
		}
	}
}

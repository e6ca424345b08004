package asmtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestMean checks the Mean kernels (global average pools) against the
// contract (kernels.Mean) computed here: 16 float64 partial sums, added
// pairwise, divided; every routine the CPU has, the wrapper and the twin
// must agree with it exactly, on plane sizes around every tail of 16
// and whole blocks, NaN and ±Inf inputs, and must write nothing past
// the planes. It also checks the result against the sequential float64
// mean (the interpreter's) to within float32 rounding.
func TestMean(t *testing.T) {
	if len(means) == 0 {
		t.Fatal("no Mean kernel")
	}
	rng := rand.New(rand.NewPCG(24, 1))
	for _, kn := range means {
		for _, sp := range []int{1, 2, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 49, 64, 100, 196, 257} {
			for _, specials := range []bool{false, true} {
				testMean(t, rng, kn, sp, 1+rng.IntN(5), specials)
			}
		}
	}
}

func testMean(t *testing.T, rng *rand.Rand, kn meanKernel, sp, planes int, specials bool) {
	t.Helper()
	name := fmt.Sprintf("%s sp=%d planes=%d specials=%v", kn.name, sp, planes, specials)
	x := randVals(rng, planes*sp, specials)
	div := float64(sp)
	want := make([]float32, planes)
	for p := range planes {
		var s [16]float64
		var seq float64
		for i, v := range x[p*sp : (p+1)*sp] {
			s[i%16] += float64(v)
			seq += float64(v)
		}
		for w := 8; w >= 1; w /= 2 {
			for j := range w {
				s[j] += s[j+w]
			}
		}
		want[p] = float32(s[0] / div)
		if m := float32(seq / div); !specials && math.Abs(float64(m-want[p])) > 1e-6*math.Abs(float64(m))+1e-30 {
			t.Fatalf("%s: plane %d: pairwise %v, sequential %v", name, p, want[p], m)
		}
	}
	const sentinel = float32(-4242)
	run := func(what string, f func(y []float32)) {
		y := make([]float32, planes+3)
		for i := range y {
			y[i] = sentinel
		}
		f(y[:planes])
		for i, v := range y {
			switch {
			case i >= planes:
				if v != sentinel {
					t.Fatalf("%s: %s wrote y[%d] past the planes", name, what, i)
				}
			case want[i] != want[i]:
				if v == v {
					t.Fatalf("%s: %s: y[%d] = %v, want NaN", name, what, i, v)
				}
			case math.Float32bits(v) != math.Float32bits(want[i]):
				t.Fatalf("%s: %s: y[%d] = %v, want %v", name, what, i, v, want[i])
			}
		}
	}
	run("twin", func(y []float32) { kn.twin(x, sp, y, div) })
	run("wrapper", func(y []float32) { kn.call(x, sp, y, div) })
	for _, a := range kn.asm {
		if cpuLevel >= a.level {
			run(a.isa, func(y []float32) { a.f(&x[0], sp, &y[0], planes, div) })
		}
	}
}

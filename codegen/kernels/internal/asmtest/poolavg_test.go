package asmtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The average-pool kernels against the contract (kernels.PoolAvg)
// computed here: the twin, the wrapper, and every routine the CPU has,
// on the depthwise tests' row widths (every vector tail, blocks of 4
// vectors), padded rows wider than needed, zero borders, divisors of
// every window count, NaN and ±Inf taps. The sums are float32 in tap
// order, so every routine must agree with the reference exactly; nothing
// past oh·ow may be written.

func TestPoolAvg(t *testing.T) {
	if len(avgPools) == 0 {
		t.Fatal("no average-pool kernels")
	}
	rng := rand.New(rand.NewPCG(6, 2))
	for _, kn := range avgPools {
		for _, ow := range dwWidths {
			for _, specials := range []bool{false, true} {
				testPoolAvg(t, rng, kn, 1+rng.IntN(4), ow, specials)
			}
		}
	}
}

func testPoolAvg(t *testing.T, rng *rand.Rand, kn avgPoolKernel, oh, ow int, specials bool) {
	t.Helper()
	name := fmt.Sprintf("%s oh=%d ow=%d specials=%v", kn.name, oh, ow, specials)
	width := (ow+kn.lanes-1)/kn.lanes*kn.lanes + (kn.kw-1)/kn.s
	half, ld := 0, width+rng.IntN(3)
	if kn.s > 1 {
		half = width + rng.IntN(3)
		ld = kn.s*half + rng.IntN(2)
	}
	x := randVals(rng, ((oh-1)*kn.s+kn.kh-1)*ld+(kn.s-1)*half+width, specials)
	for i := range x {
		if rng.IntN(9) == 0 {
			x[i] = 0 // a padded tap
		}
	}
	rdiv := make([]float32, oh)
	for i := range rdiv {
		rdiv[i] = float32(1 + rng.IntN(kn.kh))
	}
	cdiv := make([]float32, (ow+kn.lanes-1)/kn.lanes*kn.lanes)
	for i := range cdiv {
		cdiv[i] = float32(1 + rng.IntN(kn.kw))
	}
	want := make([]float32, oh*ow)
	for r := range oh {
		for j := range ow {
			var s float32
			for h := range kn.kh {
				for c := range kn.kw {
					v := x[(r*kn.s+h)*ld+(c%kn.s)*half+c/kn.s+j]
					if h == 0 && c == 0 {
						s = v
					} else {
						s += v
					}
				}
			}
			want[r*ow+j] = s / (rdiv[r] * cdiv[j])
		}
	}
	const sentinel = float32(-4242)
	run := func(what string, f func(y []float32)) {
		y := make([]float32, oh*ow+9)
		for i := range y {
			y[i] = sentinel
		}
		f(y[:oh*ow])
		for i, v := range y {
			switch {
			case i >= oh*ow:
				if v != sentinel {
					t.Fatalf("%s: %s wrote y[%d] past the plane", name, what, i)
				}
			case want[i] != want[i]:
				if v == v {
					t.Fatalf("%s: %s: y[%d] = %v, want NaN", name, what, i, v)
				}
			case math.Float32bits(v) != math.Float32bits(want[i]):
				t.Fatalf("%s: %s: y[%d] (row %d, column %d) = %v, want %v", name, what, i, i/ow, i%ow, v, want[i])
			}
		}
	}
	run("twin", func(y []float32) { kn.twin(x, ld, half, y, oh, ow, rdiv, cdiv) })
	run("wrapper", func(y []float32) { kn.call(x, ld, half, y, oh, ow, rdiv, cdiv) })
	for _, a := range kn.asm {
		if cpuLevel >= a.level {
			run(a.isa, func(y []float32) { a.f(&x[0], ld, half, &y[0], oh, ow, &rdiv[0], &cdiv[0]) })
		}
	}
}

// TestPoolAvgBadShapes checks that the wrappers refuse planes and
// divisor tables their buffers cannot hold before touching memory.
func TestPoolAvgBadShapes(t *testing.T) {
	for _, kn := range avgPools {
		width := kn.lanes + (kn.kw-1)/kn.s
		half, ld := 0, width
		if kn.s > 1 {
			half, ld = width, kn.s*width
		}
		n := ((2-1)*kn.s+kn.kh-1)*ld + (kn.s-1)*half + width
		x, y := make([]float32, n), make([]float32, 16)
		rdiv, cdiv := []float32{1, 1}, make([]float32, kn.lanes)
		for what, f := range map[string]func(){
			"ok":         func() { kn.call(x, ld, half, y, 2, 8, rdiv, cdiv) },
			"short x":    func() { kn.call(x[:n-1], ld, half, y, 2, 8, rdiv, cdiv) },
			"short y":    func() { kn.call(x, ld, half, y[:15], 2, 8, rdiv, cdiv) },
			"short rdiv": func() { kn.call(x, ld, half, y, 2, 8, rdiv[:1], cdiv) },
			"short cdiv": func() { kn.call(x, ld, half, y, 2, 8, rdiv, cdiv[:kn.lanes-1]) },
			"narrow ld":  func() { kn.call(x, ld-1, half, y, 1, 8, rdiv, cdiv) },
			"oh=0":       func() { kn.call(x, ld, half, y, 0, 8, rdiv, cdiv) },
		} {
			panicked := func() (p bool) {
				defer func() { p = recover() != nil }()
				f()
				return false
			}()
			if panicked != (what != "ok") {
				t.Errorf("%s: %s: panicked %v", kn.name, what, panicked)
			}
		}
	}
}

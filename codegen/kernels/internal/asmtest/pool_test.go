package asmtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The max-pool kernels against the contract (kernels.PoolMax) computed
// here: the twin, the wrapper, and every routine the CPU has, on the
// depthwise tests' row widths (every vector tail, blocks of 4 vectors),
// padded rows wider than needed, planes with −Inf borders, NaN and ±Inf
// taps. Maxima must be exact; NaN where any tap is NaN; nothing past
// oh·ow written.

func TestPoolMax(t *testing.T) {
	if len(pools) == 0 {
		t.Fatal("no max-pool kernels")
	}
	rng := rand.New(rand.NewPCG(6, 1))
	n := 0
	for _, kn := range pools {
		for _, ow := range dwWidths {
			for _, specials := range []bool{false, true} {
				oh := 1 + rng.IntN(4)
				testPoolMax(t, rng, kn, oh, ow, specials)
				n++
			}
		}
	}
	if n == 0 {
		t.Error("no cases")
	}
}

func testPoolMax(t *testing.T, rng *rand.Rand, kn poolKernel, oh, ow int, specials bool) {
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
			x[i] = float32(math.Inf(-1)) // a padded tap
		}
	}
	want := make([]float32, oh*ow)
	for r := range oh {
		for j := range ow {
			m := float32(math.Inf(-1))
			nan := false
			for h := range kn.kh {
				for c := range kn.kw {
					v := x[(r*kn.s+h)*ld+(c%kn.s)*half+c/kn.s+j]
					nan = nan || v != v
					m = max(m, v)
				}
			}
			if nan {
				m = float32(math.NaN())
			}
			want[r*ow+j] = m
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
			case v != want[i]:
				t.Fatalf("%s: %s: y[%d] (row %d, column %d) = %v, want %v", name, what, i, i/ow, i%ow, v, want[i])
			}
		}
	}
	run("twin", func(y []float32) { kn.twin(x, ld, half, y, oh, ow) })
	run("wrapper", func(y []float32) { kn.call(x, ld, half, y, oh, ow) })
	for _, a := range kn.asm {
		if cpuLevel >= a.level {
			run(a.isa, func(y []float32) { a.f(&x[0], ld, half, &y[0], oh, ow) })
		}
	}
}

// TestPoolMaxBadShapes checks that the wrappers refuse planes their
// buffers cannot hold before touching memory.
func TestPoolMaxBadShapes(t *testing.T) {
	for _, kn := range pools {
		width := kn.lanes + (kn.kw-1)/kn.s
		half, ld := 0, width
		if kn.s > 1 {
			half, ld = width, kn.s*width
		}
		n := ((2-1)*kn.s+kn.kh-1)*ld + (kn.s-1)*half + width
		x, y := make([]float32, n), make([]float32, 16)
		for what, f := range map[string]func(){
			"ok":        func() { kn.call(x, ld, half, y, 2, 8) },
			"short x":   func() { kn.call(x[:n-1], ld, half, y, 2, 8) },
			"short y":   func() { kn.call(x, ld, half, y[:15], 2, 8) },
			"narrow ld": func() { kn.call(x, ld-1, half, y, 1, 8) },
			"oh=0":      func() { kn.call(x, ld, half, y, 0, 8) },
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

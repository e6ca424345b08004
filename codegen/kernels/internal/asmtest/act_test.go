package asmtest

import (
	"flag"
	"math"
	"testing"
)

// The Act kernels (sigmoid, tanh) over the whole float32 range: every
// 997th bit pattern (-act.step 97 for the stated maxima) of both signs plus the special values (±0, ±Inf, NaN,
// denormals, the clamp and branch points), in batches whose length is not
// a multiple of 8 (the masked tail), alone and as a + b. Each result is
// checked against float64 math with the bounds that codegen/kernels/act.go
// states, the assembly against the twin, and the measured maxima are
// logged.

// actSpecials are inputs at the edges of the approximations.
var actSpecials = []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
	float32(math.NaN()), math.Float32frombits(0x7fc00001), math.Float32frombits(0xffc00000),
	math.Float32frombits(1), math.Float32frombits(0x007fffff), math.Float32frombits(0x80000001), math.Float32frombits(0x807fffff),
	0.625, math.Nextafter32(0.625, 0), math.Nextafter32(0.625, 1), -0.625,
	87.3, -87.3, 88.3, -88.3, 88.8, -88.8, 100, -100, 1e30, -1e30, 9, -9, 1e-4, -1e-4, 0.5, 1, -1}

var actStep = flag.Uint64("act.step", 997, "TestActRange: test every act.step-th float32 bit pattern (97: the stated maxima, about 30 s)")

// actInputs returns the inputs: every actStep-th bit pattern, then the
// specials.
func actInputs() []float32 {
	var in []float32
	for u := uint64(0); u < 1<<32; u += *actStep {
		in = append(in, math.Float32frombits(uint32(u)))
	}
	return append(in, actSpecials...)
}

// actErr holds the largest errors seen: absolute, and relative in ulps
// (of the float64 value, where it is at least minRel).
type actErr struct{ abs, ulps float64 }

const minRel = 1e-30

// ulps is |got - want| in units of the last place of float32 at want.
func ulps(got float32, want float64) float64 {
	e := math.Abs(float64(got) - want)
	_, exp := math.Frexp(math.Abs(want))
	return e / math.Ldexp(1, exp-24)
}

// actRef is f in float64; a NaN result must be matched by NaN.
func actRef(fn int, x float64) float64 {
	if fn == 0 {
		return 1 / (1 + math.Exp(-x))
	}
	return math.Tanh(x)
}

// Bounds: sigmoid 1e-7 absolute and 3 ulp relative (value ≥ minRel),
// tanh 1e-7 absolute, 2 ulp relative (value ≥ minRel) and exact below.
var actBound = [2]actErr{{abs: 1e-7, ulps: 3}, {abs: 1e-7, ulps: 2}}

func TestActRange(t *testing.T) {
	if len(acts) == 0 {
		t.Fatal("no Act kernel")
	}
	in := actInputs()
	for _, kn := range acts {
		for fn := range 2 {
			var worst actErr
			y, yt := make([]float32, 1021), make([]float32, 1021)
			for off := 0; off < len(in); off += len(y) {
				a := in[off:min(off+len(y), len(in))]
				n := len(a)
				kn.call(fn, a, nil, y[:n])
				kn.twin(fn, a, nil, yt[:n])
				for i, x := range a {
					want := actRef(fn, float64(x))
					for _, got := range []float32{y[i], yt[i]} {
						if math.IsNaN(want) || math.IsNaN(float64(got)) {
							if math.IsNaN(want) != math.IsNaN(float64(got)) {
								t.Fatalf("%s fn=%d x=%v (%#08x): got %v, want %v", kn.name, fn, x, math.Float32bits(x), got, want)
							}
							continue
						}
						e := math.Abs(float64(got) - want)
						worst.abs = max(worst.abs, e)
						if math.Abs(want) >= minRel {
							worst.ulps = max(worst.ulps, ulps(got, want))
						} else if fn == 1 && e != 0 {
							t.Fatalf("%s tanh(%v) = %v, want %v exactly", kn.name, x, got, want)
						}
					}
					if worst.abs > actBound[fn].abs || worst.ulps > actBound[fn].ulps {
						t.Fatalf("%s fn=%d x=%v (%#08x): got %v (twin %v), want %v: error %+v above %+v", kn.name, fn, x, math.Float32bits(x), y[i], yt[i], want, worst, actBound[fn])
					}
				}
			}
			t.Logf("%s %s over %d inputs: max abs error %.3g, max relative %.3g ulp", kn.name, []string{"sigmoid", "tanh"}[fn], len(in), worst.abs, worst.ulps)
		}
	}
}

// TestActSum checks the a + b form, in place, on every tail length, and
// each routine the CPU has against the twin over the special values.
func TestActSum(t *testing.T) {
	for _, kn := range acts {
		for fn := range 2 {
			for n := 1; n <= 41; n++ {
				a, b := make([]float32, n), make([]float32, n)
				for i := range a {
					a[i], b[i] = float32(i)*0.37-4, float32(n-i)*0.11-2
				}
				want := make([]float32, n)
				kn.twin(fn, a, b, want)
				y := append([]float32(nil), a...)
				y = append(y, -99) // sentinel past n
				kn.call(fn, y[:n], b, y[:n])
				for i := range n {
					if !check(y[i], actRef(fn, float64(a[i]+b[i])), 1) || !check(y[i], float64(want[i]), 1) {
						t.Fatalf("%s fn=%d n=%d: y[%d] = %v, twin %v, want %v", kn.name, fn, n, i, y[i], want[i], actRef(fn, float64(a[i]+b[i])))
					}
				}
				if y[n] != -99 {
					t.Fatalf("%s fn=%d n=%d: wrote past y", kn.name, fn, n)
				}
			}
			for _, a := range kn.asm {
				if cpuLevel < a.level {
					continue
				}
				in := actSpecials
				want, got := make([]float32, len(in)), make([]float32, len(in))
				kn.twin(fn, in, nil, want)
				a.f(fn, len(in), &in[0], nil, &got[0])
				for i := range in {
					if !check(got[i], float64(want[i]), 1) && !(got[i] == want[i]) {
						t.Fatalf("%s %s fn=%d: f(%v) = %v, twin %v", kn.name, a.isa, fn, in[i], got[i], want[i])
					}
				}
			}
		}
	}
}

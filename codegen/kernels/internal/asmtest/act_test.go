package asmtest

import (
	"flag"
	"math"
	"testing"
)

// The Act kernel's functions over the whole float32 range: every
// act.step-th bit pattern (-act.step 97 for the stated maxima) of both
// signs plus the special values (±0, ±Inf, NaN, denormals, the clamp and
// branch points), in batches whose length is not a multiple of 16 (the
// masked tail), alone and as a + b. Each result is checked against
// float64 math with the bounds that codegen/kernels/act.go states, the
// assembly against the twin, and the measured maxima are logged.

// actSpecials are inputs at the edges of the approximations.
var actSpecials = []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
	float32(math.NaN()), math.Float32frombits(0x7fc00001), math.Float32frombits(0xffc00000),
	math.Float32frombits(1), math.Float32frombits(0x007fffff), math.Float32frombits(0x80000001), math.Float32frombits(0x807fffff),
	0.625, math.Nextafter32(0.625, 0), math.Nextafter32(0.625, 1), -0.625,
	87.3, -87.3, 88.3, -88.3, 88.8, -88.8, 100, -100, 1e30, -1e30, 9, -9, 1e-4, -1e-4, 0.5, 1, -1,
	88.72283, 88.72284, -87.33654, -87.33655, -103.2, -103.3, -103.97, -104, 89, -3, 3, -2.9999998, 3.0000002,
	-6, 6, 1e-38, -1e-38}

var actStep = flag.Uint64("act.step", 997, "TestActRange: test every act.step-th float32 bit pattern (97: the stated maxima, about a minute)")

// actInputs returns the inputs: every actStep-th bit pattern, then the
// specials.
func actInputs() []float32 {
	var in []float32
	for u := uint64(0); u < 1<<32; u += *actStep {
		in = append(in, math.Float32frombits(uint32(u)))
	}
	return append(in, actSpecials...)
}

// ulps is |got - want| in units of the last place of float32 at want.
func ulps(got float32, want float64) float64 {
	e := math.Abs(float64(got) - want)
	_, exp := math.Frexp(math.Abs(want))
	return e / math.Ldexp(1, exp-24)
}

// actCase is one function with its parameters, its float64 reference
// and its bounds: the error may be at most abs where |want| < absBelow,
// and at most ulps where |want| ≥ minRel (both where both hold).
type actCase struct {
	name     string
	fn       int
	p        [2]float32
	ref      func(x float64) float64
	abs      float64
	absBelow float64
	ulps     float64
	minRel   float64
}

var inf = math.Inf(1)

// clampRef is clip's reference (comparisons: NaN passes through).
func clampRef(x, lo, hi float64) float64 {
	if x < lo {
		x = lo
	}
	if x > hi {
		x = hi
	}
	return x
}

// The references are accurate float64 forms: gelu through erfc, and
// gelu_tanh as x·sigmoid(2u), not the interpreter's 1 + tanh(u), which
// cancels for x < -5.
var actCases = []actCase{
	{"sigmoid", 0, [2]float32{}, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }, 1e-7, inf, 3, 1e-30},
	{"tanh", 1, [2]float32{}, math.Tanh, 1e-7, inf, 2, 1e-30},
	{"exp", 2, [2]float32{}, math.Exp, 0x1p-149, 0x1p-126, 2, 0x1p-126},
	// A shift (softmax): x + p0 is rounded, |x + p0|·2^-24 more relative error.
	{"exp-3", 2, [2]float32{-3, 0}, func(x float64) float64 { return math.Exp(x - 3) }, 0x1p-149, 0x1p-126, 128, 0x1p-126},
	{"relu", 3, [2]float32{0, float32(inf)}, func(x float64) float64 { return clampRef(x, 0, inf) }, 0, inf, 0, 0},
	{"relu6", 3, [2]float32{0, 6}, func(x float64) float64 { return clampRef(x, 0, 6) }, 0, inf, 0, 0},
	{"clip", 3, [2]float32{-0.25, 1.5}, func(x float64) float64 { return clampRef(x, -0.25, 1.5) }, 0, inf, 0, 0},
	{"hardsigmoid", 4, [2]float32{1.0 / 6, 0.5}, func(x float64) float64 {
		return math.Max(0, math.Min(1, float64(float32(1.0/6))*x+0.5))
	}, 6e-8, inf, inf, inf},
	{"hardswish", 5, [2]float32{}, func(x float64) float64 { return x * math.Min(math.Max(x+3, 0), 6) / 6 }, 0x1p-149, 0x1p-126, 2, 0x1p-126},
	{"silu", 6, [2]float32{1, 0}, func(x float64) float64 { return x / (1 + math.Exp(-x)) }, 1e-30, 1e-30, 3, 1e-30},
	// alpha ≠ 1: alpha·x is rounded, |alpha·x|·2^-24 more relative error.
	{"swish1.7", 6, [2]float32{1.702, 0}, func(x float64) float64 { return x / (1 + math.Exp(-float64(float32(1.702))*x)) }, 1e-30, 1e-30, 96, 1e-30},
	{"gelu", 7, [2]float32{}, func(x float64) float64 { return 0.5 * x * math.Erfc(-x/math.Sqrt2) }, 1.5e-7, 1, 24, 1e-3},
	{"gelu_tanh", 8, [2]float32{}, func(x float64) float64 {
		u := 0.7978845608028654 * (x + 0.044715*x*x*x)
		return x / (1 + math.Exp(-2*u))
	}, 1.5e-7, 1, 24, 1e-3},
}

// actErr holds the largest errors seen: absolute where |want| < absBelow,
// relative in ulps where |want| ≥ minRel.
type actErr struct{ abs, ulps float64 }

// actCheck checks got against want for c, updating worst; it returns
// false when got is outside c's bounds.
func actCheck(c actCase, got float32, want float64, worst *actErr) bool {
	w32 := float32(want)
	switch {
	case math.IsNaN(want) || math.IsNaN(float64(got)):
		return math.IsNaN(want) == math.IsNaN(float64(got))
	case math.IsInf(float64(w32), 0) || math.IsInf(float64(got), 0):
		return got == w32
	}
	e := math.Abs(float64(got) - want)
	ok := true
	if math.Abs(want) < c.absBelow {
		worst.abs = max(worst.abs, e)
		ok = e <= c.abs
	}
	if math.Abs(want) >= c.minRel {
		u := ulps(got, want)
		worst.ulps = max(worst.ulps, u)
		ok = ok && u <= c.ulps
	}
	return ok
}

func TestActRange(t *testing.T) {
	if len(acts) == 0 {
		t.Fatal("no Act kernel")
	}
	in := actInputs()
	for _, kn := range acts {
		for _, c := range actCases {
			var worst actErr
			y, yt := make([]float32, 1021), make([]float32, 1021)
			for off := 0; off < len(in); off += len(y) {
				a := in[off:min(off+len(y), len(in))]
				n := len(a)
				kn.call(c.fn, c.p, a, nil, y[:n])
				kn.twin(c.fn, c.p, a, nil, yt[:n])
				for i, x := range a {
					want := c.ref(float64(x))
					for _, got := range []float32{y[i], yt[i]} {
						if !actCheck(c, got, want, &worst) {
							t.Fatalf("%s %s(%v) (%#08x): got %v (twin %v), want %v: error above %g absolute, %g ulp", kn.name, c.name, x, math.Float32bits(x), y[i], yt[i], want, c.abs, c.ulps)
						}
						if c.fn == 1 && math.Abs(want) < c.minRel && float64(got) != want {
							t.Fatalf("%s tanh(%v) = %v, want %v exactly", kn.name, x, got, want)
						}
					}
				}
			}
			t.Logf("%s %s over %d inputs: max abs error %.3g, max relative %.3g ulp", kn.name, c.name, len(in), worst.abs, worst.ulps)
		}
	}
}

// TestActSum checks the a + b form, in place, on every tail length, and
// each routine the CPU has against the twin over the special values.
func TestActSum(t *testing.T) {
	for _, kn := range acts {
		for _, c := range actCases {
			for n := 1; n <= 41; n++ {
				a, b := make([]float32, n), make([]float32, n)
				for i := range a {
					a[i], b[i] = float32(i)*0.37-4, float32(n-i)*0.11-2
				}
				want := make([]float32, n)
				kn.twin(c.fn, c.p, a, b, want)
				y := append([]float32(nil), a...)
				y = append(y, -99) // sentinel past n
				kn.call(c.fn, c.p, y[:n], b, y[:n])
				for i := range n {
					var w actErr
					if !actCheck(c, y[i], c.ref(float64(a[i]+b[i])), &w) || !check(y[i], float64(want[i]), math.Abs(float64(want[i]))) {
						t.Fatalf("%s %s n=%d: y[%d] = %v, twin %v, want %v", kn.name, c.name, n, i, y[i], want[i], c.ref(float64(a[i]+b[i])))
					}
				}
				if y[n] != -99 {
					t.Fatalf("%s %s n=%d: wrote past y", kn.name, c.name, n)
				}
			}
			for _, a := range kn.asm {
				if cpuLevel < a.level {
					continue
				}
				in := actSpecials
				want, got := make([]float32, len(in)), make([]float32, len(in))
				kn.twin(c.fn, c.p, in, nil, want)
				p := c.p
				a.f(c.fn, len(in), &in[0], nil, &got[0], &p[0])
				for i := range in {
					if !check(got[i], float64(want[i]), math.Abs(float64(want[i]))) && !(got[i] == want[i]) {
						t.Fatalf("%s %s %s: f(%v) = %v, twin %v", kn.name, a.isa, c.name, in[i], got[i], want[i])
					}
				}
			}
		}
	}
}

// TestActCall checks the form without parameters (FUNC) and the refusal
// of an unknown function.
func TestActCall(t *testing.T) {
	a := []float32{-2, -0.5, 0, 0.5, 2}
	y, want := make([]float32, len(a)), make([]float32, len(a))
	simdAct(0, a, nil, y)
	simdActGo(0, [2]float32{}, a, nil, want)
	for i := range a {
		if y[i] != want[i] && !check(y[i], float64(want[i]), math.Abs(float64(want[i]))) {
			t.Errorf("simdAct(sigmoid, %v) = %v, want %v", a[i], y[i], want[i])
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("simdAct(9, ...) did not panic")
		}
	}()
	simdAct(9, a, nil, y)
}

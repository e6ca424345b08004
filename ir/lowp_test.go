package ir

import (
	"math"
	"math/rand/v2"
	"testing"
)

var lowFloatDTypes = []DType{F8E4M3FN, F8E4M3FNUZ, F8E5M2, F8E5M2FNUZ, F4E2M1, F8E8M0}

// patterns is the number of bit patterns of a low float dtype.
func patterns(dt DType) int {
	if dt == F4E2M1 {
		return 16
	}
	return 256
}

// TestLowFloatRoundTrip decodes every bit pattern of every low float dtype
// and encodes the value again, with and without saturation: the same bits
// (any NaN for a NaN).
func TestLowFloatRoundTrip(t *testing.T) {
	for _, dt := range lowFloatDTypes {
		nans := 0
		for b := range patterns(dt) {
			v := LowFloatValue(dt, uint8(b))
			if math.IsNaN(v) {
				nans++
			}
			for _, sat := range []bool{true, false} {
				got := LowFloatBits(dt, v, sat, "")
				if math.IsNaN(v) {
					if !math.IsNaN(LowFloatValue(dt, got)) && dt != F4E2M1 {
						t.Errorf("%v: NaN %#02x encodes as %#02x (%g)", dt, b, got, LowFloatValue(dt, got))
					}
					continue
				}
				if math.IsInf(v, 0) && sat {
					continue // saturates to ±max
				}
				if got != uint8(b) {
					t.Errorf("%v saturate=%v: %#02x (%g) encodes as %#02x", dt, sat, b, v, got)
				}
			}
		}
		want := map[DType]int{F8E4M3FN: 2, F8E4M3FNUZ: 1, F8E5M2: 6, F8E5M2FNUZ: 1, F4E2M1: 0, F8E8M0: 1}[dt]
		if nans != want {
			t.Errorf("%v: %d NaN patterns, want %d", dt, nans, want)
		}
	}
}

// TestLowFloatValues pins the values the spec gives: maxima, smallest
// subnormals, one, and the special codes.
func TestLowFloatValues(t *testing.T) {
	for _, c := range []struct {
		dt   DType
		b    uint8
		want float64
	}{
		{F8E4M3FN, 0x7e, 448}, {F8E4M3FN, 0xfe, -448}, {F8E4M3FN, 0x01, 0x1p-9}, {F8E4M3FN, 0x38, 1}, {F8E4M3FN, 0x80, math.Copysign(0, -1)},
		{F8E4M3FNUZ, 0x7f, 240}, {F8E4M3FNUZ, 0x01, 0x1p-10}, {F8E4M3FNUZ, 0x40, 1}, {F8E4M3FNUZ, 0xff, -240},
		{F8E5M2, 0x7b, 57344}, {F8E5M2, 0x7c, math.Inf(1)}, {F8E5M2, 0xfc, math.Inf(-1)}, {F8E5M2, 0x01, 0x1p-16}, {F8E5M2, 0x3c, 1},
		{F8E5M2FNUZ, 0x7f, 57344}, {F8E5M2FNUZ, 0x01, 0x1p-17}, {F8E5M2FNUZ, 0x40, 1},
		{F4E2M1, 0x1, 0.5}, {F4E2M1, 0x2, 1}, {F4E2M1, 0x3, 1.5}, {F4E2M1, 0x5, 3}, {F4E2M1, 0x7, 6}, {F4E2M1, 0xf, -6},
		{F8E8M0, 0x7f, 1}, {F8E8M0, 0x00, 0x1p-127}, {F8E8M0, 0xfe, 0x1p127},
	} {
		got := LowFloatValue(c.dt, c.b)
		if got != c.want || math.Signbit(got) != math.Signbit(c.want) {
			t.Errorf("%v %#02x = %g, want %g", c.dt, c.b, got, c.want)
		}
	}
}

// TestLowFloatRounding: ties to even, overflow with and without
// saturation, NaN, -0 and underflow, against the spec's table.
func TestLowFloatRounding(t *testing.T) {
	inf, nan, negZero := math.Inf(1), math.NaN(), math.Copysign(0, -1)
	for _, c := range []struct {
		dt       DType
		v        float64
		sat, raw uint8 // with and without saturate
	}{
		{F8E4M3FN, 1 + 1.0/16, 0x38, 0x38}, // tie: to even (1.0)
		{F8E4M3FN, 1 + 3.0/16, 0x3a, 0x3a}, // tie: to even (1.25)
		{F8E4M3FN, 0x1p-10, 0x00, 0x00},    // tie with 0: to 0
		{F8E4M3FN, 0x3p-11, 0x01, 0x01},    // above the tie
		{F8E4M3FN, 464, 0x7e, 0x7e},        // tie with the NaN code: to 448
		{F8E4M3FN, 465, 0x7e, 0x7f},        // overflow: NaN without saturate
		{F8E4M3FN, -1e9, 0xfe, 0xff},       //
		{F8E4M3FN, inf, 0x7e, 0x7f},        //
		{F8E4M3FN, -inf, 0xfe, 0xff},       //
		{F8E4M3FN, nan, 0x7f, 0x7f},        //
		{F8E4M3FN, negZero, 0x80, 0x80},    //
		{F8E4M3FNUZ, negZero, 0x00, 0x00},  // no -0
		{F8E4M3FNUZ, -0x1p-12, 0x00, 0x00}, // rounds to 0: +0, not the NaN code
		{F8E4M3FNUZ, 241, 0x7f, 0x7f},      // rounds to 240
		{F8E4M3FNUZ, 250, 0x7f, 0x80},      //
		{F8E4M3FNUZ, -inf, 0xff, 0x80},     //
		{F8E4M3FNUZ, nan, 0x80, 0x80},      //
		{F8E5M2, 61440, 0x7b, 0x7c},        // tie between max and 2^16: to even, Inf
		{F8E5M2, 61439, 0x7b, 0x7b},        //
		{F8E5M2, inf, 0x7b, 0x7c},          // ONNX's reference clips Inf when saturating
		{F8E5M2, -inf, 0xfb, 0xfc},         //
		{F8E5M2, 1.125, 0x3c, 0x3c},        // tie: to even (1.0)
		{F8E5M2, 1.375, 0x3e, 0x3e},        // tie: to even (1.5)
		{F8E5M2FNUZ, -70000, 0xff, 0x80},   //
		{F8E5M2FNUZ, negZero, 0x00, 0x00},  //
		{F4E2M1, 0.25, 0x0, 0x0},           // tie: to even (0)
		{F4E2M1, 0.75, 0x2, 0x2},           // tie: to even (1)
		{F4E2M1, -3.5, 0xe, 0xe},           // tie: to even (-4)
		{F4E2M1, 5, 0x6, 0x6},              // tie: to even (4)
		{F4E2M1, 1e6, 0x7, 0x7},            // always saturates
		{F4E2M1, -inf, 0xf, 0xf},           //
		{F4E2M1, nan, 0x8, 0x8},            // as ONNX's reference
		{F4E2M1, negZero, 0x8, 0x8},        //
		{F8E8M0, 0.124, 0x7c, 0x7c},        // up: 0.125
		{F8E8M0, 1.1, 0x80, 0x80},          // up: 2
		{F8E8M0, 0, 0x00, 0x00},            //
		{F8E8M0, -4, 0x81, 0x81},           // the sign is dropped
		{F8E8M0, 0x1.8p127, 0xfe, 0xff},    // saturates at 2^127
		{F8E8M0, inf, 0xff, 0xff},          //
	} {
		if got := LowFloatBits(c.dt, c.v, true, ""); got != c.sat {
			t.Errorf("%v(%g) saturating = %#02x, want %#02x", c.dt, c.v, got, c.sat)
		}
		if got := LowFloatBits(c.dt, c.v, false, ""); got != c.raw {
			t.Errorf("%v(%g) not saturating = %#02x, want %#02x", c.dt, c.v, got, c.raw)
		}
	}
	for _, c := range []struct {
		v    float64
		mode string
		want uint8
	}{{1.5, "down", 0x7f}, {1.9, "down", 0x7f}, {1.5, "nearest", 0x80}, {1.25, "nearest", 0x7f}, {1.75, "nearest", 0x80}, {1, "up", 0x7f}} {
		if got := LowFloatBits(F8E8M0, c.v, true, c.mode); got != c.want {
			t.Errorf("f8e8m0(%g) %s = %#02x, want %#02x", c.v, c.mode, got, c.want)
		}
	}
}

// TestLowFloatNearest checks rounding against a search over every finite
// value of each format: the nearest one, the even code on a tie.
func TestLowFloatNearest(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, dt := range lowFloatDTypes[:5] {
		var codes []uint8
		for b := range patterns(dt) {
			if v := LowFloatValue(dt, uint8(b)); !math.IsNaN(v) && !math.IsInf(v, 0) && v >= 0 && !(v == 0 && b != 0) {
				codes = append(codes, uint8(b))
			}
		}
		maxV := LowFloatValue(dt, codes[len(codes)-1])
		for range 20000 {
			v := (r.Float64()*2 - 1) * maxV * 1.01
			if r.IntN(4) == 0 { // near the subnormals
				v *= 0x1p-14
			}
			if math.Abs(v) > maxV {
				continue
			}
			best := codes[0]
			for _, c := range codes[1:] {
				dc, db := math.Abs(LowFloatValue(dt, c)-math.Abs(v)), math.Abs(LowFloatValue(dt, best)-math.Abs(v))
				if dc < db || dc == db && c&1 == 0 {
					best = c
				}
			}
			got := LowFloatBits(dt, v, false, "")
			if gv, bv := math.Abs(LowFloatValue(dt, got)), LowFloatValue(dt, best); gv != bv {
				t.Fatalf("%v(%g) = %#02x (%g), nearest %#02x (%g)", dt, v, got, gv, best, bv)
			}
		}
	}
}

// TestLowInts: the small integers wrap as they are set and convert, and
// Convert from floats goes through int64 and wraps, as ONNX's tests ask.
func TestLowInts(t *testing.T) {
	x := FromF32(Shape{6}, []float32{-9, -8, 7, 15, 2.9, float32(math.NaN())})
	for _, c := range []struct {
		dt   DType
		want []int64
	}{
		{I4, []int64{7, -8, 7, -1, 2, 0}},
		{U4, []int64{7, 8, 7, 15, 2, 0}},
		{I2, []int64{-1, 0, -1, -1, -2, 0}},
		{U2, []int64{3, 0, 3, 3, 2, 0}},
	} {
		y := Convert(x, c.dt)
		if err := y.Check(); err != nil {
			t.Fatal(err)
		}
		for i, w := range c.want {
			if got := y.Int(i); got != w {
				t.Errorf("%v(%g) = %d, want %d", c.dt, x.F32()[i], got, w)
			}
		}
		if err := CheckLowInts(y); err != nil {
			t.Error(err)
		}
		back := Convert(y, F32)
		for i, w := range c.want {
			if back.F32()[i] != float32(w) {
				t.Errorf("%v %d to f32 = %g", c.dt, w, back.F32()[i])
			}
		}
	}
	bad := FromSlice(I4, Shape{1}, []int8{9})
	if CheckLowInts(bad) == nil {
		t.Error("CheckLowInts accepts int4 9")
	}
}

// TestConvertMode: saturate and e8m0 rounding reach Convert's result.
func TestConvertMode(t *testing.T) {
	x := FromF32(Shape{3}, []float32{1000, float32(math.Inf(-1)), 1.5})
	if got := Elems[uint8](ConvertMode(x, F8E4M3FN, CastMode{NoSaturate: true})); got[0] != 0x7f || got[1] != 0xff {
		t.Errorf("no saturate: %#v", got)
	}
	if got := Elems[uint8](ConvertMode(x, F8E4M3FN, CastMode{})); got[0] != 0x7e || got[1] != 0xfe {
		t.Errorf("saturate: %#v", got)
	}
	if got := Elems[uint8](ConvertMode(x, F8E8M0, CastMode{Round: "down"})); got[2] != 0x7f {
		t.Errorf("e8m0 down: %#v", got)
	}
	// f8 to f16 and back is exact
	for _, dt := range lowFloatDTypes {
		all := NewTensor(dt, Shape{patterns(dt)})
		for i, s := 0, Elems[uint8](all); i < len(s); i++ {
			s[i] = uint8(i)
		}
		back := ConvertMode(Convert(all, F16), dt, CastMode{NoSaturate: true}) // Inf stays Inf
		for i := range back.Len() {
			a, b := all.Float(i), back.Float(i)
			if a != b && !(math.IsNaN(a) && math.IsNaN(b)) && !(dt == F8E8M0 && (i < 0x67 || i > 0x8e)) {
				t.Errorf("%v %#02x through f16: %g, want %g", dt, i, b, a)
			}
		}
	}
}

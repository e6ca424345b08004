package ir

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

// TestDTypeTable fails when a row of the dtype table lacks a field, or two
// rows share a spelling, or Storage disagrees with what NewTensor
// allocates.
func TestDTypeTable(t *testing.T) {
	seen := map[string]DType{}
	for _, dt := range DTypes() {
		info, _ := dt.Info()
		v := reflect.ValueOf(info)
		for i := range v.NumField() {
			f := v.Type().Field(i).Name
			if v.Field(i).IsZero() && !(f == "Numpy" && (dt == BF16 || LowPrecision.Has(dt))) && !(f == "Safetensors" && LowPrecision.Has(dt)) { // numpy has no bfloat16 nor the low-precision types
				t.Errorf("%v: table field %s is empty", dt, f)
			}
		}
		for _, key := range []string{"name " + info.Name, "onnx " + string(rune('0'+info.ONNX)), "st " + info.Safetensors, "npy " + info.Numpy} {
			if key == "npy " || key == "st " {
				continue
			}
			if other, dup := seen[key]; dup {
				t.Errorf("%v and %v share %s", dt, other, key)
			}
			seen[key] = dt
		}
		x := NewTensor(dt, Shape{3})
		if got := reflect.TypeOf(x.Data).Elem().String(); got != info.Storage {
			t.Errorf("%v: NewTensor stores %s, table says %s", dt, got, info.Storage)
		}
		if got := int(reflect.TypeOf(x.Data).Elem().Size()); got != info.Size {
			t.Errorf("%v: storage is %d bytes, table says %d", dt, got, info.Size)
		}
		if err := x.Check(); err != nil {
			t.Errorf("%v: %v", dt, err)
		}
		for name, parse := range map[string]func() (DType, bool){
			"ParseDType":           func() (DType, bool) { return ParseDType(info.Name) },
			"DTypeFromONNX":        func() (DType, bool) { return DTypeFromONNX(info.ONNX) },
			"DTypeFromSafetensors": func() (DType, bool) { return DTypeFromSafetensors(info.Safetensors) },
		} {
			if name == "DTypeFromSafetensors" && info.Safetensors == "" {
				continue
			}
			if got, ok := parse(); !ok || got != dt {
				t.Errorf("%s(%v) = %v, %v", name, dt, got, ok)
			}
		}
		if info.Numpy != "" {
			if got, ok := DTypeFromNumpy(info.Numpy); !ok || got != dt {
				t.Errorf("DTypeFromNumpy(%q) = %v, %v", info.Numpy, got, ok)
			}
		}
		if dt.String() != info.Name || dt.Size() != info.Size {
			t.Errorf("%v: String/Size disagree with the table", dt)
		}
	}
	if len(DTypes()) != 23 {
		t.Errorf("%d dtypes, want 23", len(DTypes()))
	}
	if DType(99).Valid() || DType(0).String() != "dtype(0)" {
		t.Error("a dtype outside the table is valid or misnamed")
	}
}

// refF16 computes a binary16 value with float64 arithmetic, independently
// of the bit manipulation in F16Value.
func refF16(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	mant := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(mant, -24)
	case 31:
		if mant == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * math.Ldexp(1024+mant, exp-25)
}

// TestF16Exhaustive decodes every binary16 value and encodes it back.
func TestF16Exhaustive(t *testing.T) {
	for i := 0; i <= 0xffff; i++ {
		h := uint16(i)
		got, want := F16Value(h), refF16(h)
		if math.IsNaN(want) {
			if !math.IsNaN(got) || F16Bits(got)&0x7c00 != 0x7c00 || F16Bits(got)&0x3ff == 0 {
				t.Fatalf("%#04x: NaN does not survive: %v, %#04x", h, got, F16Bits(got))
			}
			continue
		}
		if got != want || math.Signbit(got) != (h&0x8000 != 0) {
			t.Fatalf("F16Value(%#04x) = %g, want %g", h, got, want)
		}
		if back := F16Bits(got); back != h {
			t.Fatalf("F16Bits(F16Value(%#04x)) = %#04x", h, back)
		}
	}
}

// TestBF16Exhaustive: bfloat16 is the top half of a float32.
func TestBF16Exhaustive(t *testing.T) {
	for i := 0; i <= 0xffff; i++ {
		h := uint16(i)
		got := BF16Value(h)
		if b := math.Float32bits(float32(got)); b != uint32(h)<<16 && !math.IsNaN(got) {
			t.Fatalf("BF16Value(%#04x) bits = %#08x", h, b)
		}
		if math.IsNaN(got) {
			continue
		}
		if back := BF16Bits(got); back != h {
			t.Fatalf("BF16Bits(BF16Value(%#04x)) = %#04x", h, back)
		}
	}
}

// TestHalfRounding covers the edges of rounding to f16 and bf16: ties to
// even, the largest finite value and overflow to Inf, subnormals and
// underflow to signed zero, NaN and Inf.
func TestHalfRounding(t *testing.T) {
	f16 := []struct {
		v    float64
		want uint16
	}{
		{1, 0x3c00},
		{1 + math.Ldexp(1, -11), 0x3c00},                      // tie: down to even
		{1 + 3*math.Ldexp(1, -11), 0x3c02},                    // tie: up to even
		{1 + math.Ldexp(1, -11) + math.Ldexp(1, -30), 0x3c01}, // just above the tie
		{65504, 0x7bff},                                       // max
		{65519.99, 0x7bff},                                    // rounds down to max
		{65520, 0x7c00},                                       // tie at max rounds to Inf
		{1e10, 0x7c00},
		{-1e10, 0xfc00},
		{math.Inf(1), 0x7c00},
		{math.Inf(-1), 0xfc00},
		{math.Ldexp(1, -14), 0x0400},    // smallest normal
		{math.Ldexp(1, -24), 0x0001},    // smallest subnormal
		{math.Ldexp(1023, -24), 0x03ff}, // largest subnormal
		{math.Ldexp(1, -25), 0x0000},    // tie to zero (even)
		{math.Ldexp(3, -26), 0x0001},    // above the tie
		{-math.Ldexp(1, -26), 0x8000},   // underflow keeps the sign
		{math.Copysign(0, -1), 0x8000},
		{math.Ldexp(2047, -25), 0x0400}, // subnormal rounding carries into the normals
		{0.1, 0x2e66},
	}
	for _, c := range f16 {
		if got := F16Bits(c.v); got != c.want {
			t.Errorf("F16Bits(%g) = %#04x, want %#04x", c.v, got, c.want)
		}
	}
	bf16 := []struct {
		v    float64
		want uint16
	}{
		{1, 0x3f80},
		{1 + math.Ldexp(1, -8), 0x3f80},   // tie: down to even
		{1 + 3*math.Ldexp(1, -8), 0x3f82}, // tie: up to even
		{math.MaxFloat32, 0x7f80},         // rounds past the largest finite bf16
		{3.3895313892515355e38, 0x7f7f},   // largest finite bf16
		{math.Ldexp(1, -133), 0x0001},     // smallest subnormal
		{math.Ldexp(1, -134), 0x0000},     // tie to zero
		{-math.Ldexp(1, -140), 0x8000},
		{math.Inf(-1), 0xff80},
	}
	for _, c := range bf16 {
		if got := BF16Bits(c.v); got != c.want {
			t.Errorf("BF16Bits(%g) = %#04x, want %#04x", c.v, got, c.want)
		}
	}
	if h := F16Bits(math.NaN()); h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
		t.Errorf("F16Bits(NaN) = %#04x, not a NaN", h)
	}
	if h := BF16Bits(-math.NaN()); h&0x7f80 != 0x7f80 || h&0x7f == 0 {
		t.Errorf("BF16Bits(NaN) = %#04x, not a NaN", h)
	}
}

// TestOpDTypes fails when an op's input slot declares no dtypes, and checks
// that a dtype outside a slot's set is refused before the shape rule runs.
func TestOpDTypes(t *testing.T) {
	for _, d := range Ops() {
		for _, in := range d.Inputs {
			if in.DTypes == 0 {
				t.Errorf("op %s: input %s declares no dtypes (set InputDef.DTypes)", d.Name, in.Name)
			}
		}
	}
	g := NewGraph("m")
	x := g.AddInput("x", TensorType{I64, Shape{2}}, Pos{})
	if _, err := g.AddNode("sqrt", "r", []*Value{x}, nil, Pos{}); err == nil || !strings.Contains(err.Error(), "must be one of {f32, f64, f16, bf16}") {
		t.Errorf("sqrt on i64: %v, want a dtype error", err)
	}
	c, err := g.AddNode("cast", "c", []*Value{x}, Attrs{"to": "f16"}, Pos{})
	if err != nil || c.Out().Type.DType != F16 {
		t.Fatalf("cast to f16: %v", err)
	}
	if _, err := g.AddNode("cast", "c2", []*Value{x}, Attrs{"to": "f8"}, Pos{}); err == nil {
		t.Error("cast to an unknown dtype is accepted")
	}
	y, err := g.AddNode("transpose", "t", []*Value{c.Out()}, Attrs{"perm": []int{0}}, Pos{})
	if err != nil || y.Out().Type.DType != F16 {
		t.Errorf("transpose keeps the dtype: %v", err)
	}
}

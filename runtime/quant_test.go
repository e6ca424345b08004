package runtime

import (
	"fmt"
	"math"
	"testing"

	"github.com/dlcompiler/dlc/ir"
)

// TestQuantKernels pins hand-computed values of the quantization ops:
// ties to even, zero points, saturation, float8 targets, f16 division,
// blocked scales, the requant multiplier and bitcast.
func TestQuantKernels(t *testing.T) {
	x := testF32(ir.Shape{6}, 0.25, 0.75, -0.25, 100, -100, float32(math.NaN()))
	scalar := func(dt ir.DType, v float64) *ir.Tensor {
		s := ir.NewTensor(dt, ir.Shape{})
		s.SetFloat(0, v)
		return s
	}
	for _, c := range []struct {
		op    string
		attrs ir.Attrs
		in    []*ir.Tensor
		want  string
	}{
		// 0.25/0.5 = 0.5 → 0 (even), 1.5 → 2, -0.5 → -0, then +10 and clip to u8;
		// for f8e4m3fn 0.25/0.1 is 2.5 in f32 (0x42), 7.5 is 0x4f; requant 4.5 → 4
		{"quantize", ir.Attrs{"to": "u8"}, []*ir.Tensor{x, scalar(ir.F32, 0.5), scalar(ir.U8, 10)}, "[10 12 10 210 0 10]"},
		{"quantize", ir.Attrs{"to": "i4"}, []*ir.Tensor{x, scalar(ir.F32, 0.5)}, "[0 2 0 7 -8 0]"},
		{"quantize", ir.Attrs{"to": "f8e4m3fn"}, []*ir.Tensor{x, scalar(ir.F32, 0.1)}, "[66 79 194 126 254 127]"},
		{"quantize", ir.Attrs{"to": "f8e4m3fn", "no_saturate": true}, []*ir.Tensor{x, scalar(ir.F32, 0.1)}, "[66 79 194 127 255 127]"},
		// blocked: axis 0 in blocks of 4, two scales
		{"quantize", ir.Attrs{"to": "i8", "axis": 0, "block_size": 4}, []*ir.Tensor{x, ir.FromF32(ir.Shape{2}, []float32{0.25, 1})}, "[1 3 -1 127 -100 0]"},
		{"dequantize", ir.Attrs{"to": "f32"}, []*ir.Tensor{ir.FromSlice(ir.U8, ir.Shape{3}, []uint8{0, 10, 255}), scalar(ir.F32, 0.5), scalar(ir.U8, 10)}, "[-5 0 122.5]"},
		{"dequantize", ir.Attrs{"to": "f16"}, []*ir.Tensor{ir.FromSlice(ir.I4, ir.Shape{2}, []int8{-8, 7}), scalar(ir.F32, 0.5)}, "[50176 17152]"}, // -4, 3.5 as f16 bits
		{"requant", ir.Attrs{"to": "i8"}, []*ir.Tensor{ir.FromSlice(ir.I32, ir.Shape{4}, []int32{5, 7, 1000, -1000}), scalar(ir.F32, 0.5), scalar(ir.F32, 0.5), scalar(ir.F32, 0.5), scalar(ir.I8, 1)}, "[4 4 127 -128]"},
		{"bitcast", ir.Attrs{"to": "i32"}, []*ir.Tensor{testF32(ir.Shape{2}, 1, -2)}, "[1065353216 -1073741824]"},
		{"bitcast", ir.Attrs{"to": "u8"}, []*ir.Tensor{ir.FromSlice(ir.Bool, ir.Shape{2}, []bool{true, false})}, "[1 0]"},
	} {
		outs, err := runSingleOp(t, c.op, c.attrs, c.in...)
		if err != nil {
			t.Errorf("%s %v: %v", c.op, c.attrs, err)
			continue
		}
		if got := fmt.Sprint(outs[0].Data); got != c.want {
			t.Errorf("%s %v: %s, want %s", c.op, c.attrs, got, c.want)
		}
	}
	outs, err := runSingleOp(t, "dynamic_quantize", nil, testF32(ir.Shape{4}, -1, 0, 2, 3))
	if err != nil {
		t.Fatal(err)
	}
	// scale 4/255 in f32, zero point rint(63.75) = 64; 2/scale is 127.4999 in f32
	if got := fmt.Sprint(outs[0].Data, outs[1].Data, outs[2].Data); got != "[0 64 191 255] [0.015686275] [64]" {
		t.Errorf("dynamic_quantize: %s", got)
	}
}

package runtime

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/ir"
)

// evalOp runs op on constant inputs and returns its output, or the error.
func evalOp(t *testing.T, op string, attrs ir.Attrs, ins ...*ir.Tensor) (*ir.Tensor, error) {
	t.Helper()
	g := ir.NewGraph("t")
	var vs []*ir.Value
	for i, x := range ins {
		vs = append(vs, g.AddParam(fmt.Sprintf("in%d", i), ir.Const, x.Type(), x, "", ir.Pos{}))
	}
	n, err := g.AddNode(op, "layer", vs, attrs, ir.Pos{})
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	outs, err := EvalNode(n)
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

func floats(dt ir.DType, vs ...float64) *ir.Tensor {
	t := ir.NewTensor(dt, ir.Shape{len(vs)})
	for i, v := range vs {
		t.SetFloat(i, v)
	}
	return t
}

func ints(dt ir.DType, vs ...int64) *ir.Tensor {
	t := ir.NewTensor(dt, ir.Shape{len(vs)})
	for i, v := range vs {
		t.SetInt(i, v)
	}
	return t
}

// TestLogicOps pins the family's semantics on NaN, ±Inf, -0, integer
// extremes and broadcasting, against values worked out by hand (those of
// torch and numpy).
func TestLogicOps(t *testing.T) {
	nan, inf, negz := math.NaN(), math.Inf(1), math.Copysign(0, -1)
	f := floats(ir.F32, nan, inf, -inf, negz, 1, -2.5)
	g := floats(ir.F32, nan, inf, inf, 0, 2, -2.5)
	minI, maxI := int64(math.MinInt64), int64(math.MaxInt64)
	i := ints(ir.I64, minI, maxI, -7, 7, -7, 0)
	j := ints(ir.I64, -1, -1, 2, -2, -2, 5)
	bools := ir.FromSlice(ir.Bool, ir.Shape{4}, []bool{false, false, true, true})
	boolsB := ir.FromSlice(ir.Bool, ir.Shape{4}, []bool{false, true, false, true})
	col := ir.FromSlice(ir.Bool, ir.Shape{2, 1}, []bool{true, false})
	u8 := ints(ir.U8, 1, 255, 128, 3)
	sh := ints(ir.U8, 1, 1, 7, 8)
	cases := []struct {
		op    string
		attrs ir.Attrs
		ins   []*ir.Tensor
		want  string
	}{
		{"eq", nil, []*ir.Tensor{f, g}, "[false true false true false true]"}, // NaN != NaN; -0 == 0
		{"lt", nil, []*ir.Tensor{f, g}, "[false false true false true false]"},
		{"ge", nil, []*ir.Tensor{f, g}, "[false true false true false true]"},
		{"gt", nil, []*ir.Tensor{i, j}, "[false true false true false false]"},
		{"le", nil, []*ir.Tensor{ints(ir.U64, -1, 0), ints(ir.U64, 1, 0)}, "[false true]"}, // u64 max > 1
		{"lt", nil, []*ir.Tensor{bools, boolsB}, "[false true false false]"},               // false < true
		{"eq", nil, []*ir.Tensor{floats(ir.F16, negz, nan), floats(ir.F16, 0, nan)}, "[true false]"},
		{"logical_and", nil, []*ir.Tensor{bools, boolsB}, "[false false false true]"},
		{"logical_or", nil, []*ir.Tensor{bools, boolsB}, "[false true true true]"},
		{"logical_xor", nil, []*ir.Tensor{bools, boolsB}, "[false true true false]"},
		{"logical_not", nil, []*ir.Tensor{bools}, "[true true false false]"},
		{"logical_and", nil, []*ir.Tensor{col, boolsB}, "[false true false true false false false false]"}, // [2,1] with [4]
		{"bitwise_and", nil, []*ir.Tensor{ints(ir.I8, -1, 0x55, -128), ints(ir.I8, 0x0f, 0x0f, -1)}, "[15 5 -128]"},
		{"bitwise_or", nil, []*ir.Tensor{ints(ir.U16, 0xff00, 1), ints(ir.U16, 0x00ff, 2)}, "[65535 3]"},
		{"bitwise_xor", nil, []*ir.Tensor{ints(ir.I32, -1, 6), ints(ir.I32, 1, 3)}, "[-2 5]"},
		{"bitwise_not", nil, []*ir.Tensor{ints(ir.U8, 0, 0xf0)}, "[255 15]"},
		{"bitwise_not", nil, []*ir.Tensor{ints(ir.I64, 0, minI)}, "[-1 9223372036854775807]"},
		{"bitwise_left_shift", nil, []*ir.Tensor{u8, sh}, "[2 254 0 0]"}, // a shift by 8 clears a u8
		{"bitwise_right_shift", nil, []*ir.Tensor{u8, sh}, "[0 127 1 0]"},
		{"bitwise_right_shift", nil, []*ir.Tensor{ints(ir.U64, -1), ints(ir.U64, 63)}, "[1]"},
		{"where", nil, []*ir.Tensor{col, floats(ir.F64, 1, 2), floats(ir.F64, nan, -1)}, "[1 2 NaN -1]"},
		{"where", nil, []*ir.Tensor{bools, ints(ir.U64, -1), ints(ir.U64, 0)}, "[0 0 18446744073709551615 18446744073709551615]"},
		{"isnan", nil, []*ir.Tensor{f}, "[true false false false false false]"},
		{"isinf", nil, []*ir.Tensor{f}, "[false true true false false false]"},
		{"isinf", ir.Attrs{"detect_negative": false}, []*ir.Tensor{f}, "[false true false false false false]"},
		{"isinf", ir.Attrs{"detect_positive": false}, []*ir.Tensor{floats(ir.BF16, inf, -inf)}, "[false true]"},
		// MinInt64 mod -1 is 0; C's sign of a, Python's sign of b.
		{"fmod", nil, []*ir.Tensor{i, j}, "[0 0 -1 1 -1 0]"},
		{"remainder", nil, []*ir.Tensor{i, j}, "[0 0 1 -1 -1 0]"},
		{"remainder", nil, []*ir.Tensor{ints(ir.I8, -128, -128, 127), ints(ir.I8, -1, 3, -128)}, "[0 1 -1]"},
		{"remainder", nil, []*ir.Tensor{ints(ir.U32, 7, -1), ints(ir.U32, 3, 10)}, "[1 5]"},
		{"fmod", nil, []*ir.Tensor{floats(ir.F32, -7, 7, 5.5, -0.0, inf, 3, negz), floats(ir.F32, 2, -2, -2, 3, 2, 0, 5)}, "[-1 1 1.5 0 NaN NaN -0]"},
		{"remainder", nil, []*ir.Tensor{floats(ir.F32, -7, 7, 5.5, 6, inf, 3, 1, -1), floats(ir.F32, 2, -2, -2, -3, 2, 0, inf, inf)}, "[1 -1 -0.5 -0 NaN NaN 1 +Inf]"},
	}
	for _, c := range cases {
		y, err := evalOp(t, c.op, c.attrs, c.ins...)
		if err != nil {
			t.Errorf("%s: %v", c.op, err)
			continue
		}
		got := fmt.Sprint(y.Data)
		if y.DType == ir.F16 || y.DType == ir.BF16 {
			got = fmt.Sprint(ir.Convert(y, ir.F64).Data)
		}
		if got != c.want {
			t.Errorf("%s%v(%v): got %s, want %s", c.op, c.attrs, c.ins, got, c.want)
		}
	}
}

// TestModByZero: an integer fmod or remainder by zero is a run-time
// error naming the element (Run adds the layer), as integer division is;
// a float one is NaN.
func TestModByZero(t *testing.T) {
	for _, op := range []string{"fmod", "remainder"} {
		for _, dt := range []ir.DType{ir.I32, ir.U64, ir.I64} {
			_, err := evalOp(t, op, nil, ints(dt, 5, 6), ints(dt, 1, 0))
			if err == nil || !strings.Contains(err.Error(), "modulo by zero") || !strings.Contains(err.Error(), "element 1") {
				t.Errorf("%s %v by zero: got %v", op, dt, err)
			}
		}
	}
}

package codegen

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/codegen/kernels"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/passes"
	"github.com/dlcompiler/dlc/runtime"
)

// The equivalence tests build small graphs for every op with varied
// shapes and attributes, record the interpreter's outputs, generate each
// into one sub-package of a single temporary module and run one `go test
// ./...` over it: every generated self-test compares with the
// interpreter.

// gb builds a test graph with random parameters.
type gb struct {
	t *testing.T
	g *ir.Graph
	r *rand.Rand
	k int
}

func f32t(s ...int) ir.TensorType { return ir.TensorType{DType: ir.F32, Shape: s} }

func (b *gb) input(name string, s ...int) *ir.Value { return b.g.AddInput(name, f32t(s...), ir.Pos{}) }

func (b *gb) ids(name string, s ...int) *ir.Value {
	return b.g.AddInput(name, ir.TensorType{DType: ir.I64, Shape: s}, ir.Pos{})
}

func (b *gb) param(s ...int) *ir.Value {
	b.k++
	t := ir.NewTensor(ir.F32, s)
	for i := range t.F32() {
		t.F32()[i] = float32(b.r.Float64()*2 - 1)
	}
	return b.g.AddParam(fmt.Sprintf("p%d", b.k), ir.Param, f32t(s...), t, "", ir.Pos{})
}

// positive is a parameter in [0.5, 1.5) (batch-norm variances).
func (b *gb) positive(s ...int) *ir.Value {
	v := b.param(s...)
	for i := range v.Data.F32() {
		v.Data.F32()[i] = v.Data.F32()[i]/2 + 1
	}
	return v
}

func (b *gb) constIDs(vals []int64, s ...int) *ir.Value {
	b.k++
	t := ir.NewTensor(ir.I64, s)
	copy(t.I64(), vals)
	return b.g.AddParam(fmt.Sprintf("c%d", b.k), ir.Const, ir.TensorType{DType: ir.I64, Shape: s}, t, "", ir.Pos{})
}

// node adds a node and returns its outputs.
func (b *gb) node(op string, in []*ir.Value, attrs ir.Attrs) []*ir.Value {
	b.t.Helper()
	b.k++
	n, err := b.g.AddNode(op, fmt.Sprintf("%s%d", op, b.k), in, attrs, ir.Pos{})
	if err != nil {
		b.t.Fatalf("%s: %v", b.g.Name, err)
	}
	return n.Outputs
}

func (b *gb) n1(op string, in []*ir.Value, attrs ir.Attrs) *ir.Value { return b.node(op, in, attrs)[0] }

func (b *gb) out(vs ...*ir.Value) {
	for i, v := range vs {
		b.g.AddOutput(fmt.Sprintf("out%d", i), v)
	}
}

type equivCase struct {
	name  string
	build func(b *gb)
}

func rnnWeights(b *gb, op string, in, h, layers int, bidi, bias bool) []*ir.Value {
	G := ir.RNNGates(op)
	D := 1
	if bidi {
		D = 2
	}
	var ws []*ir.Value
	for l := range layers {
		isz := in
		if l > 0 {
			isz = h * D
		}
		for range D {
			ws = append(ws, b.param(G*h, isz), b.param(G*h, h))
			if bias {
				ws = append(ws, b.param(G*h), b.param(G*h))
			}
		}
	}
	return ws
}

// dtypeCase moves every dtype of ir's table through transpose, reshape
// and concat, adds it to itself (ir.BinaryDTypes) and casts it to f32, and
// casts f32 to it: random inputs, plus a constant of edge values (±0,
// ties, the f16 maximum and overflow, subnormals, ±Inf, NaN, values out of
// every integer range) for the rounding and saturation rules.
func dtypeCase(b *gb) {
	edges := []float32{0, float32(math.Copysign(0, -1)), 1, -2.5, 2.5, 3.5, 0.1, 65504, 65519, 65520, 1e10, -1e10, 6e-8, 2.9e-8, 1e-40,
		3e38, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 300, -300, 70000, -70000, 3e9, -3e9,
		1 + 0x1p-11, 1 + 0x3p-11, 1 + 0x1p-8, -1 - 0x3p-8, 0x1p-25, 0x3p-26, 0x1p-134,
		448, 464, 465, -240, 250, 57344, 61440, 0x1p-10, 0x3p-11, 1 + 1.0/16, 0.25, 0.75, 5, -6.5, 0x1p-127, 0x1p-130} // float8, float4, e8m0
	b.k++
	et := ir.FromF32(ir.Shape{len(edges)}, edges)
	ev := b.g.AddParam(fmt.Sprintf("edges%d", b.k), ir.Const, et.Type(), et, "", ir.Pos{})
	f := b.input("f", 2, 3)
	var outs []*ir.Value
	for _, dt := range ir.DTypes() {
		x := b.g.AddInput("x"+dt.String(), ir.TensorType{DType: dt, Shape: ir.Shape{2, 3}}, ir.Pos{})
		if !ir.AnyDType.Has(dt) { // the low-precision dtypes: casts only
			outs = append(outs, b.n1("cast", []*ir.Value{x}, ir.Attrs{"to": "f32"}), b.n1("cast", []*ir.Value{f}, ir.Attrs{"to": dt.String()}),
				b.n1("cast", []*ir.Value{ev}, ir.Attrs{"to": dt.String()}), b.n1("cast", []*ir.Value{ev}, ir.Attrs{"to": dt.String(), "no_saturate": true}))
			continue
		}
		t := b.n1("transpose", []*ir.Value{x}, ir.Attrs{"perm": []int{1, 0}})
		r := b.n1("reshape", []*ir.Value{t}, ir.Attrs{"shape": []int{2, 3}})
		outs = append(outs, t, b.n1("concat", []*ir.Value{x, r}, ir.Attrs{"axis": 0}))
		if ir.BinaryDTypes.Has(dt) {
			outs = append(outs, b.n1("add", []*ir.Value{x, x}, nil))
		}
		outs = append(outs, b.n1("cast", []*ir.Value{x}, ir.Attrs{"to": "f32"}), b.n1("cast", []*ir.Value{f}, ir.Attrs{"to": dt.String()}))
		if dt != ir.F32 {
			outs = append(outs, b.n1("cast", []*ir.Value{ev}, ir.Attrs{"to": dt.String()}))
		}
	}
	b.out(outs...)
}

// castPairsCase casts between every pair of dtypes (ONNX Cast and
// CastLike): the edge values of dtypeCase converted to each dtype, and a
// random input of each dtype, each cast to every other dtype.
func castPairsCase(b *gb) {
	edges := []float32{0, float32(math.Copysign(0, -1)), 1, -1, -2.5, 2.5, 0.5, -0.7, 127.9, -128.9, 255.5, 256, 65504, 65520,
		-32769, 3e9, -3e9, 1e19, -1e19, 3e38, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e-40}
	b.k++
	et := ir.FromF32(ir.Shape{len(edges)}, edges)
	ev := b.g.AddParam(fmt.Sprintf("edges%d", b.k), ir.Const, et.Type(), et, "", ir.Pos{})
	var outs []*ir.Value
	for _, from := range ir.DTypes() {
		src := []*ir.Value{b.n1("cast", []*ir.Value{ev}, ir.Attrs{"to": from.String()}),
			b.g.AddInput("x"+from.String(), ir.TensorType{DType: from, Shape: ir.Shape{2, 3}}, ir.Pos{})}
		for _, x := range src {
			for _, to := range ir.DTypes() {
				if to != from {
					outs = append(outs, b.n1("cast", []*ir.Value{x}, ir.Attrs{"to": to.String()}))
				}
			}
		}
	}
	b.out(outs...)
}

// logicCase applies every op of ir/ops_logic.go that takes dt to
// random inputs a [3, 8] and b [8], broadcast; integer divisors are
// b | 1, so that fmod and remainder divide.
func logicCase(dt ir.DType) func(b *gb) {
	return func(b *gb) {
		x := b.g.AddInput("a", ir.TensorType{DType: dt, Shape: ir.Shape{3, 8}}, ir.Pos{})
		y := b.g.AddInput("b", ir.TensorType{DType: dt, Shape: ir.Shape{8}}, ir.Pos{})
		c := b.n1("lt", []*ir.Value{x, y}, nil)
		var outs []*ir.Value
		for _, d := range ir.Ops() {
			if _, ok := ir.LogicOps[d.Name]; !ok || !d.Inputs[len(d.Inputs)-1].DTypes.Has(dt) {
				continue
			}
			switch {
			case len(d.Inputs) == 1:
				outs = append(outs, b.n1(d.Name, []*ir.Value{x}, nil))
			case d.Name == "where":
				outs = append(outs, b.n1(d.Name, []*ir.Value{c, x, y}, nil))
			case (d.Name == "fmod" || d.Name == "remainder") && !dt.IsFloat():
				one := b.n1("cast", []*ir.Value{b.n1("eq", []*ir.Value{y, y}, nil)}, ir.Attrs{"to": dt.String()})
				odd := b.n1("bitwise_or", []*ir.Value{y, one}, nil) // b | 1: never 0
				outs = append(outs, b.n1(d.Name, []*ir.Value{x, odd}, nil))
			default:
				outs = append(outs, b.n1(d.Name, []*ir.Value{x, y}, nil))
			}
		}
		b.out(outs...)
	}
}

// unaryCase applies every element-wise op with a Unary form that takes dt
// to one input of dt (clip also with bounds inside the integers' range).
func unaryCase(dt ir.DType) func(b *gb) {
	return func(b *gb) {
		x := b.g.AddInput("x", ir.TensorType{DType: dt, Shape: ir.Shape{3, 7}}, ir.Pos{})
		var outs []*ir.Value
		for _, d := range ir.Ops() {
			if d.Unary != nil && d.Inputs[0].DTypes.Has(dt) {
				outs = append(outs, b.n1(d.Name, []*ir.Value{x}, nil))
			}
		}
		outs = append(outs, b.n1("clip", []*ir.Value{x}, ir.Attrs{"min": -3.5, "max": 5.0}), b.n1("clip", []*ir.Value{x}, ir.Attrs{"min": 2.0, "max": -1.0}))
		b.out(outs...)
	}
}

// reduceCase applies every reduction, cumsum and cumprod to one input of dt.
func reduceCase(dt ir.DType) func(b *gb) {
	return func(b *gb) {
		x := b.g.AddInput("x", ir.TensorType{DType: dt, Shape: ir.Shape{3, 4, 5}}, ir.Pos{})
		var outs []*ir.Value
		for _, d := range ir.Ops() {
			if d.Reduction != nil && d.Inputs[0].DTypes.Has(dt) {
				outs = append(outs, b.n1(d.Name, []*ir.Value{x}, ir.Attrs{"axes": []int{0, 2}}), b.n1(d.Name, []*ir.Value{x}, ir.Attrs{"axes": []int{-1}, "keepdims": true}))
			}
		}
		for _, op := range []string{"cumsum", "cumprod"} {
			outs = append(outs, b.n1(op, []*ir.Value{x}, ir.Attrs{"axis": 1}), b.n1(op, []*ir.Value{x}, ir.Attrs{"axis": 2, "exclusive": true, "reverse": true}))
		}
		b.out(outs...)
	}
}

func equivCases() []equivCase {
	conv := func(x []int, w []int, attrs ir.Attrs, bias bool) func(b *gb) {
		return func(b *gb) {
			in := b.input("x", x...)
			var bv *ir.Value
			if bias {
				bv = b.param(w[0])
			}
			b.out(b.n1("conv", []*ir.Value{in, b.param(w...), bv}, attrs))
		}
	}
	pool := func(op string, x []int, attrs ir.Attrs) func(b *gb) {
		return func(b *gb) { b.out(b.n1(op, []*ir.Value{b.input("x", x...)}, attrs)) }
	}
	// maxpool with its indices output (both outputs are graph outputs).
	poolIdx := func(x []int, attrs ir.Attrs) func(b *gb) {
		return func(b *gb) { b.out(b.node("maxpool", []*ir.Value{b.input("x", x...)}, attrs)...) }
	}
	unary := func(op string, attrs ir.Attrs) func(b *gb) {
		return func(b *gb) { b.out(b.n1(op, []*ir.Value{b.input("x", 3, 7)}, attrs)) }
	}
	binary := func(op string, a, c []int) func(b *gb) {
		return func(b *gb) { b.out(b.n1(op, []*ir.Value{b.input("a", a...), b.input("b", c...)}, nil)) }
	}
	reduce := func(op string, attrs ir.Attrs) func(b *gb) {
		return func(b *gb) { b.out(b.n1(op, []*ir.Value{b.input("x", 3, 1, 4, 5)}, attrs)) }
	}
	recurrent := func(op string, T, N, F, H, L int, bidi, bf, bias, states bool, extra ir.Attrs) func(b *gb) {
		return func(b *gb) {
			xs := []int{T, N, F}
			if bf {
				xs = []int{N, T, F}
			}
			x := b.input("x", xs...)
			D := 1
			if bidi {
				D = 2
			}
			in := []*ir.Value{x, nil}
			if op == "lstm" {
				in = append(in, nil)
			}
			if states {
				in[1] = b.input("h0", L*D, N, H)
				if op == "lstm" {
					in[2] = b.input("c0", L*D, N, H)
				}
			}
			in = append(in, rnnWeights(b, op, F, H, L, bidi, bias)...)
			attrs := ir.Attrs{"hidden_size": H, "num_layers": L, "bidirectional": bidi, "batch_first": bf, "bias": bias}
			for k, v := range extra {
				attrs[k] = v
			}
			b.out(b.node(op, in, attrs)...)
		}
	}
	cs := []equivCase{
		{"dtypes", dtypeCase},
		{"castpairs", castPairsCase},
		{"reducef64", reduceCase(ir.F64)}, {"reducef16", reduceCase(ir.F16)}, {"reducei32", reduceCase(ir.I32)},
		{"unaryf64", unaryCase(ir.F64)}, {"unaryf16", unaryCase(ir.F16)}, {"unaryi32", unaryCase(ir.I32)}, {"unaryu8", unaryCase(ir.U8)},
		{"logicf32", logicCase(ir.F32)}, {"logicf16", logicCase(ir.F16)}, {"logici32", logicCase(ir.I32)},
		{"logicu8", logicCase(ir.U8)}, {"logicu64", logicCase(ir.U64)}, {"logicbool", logicCase(ir.Bool)},
		{"relu", unary("relu", nil)},
		{"sigmoid", unary("sigmoid", nil)},
		{"tanh", unary("tanh", nil)},
		{"leaky", unary("leaky_relu", ir.Attrs{"alpha": 0.2})},
		{"gelu", unary("gelu", nil)},
		{"gelutanh", unary("gelu", ir.Attrs{"approximate": "tanh"})},
		{"clip", unary("clip", ir.Attrs{"min": -0.25, "max": 0.5})},
		{"cliplow", unary("clip", ir.Attrs{"min": 0.0})},
		{"identity", unary("identity", nil)},
		{"dropout", unary("dropout", nil)},
		{"sumall", reduce("reduce_sum", nil)},
		{"sumkeep", reduce("reduce_sum", ir.Attrs{"axes": []int{-1, 1}, "keepdims": true})},
		{"maxmid", reduce("reduce_max", ir.Attrs{"axes": []int{2}})},
		{"meankeep", reduce("reduce_mean", ir.Attrs{"axes": []int{0, 3}, "keepdims": true})},
		{"meanall", reduce("reduce_mean", nil)},
		{"add", binary("add", []int{2, 3, 5}, []int{2, 3, 5})},
		{"addbc", binary("add", []int{2, 3, 5}, []int{3, 1})},
		{"subbc", binary("sub", []int{4, 1, 5}, []int{3, 1})},
		{"mulscalar", binary("mul", []int{3, 5}, []int{1})},
		{"divbc", binary("div", []int{1, 5}, []int{3, 2, 1})},
		{"dense", func(b *gb) {
			b.out(b.n1("dense", []*ir.Value{b.input("x", 3, 13), b.param(7, 13), b.param(7)}, nil))
		}},
		{"dense3d", func(b *gb) {
			b.out(b.n1("dense", []*ir.Value{b.input("x", 2, 3, 9), b.param(5, 9), nil}, nil))
		}},
		{"matmul", binary("matmul", []int{3, 5}, []int{5, 7})},
		{"matmulbatch", binary("matmul", []int{2, 1, 3, 4}, []int{3, 4, 5})},
		{"matmulvec", binary("matmul", []int{6}, []int{2, 6, 3})},
		{"matmulvec2", binary("matmul", []int{2, 3, 6}, []int{6})},
		// On the Gemm kernel (-O2): rows past one block of MR, several
		// column blocks, broadcast batches.
		{"matmulgemm", binary("matmul", []int{2, 13, 20}, []int{20, 64})},
		{"matmulgemmbc", binary("matmul", []int{2, 1, 5, 16}, []int{3, 16, 32})},
		{"conv2d", conv([]int{1, 3, 9, 8}, []int{5, 3, 3, 3}, nil, true)},
		{"conv2dpad", conv([]int{2, 2, 7, 9}, []int{4, 2, 3, 2}, ir.Attrs{"pads": []int{1, 0, 2, 1}, "strides": []int{2, 1}}, false)},
		{"conv2ddil", conv([]int{1, 2, 11, 10}, []int{3, 2, 3, 3}, ir.Attrs{"dilations": []int{2, 3}, "pads": []int{2, 2}}, true)},
		{"conv2dgroups", conv([]int{1, 6, 8, 7}, []int{9, 2, 3, 3}, ir.Attrs{"groups": 3, "pads": []int{1, 1}, "strides": []int{2}}, true)},
		{"conv2ddepthwise", conv([]int{1, 4, 6, 6}, []int{4, 1, 3, 3}, ir.Attrs{"groups": 4, "pads": []int{1, 1}}, true)},
		// Depthwise and grouped convolutions on the depthwise kernels
		// (-O2): every window and stride registered, row tails below,
		// at and past a vector, asymmetric and no padding, rows and
		// columns never read, channel multipliers, input channels summed
		// (Cg > 1), batch 2, and fused epilogues in and after the kernel.
		{"dw3s1", conv([]int{1, 8, 13, 13}, []int{8, 1, 3, 3}, ir.Attrs{"groups": 8, "pads": []int{1, 1}}, true)},
		{"dw3s2", conv([]int{1, 6, 14, 15}, []int{6, 1, 3, 3}, ir.Attrs{"groups": 6, "pads": []int{1, 1}, "strides": []int{2, 2}}, true)},
		{"dw3s2odd", conv([]int{2, 3, 9, 40}, []int{3, 1, 3, 3}, ir.Attrs{"groups": 3, "pads": []int{0, 1, 1, 0}, "strides": []int{2, 2}}, false)},
		{"dw5s1", conv([]int{1, 4, 10, 37}, []int{4, 1, 5, 5}, ir.Attrs{"groups": 4, "pads": []int{2, 2}}, true)},
		{"dw5s2", conv([]int{1, 4, 11, 11}, []int{4, 1, 5, 5}, ir.Attrs{"groups": 4, "pads": []int{2, 2}, "strides": []int{2, 2}}, true)},
		{"dwnopad", conv([]int{1, 2, 10, 10}, []int{2, 1, 3, 3}, ir.Attrs{"groups": 2, "strides": []int{2, 2}}, true)},
		{"dwmult", conv([]int{1, 3, 7, 9}, []int{6, 1, 3, 3}, ir.Attrs{"groups": 3, "pads": []int{1, 1}}, true)},
		{"dwgroups", conv([]int{1, 6, 8, 9}, []int{6, 2, 3, 3}, ir.Attrs{"groups": 3, "pads": []int{1, 1}}, true)},
		{"dwclip", func(b *gb) {
			b.out(b.n1("fused_conv", []*ir.Value{b.input("x", 1, 8, 12, 12), b.param(8, 1, 3, 3), b.param(8)},
				ir.Attrs{"groups": 8, "pads": []int{1, 1}, "act": "clip", "min": -0.2, "max": 0.3}))
		}},
		{"dwgroupsrelu", func(b *gb) {
			b.out(b.n1("fused_conv", []*ir.Value{b.input("x", 1, 6, 9, 17), b.param(6, 3, 3, 3), b.param(6)},
				ir.Attrs{"groups": 2, "pads": []int{1, 1}, "strides": []int{2, 2}, "act": "relu"}))
		}},
		{"dwres", func(b *gb) {
			b.out(b.n1("fused_conv", []*ir.Value{b.input("x", 1, 4, 8, 8), b.param(4, 1, 3, 3), b.param(4), b.input("r", 1, 4, 8, 8)},
				ir.Attrs{"groups": 4, "pads": []int{1, 1}, "act": "relu"}))
		}},
		{"dwsigmoid", func(b *gb) {
			b.out(b.n1("fused_conv", []*ir.Value{b.input("x", 1, 4, 9, 9), b.param(4, 1, 5, 5), b.param(4)},
				ir.Attrs{"groups": 4, "pads": []int{2, 2}, "strides": []int{2, 2}, "act": "sigmoid"}))
		}},
		{"dwpool", func(b *gb) {
			b.out(b.n1("fused_conv", []*ir.Value{b.input("x", 1, 4, 10, 10), b.param(4, 1, 3, 3), b.param(4)},
				ir.Attrs{"groups": 4, "pads": []int{1, 1}, "act": "relu", "pool": "max", "pool_kernel": []int{2, 2}}))
		}},
		{"conv2dbigpad", conv([]int{1, 1, 3, 3}, []int{2, 1, 2, 2}, ir.Attrs{"pads": []int{3, 3, 3, 3}, "strides": []int{3}}, true)},
		{"conv1d", conv([]int{2, 3, 17}, []int{4, 3, 5}, ir.Attrs{"pads": []int{2}, "strides": []int{3}}, true)},
		{"conv1ddil", conv([]int{1, 2, 15}, []int{3, 2, 3}, ir.Attrs{"dilations": []int{4}, "pads": []int{1, 3}}, false)},
		{"conv3d", conv([]int{1, 2, 5, 6, 5}, []int{3, 2, 3, 2, 3}, ir.Attrs{"pads": []int{1, 0, 1}, "strides": []int{1, 2, 2}}, true)},
		{"conv3dgroups", conv([]int{1, 4, 4, 5, 4}, []int{4, 2, 2, 3, 2}, ir.Attrs{"groups": 2, "dilations": []int{1, 2, 1}}, true)},
		{"conv2dbatch", conv([]int{2, 5, 7, 6}, []int{7, 5, 3, 3}, ir.Attrs{"pads": []int{1, 2, 0, 1}}, true)},
		// Big enough that the tiling pass splits columns and channels.
		{"conv2dbig", conv([]int{1, 64, 12, 12}, []int{72, 64, 3, 3}, ir.Attrs{"pads": []int{1, 1}}, true)},
		// Odd sizes for the SIMD kernels: positions not a multiple of 16,
		// odd reduction length and channel count.
		{"conv2dodd", conv([]int{1, 5, 9, 7}, []int{13, 5, 3, 3}, ir.Attrs{"pads": []int{1, 1}}, true)},
		// 1×1, stride 1, no padding: the kernel reads the input itself;
		// 63 and 40 positions end in a partial panel; groups.
		{"conv1x1", conv([]int{2, 24, 7, 9}, []int{20, 24, 1, 1}, nil, true)},
		// The transposed GEMM (conv_tgemm.go): a strided 1×1 (xp holds
		// the sampled positions), a 3×3 stride 2 with a residual and a
		// partial panel of output channels (70 = 2·32 + 6), and a layer
		// the -O2 tiling pass itself puts on it (few positions, many
		// channels).
		{"conv1x1s2", conv([]int{2, 9, 7, 8}, []int{40, 9, 1, 1}, ir.Attrs{"strides": []int{2, 2}}, true)},
		{"fusedconvtgemm", func(b *gb) {
			b.out(b.n1("fused_conv", []*ir.Value{b.input("x", 1, 12, 7, 7), b.param(70, 12, 3, 3), b.param(70), b.input("r", 1, 70, 4, 4)},
				ir.Attrs{"pads": []int{1, 1}, "strides": []int{2, 2}, "act": "relu"}))
		}},
		{"convnarrow", func(b *gb) {
			h := b.n1("conv", []*ir.Value{b.input("x", 1, 96, 5, 5), b.param(96, 96, 3, 3), b.param(96)}, ir.Attrs{"pads": []int{1, 1}})
			b.out(b.n1("relu", []*ir.Value{h}, nil))
		}},
		{"conv1x1groups", conv([]int{1, 8, 5, 8}, []int{6, 4, 1, 1}, ir.Attrs{"groups": 2}, false)},
		{"fusedconv1x1res", func(b *gb) {
			b.out(b.n1("fused_conv", []*ir.Value{b.input("x", 1, 16, 6, 6), b.param(12, 16, 1, 1), b.param(12), b.input("r", 1, 12, 6, 6)},
				ir.Attrs{"act": "relu"}))
		}},
		{"conv1dodd", conv([]int{2, 7, 37}, []int{11, 7, 3}, ir.Attrs{"pads": []int{1}}, false)},
		{"conv3dodd", conv([]int{1, 3, 4, 5, 6}, []int{7, 3, 3, 3, 3}, ir.Attrs{"pads": []int{1, 1, 1}}, true)},
		{"fusedconvpoolsimd", func(b *gb) { // 25 windows of 4: 100 columns
			b.out(b.n1("fused_conv", []*ir.Value{b.input("x", 1, 3, 10, 10), b.param(9, 3, 3, 3), b.param(9)},
				ir.Attrs{"pads": []int{1, 1}, "act": "relu", "pool": "max", "pool_kernel": []int{2, 2}}))
		}},
		{"fusedconvavgsimd", func(b *gb) { // windows of 16 columns
			b.out(b.n1("fused_conv", []*ir.Value{b.input("x", 1, 2, 12, 12), b.param(5, 2, 3, 3)},
				ir.Attrs{"pads": []int{1, 1}, "act": "tanh", "pool": "avg", "pool_kernel": []int{4, 4}}))
		}},
		// Sigmoid and tanh epilogues on the Act kernel: after a residual,
		// on a 1-D conv, and before an average pool with a bias.
		{"fusedconvsigres", func(b *gb) {
			b.out(b.n1("fused_conv", []*ir.Value{b.input("x", 1, 5, 9, 11), b.param(13, 5, 3, 3), b.param(13), b.input("r", 1, 13, 9, 11)},
				ir.Attrs{"pads": []int{1, 1}, "act": "sigmoid"}))
		}},
		{"fusedconvtanh1d", func(b *gb) {
			b.out(b.n1("fused_conv", []*ir.Value{b.input("x", 2, 6, 40), b.param(17, 6, 3), b.param(17)},
				ir.Attrs{"pads": []int{1, 1}, "act": "tanh"}))
		}},
		{"fusedconvtanhavg", func(b *gb) {
			b.out(b.n1("fused_conv", []*ir.Value{b.input("x", 1, 3, 14, 14), b.param(7, 3, 5, 5), b.param(7)},
				ir.Attrs{"act": "tanh", "pool": "avg", "pool_kernel": []int{2, 2}}))
		}},
		{"densewide", func(b *gb) { // K = 3·16 + 8 + 5: every loop of the dot kernel
			b.out(b.n1("dense", []*ir.Value{b.input("x", 1, 61), b.param(11, 61), b.param(11)}, nil))
		}},
		{"densebatch", func(b *gb) {
			b.out(b.n1("fused_dense", []*ir.Value{b.input("x", 5, 37), b.param(9, 37), b.param(9), b.input("r", 5, 9)}, ir.Attrs{"act": "tanh"}))
		}},
		// Dense as a matrix product (a Gemm kernel over pre-packed
		// weights): rows not a multiple of 12, a tail panel, odd k; relu
		// in the kernel, a residual and tanh after it.
		{"densegemm", func(b *gb) {
			x := b.input("x", 37, 75)
			h := b.n1("fused_dense", []*ir.Value{x, b.param(45, 75), b.param(45)}, ir.Attrs{"act": "relu"})
			h = b.n1("fused_dense", []*ir.Value{h, b.param(33, 45), b.param(33), b.input("r", 37, 33)}, ir.Attrs{"act": "tanh"})
			b.out(b.n1("dense", []*ir.Value{h, b.param(70, 33), nil}, nil))
		}},
		{"maxpool2d", pool("maxpool", []int{1, 2, 7, 9}, ir.Attrs{"kernel": []int{2, 3}})},
		{"maxpool2dceil", pool("maxpool", []int{1, 2, 8, 7}, ir.Attrs{"kernel": []int{3, 3}, "strides": []int{2}, "pads": []int{1, 1}, "ceil_mode": true})},
		// The PoolMax kernels (at -O2): ResNet's 3×3/2 with padding, 2×2/2
		// with an odd width, 3×3/1 with padding, widths past a vector.
		{"maxpool3x3s2", pool("maxpool", []int{1, 3, 23, 37}, ir.Attrs{"kernel": []int{3, 3}, "strides": []int{2}, "pads": []int{1, 1, 1, 1}})},
		{"maxpool2x2s2", pool("maxpool", []int{2, 2, 9, 35}, ir.Attrs{"kernel": []int{2, 2}, "strides": []int{2}})},
		{"maxpool3x3s1", pool("maxpool", []int{1, 2, 6, 19}, ir.Attrs{"kernel": []int{3, 3}, "strides": []int{1}, "pads": []int{1, 1, 1, 1}})},
		{"maxpool2ddil", pool("maxpool", []int{2, 1, 9, 9}, ir.Attrs{"kernel": []int{2, 2}, "strides": []int{1}, "dilations": []int{2, 3}})},
		{"maxpool1d", pool("maxpool", []int{1, 3, 10}, ir.Attrs{"kernel": []int{3}, "strides": []int{2}, "ceil_mode": true})},
		{"maxpool3d", pool("maxpool", []int{1, 2, 5, 6, 7}, ir.Attrs{"kernel": []int{2, 3, 2}, "pads": []int{1, 1, 0}, "strides": []int{2}})},
		{"maxpool2didx", poolIdx([]int{2, 3, 7, 9}, ir.Attrs{"kernel": []int{3, 2}, "pads": []int{1, 1}, "strides": []int{2, 1}, "indices": true})},
		{"maxpool2didxcol", poolIdx([]int{2, 2, 6, 5}, ir.Attrs{"kernel": []int{2, 2}, "dilations": []int{2, 1}, "ceil_mode": true, "indices": true, "storage_order": 1})},
		{"maxpool3didxcol", poolIdx([]int{2, 2, 5, 6, 7}, ir.Attrs{"kernel": []int{2, 3, 2}, "pads": []int{1, 1, 0}, "strides": []int{2}, "indices": true, "storage_order": 1})},
		{"avgpool2d", pool("avgpool", []int{1, 2, 7, 9}, ir.Attrs{"kernel": []int{3, 2}})},
		{"avgpool2dpad", pool("avgpool", []int{1, 2, 7, 8}, ir.Attrs{"kernel": []int{3, 3}, "strides": []int{2}, "pads": []int{1, 1}, "ceil_mode": true})},
		{"avgpool2dnopad", pool("avgpool", []int{1, 2, 7, 8}, ir.Attrs{"kernel": []int{3, 3}, "strides": []int{2}, "pads": []int{1, 1}, "ceil_mode": true, "count_include_pad": false})},
		// The PoolAvg kernels (-O2): stride 1 with padding counted and not,
		// and LeNet's 2×2 stride 2 with ceil_mode, on widths with vector
		// tails.
		{"avgpool2ds1", pool("avgpool", []int{1, 3, 9, 21}, ir.Attrs{"kernel": []int{3, 3}, "pads": []int{1, 1}, "count_include_pad": false})},
		{"avgpool2ds1inc", pool("avgpool", []int{2, 2, 6, 17}, ir.Attrs{"kernel": []int{3, 3}, "pads": []int{1, 1}, "count_include_pad": true})},
		{"avgpool2x2", pool("avgpool", []int{2, 3, 11, 37}, ir.Attrs{"kernel": []int{2, 2}, "strides": []int{2}, "ceil_mode": true})},
		{"avgpool1d", pool("avgpool", []int{2, 2, 11}, ir.Attrs{"kernel": []int{4}, "strides": []int{3}, "pads": []int{2}, "ceil_mode": true})},
		{"avgpool3d", pool("avgpool", []int{1, 1, 5, 5, 6}, ir.Attrs{"kernel": []int{2, 2, 3}, "pads": []int{1, 0, 1}, "count_include_pad": false})},
		{"gavg", pool("global_avgpool", []int{2, 3, 5, 7}, nil)},
		{"gmax", pool("global_maxpool", []int{2, 3, 5, 7}, nil)},
		{"gavg1d", pool("global_avgpool", []int{1, 4, 9}, nil)},
		{"batchnorm", func(b *gb) {
			b.out(b.n1("batchnorm", []*ir.Value{b.input("x", 2, 3, 4, 5), b.param(3), b.param(3), b.param(3), b.positive(3)}, ir.Attrs{"epsilon": 1e-3}))
		}},
		{"batchnorm2d", func(b *gb) {
			b.out(b.n1("batchnorm", []*ir.Value{b.input("x", 3, 5), b.param(5), b.param(5), b.param(5), b.positive(5)}, nil))
		}},
		{"softmax", unary("softmax", nil)},
		{"softmaxaxis0", unary("softmax", ir.Attrs{"axis": 0})},
		{"logsoftmax", func(b *gb) { b.out(b.n1("log_softmax", []*ir.Value{b.input("x", 2, 5, 3)}, ir.Attrs{"axis": 1})) }},
		{"flatten", func(b *gb) {
			x := b.n1("relu", []*ir.Value{b.input("x", 2, 3, 4)}, nil)
			b.out(b.n1("flatten", []*ir.Value{x}, nil))
		}},
		{"flattenout", func(b *gb) { b.out(b.n1("flatten", []*ir.Value{b.input("x", 2, 3, 4)}, ir.Attrs{"axis": 2})) }},
		{"reshape", func(b *gb) {
			b.out(b.n1("reshape", []*ir.Value{b.input("x", 2, 3, 4)}, ir.Attrs{"shape": []int{3, -1, 0}}))
		}},
		{"squeeze", func(b *gb) {
			x := b.n1("tanh", []*ir.Value{b.input("x", 1, 3, 1, 4)}, nil)
			b.out(b.n1("squeeze", []*ir.Value{x}, nil))
		}},
		{"unsqueeze", func(b *gb) { b.out(b.n1("unsqueeze", []*ir.Value{b.input("x", 3, 4)}, ir.Attrs{"axes": []int{0, 2}})) }},
		{"transpose", func(b *gb) {
			b.out(b.n1("transpose", []*ir.Value{b.input("x", 2, 3, 4, 5)}, ir.Attrs{"perm": []int{0, 2, 3, 1}}))
		}},
		{"transposerev", func(b *gb) { b.out(b.n1("transpose", []*ir.Value{b.input("x", 3, 1, 5)}, nil)) }},
		{"concat", func(b *gb) {
			b.out(b.n1("concat", []*ir.Value{b.input("a", 2, 3, 4), b.input("b", 2, 1, 4), b.input("c", 2, 2, 4)}, nil))
		}},
		{"concatlast", func(b *gb) {
			b.out(b.n1("concat", []*ir.Value{b.input("a", 2, 3), b.param(2, 5)}, ir.Attrs{"axis": -1}))
		}},
		{"gather", func(b *gb) {
			b.out(b.n1("gather", []*ir.Value{b.input("x", 4, 5, 3), b.ids("idx", 2, 3)}, ir.Attrs{"axis": 1}))
		}},
		{"gatherconst", func(b *gb) {
			b.out(b.n1("gather", []*ir.Value{b.input("x", 4, 5), b.constIDs([]int64{3, -1, 0}, 3)}, nil))
		}},
		{"embedding", func(b *gb) {
			b.out(b.n1("embedding", []*ir.Value{b.ids("ids", 2, 5), b.param(11, 6)}, nil))
		}},
		{"rnn", recurrent("rnn", 5, 2, 3, 4, 1, false, false, true, false, nil)},
		{"rnnrelu", recurrent("rnn", 4, 1, 3, 5, 2, true, true, false, true, ir.Attrs{"nonlinearity": "relu"})},
		{"lstm", recurrent("lstm", 5, 2, 3, 4, 1, false, false, true, true, nil)},
		{"lstmbidi2", recurrent("lstm", 4, 3, 5, 3, 2, true, false, true, false, nil)},
		{"lstmbf", recurrent("lstm", 3, 2, 4, 5, 1, true, true, false, true, nil)},
		{"gru", recurrent("gru", 5, 2, 3, 4, 1, false, false, true, true, nil)},
		{"grubidi2", recurrent("gru", 4, 2, 3, 5, 2, true, true, true, false, nil)},
		{"gruonnx", recurrent("gru", 4, 2, 3, 4, 2, true, false, true, true, ir.Attrs{"linear_before_reset": false})},
		{"fuseddense", func(b *gb) {
			x := b.input("x", 3, 10)
			r := b.input("r", 3, 6)
			b.out(b.n1("fused_dense", []*ir.Value{x, b.param(6, 10), b.param(6), r}, ir.Attrs{"act": "relu"}))
		}},
		{"fuseddensesoftmax", func(b *gb) {
			b.out(b.n1("fused_dense", []*ir.Value{b.input("x", 2, 9), b.param(5, 9)}, ir.Attrs{"act": "softmax"}))
		}},
		{"fusedconvpool", func(b *gb) {
			b.out(b.n1("fused_conv", []*ir.Value{b.input("x", 1, 2, 9, 9), b.param(4, 2, 3, 3), b.param(4)},
				ir.Attrs{"pads": []int{1, 1}, "act": "leaky_relu", "alpha": 0.1, "pool": "max", "pool_kernel": []int{2, 2}}))
		}},
		{"fusedconvgelupool", func(b *gb) { // gelu is not monotone: it must run before the max
			b.out(b.n1("fused_conv", []*ir.Value{b.input("x", 1, 2, 9, 9), b.param(4, 2, 3, 3), b.param(4)},
				ir.Attrs{"pads": []int{1, 1}, "act": "gelu", "approximate": "tanh", "pool": "max", "pool_kernel": []int{2, 2}}))
		}},
		// The Gemm kernels' extended epilogue (FUNCE): a clip after the
		// bias and residual of a 3×3 conv (im2row's packed stores), a
		// relu6 on a 1×1 conv, and relu after a residual with a bias.
		{"fusedconvclipbias", func(b *gb) {
			b.out(b.n1("fused_conv", []*ir.Value{b.input("x", 1, 5, 9, 11), b.param(13, 5, 3, 3), b.param(13), b.input("r", 1, 13, 9, 11)},
				ir.Attrs{"pads": []int{1, 1}, "act": "clip", "min": -0.3, "max": 0.4}))
		}},
		{"fusedconv1x1relu6", func(b *gb) {
			b.out(b.n1("fused_conv", []*ir.Value{b.input("x", 1, 7, 5, 9), b.param(20, 7, 1, 1), b.param(20)},
				ir.Attrs{"act": "clip", "min": 0.0, "max": 0.2}))
		}},
		{"fusedconvrelures", func(b *gb) {
			b.out(b.n1("fused_conv", []*ir.Value{b.input("x", 1, 6, 7, 7), b.param(17, 6, 3, 3), b.param(17), b.input("r", 1, 17, 7, 7)},
				ir.Attrs{"pads": []int{1, 1}, "act": "relu"}))
		}},
		{"fusedewisegelu", func(b *gb) {
			b.out(b.n1("fused_ewise", []*ir.Value{b.input("x", 3, 8), b.param(1, 8)}, ir.Attrs{"steps": "gelu(none);mul(1);gelu(tanh)"}))
		}},
		{"fusedconvres", func(b *gb) {
			b.out(b.n1("fused_conv", []*ir.Value{b.input("x", 1, 2, 6, 6), b.param(3, 2, 3, 3), nil, b.input("r", 1, 3, 6, 6)},
				ir.Attrs{"pads": []int{1, 1}, "act": "clip", "min": 0.0, "max": 0.5}))
		}},
		{"fusedconvavg", func(b *gb) {
			b.out(b.n1("fused_conv", []*ir.Value{b.input("x", 1, 1, 8, 7), b.param(2, 1, 2, 2)},
				ir.Attrs{"act": "sigmoid", "pool": "avg", "pool_kernel": []int{3, 3}, "pool_strides": []int{2, 2}, "pool_pads": []int{1, 1}, "pool_ceil_mode": true}))
		}},
		{"fusedconvpool1d", func(b *gb) {
			b.out(b.n1("fused_conv", []*ir.Value{b.input("x", 1, 3, 13), b.param(5, 3, 3), b.param(5)},
				ir.Attrs{"act": "relu", "pool": "max", "pool_kernel": []int{3}, "pool_strides": []int{3}}))
		}},
		{"fusedconvpool3d", func(b *gb) {
			b.out(b.n1("fused_conv", []*ir.Value{b.input("x", 1, 2, 5, 6, 5), b.param(6, 2, 2, 2, 2), b.param(6)},
				ir.Attrs{"pads": []int{1, 0, 1}, "act": "tanh", "pool": "avg", "pool_kernel": []int{2, 2, 2}, "pool_strides": []int{2, 2, 2}}))
		}},
		{"fusedconvpoolodd", func(b *gb) { // pool drops the last row and column
			b.out(b.n1("fused_conv", []*ir.Value{b.input("x", 2, 4, 8, 9), b.param(6, 2, 3, 3), nil},
				ir.Attrs{"groups": 2, "strides": []int{1, 2}, "dilations": []int{2, 1}, "act": "relu", "pool": "max", "pool_kernel": []int{2, 2}, "pool_strides": []int{2, 2}}))
		}},
		{"fusedewise", func(b *gb) {
			x := b.input("x", 2, 3, 4)
			b.out(b.n1("fused_ewise", []*ir.Value{x, b.param(3, 1), b.input("z", 2, 3, 4)},
				ir.Attrs{"steps": "add(1);relu;mul(2);leaky_relu(0.1);clip(-0.5,inf);sigmoid;tanh;sub(1);div(2)"}))
		}},
		// Every Unary template on NaN, ±Inf and -0 (shifted in by a
		// constant): generated code must propagate NaN as the interpreter
		// does, alone (-O0) and in fused chains (-O2).
		{"ewisespecial", func(b *gb) {
			x := b.input("x", 2, 8)
			c := b.param(8)
			copy(c.Data.F32(), []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1)), -30, 30, 0, -1})
			c.Kind = ir.Const
			s := b.n1("mul", []*ir.Value{x, c}, nil)
			var outs []*ir.Value
			for _, d := range ir.Ops() {
				if d.Unary == nil {
					continue
				}
				y := b.n1(d.Name, []*ir.Value{s}, nil)
				outs = append(outs, b.n1("tanh", []*ir.Value{y}, nil))
			}
			b.out(outs...)
		}},
		// Models: several layers, liveness reuse, views, multiple outputs.
		{"mlp", func(b *gb) {
			x := b.input("x", 1, 20)
			h := b.n1("dense", []*ir.Value{x, b.param(16, 20), b.param(16)}, nil)
			h = b.n1("relu", []*ir.Value{h}, nil)
			h = b.n1("dense", []*ir.Value{h, b.param(12, 16), b.param(12)}, nil)
			h = b.n1("tanh", []*ir.Value{h}, nil)
			h = b.n1("dense", []*ir.Value{h, b.param(4, 12), b.param(4)}, nil)
			b.out(b.n1("softmax", []*ir.Value{h}, nil))
		}},
		{"lenet", func(b *gb) {
			x := b.input("x", 1, 1, 12, 12)
			h := b.n1("conv", []*ir.Value{x, b.param(4, 1, 3, 3), b.param(4)}, ir.Attrs{"pads": []int{1, 1}})
			h = b.n1("batchnorm", []*ir.Value{h, b.param(4), b.param(4), b.param(4), b.positive(4)}, nil)
			h = b.n1("relu", []*ir.Value{h}, nil)
			h = b.n1("maxpool", []*ir.Value{h}, ir.Attrs{"kernel": []int{2, 2}})
			h = b.n1("conv", []*ir.Value{h, b.param(6, 4, 3, 3), b.param(6)}, nil)
			h = b.n1("relu", []*ir.Value{h}, nil)
			h = b.n1("flatten", []*ir.Value{h}, nil)
			b.out(b.n1("dense", []*ir.Value{h, b.param(5, 6*4*4), b.param(5)}, nil))
		}},
		{"resblock", func(b *gb) {
			x := b.input("x", 1, 3, 6, 6)
			h := b.n1("conv", []*ir.Value{x, b.param(3, 3, 3, 3), nil}, ir.Attrs{"pads": []int{1, 1}})
			h = b.n1("relu", []*ir.Value{h}, nil)
			h = b.n1("add", []*ir.Value{h, x}, nil)
			g := b.n1("global_avgpool", []*ir.Value{h}, nil)
			b.out(h, b.n1("squeeze", []*ir.Value{g}, ir.Attrs{"axes": []int{2, 3}}))
		}},
		{"textlstm", func(b *gb) {
			ids := b.ids("ids", 6, 1)
			e := b.n1("embedding", []*ir.Value{ids, b.param(13, 4)}, nil)
			in := append([]*ir.Value{e, nil, nil}, rnnWeights(b, "lstm", 4, 5, 1, false, true)...)
			o := b.node("lstm", in, ir.Attrs{"hidden_size": 5})
			last := b.n1("reshape", []*ir.Value{o[1]}, ir.Attrs{"shape": []int{1, 5}})
			b.out(b.n1("dense", []*ir.Value{last, b.param(3, 5), b.param(3)}, nil))
		}},
		// Zero-sized values: an empty input through a kernel, and an empty
		// constant as an output (an empty weight section, copied out).
		{"zerosized", func(b *gb) {
			x := b.input("x", 0, 4)
			b.out(b.n1("tanh", []*ir.Value{x}, nil), b.constIDs(nil, 0))
		}},
		{"zerosizedio", func(b *gb) { // one empty input and output: Predict, PredictSlice
			b.out(b.n1("relu", []*ir.Value{b.input("x", 2, 0)}, nil))
		}},
		{"passthrough", func(b *gb) {
			x := b.input("x", 2, 3)
			b.out(x, b.n1("identity", []*ir.Value{x}, nil), b.n1("reshape", []*ir.Value{x}, ir.Attrs{"shape": []int{3, 2}}))
		}},
	}
	// Element-wise math (ir/ops_math.go): each op alone, each on NaN,
	// ±Inf, ±0 and values outside its domain with its raw output (no
	// tanh to hide an Inf), a chain that -O2 fuses, and a monotone one as
	// a conv epilogue after a max pool.
	mathOps := []string{"sqrt", "exp", "log", "abs", "neg", "reciprocal", "floor", "ceil", "round", "sign", "erf",
		"sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh"}
	for _, op := range mathOps {
		cs = append(cs, equivCase{"math" + op, unary(op, nil)})
	}
	cs = append(cs, equivCase{"mathspecial", func(b *gb) {
		x := b.input("x", 2, 12)
		c := b.param(12)
		copy(c.Data.F32(), []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1)), 0, 1, -1, 0.5, 2.5, 100, -100, 1e-3})
		c.Kind = ir.Const
		s := b.n1("add", []*ir.Value{b.n1("mul", []*ir.Value{x, b.param(12)}, nil), c}, nil)
		var outs []*ir.Value
		for _, op := range mathOps {
			outs = append(outs, b.n1(op, []*ir.Value{s}, nil))
		}
		b.out(outs...)
	}}, equivCase{"mathchain", func(b *gb) {
		h := b.input("x", 3, 8)
		for _, op := range []string{"abs", "sqrt", "neg", "exp", "reciprocal", "log", "sin", "erf", "atan", "round", "sign"} {
			h = b.n1(op, []*ir.Value{h}, nil)
		}
		b.out(h)
	}}, equivCase{"fusedconvatanpool", func(b *gb) { // atan is monotone: it may run after the max
		b.out(b.n1("fused_conv", []*ir.Value{b.input("x", 1, 2, 9, 9), b.param(4, 2, 3, 3), b.param(4)},
			ir.Attrs{"pads": []int{1, 1}, "act": "atan", "pool": "max", "pool_kernel": []int{2, 2}}))
	}})
	// Activations (ir/ops_act.go): each alone (one with attributes off
	// their defaults), all on special values, a chain -O2 fuses with a
	// prelu in it, as conv epilogues (monotone elu after a max pool,
	// hardswish before it) and a dense epilogue.
	acts := []struct {
		op    string
		attrs ir.Attrs
	}{{"hardsigmoid", nil}, {"hardswish", nil}, {"elu", ir.Attrs{"alpha": 0.3}}, {"selu", nil}, {"celu", ir.Attrs{"alpha": 2.5}},
		{"softplus", ir.Attrs{"beta": 2.0, "threshold": 3.0}}, {"softsign", nil}, {"mish", nil}, {"silu", nil},
		{"threshold", ir.Attrs{"threshold": 0.1, "value": -1.0}}, {"shrink", ir.Attrs{"lambd": 0.3, "bias": 0.3}}}
	for _, a := range acts {
		cs = append(cs, equivCase{"act" + a.op, unary(a.op, a.attrs)})
	}
	cs = append(cs, equivCase{"actspecial", func(b *gb) {
		x := b.input("x", 2, 12)
		c := b.param(12)
		copy(c.Data.F32(), []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1)), 0, 3, -3, 0.5, -0.5, 30, -30, 1e-8})
		c.Kind = ir.Const
		s := b.n1("add", []*ir.Value{b.n1("mul", []*ir.Value{x, b.param(12)}, nil), c}, nil)
		var outs []*ir.Value
		for _, a := range acts {
			outs = append(outs, b.n1(a.op, []*ir.Value{s}, a.attrs))
		}
		outs = append(outs, b.n1("prelu", []*ir.Value{s, b.param(12)}, nil))
		b.out(outs...)
	}}, equivCase{"actchain", func(b *gb) {
		h := b.input("x", 2, 3, 4)
		h = b.n1("prelu", []*ir.Value{b.n1("hardswish", []*ir.Value{h}, nil), b.param(3, 1)}, nil)
		for _, op := range []string{"mish", "softsign", "silu", "elu"} {
			h = b.n1(op, []*ir.Value{h}, nil)
		}
		b.out(h)
	}}, equivCase{"prelu", func(b *gb) {
		b.out(b.n1("prelu", []*ir.Value{b.input("x", 2, 3, 4, 5), b.param(3, 1, 1)}, nil))
	}}, equivCase{"fusedconvelupool", func(b *gb) { // elu is monotone: it may run after the max
		b.out(b.n1("fused_conv", []*ir.Value{b.input("x", 1, 2, 9, 9), b.param(4, 2, 3, 3), b.param(4)},
			ir.Attrs{"pads": []int{1, 1}, "act": "elu", "alpha": 0.5, "pool": "max", "pool_kernel": []int{2, 2}}))
	}}, equivCase{"fusedconvhardswishpool", func(b *gb) { // hardswish is not monotone
		b.out(b.n1("fused_conv", []*ir.Value{b.input("x", 1, 2, 9, 9), b.param(4, 2, 3, 3), b.param(4)},
			ir.Attrs{"pads": []int{1, 1}, "act": "hardswish", "pool": "max", "pool_kernel": []int{2, 2}}))
	}}, equivCase{"fuseddensesilu", func(b *gb) {
		b.out(b.n1("fused_dense", []*ir.Value{b.input("x", 3, 10), b.param(6, 10), b.param(6), b.input("r", 3, 6)}, ir.Attrs{"act": "silu"}))
	}})
	// pow, maximum, minimum: on a grid of special values against each
	// other (NaN, ±Inf, ±0, negative bases), broadcasting, on i64, and
	// in a chain -O2 fuses.
	special := func(b *gb, s ...int) *ir.Value {
		c := b.param(s...)
		sv := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1)), 0, 1, -1, 2, -2, 0.5, -8, 3}
		copy(c.Data.F32(), sv)
		c.Kind = ir.Const
		return c
	}
	for _, op := range []string{"pow", "maximum", "minimum"} {
		op := op
		cs = append(cs, equivCase{op + "special", func(b *gb) {
			x := b.input("x", 12, 1)
			a := b.n1("add", []*ir.Value{b.n1("mul", []*ir.Value{x, b.param(12, 1)}, nil), special(b, 12, 1)}, nil)
			b.out(b.n1(op, []*ir.Value{a, special(b, 12)}, nil), b.n1(op, []*ir.Value{b.input("y", 2, 3, 4), b.input("z", 3, 1)}, nil))
		}})
	}
	cs = append(cs, equivCase{"maximumi64", func(b *gb) {
		b.out(b.n1("maximum", []*ir.Value{b.ids("a", 3, 4), b.ids("b", 4)}, nil),
			b.n1("minimum", []*ir.Value{b.ids("c", 2, 1), b.ids("d", 1, 5)}, nil))
	}}, equivCase{"powchain", func(b *gb) {
		x := b.input("x", 3, 8)
		h := b.n1("pow", []*ir.Value{b.n1("abs", []*ir.Value{x}, nil), b.param(8)}, nil)
		h = b.n1("maximum", []*ir.Value{h, b.param(1)}, nil)
		b.out(b.n1("minimum", []*ir.Value{h, b.param(3, 1)}, nil))
	}})
	cs = append(cs, gradCases()...)
	cs = append(cs, gradGemmCases()...)
	// layernorm (with its stats outputs), rmsnorm, groupnorm (and
	// instance norm), affine or not, and rows holding NaN and Inf.
	cs = append(cs, equivCase{"layernorm", func(b *gb) {
		x := b.input("x", 2, 3, 4, 5)
		ys := b.node("layernorm", []*ir.Value{x, b.param(4, 5), b.param(4, 5)}, ir.Attrs{"axis": 2, "stats": true})
		b.out(append(ys, b.n1("layernorm", []*ir.Value{x, nil, nil}, ir.Attrs{"epsilon": 1e-3}),
			b.n1("rmsnorm", []*ir.Value{x, b.param(5)}, nil), b.n1("rmsnorm", []*ir.Value{x, nil}, ir.Attrs{"axis": 1}))...)
	}}, equivCase{"groupnorm", func(b *gb) {
		x := b.input("x", 2, 6, 3, 4)
		b.out(b.n1("groupnorm", []*ir.Value{x, b.param(6), b.param(6)}, ir.Attrs{"num_groups": 3}),
			b.n1("groupnorm", []*ir.Value{x, nil, nil}, ir.Attrs{"num_groups": 6, "epsilon": 1e-3}),
			b.n1("groupnorm", []*ir.Value{b.input("v", 3, 4), b.param(4), nil}, ir.Attrs{"num_groups": 2}))
	}}, equivCase{"normspecial", func(b *gb) {
		c := special(b, 3, 4)
		x := b.n1("add", []*ir.Value{b.input("x", 3, 4), c}, nil)
		b.out(b.n1("layernorm", []*ir.Value{x, b.param(4), b.param(4)}, nil), b.n1("rmsnorm", []*ir.Value{x, nil}, nil),
			b.n1("groupnorm", []*ir.Value{x, b.param(4), b.param(4)}, ir.Attrs{"num_groups": 2}))
	}})
	// Reductions (ir/ops_reduce2.go) over some axes and all, on special
	// values; argmax/argmin with ties, NaN and keepdims; cumsum with
	// every flag on f32 and i64.
	for _, op := range []string{"reduce_min", "reduce_prod", "reduce_l1", "reduce_l2", "reduce_sum_square", "reduce_log_sum", "reduce_log_sum_exp"} {
		cs = append(cs, equivCase{op, reduce(op, ir.Attrs{"axes": []int{0, -1}, "keepdims": true})},
			equivCase{op + "all", reduce(op, nil)})
	}
	cs = append(cs, equivCase{"reducespecial", func(b *gb) {
		x := b.n1("add", []*ir.Value{b.input("x", 3, 4), special(b, 3, 4)}, nil)
		var outs []*ir.Value
		for _, op := range []string{"reduce_max", "reduce_min", "reduce_prod", "reduce_l1", "reduce_l2", "reduce_sum_square", "reduce_log_sum", "reduce_log_sum_exp"} {
			outs = append(outs, b.n1(op, []*ir.Value{x}, ir.Attrs{"axes": []int{1}}), b.n1(op, []*ir.Value{x}, ir.Attrs{"axes": []int{0}}))
		}
		b.out(outs...)
	}}, equivCase{"argmax", func(b *gb) {
		x := b.n1("add", []*ir.Value{b.n1("round", []*ir.Value{b.input("x", 3, 4)}, nil), special(b, 3, 4)}, nil)
		var outs []*ir.Value
		for _, op := range []string{"argmax", "argmin"} {
			for _, last := range []bool{false, true} {
				outs = append(outs, b.n1(op, []*ir.Value{x}, ir.Attrs{"axis": 1, "select_last_index": last}),
					b.n1(op, []*ir.Value{x}, ir.Attrs{"axis": 0, "keepdims": true, "select_last_index": last}))
			}
		}
		b.out(outs...)
	}}, equivCase{"cumsum", func(b *gb) {
		x := b.n1("add", []*ir.Value{b.input("x", 3, 4), special(b, 3, 4)}, nil)
		var outs []*ir.Value
		ids := b.ids("i", 2, 3, 2)
		for _, fl := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			outs = append(outs, b.n1("cumsum", []*ir.Value{x}, ir.Attrs{"axis": 1, "exclusive": fl[0], "reverse": fl[1]}),
				b.n1("cumsum", []*ir.Value{ids}, ir.Attrs{"axis": -2, "exclusive": fl[0], "reverse": fl[1]}))
		}
		b.out(outs...)
	}})
	cs = append(cs, equivCase{"hardmax", func(b *gb) {
		x := b.n1("add", []*ir.Value{b.n1("round", []*ir.Value{b.input("x", 3, 4)}, nil), special(b, 3, 4)}, nil)
		b.out(b.n1("hardmax", []*ir.Value{x}, nil), b.n1("hardmax", []*ir.Value{x}, ir.Attrs{"axis": 0}))
	}}, equivCase{"topk", func(b *gb) {
		x := b.n1("add", []*ir.Value{b.n1("round", []*ir.Value{b.input("x", 3, 4)}, nil), special(b, 3, 4)}, nil)
		b.out(append(append(b.node("topk", []*ir.Value{x}, ir.Attrs{"k": 3}),
			b.node("topk", []*ir.Value{x}, ir.Attrs{"k": 2, "axis": 0, "largest": false})...),
			b.node("topk", []*ir.Value{x}, ir.Attrs{"k": 4})...)...)
	}}, equivCase{"nll_loss", func(b *gb) {
		x := b.n1("add", []*ir.Value{b.input("x", 3, 4, 5), special(b, 3, 4, 5)}, nil)
		t := b.ids("t", 3, 5)
		b.out(b.n1("nll_loss", []*ir.Value{x, t, b.param(4)}, ir.Attrs{"ignore_index": 2}),
			b.n1("nll_loss", []*ir.Value{x, t}, ir.Attrs{"reduction": "none", "ignore_index": 0}),
			b.n1("nll_loss", []*ir.Value{x, t, b.param(4)}, ir.Attrs{"reduction": "sum"}),
			b.n1("nll_loss", []*ir.Value{x, b.constIDs([]int64{0, 3, -1, 1, 2, -1, 0, 0, 3, 3, 1, 2, -1, 0, 1}, 3, 5)}, ir.Attrs{"ignore_index": -1}))
	}}, equivCase{"lrn", func(b *gb) {
		x := b.input("x", 2, 5, 3, 2)
		b.out(b.n1("lrn", []*ir.Value{x}, ir.Attrs{"size": 3, "alpha": 0.01, "beta": 0.6, "bias": 2.0}),
			b.n1("lrn", []*ir.Value{x}, ir.Attrs{"size": 4}), b.n1("lrn", []*ir.Value{b.input("v", 2, 3)}, ir.Attrs{"size": 5}))
	}})
	cs = append(cs, spatialEquivCases()...)
	cs = append(cs, sampleEquivCases()...)
	cs = append(cs, quantEquivCases()...)
	cs = append(cs, opsEquivCases()...)
	cs = append(cs, layers64EquivCases()...)
	return cs
}

// scheduleVariants are tilings applied to a few cases: each must agree
// with the interpreter just like the default schedule.
var scheduleVariants = []struct {
	name   string
	cases  []string
	tiles  map[string]int
	order  []string
	unroll int
	algo   string
	vector int
	// kernels, when set, are Schedule.Kernel for convolutions and for
	// dense layers (a Gemm kernel there runs over pre-packed weights).
	kernels [2]string
}{
	{"t1", []string{"dense", "dense3d", "matmulbatch", "mlp", "lenet", "conv2dgroups"}, map[string]int{"m": 2, "n": 3, "k": 5, "oh": 2}, nil, 1, "", 0, [2]string{}},
	{"t2", []string{"dense", "matmul", "mlp", "conv3d", "conv2dpad", "lenet"}, map[string]int{"n": 4, "k": 4, "oh": 3}, []string{"k", "n", "m"}, 3, "", 0, [2]string{}},
	{"t3", []string{"dense3d", "lenet", "conv2ddil", "fusedconvpool", "fuseddense"}, map[string]int{"m": 1, "k": 7, "oh": 1}, []string{"n", "m", "k"}, 8, "", 0, [2]string{}},
	// im2col + GEMM: the tiling pass's register block, then odd blocks and
	// tiles that do not divide the extents.
	{"i1", im2colCases, nil, nil, 4, "im2col", 1, [2]string{}},
	{"i2", im2colCases, map[string]int{"n": 5, "m": 2}, nil, 3, "im2col", 2, [2]string{}},
	{"i3", im2colCases, map[string]int{"n": 7, "m": 5}, nil, 2, "im2col", 3, [2]string{}},
	{"i4", []string{"conv2d", "conv1d", "conv3d", "fusedconvpool", "fusedconvpool3d", "lenet"}, map[string]int{"n": 1}, nil, 1, "im2col", 4, [2]string{}},
	// SIMD kernels: the default block, then odd blocks and tiles.
	{"v1", simdCases, nil, nil, 6, "im2col", 0, avx2Kernels},
	{"v2", simdCases, map[string]int{"n": 20, "m": 5, "k": 7}, nil, 4, "im2col", 0, avx2Kernels},
	{"v3", []string{"conv2dodd", "conv2dbig", "fusedconvpoolsimd", "fusedconvavgsimd", "densewide", "mlp"}, map[string]int{"n": 40, "m": 3}, nil, 1, "im2col", 0, avx2Kernels},
	// The AVX-512 block (AVX2 or the twins where the CPU lacks it), dense
	// as a matrix product: k passes that accumulate, odd cache blocks.
	{"w1", simdCases, nil, nil, 12, "im2col", 0, gemmKernels},
	{"w2", simdCases, map[string]int{"n": 40, "m": 5, "k": 7}, nil, 5, "im2col", 0, gemmKernels},
	// im2row (virtual columns over the zero-bordered input's rows): the
	// stride-1 cases take it, the others fall back to im2col; tiles of
	// whole panels, passes of 7 terms (accumulating packed stores).
	{"r1", simdCases, nil, nil, 12, "im2row", 0, gemmKernels},
	{"r2", simdCases, map[string]int{"n": 40, "m": 5, "k": 7}, nil, 5, "im2row", 0, gemmKernels},
	{"r3", simdCases, map[string]int{"n": 7, "m": 1}, nil, 1, "im2row", 0, avx2Kernels},
	// The transposed GEMM: output channels along the lanes (the grouped
	// and pooling cases keep their own paths).
	{"g1", tgemmCases, nil, nil, 12, "tgemm", 0, gemmKernels},
	{"g2", tgemmCases, nil, nil, 6, "tgemm", 0, avx2Kernels},
	{"g3", tgemmCases, map[string]int{"k": 5}, nil, 12, "tgemm", 0, gemmKernels}, // passes of 5 input channels
	{"w3", []string{"densebatch", "densegemm", "dense3d", "fuseddense", "fuseddensesoftmax", "fuseddensesilu", "fusedconvres", "mlp"}, map[string]int{"n": 64, "m": 2, "k": 3}, nil, 1, "im2col", 0, gemmKernels},
}

var (
	avx2Kernels = [2]string{"avx2.gemm6x16", "avx2.dot4"}
	gemmKernels = [2]string{"avx512.gemm12x32", "avx512.gemm12x32"}
)

// simdCases run on the SIMD kernels (codegen/kernels); TestEquivalence also
// runs them with -tags purego.
var simdCases = append([]string{"conv1x1", "conv1x1groups", "fusedconv1x1res", "conv2dodd", "conv1dodd", "conv3dodd", "fusedconvpoolsimd", "fusedconvavgsimd",
	"fusedconvsigres", "fusedconvtanh1d", "fusedconvtanhavg", "fusedconvclipbias", "fusedconv1x1relu6", "fusedconvrelures",
	"densewide", "densebatch", "densegemm", "dense", "dense3d", "fuseddense", "fuseddensesoftmax", "mlp", "conv2dbig"}, im2colCases...)

// tgemmCases are the convolution cases run with Algo "tgemm".
var tgemmCases = []string{"conv1x1", "conv1x1s2", "conv1x1groups", "fusedconv1x1res", "conv2dodd", "conv1dodd", "conv3dodd",
	"fusedconvsigres", "fusedconvtanh1d", "fusedconvclipbias", "fusedconv1x1relu6", "fusedconvrelures", "fusedconvtgemm",
	"conv2dbig", "conv2d", "conv2dpad", "conv2ddil", "conv2dbatch", "conv1d", "conv3d", "fusedconvres", "fusedconvpool", "resblock"}

// im2colCases are the convolution cases run with Algo "im2col".
var im2colCases = []string{"conv2d", "conv2dpad", "conv2ddil", "conv2dgroups", "conv2ddepthwise", "conv2dbigpad",
	"conv1d", "conv1ddil", "conv3d", "conv3dgroups", "conv2dbatch", "fusedconvpool", "fusedconvres", "fusedconvavg",
	"fusedconvpool1d", "fusedconvpool3d", "fusedconvpoolodd", "lenet", "resblock"}

type builtCase struct {
	name string
	g    *ir.Graph
	// ref, when set, is the graph the interpreter runs for the expected
	// outputs (the graph before the passes).
	ref *ir.Graph
}

func buildCases(t *testing.T) []builtCase {
	t.Helper()
	byName := map[string]*ir.Graph{}
	var out []builtCase
	for i, c := range equivCases() {
		b := &gb{t: t, g: ir.NewGraph(c.name), r: rand.New(rand.NewPCG(uint64(i), 7))}
		b.g.Batch = 1
		c.build(b)
		if err := ir.Verify(b.g); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		byName[c.name] = b.g
		out = append(out, builtCase{name: c.name, g: b.g})
	}
	for _, v := range scheduleVariants {
		for _, name := range v.cases {
			g := byName[name]
			if g == nil {
				t.Fatalf("schedule variant %s: no case %s", v.name, name)
			}
			s := &ir.Schedule{Tiles: v.tiles, Order: v.order, Unroll: v.unroll, Algo: v.algo, Vector: v.vector}
			sg := WithSchedule(g, []string{"dense", "matmul", "conv", "fused_dense", "fused_conv"}, s)
			if v.kernels[0] != "" {
				s.Kernel = v.kernels[0]
				if v.algo == "tgemm" {
					s.WeightLayout = "tpanel" + fmt.Sprint(kernels.Lookup(s.Kernel).NR)
				}
				sg = WithSchedule(sg, []string{"conv", "fused_conv"}, s)
				s.WeightLayout = ""
				s.Kernel = v.kernels[1]
				if kn := kernels.Lookup(s.Kernel); kn.Op == kernels.Gemm {
					s.WeightLayout = kn.PanelLayout()
				}
				sg = WithSchedule(sg, []string{"dense", "fused_dense"}, s)
			}
			sg.Name = name + v.name
			out = append(out, builtCase{name: sg.Name, g: sg})
		}
	}
	// Every case once more through the -O2 pipeline: fused kernels, the
	// tiling pass's schedules and the planned arena (in-place reuse).
	ps, err := passes.Select(2, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range equivCases() {
		g := byName[c.name]
		og := g.Clone()
		og.Name = c.name + "o2"
		if err := passes.Run(og, ps, passes.Options{Verify: true}); err != nil {
			t.Fatalf("%s: %v", og.Name, err)
		}
		out = append(out, builtCase{og.Name, og, g})
	}
	return out
}

// generateCase records the interpreter's outputs and generates the package.
func generateCase(t *testing.T, g *ir.Graph) (map[string][]byte, error) {
	t.Helper()
	return generateRef(t, g, g)
}

// generateRef generates g with a self-test whose expected outputs are the
// interpreter's on ref.
func generateRef(t *testing.T, g, ref *ir.Graph) (map[string][]byte, error) {
	t.Helper()
	ins := RandomInputs(ref, 1)
	outs, err := runtime.Run(ref, ins)
	if err != nil {
		return nil, fmt.Errorf("interpreter: %w", err)
	}
	opt := Options{SelfTest: true, TestInputs: ins, TestOutputs: outs}
	if tol := f64Tol(g); tol != nil {
		opt.RelTol, opt.AbsTol = tol[0], tol[1]
	}
	return Generate(g, opt)
}

var (
	equivRun  = flag.String("equiv.run", "", "TestEquivalence: only the cases whose name matches this regexp")
	equivKeep = flag.String("equiv.keep", "", "TestEquivalence: generate the module into this directory and keep it")
)

func trim(out string) string {
	if len(out) > 20000 {
		return out[:20000]
	}
	return out
}

// goTest runs `go test` with args in dir and returns the combined output.
func goTest(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	return goCmd(t, dir, append([]string{"test"}, args...)...)
}

// goCmd runs the go command with args in dir and returns the combined output.
func goCmd(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	return buf.String(), err
}

func writeModule(t *testing.T, dir string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module dlctest\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestEquivalence(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	dir := t.TempDir()
	if *equivKeep != "" {
		dir = *equivKeep
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeModule(t, dir)
	cases := buildCases(t)
	if *equivRun != "" {
		re := regexp.MustCompile(*equivRun)
		var keep []builtCase
		for _, c := range cases {
			if re.MatchString(c.name) {
				keep = append(keep, c)
			}
		}
		cases = keep
	}
	var simdPkgs []string
	for _, c := range cases {
		ref := c.ref
		if ref == nil {
			ref = c.g
		}
		files, err := generateRef(t, c.g, ref)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if err := WritePackage(filepath.Join(dir, c.name), files); err != nil {
			t.Fatal(err)
		}
		dwO2 := strings.HasPrefix(c.name, "dw") && strings.HasSuffix(c.name, "o2")
		if _, ok := files["kernels_amd64.s"]; ok && (strings.HasSuffix(c.name, "v1") || dwO2 || *equivRun != "") {
			simdPkgs = append(simdPkgs, "./"+c.name)
		}
	}
	if len(simdPkgs) > 0 {
		// The SIMD packages of variant v1 again with the pure-Go kernels,
		// and vet (asmdecl checks the assembly against its Go
		// declarations).
		if out, err := goTest(t, dir, append([]string{"-count=1", "-tags", "purego"}, simdPkgs...)...); err != nil {
			t.Errorf("go test -tags purego over %d SIMD packages failed: %v\n%s", len(simdPkgs), err, trim(out))
		}
		if out, err := goCmd(t, dir, append([]string{"vet"}, simdPkgs...)...); err != nil {
			t.Errorf("go vet over %d SIMD packages failed: %v\n%s", len(simdPkgs), err, trim(out))
		}
	} else if *equivRun == "" {
		t.Error("no case generated the SIMD kernels")
	}
	out, err := goTest(t, dir, "-count=1", "./...")
	if err != nil {
		t.Errorf("go test ./... over %d generated packages failed: %v", len(cases), err)
		// Print the failing packages' output: every line but the
		// passing packages' "ok" lines, which would fill the log.
		var bad []string
		for _, l := range strings.Split(out, "\n") {
			if !strings.HasPrefix(l, "ok ") {
				bad = append(bad, l)
			}
		}
		t.Log(trim(strings.Join(bad, "\n")))
	}
	var pkgs []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "ok ") {
			pkgs = append(pkgs, strings.Fields(l)[1])
		}
	}
	sort.Strings(pkgs)
	if len(pkgs) != len(cases) && err == nil {
		t.Errorf("%d packages passed, want %d", len(pkgs), len(cases))
	}
}

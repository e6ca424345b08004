package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/runtime"
)

func seq(n int, scale float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = scale * float32((i*7+3)%11-5)
	}
	return v
}

func f32t(shape ir.Shape, v []float32) *ir.Tensor {
	return &ir.Tensor{DType: ir.F32, Shape: shape, Data: v}
}

func mustImport(t *testing.T, data []byte) *ir.Graph {
	t.Helper()
	g, err := Import("test.onnx", data, "")
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func run1(t *testing.T, g *ir.Graph, in ...*ir.Tensor) *ir.Tensor {
	t.Helper()
	out, err := runtime.Run(g, in)
	if err != nil {
		t.Fatal(err)
	}
	return out[0]
}

func near(t *testing.T, got *ir.Tensor, want []float32) {
	t.Helper()
	if got.Len() != len(want) {
		t.Fatalf("got %d values %v, want %d", got.Len(), got.Shape, len(want))
	}
	for i := range want {
		if d := math.Abs(float64(got.F32()[i] - want[i])); d > 1e-5*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("value %d: got %g, want %g", i, got.F32()[i], want[i])
		}
	}
}

func ops(g *ir.Graph) string {
	var s []string
	for _, n := range g.Nodes {
		s = append(s, n.Op)
	}
	return strings.Join(s, ",")
}

// TestGemm checks every Gemm form against a direct computation, and that
// a known B with a 2-D A becomes a single dense node.
func TestGemm(t *testing.T) {
	const M, K, N = 3, 4, 5
	cases := []struct {
		name           string
		transA, transB int64
		alpha, beta    float32
		cShape         []int64 // nil: no C
		bConst, cConst bool
		wantOps        string
	}{
		{"plain", 0, 0, 1, 1, []int64{N}, true, true, "dense"},
		{"transB", 0, 1, 1, 1, []int64{N}, true, true, "dense"},
		{"transA", 1, 0, 1, 1, []int64{1, N}, true, true, "transpose,dense"},
		{"alpha_beta", 0, 1, 0.5, 2, []int64{N}, true, true, "dense"},
		{"scalar_c", 0, 0, 1, 1, []int64{}, true, true, "dense"},
		{"matrix_c", 0, 0, 1, 0.5, []int64{M, N}, true, true, "dense,add"},
		{"col_c", 0, 0, 1, 1, []int64{M, 1}, true, true, "dense,add"},
		{"c_input", 0, 0, 1, 3, []int64{N}, true, false, "mul,dense,add"},
		{"no_c", 0, 1, 2, 1, nil, true, false, "dense"},
		{"b_input", 1, 1, 0.25, 0.5, []int64{M, N}, false, true, "transpose,transpose,matmul,mul,add"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			aShape, bShape := []int64{M, K}, []int64{K, N}
			if tc.transA != 0 {
				aShape = []int64{K, M}
			}
			if tc.transB != 0 {
				bShape = []int64{N, K}
			}
			A, B := seq(M*K, 0.5), seq(K*N, 0.25)
			var C []float32
			cn := 1
			if tc.cShape != nil {
				for _, d := range tc.cShape {
					cn *= int(d)
				}
				C = seq(cn, 1)
			}
			gs := graphSpec{inputs: []pb{vinfo("A", dtFloat, aShape...)}, outputs: []pb{vinfo("Y", dtFloat, M, N)}}
			ins := []string{"A", "B"}
			inputs := []*ir.Tensor{f32t(ir.Shape{int(aShape[0]), int(aShape[1])}, A)}
			if tc.bConst {
				gs.inits = append(gs.inits, tensorF32("B", bShape, B))
			} else {
				gs.inputs = append(gs.inputs, vinfo("B", dtFloat, bShape...))
				inputs = append(inputs, f32t(ir.Shape{int(bShape[0]), int(bShape[1])}, B))
			}
			if tc.cShape != nil {
				ins = append(ins, "C")
				if tc.cConst {
					gs.inits = append(gs.inits, tensorF32("C", tc.cShape, C))
				} else {
					gs.inputs = append(gs.inputs, vinfo("C", dtFloat, tc.cShape...))
					s := ir.Shape{}
					for _, d := range tc.cShape {
						s = append(s, int(d))
					}
					inputs = append(inputs, f32t(s, C))
				}
			}
			gs.nodes = []pb{nodeProto("Gemm", "fc", ins, []string{"Y"},
				attrInt("transA", tc.transA), attrInt("transB", tc.transB), attrFloat("alpha", tc.alpha), attrFloat("beta", tc.beta))}
			g := mustImport(t, modelProto(13, gs))
			if got := ops(g); got != tc.wantOps {
				t.Errorf("ops %s, want %s", got, tc.wantOps)
			}
			want := make([]float32, M*N)
			for i := 0; i < M; i++ {
				for j := 0; j < N; j++ {
					var s float32
					for k := 0; k < K; k++ {
						a := A[i*K+k]
						if tc.transA != 0 {
							a = A[k*M+i]
						}
						b := B[k*N+j]
						if tc.transB != 0 {
							b = B[j*K+k]
						}
						s += a * b
					}
					y := tc.alpha * s
					if C != nil {
						var c float32
						switch {
						case cn == 1:
							c = C[0]
						case len(tc.cShape) == 2 && tc.cShape[0] == M && tc.cShape[1] == N:
							c = C[i*N+j]
						case len(tc.cShape) == 2 && tc.cShape[1] == 1:
							c = C[i]
						default:
							c = C[j]
						}
						y += tc.beta * c
					}
					want[i*N+j] = y
				}
			}
			near(t, run1(t, g, inputs...), want)
		})
	}
}

func convModel(autoPad string, strides []int64, in, k int64) []byte {
	return modelProto(11, graphSpec{
		inits:   []pb{tensorF32("W", []int64{1, 1, k, k}, seq(int(k*k), 1))},
		inputs:  []pb{vinfo("X", dtFloat, 1, 1, in, in)},
		outputs: []pb{vinfo("Y", dtFloat)},
		nodes: []pb{nodeProto("Conv", "", []string{"X", "W"}, []string{"Y"},
			attrString("auto_pad", autoPad), attrInts("strides", strides...), attrInts("kernel_shape", k, k))},
	})
}

// TestAutoPad checks the pads auto_pad resolves to and the output shapes.
func TestAutoPad(t *testing.T) {
	cases := []struct {
		autoPad string
		stride  int64
		in, k   int64
		pads    []int
		out     int
	}{
		{"SAME_UPPER", 1, 5, 3, []int{1, 1, 1, 1}, 5},
		{"SAME_UPPER", 2, 5, 4, []int{1, 1, 2, 2}, 3},
		{"SAME_LOWER", 2, 5, 4, []int{2, 2, 1, 1}, 3},
		{"SAME_LOWER", 2, 6, 3, []int{1, 1, 0, 0}, 3},
		{"VALID", 2, 5, 3, []int{0, 0, 0, 0}, 2},
		{"NOTSET", 1, 5, 3, []int{0, 0, 0, 0}, 3},
	}
	for _, tc := range cases {
		g := mustImport(t, convModel(tc.autoPad, []int64{tc.stride, tc.stride}, tc.in, tc.k))
		n := g.Nodes[0]
		if got := n.Attrs.Ints("pads"); !ir.Shape(got).Equal(ir.Shape(tc.pads)) {
			t.Errorf("%s stride %d in %d k %d: pads %v, want %v", tc.autoPad, tc.stride, tc.in, tc.k, got, tc.pads)
		}
		if want := (ir.Shape{1, 1, tc.out, tc.out}); !n.Out().Type.Shape.Equal(want) {
			t.Errorf("%s: output %v, want %v", tc.autoPad, n.Out().Type.Shape, want)
		}
	}
	// Pooling: ONNX's default stride is 1, ir's the kernel; it must be explicit.
	g := mustImport(t, modelProto(11, graphSpec{
		inputs:  []pb{vinfo("X", dtFloat, 1, 1, 5, 5)},
		outputs: []pb{vinfo("Y", dtFloat)},
		nodes:   []pb{nodeProto("AveragePool", "pool", []string{"X"}, []string{"Y"}, attrInts("kernel_shape", 2, 2), attrString("auto_pad", "SAME_LOWER"))},
	}))
	n := g.Nodes[0]
	if s := n.Attrs.Ints("strides"); !ir.Shape(s).Equal(ir.Shape{1, 1}) || n.Attrs.Bool("count_include_pad") {
		t.Errorf("avgpool attrs %v", n.Attrs)
	}
	if p := n.Attrs.Ints("pads"); !ir.Shape(p).Equal(ir.Shape{1, 1, 0, 0}) {
		t.Errorf("SAME_LOWER pool pads %v, want [1,1,0,0]", p)
	}
}

// TestMalformed checks that broken bytes are refused with the offset.
func TestMalformed(t *testing.T) {
	good := modelProto(13, graphSpec{
		inputs:  []pb{vinfo("X", dtFloat, 2)},
		outputs: []pb{vinfo("Y", dtFloat, 2)},
		nodes:   []pb{nodeProto("Relu", "r", []string{"X"}, []string{"Y"})},
	})
	if _, err := Import("m.onnx", good, ""); err != nil {
		t.Fatalf("good model: %v", err)
	}
	// The graph is the last field: tag at 6+opsetLen, length, then bytes.
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "offset 0: ModelProto: the model has no graph"},
		{"bad tag", []byte{0x80}, "offset 0: ModelProto: bad field tag"},
		{"truncated length", []byte{0x3a, 0x80}, "offset 1: ModelProto: field 7"},
		{"truncated graph", []byte{0x3a, 0x10, 0x0a}, "offset 1: ModelProto: field 7"},
		{"cut", good[:len(good)-3], "ModelProto"},
		{"group", []byte{0x0b}, "wire type 3"},
		{"node in graph cut", append([]byte{0x3a, 0x04, 0x0a, 0x05, 0x0a, 0x01}, 'x'), "offset 3: ModelProto.graph: field 1"},
		{"wrong wire type", []byte{0x3a, 0x02, 0x10, 0x01}, "offset 3: ModelProto.graph.name: wire type 0, want 2"},
		{"deep", pb(nil).bytes(7, pb(nil).bytes(1, pb(nil).bytes(5, pb(nil).bytes(5, []byte{0x0a, 0x09})))), "offset 9: ModelProto.graph.node[0].attribute[0].t: field 1"},
	}
	for _, tc := range cases {
		_, err := Import("m.onnx", tc.data, "")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	for i := 0; i < len(good); i++ {
		if _, err := Import("m.onnx", good[:i], ""); err == nil {
			t.Errorf("model cut at %d of %d bytes imported", i, len(good))
		}
	}
}

// TestHugeTensor checks that claimed sizes are refused before allocation.
func TestHugeTensor(t *testing.T) {
	model := func(init pb) []byte {
		return modelProto(13, graphSpec{
			inits:   []pb{init},
			inputs:  []pb{vinfo("X", dtFloat, 2)},
			outputs: []pb{vinfo("Y", dtFloat, 2)},
			nodes:   []pb{nodeProto("Add", "a", []string{"X", "W"}, []string{"Y"})},
		})
	}
	cases := []struct {
		name string
		init pb
		want string
	}{
		{"dims overflow", tensorF32("W", []int64{1 << 40, 1 << 40}, nil), "hold more than"},
		{"raw too short", tensorF32("W", []int64{1 << 30}, []float32{1}), "raw_data holds 4 bytes"},
		{"typed too short", pb(nil).packed(1, 1<<28).varint(2, dtFloat).str(8, "W").fixed32(4, 0), "float_data holds 1 values"},
		{"negative dim", tensorF32("W", []int64{-1}, nil), "negative dimension"},
		{"bad dtype", pb(nil).packed(1, 2).varint(2, 8).str(8, "W").bytes(9, make([]byte, 2)), "unsupported dtype STRING"},
		{"packed too short", pb(nil).packed(1, 5).varint(2, 22).str(8, "W").bytes(9, make([]byte, 2)), "raw_data holds 2 bytes, dims [5] of INT4 need 3"},
		{"complex", pb(nil).packed(1, 2).varint(2, dtComplex64).str(8, "W"), "unsupported dtype COMPLEX64"},
	}
	for _, tc := range cases {
		data := model(tc.init)
		var err error
		n := allocBytes(func() { _, err = Import("m.onnx", data, "") })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
		if n > 1<<20 {
			t.Errorf("%s: allocated %d bytes before refusing", tc.name, n)
		}
	}
}

// allocBytes is the number of bytes f allocates.
func allocBytes(f func()) uint64 {
	var a, b goruntime.MemStats
	goruntime.ReadMemStats(&a)
	f()
	goruntime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

func binary64(b []byte, f float64) { binary.LittleEndian.PutUint64(b, math.Float64bits(f)) }

func fmtSlice[T any](s []T) string { return fmt.Sprint(s) }

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// TestTypedData reads initializers from typed fields and dtypes.
func TestTypedData(t *testing.T) {
	d := pb(nil).packed(1, 2).varint(2, dtDouble).str(8, "D").bytes(10, func() []byte {
		b := make([]byte, 16)
		binary64(b[0:], 1.5)
		binary64(b[8:], -2)
		return b
	}())
	h := pb(nil).packed(1, 2).varint(2, dtFloat16).str(8, "H").packed(5, 0x3c00, 0xc000) // 1, -2
	i8 := pb(nil).packed(1, 3).varint(2, dtInt8).str(8, "I").packed(5, -1, 127, 5)
	b := pb(nil).packed(1, 2).varint(2, dtBool).str(8, "B").bytes(9, []byte{1, 0})
	for _, tc := range []struct {
		t    pb
		dt   ir.DType
		want string
	}{{d, ir.F64, "[1.5 -2]"}, {h, ir.F16, "[1 -2]"}, {i8, ir.I8, "[-1 127 5]"}, {b, ir.Bool, "[1 0]"}} {
		tp, err := decodeTensorProto(tc.t, 0, "t")
		if err != nil {
			t.Fatal(err)
		}
		x, err := tensorData(tp, "")
		if err != nil {
			t.Fatal(err)
		}
		if x.DType != tc.dt {
			t.Errorf("%s: dtype %v, want %v", tp.name, x.DType, tc.dt)
		}
		if got := fmtSlice(ir.Convert(x, ir.F64).F64()); got != tc.want {
			t.Errorf("%s: got %s, want %s", tp.name, got, tc.want)
		}
	}
}

// TestUnsupportedList checks that one error names every unsupported node.
func TestUnsupportedList(t *testing.T) {
	data := modelProto(13, graphSpec{
		inputs:  []pb{vinfo("X", dtFloat, 1, 1, 4, 4)},
		outputs: []pb{vinfo("Y", dtFloat)},
		nodes: []pb{
			nodeProto("Relu", "ok", []string{"X"}, []string{"a"}),
			nodeProto("ImageDecoder", "img1", []string{"a"}, []string{"b"}),
			nodeProto("MaxPool", "pool", []string{"b"}, []string{"c", "idx"}, attrInts("kernel_shape", 2, 2), attrInt("storage_order", 2)),
			nodeProto("LSTM", "", []string{"c", "W", "R"}, []string{"d"}, attrFloat("clip", 3)),
			nodeProto("Foo", "foo", []string{"d"}, []string{"Y"}),
		},
	})
	_, err := Import("m.onnx", data, "")
	var u *UnsupportedError
	if !errorsAs(err, &u) {
		t.Fatalf("got %v, want an UnsupportedError", err)
	}
	msg := err.Error()
	for _, want := range []string{"4 unsupported nodes", `"img1" (ImageDecoder, opset 13): op ImageDecoder is not supported`,
		`"pool" (MaxPool, opset 13): storage_order 2 is not supported`, `"#3" (LSTM, opset 13): clip`, `"foo" (Foo, opset 13)`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, `"ok"`) {
		t.Errorf("supported node listed:\n%s", msg)
	}
}

// TestRecurrentGates checks the gate reordering of known weights: each
// ONNX gate block is filled with its index, so the rows of dlc's weight
// show where every block went.
func TestRecurrentGates(t *testing.T) {
	const H, I = 2, 3
	for _, tc := range []struct {
		op   string
		g    int
		want []float32 // block values in dlc's order
	}{
		{"LSTM", 4, []float32{0, 2, 3, 1}}, // i,o,f,c → i,f,g,o
		{"GRU", 3, []float32{1, 0, 2}},     // z,r,h → r,z,n
		{"RNN", 1, []float32{0}},
	} {
		blocks := func(cols int, off float32) []float32 {
			v := make([]float32, 0, 2*tc.g*H*cols)
			for d := 0; d < 2; d++ {
				for b := 0; b < tc.g; b++ {
					for j := 0; j < H*cols; j++ {
						v = append(v, float32(b)+off+10*float32(d))
					}
				}
			}
			return v
		}
		bias := append([]float32{}, blocks(1, 0)[:tc.g*H]...)
		bias = append(bias, blocks(1, 100)[:tc.g*H]...)
		bias = append(bias, blocks(1, 0)[tc.g*H:]...)
		bias = append(bias, blocks(1, 100)[tc.g*H:]...)
		data := modelProto(14, graphSpec{
			inits: []pb{
				tensorF32("W", []int64{2, int64(tc.g * H), I}, blocks(I, 0)),
				tensorF32("R", []int64{2, int64(tc.g * H), H}, blocks(H, 0)),
				tensorF32("B", []int64{2, int64(2 * tc.g * H)}, bias),
			},
			inputs:  []pb{vinfo("X", dtFloat, 5, 1, I)},
			outputs: []pb{vinfo("Y", dtFloat), vinfo("Yh", dtFloat)},
			nodes: []pb{nodeProto(tc.op, "rnn", []string{"X", "W", "R", "B"}, []string{"Y", "Yh"},
				attrInt("hidden_size", H), attrString("direction", "bidirectional"))},
		})
		g := mustImport(t, data)
		var n *ir.Node
		for _, x := range g.Nodes {
			if x.Op == strings.ToLower(tc.op) {
				n = x
			}
		}
		if n == nil {
			t.Fatalf("%s: no %s node in %s", tc.op, strings.ToLower(tc.op), ops(g))
		}
		if got := ops(g); got != strings.ToLower(tc.op)+",reshape,transpose" {
			t.Errorf("%s: ops %s", tc.op, got)
		}
		if want := (ir.Shape{5, 2, 1, H}); !g.Outputs[0].Type.Shape.Equal(want) {
			t.Errorf("%s: Y %v, want %v", tc.op, g.Outputs[0].Type.Shape, want)
		}
		for d := 0; d < 2; d++ {
			for k, w := range n.Inputs[1+ir.RNNStates(n.Op)+4*d:][:4] {
				if !w.IsConst() || w.Kind != ir.Param {
					t.Fatalf("%s: weight %s is not a param", tc.op, w.Name)
				}
				rows := w.Type.Shape[0]
				per := w.Data.Len() / rows
				for r := 0; r < rows; r++ {
					want := tc.want[r/H] + 10*float32(d)
					if k%2 == 1 && k >= 2 {
						want += 100
					}
					if got := w.Data.F32()[r*per]; got != want {
						t.Errorf("%s dir %d %s row %d: %g, want %g", tc.op, d, w.Name, r, got, want)
					}
				}
			}
		}
	}
}

// TestSoftmaxOldOpset checks the flatten semantics of Softmax before opset 13.
func TestSoftmaxOldOpset(t *testing.T) {
	g := mustImport(t, modelProto(11, graphSpec{
		inputs:  []pb{vinfo("X", dtFloat, 2, 2, 2)},
		outputs: []pb{vinfo("Y", dtFloat)},
		nodes:   []pb{nodeProto("Softmax", "sm", []string{"X"}, []string{"Y"})},
	}))
	if got := ops(g); got != "reshape,softmax,reshape" {
		t.Errorf("ops %s", got)
	}
	x := seq(8, 1)
	y := run1(t, g, f32t(ir.Shape{2, 2, 2}, x))
	want := make([]float32, 8)
	for b := 0; b < 2; b++ {
		var s float64
		for i := 0; i < 4; i++ {
			s += math.Exp(float64(x[4*b+i]))
		}
		for i := 0; i < 4; i++ {
			want[4*b+i] = float32(math.Exp(float64(x[4*b+i])) / s)
		}
	}
	near(t, y, want)
}

// TestShapeFolding checks that shape arithmetic disappears at import.
func TestShapeFolding(t *testing.T) {
	g := mustImport(t, modelProto(13, graphSpec{
		inits:   []pb{tensorI64("zero", []int64{1}, []int64{0}), tensorI64("minus1", []int64{1}, []int64{-1})},
		inputs:  []pb{vinfo("X", dtFloat, 2, 3, 4)},
		outputs: []pb{vinfo("Y", dtFloat)},
		nodes: []pb{
			nodeProto("Shape", "", []string{"X"}, []string{"s"}),
			nodeProto("Gather", "", []string{"s", "zero"}, []string{"n"}, attrInt("axis", 0)),
			nodeProto("Cast", "", []string{"n"}, []string{"n2"}, attrInt("to", dtInt64)),
			nodeProto("Concat", "", []string{"n2", "minus1"}, []string{"shape"}, attrInt("axis", 0)),
			nodeProto("Reshape", "", []string{"X", "shape"}, []string{"Y"}),
		},
	}))
	if got := ops(g); got != "reshape" {
		t.Errorf("ops %s, want reshape", got)
	}
	if s := g.Outputs[0].Type.Shape; !s.Equal(ir.Shape{2, 12}) {
		t.Errorf("output %v, want [2,12]", s)
	}
	if len(g.Params) != 0 {
		t.Errorf("unused constants kept: %d params", len(g.Params))
	}
}

// TestNames checks names: PyTorch module paths for nodes ("/conv1/Conv"
// → "conv1", a Sequential child "/seq/seq.0/Conv" → "seq.0"), module.op
// where a module has several nodes, op type and index for unnamed nodes,
// initializer names kept, exporter-made ones named after their reader,
// and everything unique.
func TestNames(t *testing.T) {
	w := tensorF32("conv1.weight", []int64{2, 1, 1, 1}, []float32{1, 2})
	w2 := tensorF32("onnx::Conv_9", []int64{2, 2, 1, 1}, []float32{1, 0, 0, 1})
	b2 := tensorF32("onnx::Conv_10", []int64{2}, []float32{0, 1})
	g := mustImport(t, modelProto(13, graphSpec{
		inits:   []pb{w, w2, b2},
		inputs:  []pb{vinfo("in:0", dtFloat, 1, 1, 2, 2)},
		outputs: []pb{vinfo("out/0", dtFloat)},
		nodes: []pb{
			nodeProto("Relu", "", []string{"in:0"}, []string{"a"}),
			nodeProto("Conv", "/conv1/Conv", []string{"a", "conv1.weight"}, []string{"b"}),
			nodeProto("Relu", "/block/Relu", []string{"b"}, []string{"c"}),
			nodeProto("Relu", "/block/Relu_1", []string{"c"}, []string{"d"}),
			nodeProto("Conv", "/seq/seq.0/Conv", []string{"d", "onnx::Conv_9", "onnx::Conv_10"}, []string{"e"}),
			nodeProto("Relu", "act/1", []string{"e"}, []string{"f"}),
			nodeProto("Relu", "act/1", []string{"f"}, []string{"g"}),
			nodeProto("Relu", "in_0", []string{"g"}, []string{"h"}),
			nodeProto("Relu", "/conv1.weight", []string{"h"}, []string{"out/0"}),
		},
	}))
	var names []string
	for _, n := range g.Nodes {
		names = append(names, n.Name)
	}
	if got, want := strings.Join(names, " "), "Relu_0 conv1 block.Relu block.Relu_1 seq.0 act.1 act.1_2 in_0_2 conv1.weight_2"; got != want {
		t.Errorf("names\n%s, want\n%s", got, want)
	}
	var params []string
	for _, p := range g.Params {
		params = append(params, p.Name)
	}
	if got, want := strings.Join(params, " "), "conv1.weight seq.0.weight seq.0.bias"; got != want {
		t.Errorf("params %s, want %s", got, want)
	}
	if g.Inputs[0].Name != "in_0" || g.OutputNames[0] != "out/0" {
		t.Errorf("input %s, output %s", g.Inputs[0].Name, g.OutputNames[0])
	}
	if err := ir.Verify(g); err != nil {
		t.Error(err)
	}
}

// TestNamesRNN checks that the layers of a multi-layer nn.LSTM, one ONNX
// node each, take PyTorch's names, and that node output names (lstm.l1.h)
// stay unique.
func TestNamesRNN(t *testing.T) {
	const H, I = 2, 3
	w := func(name string, rows, cols int) pb {
		return tensorF32(name, []int64{1, int64(rows), int64(cols)}, seq(rows*cols, 0.1))
	}
	g := mustImport(t, modelProto(13, graphSpec{
		inits: []pb{w("onnx::LSTM_1", 4*H, I), w("onnx::LSTM_2", 4*H, H), w("onnx::LSTM_3", 4*H, H),
			w("onnx::LSTM_4", 4*H, H), tensorI64("one", []int64{1}, []int64{1})},
		inputs:  []pb{vinfo("x", dtFloat, 3, 1, I)},
		outputs: []pb{vinfo("z", dtFloat), vinfo("h", dtFloat)},
		nodes: []pb{
			nodeProto("LSTM", "/lstm/LSTM", []string{"x", "onnx::LSTM_1", "onnx::LSTM_2"}, []string{"y0"}, attrInt("hidden_size", H)),
			nodeProto("Squeeze", "/lstm/Squeeze", []string{"y0", "one"}, []string{"y0s"}),
			nodeProto("LSTM", "/lstm/LSTM_1", []string{"y0s", "onnx::LSTM_3", "onnx::LSTM_4"}, []string{"y", "h"}, attrInt("hidden_size", H)),
			nodeProto("Relu", "/lstm.l1.h", []string{"y"}, []string{"z"}),
		},
	}))
	var names []string
	for _, n := range g.Nodes {
		names = append(names, n.Name)
	}
	if got, want := strings.Join(names, " "), "lstm.l0 lstm.l0_y lstm.l0_y_t lstm.Squeeze lstm.l1 lstm.l1_y lstm.l1_y_t lstm.l1.h_2"; got != want {
		t.Errorf("names\n%s, want\n%s", got, want)
	}
	var params []string
	for _, p := range g.Params {
		params = append(params, p.Name)
	}
	if got, want := strings.Join(params, " "), "lstm.weight_ih_l0 lstm.weight_hh_l0 lstm.weight_ih_l1 lstm.weight_hh_l1"; got != want {
		t.Errorf("params %s, want %s", got, want)
	}
	if err := ir.Verify(g); err != nil {
		t.Error(err)
	}
}

// TestExternalData reads weights stored beside the model and refuses
// locations outside its folder and lengths beyond the file.
func TestExternalData(t *testing.T) {
	dir := t.TempDir()
	raw := []byte(strings.Repeat("\x00\x00\x80\x3f", 4)) // four 1.0
	if err := os.WriteFile(filepath.Join(dir, "w.bin"), append([]byte("pad!"), raw...), 0o644); err != nil {
		t.Fatal(err)
	}
	ext := func(loc, off, length string) pb {
		t := pb(nil).packed(1, 4).varint(2, dtFloat).str(8, "W").varint(14, 1)
		for _, kv := range [][2]string{{"location", loc}, {"offset", off}, {"length", length}} {
			if kv[1] != "" {
				t = t.bytes(13, pb(nil).str(1, kv[0]).str(2, kv[1]))
			}
		}
		return t
	}
	model := func(init pb) string {
		p := filepath.Join(dir, "m.onnx")
		data := modelProto(13, graphSpec{
			inits:   []pb{init},
			inputs:  []pb{vinfo("X", dtFloat, 4)},
			outputs: []pb{vinfo("Y", dtFloat, 4)},
			nodes:   []pb{nodeProto("Add", "a", []string{"X", "W"}, []string{"Y"})},
		})
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	g, err := Load(model(ext("w.bin", "4", "16")))
	if err != nil {
		t.Fatal(err)
	}
	near(t, run1(t, g, f32t(ir.Shape{4}, []float32{1, 2, 3, 4})), []float32{2, 3, 4, 5})
	for _, tc := range []struct {
		init pb
		want string
	}{
		{ext("../w.bin", "0", "16"), "leaves the model's folder"},
		{ext("/etc/passwd", "0", "16"), "leaves the model's folder"},
		{ext("w.bin", "8", "16"), "past the end of the file"},
		{ext("w.bin", "0", "12"), "need 16 bytes"},
		{ext("w.bin", "100", ""), "past the end"},
		{ext("missing.bin", "0", "16"), "external data"},
		{ext("w.bin", "-1", "16"), "non-negative"},
	} {
		if _, err := Load(model(tc.init)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
}

// TestDropoutMask checks that inference dropout is the identity with an
// all-true mask, and that training with a ratio is refused.
func TestDropoutMask(t *testing.T) {
	g := mustImport(t, modelProto(13, graphSpec{
		inputs:  []pb{vinfo("X", dtFloat, 3)},
		outputs: []pb{vinfo("Y", dtFloat), vinfo("M", dtBool)},
		nodes:   []pb{nodeProto("Dropout", "d", []string{"X"}, []string{"Y", "M"})},
	}))
	if len(g.Nodes) != 0 || g.Outputs[1].Data == nil || fmtSlice(g.Outputs[1].Data.Bools()) != "[true true true]" {
		t.Errorf("dropout: %s", ir.Print(g))
	}
	_, err := Import("m.onnx", modelProto(13, graphSpec{
		inits:   []pb{tensorF32("r", nil, []float32{0.5}), pb(nil).varint(2, dtBool).str(8, "t").bytes(9, []byte{1})},
		inputs:  []pb{vinfo("X", dtFloat, 3)},
		outputs: []pb{vinfo("Y", dtFloat)},
		nodes:   []pb{nodeProto("Dropout", "d", []string{"X", "r", "t"}, []string{"Y"})},
	}), "")
	if err == nil || !strings.Contains(err.Error(), "training_mode") {
		t.Errorf("training dropout: %v", err)
	}
}

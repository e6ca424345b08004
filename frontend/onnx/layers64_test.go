package onnx

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/runtime"
)

// TestDoubleLayers imports Conv, ConvTranspose, MaxPool, AveragePool,
// GlobalAveragePool, GlobalMaxPool, Resize (with a double roi) and Gemm
// on double tensors, which ONNX allows and dlc computes in float64, and
// checks each against the same model in float: the outputs stay double,
// and agree with the float model's within float32 rounding.
func TestDoubleLayers(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	random := func(dt ir.DType, s ...int) *ir.Tensor {
		x := ir.NewTensor(dt, s)
		for i := range x.Len() {
			x.SetFloat(i, float64(float32(r.Float64()*2-1)))
		}
		return x
	}
	for _, tc := range []struct {
		name  string
		x     []int
		node  pb
		inits map[string][]int // initializer name → shape, random
		roi   []float64        // Resize's roi initializer, named "roi"
		sizes []int64          // Resize's sizes initializer, named "sizes"
	}{
		{name: "Conv", x: []int{1, 3, 6, 5}, node: nodeProto("Conv", "c", []string{"X", "W", "B"}, []string{"Y"}, attrInts("pads", 1, 0, 1, 1), attrInts("strides", 2, 1)),
			inits: map[string][]int{"W": {4, 3, 3, 2}, "B": {4}}},
		{name: "ConvGroups", x: []int{1, 4, 5, 5}, node: nodeProto("Conv", "c", []string{"X", "W"}, []string{"Y"}, attrInts("dilations", 2, 1), attrInt("group", 2)),
			inits: map[string][]int{"W": {6, 2, 2, 3}}},
		{name: "ConvTranspose", x: []int{1, 3, 4, 4}, node: nodeProto("ConvTranspose", "ct", []string{"X", "W", "B"}, []string{"Y"}, attrInts("strides", 2, 2), attrInts("output_padding", 1, 0)),
			inits: map[string][]int{"W": {3, 2, 3, 3}, "B": {2}}},
		{name: "MaxPool", x: []int{1, 2, 7, 6}, node: nodeProto("MaxPool", "p", []string{"X"}, []string{"Y"}, attrInts("kernel_shape", 3, 2), attrInts("strides", 2, 2), attrInt("ceil_mode", 1))},
		{name: "AveragePool", x: []int{1, 2, 6, 6}, node: nodeProto("AveragePool", "p", []string{"X"}, []string{"Y"}, attrInts("kernel_shape", 3, 3), attrInts("pads", 1, 1, 1, 1))},
		{name: "GlobalAveragePool", x: []int{2, 3, 4, 5}, node: nodeProto("GlobalAveragePool", "p", []string{"X"}, []string{"Y"})},
		{name: "GlobalMaxPool", x: []int{2, 3, 4, 5}, node: nodeProto("GlobalMaxPool", "p", []string{"X"}, []string{"Y"})},
		{name: "Resize", x: []int{1, 2, 4, 4}, node: nodeProto("Resize", "rs", []string{"X", "roi", "", "sizes"}, []string{"Y"}, attrString("mode", "linear"), attrString("coordinate_transformation_mode", "tf_crop_and_resize")),
			roi: []float64{0, 0, 0.1, 0.2, 1, 1, 0.9, 1.1}, sizes: []int64{1, 2, 5, 7}},
		{name: "Gemm", x: []int{3, 5}, node: nodeProto("Gemm", "g", []string{"X", "W", "B"}, []string{"Y"}, attrInt("transB", 1), attrFloat("alpha", 0.5)),
			inits: map[string][]int{"W": {4, 5}, "B": {4}}},
	} {
		x64 := random(ir.F64, tc.x...)
		model := func(dt ir.DType) []byte {
			g := graphSpec{inputs: []pb{vinfo("X", onnxType(dt), toInt64s(tc.x)...)}, outputs: []pb{vinfo("Y", onnxType(dt))}, nodes: []pb{tc.node}}
			for _, name := range []string{"W", "B"} {
				if s, ok := tc.inits[name]; ok {
					r2 := rand.New(rand.NewPCG(uint64(len(name)), 1)) // the same values in both dtypes
					w := ir.NewTensor(dt, s)
					for i := range w.Len() {
						w.SetFloat(i, float64(float32(r2.Float64()*2-1)))
					}
					g.inits = append(g.inits, tensorShaped(name, w))
				}
			}
			if tc.roi != nil {
				roi := ir.NewTensor(dt, ir.Shape{len(tc.roi)})
				for i, v := range tc.roi {
					roi.SetFloat(i, v)
				}
				sizes := ir.NewTensor(ir.I64, ir.Shape{len(tc.sizes)})
				copy(sizes.I64(), tc.sizes)
				g.inits = append(g.inits, tensorShaped("roi", roi), tensorShaped("sizes", sizes))
			}
			return modelProto(13, g)
		}
		run := func(dt ir.DType) *ir.Tensor {
			g, err := Import("m.onnx", model(dt), "")
			if err != nil {
				t.Fatalf("%s in %v: %v", tc.name, dt, err)
			}
			x := ir.NewTensor(dt, tc.x)
			for i := range x.Len() {
				x.SetFloat(i, x64.Float(i))
			}
			out, err := runtime.Run(g, []*ir.Tensor{x})
			if err != nil {
				t.Fatalf("%s in %v: %v", tc.name, dt, err)
			}
			return out[0]
		}
		y64, y32 := run(ir.F64), run(ir.F32)
		if y64.DType != ir.F64 || !y64.Shape.Equal(y32.Shape) {
			t.Errorf("%s: double model gives %v, float model %v", tc.name, y64.Type(), y32.Type())
			continue
		}
		for i := range y64.Len() {
			if g, w := y64.Float(i), y32.Float(i); math.Abs(g-w) > 1e-5*math.Max(1, math.Abs(w)) {
				t.Errorf("%s: y[%d] = %g in double, %g in float", tc.name, i, g, w)
				break
			}
		}
	}
}

// tensorShaped is an initializer of t's shape with its data raw.
func tensorShaped(name string, t *ir.Tensor) pb {
	var buf bytes.Buffer
	if err := binary.Write(&buf, binary.LittleEndian, t.Data); err != nil {
		panic(err)
	}
	return pb(nil).packed(1, toInt64s(t.Shape)...).varint(2, uint64(onnxType(t.DType))).str(8, name).bytes(9, buf.Bytes())
}

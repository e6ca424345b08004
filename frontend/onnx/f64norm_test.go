package onnx

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/runtime"
)

// tensorOf is a FLOAT or DOUBLE TensorProto with raw_data.
func tensorOf(elem int32, name string, dims []int64, vals []float64) pb {
	if elem == dtFloat {
		f := make([]float32, len(vals))
		for i, v := range vals {
			f[i] = float32(v)
		}
		return tensorF32(name, dims, f)
	}
	raw := make([]byte, 8*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint64(raw[8*i:], math.Float64bits(v))
	}
	return pb(nil).packed(1, dims...).varint(2, dtDouble).str(8, name).bytes(9, raw)
}

// normModel is one model of PRelu, GroupNormalization (opset 18: scale
// and bias per group), LRN, BatchNormalization, LayerNormalization,
// LSTM, Softmax, LogSoftmax, Hardmax and NegativeLogLikelihoodLoss on
// tensors of elem (FLOAT or DOUBLE), with the same weights either way.
func normModel(elem int32) []byte {
	r := rand.New(rand.NewPCG(3, 12))
	vals := func(n int, lo, hi float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = lo + (hi-lo)*float64(float32(r.Float64()))
		}
		return v
	}
	const H = 2
	g := graphSpec{
		inputs: []pb{vinfo("X", elem, 2, 4, 3)},
		inits: []pb{
			tensorOf(elem, "slope", []int64{4, 1}, vals(4, 0, 0.5)),
			tensorOf(elem, "gscale", []int64{2}, vals(2, 0.5, 1.5)), tensorOf(elem, "gbias", []int64{2}, vals(2, -1, 1)),
			tensorOf(elem, "bscale", []int64{4}, vals(4, 0.5, 1.5)), tensorOf(elem, "bbias", []int64{4}, vals(4, -1, 1)),
			tensorOf(elem, "bmean", []int64{4}, vals(4, -1, 1)), tensorOf(elem, "bvar", []int64{4}, vals(4, 0.5, 1.5)),
			tensorOf(elem, "lscale", []int64{3}, vals(3, 0.5, 1.5)), tensorOf(elem, "lbias", []int64{3}, vals(3, -1, 1)),
			tensorOf(elem, "W", []int64{1, 4 * H, 3}, vals(4*H*3, -1, 1)), tensorOf(elem, "R", []int64{1, 4 * H, H}, vals(4*H*H, -1, 1)),
			tensorOf(elem, "B", []int64{1, 8 * H}, vals(8*H, -1, 1)),
			tensorI64("target", []int64{2, 3}, []int64{0, 3, 1, 2, 2, 0}),
		},
		nodes: []pb{
			nodeProto("PRelu", "prelu", []string{"X", "slope"}, []string{"a"}),
			nodeProto("GroupNormalization", "gn", []string{"a", "gscale", "gbias"}, []string{"b"}, attrInt("num_groups", 2)),
			nodeProto("LRN", "lrn", []string{"b"}, []string{"c"}, attrInt("size", 3)),
			nodeProto("BatchNormalization", "bn", []string{"c", "bscale", "bbias", "bmean", "bvar"}, []string{"bnY"}),
			nodeProto("LayerNormalization", "ln", []string{"c", "lscale", "lbias"}, []string{"d"}),
			nodeProto("LSTM", "lstm", []string{"d", "W", "R", "B"}, []string{"Y", "Yh"}, attrInt("hidden_size", H)),
			nodeProto("Softmax", "sm", []string{"Y"}, []string{"e"}),
			nodeProto("Hardmax", "hm", []string{"d"}, []string{"hm"}),
			nodeProto("LogSoftmax", "ls", []string{"d"}, []string{"f"}, attrInt("axis", 1)),
			nodeProto("NegativeLogLikelihoodLoss", "nll", []string{"f", "target"}, []string{"loss"}),
		},
		outputs: []pb{vinfo("e", elem), vinfo("Yh", elem), vinfo("bnY", elem), vinfo("hm", elem), vinfo("loss", elem)},
	}
	return modelProto(18, g)
}

// TestImportF64Norms imports the same model in float and in double: the
// double one keeps f64 throughout (no op refuses it or narrows it), and
// its outputs are the float one's within f32 rounding.
func TestImportF64Norms(t *testing.T) {
	x := make([]float64, 24)
	r := rand.New(rand.NewPCG(5, 1))
	for i := range x {
		x[i] = float64(float32(r.Float64()*4 - 2))
	}
	var outs [2][]*ir.Tensor
	for k, elem := range []int32{dtFloat, dtDouble} {
		g, err := Import("norm.onnx", normModel(elem), "")
		if err != nil {
			t.Fatalf("elem %d: %v", elem, err)
		}
		want := ir.F32
		if elem == dtDouble {
			want = ir.F64
		}
		ops := map[string]bool{}
		for _, n := range g.Nodes {
			ops[n.Op] = true
			for _, o := range n.Outputs {
				if o.Type.DType.IsFloat() && o.Type.DType != want {
					t.Errorf("%v model: node %s (%s) computes %v", want, n.Name, n.Op, o.Type.DType)
				}
			}
		}
		for _, op := range []string{"prelu", "groupnorm", "lrn", "batchnorm", "layernorm", "lstm", "softmax", "hardmax", "log_softmax", "nll_loss"} {
			if !ops[op] {
				t.Errorf("%v model: no %s node", want, op)
			}
		}
		in := ir.NewTensor(want, ir.Shape{2, 4, 3})
		for i, v := range x {
			in.SetFloat(i, v)
		}
		if outs[k], err = runtime.Run(g, []*ir.Tensor{in}); err != nil {
			t.Fatalf("%v model: %v", want, err)
		}
	}
	for i := range outs[0] {
		a, b := outs[0][i], outs[1][i]
		if !a.Shape.Equal(b.Shape) {
			t.Fatalf("output %d: shapes %v and %v", i, a.Shape, b.Shape)
		}
		for j := range a.Len() {
			if d := math.Abs(a.Float(j) - b.Float(j)); d > 1e-5*math.Abs(b.Float(j))+1e-6 {
				t.Errorf("output %d element %d: f32 %g, f64 %g", i, j, a.Float(j), b.Float(j))
			}
		}
	}
}

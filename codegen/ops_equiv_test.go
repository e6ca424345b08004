package codegen

import "github.com/dlcompiler/dlc/ir"

// opsEquivCases are the equivalence cases of the dtype gaps closed for
// ONNX's node suite: binary arithmetic on u64 (unsigned division and
// order), pow on integers and f64, topk on integers and f64, and matmul
// on f64; einsum, linear_attention, rotary_embedding,
// tensor_scatter and tfidf.
func opsEquivCases() []equivCase {
	typed := func(b *gb, name string, dt ir.DType, s ...int) *ir.Value {
		return b.g.AddInput(name, ir.TensorType{DType: dt, Shape: s}, ir.Pos{})
	}
	return []equivCase{
		{"binaryu64", func(b *gb) {
			x, y := typed(b, "a", ir.U64, 3, 8), typed(b, "b", ir.U64, 8)
			one := b.n1("cast", []*ir.Value{b.n1("eq", []*ir.Value{y, y}, nil)}, ir.Attrs{"to": "u64"})
			odd := b.n1("bitwise_or", []*ir.Value{y, one}, nil) // never 0
			var outs []*ir.Value
			for _, op := range []string{"add", "sub", "mul", "maximum", "minimum"} {
				outs = append(outs, b.n1(op, []*ir.Value{x, y}, nil))
			}
			b.out(append(outs, b.n1("div", []*ir.Value{x, odd}, nil))...)
		}},
		{"powint", func(b *gb) {
			var outs []*ir.Value
			for _, dt := range []ir.DType{ir.I32, ir.I64, ir.U8, ir.F64} {
				x, y := typed(b, "a"+dt.String(), dt, 2, 5), typed(b, "b"+dt.String(), dt, 5)
				outs = append(outs, b.n1("pow", []*ir.Value{x, y}, nil))
			}
			b.out(outs...)
		}},
		{"topkint", func(b *gb) {
			var outs []*ir.Value
			for _, dt := range []ir.DType{ir.I64, ir.U64, ir.I8, ir.F64} {
				x := typed(b, "x"+dt.String(), dt, 3, 7)
				outs = append(outs, b.node("topk", []*ir.Value{x}, ir.Attrs{"k": 3})...)
				outs = append(outs, b.node("topk", []*ir.Value{x}, ir.Attrs{"k": 2, "axis": 0, "largest": false})...)
			}
			b.out(outs...)
		}},
		{"einsum", func(b *gb) {
			b.out(b.n1("einsum", []*ir.Value{b.input("q", 1, 2, 3, 4), b.input("k", 1, 2, 5, 4)}, ir.Attrs{"equation": "bhqd,bhkd->bhqk"}),
				b.n1("einsum", []*ir.Value{typed(b, "d", ir.I32, 2, 4, 4)}, ir.Attrs{"equation": "bii->bi"}),
				b.n1("einsum", []*ir.Value{b.input("x", 3, 4), b.input("y", 4, 5), b.input("z", 5)}, ir.Attrs{"equation": "ij,jk,k->i"}),
				b.n1("einsum", []*ir.Value{typed(b, "s", ir.F64, 3, 3)}, ir.Attrs{"equation": "ii->"}))
		}},
		{"linattn", func(b *gb) {
			ys := b.node("linear_attention", []*ir.Value{b.input("q", 2, 3, 16), b.input("k", 2, 3, 8), b.input("v", 2, 3, 6),
				b.input("s", 2, 2, 4, 3), b.input("g", 2, 3, 8), b.input("beta", 2, 3, 2)}, ir.Attrs{"q_num_heads": 4, "kv_num_heads": 2})
			zs := b.node("linear_attention", []*ir.Value{b.input("q2", 1, 4, 6), b.input("k2", 1, 4, 6), b.input("v2", 1, 4, 4),
				nil, b.input("g2", 1, 4, 2), nil}, ir.Attrs{"q_num_heads": 2, "kv_num_heads": 2, "update_rule": "gated", "scale": 0.5})
			b.out(append(ys, zs...)...)
		}},
		{"rotary", func(b *gb) {
			b.out(b.n1("rotary_embedding", []*ir.Value{b.input("x", 2, 3, 4, 8), b.input("c", 2, 4, 4), b.input("s", 2, 4, 4)}, nil),
				b.n1("rotary_embedding", []*ir.Value{b.input("x3", 2, 4, 12), b.input("c3", 2, 4, 2), b.input("s3", 2, 4, 2)},
					ir.Attrs{"interleaved": true, "rotary_dim": 4, "num_heads": 2}))
		}},
		{"tscatter", func(b *gb) {
			b.out(b.n1("tensor_scatter", []*ir.Value{b.input("c", 3, 2, 5, 4), b.input("u", 3, 2, 3, 4), b.ids("w", 3)}, ir.Attrs{"mode": "circular"}),
				b.n1("tensor_scatter", []*ir.Value{typed(b, "ci", ir.I32, 2, 6, 3), typed(b, "ui", ir.I32, 2, 2, 3)}, ir.Attrs{"axis": 1}))
		}},
		{"tfidf", func(b *gb) {
			a := ir.Attrs{"grams": []int{2, 3, 5, 4, 5, 6, 7, 8, 6, 7}, "gram_len": []int{1, 1, 2, 2, 2, 2}, "index": []int{0, 1, 2, 3, 4, 1},
				"output_size": 5, "min_gram_length": 1, "max_gram_length": 2, "max_skip_count": 3, "mode": "TFIDF", "weights": []float64{0.5, 1, 2, 3, 4}}
			b.out(b.n1("tfidf", []*ir.Value{typed(b, "x", ir.I32, 3, 9)}, a))
		}},
		{"matmulf64", func(b *gb) {
			b.out(b.n1("matmul", []*ir.Value{typed(b, "a", ir.F64, 2, 3, 5), typed(b, "b", ir.F64, 5, 4)}, nil),
				b.n1("matmul", []*ir.Value{typed(b, "c", ir.F64, 6), typed(b, "d", ir.F64, 2, 6, 3)}, nil))
		}},
	}
}

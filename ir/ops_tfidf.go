package ir

// tfidf: n-gram counts of integer token rows (ONNX TfIdfVectorizer). The
// ONNX frontend turns the pool into an explicit list of n-grams: grams
// holds them one after another, gram_len their lengths, index the
// output column each counts into.

func init() {
	Register(&OpDef{
		Name: "tfidf", Doc: "counts the n-grams of a token row x ([C] or [B, C] integers) into output columns: grams of length n match x[s], x[s+d], ... x[s+(n-1)d] for skip distances d = 1..max_skip_count+1 (unigrams only at d = 1); mode TF gives the counts, IDF the weight (or 1) of each n-gram seen, TFIDF weight times count (ONNX TfIdfVectorizer)",
		Class: Opaque, Pure: Pure, Stream: StreamWhole, NoGrad: "counts of integer tokens have no gradient",
		Inputs:  []InputDef{{Name: "x", DTypes: SetOf(I32, I64)}},
		Outputs: []string{"y"},
		Attrs: []AttrDef{{Name: "grams", Kind: AttrInts, Doc: "the n-grams, concatenated"},
			{Name: "gram_len", Kind: AttrInts, Doc: "the length of each n-gram"},
			{Name: "index", Kind: AttrInts, Doc: "the output column of each n-gram"},
			{Name: "output_size", Kind: AttrInt, Doc: "output columns"},
			{Name: "min_gram_length", Kind: AttrInt, Default: 1, Doc: "shortest n-gram counted"},
			{Name: "max_gram_length", Kind: AttrInt, Default: 1, Doc: "longest n-gram counted"},
			{Name: "max_skip_count", Kind: AttrInt, Default: 0, Doc: "largest skip between tokens of an n-gram"},
			{Name: "mode", Kind: AttrString, Default: "TF", Enum: []string{"TF", "IDF", "TFIDF"}, Doc: "what the output holds"},
			{Name: "weights", Kind: AttrFloats, Default: []float64{}, Doc: "per output column (IDF, TFIDF); empty: 1"}},
		Check: func(n *Node) error {
			gl, idx, out := n.Attrs.Ints("gram_len"), n.Attrs.Ints("index"), n.Attrs.Int("output_size")
			sum := 0
			for i, l := range gl {
				sum += l
				if l < 1 || i >= len(idx) || idx[i] < 0 || idx[i] >= out {
					return shapeErr("tfidf: n-gram %d has length %d or column out of 0..%d", i, l, out-1)
				}
			}
			if sum != len(n.Attrs.Ints("grams")) || len(idx) != len(gl) {
				return shapeErr("tfidf: gram_len %v and index %v do not describe grams of %d tokens", gl, idx, len(n.Attrs.Ints("grams")))
			}
			if w := n.Attrs.Floats("weights"); len(w) != 0 && len(w) != out {
				return shapeErr("tfidf: %d weights for %d output columns", len(w), out)
			}
			return nil
		},
		Infer: func(n *Node) ([]TensorType, error) {
			x := in(n, 0).Shape
			out := n.Attrs.Int("output_size")
			switch len(x) {
			case 1:
				return []TensorType{{F32, Shape{out}}}, nil
			case 2:
				return []TensorType{{F32, Shape{x[0], out}}}, nil
			}
			return nil, shapeErr("tfidf: x %v must be [C] or [B, C]", x)
		},
	})
}

// TfIdfMinLen is the shortest n-gram counted at skip distance d.
func TfIdfMinLen(a Attrs, d int) int {
	m := a.Int("min_gram_length")
	if d > 1 {
		m = max(m, 2)
	}
	return m
}

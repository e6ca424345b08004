package runtime

import "github.com/dlcompiler/dlc/ir"

// tfidf (ir/ops_tfidf.go): every n-gram of the list tried at every start
// and skip distance, then the mode's weighting.

func init() { register("tfidf", tfidfKernel) }

func tfidfKernel(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x, a := in[0], n.Attrs
	y := newF32(n.Outputs[0].Type.Shape)
	C := x.Shape[len(x.Shape)-1]
	out := a.Int("output_size")
	grams, glen, idx := a.Ints("grams"), a.Ints("gram_len"), a.Ints("index")
	maxN := a.Int("max_gram_length")
	ys := y.F32()
	for r := range x.Len() / max(C, 1) {
		for d := 1; d <= a.Int("max_skip_count")+1; d++ {
			minN := ir.TfIdfMinLen(a, d)
			if minN > maxN {
				break
			}
			for s := range C {
				off := 0
				for g, l := range glen {
					match := l >= minN && l <= maxN && s+(l-1)*d < C
					for k := 0; match && k < l; k++ {
						match = x.Int(r*C+s+k*d) == int64(grams[off+k])
					}
					if match {
						ys[r*out+idx[g]]++
					}
					off += l
				}
			}
		}
	}
	w := a.Floats("weights")
	for i, f := range ys {
		switch a.String("mode") {
		case "IDF":
			ys[i] = 0
			if f > 0 {
				ys[i] = tfidfWeight(w, i%out)
			}
		case "TFIDF":
			ys[i] = float32(float64(tfidfWeight(w, i%out)) * float64(f))
		}
	}
	return one(y)
}

func tfidfWeight(w []float64, i int) float32 {
	if len(w) == 0 {
		return 1
	}
	return float32(w[i])
}

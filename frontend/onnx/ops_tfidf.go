package onnx

import (
	"fmt"
	"slices"

	"github.com/dlcompiler/dlc/ir"
)

// TfIdfVectorizer onto ir tfidf with the pool spelled out as a list of
// n-grams (integer pools only: dlc has no strings). As ONNX's reference
// builds its n-gram tree, only lengths within [min_gram_length,
// max_gram_length] are kept, and an n-gram listed twice counts into the
// column of its last listing.

func init() { opTable["TfIdfVectorizer"] = opConv{1, checkTfIdf, tfidfOp} }

func checkTfIdf(c *nctx) error {
	if c.has("pool_strings") {
		return unsup("TfIdfVectorizer of strings is not supported (dlc has no strings)")
	}
	return nil
}

func tfidfOp(c *nctx) error {
	var ints [3]int
	for i, name := range []string{"min_gram_length", "max_gram_length", "max_skip_count"} {
		v, err := c.int(name, 0)
		if err != nil {
			return err
		}
		ints[i] = v
	}
	mode, err := c.str("mode", "TF")
	if err != nil {
		return err
	}
	counts, err := c.ints("ngram_counts", nil)
	if err != nil {
		return err
	}
	indexes, err := c.ints("ngram_indexes", nil)
	if err != nil {
		return err
	}
	pool, err := c.ints("pool_int64s", nil)
	if err != nil {
		return err
	}
	var weights []float64
	if a := c.attrs["weights"]; a != nil {
		for _, f := range a.floats {
			weights = append(weights, float64(f))
		}
	}
	attrs, err := tfidfGrams(pool, counts, indexes, ints[0], ints[1])
	if err != nil {
		return err
	}
	attrs["min_gram_length"], attrs["max_gram_length"], attrs["max_skip_count"] = ints[0], ints[1], ints[2]
	attrs["mode"], attrs["weights"] = mode, append([]float64{}, weights...)
	y, err := c.emit1("tfidf", "", []*val{c.in(0)}, attrs)
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

// tfidfGrams lists the pool's n-grams of the counted lengths: the grams
// of length n start at counts[n-1]; the i-th n-gram of the pool overall
// counts into column indexes[i].
func tfidfGrams(pool, counts, indexes []int, minN, maxN int) (ir.Attrs, error) {
	if len(indexes) == 0 {
		return nil, fmt.Errorf("ngram_indexes is empty")
	}
	type gram struct {
		toks []int
		col  int
	}
	var gs []gram
	id := 0
	for i, start := range counts {
		n, end := i+1, len(pool)
		if i+1 < len(counts) {
			end = counts[i+1]
		}
		if start < 0 || end > len(pool) || start > end || (end-start)%n != 0 {
			return nil, fmt.Errorf("ngram_counts %v do not split the pool of %d into whole %d-grams", counts, len(pool), n)
		}
		for p := start; p < end; p, id = p+n, id+1 {
			if id >= len(indexes) {
				return nil, fmt.Errorf("%d ngram_indexes for more n-grams", len(indexes))
			}
			if n < minN || n > maxN {
				continue
			}
			toks := pool[p : p+n]
			gs = slices.DeleteFunc(gs, func(g gram) bool { return slices.Equal(g.toks, toks) })
			gs = append(gs, gram{toks, indexes[id]})
		}
	}
	a := ir.Attrs{"grams": []int{}, "gram_len": []int{}, "index": []int{}, "output_size": slices.Max(indexes) + 1}
	for _, g := range gs {
		a["grams"] = append(a["grams"].([]int), g.toks...)
		a["gram_len"] = append(a["gram_len"].([]int), len(g.toks))
		a["index"] = append(a["index"].([]int), g.col)
	}
	return a, nil
}

package onnx

import (
	"slices"
	"testing"

	"github.com/dlcompiler/dlc/ir"
)

// TestExplicitEinsum: ellipses become unused letters aligned from the
// right, and an equation without -> gets numpy's implicit output.
func TestExplicitEinsum(t *testing.T) {
	for _, tc := range []struct {
		eq     string
		shapes []ir.Shape
		want   string // "" for an error
	}{
		{"...ii ->...i", []ir.Shape{{3, 5, 5}}, "Aii->Ai"},
		{"bij, bjk -> bik", []ir.Shape{{5, 2, 3}, {5, 3, 4}}, "bij,bjk->bik"},
		{"i,i", []ir.Shape{{5}, {5}}, "i,i->"},
		{"ji,jk", []ir.Shape{{2, 3}, {2, 4}}, "ji,jk->ik"},
		{"->", []ir.Shape{{}}, "->"},
		{"...ij,...jk", []ir.Shape{{2, 3, 4, 5}, {3, 5, 6}}, "ABij,Bjk->ABik"},
		{"...i,...i", []ir.Shape{{2, 3}, {1, 3}}, ""}, // broadcasting ellipsis axes
		{"ij,jk", []ir.Shape{{2, 3}}, ""},             // operand count
	} {
		got, err := explicitEinsum(tc.eq, tc.shapes)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("%q %v: got %q, want an error", tc.eq, tc.shapes, got)
		case tc.want != "" && (err != nil || got != tc.want):
			t.Errorf("%q %v: got %q, %v; want %q", tc.eq, tc.shapes, got, err, tc.want)
		}
	}
}

// TestTfIdfGrams: only the counted lengths are listed, and an n-gram
// listed twice counts into its last column, as ONNX's reference tree.
func TestTfIdfGrams(t *testing.T) {
	pool := []int{2, 3, 2, 4, 5, 6, 7, 8, 5, 6}
	a, err := tfidfGrams(pool, []int{0, 4}, []int{0, 1, 2, 3, 4, 5, 6}, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a["grams"].([]int), []int{3, 2, 4, 7, 8, 5, 6}; !slices.Equal(got, want) {
		t.Errorf("grams %v, want %v", got, want)
	}
	if got, want := a["index"].([]int), []int{1, 2, 3, 5, 6}; !slices.Equal(got, want) {
		t.Errorf("index %v, want %v (the second 2 and the second 5 6 take their last columns)", got, want)
	}
	b, err := tfidfGrams(pool, []int{0, 4}, []int{0, 1, 2, 3, 4, 5, 6}, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := b["gram_len"].([]int); !slices.Equal(got, []int{2, 2}) { // (5 6) once
		t.Errorf("bigrams only: gram_len %v", got)
	}
	if _, err := tfidfGrams(pool, []int{0, 3}, []int{0, 1, 2, 3, 4, 5}, 1, 2); err == nil {
		t.Errorf("a pool that does not split into whole bigrams: no error")
	}
}

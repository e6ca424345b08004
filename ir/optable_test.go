package ir

import (
	"math"
	"strings"
	"testing"
)

// TestOpTableComplete walks the op table and fails on an op that lacks a
// property the passes, the interpreter or code generation read from it
// instead of from its name.
func TestOpTableComplete(t *testing.T) {
	for _, d := range Ops() {
		for _, msg := range missing(d) {
			t.Errorf("op %s: %s", d.Name, msg)
		}
	}
}

// missing lists what op d lacks.
func missing(d *OpDef) []string {
	var m []string
	need := func(ok bool, msg string) {
		if !ok {
			m = append(m, msg)
		}
	}
	need(d.Class != 0, "no fusion class")
	need(d.Pure != 0, "Pure is not set (Pure or Impure)")
	need(d.Stream != 0, "no Stream rule (StreamWhole if it needs the whole sequence)")
	need((d.Grad != nil) != (d.NoGrad != ""), "wants exactly one of a Grad slot and a NoGrad reason")
	need(d.Infer != nil, "no shape rule")
	forms := 0
	if u := d.Unary; u != nil {
		forms++
		need(u.Eval != nil && u.Go != nil, "Unary form without a scalar function and a Go template")
		need(d.Class == Elementwise, "Unary form but not of class elementwise")
		need(d.InPlace, "Unary form but not InPlace")
	}
	if b := d.Binary; b != nil {
		forms++
		need(b.Float != nil && b.Int != nil && b.Go != nil, "Binary form without float and integer functions and a Go template")
		need(d.Class == Broadcast, "Binary form but not of class broadcast")
	}
	if r := d.Reduction; r != nil {
		forms++
		need(r.Combine != nil && r.GoCombine != nil, "Reduction form without init/combine and its template")
		need((r.Finalize == nil) == (r.GoFinalize == nil), "Reduction finalize without its template, or the reverse")
		need(d.Class == Reduce, "Reduction form but not of class reduce")
		need(d.AttrDef("axes") != nil && d.AttrDef("keepdims") != nil, "Reduction form without axes and keepdims attributes")
		need(d.Stream == StreamReduce, "Reduction form but not StreamReduce")
	}
	need(forms <= 1, "more than one declarative form")
	// An element-wise op outside the fused chains and epilogues must be a
	// view (identity, dropout) or the chain itself (fused_ewise).
	need(d.Class != Elementwise || d.Unary != nil || d.View || strings.HasPrefix(d.Name, "fused_"),
		"elementwise class without a Unary form (the fusion pass could not fuse it)")
	need(d.Act != ActElementwise || d.Unary != nil, "an epilogue activation without a Unary form")
	need(!d.View || (!d.InPlace && d.Unary == nil), "a view cannot also compute")
	return m
}

// TestCompletenessCatches checks that missing() reports each kind of gap.
func TestCompletenessCatches(t *testing.T) {
	ok := func() *OpDef {
		d := *Lookup("relu")
		u := *d.Unary
		d.Unary = &u
		return &d
	}
	cases := map[string]func(d *OpDef){
		"Pure":          func(d *OpDef) { d.Pure = 0 },
		"Stream":        func(d *OpDef) { d.Stream = 0 },
		"Grad":          func(d *OpDef) { d.Grad = nil },
		"Go template":   func(d *OpDef) { d.Unary.Go = nil },
		"Unary form":    func(d *OpDef) { d.Unary = nil },
		"init/combine":  func(d *OpDef) { d.Unary = nil; d.Class = Reduce; d.Reduction = &Reduction{} },
		"exactly one":   func(d *OpDef) { d.NoGrad = "because" },
		"a view cannot": func(d *OpDef) { d.View = true },
	}
	if m := missing(ok()); len(m) != 0 {
		t.Fatalf("relu: %v", m)
	}
	for want, spoil := range cases {
		d := ok()
		spoil(d)
		if m := strings.Join(missing(d), "; "); !strings.Contains(m, want) {
			t.Errorf("spoiling %s: got %q", want, m)
		}
	}
}

// TestEpilogueFromTable checks that the epilogue ops learn every
// activation of the table, with its attributes.
func TestEpilogueFromTable(t *testing.T) {
	for _, h := range []string{"fused_conv", "fused_dense"} {
		hd := Lookup(h)
		for _, d := range Ops() {
			if d.Act == NoAct {
				continue
			}
			enum := hd.AttrDef("act").Enum
			found := false
			for _, e := range enum {
				found = found || e == d.Name
			}
			if !found {
				t.Errorf("%s act does not offer %s", h, d.Name)
			}
			if d.Act != ActElementwise {
				continue
			}
			for _, a := range d.Attrs {
				if ad := hd.AttrDef(a.Name); ad == nil || ad.Kind != a.Kind {
					t.Errorf("%s lacks %s's attribute %s (%v)", h, d.Name, a.Name, a.Kind)
				}
			}
		}
	}
}

// TestUnaryReference checks the scalar functions on the special values,
// NaN propagating as in PyTorch.
func TestUnaryReference(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	cases := []struct {
		op    string
		attrs Attrs
		x     float64
		want  float64
	}{
		{"relu", nil, nan, nan},
		{"relu", nil, -2, 0},
		{"relu", nil, inf, inf},
		{"leaky_relu", Attrs{"alpha": 0.1}, -2, -0.2},
		{"leaky_relu", Attrs{"alpha": 0.1}, nan, nan},
		{"clip", Attrs{"min": 1.0, "max": 0.0}, 0.5, 0},
		{"clip", Attrs{"min": -1.0, "max": 1.0}, nan, nan},
		{"sigmoid", nil, -inf, 0},
		{"tanh", nil, inf, 1},
	}
	for _, c := range cases {
		got := Lookup(c.op).Unary.Eval(c.attrs)(c.x)
		if !(got == c.want || math.IsNaN(got) && math.IsNaN(c.want)) || math.Abs(got-c.want) > 1e-12 && !math.IsNaN(c.want) {
			t.Errorf("%s%v(%v) = %v, want %v", c.op, c.attrs, c.x, got, c.want)
		}
	}
}

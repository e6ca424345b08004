package compiler

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/dlcompiler/dlc/codegen"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/runtime"
)

// The self-test's numerical contract. Generated code accumulates in
// float32, the interpreter in float64, so they differ by rounding; the
// default tolerance (1e-5 relative, 1e-6 absolute) covers that for a
// feedforward model. A model that amplifies rounding (a recurrent
// layer with trained-scale weights feeds its own output back, step after
// step) can legitimately differ by more. So the tolerance is derived from
// each model's sensitivity: the interpreter runs again with every float
// weight moved by one float32 ulp (seeded random signs), and the
// self-test's tolerance becomes max(default, tolSafety × the largest
// output change measured, in units of the default tolerance).
const (
	defaultRelTol = 1e-5
	defaultAbsTol = 1e-6
	// tolRuns is how many perturbed runs are measured.
	tolRuns = 3
	// tolSafety is the margin over the measured change: float32
	// accumulation in generated code perturbs more than one weight ulp.
	tolSafety = 8
	// tolMaxMACs: a model this large is not measured (tolRuns more
	// interpreter runs would take seconds) and gets a note.
	tolMaxMACs = 100_000_000
)

// tolerance is the self-test tolerance chosen for a model.
type tolerance struct {
	rel, abs float64
	// change is the largest output change one ulp of the weights made, in
	// units of the default tolerance (0 when not measured).
	change float64
	// output names the output that changed most.
	output string
	// note, when not empty, says why the tolerance is not the default or
	// why it was not measured.
	note string
}

// selfTestTolerance measures g's sensitivity to one-ulp changes of its
// weights on the self-test's inputs and outputs, when g has recurrent
// layers, and derives the self-test's tolerance. A feedforward model
// keeps the default: its float32 sums do not feed back into themselves,
// and the default holds for every example and the ONNX node and zoo tests
// (vgg_bn, the most sensitive example, moves by a quarter of it).
func selfTestTolerance(g *ir.Graph, ins, outs []*ir.Tensor) (tolerance, error) {
	t := tolerance{rel: defaultRelTol, abs: defaultAbsTol}
	var macs int64
	recurrent := false
	for _, n := range g.Nodes {
		macs += ir.MACs(n)
		recurrent = recurrent || n.Op == "rnn" || n.Op == "lstm" || n.Op == "gru"
	}
	if !recurrent {
		return t, nil
	}
	if macs > tolMaxMACs {
		t.note = fmt.Sprintf("self-test tolerance not measured: the model has %d MACs, above the %d that the extra interpreter runs are limited to; it keeps the default (relative %g, absolute %g)",
			macs, int64(tolMaxMACs), defaultRelTol, defaultAbsTol)
		return t, nil
	}
	return measureTolerance(g, ins, outs)
}

// measureTolerance runs the interpreter tolRuns times on g with perturbed
// weights and derives the tolerance from the largest output change.
func measureTolerance(g *ir.Graph, ins, outs []*ir.Tensor) (tolerance, error) {
	t := tolerance{rel: defaultRelTol, abs: defaultAbsTol}
	r := rand.New(rand.NewPCG(1, 0x746f6c))
	for range tolRuns {
		outs2, err := runtime.Run(perturbed(g, r), ins)
		if err != nil {
			return t, fmt.Errorf("measuring the self-test tolerance with the interpreter: %w", err)
		}
		for i := range outs {
			if c := change(outs[i], outs2[i]); c > t.change {
				t.change, t.output = c, g.OutputNames[i]
			}
		}
	}
	if f := tolSafety * t.change; f > 1 {
		f = roundUp(f)
		t.rel, t.abs = defaultRelTol*f, defaultAbsTol*f
		// One float32 ulp is 2^-24 of a weight; the default relative
		// tolerance is about 168 of those.
		amp := t.change * defaultRelTol / 0x1p-24
		t.note = fmt.Sprintf("tolerance raised to relative %.2g, absolute %.2g: this model amplifies float32 rounding of its weights by %.0f (one-ulp weight changes move output %s by %.2g× the default tolerance)",
			t.rel, t.abs, amp, t.output, t.change)
	}
	return t, nil
}

// perturbed returns a copy of g whose float32 params and consts are each
// moved by one ulp up or down (random signs from r).
func perturbed(g *ir.Graph, r *rand.Rand) *ir.Graph {
	c := g.Clone()
	for _, p := range c.Params {
		if p.Data == nil || p.Data.DType != ir.F32 {
			continue
		}
		d := p.Data.Clone()
		for i, v := range d.F32() {
			dir := float32(math.Inf(1))
			if r.IntN(2) == 0 {
				dir = -dir
			}
			if v != 0 && !math.IsInf(float64(v), 0) && v == v {
				d.F32()[i] = math.Nextafter32(v, dir)
			}
		}
		p.Data = d
	}
	return c
}

// change is the largest difference between two runs' outputs in units of
// the self-test's default tolerance (see codegen/selftest.go: the
// absolute part scales with the output's largest magnitude).
func change(want, got *ir.Tensor) float64 {
	scale := 1.0
	for _, w := range want.F32() {
		if a := math.Abs(float64(w)); !math.IsInf(a, 0) && !math.IsNaN(a) {
			scale = max(scale, a)
		}
	}
	worst := 0.0
	for i, w := range want.F32() {
		g := got.F32()[i]
		if g == w || g != g || w != w {
			continue
		}
		d := math.Abs(float64(g) - float64(w))
		worst = max(worst, d/(defaultAbsTol*scale+defaultRelTol*math.Abs(float64(w))))
	}
	return worst
}

// roundUp rounds f up to two significant digits, for a readable tolerance.
func roundUp(f float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(f))-1)
	return math.Ceil(f/p) * p
}

// applyTolerance sets the self-test tolerance of copt from the measured
// sensitivity, and passes any note on to the user.
func applyTolerance(ref *ir.Graph, copt *codegen.Options, notef func(string, ...any)) error {
	t, err := selfTestTolerance(ref, copt.TestInputs, copt.TestOutputs)
	if err != nil {
		return err
	}
	if t.rel != defaultRelTol {
		copt.RelTol, copt.AbsTol, copt.TolNote = t.rel, t.abs, t.note
	}
	if t.note != "" && notef != nil {
		notef("%s", t.note)
	}
	return nil
}

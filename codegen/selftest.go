package codegen

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/dave/jennifer/jen"
	"github.com/dlcompiler/dlc/ir"
)

// The self-test: testdata/selftest.bin holds inputs and the interpreter's
// outputs recorded at compile time:
//
//	"DLCT" | each input (g.Inputs order) | each output (g.Outputs order)
//
// raw little-endian f32 or i64 values, sizes fixed by the shapes. The
// generated test compares with |got-want| <= AbsTol + RelTol·|want|.
// The defaults are relative 1e-5 and absolute 1e-6 (ARCHITECTURE.md). The
// generated kernels accumulate dense, matmul and conv sums in float32 in
// an order the schedule chooses, while the interpreter may sum in another
// order or in float64; near an output that cancels to ~0 that difference
// is a few float32 ulps of the summed terms, not of the result. So the
// absolute floor is scaled by the output tensor's largest magnitude
// (AbsTol·max(1, max|want|)): still 1e-6 for outputs of size ~1, and an
// index or padding bug (errors of the order of the values) still fails.

const selfTestMagic = "DLCT"

// RandomInputs returns deterministic inputs for g from seed: f32 uniform
// in [-1, 1); i64 ids uniform in a range valid for every embedding and
// gather that reads them (default [0, 10)).
func RandomInputs(g *ir.Graph, seed uint64) []*ir.Tensor {
	r := rand.New(rand.NewPCG(seed, 0x646c63))
	limit := map[*ir.Value]int{}
	for _, n := range g.Nodes {
		var v *ir.Value
		var hi int
		switch n.Op {
		case "embedding":
			v, hi = n.Inputs[0], n.Inputs[1].Type.Shape[0]
		case "gather":
			a, _ := ir.NormAxis(n.Attrs.Int("axis"), len(n.Inputs[0].Type.Shape))
			v, hi = n.Inputs[1], n.Inputs[0].Type.Shape[a]
		case "gather_elements", "scatter_elements":
			a, _ := ir.NormAxis(n.Attrs.Int("axis"), len(n.Inputs[0].Type.Shape))
			v, hi = n.Inputs[1], n.Inputs[0].Type.Shape[a]
		case "gather_nd", "scatter_nd":
			// every component of an index tuple below the smallest axis it indexes
			d, idx := n.Inputs[0].Type.Shape, n.Inputs[1].Type.Shape
			b := n.Attrs.Int("batch_dims")
			v, hi = n.Inputs[1], d[b]
			for _, s := range d[b : b+idx[len(idx)-1]] {
				hi = min(hi, s)
			}
		case "one_hot":
			v, hi = n.Inputs[0], n.Attrs.Int("depth")
		case "nll_loss":
			v, hi = n.Inputs[1], n.Inputs[0].Type.Shape[1]
		default:
			continue
		}
		// follow views back to the input
		for v.Def != nil && emitters[v.Def.Op].view {
			v = v.Def.Inputs[0]
		}
		if l, ok := limit[v]; !ok || hi < l {
			limit[v] = hi
		}
	}
	var ts []*ir.Tensor
	for _, v := range g.Inputs {
		t := ir.NewTensor(v.Type.DType, v.Type.Shape)
		hi, ok := limit[v]
		if !ok {
			hi = 10
		}
		for i := range t.Len() {
			if t.DType.IsFloat() {
				t.SetFloat(i, r.Float64()*2-1)
			} else {
				t.SetInt(i, int64(r.IntN(hi)))
			}
		}
		ts = append(ts, t)
	}
	return ts
}

// appendTensor appends t's elements little endian (t has passed Check).
func appendTensor(b []byte, t *ir.Tensor) []byte {
	if t.Len() == 0 {
		return b
	}
	b, err := binary.Append(b, binary.LittleEndian, t.Data)
	if err != nil {
		panic("codegen: " + err.Error()) // every storage type has a fixed size
	}
	return b
}

func (gn *gen) selfTest(files map[string][]byte) error {
	g, opt := gn.g, gn.opt
	if len(opt.TestInputs) != len(g.Inputs) || len(opt.TestOutputs) != len(g.Outputs) {
		return fmt.Errorf("codegen: SelfTest needs %d test inputs and %d outputs, got %d and %d (make them with RandomInputs and runtime.Run)",
			len(g.Inputs), len(g.Outputs), len(opt.TestInputs), len(opt.TestOutputs))
	}
	bin := []byte(selfTestMagic)
	for i, v := range g.Inputs {
		t := opt.TestInputs[i]
		if t == nil || t.Check() != nil || !t.Type().Equal(v.Type) {
			return fmt.Errorf("codegen: test input %d must be %v", i, v.Type)
		}
		bin = appendTensor(bin, t)
	}
	for i, v := range g.Outputs {
		t := opt.TestOutputs[i]
		if t == nil || t.Check() != nil || !t.Type().Equal(v.Type) {
			return fmt.Errorf("codegen: test output %d must be %v", i, v.Type)
		}
		bin = appendTensor(bin, t)
	}
	files["testdata/selftest.bin"] = bin
	rel, abs := opt.RelTol, opt.AbsTol
	if rel == 0 {
		rel = 1e-5
	}
	if abs == 0 {
		abs = 1e-6
	}

	f := newFile(gn.pkg)
	gn.selfTestLoader(f, len(bin))
	gn.selfTestRun(f, tolNote(opt, rel, abs))
	if gn.streamable() {
		gn.selfTestStep(f)
	}
	f.Add(doc("Example is the package documentation's usage example; go test compiles it."))
	f.Func().Id("Example").Params().Block(src(gn.usage("")))
	f.Line()

	var c body
	c.l("t.Helper()")
	c.l("scale := 1.0")
	c.l("for _, w := range want {\nif a := @math.Abs(float64(w)); !@math.IsInf(a, 0) && !@math.IsNaN(a) {\nscale = max(scale, a)\n}\n}")
	c.l("bad := 0")
	c.l("for i := range got {")
	c.l("g, w := float64(got[i]), float64(want[i])")
	c.l("if g == w || (@math.IsNaN(g) && @math.IsNaN(w)) {\ncontinue // exact, or both NaN (infinities must match exactly)\n}")
	c.l("if d := @math.Abs(g - w); !(d <= absTol*scale+relTol*@math.Abs(w)) {")
	c.l("if bad < 5 {\nt.Errorf(\"run %%d: %%s[%%d] = %%g, interpreter %%g (diff %%.3g)\", run, name, i, g, w, d)\n}")
	c.l("bad++\n}\n}")
	c.l("if bad > 0 {\nt.Errorf(\"run %%d: %%s: %%d of %%d values differ beyond tolerance\", run, name, bad, len(got))\n}")
	f.Add(doc("Tolerance: |got-want| <= absTol·max(1, max|want|) + relTol·|want|. The\nabsolute floor scales with the output's magnitude because kernels sum\nin float32 in a schedule-chosen order, unlike the interpreter; see\ncodegen/selftest.go."))
	f.Const().Defs(src(fmt.Sprintf("relTol = %s", fmtFloat(rel))), src(fmt.Sprintf("absTol = %s", fmtFloat(abs))))
	f.Line()
	f.Add(doc("compare reports values of got that differ from want beyond tolerance."))
	f.Func().Id("compare").Params(src("t *@testing.T"), src("run int"), src("name string"), src("got, want []float32")).Block(c.code...)
	f.Line()
	gn.selfTestCompareOther(f, c)

	var bb body
	bb.l("d := loadSelfTest(b)")
	bb.l("m := New()")
	bb.l("var out Output")
	bb.l("b.ReportAllocs()")
	bb.l("for b.Loop() {\nif err := m.Run(&d.in, &out); err != nil {\nb.Fatal(err)\n}\n}")
	f.Add(doc("BenchmarkRun measures one Run on the recorded inputs."))
	f.Func().Id("BenchmarkRun").Params(src("b *@testing.B")).Block(bb.code...)

	out, err := render(gn.pkg+"_test.go", f)
	if err != nil {
		return err
	}
	files[gn.pkg+"_test.go"] = out
	return nil
}

// selfTestLoader emits selfTestData and loadSelfTest, which decodes
// testdata/selftest.bin (size bytes) into an Input and an Output.
func (gn *gen) selfTestLoader(f *jen.File, size int) {
	var b body
	b.l("b, err := @os.ReadFile(\"testdata/selftest.bin\")")
	b.l("if err != nil {\ntb.Fatal(err)\n}")
	b.l("if len(b) != %d || string(b[:4]) != %q {\ntb.Fatalf(\"testdata/selftest.bin: %%d bytes, want %%d starting with %s\", len(b), %d)\n}", size, selfTestMagic, selfTestMagic, size)
	b.l("d := new(selfTestData)")
	b.l("off := 4")
	// Decode reads exactly the field's bytes (with a longer buffer,
	// encoding/binary's fast path for []bool indexes past the slice).
	decode := func(field string, v *ir.Value) {
		n := v.Type.Bytes()
		b.l("if _, err := @binary.Decode(b[off:off+%d], @binary.LittleEndian, d.%s[:]); err != nil {\ntb.Fatal(err)\n}", n, field)
		b.l("off += %d", n)
	}
	for _, a := range gn.inputs() {
		decode("in."+a.field, a.v)
	}
	for _, a := range gn.outputs() {
		decode("want."+a.field, a.v)
	}
	b.l("return d")
	f.Add(doc("selfTestData is testdata/selftest.bin decoded: inputs and the\nreference interpreter's outputs, recorded when the package was generated."))
	f.Type().Id("selfTestData").Struct(src("in Input"), src("want Output"))
	f.Line()
	f.Add(doc("loadSelfTest reads testdata/selftest.bin."))
	f.Func().Id("loadSelfTest").Params(src("tb @testing.TB")).Id("*selfTestData").Block(b.code...)
	f.Line()
}

// selfTestCompareOther emits compare64 (compare's body c over float64)
// and compareHalf when some output is f64, or f16 or bf16.
func (gn *gen) selfTestCompareOther(f *jen.File, c body) {
	var f64, half bool
	for _, v := range gn.g.Outputs {
		f64 = f64 || v.Type.DType == ir.F64
		half = half || v.Type.DType == ir.F16 || v.Type.DType == ir.BF16
	}
	if f64 {
		f.Add(doc("compare64 is compare for float64 outputs."))
		f.Func().Id("compare64").Params(src("t *@testing.T"), src("run int"), src("name string"), src("got, want []float64")).Block(c.code...)
		f.Line()
	}
	if half {
		var h body
		h.l("isNaN := func(b uint16) bool { return b&exp == exp && b&^(exp|0x8000) != 0 }")
		h.l("for i := range got {")
		h.l("d := int(got[i]) - int(want[i])")
		h.l("if d != 0 && !(isNaN(got[i]) && isNaN(want[i])) && !(d*d == 1 && got[i]&exp != exp && want[i]&exp != exp) {")
		h.l("t.Errorf(\"run %%d: %%s[%%d] = %%#04x, interpreter %%#04x\", run, name, i, got[i], want[i])\nreturn")
		h.l("}\n}")
		f.Add(doc("compareHalf compares f16 or bf16 outputs to one unit in the last place\n(a float32 sum rounded to the format may land one step from the\ninterpreter's float64 sum rounded once), any NaN equal to any other;\nexp masks the format's exponent bits."))
		f.Func().Id("compareHalf").Params(src("t *@testing.T"), src("run int"), src("name string"), src("got, want []uint16"), src("exp uint16")).Block(h.code...)
		f.Line()
	}
}

// checkOutput emits the comparison of output field a of got with want.
func checkOutput(b *body, a apiVal, got, want, what string) {
	switch a.v.Type.DType {
	case ir.F32:
		b.l("compare(t, run, %s, %s[:], %s[:])", what, got, want)
	case ir.F64:
		b.l("compare64(t, run, %s, %s[:], %s[:])", what, got, want)
	case ir.F16:
		b.l("compareHalf(t, run, %s, %s[:], %s[:], 0x7c00)", what, got, want)
	case ir.BF16:
		b.l("compareHalf(t, run, %s, %s[:], %s[:], 0x7f80)", what, got, want)
	default: // exact: integers and bool
		b.l("if %s != %s {\nt.Errorf(\"run %%d: %%s differs from the interpreter\", run, %s)\n}", got, want, what)
	}
}

// tolNote is the line the self-test logs about its tolerance.
func tolNote(opt Options, rel, abs float64) string {
	if opt.TolNote != "" {
		return opt.TolNote
	}
	return fmt.Sprintf("tolerance: relative %s, absolute %s (scaled by the output's magnitude)", fmtFloat(rel), fmtFloat(abs))
}

// selfTestRun emits TestSelfTest: it first logs the tolerance (note), then runs Run (and Predict, PredictSlice and
// Classify when the package has them) on the recorded inputs, compared
// with the interpreter's outputs, twice; then no call may allocate.
func (gn *gen) selfTestRun(f *jen.File, note string) {
	var t body
	t.l("t.Log(%q)", note)
	t.l("d := loadSelfTest(t)")
	t.l("m := New()")
	t.l("var out Output")
	t.l("for run := range 2 { // the second run checks that arena reuse leaves no stale state")
	t.l("if err := m.Run(&d.in, &out); err != nil {\nt.Fatal(err)\n}")
	for _, a := range gn.outputs() {
		checkOutput(&t, a, "out."+a.field, "d.want."+a.field, fmt.Sprintf("%q", "output "+a.name))
	}
	t.l("}")
	calls := []string{"Run", "_ = m.Run(&d.in, &out)"}
	if gn.single() {
		t.l("run := 2")
		in, out := gn.inputs()[0], gn.outputs()[0]
		t.l("var o [OutputSize]%s", elemType(out.v.Type.DType))
		t.l("if err := m.Predict(&d.in.%s, &o); err != nil {\nt.Fatal(err)\n}", in.field)
		checkOutput(&t, out, "o", "d.want."+out.field, `"Predict's output"`)
		t.l("o = [OutputSize]%s{}", elemType(out.v.Type.DType))
		t.l("if err := m.PredictSlice(d.in.%s[:], o[:]); err != nil {\nt.Fatal(err)\n}", in.field)
		checkOutput(&t, out, "o", "d.want."+out.field, `"PredictSlice's output"`)
		if in.n > 0 {
			t.l("if err := m.PredictSlice(d.in.%s[1:], o[:]); err == nil {\nt.Error(\"PredictSlice accepts a short input\")\n}", in.field)
		}
		calls = append(calls, "Predict", fmt.Sprintf("_ = m.Predict(&d.in.%s, &o)", in.field),
			"PredictSlice", fmt.Sprintf("_ = m.PredictSlice(d.in.%s[:], o[:])", in.field))
		if nc, _ := gn.classes(); nc > 0 {
			t.l("class, prob, err := m.Classify(&d.in.%s)", in.field)
			t.l("if err != nil {\nt.Fatal(err)\n}")
			t.l("for i, v := range o {\nif v > o[class] || v == o[class] && i < class {\nt.Errorf(\"Classify gives class %%d, but output %%d is larger\", class, i)\n}\n}")
			t.l("if !(prob > 0 && prob <= 1.000001) && !@math.IsNaN(float64(o[class])) {\nt.Errorf(\"Classify gives probability %%v\", prob)\n}")
			calls = append(calls, "Classify", fmt.Sprintf("_, _, _ = m.Classify(&d.in.%s)", in.field))
		}
	}
	allocTest(&t, calls)
	f.Add(doc("TestSelfTest runs the model on the recorded inputs and compares with\nthe interpreter's outputs, twice, through every entry point, and checks\nthat no call allocates."))
	f.Func().Id("TestSelfTest").Params(src("t *@testing.T")).Block(t.code...)
	f.Line()
}

// allocTest emits checks that each call allocates nothing; calls holds
// pairs of a name and a statement.
func allocTest(t *body, calls []string) {
	for i := 0; i < len(calls); i += 2 {
		t.l("if a := @testing.AllocsPerRun(5, func() {\n%s\n}); a != 0 {\nt.Errorf(\"%s allocates %%v times per call, want 0\", a)\n}", calls[i+1], calls[i])
	}
}

// selfTestStep emits TestStep: after Reset, Step over every time step of
// the recorded inputs must reproduce the interpreter's whole-sequence
// outputs (per-step outputs at every step, the others at the last), twice,
// and neither Step nor Reset may allocate.
func (gn *gen) selfTestStep(f *jen.File) {
	s := gn.stream
	g := s.g
	ins, outs := s.stepVals(gn)
	var t body
	t.l("d := loadSelfTest(t)")
	t.l("m := New()")
	t.l("var in StepInput")
	t.l("var out StepOutput")
	for i, a := range outs {
		if s.info[g.Outputs[i]].k == tSeq {
			t.l("var w%d [%d]%s", i, a.n, elemType(a.v.Type.DType))
		}
	}
	// slice copies step t of a value with time axis a out of src.
	slice := func(dst, srcv string, v *ir.Value, a int) {
		sh := v.Type.Shape
		pre, post := 1, 1
		for _, d := range sh[:a] {
			pre *= d
		}
		for _, d := range sh[a+1:] {
			post *= d
		}
		t.l("for p := range %d {\ncopy(%s[p*%d:(p+1)*%[3]d], %s[(p*%d+step)*%[3]d:(p*%[5]d+step+1)*%[3]d])\n}", pre, dst, post, srcv, s.T)
	}
	all := gn.inputs()
	t.l("for run := range 2 { // the second run checks that Reset clears the stream")
	t.l("m.Reset()")
	for _, st := range s.states {
		if st.init != nil && st.init.Kind == ir.Input {
			for i, v := range g.Inputs {
				if v == st.init {
					t.l("m.st.%s = d.in.%s // Run read the initial state from this input", st.field, all[i].field)
				}
			}
		}
	}
	t.l("for step := range SequenceLength {")
	for i, oi := range s.user {
		v := g.Inputs[oi]
		if in := s.info[v]; in.k == tSeq {
			slice("in."+ins[i].field, "d.in."+all[oi].field, v, in.axis)
		} else {
			t.l("in.%s = d.in.%s", ins[i].field, all[oi].field)
		}
	}
	t.l("if err := m.Step(&in, &out); err != nil {\nt.Fatal(err)\n}")
	for i, a := range outs {
		v := g.Outputs[i]
		want := "d.want." + a.field
		var cond string
		switch in := s.info[v]; in.k {
		case tSeq:
			slice(fmt.Sprintf("w%d", i), want, v, in.axis)
			want = fmt.Sprintf("w%d", i)
		case tFinal:
			cond = "step == SequenceLength-1"
		}
		var c body
		checkOutput(&c, a, "out."+a.field, want, fmt.Sprintf("@fmt.Sprintf(\"%s at step %%d\", step)", a.name))
		if cond != "" {
			t.l("if %s {\n%s\n}", cond, strings.TrimSpace(c.text.String()))
		} else {
			t.l("%s", strings.TrimSpace(c.text.String()))
		}
	}
	t.l("}\n}")
	allocTest(&t, []string{"Step", "_ = m.Step(&in, &out)", "Reset", "m.Reset()"})
	f.Add(doc("TestStep checks streaming: after Reset, Step over every time step of the\nrecorded inputs reproduces the interpreter's whole-sequence outputs\n(per-step outputs at every step, the others after the last step), and\nneither Step nor Reset allocates."))
	f.Func().Id("TestStep").Params(src("t *@testing.T")).Block(t.code...)
	f.Line()
}

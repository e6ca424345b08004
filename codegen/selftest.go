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
	var fields []jen.Code
	var load body
	load.l("b, err := @os.ReadFile(\"testdata/selftest.bin\")")
	load.l("if err != nil {\ntb.Fatal(err)\n}")
	load.l("if len(b) != %d || string(b[:4]) != %q {\ntb.Fatalf(\"testdata/selftest.bin: %%d bytes, want %%d starting with %s\", len(b), %d)\n}", len(bin), selfTestMagic, selfTestMagic, len(bin))
	load.l("d := new(selfTestData)")
	load.l("off := 4")
	// Decode reads exactly the field's bytes (with a longer buffer,
	// encoding/binary's fast path for []bool indexes past the slice).
	decode := func(field string, v *ir.Value) {
		n := v.Type.Bytes()
		load.l("if _, err := @binary.Decode(b[off:off+%d], @binary.LittleEndian, d.%s[:]); err != nil {\ntb.Fatal(err)\n}", n, field)
		load.l("off += %d", n)
	}
	var args []string
	for i, v := range g.Inputs {
		fields = append(fields, src(fmt.Sprintf("in%d [%d]%s", i, v.Type.Shape.NumElems(), elemType(v.Type.DType))))
		decode(fmt.Sprintf("in%d", i), v)
		args = append(args, fmt.Sprintf("&d.in%d", i))
	}
	for i, v := range g.Outputs {
		fields = append(fields, src(fmt.Sprintf("want%d [%d]%s", i, v.Type.Shape.NumElems(), elemType(v.Type.DType))))
		decode(fmt.Sprintf("want%d", i), v)
	}
	load.l("return d")
	f.Add(doc("selfTestData is testdata/selftest.bin decoded: inputs and the\nreference interpreter's outputs, recorded when the package was generated."))
	f.Type().Id("selfTestData").Struct(fields...)
	f.Line()
	f.Add(doc("loadSelfTest reads testdata/selftest.bin."))
	f.Func().Id("loadSelfTest").Params(src("tb @testing.TB")).Id("*selfTestData").Block(load.code...)
	f.Line()

	call := fmt.Sprintf("m.forward(%s)", strings.Join(args, ", "))
	var pub string
	if gn.simple() {
		pub = "m.Predict(&d.in0)"
	} else {
		pub = fmt.Sprintf("m.Run(%s)", strings.Join(args, ", "))
	}
	var t body
	t.l("d := loadSelfTest(t)")
	t.l("m := New()")
	t.l("for run := range 2 { // the second run checks that arena reuse leaves no stale state")
	if gn.hasErr {
		t.l("if err := %s; err != nil {\nt.Fatal(err)\n}", call)
	} else {
		t.l("%s", call)
	}
	for i, v := range g.Outputs {
		if v.Type.DType != ir.F32 { // exact: integers, bool, f16/bf16 bits
			t.l("if *m.out%d() != d.want%d {\nt.Errorf(\"run %%d: output %s differs from the interpreter\", run)\n}", i, i, g.OutputNames[i])
		} else {
			t.l("compare(t, run, %q, m.out%d()[:], d.want%d[:])", g.OutputNames[i], i, i)
		}
	}
	t.l("}")
	t.l("if a := @testing.AllocsPerRun(10, func() {\n_ = d\n%s\n}); a != 0 {\nt.Errorf(\"%s allocates %%v times per call, want 0\", a)\n}", strings.Replace(pubCall(pub, gn), "", "", 1), pub)
	f.Add(doc("TestSelfTest runs the model on the recorded inputs and compares with\nthe interpreter's outputs, twice, and checks that a call allocates nothing."))
	f.Func().Id("TestSelfTest").Params(src("t *@testing.T")).Block(t.code...)
	f.Line()

	if gn.streamable() {
		gn.stream.selfTest(f) // recurrent models: Reset + Step over the recorded sequence (step.go)
	}

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

	var bb body
	bb.l("d := loadSelfTest(b)")
	bb.l("_ = d // a model without inputs reads nothing from it")
	bb.l("m := New()")
	bb.l("b.ReportAllocs()")
	bb.l("for b.Loop() {\n%s\n}", pubCall(pub, gn))
	f.Add(doc("BenchmarkPredict measures one call on the recorded inputs."))
	f.Func().Id("BenchmarkPredict").Params(src("b *@testing.B")).Block(bb.code...)

	out, err := render(gn.pkg+"_test.go", f)
	if err != nil {
		return err
	}
	files[gn.pkg+"_test.go"] = out
	return nil
}

// pubCall is the public call as a statement whose results are discarded.
func pubCall(pub string, gn *gen) string {
	n := len(gn.g.Outputs)
	if gn.simple() {
		n = 1
	}
	if gn.hasErr && !gn.simple() {
		n++
	}
	blanks := make([]string, n)
	for i := range blanks {
		blanks[i] = "_"
	}
	return strings.Join(blanks, ", ") + " = " + pub
}

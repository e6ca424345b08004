package codegen

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"
	"github.com/dlcompiler/dlc/ir"
)

// The generated package's API. Every model gets New and constants for its
// shapes and memory. A model with one f32 input and one f32 output gets
// Predict (fixed-size arrays: a wrong shape is a compile error) and
// PredictSlice; other models get Run with one array pointer per input,
// returning one per output, plus an error when ids from an input can be
// out of range. A classifier also gets Classify.

// apiShape describes one graph input or output for the API.
type apiShape struct {
	v     *ir.Value
	name  string // exported prefix for constants: "Input", "Output", "InputIds", ...
	param string // Go parameter name
	n     int
}

func (gn *gen) inputs() []apiShape {
	var s []apiShape
	for i, v := range gn.g.Inputs {
		a := apiShape{v: v, name: "Input", param: "in", n: v.Type.Shape.NumElems()}
		if len(gn.g.Inputs) > 1 {
			a.name = "Input" + exported(v.Name)
			a.param = fmt.Sprintf("in%d", i)
		}
		s = append(s, a)
	}
	return s
}

func (gn *gen) outputs() []apiShape {
	var s []apiShape
	for i, v := range gn.g.Outputs {
		a := apiShape{v: v, name: "Output", n: v.Type.Shape.NumElems()}
		if len(gn.g.Outputs) > 1 {
			a.name = "Output" + exported(gn.g.OutputNames[i])
		}
		s = append(s, a)
	}
	return s
}

// simple reports whether the model gets Predict: one f32 input, one f32
// output, no run-time failure.
func (gn *gen) simple() bool {
	g := gn.g
	return len(g.Inputs) == 1 && len(g.Outputs) == 1 && g.Inputs[0].Type.DType == ir.F32 &&
		g.Outputs[0].Type.DType == ir.F32 && !gn.hasErr
}

// classes returns the class count when the model is a classifier: one
// output of shape [1, C] (C ≥ 2), or [C] / [1, C] made by softmax,
// log_softmax or dense; and the op that made it.
func (gn *gen) classes() (int, string) {
	if !gn.simple() {
		return 0, ""
	}
	o := gn.g.Outputs[0]
	s := o.Type.Shape
	op := ""
	if o.Def != nil {
		op = o.Def.Op
		if (op == "softmax" || op == "log_softmax") && o.Def.Attrs.Int("axis") != -1 && o.Def.Attrs.Int("axis") != len(s)-1 {
			op = "" // normalized along another axis: not probabilities per class
		}
	}
	switch {
	case len(s) == 2 && s[0] == 1 && s[1] >= 2:
		return s[1], op
	case len(s) == 1 && s[0] >= 2 && (op == "softmax" || op == "log_softmax" || op == "dense"):
		return s[0], op
	}
	return 0, ""
}

func shapeLit(s ir.Shape) string {
	return fmt.Sprintf("[%d]int{%s}", len(s), intList(s))
}

func (gn *gen) apiFile() (*jen.File, error) {
	g, p := gn.g, gn.plan
	f := newFile(gn.pkg)
	f.Anon("embed")

	// Package documentation.
	var d strings.Builder
	fmt.Fprintf(&d, "Package %s is the model %q compiled by dlc into pure Go: one\n", gn.pkg, g.Name)
	d.WriteString("specialized function per layer, every shape a constant, weights embedded\n")
	d.WriteString("from weights.bin and checked at init.\n\n")
	d.WriteString("Usage:\n\n\tm := New()\n")
	if gn.simple() {
		d.WriteString("\tvar in [InputSize]float32\n\tout := m.Predict(&in)\n\n")
	} else {
		d.WriteString("\touts := m.Run(...) // one array pointer per input\n\n")
	}
	d.WriteString("A Model owns its scratch memory (ScratchBytes), so calls allocate\n")
	d.WriteString("nothing; it is not safe for concurrent use: use one Model per goroutine.\n")
	d.WriteString("Results point into the Model and are overwritten by the next call.\n\n")
	if st := gn.streaming(); st != nil {
		d.WriteString(st.packageDoc()) // recurrent models: Step, Reset or why not (step.go)
	}
	d.WriteString("Inputs:\n\n")
	for _, v := range g.Inputs {
		fmt.Fprintf(&d, "\t%s %v\n", v.Name, v.Type)
	}
	d.WriteString("\nOutputs:\n\n")
	for i, v := range g.Outputs {
		fmt.Fprintf(&d, "\t%s %v\n", g.OutputNames[i], v.Type)
	}
	d.WriteString("\nLayers:\n\n")
	for _, n := range g.Nodes {
		fmt.Fprintf(&d, "\t%-12s %-14s %v\n", n.Name, n.Op, n.Out().Type)
	}
	f.PackageComment(commentText(d.String()))

	// Constants.
	var consts []jen.Code
	var vars []jen.Code
	for _, a := range gn.inputs() {
		consts = append(consts, doc("%sSize is the number of elements of input %s %v.", a.name, a.v.Name, a.v.Type), src(fmt.Sprintf("%sSize = %d", a.name, a.n)))
		vars = append(vars, doc("%sShape is the shape of input %s.", a.name, a.v.Name), src(fmt.Sprintf("%sShape = %s", a.name, shapeLit(a.v.Type.Shape))))
	}
	for i, a := range gn.outputs() {
		consts = append(consts, doc("%sSize is the number of elements of output %s %v.", a.name, g.OutputNames[i], a.v.Type), src(fmt.Sprintf("%sSize = %d", a.name, a.n)))
		vars = append(vars, doc("%sShape is the shape of output %s.", a.name, g.OutputNames[i]), src(fmt.Sprintf("%sShape = %s", a.name, shapeLit(a.v.Type.Shape))))
	}
	nc, lastOp := gn.classes()
	if nc > 0 {
		consts = append(consts, doc("NumClasses is the number of classes Classify chooses from."), src(fmt.Sprintf("NumClasses = %d", nc)))
	}
	if ls := g.Labels; len(ls) > 0 {
		q := make([]string, len(ls))
		for i, l := range ls {
			q[i] = strconv.Quote(l)
		}
		vars = append(vars, doc("Labels names the classes of output %s, by index (from the model's labels statement).", g.OutputNames[0]),
			src(fmt.Sprintf("Labels = [%d]string{%s}", len(ls), strings.Join(q, ", "))))
	}
	secs := p.weightSections()
	wb, layout := 0, []string{}
	for _, sec := range secs {
		wb = sec.off + sec.numBytes
		layout = append(layout, fmt.Sprintf("%d %v values at byte %d", sec.n, sec.dt, sec.off))
	}
	wdoc := "WeightBytes is the size of the embedded weights.bin: no weights."
	if len(secs) > 0 {
		wdoc = fmt.Sprintf("WeightBytes is the size of the embedded weights.bin: one section per dtype,\neach little endian and starting at a multiple of 64 bytes: %s.", strings.Join(layout, ", "))
	}
	consts = append(consts,
		doc("%s", wdoc),
		src(fmt.Sprintf("WeightBytes = %d", wb)),
		doc("ScratchBytes is the size of a Model's scratch arenas, allocated once by New."),
		src(fmt.Sprintf("ScratchBytes = %d", p.scratchBytes())),
		doc("weightsChecksum is the FNV-1a 64 hash of weights.bin."),
		src(fmt.Sprintf("weightsChecksum = %#x", p.checksum())),
	)
	f.Const().Defs(consts...)
	f.Var().Defs(vars...)

	// Weights.
	f.Comment("//go:embed weights.bin")
	f.Var().Id("weightsBin").Index().Byte()
	f.Line()
	var wvars []jen.Code
	var wnames []string
	for _, sec := range secs {
		wvars = append(wvars, src(fmt.Sprintf("%s []%s", weightsName(sec.dt), elemType(sec.dt))))
		wnames = append(wnames, weightsName(sec.dt))
	}
	if len(wvars) > 0 {
		f.Add(doc("%s: weights.bin decoded once at init, one slice per dtype;\nkernels read them through constant offsets.", strings.Join(wnames, ", ")))
		f.Var().Defs(wvars...)
		f.Line()
	}
	var ib body
	ib.l("if len(weightsBin) != WeightBytes {")
	ib.l("panic(@fmt.Sprintf(\"%s: embedded weights.bin has %%d bytes, want %%d: the file was modified after generation; regenerate the package with dlc\", len(weightsBin), WeightBytes))", gn.pkg)
	ib.l("}")
	ib.l("h := @fnv.New64a()")
	ib.l("h.Write(weightsBin)")
	ib.l("if sum := h.Sum64(); sum != weightsChecksum {")
	ib.l("panic(@fmt.Sprintf(\"%s: embedded weights.bin is corrupt: FNV-1a checksum %%#x, want %%#x: the file was modified after generation; regenerate the package with dlc\", sum, uint64(weightsChecksum)))", gn.pkg)
	ib.l("}")
	for _, sec := range secs {
		w := weightsName(sec.dt)
		ib.l("%s = make([]%s, %d)", w, elemType(sec.dt), sec.n)
		ib.l("if _, err := @binary.Decode(weightsBin[%d:%d], @binary.LittleEndian, %s); err != nil {\npanic(err)\n}", sec.off, sec.off+sec.numBytes, w)
	}
	f.Add(doc("init checks weights.bin (length and checksum) and decodes it."))
	f.Func().Id("init").Params().Block(ib.code...)
	f.Line()

	// Model.
	var fields []jen.Code
	// An arena exists for every dtype the plan places (possibly empty):
	// kernels of zero-sized values still slice them.
	for _, dt := range dtypesOf(p.arena) {
		fields = append(fields, src(fmt.Sprintf("%s [%d]%s", arenaName(dt), p.arena[dt], elemType(dt))))
	}
	if gn.streamable() {
		fields = append(fields, src("st stepModel"))
	}
	f.Add(doc("Model runs the network. It owns its scratch arena (every intermediate\nvalue at an offset fixed at compile time), so calls allocate nothing.\nA Model is not safe for concurrent use: use one Model per goroutine.\nThe zero Model is ready to use, but it is large: allocate it with New."))
	f.Type().Id("Model").Struct(fields...)
	f.Line()
	f.Add(doc("New returns a Model with its scratch arena (ScratchBytes) allocated."))
	f.Func().Id("New").Params().Op("*").Id("Model").Block(jen.Return(jen.New(jen.Id("Model"))))
	f.Line()

	gn.forward(f)
	gn.outputGetters(f)
	if gn.simple() {
		gn.predict(f)
		if nc > 0 {
			gn.classify(f, nc, lastOp)
		}
	} else {
		gn.run(f)
	}
	if gn.streamable() {
		gn.stream.stepAPI(f, gn)
	}
	return f, nil
}

// forward emits the method that calls every kernel in order.
func (gn *gen) forward(f *jen.File) {
	var params []jen.Code
	for i, v := range gn.g.Inputs {
		params = append(params, src(fmt.Sprintf("in%d %s", i, arrType(v.Type.DType, v.Type.Shape.NumElems()))))
	}
	var b body
	for _, n := range gn.g.Nodes {
		e := emitters[n.Op]
		if e.view && !gn.plan.copyNode[n] {
			continue
		}
		var args []string
		for _, v := range n.Inputs {
			if v != nil { // kernels take no parameter for an absent input
				args = append(args, gn.ref(gn.plan.loc[v]))
			}
		}
		for _, o := range n.Outputs {
			args = append(args, gn.ref(gn.plan.loc[o]))
		}
		if s, ok := gn.plan.scratch[n]; ok {
			args = append(args, gn.ref(s))
		}
		call := fmt.Sprintf("%s(%s)", gn.kname[n], strings.Join(args, ", "))
		if e.fails != nil && e.fails(n) {
			b.l("if err := %s; err != nil {\nreturn err\n}", call)
		} else {
			b.l("%s", call)
		}
	}
	for i, v := range gn.g.Outputs {
		if l, ok := gn.plan.outCopy[i]; ok {
			b.l("*%s = *%s", gn.ref(l), gn.ref(gn.plan.loc[v]))
		}
	}
	d := "forward runs every layer in order; outputs are left in the arena."
	f.Add(doc("%s", d))
	fn := f.Func().Params(src("m *Model")).Id("forward").Params(params...)
	if gn.hasErr {
		b.l("return nil")
		fn.Error()
	}
	fn.Block(b.code...)
	f.Line()
}

// outLoc is where output i ends up after forward.
func (gn *gen) outLoc(i int) loc {
	if l, ok := gn.plan.outCopy[i]; ok {
		return l
	}
	return gn.plan.loc[gn.g.Outputs[i]]
}

func (gn *gen) outputGetters(f *jen.File) {
	for i, v := range gn.g.Outputs {
		l := gn.outLoc(i)
		f.Add(doc("out%d returns output %s's storage in the arena.", i, gn.g.OutputNames[i]))
		f.Func().Params(src("m *Model")).Id(fmt.Sprintf("out%d", i)).Params().Id(arrType(v.Type.DType, l.n)).Block(src("return " + gn.ref(l)))
		f.Line()
	}
}

func (gn *gen) predict(f *jen.File) {
	in, out := gn.g.Inputs[0], gn.g.Outputs[0]
	f.Add(doc("Predict runs the model on in (%s %v) and returns output %s %v.\nThe result points into m and is valid until the next call on m;\ncopy it to keep it. Predict allocates nothing.", in.Name, in.Type, gn.g.OutputNames[0], out.Type))
	f.Func().Params(src("m *Model")).Id("Predict").Params(src("in *[InputSize]float32")).Id("*[OutputSize]float32").Block(
		src("m.forward(in)"), src("return m.out0()"))
	f.Line()
	f.Add(doc("PredictSlice is Predict for slices: it reads len(in) == InputSize\nvalues and writes OutputSize values into out, or returns an error\nfor a wrong length."))
	var b body
	b.l("if len(in) != InputSize {\nreturn @fmt.Errorf(\"%s: input has %%d values, want %%d (%s %v)\", len(in), InputSize)\n}", gn.pkg, in.Name, in.Type)
	b.l("if len(out) != OutputSize {\nreturn @fmt.Errorf(\"%s: output has room for %%d values, want %%d (%s %v)\", len(out), OutputSize)\n}", gn.pkg, gn.g.OutputNames[0], out.Type)
	b.l("copy(out, m.Predict((*[InputSize]float32)(in))[:])")
	b.l("return nil")
	f.Func().Params(src("m *Model")).Id("PredictSlice").Params(src("in, out []float32")).Error().Block(b.code...)
	f.Line()
}

func (gn *gen) classify(f *jen.File, nc int, op string) {
	var b body
	b.l("out := m.Predict(in)")
	b.l("class = 0")
	b.l("for i, v := range out {\nif v > out[class] {\nclass = i\n}\n}")
	var how string
	switch op {
	case "softmax":
		how = "The output is already a softmax, so prob is the output itself."
		b.l("return class, out[class]")
	case "log_softmax":
		how = "The output is a log_softmax, so prob is exp of the output."
		b.l("return class, float32(@math.Exp(float64(out[class])))")
	default:
		how = "The output holds logits, so prob is their softmax at class\n(computed without changing the output)."
		b.l("var s float64")
		b.l("for _, v := range out {\ns += @math.Exp(float64(v - out[class]))\n}")
		b.l("return class, float32(1 / s)")
	}
	f.Add(doc("Classify runs Predict and returns the most likely of the NumClasses\nclasses (the first on ties) and its probability. %s", how))
	f.Func().Params(src("m *Model")).Id("Classify").Params(src("in *[InputSize]float32")).Params(src("class int"), src("prob float32")).Block(b.code...)
	f.Line()
}

func (gn *gen) run(f *jen.File) {
	var params, rets, args, outs []string
	for i, a := range gn.inputs() {
		params = append(params, fmt.Sprintf("%s *[%sSize]%s", a.param, a.name, elemType(a.v.Type.DType)))
		args = append(args, a.param)
		_ = i
	}
	for i, a := range gn.outputs() {
		rets = append(rets, fmt.Sprintf("*[%sSize]%s", a.name, elemType(a.v.Type.DType)))
		outs = append(outs, fmt.Sprintf("m.out%d()", i))
	}
	var b body
	var d strings.Builder
	d.WriteString("Run runs the model on its inputs (")
	for i, v := range gn.g.Inputs {
		if i > 0 {
			d.WriteString(", ")
		}
		fmt.Fprintf(&d, "%s %v", v.Name, v.Type)
	}
	d.WriteString(") and returns its outputs (")
	for i, v := range gn.g.Outputs {
		if i > 0 {
			d.WriteString(", ")
		}
		fmt.Fprintf(&d, "%s %v", gn.g.OutputNames[i], v.Type)
	}
	d.WriteString(").\nThe results point into m and are valid until the next call on m.\nRun allocates nothing")
	if gn.hasErr {
		d.WriteString(" unless it fails: it returns an error, naming the layer,\nfor an id or index out of range or an integer division by zero (the outputs\nare then meaningless)")
		rets = append(rets, "error")
		b.l("if err := m.forward(%s); err != nil {", strings.Join(args, ", "))
		var nils []string
		for range outs {
			nils = append(nils, "nil")
		}
		b.l("return %s, err\n}", strings.Join(nils, ", "))
		b.l("return %s, nil", strings.Join(outs, ", "))
	} else {
		b.l("m.forward(%s)", strings.Join(args, ", "))
		b.l("return %s", strings.Join(outs, ", "))
	}
	d.WriteString(".")
	f.Add(doc("%s", d.String()))
	var rs []jen.Code
	for _, r := range rets {
		rs = append(rs, src(r))
	}
	var ps []jen.Code
	for _, p := range params {
		ps = append(ps, src(p))
	}
	f.Func().Params(src("m *Model")).Id("Run").Params(ps...).Params(rs...).Block(b.code...)
	f.Line()
}

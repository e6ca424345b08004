package codegen

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"
	"github.com/dlcompiler/dlc/ir"
)

// The generated package's API has the same shape for every model, so that
// regenerating after a model change breaks no caller whose inputs and
// outputs kept their names and shapes:
//
//	New() *Model
//	type Input struct{ X [InputXSize]float32; ... }   one array per graph input
//	type Output struct{ Logits [OutputLogitsSize]float32; ... }
//	(*Model).Run(in *Input, out *Output) error
//	Input<Name>Size, Input<Name>Shape, Output<Name>Size, Output<Name>Shape,
//	WeightBytes, ScratchBytes
//
// Results are written into memory the caller owns; the error is nil unless
// the model can fail at run time (an id out of range, an integer division
// by zero). A model with one
// input and one output also gets Predict and PredictSlice on plain arrays
// and slices, and the aliases InputSize, OutputSize, InputShape and
// OutputShape; a classifier (an output declared as class scores) gets
// Classify and NumClasses; a streamable
// recurrent model gets Step and Reset with StepInput and StepOutput. Calls
// allocate nothing (the self-test checks every one).
//
// Weights are weights.bin embedded as a string: on a little-endian machine
// each dtype's section is used in place, as a typed slice over the
// embedded bytes (unsafe.Slice), when it is aligned for its type, and
// decoded onto the heap otherwise; both happen on the first New, not at
// init, so a program that links the package but never calls New pays
// nothing for its weights.

// apiVal is one graph input or output as the API shows it.
type apiVal struct {
	v     *ir.Value
	name  string // the model's name for it
	field string // its field of Input or Output; constants are <Input|Output><field>Size
	n     int    // elements
}

// apiVals names values for the API: exported fields, made distinct by a
// numeric suffix in order ("x_1" and "x1" give X1 and X1_2; exported never
// yields "_", so a suffixed name cannot clash with an unsuffixed one).
func apiVals(vs []*ir.Value, names []string) []apiVal {
	used := map[string]bool{}
	var out []apiVal
	for i, v := range vs {
		base := exported(names[i])
		field := base
		for k := 2; used[field]; k++ {
			field = fmt.Sprintf("%s_%d", base, k)
		}
		used[field] = true
		out = append(out, apiVal{v: v, name: names[i], field: field, n: v.Type.Shape.NumElems()})
	}
	return out
}

func (gn *gen) inputs() []apiVal {
	names := make([]string, len(gn.g.Inputs))
	for i, v := range gn.g.Inputs {
		names[i] = v.Name
	}
	return apiVals(gn.g.Inputs, names)
}

func (gn *gen) outputs() []apiVal { return apiVals(gn.g.Outputs, gn.g.OutputNames) }

// single reports whether the model has one input and one output: it gets
// Predict, PredictSlice and the short constant names.
func (gn *gen) single() bool { return len(gn.g.Inputs) == 1 && len(gn.g.Outputs) == 1 }

// classes returns the class count when the model is a classifier (one
// input, one f32 output declared as class scores, by a labels statement
// or `output NAME: classes`, of shape [1, C] with C ≥ 2, or [C] made by
// softmax, log_softmax or dense) and the op that made the output.
func (gn *gen) classes() (int, string) {
	if !gn.single() || gn.g.Outputs[0].Type.DType != ir.F32 || !gn.g.IsClassScores(0) {
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
	f := newFile(gn.pkg)
	f.Anon("embed")
	f.PackageComment(commentText(gn.packageDoc()))
	gn.apiConsts(f)
	gn.ioTypes(f, "Input", "holds the model's inputs", gn.inputs(), "input")
	gn.ioTypes(f, "Output", "receives the model's outputs", gn.outputs(), "output")
	gn.weightsCode(f)
	gn.modelType(f)
	gn.forward(f)
	gn.partFuncs(f) // threads.go
	if gn.maxWorkers() > 1 {
		f.Add(src(poolSource))
		f.Line()
	}
	gn.run(f)
	if gn.single() {
		gn.predict(f)
		if nc, op := gn.classes(); nc > 0 {
			gn.classify(f, op)
		}
	}
	if gn.streamable() {
		gn.stream.stepAPI(f, gn) // stepModel and its forward (step.go)
		gn.stepMethods(f)
	}
	return f, nil
}

// packageDoc is the generated package's documentation.
func (gn *gen) packageDoc() string {
	g := gn.g
	var d strings.Builder
	fmt.Fprintf(&d, "Package %s is the model %q compiled by dlc into pure Go: one\n", gn.pkg, g.Name)
	d.WriteString("specialized function per layer, every shape a constant, weights embedded\n")
	d.WriteString("from weights.bin.\n\nUsage:\n\n")
	for _, l := range strings.Split(gn.usage(gn.pkg+"."), "\n") {
		d.WriteString("\t" + l + "\n")
	}
	d.WriteString("\nA Model owns its scratch memory (ScratchBytes), so calls allocate\n")
	d.WriteString("nothing; it is not safe for concurrent use: use one Model per goroutine.\n")
	d.WriteString("Results are written into the caller's arrays. The weights (WeightBytes)\n")
	d.WriteString("are shared by all Models and read-only; the first New loads them, so a\n")
	d.WriteString("program that never calls New does not hold them in memory.\n\n")
	d.WriteString(gn.threadsDoc())
	if st := gn.streaming(); st != nil {
		d.WriteString(st.streamDoc(gn)) // recurrent models: Step, Reset or why not (api_step.go)
	}
	d.WriteString(gn.trainDoc()) // dlc compile -train (train.go)
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
	return d.String()
}

// usage is the usage example of the package doc (qual = "pkg.") and of the
// generated Example function (qual = ""), so the doc's example compiles.
func (gn *gen) usage(qual string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "m := %sNew() // one Model per goroutine; reuse it\n", qual)
	b.WriteString("defer m.Close()\n")
	if gn.single() {
		in, out := gn.inputs()[0], gn.outputs()[0]
		fmt.Fprintf(&b, "var in [%sInputSize]%s // %s %v\n", qual, elemType(in.v.Type.DType), in.name, in.v.Type)
		fmt.Fprintf(&b, "var out [%sOutputSize]%s // %s %v\n", qual, elemType(out.v.Type.DType), out.name, out.v.Type)
		b.WriteString("if err := m.Predict(&in, &out); err != nil {\n\tpanic(err)\n}")
		return b.String()
	}
	fmt.Fprintf(&b, "var in %sInput // fill in", qual)
	for i, a := range gn.inputs() {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " in.%s", a.field)
	}
	fmt.Fprintf(&b, "\nvar out %sOutput\n", qual)
	b.WriteString("if err := m.Run(&in, &out); err != nil {\n\tpanic(err)\n}")
	for _, a := range gn.outputs() {
		fmt.Fprintf(&b, "\n_ = out.%s // %s %v", a.field, a.name, a.v.Type)
	}
	return b.String()
}

// apiConsts emits the size, shape and memory constants.
func (gn *gen) apiConsts(f *jen.File) {
	g, p := gn.g, gn.plan
	var consts, vars []jen.Code
	add := func(prefix, what string, as []apiVal) {
		for _, a := range as {
			consts = append(consts, doc("%s%sSize is the number of elements of %s %s, %v.", prefix, a.field, what, a.name, a.v.Type),
				src(fmt.Sprintf("%s%sSize = %d", prefix, a.field, a.n)))
			vars = append(vars, doc("%s%sShape is the shape of %s %s.", prefix, a.field, what, a.name),
				src(fmt.Sprintf("%s%sShape = %s", prefix, a.field, shapeLit(a.v.Type.Shape))))
		}
	}
	add("Input", "input", gn.inputs())
	add("Output", "output", gn.outputs())
	if gn.single() {
		in, out := gn.inputs()[0], gn.outputs()[0]
		consts = append(consts,
			doc("InputSize is Input%sSize, the model's only input.", in.field), src("InputSize = Input"+in.field+"Size"),
			doc("OutputSize is Output%sSize, the model's only output.", out.field), src("OutputSize = Output"+out.field+"Size"))
		vars = append(vars,
			doc("InputShape is Input%sShape, the model's only input.", in.field), src("InputShape = Input"+in.field+"Shape"),
			doc("OutputShape is Output%sShape, the model's only output.", out.field), src("OutputShape = Output"+out.field+"Shape"))
	}
	if nc, _ := gn.classes(); nc > 0 {
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
}

// ioTypes emits the Input or Output struct: one array field per value.
func (gn *gen) ioTypes(f *jen.File, typ, what string, as []apiVal, kind string) {
	var fields []jen.Code
	for _, a := range as {
		fields = append(fields, doc("%s is %s %s, %v%s.", a.field, kind, a.name, a.v.Type, storageNote(a.v.Type.DType)),
			src(fmt.Sprintf("%s [%s%sSize]%s", a.field, typ, a.field, elemType(a.v.Type.DType))))
	}
	f.Add(doc("%s %s, each array in row-major (C) order.", typ, what))
	f.Type().Id(typ).Struct(fields...)
	f.Line()
}

// weightsCode emits the embedded weights, their typed views and
// loadWeights, which New runs once.
func (gn *gen) weightsCode(f *jen.File) {
	secs := gn.plan.weightSections()
	f.Comment("//go:embed weights.bin")
	f.Var().Id("weightsBin").String()
	f.Line()
	var vars []jen.Code
	for _, s := range secs {
		vars = append(vars, src(fmt.Sprintf("%s []%s", weightsName(s.dt), elemType(s.dt))))
	}
	vars = append(vars, src("weightsOnce @sync.Once"))
	f.Add(doc("The weights by dtype, set by loadWeights on the first New: views of the\nembedded bytes, or decoded copies where those cannot be used in place.\nKernels read them through constant offsets and never write them."))
	f.Var().Defs(vars...)
	f.Line()
	var b body
	b.l("if len(weightsBin) != WeightBytes {")
	b.l("panic(@fmt.Sprintf(\"%s: embedded weights.bin has %%d bytes, want %%d: the file was modified after generation; regenerate the package with dlc\", len(weightsBin), WeightBytes))", gn.pkg)
	b.l("}")
	b.l("h := @fnv.New64a()")
	b.l("h.Write(@unsafe.Slice(@unsafe.StringData(weightsBin), len(weightsBin))) // read-only view: no copy")
	b.l("if sum := h.Sum64(); sum != weightsChecksum {")
	b.l("panic(@fmt.Sprintf(\"%s: embedded weights.bin is corrupt: FNV-1a checksum %%#x, want %%#x: the file was modified after generation; regenerate the package with dlc\", sum, uint64(weightsChecksum)))", gn.pkg)
	b.l("}")
	var types []string
	seen := map[string]bool{}
	for _, s := range secs {
		b.l("%s = weightView[%s](%d, %d)", weightsName(s.dt), elemType(s.dt), s.off, s.n)
		if t := elemType(s.dt); !seen[t] {
			seen[t] = true
			types = append(types, t)
		}
	}
	f.Add(doc("loadWeights checks weights.bin (length and checksum) and sets the\nweight slices. New runs it once."))
	f.Func().Id("loadWeights").Params().Block(b.code...)
	f.Line()
	if len(types) > 0 {
		f.Add(src(strings.Replace(weightViewSource, "float32 | int64", strings.Join(types, " | "), 1)))
		f.Line()
	}
}

// weightViewSource is the generic section loader of every package with
// weights; its type constraint lists the element types of the sections.
const weightViewSource = `// weightView returns the n values of type T stored little endian at byte
// offset off of weights.bin: the embedded bytes themselves on a
// little-endian machine when they are aligned for T (no copy: the data
// stays in the binary's read-only memory), else a decoded copy.
func weightView[T float32 | int64](off, n int) []T {
	if n == 0 {
		return []T{} // not nil: kernels convert empty sections to *[0]T and copy through them
	}
	var probe uint16 = 1
	littleEndian := *(*byte)(@unsafe.Pointer(&probe)) == 1
	p := @unsafe.Pointer(@unsafe.StringData(weightsBin[off:]))
	if littleEndian && uintptr(p)%@unsafe.Alignof(*new(T)) == 0 {
		return @unsafe.Slice((*T)(p), n)
	}
	size := int(@unsafe.Sizeof(*new(T)))
	s := make([]T, n)
	if _, err := @binary.Decode([]byte(weightsBin[off:off+n*size]), @binary.LittleEndian, s); err != nil {
		panic(err)
	}
	return s
}`

// modelType emits Model and New.
func (gn *gen) modelType(f *jen.File) {
	p := gn.plan
	var fields []jen.Code
	// An arena exists for every dtype the plan places (possibly empty):
	// kernels of zero-sized values still slice them.
	for _, dt := range dtypesOf(p.arena) {
		fields = append(fields, src(fmt.Sprintf("%s [%d]%s", arenaName(dt), p.arena[dt], elemType(dt))))
	}
	if gn.streamable() {
		fields = append(fields, src("st stepModel"))
	}
	if nc, _ := gn.classes(); nc > 0 {
		fields = append(fields, doc("cls receives Classify's output."), src("cls [OutputSize]float32"))
	}
	fields = append(fields, doc("closed is set by Close."), src("closed bool"))
	W := gn.maxWorkers()
	if W > 1 {
		fields = append(fields, doc("pool runs the parts of split kernels (nil in a zero Model: they run\none after another); cleanup stops it if the Model is dropped unclosed."),
			src("pool *pool"), src("cleanup @runtime.Cleanup"))
		for _, i := range gn.partInputs() {
			v := gn.g.Inputs[i]
			fields = append(fields, src(fmt.Sprintf("parIn%d %s // graph input %d during a call, for the part functions", i, arrType(v.Type.DType, v.Type.Shape.NumElems()), i)))
		}
	}
	f.Add(doc("Model runs the network. It owns its scratch arena (every intermediate\nvalue at an offset fixed at compile time), so calls allocate nothing.\nA Model is not safe for concurrent use: use one Model per goroutine.\nThe zero Model works too, but it is large: allocate it with New."))
	f.Type().Id("Model").Struct(fields...)
	f.Line()
	newDoc := "New returns a Model with its scratch arena (ScratchBytes) allocated.\nThe first call also loads the weights shared by all Models (WeightBytes;\nin place where the machine allows, see weightView) and checks them: it\npanics if weights.bin was modified after generation."
	newBody := []jen.Code{src("weightsOnce.Do(loadWeights)"), jen.Return(jen.New(jen.Id("Model")))}
	if W > 1 {
		newDoc += fmt.Sprintf("\nIt starts the Model's worker goroutines (%d); Close stops them.", W-1)
		newBody = []jen.Code{src("weightsOnce.Do(loadWeights)"), src("m := new(Model)"),
			src(fmt.Sprintf("m.pool = newPool(%d)", W-1)),
			src("m.cleanup = @runtime.AddCleanup(m, (*pool).stop, m.pool)"),
			src("return m")}
	}
	f.Add(doc("%s", newDoc))
	f.Func().Id("New").Params().Op("*").Id("Model").Block(newBody...)
	f.Line()
	gn.closeMethod(f, W)
}

// closeMethod emits Close, and errClosed, which calls after it return.
func (gn *gen) closeMethod(f *jen.File, W int) {
	f.Var().Id("errClosed").Op("=").Add(src(fmt.Sprintf("@errors.New(%q)", gn.pkg+": the Model is closed")))
	f.Line()
	var b body
	b.l("if m.closed {\nreturn nil\n}")
	b.l("m.closed = true")
	d := "Close releases the Model: later calls return an error. Close is idempotent\nand returns nil. It must not run concurrently with a call on the Model."
	if W > 1 {
		d += "\nIt stops the Model's worker goroutines; a Model dropped without Close\nhas them stopped when the garbage collector finds it unreachable."
		b.l("if m.pool != nil {")
		b.l("m.cleanup.Stop()")
		b.l("m.pool.stop()")
		b.l("m.pool = nil")
		b.l("}")
	}
	b.l("return nil")
	f.Add(doc("%s", d))
	f.Func().Params(src("m *Model")).Id("Close").Params().Error().Block(b.code...)
	f.Line()
}

// threadsDoc is the package doc's paragraph on Close and threads.
func (gn *gen) threadsDoc() string {
	W := gn.maxWorkers()
	if W == 1 {
		return "Close releases a Model; calls after it return an error.\n\n"
	}
	return wrap(fmt.Sprintf("Compiled with -threads %d: the largest layers are split along their outputs into up to %d parts, run by the goroutine calling the Model and %d worker goroutines the Model owns (started by New; a call wakes them through channels and allocates nothing). Results are bit-identical to one thread: no part sums into another's outputs. Close stops the workers; calls after it return an error.", W, W, W-1), 76) + "\n\n"
}

// forward emits the method that calls every kernel in order.
func (gn *gen) forward(f *jen.File) {
	var b body
	ins := gn.partInputs()
	for _, i := range ins {
		b.l("m.parIn%d = in%d", i, i)
	}
	gn.callKernels(&b, gn.ref, nil)
	for _, i := range ins {
		b.l("m.parIn%d = nil // do not keep the caller's array", i)
	}
	gn.forwardMethod(f, "m *Model", "forward runs every layer in order; outputs are left in the arena.", len(gn.g.Inputs), &b)
}

// outLoc is where output i ends up after forward.
func (gn *gen) outLoc(i int) loc {
	if l, ok := gn.plan.outCopy[i]; ok {
		return l
	}
	return gn.plan.loc[gn.g.Outputs[i]]
}

// run emits run, on arrays, and Run, on Input and Output.
func (gn *gen) run(f *jen.File) {
	var params, args, fieldArgs []string
	for i, a := range gn.inputs() {
		params = append(params, fmt.Sprintf("in%d *[Input%sSize]%s", i, a.field, elemType(a.v.Type.DType)))
		args = append(args, fmt.Sprintf("in%d", i))
		fieldArgs = append(fieldArgs, "&in."+a.field)
	}
	for i, a := range gn.outputs() {
		params = append(params, fmt.Sprintf("out%d *[Output%sSize]%s", i, a.field, elemType(a.v.Type.DType)))
		fieldArgs = append(fieldArgs, "&out."+a.field)
	}
	var b body
	b.l("if m.closed {\nreturn errClosed\n}")
	b.l("weightsOnce.Do(loadWeights) // for a zero Model; New has loaded them")
	if gn.hasErr {
		b.l("if err := m.forward(%s); err != nil {\nreturn err\n}", strings.Join(args, ", "))
	} else {
		b.l("m.forward(%s)", strings.Join(args, ", "))
	}
	for i := range gn.g.Outputs {
		b.l("*out%d = *%s", i, gn.ref(gn.outLoc(i)))
	}
	b.l("return nil")
	var ps []jen.Code
	for _, p := range params {
		ps = append(ps, src(p))
	}
	f.Add(doc("run runs the model and copies the outputs into the caller's arrays."))
	f.Func().Params(src("m *Model")).Id("run").Params(ps...).Error().Block(b.code...)
	f.Line()
	f.Add(doc("%s", wrap("Run runs the model on in and writes its outputs into out. "+gn.errDoc("out")+" Run allocates nothing.", 76)))
	f.Func().Params(src("m *Model")).Id("Run").Params(src("in *Input"), src("out *Output")).Error().Block(
		src(fmt.Sprintf("return m.run(%s)", strings.Join(fieldArgs, ", "))))
	f.Line()
}

// errDoc says when a call returns an error.
func (gn *gen) errDoc(out string) string {
	if gn.hasErr {
		return fmt.Sprintf("It returns an error, naming the layer, for an id or index out of range or an integer division by zero, and after Close; %s is then meaningless.", out)
	}
	return "The error is nil unless the Model is closed: this model cannot fail at run time (other models return one for an id out of range or an integer division by zero)."
}

// predict emits Predict and PredictSlice for a one-input, one-output model.
func (gn *gen) predict(f *jen.File) {
	in, out := gn.inputs()[0], gn.outputs()[0]
	ti, to := elemType(in.v.Type.DType), elemType(out.v.Type.DType)
	f.Add(doc("%s", wrap(fmt.Sprintf("Predict runs the model on in (%s %v) and writes output %s %v into out: Run for a model with one input and one output. %s Predict allocates nothing.",
		in.name, in.v.Type, out.name, out.v.Type, gn.errDoc("out")), 76)))
	f.Func().Params(src("m *Model")).Id("Predict").Params(src("in *[InputSize]"+ti), src("out *[OutputSize]"+to)).Error().Block(
		src("return m.run(in, out)"))
	f.Line()
	f.Add(doc("PredictSlice is Predict for slices: it reads len(in) == InputSize\nvalues and writes OutputSize values into out, or returns an error\nfor a wrong length."))
	var b body
	b.l("if len(in) != InputSize {\nreturn @fmt.Errorf(\"%s: input has %%d values, want %%d (%s %v)\", len(in), InputSize)\n}", gn.pkg, in.name, in.v.Type)
	b.l("if len(out) != OutputSize {\nreturn @fmt.Errorf(\"%s: output has room for %%d values, want %%d (%s %v)\", len(out), OutputSize)\n}", gn.pkg, out.name, out.v.Type)
	b.l("return m.run((*[InputSize]%s)(in), (*[OutputSize]%s)(out))", ti, to)
	f.Func().Params(src("m *Model")).Id("PredictSlice").Params(src("in []"+ti), src("out []"+to)).Error().Block(b.code...)
	f.Line()
}

// classify emits Classify for a classifier.
func (gn *gen) classify(f *jen.File, op string) {
	var b body
	b.l("if err := m.run(in, &m.cls); err != nil {\nreturn 0, 0, err\n}")
	b.l("out := &m.cls")
	b.l("for i, v := range out {\nif v > out[class] {\nclass = i\n}\n}")
	var how string
	switch op {
	case "softmax":
		how = "The output is already a softmax, so prob is the output itself."
		b.l("return class, out[class], nil")
	case "log_softmax":
		how = "The output is a log_softmax, so prob is exp of the output."
		b.l("return class, float32(@math.Exp(float64(out[class]))), nil")
	default:
		how = "The output holds logits, so prob is their softmax at class."
		b.l("var s float64")
		b.l("for _, v := range out {\ns += @math.Exp(float64(v - out[class]))\n}")
		b.l("return class, float32(1 / s), nil")
	}
	in := gn.inputs()[0]
	f.Add(doc("%s", wrap("Classify runs the model on in and returns the most likely of the NumClasses classes (the first on ties) and its probability. "+how+" "+gn.errDoc("the class")+" Classify allocates nothing.", 76)))
	f.Func().Params(src("m *Model")).Id("Classify").Params(src("in *[InputSize]"+elemType(in.v.Type.DType))).
		Params(src("class int"), src("prob float32"), src("err error")).Block(b.code...)
	f.Line()
}

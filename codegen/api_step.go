package codegen

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"
	"github.com/dlcompiler/dlc/ir"
)

// The streaming API of a recurrent model, in the shape of Run:
//
//	type StepInput struct{ X [StepInputXSize]float32; ... }  one time step of each input
//	type StepOutput struct{ Y [StepOutputYSize]float32; ... }
//	(*Model).Step(in *StepInput, out *StepOutput) error
//	(*Model).Reset()
//
// Fields are named as in Input and Output. step.go decides whether a model
// streams and emits stepModel, the one-step kernels' arena and state.

// stepVals are Step's inputs (the graph inputs, at one time step for
// sequence inputs) and outputs, with the fields of Input and Output.
func (s *stream) stepVals(gn *gen) (ins, outs []apiVal) {
	all := gn.inputs()
	for i, oi := range s.user {
		a := all[oi]
		a.v = s.sg.Inputs[i]
		a.n = a.v.Type.Shape.NumElems()
		ins = append(ins, a)
	}
	for i, a := range gn.outputs() {
		a.v = s.sg.Outputs[i]
		a.n = a.v.Type.Shape.NumElems()
		outs = append(outs, a)
	}
	return ins, outs
}

// streamDoc is the recurrent paragraph of the package documentation.
func (s *stream) streamDoc(gn *gen) string {
	var d strings.Builder
	d.WriteString("Recurrent layers run over the whole sequence in each call to Run,\n")
	d.WriteString("from the initial state given as an input (or zeros); the final states\n")
	d.WriteString("are outputs of the layer.\n\n")
	if s.reason != "" {
		d.WriteString(wrap("There is no streaming Step API for this model: "+s.reason+
			" Step needs unidirectional recurrent layers and a graph that treats each time step independently around them.", 72))
		d.WriteString("\n\n")
		return d.String()
	}
	fmt.Fprintf(&d, "Streaming: Step consumes one time step of the %d-step sequence and\n", s.T)
	d.WriteString("keeps the recurrent state in the Model between calls; Reset starts a\n")
	d.WriteString("new sequence. After Reset, calling Step with step t of x for\n")
	fmt.Fprintf(&d, "t = 0, ..., %d gives, at the last call, the outputs of the whole-sequence\n", s.T-1)
	d.WriteString("call on x; outputs computed from each step (per-step outputs) are, at\n")
	d.WriteString("every call, that step's slice of the whole-sequence outputs. Streams\n")
	d.WriteString("may be longer than the compiled sequence length. Step and Run use\n")
	d.WriteString("separate memory, so Run does not disturb a stream:\n\n")
	d.WriteString("\tvar in StepInput\n\tvar out StepOutput\n\tm.Reset()\n\tfor each time step t {\n")
	d.WriteString("\t\t// fill in with step t\n\t\tif err := m.Step(&in, &out); err != nil { ... }\n\t\t// out: the outputs for the sequence so far\n\t}\n\n")
	ins, outs := s.stepVals(gn)
	d.WriteString("Step inputs (one time step):\n\n")
	for _, a := range ins {
		ax := ""
		if i := s.info[s.orig[a.v]]; i.k == tSeq {
			ax = fmt.Sprintf(" (time axis %d)", i.axis)
		}
		fmt.Fprintf(&d, "\t%s %v%s\n", a.name, a.v.Type, ax)
	}
	d.WriteString("\nStep outputs:\n\n")
	for i, a := range outs {
		what := "the whole-sequence output after the last step"
		switch s.info[s.g.Outputs[i]].k {
		case tSeq:
			what = "this step's slice of the whole-sequence output"
		case tStatic:
			what = "independent of the sequence"
		}
		fmt.Fprintf(&d, "\t%s %v: %s\n", a.name, a.v.Type, what)
	}
	d.WriteString("\n")
	for _, st := range s.states {
		if st.init != nil && st.init.Kind == ir.Input {
			d.WriteString(wrap(fmt.Sprintf("Layer %s's initial state %s is the graph input %s for Run; Step ignores it and continues from the Model's state (zeros after Reset).", st.node.Name, st.what, st.init.Name), 72))
			d.WriteString("\n\n")
		}
	}
	return d.String()
}

// stepMethods emits the step constants and types, Reset and Step.
func (gn *gen) stepMethods(f *jen.File) {
	s := gn.stream
	ins, outs := s.stepVals(gn)
	var consts, vars []jen.Code
	add := func(prefix, what string, as []apiVal) {
		for _, a := range as {
			consts = append(consts, doc("%s%sSize is the number of elements of %s %s at one time step, %v.", prefix, a.field, what, a.name, a.v.Type),
				src(fmt.Sprintf("%s%sSize = %d", prefix, a.field, a.n)))
			vars = append(vars, doc("%s%sShape is the shape of %s %s at one time step.", prefix, a.field, what, a.name),
				src(fmt.Sprintf("%s%sShape = %s", prefix, a.field, shapeLit(a.v.Type.Shape))))
		}
	}
	add("StepInput", "input", ins)
	add("StepOutput", "output", outs)
	if len(ins) == 1 && len(outs) == 1 {
		consts = append(consts,
			doc("StepInputSize is StepInput%sSize, Step's only input.", ins[0].field), src("StepInputSize = StepInput"+ins[0].field+"Size"),
			doc("StepOutputSize is StepOutput%sSize, Step's only output.", outs[0].field), src("StepOutputSize = StepOutput"+outs[0].field+"Size"))
	}
	consts = append(consts, doc("SequenceLength is the number of time steps of Run's inputs."), src(fmt.Sprintf("SequenceLength = %d", s.T)))
	f.Const().Defs(consts...)
	f.Var().Defs(vars...)
	f.Line()
	gn.ioTypes(f, "StepInput", "holds one time step of the model's inputs (static inputs whole)", ins, "input")
	gn.ioTypes(f, "StepOutput", "receives Step's outputs", outs, "output")
	gn.reset(f)
	gn.step(f, ins, outs)
}

// reset emits Reset.
func (gn *gen) reset(f *jen.File) {
	s := gn.stream
	var b body
	b.l("weightsOnce.Do(loadWeights) // for a zero Model; New has loaded them")
	for _, st := range s.states {
		if st.init != nil && st.init.Kind != ir.Input {
			b.l("m.st.%s = *%s", st.field, gn.ref(gn.plan.loc[st.init]))
		} else {
			b.l("m.st.%s = [%d]float32{}", st.field, st.n)
		}
	}
	d := "Reset starts a new stream: it sets the recurrent state to its initial\nvalue (zeros"
	if s.learnedInit() {
		b.l("m.st.started = true")
		d += ", or the learned initial states"
	}
	d += "), as before the first Step of a new Model. Reset allocates nothing."
	f.Add(doc("%s", d))
	f.Func().Params(src("m *Model")).Id("Reset").Params().Block(b.code...)
	f.Line()
}

// step emits Step.
func (gn *gen) step(f *jen.File, ins, outs []apiVal) {
	s := gn.stream
	var b body
	b.l("if m.closed {\nreturn errClosed\n}")
	b.l("weightsOnce.Do(loadWeights) // for a zero Model; New has loaded them")
	if s.learnedInit() {
		b.l("if !m.st.started {\nm.Reset()\n}")
	}
	var args []string
	for _, a := range ins {
		args = append(args, "&in."+a.field)
	}
	if s.sgen.hasErr {
		b.l("if err := m.st.forward(%s); err != nil {\nreturn err\n}", strings.Join(args, ", "))
	} else {
		b.l("m.st.forward(%s)", strings.Join(args, ", "))
	}
	for i, a := range outs {
		b.l("out.%s = *m.st.out%d()", a.field, i)
	}
	b.l("return nil")

	var d strings.Builder
	d.WriteString("Step runs one time step: it reads in, advances the recurrent state kept\n")
	d.WriteString("in m and writes the outputs for the sequence so far into out.\n")
	fmt.Fprintf(&d, "After Reset, Step over steps t = 0..%d of a sequence x gives, at the\nlast step, what Run gives on x", s.T-1)
	var perStep []string
	for i, a := range outs {
		if s.info[s.g.Outputs[i]].k == tSeq {
			perStep = append(perStep, a.name)
		}
	}
	if len(perStep) > 0 {
		fmt.Fprintf(&d, "; the per-step outputs\n(%s) are step t's slice of Run's at every call", strings.Join(perStep, ", "))
	}
	d.WriteString(".\n")
	for _, st := range s.states {
		if st.init != nil && st.init.Kind == ir.Input {
			fmt.Fprintf(&d, "Layer %s's initial %s comes from the Model's state, not from input %s.\n", st.node.Name, st.what, st.init.Name)
		}
	}
	if s.sgen.hasErr {
		d.WriteString("It returns an error, naming the layer, for an id or index out of range\nor an integer division by zero; out and the state are then meaningless:\ncall Reset. It returns an error after Close.\n")
	} else {
		d.WriteString("The error is nil unless the Model is closed: this model cannot fail at\nrun time.\n")
	}
	d.WriteString("Step allocates nothing.")
	f.Add(doc("%s", d.String()))
	f.Func().Params(src("m *Model")).Id("Step").Params(src("in *StepInput"), src("out *StepOutput")).Error().Block(b.code...)
	f.Line()
}

package codegen

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"go/format"
	"sort"
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"
	"github.com/dlcompiler/dlc/ir"
)

// The compiled training step (dlc compile -train): the package gets a
// Trainer besides the Model. Two more graphs are generated into it with
// the same emitters (so the same SIMD kernels) as the model:
//
//	step  the training graph (train mode, loss, backward) with the
//	      weights as inputs: x, target, dropout masks, trainable weights →
//	      loss, one gradient per trainable weight, batch-norm statistics;
//	      kernels_train.go, arena type trainNet
//	eval  the model (inference mode) with every float32 weight as an
//	      input: x, weights → the model's outputs, so that the Trainer
//	      runs the model on the weights it trains; kernels_eval.go, arena
//	      type evalNet
//
// The Model's weights cannot be swapped for trained ones: passes folded
// batch norms into them and packed them for the GEMM kernels at compile
// time. So the Trainer keeps its own copy of the weights as arrays, starts
// them from trainer.bin (the model's weights before those passes, by
// their state_dict names, embedded too), and serves inference through
// eval. The optimizer, the loss scaling and the batch-norm running
// statistics follow package train (torch.optim's rules, in float32), so
// that the Trainer and dlc train compute the same steps. The graphs and
// the numbers come from package train (TrainSpec); codegen only emits.

func init() {
	for _, n := range []string{"Trainer", "NewTrainer", "trainNet", "evalNet", "trainerBin", "trainerOnce", "loadTrainer",
		"trainDecode", "trainVar", "sgdUpdate", "adamUpdate", "trainHeader", "trainTestData"} {
		reserved[n] = true
	}
	for _, n := range []string{"io", "json", "rand", "bytes"} {
		importNames[n] = true
	}
}

// TrainSpec is what dlc compile -train adds to a package; package train
// makes it (train.Spec).
type TrainSpec struct {
	// Step is the optimized training graph. Inputs: x, target, one mask
	// per entry of Masks, then the trainable Vars in order; outputs: the
	// loss (a scalar), the gradient of each trainable Var in order, then
	// the batch mean and variance of each of BatchNorms.
	Step *ir.Graph
	// Eval is the optimized model with every Var an input after x; its
	// outputs are the Model's.
	Eval *ir.Graph
	// Vars are the model's float32 weights (params and running
	// statistics) in declaration order, with their initial values.
	Vars []TrainVar
	// Masks are the dropout probabilities of Step's mask inputs.
	Masks []float64
	// BatchNorms index the running statistics in Vars.
	BatchNorms []TrainBN
	// Loss names the loss; Classes > 0 when the target is one-hot rows of
	// that many classes (the package then gets StepClasses).
	Loss    string
	Classes int
	// Optimizer settings, fixed at compile time but LR.
	Opt                         string
	LR, Momentum, WeightDecay   float64
	Beta1, Beta2, Eps, ClipNorm float64
	Nesterov                    bool
	Seed                        uint64
	// SafetensorsHeader is the first part of the safetensors file of the
	// Vars (length, JSON header), names sorted: the writer appends their
	// data in that order.
	SafetensorsHeader []byte
	// TestX, TestTarget and TestLosses record the losses of the first
	// steps of the reference trainer, for the self-test.
	TestX, TestTarget *ir.Tensor
	TestLosses        []float32
	// LossTol is the self-test's relative tolerance on those losses.
	LossTol float64
}

// TrainVar is one float32 weight of the model.
type TrainVar struct {
	Name      string
	Data      *ir.Tensor
	Trainable bool
}

// TrainBN is a batch norm's running statistics, by index into Vars, and
// its elements per channel in a batch.
type TrainBN struct{ Mean, Var, Count int }

// trainGen holds the generators of the two graphs.
type trainGen struct {
	spec       *TrainSpec
	step, eval *gen
	nTrain     int   // trainable vars
	trainIdx   []int // Vars index of trainable var i
	stepBase   int   // byte offsets in trainer.bin
	evalBase   int
	varOff     []int
	bin        []byte
}

func (gn *gen) trainer() (*trainGen, error) {
	s := gn.opt.Train
	tg := &trainGen{spec: s}
	for i, v := range s.Vars {
		if v.Data == nil || v.Data.DType != ir.F32 {
			return nil, fmt.Errorf("codegen: trainer: weight %s is not float32", v.Name)
		}
		if v.Trainable {
			tg.trainIdx = append(tg.trainIdx, i)
		}
	}
	tg.nTrain = len(tg.trainIdx)
	if len(s.Step.Inputs) != 2+len(s.Masks)+tg.nTrain || len(s.Step.Outputs) != 1+tg.nTrain+2*len(s.BatchNorms) {
		return nil, fmt.Errorf("codegen: trainer: the step graph has %d inputs and %d outputs, want %d and %d",
			len(s.Step.Inputs), len(s.Step.Outputs), 2+len(s.Masks)+tg.nTrain, 1+tg.nTrain+2*len(s.BatchNorms))
	}
	if len(s.Eval.Inputs) != 1+len(s.Vars) || len(s.Eval.Outputs) != len(gn.g.Outputs) {
		return nil, fmt.Errorf("codegen: trainer: the eval graph has %d inputs and %d outputs, want %d and %d",
			len(s.Eval.Inputs), len(s.Eval.Outputs), 1+len(s.Vars), len(gn.g.Outputs))
	}
	for i, k := range tg.trainIdx {
		if in := s.Step.Inputs[2+len(s.Masks)+i]; in.Name != s.Vars[k].Name {
			return nil, fmt.Errorf("codegen: trainer: step input %s where weight %s was expected", in.Name, s.Vars[k].Name)
		}
	}
	names := map[string]bool{}
	for _, k := range gn.kname {
		names[k] = true
	}
	if gn.streamable() {
		for _, k := range gn.stream.sgen.kname {
			names[k] = true
		}
	}
	var err error
	if tg.step, err = subGen(s.Step, gn.pkg, "train", names); err != nil {
		return nil, err
	}
	if tg.eval, err = subGen(s.Eval, gn.pkg, "eval", names); err != nil {
		return nil, err
	}
	// trainer.bin: the vars, then the step's and the eval's constants,
	// each starting at a multiple of 64 bytes.
	pad := func() { tg.bin = append(tg.bin, make([]byte, (64-len(tg.bin)%64)%64)...) }
	for _, v := range s.Vars {
		pad()
		tg.varOff = append(tg.varOff, len(tg.bin))
		tg.bin, _ = binary.Append(tg.bin, binary.LittleEndian, v.Data.F32())
	}
	pad()
	tg.stepBase = len(tg.bin)
	tg.bin = append(tg.bin, tg.step.plan.weightBytes()...)
	pad()
	tg.evalBase = len(tg.bin)
	tg.bin = append(tg.bin, tg.eval.plan.weightBytes()...)
	return tg, nil
}

// subGen makes the generator of a training graph, its kernels named
// prefix+Layer, distinct from names (to which they are added).
func subGen(g *ir.Graph, pkg, prefix string, names map[string]bool) (*gen, error) {
	if err := ir.Verify(g); err != nil {
		return nil, fmt.Errorf("codegen: trainer: the %s graph does not verify: %w", prefix, err)
	}
	sg, err := newGen(g, pkg, Options{Package: pkg})
	if err != nil {
		return nil, fmt.Errorf("codegen: trainer: %s graph: %w", prefix, err)
	}
	for _, n := range g.Nodes {
		k := sg.kname[n]
		sg.kname[n] = kernelName(prefix+strings.ToUpper(k[:1])+k[1:], names)
	}
	return sg, nil
}

// weightsVar names the package variable of a sub-graph's constants.
func weightsVar(prefix string, dt ir.DType) string { return prefix + "Weights" + dtName(dt) }

// netFile emits a graph's kernels, its arena type and forward, and the
// getters of its outputs, into one file.
func (tg *trainGen) netFile(sg *gen, prefix, typ, what string) (*jen.File, error) {
	f, err := sg.kernelsFile()
	if err != nil {
		return nil, err
	}
	p := sg.plan
	var fields []jen.Code
	for _, dt := range dtypesOf(p.arena) {
		fields = append(fields, src(fmt.Sprintf("%s [%d]%s", arenaName(dt), p.arena[dt], elemType(dt))))
	}
	f.Add(doc("%s is the arena of the %s graph: every intermediate value at an\noffset fixed at compile time.", typ, what))
	f.Type().Id(typ).Struct(fields...)
	f.Line()
	ref := func(l loc) string {
		if l.kind == locWeight {
			return fmt.Sprintf("(%s)(%s[%d:%d])", arrType(l.dt, l.n), weightsVar(prefix, l.dt), l.off, l.off+l.n)
		}
		return sg.ref(l)
	}
	var b body
	sg.callKernels(&b, ref, nil)
	sg.forwardMethod(f, "m *"+typ, fmt.Sprintf("forward runs the %s graph.", what), len(sg.g.Inputs), &b)
	for i, v := range sg.g.Outputs {
		l, ok := p.outCopy[i]
		if !ok {
			l = p.loc[v]
		}
		f.Add(doc("out%d returns output %d (%s) in the arena.", i, i, sg.g.OutputNames[i]))
		f.Func().Params(src("m *" + typ)).Id(fmt.Sprintf("out%d", i)).Params().Id(arrType(v.Type.DType, l.n)).Block(src("return " + ref(l)))
		f.Line()
	}
	return f, nil
}

// trainFiles adds trainer.go, kernels_train.go, kernels_eval.go and
// trainer.bin (and with SelfTest trainer_test.go and testdata/trainer.bin).
func (gn *gen) trainFiles(files map[string][]byte) error {
	if gn.opt.Train == nil {
		return nil
	}
	tg, err := gn.trainer()
	if err != nil {
		return err
	}
	for _, k := range []struct {
		sg                *gen
		prefix, typ, what string
		file              string
	}{{tg.step, "train", "trainNet", "training step", "kernels_train.go"}, {tg.eval, "eval", "evalNet", "inference (trained weights)", "kernels_eval.go"}} {
		f, err := tg.netFile(k.sg, k.prefix, k.typ, k.what)
		if err != nil {
			return err
		}
		b, err := render(k.file, f)
		if err != nil {
			return err
		}
		for _, other := range []string{"kernels.go", "kernels_step.go", "kernels_stream.go", "kernels_train.go"} {
			if o, ok := files[other]; ok {
				if b, err = dropDuplicateFuncs(b, o); err != nil {
					return fmt.Errorf("codegen: %s: %w", k.file, err)
				}
			}
		}
		files[k.file] = b
	}
	api, err := gn.trainerAPI(tg)
	if err != nil {
		return err
	}
	files["trainer.go"] = api
	files["trainer.bin"] = tg.bin
	if gn.opt.SelfTest {
		return gn.trainerTest(tg, files)
	}
	return nil
}

// fl formats a float64 so that Go reads back the same float64.
func fl(v float64) string {
	s := strconv.FormatFloat(v, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEnN") {
		s += ".0"
	}
	return s
}

// goSrc formats generated source text, reporting it numbered on failure.
func goSrc(name, text string) ([]byte, error) {
	out, err := format.Source([]byte(text))
	if err != nil {
		var b strings.Builder
		for i, l := range strings.Split(text, "\n") {
			fmt.Fprintf(&b, "%5d\t%s\n", i+1, l)
		}
		return nil, fmt.Errorf("codegen: internal error: generated %s does not format: %v\n%s", name, err, b.String())
	}
	return out, nil
}

// varField is the Trainer field holding Vars[i]; stateField its optimizer
// state (trainable vars only).
func varField(i int) string   { return fmt.Sprintf("w%d", i) }
func stateField(i int) string { return fmt.Sprintf("s%d", i) }

// sortedVars returns the Vars indices in name order (the safetensors order).
func (tg *trainGen) sortedVars() []int {
	idx := make([]int, len(tg.spec.Vars))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return tg.spec.Vars[idx[a]].Name < tg.spec.Vars[idx[b]].Name })
	return idx
}

// quoteBytes writes b as a Go string literal.
func quoteBytes(b []byte) string {
	var s bytes.Buffer
	s.WriteByte('"')
	for _, c := range b {
		switch {
		case c == '"' || c == '\\':
			s.WriteByte('\\')
			s.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			s.WriteByte(c)
		default:
			fmt.Fprintf(&s, "\\x%02x", c)
		}
	}
	s.WriteByte('"')
	return s.String()
}

// trainDoc is the package doc's paragraph on the Trainer.
func (gn *gen) trainDoc() string {
	s := gn.opt.Train
	if s == nil {
		return ""
	}
	return wrap(fmt.Sprintf("Training (dlc compile -train): a Trainer fine-tunes the model on device, "+
		"TrainBatch examples a Step, minimizing %s with %s; it keeps its own copy of the weights "+
		"and runs the model on them with Run. See Trainer.", s.Loss, s.Opt), 72) + "\n\n"
}

package codegen

import (
	"fmt"
	"math"
	"strings"
)

// trainerAPI is trainer.go: the Trainer's exported API (see train.go).
// It is written as Go text and formatted, like the helpers of the
// kernels: the code does not depend on the model beyond names, sizes and
// the optimizer chosen.
func (gn *gen) trainerAPI(tg *trainGen) ([]byte, error) {
	s := tg.spec
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	x, tgt := s.Step.Inputs[0], s.Step.Inputs[1]
	w("%s\n\npackage %s\n\nimport (\n", Header, gn.pkg)
	for _, p := range []string{`_ "embed"`, `"encoding/binary"`, `"encoding/json"`, `"fmt"`, `"io"`, `"math"`, `"math/rand/v2"`, `"sync"`} {
		w("\t%s\n", p)
	}
	w(")\n\n")
	targetDoc := "the prediction's desired values"
	if s.Classes > 0 {
		targetDoc = fmt.Sprintf("one row of %d class weights per example (one-hot: 1 at the true class; StepClasses fills it from class indices)", s.Classes)
	}
	w("const (\n")
	w("// TrainBatch is the number of examples of one Step (dlc compile -train-batch).\nTrainBatch = %d\n", x.Type.Shape[0])
	w("// TrainInputSize is the number of elements of Step's x, %v.\nTrainInputSize = %d\n", x.Type, x.Type.Shape.NumElems())
	w("%s\nTrainTargetSize = %d\n", commentText(wrap(fmt.Sprintf("TrainTargetSize is the number of elements of Step's target, %v: %s.", tgt.Type, targetDoc), 76)), tgt.Type.Shape.NumElems())
	w("// TrainLoss is the loss Step minimizes (dlc compile -train-loss).\nTrainLoss = %q\n", s.Loss)
	w("// TrainOptimizer is Step's optimizer (dlc compile -train-opt).\nTrainOptimizer = %q\n", s.Opt)
	w("// DefaultLR is a new Trainer's learning rate (dlc compile -train-lr); SetLR changes it.\nDefaultLR = %s\n", fl(s.LR))
	w("// trainerBytes is the size of trainer.bin.\ntrainerBytes = %d\n", len(tg.bin))
	w(")\n\n")
	w("var (\n// TrainInputShape is the shape of Step's x.\nTrainInputShape = %s\n// TrainTargetShape is the shape of Step's target.\nTrainTargetShape = %s\n)\n\n", shapeLit(x.Type.Shape), shapeLit(tgt.Type.Shape))
	w("// The optimizer's settings, fixed at compile time (float64, as package\n// train holds them, so that both round alike).\nvar (\n")
	w("trainMomentum = %s\ntrainNesterov = %v\ntrainWeightDecay = %s\ntrainBeta1 = %s\ntrainBeta2 = %s\ntrainEps = %s\ntrainClip = %s\ntrainSeed uint64 = %d\n)\n\n",
		fl(s.Momentum), s.Nesterov, fl(s.WeightDecay), fl(s.Beta1), fl(s.Beta2), fl(s.Eps), fl(s.ClipNorm), s.Seed)
	tg.loaderText(w)
	tg.trainerType(gn, w)
	tg.stepText(gn, w)
	tg.weightsText(gn, w)
	tg.optimizerText(w)
	return goSrc("trainer.go", b.String())
}

// loaderText emits trainer.bin and its loader.
func (tg *trainGen) loaderText(w func(string, ...any)) {
	w("// trainer.bin holds the initial weights (float32, little endian) and the\n// constants of the training and evaluation graphs.\n//\n//go:embed trainer.bin\nvar trainerBin string\n\n")
	w("var (\n")
	type sec struct {
		name, typ string
		off, n    int
	}
	var secs []sec
	for _, p := range []struct {
		sg     *gen
		prefix string
		base   int
	}{{tg.step, "train", tg.stepBase}, {tg.eval, "eval", tg.evalBase}} {
		for _, ws := range p.sg.plan.weightSections() {
			secs = append(secs, sec{weightsVar(p.prefix, ws.dt), elemType(ws.dt), p.base + ws.off, ws.n})
			w("%s []%s\n", weightsVar(p.prefix, ws.dt), elemType(ws.dt))
		}
	}
	w("trainerOnce sync.Once\n)\n\n")
	w("// loadTrainer checks trainer.bin and decodes the graphs' constants.\nfunc loadTrainer() {\n")
	w("if len(trainerBin) != trainerBytes {\npanic(fmt.Sprintf(\"%s: embedded trainer.bin has %%d bytes, want %%d: the file was modified after generation; regenerate the package with dlc\", len(trainerBin), trainerBytes))\n}\n", tg.step.pkg)
	for _, s := range secs {
		w("%s = trainDecode[%s](%d, %d)\n", s.name, s.typ, s.off, s.n)
	}
	w("}\n\n")
	w(`// trainDecode decodes n little-endian values of type T at byte off of
// trainer.bin.
func trainDecode[T any](off, n int) []T {
	s := make([]T, n)
	size := binary.Size(s)
	if _, err := binary.Decode([]byte(trainerBin[off:off+size]), binary.LittleEndian, s); err != nil {
		panic(err)
	}
	return s
}

`)
}

// trainerType emits trainVar, Trainer, NewTrainer and Reset.
func (tg *trainGen) trainerType(gn *gen, w func(string, ...any)) {
	s := tg.spec
	w(`// trainVar is one weight: its state_dict name and shape, the Trainer's
// array holding it, and its offset in trainer.bin.
type trainVar struct {
	name      string
	shape     []int
	data      []float32
	trainable bool
	off       int
}

`)
	var d strings.Builder
	d.WriteString("Trainer trains the model on device: Step runs the compiled forward and\n")
	d.WriteString("backward passes (the same kernels as Model) over one minibatch of\n")
	d.WriteString("TrainBatch examples and updates the weights with the optimizer chosen at\n")
	d.WriteString("compile time. It owns its weights, gradients and optimizer state, so\n")
	d.WriteString("Step allocates nothing. A Trainer is not safe for concurrent use.\n\n")
	d.WriteString("\tt := NewTrainer() // starts from the package's embedded weights\n")
	d.WriteString("\tfor each minibatch (x, target) {\n\t\tloss, err := t.Step(&x, &target)\n\t\t...\n\t}\n")
	d.WriteString("\tt.Run(&in, &out)       // inference with the trained weights\n")
	d.WriteString("\tt.WriteSafetensors(f) // for dlc compile, whose Model then embeds them\n\n")
	d.WriteString(wrap(fmt.Sprintf("Fixed at compile time: the loss (%s), the batch (%d), the optimizer (%s with momentum %g, Nesterov %v, weight decay %g, betas %g and %g, eps %g), gradient clipping (global norm %g; 0: off) and the dropout seed (%d). Set at run time: the learning rate (SetLR, for schedules and warm-up) and the weights (SetWeights, LoadSafetensors).",
		s.Loss, s.Step.Inputs[0].Type.Shape[0], s.Opt, s.Momentum, s.Nesterov, s.WeightDecay, s.Beta1, s.Beta2, s.Eps, s.ClipNorm, s.Seed), 76))
	d.WriteString("\n\nThe Model of this package keeps the weights it was compiled with (passes\n")
	d.WriteString("folded and packed them): Run and Predict of the Trainer run the model on\n")
	d.WriteString("the trained ones, in inference mode (batch norms use the running\n")
	d.WriteString("statistics Step keeps, dropout is off). Weights are the model's float32\n")
	d.WriteString("params and running statistics by their state_dict names:\n\n")
	for i, v := range s.Vars {
		tr := ""
		if !v.Trainable {
			tr = " (not trained by the gradient)"
		}
		fmt.Fprintf(&d, "\t%s %v%s\n", v.Name, v.Data.Shape, tr)
		_ = i
	}
	w("%s\ntype Trainer struct {\nnet trainNet\neval evalNet\n", commentText(d.String()))
	for i, v := range s.Vars {
		w("%s [%d]float32 // %s\n", varField(i), v.Data.Len(), v.Name)
	}
	for _, k := range tg.trainIdx {
		if n := tg.statePer() * s.Vars[k].Data.Len(); n > 0 {
			w("%s [%d]float32 // optimizer state of %s\n", stateField(k), n, s.Vars[k].Name)
		}
	}
	for i, m := range s.Step.Inputs[2 : 2+len(s.Masks)] {
		w("mask%d [%d]float32 // %s\n", i, m.Type.Shape.NumElems(), m.Name)
	}
	if s.Classes > 0 {
		w("target [TrainTargetSize]float32 // StepClasses's one-hot rows\n")
	}
	w("vars []trainVar\npcg rand.PCG\nrng *rand.Rand\nlr float64\nsteps int\ngradNorm float64\n}\n\n")

	w("// NewTrainer returns a Trainer starting from the package's embedded weights\n// (the ones Model runs), with the learning rate DefaultLR.\nfunc NewTrainer() *Trainer {\n")
	w("trainerOnce.Do(loadTrainer)\nt := new(Trainer)\nt.rng = rand.New(&t.pcg)\nt.vars = []trainVar{\n")
	for i, v := range s.Vars {
		w("{%q, []int{%s}, t.%s[:], %v, %d},\n", v.Name, intList(v.Data.Shape), varField(i), v.Trainable, tg.varOff[i])
	}
	w("}\nt.Reset()\nreturn t\n}\n\n")
	w("// Reset puts t back to the embedded weights, clears the optimizer's\n// state and step count and sets the learning rate to DefaultLR.\nfunc (t *Trainer) Reset() {\n")
	w("for _, v := range t.vars {\nfor i := range v.data {\no := v.off + 4*i\nv.data[i] = math.Float32frombits(uint32(trainerBin[o]) | uint32(trainerBin[o+1])<<8 | uint32(trainerBin[o+2])<<16 | uint32(trainerBin[o+3])<<24)\n}\n}\n")
	for _, k := range tg.trainIdx {
		if tg.statePer() > 0 {
			w("t.%s = [%d]float32{}\n", stateField(k), tg.statePer()*s.Vars[k].Data.Len())
		}
	}
	w("t.lr, t.steps, t.gradNorm = DefaultLR, 0, 0\n}\n\n")
	w("// LR is the learning rate of the next Step.\nfunc (t *Trainer) LR() float64 { return t.lr }\n\n")
	w("// SetLR sets the learning rate of the following Steps: call it before a\n// Step to follow a schedule (warm-up, step decay, cosine).\nfunc (t *Trainer) SetLR(lr float64) { t.lr = lr }\n\n")
	w("// Steps is the number of Steps taken since NewTrainer or Reset.\nfunc (t *Trainer) Steps() int { return t.steps }\n\n")
	w("// GradNorm is the global L2 norm of the last Step's gradients, before\n// clipping.\nfunc (t *Trainer) GradNorm() float64 { return t.gradNorm }\n\n")
}

// statePer is the optimizer's state per weight element.
func (tg *trainGen) statePer() int {
	switch {
	case tg.spec.Opt == "adam" || tg.spec.Opt == "adamw":
		return 2
	case tg.spec.Momentum != 0:
		return 1
	}
	return 0
}

// stepText emits Step, StepClasses, Run and Predict.
func (tg *trainGen) stepText(gn *gen, w func(string, ...any)) {
	s := tg.spec
	nm := len(s.Masks)
	var d strings.Builder
	d.WriteString("Step runs one training step on the minibatch x, target: the forward and\n")
	fmt.Fprintf(&d, "backward passes, then the %s update of every trained weight with the\n", s.Opt)
	d.WriteString("learning rate LR. It returns the minibatch's loss (before the update).\n")
	d.WriteString("It returns an error, and updates nothing, when the loss is NaN or\ninfinite")
	if tg.step.hasErr {
		d.WriteString(" or a layer fails (an id or index out of range)")
	}
	d.WriteString(". Step allocates nothing.")
	if nm > 0 {
		d.WriteString("\nDropout masks are drawn from a generator seeded by the compile-time seed\nand the step count, as dlc train draws them.")
	}
	w("%s\nfunc (t *Trainer) Step(x *[TrainInputSize]%s, target *[TrainTargetSize]float32) (float32, error) {\n", commentText(d.String()), elemType(s.Step.Inputs[0].Type.DType))
	if nm > 0 {
		w("t.pcg.Seed(trainSeed, 0x64726f70^uint64(t.steps))\n")
		for i, p := range s.Masks {
			w("for i := range t.mask%d {\nt.mask%d[i] = 0\nif t.rng.Float64() >= %s {\nt.mask%d[i] = float32(1 / (1 - %s))\n}\n}\n", i, i, fl(p), i, fl(p))
		}
	}
	args := []string{"x", "target"}
	for i := range nm {
		args = append(args, fmt.Sprintf("&t.mask%d", i))
	}
	for _, k := range tg.trainIdx {
		args = append(args, "&t."+varField(k))
	}
	call := fmt.Sprintf("t.net.forward(%s)", strings.Join(args, ", "))
	if tg.step.hasErr {
		w("if err := %s; err != nil {\nreturn 0, err\n}\n", call)
	} else {
		w("%s\n", call)
	}
	w("loss := t.net.out0()[0]\n")
	w("if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) {\nreturn loss, fmt.Errorf(\"%s: step %%d: the loss is %%v\", t.steps, loss)\n}\n", gn.pkg)
	w("var sum float64\n")
	for i := range tg.trainIdx {
		w("for _, v := range t.net.out%d() {\nsum += float64(v) * float64(v)\n}\n", 1+i)
	}
	w("t.gradNorm = math.Sqrt(sum)\n")
	if s.ClipNorm > 0 {
		w("if t.gradNorm > trainClip {\nc := float32(trainClip / (t.gradNorm + 1e-6))\n")
		for i := range tg.trainIdx {
			w("for j := range t.net.out%d() {\nt.net.out%d()[j] *= c\n}\n", 1+i, 1+i)
		}
		w("}\n")
	}
	w("t.steps++\n")
	switch s.Opt {
	case "sgd":
		for i, k := range tg.trainIdx {
			buf := "nil"
			if tg.statePer() > 0 {
				buf = "t." + stateField(k) + "[:]"
			}
			w("sgdUpdate(t.%s[:], t.net.out%d()[:], %s, float32(t.lr), t.steps == 1)\n", varField(k), 1+i, buf)
		}
	default:
		w("bc1 := 1 - math.Pow(trainBeta1, float64(t.steps))\n")
		w("bc2sqrt := float32(math.Sqrt(1 - math.Pow(trainBeta2, float64(t.steps))))\n")
		for i, k := range tg.trainIdx {
			n := s.Vars[k].Data.Len()
			w("adamUpdate(t.%s[:], t.net.out%d()[:], t.%s[:%d], t.%s[%d:], t.lr, bc1, bc2sqrt)\n", varField(k), 1+i, stateField(k), n, stateField(k), n)
		}
	}
	for i, bn := range s.BatchNorms {
		o := 1 + tg.nTrain + 2*i
		w("// running statistics of %s, torch's momentum 0.1 and unbiased variance\n", s.Vars[bn.Mean].Name)
		w("for c, mean := range t.net.out%d() {\n", o)
		w("t.%s[c] = (1-0.1)*t.%s[c] + 0.1*mean\n", varField(bn.Mean), varField(bn.Mean))
		w("t.%s[c] = (1-0.1)*t.%s[c] + 0.1*t.net.out%d()[c]*(float32(%d)/float32(%d))\n}\n", varField(bn.Var), varField(bn.Var), o+1, bn.Count, max(bn.Count-1, 1))
	}
	w("return loss, nil\n}\n\n")
	if s.Classes > 0 {
		w("// StepClasses is Step with the target given as the class index of each\n// example: it fills the one-hot rows and calls Step. A class outside\n// [0, %d) is an error.\n", s.Classes)
		w("func (t *Trainer) StepClasses(x *[TrainInputSize]%s, classes *[TrainBatch]int) (float32, error) {\n", elemType(s.Step.Inputs[0].Type.DType))
		w("t.target = [TrainTargetSize]float32{}\nfor i, c := range classes {\nif c < 0 || c >= %d {\nreturn 0, fmt.Errorf(\"%s: example %%d: class %%d outside [0, %d)\", i, c)\n}\nt.target[i*%d+c] = 1\n}\nreturn t.Step(x, &t.target)\n}\n\n",
			s.Classes, gn.pkg, s.Classes, s.Classes)
	}
	// Run and Predict on the trained weights.
	ins, outs := gn.inputs(), gn.outputs()
	eargs := []string{"&in." + ins[0].field}
	for i := range s.Vars {
		eargs = append(eargs, "&t."+varField(i))
	}
	w("%s\nfunc (t *Trainer) Run(in *Input, out *Output) error {\n", commentText(wrap("Run runs the model on in with the Trainer's current weights, in inference mode, and writes its outputs into out, as Model.Run does with the compiled-in ones. "+gn.errDoc("out")+" Run allocates nothing.", 76)))
	if tg.eval.hasErr {
		w("if err := t.eval.forward(%s); err != nil {\nreturn err\n}\n", strings.Join(eargs, ", "))
	} else {
		w("t.eval.forward(%s)\n", strings.Join(eargs, ", "))
	}
	for i, a := range outs {
		w("out.%s = *t.eval.out%d()\n", a.field, i)
	}
	w("return nil\n}\n\n")
	if gn.single() {
		w("// Predict is Run for the model's only input and output, as Model.Predict.\nfunc (t *Trainer) Predict(in *[InputSize]%s, out *[OutputSize]%s) error {\n", elemType(ins[0].v.Type.DType), elemType(outs[0].v.Type.DType))
		eargs[0] = "in"
		if tg.eval.hasErr {
			w("if err := t.eval.forward(%s); err != nil {\nreturn err\n}\n", strings.Join(eargs, ", "))
		} else {
			w("t.eval.forward(%s)\n", strings.Join(eargs, ", "))
		}
		w("*out = *t.eval.out0()\nreturn nil\n}\n\n")
	}
}

// weightsText emits Weights, SetWeights, WriteSafetensors and
// LoadSafetensors.
func (tg *trainGen) weightsText(gn *gen, w func(string, ...any)) {
	pkg := gn.pkg
	w(`// Weights returns the weights by their state_dict names. The slices are
// the Trainer's own memory: Step changes them, so copy what you keep.
func (t *Trainer) Weights() map[string][]float32 {
	m := make(map[string][]float32, len(t.vars))
	for _, v := range t.vars {
		m[v.name] = v.data
	}
	return m
}

// SetWeights copies the weights in w, by state_dict name, into the
// Trainer; weights w does not name keep their values, and the optimizer's
// state is kept. It changes nothing and returns an error when a name is
// unknown or a length is wrong.
func (t *Trainer) SetWeights(w map[string][]float32) error {
	for name, d := range w {
		v := t.find(name)
		if v == nil {
			return fmt.Errorf("%[1]s: SetWeights: the model has no weight %%q", name)
		}
		if len(d) != len(v.data) {
			return fmt.Errorf("%[1]s: SetWeights: weight %%s has %%d values, want %%d (shape %%v)", name, len(d), len(v.data), v.shape)
		}
	}
	for name, d := range w {
		copy(t.find(name).data, d)
	}
	return nil
}

func (t *Trainer) find(name string) *trainVar {
	for i := range t.vars {
		if t.vars[i].name == name {
			return &t.vars[i]
		}
	}
	return nil
}

// trainHeader is the safetensors header of the weights (length and JSON,
// names sorted, as dlc train writes them); the data follows in that order.
const trainHeader = %[2]s

// trainOrder lists the weights in name order.
var trainOrder = [...]int{%[3]s}

// WriteSafetensors writes the weights to w as a safetensors file, the
// format dlc train writes and dlc compile reads: name the file in the
// model's weights statement and dlc compile embeds the trained weights in
// a new package.
func (t *Trainer) WriteSafetensors(w io.Writer) error {
	if _, err := io.WriteString(w, trainHeader); err != nil {
		return err
	}
	var buf [4096]byte
	for _, i := range trainOrder {
		d := t.vars[i].data
		for len(d) > 0 {
			n := min(len(d), len(buf)/4)
			for j, v := range d[:n] {
				binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(v))
			}
			if _, err := w.Write(buf[:4*n]); err != nil {
				return err
			}
			d = d[n:]
		}
	}
	return nil
}

// LoadSafetensors reads weights from a safetensors file (as written by
// WriteSafetensors or dlc train): every weight of the model, float32, of
// its shape. It changes nothing and returns an error when one is missing
// or does not fit.
func (t *Trainer) LoadSafetensors(r io.Reader) error {
	var n [8]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return fmt.Errorf("%[1]s: LoadSafetensors: %%w", err)
	}
	hl := binary.LittleEndian.Uint64(n[:])
	if hl > 1<<26 {
		return fmt.Errorf("%[1]s: LoadSafetensors: header of %%d bytes: not a safetensors file", hl)
	}
	h := make([]byte, hl)
	if _, err := io.ReadFull(r, h); err != nil {
		return fmt.Errorf("%[1]s: LoadSafetensors: %%w", err)
	}
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(h, &hdr); err != nil {
		return fmt.Errorf("%[1]s: LoadSafetensors: header: %%w", err)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("%[1]s: LoadSafetensors: %%w", err)
	}
	w := map[string][]float32{}
	for _, v := range t.vars {
		var e struct {
			DType   string   `+"`json:\"dtype\"`"+`
			Shape   []int    `+"`json:\"shape\"`"+`
			Offsets [2]int64 `+"`json:\"data_offsets\"`"+`
		}
		raw, ok := hdr[v.name]
		if !ok {
			return fmt.Errorf("%[1]s: LoadSafetensors: no weight %%q", v.name)
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			return fmt.Errorf("%[1]s: LoadSafetensors: %%s: %%w", v.name, err)
		}
		if e.DType != "F32" || fmt.Sprint(e.Shape) != fmt.Sprint(v.shape) {
			return fmt.Errorf("%[1]s: LoadSafetensors: %%s is %%s %%v, want F32 %%v", v.name, e.DType, e.Shape, v.shape)
		}
		if e.Offsets[0] < 0 || e.Offsets[1] != e.Offsets[0]+int64(4*len(v.data)) || e.Offsets[1] > int64(len(data)) {
			return fmt.Errorf("%[1]s: LoadSafetensors: %%s: data offsets %%v out of range", v.name, e.Offsets)
		}
		d := make([]float32, len(v.data))
		for i := range d {
			d[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[e.Offsets[0]+int64(4*i):]))
		}
		w[v.name] = d
	}
	return t.SetWeights(w)
}

`, pkg, quoteBytes(tg.spec.SafetensorsHeader), intList(tg.sortedVars()))
}

// optimizerText emits the update of the chosen optimizer (package train's
// optim.go, line for line).
func (tg *trainGen) optimizerText(w func(string, ...any)) {
	if tg.spec.Opt == "sgd" {
		w(`// sgdUpdate is torch.optim.SGD's step on one weight: weight decay, then
// momentum (buf = d on the first step), Nesterov or not.
func sgdUpdate(p, g, buf []float32, lr float32, first bool) {
	wd, mu := float32(trainWeightDecay), float32(trainMomentum)
	for j := range p {
		d := g[j]
		if wd != 0 {
			d += wd * p[j]
		}
		if mu != 0 {
			if first {
				buf[j] = d
			} else {
				buf[j] = mu*buf[j] + d
			}
			if trainNesterov {
				d += mu * buf[j]
			} else {
				d = buf[j]
			}
		}
		p[j] -= lr * d
	}
}
`)
		return
	}
	w(`// adamUpdate is torch.optim.%s's step on one weight, with bias
// corrections bc1 = 1-β1ᵗ and bc2sqrt = √(1-β2ᵗ).
func adamUpdate(p, g, m, v []float32, lr, bc1 float64, bc2sqrt float32) {
	b1, b2 := float32(trainBeta1), float32(trainBeta2)
	wd, eps := float32(trainWeightDecay), float32(trainEps)
	stepSize := float32(lr / bc1)
	for j := range p {
		d := g[j]
		if wd != 0 {
			%s
		}
		m[j] = b1*m[j] + (1-b1)*d
		v[j] = b2*v[j] + (1-b2)*d*d
		denom := float32(math.Sqrt(float64(v[j])))/bc2sqrt + eps
		p[j] -= stepSize * m[j] / denom
	}
}
`, map[bool]string{true: "AdamW", false: "Adam"}[tg.spec.Opt == "adamw"],
		map[bool]string{true: "p[j] *= 1 - float32(lr)*wd // decoupled", false: "d += wd * p[j]"}[tg.spec.Opt == "adamw"])
}

// trainerTest adds trainer_test.go and testdata/trainer.bin: the first
// steps' losses against the reference trainer's, no allocation per Step,
// the safetensors round trip, and Run against Model.Run.
func (gn *gen) trainerTest(tg *trainGen, files map[string][]byte) error {
	s := tg.spec
	if s.TestX == nil || s.TestTarget == nil || len(s.TestLosses) == 0 {
		return fmt.Errorf("codegen: trainer self-test: no recorded steps")
	}
	var bin []byte
	bin = appendTensor(bin, s.TestX)
	bin = appendTensor(bin, s.TestTarget)
	files["testdata/trainer.bin"] = bin
	tol := s.LossTol
	if tol == 0 {
		tol = 1e-3
	}
	var losses []string
	for _, l := range s.TestLosses {
		losses = append(losses, fmt.Sprintf("%v", math.Float32bits(l)))
	}
	xt := elemType(s.TestX.DType)
	var b strings.Builder
	fmt.Fprintf(&b, `%s

package %s

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"testing"
)

// trainTestLosses are the losses (float32 bits) of the first Steps of
// package train's reference trainer on testdata/trainer.bin's minibatch.
var trainTestLosses = [...]uint32{%s}

func loadTrainTest(tb testing.TB) (*[TrainInputSize]%s, *[TrainTargetSize]float32) {
	b, err := os.ReadFile("testdata/trainer.bin")
	if err != nil {
		tb.Fatal(err)
	}
	x, target := new([TrainInputSize]%s), new([TrainTargetSize]float32)
	n, err := binary.Decode(b, binary.LittleEndian, x[:])
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := binary.Decode(b[n:], binary.LittleEndian, target[:]); err != nil {
		tb.Fatal(err)
	}
	return x, target
}

// TestTrainer checks the first Steps' losses against the reference
// trainer's (relative tolerance %g: float32 sums in another order, over
// a whole batch and its gradients), that Step allocates nothing, and
// the safetensors round trip.
func TestTrainer(t *testing.T) {
	x, target := loadTrainTest(t)
	tr := NewTrainer()
	for i, bits := range trainTestLosses {
		want := math.Float32frombits(bits)
		got, err := tr.Step(x, target)
		if err != nil {
			t.Fatal(err)
		}
		if d := math.Abs(float64(got - want)); !(d <= %g*math.Max(1, math.Abs(float64(want)))) {
			t.Errorf("step %%d: loss %%v, the reference trainer %%v", i, got, want)
		}
	}
	if n := testing.AllocsPerRun(3, func() { tr.Step(x, target) }); n != 0 {
		t.Errorf("Step allocates %%v times per call, want 0", n)
	}
	var buf bytes.Buffer
	if err := tr.WriteSafetensors(&buf); err != nil {
		t.Fatal(err)
	}
	back := NewTrainer()
	if err := back.LoadSafetensors(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	want := tr.Weights()
	for name, got := range back.Weights() {
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[name][i]) {
				t.Fatalf("weight %%s[%%d]: read back %%v, wrote %%v", name, i, got[i], want[name][i])
			}
		}
	}
	if err := back.LoadSafetensors(bytes.NewReader(buf.Bytes()[:buf.Len()-1])); err == nil {
		t.Error("LoadSafetensors accepted a truncated file")
	}
}

// BenchmarkTrainerStep times one Step on testdata/trainer.bin's minibatch
// (the learning rate set to 0, so that the weights stay finite however
// long it runs; the work is the same).
func BenchmarkTrainerStep(b *testing.B) {
	x, target := loadTrainTest(b)
	tr := NewTrainer()
	tr.SetLR(0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tr.Step(x, target); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/TrainBatch, "ns/example")
}

// TestTrainerRun checks that a new Trainer's Run, on the weights before
// the passes, gives the Model's outputs.
func TestTrainerRun(t *testing.T) {
	d := loadSelfTest(t)
	var got, want Output
	if err := New().Run(&d.in, &want); err != nil {
		t.Fatal(err)
	}
	if err := NewTrainer().Run(&d.in, &got); err != nil {
		t.Fatal(err)
	}
%s}
`, Header, gn.pkg, strings.Join(losses, ", "), xt, xt, tol, tol, gn.trainRunCompare())
	out, err := goSrc("trainer_test.go", b.String())
	if err != nil {
		return err
	}
	files["trainer_test.go"] = out
	return nil
}

// trainRunCompare compares every float output of TestTrainerRun with a
// tolerance of 1e-4 of the output's largest magnitude: the Model ran
// folded batch norms and another summation order.
func (gn *gen) trainRunCompare() string {
	var b strings.Builder
	for _, a := range gn.outputs() {
		if !a.v.Type.DType.IsFloat() {
			fmt.Fprintf(&b, "if got.%s != want.%s {\nt.Errorf(\"output %s differs\")\n}\n", a.field, a.field, a.name)
			continue
		}
		fmt.Fprintf(&b, "{\nbig := 1.0\nfor _, v := range want.%s {\nbig = math.Max(big, math.Abs(float64(v)))\n}\n", a.field)
		fmt.Fprintf(&b, "for i, v := range want.%s {\nif d := math.Abs(float64(got.%s[i] - v)); !(d <= 1e-4*big) {\nt.Fatalf(\"output %s[%%d]: Trainer.Run %%v, Model.Run %%v\", i, got.%s[i], v)\n}\n}\n}\n", a.field, a.field, a.name, a.field)
	}
	return b.String()
}

package train

import (
	"fmt"

	"github.com/dlcompiler/dlc/codegen"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/passes"
	"github.com/dlcompiler/dlc/weights"
)

// SpecSteps is the number of steps of the reference trainer that a
// Trainer's self-test replays.
const SpecSteps = 3

// Spec makes the Trainer of dlc compile -train (codegen.TrainSpec) for
// model, the graph the package's Model is compiled from: its params must
// have their data (compiler.InitUntrained), which is where the Trainer
// starts. batched is the same model at the training batch size (model
// itself when they agree); its params' data is not used. The training
// and evaluation graphs go through ps. With selfTest, the reference
// trainer (the interpreter) runs SpecSteps steps on random data for the
// package's self-test to replay. Neither graph is changed.
func Spec(model, batched *ir.Graph, cfg Config, ps []passes.Pass, selfTest bool) (*codegen.TrainSpec, error) {
	if len(model.Inputs) != 1 {
		return nil, fmt.Errorf("-train needs a model with one input, %s has %d", model.Name, len(model.Inputs))
	}
	data := map[string]*ir.Tensor{}
	for _, p := range model.Params {
		if p.Data == nil {
			return nil, fmt.Errorf("internal error: param %s has no data", p.Name)
		}
		data[p.Name] = p.Data
	}
	tm := batched.Clone()
	for _, p := range tm.Params {
		d, ok := data[p.Name]
		if !ok {
			return nil, fmt.Errorf("internal error: the batched model has a param %s the model has not", p.Name)
		}
		p.Data = d.Clone()
	}
	t, err := New(tm, cfg)
	if err != nil {
		return nil, err
	}
	spec := &codegen.TrainSpec{Loss: cfg.Loss, Opt: cfg.Opt, LR: cfg.LR, Momentum: cfg.Momentum, WeightDecay: cfg.WeightDecay,
		Beta1: cfg.Beta1, Beta2: cfg.Beta2, Eps: cfg.Eps, ClipNorm: cfg.ClipNorm, Nesterov: cfg.Nesterov, Seed: cfg.Seed}
	if cfg.Loss == "cross_entropy" || cfg.Loss == "nll" {
		spec.Classes = t.target.Type.Shape[1]
	}
	trainable := map[string]bool{}
	for _, p := range t.params {
		trainable[p.Name] = true
	}
	// Eval: the model with every float32 weight an input.
	evalG := model.Clone()
	moved := paramsToInputs(evalG, func(v *ir.Value) bool { return v.Data != nil && v.Data.DType == ir.F32 })
	tensors := map[string]*weights.Tensor{}
	index := map[string]int{}
	for i, v := range moved {
		d := data[v.Name]
		index[v.Name] = i
		spec.Vars = append(spec.Vars, codegen.TrainVar{Name: v.Name, Data: d, Trainable: trainable[v.Name]})
		tensors[v.Name] = d
	}
	for _, p := range t.params {
		if _, ok := index[p.Name]; !ok {
			return nil, fmt.Errorf("internal error: trained param %s is not a float32 weight of the model", p.Name)
		}
	}
	for _, bn := range t.info.BatchNorms {
		spec.BatchNorms = append(spec.BatchNorms, codegen.TrainBN{Mean: index[bn.RunningMean.Name], Var: index[bn.RunningVar.Name], Count: bn.Count})
	}
	// Step: x, target, masks, trainable weights → loss, gradients, batch
	// statistics (the prediction is not needed).
	stepG := t.g.Clone()
	var masks []*ir.Value
	for i, d := range t.info.Dropouts {
		spec.Masks = append(spec.Masks, d.P)
		masks = append(masks, stepG.Inputs[indexOf(t.g.Inputs, d.Mask)])
		_ = i
	}
	stepG.Inputs = append([]*ir.Value{stepG.Inputs[0], stepG.Inputs[indexOf(t.g.Inputs, t.target)]}, masks...)
	stepG.Outputs = append(stepG.Outputs[:1:1], stepG.Outputs[2:]...)
	stepG.OutputNames = append(stepG.OutputNames[:1:1], stepG.OutputNames[2:]...)
	stepG.Prune()
	paramsToInputs(stepG, func(v *ir.Value) bool { return v.Kind == ir.Param && v.Type.DType == ir.F32 })
	for name, g := range map[string]*ir.Graph{"training": stepG, "evaluation": evalG} {
		if err := passes.Run(g, ps, passes.Options{Verify: true}); err != nil {
			return nil, fmt.Errorf("the %s graph: %w", name, err)
		}
	}
	codegen.UseGemmGrads(stepG) // as dlc train's compiled engine (gemmGrads)
	spec.Step, spec.Eval = stepG, evalG
	enc, err := weights.EncodeSafetensors(tensors, map[string]string{"model": model.Name, "trained_by": "dlc compile -train"})
	if err != nil {
		return nil, err
	}
	hl := int(enc[0]) | int(enc[1])<<8 | int(enc[2])<<16 | int(enc[3])<<24
	spec.SafetensorsHeader = enc[:8+hl]
	if selfTest {
		if err := record(t, spec); err != nil {
			return nil, err
		}
	}
	return spec, nil
}

func indexOf(vs []*ir.Value, v *ir.Value) int {
	for i, x := range vs {
		if x == v {
			return i
		}
	}
	panic("train: value not found")
}

// record runs the reference trainer SpecSteps steps on one random
// minibatch (class targets: example i of class i mod C) and records it.
func record(t *Trainer, spec *codegen.TrainSpec) error {
	x := codegen.RandomInputs(t.model, 7)[0]
	target := ir.NewTensor(ir.F32, t.target.Type.Shape)
	if spec.Classes > 0 {
		for i := range target.Type().Shape[0] {
			target.F32()[i*spec.Classes+i%spec.Classes] = 1
		}
	} else {
		r := codegen.RandomInputs(t.g, 8)
		target = r[indexOf(t.g.Inputs, t.target)]
		if spec.Loss == "bce" {
			for i, v := range target.F32() {
				target.F32()[i] = float32(max(0, min(1, (v+1)/2)))
			}
		}
	}
	spec.TestX, spec.TestTarget = x, target
	for range SpecSteps {
		loss, _, err := t.StepBatch(x, target, t.cfg.LR)
		if err != nil {
			return fmt.Errorf("recording the trainer's self-test: %w", err)
		}
		spec.TestLosses = append(spec.TestLosses, loss)
	}
	return nil
}

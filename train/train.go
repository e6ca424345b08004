// Package train trains a dlc model: it rewrites the model's graph for
// training (passes/autodiff.TrainMode), appends a loss and the backward
// graph (autodiff.Backward), and runs that graph step by step, on the
// reference interpreter or compiled to Go (UseCompiled), updating the
// params with an optimizer of torch.optim. Given a seed, a run is
// reproducible bit for bit: both engines are deterministic, shuffling and
// dropout masks come from generators seeded by (seed, epoch) and (seed,
// step), and a checkpoint holds the whole optimizer state.
package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/passes/autodiff"
	"github.com/dlcompiler/dlc/runtime"
)

// Config holds the training hyper-parameters.
type Config struct {
	Loss           string    // cross_entropy, nll, bce, mse
	LabelSmoothing float64   // cross_entropy: ε
	ClassWeights   []float32 // cross_entropy, nll: one per class, nil for 1
	Opt            string    // sgd, adam, adamw
	LR             float64
	Momentum       float64 // sgd
	Nesterov       bool    // sgd
	WeightDecay    float64
	Beta1, Beta2   float64 // adam
	Eps            float64 // adam
	Schedule       string  // "", step, cosine
	StepSize       int     // step: epochs between decays
	Gamma          float64 // step: decay factor
	Warmup         int     // steps of linear warm-up
	ClipNorm       float64 // clip the global gradient norm to this (0: no clipping)
	Seed           uint64
}

// Defaults returns torch's defaults: cross-entropy, Adam with lr 1e-3,
// β (0.9, 0.999), eps 1e-8.
func Defaults() Config {
	return Config{Loss: "cross_entropy", Opt: "adam", LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, Gamma: 0.1, Seed: 1}
}

// Trainer runs training steps on a model at a fixed batch size.
type Trainer struct {
	cfg    Config
	model  *ir.Graph // the model for inference (evaluation), sharing param data
	g      *ir.Graph // the training graph
	info   *autodiff.TrainInfo
	params []*ir.Value // trainable params, in the training graph
	target *ir.Value
	opt    *optimizer
	engine engine
	// Step counts the optimizer steps taken.
	Step int
	// GradNorm is the global gradient norm of the last step, before
	// clipping.
	GradNorm float64
	// LayerNorms are the gradient norms of the last step by param name.
	LayerNorms map[string]float64
}

// New prepares training of model, whose one input is the batch and whose
// first output is the prediction; params without data get torch's
// initializers (InitTorch, seeded by cfg.Seed). model is not changed,
// except that its params' data is trained in place.
func New(model *ir.Graph, cfg Config) (*Trainer, error) {
	if len(model.Inputs) != 1 || len(model.Outputs) < 1 {
		return nil, fmt.Errorf("training needs a model with one input and an output, %s has %d inputs", model.Name, len(model.Inputs))
	}
	if !losses[cfg.Loss] {
		return nil, fmt.Errorf("unknown loss %q (have bce, cross_entropy, mse, nll)", cfg.Loss)
	}
	for _, p := range model.Params {
		if p.Data == nil {
			if err := InitTorch(model, cfg.Seed); err != nil {
				return nil, err
			}
			break
		}
	}
	if err := runtime.InitParams(model, cfg.Seed); err != nil { // any left: declared initializers
		return nil, err
	}
	t := &Trainer{cfg: cfg, model: model, g: model.Clone()}
	t.engine = interpEngine{t}
	if err := t.build(); err != nil {
		return nil, err
	}
	sizes := make([]int, len(t.params))
	for i, p := range t.params {
		sizes[i] = p.Type.Shape.NumElems()
	}
	var err error
	t.opt, err = newOptimizer(&t.cfg, sizes)
	return t, err
}

// build turns t.g into the training graph: train mode, the loss on the
// first output (on the logits before a final softmax), the gradients of
// every param, and outputs loss, prediction, gradients, batch statistics.
func (t *Trainer) build() error {
	g := t.g
	out := g.Outputs[0]
	info, err := autodiff.TrainMode(g)
	if err != nil {
		return err
	}
	t.info = info
	out = g.Outputs[0]
	if out.Def != nil && out.Def.Op == "softmax" && (t.cfg.Loss == "cross_entropy") {
		out = out.Def.Inputs[0] // cross-entropy takes the logits
	}
	loss, target, err := addLoss(g, out, &t.cfg)
	if err != nil {
		return err
	}
	t.target = target
	for _, p := range g.Params {
		if p.Kind == ir.Param && p.Type.DType == ir.F32 {
			t.params = append(t.params, p)
		}
	}
	grads, err := autodiff.Backward(g, loss, t.params)
	if err != nil {
		return err
	}
	g.Outputs, g.OutputNames = nil, nil
	g.AddOutput("loss", loss)
	g.AddOutput("prediction", out)
	for i, gv := range grads {
		g.AddOutput("grad_"+t.params[i].Name, gv)
	}
	for _, bn := range info.BatchNorms {
		g.AddOutput(bn.Layer+"_mean", bn.BatchMean)
		g.AddOutput(bn.Layer+"_var", bn.BatchVar)
	}
	g.Prune()
	return ir.Verify(g)
}

// Batch is the batch size the trainer was built for.
func (t *Trainer) Batch() int { return t.model.Inputs[0].Type.Shape[0] }

// StepBatch runs one training step on x (the model's input) and target
// (one-hot class rows for the class losses, else of the prediction's
// shape), updates the params with the learning rate lr and returns the
// loss and the prediction.
func (t *Trainer) StepBatch(x, target *ir.Tensor, lr float64) (float32, *ir.Tensor, error) {
	ins := []*ir.Tensor{x, target}
	r := rand.New(rand.NewPCG(t.cfg.Seed, 0x64726f70^uint64(t.Step)))
	for _, d := range t.info.Dropouts {
		m := ir.NewTensor(ir.F32, d.Mask.Type.Shape)
		keep := float32(1 / (1 - d.P))
		for i := range m.F32() {
			if r.Float64() >= d.P {
				m.F32()[i] = keep
			}
		}
		ins = append(ins, m)
	}
	outs, err := t.engine.step(t.order(ins))
	if err != nil {
		return 0, nil, err
	}
	loss := outs[0].F32()[0]
	if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) {
		return loss, outs[1], fmt.Errorf("step %d: the loss is %v", t.Step, loss)
	}
	ps := make([][]float32, len(t.params))
	gs := make([][]float32, len(t.params))
	t.LayerNorms = map[string]float64{}
	for i, p := range t.params {
		ps[i], gs[i] = p.Data.F32(), outs[2+i].F32()
		t.LayerNorms[p.Name] = clipNorm(gs[i:i+1], 0)
	}
	t.GradNorm = clipNorm(gs, t.cfg.ClipNorm)
	t.opt.step(ps, gs, lr)
	t.updateRunning(outs[2+len(t.params):])
	t.Step++
	return loss, outs[1], nil
}

// order puts the step's tensors in the training graph's input order
// (the model's input, the target, then the dropout masks).
func (t *Trainer) order(ins []*ir.Tensor) []*ir.Tensor {
	byValue := map[*ir.Value]*ir.Tensor{t.g.Inputs[0]: ins[0], t.target: ins[1]}
	for i, d := range t.info.Dropouts {
		byValue[d.Mask] = ins[2+i]
	}
	out := make([]*ir.Tensor, len(t.g.Inputs))
	for i, v := range t.g.Inputs {
		out[i] = byValue[v]
	}
	return out
}

// updateRunning folds the batch statistics into the running ones with
// torch's momentum 0.1 and its unbiased variance n/(n-1)·σ².
func (t *Trainer) updateRunning(stats []*ir.Tensor) {
	const m = 0.1
	for i, bn := range t.info.BatchNorms {
		mean, vr := stats[2*i].F32(), stats[2*i+1].F32()
		rm, rv := bn.RunningMean.Data.F32(), bn.RunningVar.Data.F32()
		unbias := float32(bn.Count) / float32(max(bn.Count-1, 1))
		for c := range rm {
			rm[c] = (1-m)*rm[c] + m*mean[c]
			rv[c] = (1-m)*rv[c] + m*vr[c]*unbias
		}
	}
}

// Predict runs the model (inference mode) on one batch.
func (t *Trainer) Predict(x *ir.Tensor) (*ir.Tensor, error) {
	return t.engine.eval(x)
}

// Params returns the model's params and constants (trained weights and
// batch-norm running statistics), in declaration order.
func (t *Trainer) Params() []*ir.Value { return t.model.Params }

// LR is the learning rate of the next step, of total steps with
// stepsPerEpoch steps an epoch.
func (t *Trainer) LR(total, stepsPerEpoch int) float64 {
	return lrAt(&t.cfg, t.Step, total, stepsPerEpoch)
}

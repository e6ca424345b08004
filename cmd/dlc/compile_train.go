package main

import (
	"flag"
	"fmt"

	"github.com/dlcompiler/dlc/codegen"
	"github.com/dlcompiler/dlc/compiler"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/passes"
	"github.com/dlcompiler/dlc/train"
)

// trainCompileFlags are dlc compile's -train flags: the compiled training
// step (a Trainer in the package). The loss and optimizer flags mean what
// dlc train's do; the learning rate is the Trainer's initial one (SetLR
// changes it at run time), everything else is fixed at compile time.
type trainCompileFlags struct {
	on    bool
	batch int
	cfg   train.Config
}

func registerTrainCompile(fs *flag.FlagSet) *trainCompileFlags {
	f := &trainCompileFlags{cfg: train.Defaults()}
	c := &f.cfg
	fs.BoolVar(&f.on, "train", false, "add a Trainer: Step(x, target) runs a compiled training step (forward, backward, optimizer) allocating nothing; Weights/SetWeights, WriteSafetensors")
	fs.IntVar(&f.batch, "train-batch", 0, "-train: examples per Step (a .dl model's batch constant; default: the model's batch)")
	fs.StringVar(&c.Loss, "train-loss", c.Loss, "-train: cross_entropy, nll, bce or mse (as dlc train --loss)")
	fs.Float64Var(&c.LabelSmoothing, "train-label-smoothing", 0, "-train: cross_entropy label smoothing")
	fs.StringVar(&c.Opt, "train-opt", c.Opt, "-train: optimizer sgd, adam or adamw (torch.optim's rules)")
	fs.Float64Var(&c.LR, "train-lr", c.LR, "-train: initial learning rate (the Trainer's SetLR changes it)")
	fs.Float64Var(&c.Momentum, "train-momentum", 0, "-train: sgd momentum")
	fs.BoolVar(&c.Nesterov, "train-nesterov", false, "-train: sgd Nesterov momentum")
	fs.Float64Var(&c.WeightDecay, "train-wd", 0, "-train: weight decay (L2 for sgd and adam, decoupled for adamw)")
	fs.Float64Var(&c.Beta1, "train-beta1", c.Beta1, "-train: adam β1")
	fs.Float64Var(&c.Beta2, "train-beta2", c.Beta2, "-train: adam β2")
	fs.Float64Var(&c.Eps, "train-eps", c.Eps, "-train: adam ε")
	fs.Float64Var(&c.ClipNorm, "train-clip", 0, "-train: clip the global gradient norm to this value (0: off)")
	fs.Uint64Var(&c.Seed, "train-seed", 1, "-train: seed of the dropout masks")
	return f
}

// spec builds the Trainer's spec for g (nil without -train). The params
// get their data now (as Compile would give it), so that the Trainer
// starts from the Model's weights.
func (f *trainCompileFlags) spec(path string, g *ir.Graph, mf *modelFlags, ps []passes.Pass, selfTest bool) (*codegen.TrainSpec, error) {
	if !f.on {
		return nil, nil
	}
	if len(g.Inputs) != 1 {
		return nil, &usageError{fmt.Sprintf("-train needs a model with one input (the minibatch), %s has %d", path, len(g.Inputs))}
	}
	if _, err := compiler.InitUntrained(g); err != nil {
		return nil, err
	}
	batched := g
	if f.batch > 0 && f.batch != g.Inputs[0].Type.Shape[0] {
		set := map[string]int{}
		for k, v := range mf.set {
			set[k] = v
		}
		set["batch"] = f.batch
		var err error
		if batched, err = compiler.Load(path, compiler.LoadOptions{Set: set, NoWeights: true}); err != nil {
			return nil, fmt.Errorf("-train-batch %d: %w", f.batch, err)
		}
		if batched.Inputs[0].Type.Shape[0] != f.batch {
			return nil, &usageError{fmt.Sprintf("-train-batch %d: the model's input is still %v: a .dl model sets its batch with `const batch`", f.batch, batched.Inputs[0].Type)}
		}
	}
	spec, err := train.Spec(g, batched, f.cfg, ps, selfTest)
	if err != nil {
		return nil, fmt.Errorf("%s: -train: %w", path, err)
	}
	return spec, nil
}

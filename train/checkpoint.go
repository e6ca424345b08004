package train

import (
	"fmt"
	"strconv"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/weights"
)

// Weights returns the model's params and constants by name (trained
// weights and batch-norm running statistics): what a .dl model's
// weights file holds.
func (t *Trainer) Weights() map[string]*ir.Tensor {
	m := map[string]*ir.Tensor{}
	for _, p := range t.model.Params {
		if p.Data != nil && !p.Data.DType.IsInt() {
			m[p.Name] = p.Data
		}
	}
	return m
}

// Checkpoint encodes the training state after epoch (from 1): the
// weights, the optimizer's state and step counts, as safetensors.
// Restoring it and training on continues bit for bit.
func (t *Trainer) Checkpoint(epoch int) ([]byte, error) {
	m := t.Weights()
	for i, s := range t.opt.state {
		if len(s) > 0 {
			m["optimizer."+strconv.Itoa(i)] = ir.FromF32(ir.Shape{len(s)}, s)
		}
	}
	md := map[string]string{
		"format": "dlc-train-checkpoint-1", "epoch": strconv.Itoa(epoch), "step": strconv.Itoa(t.Step),
		"opt_steps": strconv.Itoa(t.opt.t), "opt": t.cfg.Opt, "params": strconv.Itoa(len(t.opt.state)),
	}
	return weights.EncodeSafetensors(m, md)
}

// Restore loads a checkpoint written by Checkpoint for the same model and
// optimizer and returns the epoch it was written after.
func (t *Trainer) Restore(data []byte, name string) (int, error) {
	f, err := weights.ParseSafetensors(data, name)
	if err != nil {
		return 0, err
	}
	md := f.Metadata
	if md["format"] != "dlc-train-checkpoint-1" {
		return 0, fmt.Errorf("%s is not a dlc train checkpoint", name)
	}
	if md["opt"] != t.cfg.Opt || md["params"] != strconv.Itoa(len(t.opt.state)) {
		return 0, fmt.Errorf("%s was written with optimizer %s over %s params, this run has %s over %d", name, md["opt"], md["params"], t.cfg.Opt, len(t.opt.state))
	}
	for name2, dst := range t.Weights() {
		src := f.Tensors[name2]
		if src == nil || !src.Type().Equal(dst.Type()) {
			return 0, fmt.Errorf("%s: %s is missing or not %v", name, name2, dst.Type())
		}
		copy(dst.F32(), src.F32())
	}
	for i, s := range t.opt.state {
		if len(s) == 0 {
			continue
		}
		src := f.Tensors["optimizer."+strconv.Itoa(i)]
		if src == nil || src.Len() != len(s) || src.DType != ir.F32 {
			return 0, fmt.Errorf("%s: optimizer state %d is missing or the wrong size", name, i)
		}
		copy(s, src.F32())
	}
	epoch, err1 := strconv.Atoi(md["epoch"])
	step, err2 := strconv.Atoi(md["step"])
	ot, err3 := strconv.Atoi(md["opt_steps"])
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, fmt.Errorf("%s: bad epoch or step counts in the metadata", name)
	}
	t.Step, t.opt.t = step, ot
	return epoch, nil
}

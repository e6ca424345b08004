package train

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// Losses are built from ordinary ops at the end of the training graph, so
// their gradients come from the op rules like the model's:
//
//	cross_entropy  softmax cross-entropy of logits [B, C] against class
//	               labels (torch.nn.CrossEntropyLoss: label smoothing ε
//	               spreads ε/C over every class, class weights w scale each
//	               row's terms by w and the mean divides by Σ w[label])
//	nll            the same for log-probabilities (torch.nn.NLLLoss)
//	bce            binary cross-entropy with logits against targets in
//	               [0, 1] of the logits' shape, mean over elements
//	               (torch.nn.BCEWithLogitsLoss), in the stable form
//	               relu(z) - z·t + log(1 + exp(-|z|))
//	mse            mean squared error against targets of the logits' shape
//
// The class losses take the labels as a one-hot f32 input [B, C] that
// the loop fills (Trainer.Step), so the graph needs no integer compare.
var losses = map[string]bool{"cross_entropy": true, "nll": true, "bce": true, "mse": true}

// lossGraph adds the loss of out to g and returns it with the target
// input.
type lossBuilder struct {
	g   *ir.Graph
	k   int
	err error
}

func (b *lossBuilder) op(op string, a ir.Attrs, ins ...*ir.Value) *ir.Value {
	if b.err != nil {
		return nil
	}
	b.k++
	n, err := b.g.AddNode(op, fmt.Sprintf("loss_%d", b.k), ins, a, ir.Pos{})
	if err != nil {
		b.err = fmt.Errorf("loss: %s: %w", op, err)
		return nil
	}
	return n.Out()
}

func (b *lossBuilder) konst(t *ir.Tensor) *ir.Value {
	b.k++
	return b.g.AddParam(fmt.Sprintf("loss_c%d", b.k), ir.Const, t.Type(), t, "", ir.Pos{})
}

func (b *lossBuilder) scalar(v float32) *ir.Value {
	return b.konst(ir.FromF32(ir.Shape{}, []float32{v}))
}

// addLoss adds the loss named by cfg to g on out (the model's output) and
// returns the loss value and the target input.
func addLoss(g *ir.Graph, out *ir.Value, cfg *Config) (loss, target *ir.Value, err error) {
	b := &lossBuilder{g: g}
	s := out.Type.Shape
	target = g.AddInput("target", out.Type, ir.Pos{})
	switch cfg.Loss {
	case "cross_entropy", "nll":
		if len(s) != 2 {
			return nil, nil, fmt.Errorf("loss %s wants the model's output as [batch, classes], got %v", cfg.Loss, s)
		}
		C := s[1]
		logp := out
		if cfg.Loss == "cross_entropy" {
			logp = b.op("log_softmax", ir.Attrs{"axis": 1}, out)
		}
		w := ir.NewTensor(ir.F32, ir.Shape{C})
		for i := range C {
			w.F32()[i] = 1
			if cfg.ClassWeights != nil {
				w.F32()[i] = cfg.ClassWeights[i]
			}
		}
		if cfg.ClassWeights != nil && len(cfg.ClassWeights) != C {
			return nil, nil, fmt.Errorf("%d class weights for %d classes", len(cfg.ClassWeights), C)
		}
		wv := b.konst(w)
		eps := float32(cfg.LabelSmoothing)
		// T = (1-ε)·onehot·w + (ε/C)·w; loss = -Σ T·logp / Σ onehot·w
		tw := b.op("mul", nil, target, wv)
		t := b.op("add", nil, b.op("mul", nil, tw, b.scalar(1-eps)), b.op("mul", nil, wv, b.scalar(eps/float32(C))))
		num := b.op("reduce_sum", nil, b.op("mul", nil, t, logp))
		den := b.op("reduce_sum", nil, tw)
		loss = b.op("neg", nil, b.op("div", nil, num, den))
	case "bce":
		relu := b.op("relu", nil, out)
		soft := b.op("log", nil, b.op("add", nil, b.op("exp", nil, b.op("neg", nil, b.op("abs", nil, out))), b.scalar(1)))
		loss = b.op("reduce_mean", nil, b.op("add", nil, b.op("sub", nil, relu, b.op("mul", nil, out, target)), soft))
	case "mse":
		d := b.op("sub", nil, out, target)
		loss = b.op("reduce_mean", nil, b.op("mul", nil, d, d))
	default:
		return nil, nil, fmt.Errorf("unknown loss %q (have bce, cross_entropy, mse, nll)", cfg.Loss)
	}
	return loss, target, b.err
}

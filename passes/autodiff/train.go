package autodiff

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// TrainInfo is what TrainMode changed: the batch statistics a training
// loop folds into the running ones, and the mask inputs it fills.
type TrainInfo struct {
	BatchNorms []BatchNormStats
	Dropouts   []DropoutMask
}

// BatchNormStats names a batchnorm's running statistics (Const values of
// the graph) and the values of its batch mean and biased batch variance
// [1, C, 1...]; Count is the number of elements per channel in a batch.
type BatchNormStats struct {
	Layer                   string
	RunningMean, RunningVar *ir.Value
	BatchMean, BatchVar     *ir.Value
	Count                   int
}

// DropoutMask is a dropout layer's mask: a graph input of x's shape the
// training loop fills with 0 or 1/(1-P), drawn with P the probability of 0.
type DropoutMask struct {
	Layer string
	Mask  *ir.Value
	P     float64
}

// TrainMode rewrites g for training, in place, and marks it Training:
//
//	batchnorm  normalizes with the batch's mean and biased variance over
//	           every axis but 1 (torch.nn.BatchNorm in train()), so the
//	           gradient flows through the statistics;
//	dropout    multiplies by a mask input (see DropoutMask).
//
// Every other node is kept as it is.
func TrainMode(g *ir.Graph) (*TrainInfo, error) {
	info := &TrainInfo{}
	old := g.Nodes
	g.Nodes = nil
	g.Training = true
	repl := map[*ir.Value]*ir.Value{}
	for _, n := range old {
		for i, in := range n.Inputs {
			if r, ok := repl[in]; ok && in != nil {
				n.Inputs[i] = r
			}
		}
		switch n.Op {
		case "batchnorm":
			s, err := trainBatchNorm(g, n)
			if err != nil {
				return nil, err
			}
			repl[n.Out()] = s.y
			info.BatchNorms = append(info.BatchNorms, s.BatchNormStats)
		case "dropout":
			x := n.Inputs[0]
			mask := g.AddInput(n.Name+"_mask", x.Type, n.Pos)
			b := newBuilder(g, n)
			y := b.mul(x, mask)
			if b.err != nil {
				return nil, b.err
			}
			repl[n.Out()] = y
			info.Dropouts = append(info.Dropouts, DropoutMask{Layer: n.Name, Mask: mask, P: n.Attrs.Float("p")})
		default:
			g.Nodes = append(g.Nodes, n)
		}
	}
	for i, o := range g.Outputs {
		if r, ok := repl[o]; ok {
			g.Outputs[i] = r
		}
	}
	return info, nil
}

type bnTrain struct {
	BatchNormStats
	y *ir.Value
}

// trainBatchNorm adds y = (x - μ)/√(σ² + ε)·scale + bias with μ and σ²
// the batch's.
func trainBatchNorm(g *ir.Graph, n *ir.Node) (*bnTrain, error) {
	x, scale, bias := n.Inputs[0], n.Inputs[1], n.Inputs[2]
	if len(x.Type.Shape) < 2 {
		return nil, fmt.Errorf("%s: batchnorm %s: input %v has no channel axis", n.Pos, n.Name, x.Type)
	}
	b := newBuilder(g, n)
	axes := chanAxes(x.Type.Shape)
	red := ir.Attrs{"axes": axes, "keepdims": true}
	mu := b.op("reduce_mean", red, x)
	xc := b.sub(x, mu)
	vr := b.op("reduce_mean", red, b.mul(xc, xc))
	inv := b.unary("reciprocal", b.unary("sqrt", b.sadd(vr, n.Attrs.Float("epsilon"))))
	ch := chanShape(x.Type.Shape)
	y := b.add(b.mul(b.mul(xc, inv), b.reshape(scale, ch)), b.reshape(bias, ch))
	if b.err != nil {
		return nil, b.err
	}
	return &bnTrain{BatchNormStats: BatchNormStats{Layer: n.Name, RunningMean: n.Inputs[3], RunningVar: n.Inputs[4],
		BatchMean: mu, BatchVar: vr, Count: x.Type.Shape.NumElems() / x.Type.Shape[1]}, y: y}, nil
}

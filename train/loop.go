package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/dlcompiler/dlc/ir"
)

// Progress is reported during an epoch, after every step.
type Progress struct {
	Epoch, Epochs int     // from 1
	Seen, Total   int     // examples of this epoch
	Loss          float64 // mean loss of the epoch so far
	Acc           float64 // accuracy of the epoch so far (class losses), else NaN
	PerSec        float64 // examples per second
	ETA           time.Duration
}

// EpochStats summarizes an epoch.
type EpochStats struct {
	Epoch             int
	Loss, Acc         float64
	TestLoss, TestAcc float64
	Seconds           float64 // wall time of the training steps
	CPUSeconds        float64 // their CPU time (see cpuSeconds)
	ExamplesPerSec    float64
	LR                float64
	// GradNorms are the params' gradient norms (L2, before clipping)
	// averaged over the epoch's steps, by param name.
	GradNorms map[string]float64
}

// Epoch trains one epoch (epoch counts from 1) over ds in the order of a
// permutation drawn from (seed, epoch); the last partial batch is left
// out, as torch's DataLoader with drop_last. report, when set, sees the
// progress after every step.
func (t *Trainer) Epoch(ds *Dataset, epoch, epochs int, report func(Progress)) (EpochStats, error) {
	B := t.Batch()
	steps := ds.Len() / B
	if steps == 0 {
		return EpochStats{}, fmt.Errorf("%s has %d examples, fewer than one batch of %d", ds.Name, ds.Len(), B)
	}
	perm := rand.New(rand.NewPCG(t.cfg.Seed, uint64(epoch))).Perm(ds.Len())
	x := ir.NewTensor(ir.F32, t.model.Inputs[0].Type.Shape)
	tgt := ir.NewTensor(ir.F32, t.target.Type.Shape)
	start, cpu0 := time.Now(), t.cpuSeconds()
	var sumLoss float64
	correct := 0
	st := EpochStats{Epoch: epoch, LR: t.LR(steps*epochs, steps), GradNorms: map[string]float64{}}
	for s := range steps {
		idx := perm[s*B : (s+1)*B]
		if err := ds.fill(x, tgt, idx, t.classLoss()); err != nil {
			return st, err
		}
		lr := t.LR(steps*epochs, steps)
		loss, pred, err := t.StepBatch(x, tgt, lr)
		if err != nil {
			return st, fmt.Errorf("epoch %d: %w", epoch, err)
		}
		sumLoss += float64(loss)
		for name, n := range t.LayerNorms {
			st.GradNorms[name] += n / float64(steps)
		}
		if t.classLoss() {
			correct += countCorrect(pred, ds.Labels, idx)
		}
		if report != nil {
			el := time.Since(start).Seconds()
			seen := (s + 1) * B
			p := Progress{Epoch: epoch, Epochs: epochs, Seen: seen, Total: steps * B, Loss: sumLoss / float64(s+1),
				Acc: math.NaN(), PerSec: float64(seen) / el}
			if t.classLoss() {
				p.Acc = float64(correct) / float64(seen)
			}
			p.ETA = time.Duration(float64(steps*B-seen) / p.PerSec * float64(time.Second))
			report(p)
		}
	}
	st.Seconds = time.Since(start).Seconds()
	st.CPUSeconds = t.cpuSeconds() - cpu0
	st.Loss = sumLoss / float64(steps)
	st.Acc = math.NaN()
	if t.classLoss() {
		st.Acc = float64(correct) / float64(steps*B)
	}
	st.ExamplesPerSec = float64(steps*B) / st.Seconds
	return st, nil
}

func (t *Trainer) classLoss() bool { return t.cfg.Loss == "cross_entropy" || t.cfg.Loss == "nll" }

// fill copies the examples idx into x and their targets into tgt (one-hot
// rows for a class loss).
func (d *Dataset) fill(x, tgt *ir.Tensor, idx []int, class bool) error {
	E := d.Shape.NumElems()
	if x.Len() != len(idx)*E {
		return fmt.Errorf("%s: examples are %v, the model's input is %v", d.Name, d.Shape, x.Shape)
	}
	xs, ts := x.F32(), tgt.F32()
	clear(ts)
	T := len(ts) / len(idx)
	for i, j := range idx {
		copy(xs[i*E:(i+1)*E], d.X[j*E:(j+1)*E])
		switch {
		case class:
			l := int(d.Labels[j])
			if l < 0 || l >= T {
				return fmt.Errorf("%s: label %d of example %d is out of the model's %d classes", d.Name, l, j, T)
			}
			ts[i*T+l] = 1
		case d.Targets != nil:
			copy(ts[i*T:(i+1)*T], d.Targets[j*T:(j+1)*T])
		default:
			return fmt.Errorf("%s has no float targets for loss %s", d.Name, "bce/mse")
		}
	}
	return nil
}

// countCorrect counts the rows of pred whose arg max is the label.
func countCorrect(pred *ir.Tensor, labels []int64, idx []int) int {
	C := pred.Shape[len(pred.Shape)-1]
	p := pred.F32()
	n := 0
	for i, j := range idx {
		if argmax(p[i*C:(i+1)*C]) == int(labels[j]) {
			n++
		}
	}
	return n
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// Evaluate runs the model in inference mode over every example of ds
// (the last batch padded with zeros) and returns the mean cross-entropy
// and the accuracy for a class loss, else the mean loss and NaN.
func (t *Trainer) Evaluate(ds *Dataset) (loss, acc float64, err error) {
	B := t.Batch()
	x := ir.NewTensor(ir.F32, t.model.Inputs[0].Type.Shape)
	tgt := ir.NewTensor(ir.F32, t.target.Type.Shape)
	correct := 0
	var sum float64
	for s := 0; s < ds.Len(); s += B {
		n := min(B, ds.Len()-s)
		idx := make([]int, B)
		for i := range idx {
			idx[i] = s + min(i, n-1) // pad with the last example; only n count
		}
		if err := ds.fill(x, tgt, idx, t.classLoss()); err != nil {
			return 0, 0, err
		}
		pred, err := t.Predict(x)
		if err != nil {
			return 0, 0, err
		}
		sum += exampleLoss(t.cfg.Loss, pred, tgt, n)
		if t.classLoss() {
			correct += countCorrect(pred, ds.Labels, idx[:n])
		}
	}
	acc = math.NaN()
	if t.classLoss() {
		acc = float64(correct) / float64(ds.Len())
	}
	return sum / float64(ds.Len()), acc, nil
}

// exampleLoss is the summed loss of the first n rows of pred, in float64:
// cross-entropy (no smoothing or weights) for cross_entropy, -logp for
// nll, the per-row mean for bce and mse.
func exampleLoss(kind string, pred, tgt *ir.Tensor, n int) float64 {
	C := pred.Shape.NumElems() / pred.Shape[0]
	p, t := pred.F32(), tgt.F32()
	var s float64
	for i := range n {
		row, tr := p[i*C:(i+1)*C], t[i*C:(i+1)*C]
		switch kind {
		case "cross_entropy":
			m := float64(row[argmax(row)])
			var z float64
			for _, v := range row {
				z += math.Exp(float64(v) - m)
			}
			s += m + math.Log(z) - float64(row[argmax(tr)])
		case "nll":
			s -= float64(row[argmax(tr)])
		default:
			var r float64
			for j, z := range row {
				zt := float64(tr[j])
				if kind == "mse" {
					r += (float64(z) - zt) * (float64(z) - zt)
				} else {
					r += math.Max(float64(z), 0) - float64(z)*zt + math.Log1p(math.Exp(-math.Abs(float64(z))))
				}
			}
			s += r / float64(C)
		}
	}
	return s
}

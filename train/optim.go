package train

import (
	"fmt"
	"math"
)

// The optimizers and schedules follow torch.optim (1.13) step for step,
// in float32 as torch keeps its state, so that the same gradients give
// the same weights:
//
//	sgd    g += wd·p; with momentum μ: buf = g on the first step, then
//	       μ·buf + g; g = g + μ·buf (Nesterov) or buf; p -= lr·g
//	adam   g += wd·p; m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²;
//	       p -= lr/(1-β1ᵗ) · m / (√v/√(1-β2ᵗ) + eps)
//	adamw  adam with decoupled decay: p *= 1 - lr·wd first, g unchanged

// optimizer updates params from their gradients, keeping per-param state.
type optimizer struct {
	kind  string
	cfg   *Config
	state [][]float32 // per param: sgd momentum buffer; adam m then v
	t     int         // steps taken
}

func newOptimizer(cfg *Config, sizes []int) (*optimizer, error) {
	o := &optimizer{kind: cfg.Opt, cfg: cfg}
	per := 0
	switch cfg.Opt {
	case "sgd":
		if cfg.Momentum != 0 {
			per = 1
		}
		if cfg.Nesterov && cfg.Momentum == 0 {
			return nil, fmt.Errorf("Nesterov momentum needs a momentum")
		}
	case "adam", "adamw":
		per = 2
	default:
		return nil, fmt.Errorf("unknown optimizer %q (have adam, adamw, sgd)", cfg.Opt)
	}
	for _, n := range sizes {
		o.state = append(o.state, make([]float32, per*n))
	}
	return o, nil
}

// step applies one update with learning rate lr to every param.
func (o *optimizer) step(params, grads [][]float32, lr float64) {
	o.t++
	for i, p := range params {
		switch o.kind {
		case "sgd":
			o.sgd(p, grads[i], o.state[i], float32(lr))
		default:
			o.adam(p, grads[i], o.state[i], lr)
		}
	}
}

func (o *optimizer) sgd(p, g, buf []float32, lr float32) {
	wd, mu := float32(o.cfg.WeightDecay), float32(o.cfg.Momentum)
	for j := range p {
		d := g[j]
		if wd != 0 {
			d += wd * p[j]
		}
		if mu != 0 {
			if o.t == 1 {
				buf[j] = d
			} else {
				buf[j] = mu*buf[j] + d
			}
			if o.cfg.Nesterov {
				d += mu * buf[j]
			} else {
				d = buf[j]
			}
		}
		p[j] -= lr * d
	}
}

func (o *optimizer) adam(p, g, st []float32, lr float64) {
	n := len(p)
	m, v := st[:n], st[n:]
	b1, b2 := float32(o.cfg.Beta1), float32(o.cfg.Beta2)
	wd, eps := float32(o.cfg.WeightDecay), float32(o.cfg.Eps)
	bc1 := 1 - math.Pow(o.cfg.Beta1, float64(o.t))
	bc2sqrt := float32(math.Sqrt(1 - math.Pow(o.cfg.Beta2, float64(o.t))))
	stepSize := float32(lr / bc1)
	decoupled := o.kind == "adamw"
	for j := range p {
		d := g[j]
		if wd != 0 {
			if decoupled {
				p[j] *= 1 - float32(lr)*wd
			} else {
				d += wd * p[j]
			}
		}
		m[j] = b1*m[j] + (1-b1)*d
		v[j] = b2*v[j] + (1-b2)*d*d
		denom := float32(math.Sqrt(float64(v[j])))/bc2sqrt + eps
		p[j] -= stepSize * m[j] / denom
	}
}

// lrAt is the learning rate of step t (from 0) of total, with linear
// warm-up over the first Warmup steps, then the schedule:
//
//	""      constant
//	step    × Gamma every StepSize epochs (torch StepLR, stepped per epoch)
//	cosine  from LR down to 0 over the steps after warm-up (CosineAnnealingLR)
func lrAt(cfg *Config, t, total, stepsPerEpoch int) float64 {
	lr := cfg.LR
	if cfg.Warmup > 0 && t < cfg.Warmup {
		return lr * float64(t+1) / float64(cfg.Warmup)
	}
	switch cfg.Schedule {
	case "step":
		if cfg.StepSize > 0 && stepsPerEpoch > 0 {
			lr *= math.Pow(cfg.Gamma, float64(t/stepsPerEpoch/cfg.StepSize))
		}
	case "cosine":
		span := total - cfg.Warmup
		if span > 0 {
			lr *= (1 + math.Cos(math.Pi*float64(t-cfg.Warmup)/float64(span))) / 2
		}
	}
	return lr
}

// clipNorm scales every gradient by max/(norm + 1e-6) when their global
// L2 norm exceeds max (torch.nn.utils.clip_grad_norm_), and returns the
// norm before clipping.
func clipNorm(grads [][]float32, max float64) float64 {
	var s float64
	for _, g := range grads {
		for _, v := range g {
			s += float64(v) * float64(v)
		}
	}
	norm := math.Sqrt(s)
	if max > 0 && norm > max {
		c := float32(max / (norm + 1e-6))
		for _, g := range grads {
			for j := range g {
				g[j] *= c
			}
		}
	}
	return norm
}

package train

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/dlcompiler/dlc/frontend/dl"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/passes/autodiff"
	"github.com/dlcompiler/dlc/runtime"
	"github.com/dlcompiler/dlc/weights"
)

// Fixtures come from testdata/gen_train_fixtures.py (torch 1.13).

func fixture(t *testing.T, name string) (map[string]*ir.Tensor, map[string]any) {
	t.Helper()
	f, err := weights.ReadSafetensors(filepath.Join("testdata", name+".safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{}
	if err := json.Unmarshal([]byte(f.Metadata["config"]), &cfg); err != nil {
		t.Fatal(err)
	}
	return f.Tensors, cfg
}

func near(t *testing.T, what string, got, want []float32, rel, abs float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > abs+rel*math.Abs(float64(want[i])) {
			t.Errorf("%s[%d] = %.8g, torch %.8g", what, i, got[i], want[i])
		}
	}
}

func num(m map[string]any, k string, def float64) float64 {
	if v, ok := m[k].(float64); ok {
		return v
	}
	return def
}

// TestOptimizersMatchTorch runs four steps of each optimizer on torch's
// gradients. Both compute in float32, so the tolerance is a few ulps.
func TestOptimizersMatchTorch(t *testing.T) {
	for _, name := range []string{"sgd", "sgd_momentum_wd", "sgd_nesterov", "adam", "adam_wd", "adamw"} {
		t.Run(name, func(t *testing.T) {
			ts, c := fixture(t, "optim_"+name)
			cfg := Defaults()
			cfg.Opt, cfg.LR = c["opt"].(string), num(c, "lr", 0)
			cfg.Momentum, cfg.WeightDecay = num(c, "momentum", 0), num(c, "wd", 0)
			cfg.Nesterov, _ = c["nesterov"].(bool)
			cfg.Beta1, cfg.Beta2, cfg.Eps = num(c, "beta1", 0.9), num(c, "beta2", 0.999), num(c, "eps", 1e-8)
			p := append([]float32(nil), ts["p0"].F32()...)
			o, err := newOptimizer(&cfg, []int{len(p)})
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i <= 4; i++ {
				g := append([]float32(nil), ts[fmt.Sprintf("g%d", i)].F32()...)
				o.step([][]float32{p}, [][]float32{g}, cfg.LR)
				near(t, fmt.Sprintf("step %d", i), p, ts[fmt.Sprintf("p%d", i)].F32(), 1e-6, 1e-7)
			}
		})
	}
}

// TestLossesMatchTorch checks each loss and its gradient through the
// autodiff rules against torch.nn.functional.
func TestLossesMatchTorch(t *testing.T) {
	for _, name := range []string{"cross_entropy", "cross_entropy_smooth_weights", "nll_weights", "bce", "mse"} {
		t.Run(name, func(t *testing.T) {
			ts, c := fixture(t, "loss_"+name)
			cfg := Defaults()
			cfg.Loss = c["loss"].(string)
			cfg.LabelSmoothing = num(c, "label_smoothing", 0)
			if w, ok := c["class_weights"].([]any); ok {
				for _, x := range w {
					cfg.ClassWeights = append(cfg.ClassWeights, float32(x.(float64)))
				}
			}
			z := ts["z"]
			g := ir.NewGraph("loss")
			zv := g.AddInput("z", z.Type(), ir.Pos{})
			loss, target, err := addLoss(g, zv, &cfg)
			if err != nil {
				t.Fatal(err)
			}
			grads, err := autodiff.Backward(g, loss, []*ir.Value{zv})
			if err != nil {
				t.Fatal(err)
			}
			g.AddOutput("loss", loss)
			g.AddOutput("dz", grads[0])
			feeds := make([]*ir.Tensor, 2)
			for i, v := range g.Inputs {
				if v == target {
					feeds[i] = ts["target"]
				} else {
					feeds[i] = z
				}
			}
			out, err := runtime.Run(g, feeds)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "loss", out[0].F32(), ts["loss"].F32(), 1e-5, 1e-6)
			near(t, "dz", out[1].F32(), ts["dz"].F32(), 1e-4, 1e-6)
		})
	}
}

// TestBatchNormTrainMode checks train-mode batch normalization (batch
// statistics), its gradients and the running-statistics update against
// torch.nn.BatchNorm2d in train().
func TestBatchNormTrainMode(t *testing.T) {
	ts, _ := fixture(t, "bn_train")
	g := ir.NewGraph("bn")
	x := g.AddInput("x", ts["x"].Type(), ir.Pos{})
	param := func(name string, kind ir.ValueKind, src *ir.Tensor) *ir.Value {
		return g.AddParam(name, kind, src.Type(), src.Clone(), "", ir.Pos{})
	}
	s, b := param("scale", ir.Param, ts["scale"]), param("bias", ir.Param, ts["bias"])
	rm, rv := param("mean", ir.Const, ts["mean0"]), param("var", ir.Const, ts["var0"])
	n, err := g.AddNode("batchnorm", "bn", []*ir.Value{x, s, b, rm, rv}, nil, ir.Pos{})
	if err != nil {
		t.Fatal(err)
	}
	g.AddOutput("y", n.Out())
	// Differentiate Σ y·dy in train mode.
	tg := g.Clone()
	info, err := autodiff.TrainMode(tg)
	if err != nil {
		t.Fatal(err)
	}
	dyv := tg.AddParam("dy", ir.Const, ts["dy"].Type(), ts["dy"], "", ir.Pos{})
	m, _ := tg.AddNode("mul", "m", []*ir.Value{tg.Outputs[0], dyv}, nil, ir.Pos{})
	l, _ := tg.AddNode("reduce_sum", "l", []*ir.Value{m.Out()}, nil, ir.Pos{})
	wrt := []*ir.Value{tg.Inputs[0], tg.Params[0], tg.Params[1]}
	grads, err := autodiff.Backward(tg, l.Out(), wrt)
	if err != nil {
		t.Fatal(err)
	}
	y := tg.Outputs[0]
	tg.Outputs, tg.OutputNames = nil, nil
	tg.AddOutput("y", y)
	for i, gv := range grads {
		tg.AddOutput(fmt.Sprint(i), gv)
	}
	tg.AddOutput("mean", info.BatchNorms[0].BatchMean)
	tg.AddOutput("var", info.BatchNorms[0].BatchVar)
	out, err := runtime.Run(tg, []*ir.Tensor{ts["x"]})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "y", out[0].F32(), ts["y"].F32(), 1e-5, 1e-5)
	near(t, "dx", out[1].F32(), ts["dx"].F32(), 1e-4, 1e-5)
	near(t, "dscale", out[2].F32(), ts["dscale"].F32(), 1e-4, 1e-5)
	near(t, "dbias", out[3].F32(), ts["dbias"].F32(), 1e-4, 1e-5)
	tr := &Trainer{info: info}
	info.BatchNorms[0].RunningMean, info.BatchNorms[0].RunningVar = rm, rv
	tr.updateRunning(out[4:])
	near(t, "running mean", rm.Data.F32(), ts["mean1"].F32(), 1e-5, 1e-6)
	near(t, "running var", rv.Data.F32(), ts["var1"].F32(), 1e-5, 1e-6)
}

func TestClipMatchesTorch(t *testing.T) {
	ts, _ := fixture(t, "clip")
	a, b := append([]float32(nil), ts["a"].F32()...), append([]float32(nil), ts["b"].F32()...)
	norm := clipNorm([][]float32{a, b}, 1)
	near(t, "norm", []float32{float32(norm)}, ts["norm"].F32(), 1e-6, 0)
	near(t, "a", a, ts["a_clipped"].F32(), 1e-6, 1e-7)
	near(t, "b", b, ts["b_clipped"].F32(), 1e-6, 1e-7)
}

func TestSchedulesMatchTorch(t *testing.T) {
	ts, _ := fixture(t, "sched")
	cfg := Defaults()
	cfg.LR, cfg.Schedule, cfg.StepSize, cfg.Gamma = 0.1, "step", 2, 0.5
	for i, want := range ts["step"].F64() {
		if got := lrAt(&cfg, i, 7, 1); math.Abs(got-want) > 1e-12 {
			t.Errorf("step schedule, epoch %d: %g, torch %g", i, got, want)
		}
	}
	cfg.Schedule = "cosine"
	for i, want := range ts["cosine"].F64() {
		if got := lrAt(&cfg, i, 10, 1); math.Abs(got-want) > 1e-12 {
			t.Errorf("cosine schedule, step %d: %g, torch %g", i, got, want)
		}
	}
	cfg.Warmup = 4
	for i, want := range []float64{0.025, 0.05, 0.075, 0.1} {
		if got := lrAt(&cfg, i, 10, 1); math.Abs(got-want) > 1e-12 {
			t.Errorf("warm-up step %d: %g, want %g", i, got, want)
		}
	}
}

const xorDL = `model xor
const batch = 4
input x: f32[batch, 2]
y = x | h: dense(8) | tanh | out: dense(1)
output y
`

// xorData is the four XOR cases.
func xorData() *Dataset {
	return &Dataset{Name: "xor", Shape: ir.Shape{2}, X: []float32{0, 0, 0, 1, 1, 0, 1, 1}, Targets: []float32{0, 1, 1, 0}}
}

func trainXOR(t *testing.T, seed uint64, loss string) (*Trainer, float64) {
	t.Helper()
	g, err := dl.Load("xor.dl", []byte(xorDL), dl.Options{NoWeights: true})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Defaults()
	cfg.Loss, cfg.LR, cfg.Seed = loss, 0.05, seed
	tr, err := New(g, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var st EpochStats
	for ep := 1; ep <= 300; ep++ {
		if st, err = tr.Epoch(xorData(), ep, 300, nil); err != nil {
			t.Fatal(err)
		}
	}
	return tr, st.Loss
}

// TestXOR trains the XOR problem, which needs the hidden layer, with both
// float-target losses, and checks that the same seed gives the same
// weights bit for bit and another seed other weights.
func TestXOR(t *testing.T) {
	for _, loss := range []string{"bce", "mse"} {
		tr, l := trainXOR(t, 3, loss)
		if l > 0.05 {
			t.Errorf("%s: XOR loss after 300 steps %.4f, want < 0.05", loss, l)
		}
		pred, err := tr.Predict(ir.FromF32(ir.Shape{4, 2}, xorData().X))
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range []float32{0, 1, 1, 0} {
			if got := pred.F32()[i]; (got > 0.5) != (want > 0.5) && loss == "mse" || (got > 0) != (want > 0.5) && loss == "bce" {
				t.Errorf("%s: XOR case %d: %g", loss, i, got)
			}
		}
		if loss == "bce" {
			again, _ := trainXOR(t, 3, loss)
			other, _ := trainXOR(t, 4, loss)
			a, b, c := weightBytes(t, tr), weightBytes(t, again), weightBytes(t, other)
			if !bytes.Equal(a, b) {
				t.Error("two runs with the same seed give different weights")
			}
			if bytes.Equal(a, c) {
				t.Error("runs with different seeds give the same weights")
			}
		}
	}
}

func weightBytes(t *testing.T, tr *Trainer) []byte {
	t.Helper()
	b, err := weights.EncodeSafetensors(tr.Weights(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestInitTorch checks torch's default bounds: every weight and bias of a
// dense or conv layer within ±1/√fan_in, spread like a uniform (standard
// deviation bound/√3 within 10%).
func TestInitTorch(t *testing.T) {
	g, err := dl.LoadFile("../examples/lenet5/model.dl", dl.Options{NoWeights: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := InitTorch(g, 1); err != nil {
		t.Fatal(err)
	}
	fan := map[string]int{"conv1": 25, "conv2": 150, "fc1": 400, "fc2": 120, "fc3": 84}
	for _, p := range g.Params {
		layer := p.Name[:len(p.Name)-len(filepath.Ext(p.Name))]
		bound := 1 / math.Sqrt(float64(fan[layer]))
		var ss float64
		for _, v := range p.Data.F32() {
			if math.Abs(float64(v)) > bound {
				t.Fatalf("%s: %g outside ±%g", p.Name, v, bound)
			}
			ss += float64(v) * float64(v)
		}
		sd := math.Sqrt(ss / float64(p.Data.Len()))
		if p.Data.Len() >= 400 && math.Abs(sd-bound/math.Sqrt(3)) > 0.1*bound/math.Sqrt(3) {
			t.Errorf("%s: standard deviation %g, want about %g", p.Name, sd, bound/math.Sqrt(3))
		}
	}
}

// TestDropoutMask checks that a training step multiplies by a mask of
// zeros and 1/(1-p) drawn with probability p of zero, different from step
// to step, and that the gradient flows through the kept elements only.
func TestDropoutMask(t *testing.T) {
	src := `model d
const batch = 8
input x: f32[batch, 50]
y = x | fc: dense(4) | dropout(0.25)
output y
`
	g, err := dl.Load("d.dl", []byte(src), dl.Options{NoWeights: true})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Defaults()
	cfg.Loss = "mse"
	tr, err := New(g, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.info.Dropouts) != 1 {
		t.Fatalf("want one dropout mask input, got %d", len(tr.info.Dropouts))
	}
	r := rand.New(rand.NewPCG(1, 2))
	x := ir.NewTensor(ir.F32, ir.Shape{8, 50})
	for i := range x.F32() {
		x.F32()[i] = float32(r.NormFloat64())
	}
	zeros := 0
	var last []float32
	for step := range 20 {
		tgt := ir.NewTensor(ir.F32, ir.Shape{8, 4})
		_, pred, err := tr.StepBatch(x, tgt, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range pred.F32() {
			if v == 0 {
				zeros++
			}
		}
		if step > 0 && fmt.Sprint(last) == fmt.Sprint(pred.F32()) {
			t.Error("the same mask twice")
		}
		last = append([]float32(nil), pred.F32()...)
	}
	if frac := float64(zeros) / (20 * 32); math.Abs(frac-0.25) > 0.06 {
		t.Errorf("dropped %.3f of the outputs, want about 0.25", frac)
	}
}

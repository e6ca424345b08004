package dl

import (
	"fmt"
	"math"
	"strconv"

	"github.com/dlcompiler/dlc/ir"
)

// Normalization layers with nn.LayerNorm's, nn.RMSNorm's, nn.GroupNorm's
// and nn.InstanceNorm*d's arguments and state_dict names (weight, bias;
// running_mean, running_var), over ir/ops_norm2.go.

func init() {
	def(&layerDef{name: "layernorm", inputs: 1, params: true,
		args: []argSpec{{name: "normalized_shape", kind: aInts}, {name: "eps", kind: aFloat, def: 1e-5},
			{name: "elementwise_affine", kind: aBool, def: true}, {name: "bias", kind: aBool, def: true}},
		build: func(c *call) (val, error) { return buildLayerNorm(c, "layernorm") }})
	// eps absent: float32's machine epsilon, as torch takes for f32.
	def(&layerDef{name: "rmsnorm", inputs: 1, params: true,
		args: []argSpec{{name: "normalized_shape", kind: aInts}, {name: "eps", kind: aFloat, def: 0x1p-23},
			{name: "elementwise_affine", kind: aBool, def: true}},
		build: func(c *call) (val, error) { return buildLayerNorm(c, "rmsnorm") }})
	def(&layerDef{name: "groupnorm", inputs: 1, params: true,
		args: []argSpec{{name: "num_groups", kind: aInt}, {name: "num_channels", kind: aInt, opt: true},
			{name: "eps", kind: aFloat, def: 1e-5}, {name: "affine", kind: aBool, def: true}},
		build: buildGroupNorm})
	def(&layerDef{name: "local_response_norm", inputs: 1,
		args: []argSpec{{name: "size", kind: aInt}, {name: "alpha", kind: aFloat, def: 1e-4},
			{name: "beta", kind: aFloat, def: 0.75}, {name: "k", kind: aFloat, def: 1.0}},
		build: func(c *call) (val, error) {
			if s := c.int("size"); s < 1 || s%2 == 0 {
				// PyTorch centers an even window one channel lower than ONNX LRN.
				return val{}, c.errorf("size must be odd and positive, got %d (an even window differs between PyTorch and ONNX)", s)
			}
			if len(c.x().Type.Shape) < 3 {
				return val{}, c.errorf("wants input [N, C, ...] with spatial axes, got %s %v", c.x().Name, c.x().Type)
			}
			return c.node("lrn", c.in, ir.Attrs{"size": c.int("size"), "alpha": c.float("alpha"), "beta": c.float("beta"), "bias": c.float("k")})
		}})
	for r := 1; r <= 3; r++ {
		r := r
		def(&layerDef{name: fmt.Sprintf("instancenorm%dd", r), inputs: 1, params: true,
			args: []argSpec{{name: "num_features", kind: aInt, opt: true}, {name: "eps", kind: aFloat, def: 1e-5},
				{name: "momentum", kind: aFloat, def: 0.1}, {name: "affine", kind: aBool, def: false},
				{name: "track_running_stats", kind: aBool, def: false}},
			build: func(c *call) (val, error) { return buildInstanceNorm(c, r) }})
	}
}

func checkEps(c *call) error {
	if eps := c.float("eps"); !(eps >= 0) || math.IsInf(eps, 0) {
		return c.errorf("eps must be a non-negative number, got %v", eps)
	}
	return nil
}

// buildLayerNorm normalizes over the trailing axes normalized_shape names.
func buildLayerNorm(c *call, op string) (val, error) {
	x := c.x()
	s := x.Type.Shape
	ns := c.ints("normalized_shape")
	if err := checkEps(c); err != nil {
		return val{}, err
	}
	if len(ns) == 0 || len(ns) > len(s) || !s[len(s)-len(ns):].Equal(ir.Shape(ns)) {
		return val{}, c.errorf("normalized_shape %s must be the last axes of %s %v", fmtInts(ns), x.Name, x.Type)
	}
	ins := []*ir.Value{x}
	affine := c.bool("elementwise_affine")
	ps := []param{{suffix: "weight", kind: ir.Param, fill: ptr(1)}}
	if op == "layernorm" {
		ps = append(ps, param{suffix: "bias", kind: ir.Param, fill: ptr(0)})
	}
	for i, p := range ps {
		if !affine || i == 1 && !c.bool("bias") {
			ins = append(ins, nil)
			continue
		}
		p.shape = ir.Shape(ns).Clone()
		v, err := c.param(p)
		if err != nil {
			return val{}, err
		}
		ins = append(ins, v)
	}
	return c.node(op, ins, ir.Attrs{"axis": len(s) - len(ns), "epsilon": c.float("eps")})
}

// buildGroupNorm is nn.GroupNorm; num_channels, if given, is checked.
func buildGroupNorm(c *call) (val, error) {
	x := c.x()
	if err := checkEps(c); err != nil {
		return val{}, err
	}
	if len(x.Type.Shape) < 2 {
		return val{}, c.errorf("wants input [N, C, ...], got %s %v", x.Name, x.Type)
	}
	ch := x.Type.Shape[1]
	if c.has("num_channels") && c.int("num_channels") != ch {
		return val{}, c.errorf("num_channels is %d, but %s %v has %d channels", c.int("num_channels"), x.Name, x.Type.Shape, ch)
	}
	return normNode(c, "groupnorm", c.bool("affine"), ir.Attrs{"num_groups": c.int("num_groups"), "epsilon": c.float("eps")})
}

// normNode adds a groupnorm with per-channel weight and bias when affine.
func normNode(c *call, op string, affine bool, attrs ir.Attrs) (val, error) {
	x := c.x()
	ins := []*ir.Value{x, nil, nil}
	if affine {
		for i, p := range []param{{suffix: "weight", kind: ir.Param, fill: ptr(1)}, {suffix: "bias", kind: ir.Param, fill: ptr(0)}} {
			p.shape, p.inferred = ir.Shape{x.Type.Shape[1]}, []int{0}
			v, err := c.param(p)
			if err != nil {
				return val{}, err
			}
			ins[1+i] = v
		}
	}
	return c.node(op, ins, attrs)
}

// buildInstanceNorm is nn.InstanceNorm1d/2d/3d: statistics of each
// sample's channel, or with track_running_stats the running ones (a
// batchnorm at inference, as PyTorch's eval mode).
func buildInstanceNorm(c *call, r int) (val, error) {
	x := c.x()
	if err := checkEps(c); err != nil {
		return val{}, err
	}
	if len(x.Type.Shape) != r+2 {
		return val{}, c.errorf("wants input of rank %d [N, C, %d spatial], got %s %v", r+2, r, x.Name, x.Type)
	}
	ch := x.Type.Shape[1]
	if c.has("num_features") && c.int("num_features") != ch {
		return val{}, c.errorf("num_features is %d, but %s %v has %d channels", c.int("num_features"), x.Name, x.Type.Shape, ch)
	}
	if c.bool("track_running_stats") {
		return runningNorm(c, c.bool("affine"))
	}
	return normNode(c, "groupnorm", c.bool("affine"), ir.Attrs{"num_groups": ch, "epsilon": c.float("eps")})
}

// runningNorm is a batchnorm over running statistics (weight 1 and bias
// 0 as constants when not affine).
func runningNorm(c *call, affine bool) (val, error) {
	x := c.x()
	ins := []*ir.Value{x}
	for _, p := range []param{{suffix: "weight", kind: ir.Param, fill: ptr(1), noFile: !affine},
		{suffix: "bias", kind: ir.Param, fill: ptr(0), noFile: !affine},
		{suffix: "running_mean", kind: ir.Const, fill: ptr(0)}, {suffix: "running_var", kind: ir.Const, fill: ptr(1)}} {
		p.shape, p.inferred = ir.Shape{x.Type.Shape[1]}, []int{0}
		if p.noFile {
			p.kind = ir.Const
		}
		v, err := c.param(p)
		if err != nil {
			return val{}, err
		}
		ins = append(ins, v)
	}
	return c.node("batchnorm", ins, ir.Attrs{"epsilon": c.float("eps")})
}

// normLayer writes layernorm, rmsnorm and groupnorm back as layers:
// groupnorm with one group per channel and no affine parameters, or both,
// as instancenorm when the rank allows.
func (f *formatter) normLayer(n *ir.Node, label string) (string, []string, error) {
	a := n.Attrs
	x := n.Inputs[0].Type.Shape
	var args []string
	param := func(suffix string, i int) bool {
		if i < len(n.Inputs) && n.Inputs[i] != nil {
			f.addTensor(label+"."+suffix, n.Inputs[i].Data)
			return true
		}
		return false
	}
	for i := 1; i < len(n.Inputs); i++ {
		if v := n.Inputs[i]; v != nil && v.Data == nil {
			return "", nil, nodeErr(n, "%s with a computed %s (%s) cannot be written in .dl (its parameters are weights)", n.Op, n.Def().InputName(i), v.Name)
		}
	}
	def := 1e-5
	if n.Op == "rmsnorm" {
		def = 0x1p-23
	}
	if eps := a.Float("epsilon"); eps != def {
		s, err := fmtFloat(n, eps)
		if err != nil {
			return "", nil, err
		}
		args = append(args, "eps="+s)
	}
	if n.Op == "groupnorm" {
		hasW, hasB := param("weight", 1), param("bias", 2)
		if hasW != hasB {
			return "", nil, nodeErr(n, "groupnorm with only one of scale and bias cannot be written in .dl (affine has both)")
		}
		g := a.Int("num_groups")
		if g == x[1] && len(x) >= 3 && len(x) <= 5 {
			if hasW {
				args = append(args, "affine=true")
			}
			return fmt.Sprintf("instancenorm%dd", len(x)-2), args, nil
		}
		if !hasW {
			args = append(args, "affine=false")
		}
		return "groupnorm", append([]string{strconv.Itoa(g), strconv.Itoa(x[1])}, args...), nil
	}
	if a.Bool("stats") {
		return "", nil, nodeErr(n, "layernorm with mean and inv_std_dev outputs cannot be written in .dl")
	}
	axis, _ := ir.NormAxis(a.Int("axis"), len(x))
	hasW := param("weight", 1)
	hasB := param("bias", 2)
	switch {
	case !hasW && hasB:
		return "", nil, nodeErr(n, "%s with a bias and no scale cannot be written in .dl", n.Op)
	case !hasW:
		args = append(args, "elementwise_affine=false")
	case n.Op == "layernorm" && !hasB:
		args = append(args, "bias=false")
	}
	return n.Op, append([]string{fmtListAlways(x[axis:])}, args...), nil
}

// lrnLayer writes lrn as local_response_norm, whose window PyTorch
// centers as ONNX does only for an odd size.
func lrnLayer(n *ir.Node) (string, []string, error) {
	a := n.Attrs
	if a.Int("size")%2 == 0 || len(n.Inputs[0].Type.Shape) < 3 {
		return "", nil, nodeErr(n, "lrn of size %d on %v cannot be written in .dl (local_response_norm takes an odd size and spatial axes)", a.Int("size"), n.Inputs[0].Type)
	}
	args := []string{strconv.Itoa(a.Int("size"))}
	for _, p := range []struct {
		ir, dl string
		def    float64
	}{{"alpha", "alpha", 1e-4}, {"beta", "beta", 0.75}, {"bias", "k", 1}} {
		if v := a.Float(p.ir); v != p.def {
			s, err := fmtFloat(n, v)
			if err != nil {
				return "", nil, err
			}
			args = append(args, p.dl+"="+s)
		}
	}
	return "local_response_norm", args, nil
}

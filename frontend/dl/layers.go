package dl

import (
	"math"
	"strconv"

	"github.com/dlcompiler/dlc/ir"
)

// layerDef is a built-in layer: its arguments (in PyTorch's order) and how
// it becomes IR.
type layerDef struct {
	name string
	// inputs is the number of input tensors; -1 means one or more.
	inputs int
	args   []argSpec
	// params marks layers with parameters: they take init=.
	params bool
	build  func(c *call) (val, error)
}

var (
	layerTable = map[string]*layerDef{}
	// aliases maps other spellings, mostly PyTorch's, to table names.
	aliases = map[string]string{
		"linear": "dense", "cat": "concat", "clamp": "clip", "view": "reshape",
	}
)

func lookupLayer(name string) *layerDef {
	if a, ok := aliases[name]; ok {
		name = a
	}
	return layerTable[name]
}

func def(d *layerDef) { layerTable[d.name] = d }

// unaryOp is a layer mapping to an op with one input and fixed attributes.
func unaryOp(name, op string, args []argSpec, attrs func(c *call) (ir.Attrs, error)) {
	def(&layerDef{name: name, inputs: 1, args: args, build: func(c *call) (val, error) {
		var a ir.Attrs
		if attrs != nil {
			var err error
			if a, err = attrs(c); err != nil {
				return val{}, err
			}
		}
		return c.node(op, []*ir.Value{c.x()}, a)
	}})
}

// tableOps are layers spelled as their op whose arguments are the op's
// attributes, with the op table's names, kinds, defaults and enums;
// format.go writes them back the same way. A new element-wise op whose
// PyTorch spelling matches is one entry here.
var tableOps = []string{"relu", "sigmoid", "tanh", "identity", "gelu",
	// Element-wise math (ir/ops_math.go), spelled as torch's functions.
	"sqrt", "exp", "log", "abs", "neg", "reciprocal", "floor", "ceil", "round", "sign", "erf",
	"sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh",
	// Activations (ir/ops_act.go) with torch's argument names.
	"hardsigmoid", "hardswish", "elu", "selu", "celu", "softplus", "softsign", "mish", "silu", "threshold",
}

// reductions maps PyTorch's reduction spellings (torch.sum, torch.amax,
// ...) to ops with an ir.Reduction form; they take dim (one axis or a
// list; absent: all) and keepdim, as in PyTorch.
var reductions = map[string]string{"sum": "reduce_sum", "amax": "reduce_max", "mean": "reduce_mean",
	"amin": "reduce_min", "prod": "reduce_prod", "logsumexp": "reduce_log_sum_exp"}

// tableOp defines the layer of a tableOps entry.
func tableOp(d *ir.OpDef) {
	kinds := map[ir.AttrKind]argKind{ir.AttrInt: aInt, ir.AttrFloat: aFloat, ir.AttrBool: aBool, ir.AttrString: aString, ir.AttrInts: aInts}
	var args []argSpec
	for _, a := range d.Attrs {
		args = append(args, argSpec{name: a.Name, kind: kinds[a.Kind], def: a.Default, enum: a.Enum})
	}
	unaryOp(d.Name, d.Name, args, func(c *call) (ir.Attrs, error) {
		attrs := ir.Attrs{}
		for _, a := range d.Attrs {
			attrs[a.Name] = c.args[a.Name]
		}
		return attrs, nil
	})
}

// reduction defines the layer name reducing with op.
func reduction(name, op string) {
	unaryOp(name, op, []argSpec{{name: "dim", kind: aInts, opt: true, alias: "axis"}, {name: "keepdim", kind: aBool, def: false, alias: "keepdims"}},
		func(c *call) (ir.Attrs, error) {
			return ir.Attrs{"axes": append([]int{}, c.ints("dim")...), "keepdims": c.bool("keepdim")}, nil
		})
}

func init() {
	def(&layerDef{name: "dense", inputs: 1, params: true,
		args: []argSpec{{name: "out_features", kind: aInt}, {name: "bias", kind: aBool, def: true},
			{name: "in_features", kind: aInt, opt: true, kwOnly: true}},
		build: buildDense})
	for r := 1; r <= 3; r++ {
		r := r
		d := strconv.Itoa(r) + "d"
		def(&layerDef{name: "conv" + d, inputs: 1, params: true,
			args: []argSpec{{name: "out_channels", kind: aInt}, {name: "kernel_size", kind: aInts},
				{name: "stride", kind: aInts, def: []int{1}}, {name: "padding", kind: aPad, def: []int{0}},
				{name: "dilation", kind: aInts, def: []int{1}}, {name: "groups", kind: aInt, def: 1},
				{name: "bias", kind: aBool, def: true}, {name: "pads", kind: aInts, opt: true},
				{name: "in_channels", kind: aInt, opt: true, kwOnly: true}, {name: "padding_mode", kind: aString, def: "zeros", kwOnly: true}},
			build: func(c *call) (val, error) { return buildConv(c, r) }})
		def(&layerDef{name: "maxpool" + d, inputs: 1,
			args: []argSpec{{name: "kernel_size", kind: aInts}, {name: "stride", kind: aInts, opt: true},
				{name: "padding", kind: aInts, def: []int{0}}, {name: "dilation", kind: aInts, def: []int{1}},
				{name: "ceil_mode", kind: aBool, def: false}, {name: "pads", kind: aInts, opt: true},
				{name: "return_indices", kind: aBool, def: false, kwOnly: true}},
			build: func(c *call) (val, error) {
				if c.bool("return_indices") {
					return val{}, c.argErrorf("return_indices", "return_indices=true is not supported: maxpool%s gives the values only", d)
				}
				return buildPool(c, r, "maxpool")
			}})
		def(&layerDef{name: "avgpool" + d, inputs: 1,
			args: []argSpec{{name: "kernel_size", kind: aInts}, {name: "stride", kind: aInts, opt: true},
				{name: "padding", kind: aInts, def: []int{0}}, {name: "ceil_mode", kind: aBool, def: false},
				{name: "count_include_pad", kind: aBool, def: true}, {name: "pads", kind: aInts, opt: true}},
			build: func(c *call) (val, error) { return buildPool(c, r, "avgpool") }})
		for _, kind := range []string{"avg", "max"} {
			op := "global_" + kind + "pool"
			def(&layerDef{name: "adaptive_" + kind + "pool" + d, inputs: 1,
				args: []argSpec{{name: "output_size", kind: aInts}},
				build: func(c *call) (val, error) {
					for _, s := range c.ints("output_size") {
						if s != 1 && kind == "avg" {
							return buildAdaptiveAvg(c, r)
						}
						if s != 1 {
							return val{}, c.errorf("only output_size=1 is supported (it is %s), got %s", op, fmtInts(c.ints("output_size")))
						}
					}
					if len(c.ints("output_size")) != 1 && len(c.ints("output_size")) != r {
						return val{}, c.errorf("output_size has %d values, want 1 or %d", len(c.ints("output_size")), r)
					}
					if got := len(c.x().Type.Shape); got != r+2 {
						return val{}, c.errorf("wants input of rank %d [N, C, %d spatial], got %s %v", r+2, r, c.x().Name, c.x().Type)
					}
					return c.node(op, []*ir.Value{c.x()}, nil)
				}})
		}
		def(&layerDef{name: "batchnorm" + d, inputs: 1, params: true,
			args: []argSpec{{name: "num_features", kind: aInt, opt: true}, {name: "eps", kind: aFloat, def: 1e-5},
				{name: "momentum", kind: aFloat, def: 0.1}, {name: "affine", kind: aBool, def: true},
				{name: "track_running_stats", kind: aBool, def: true}},
			build: func(c *call) (val, error) { return buildBatchNorm(c, r) }})
	}
	unaryOp("global_avgpool", "global_avgpool", nil, nil)
	unaryOp("global_maxpool", "global_maxpool", nil, nil)
	for _, n := range tableOps {
		tableOp(ir.Lookup(n))
	}
	for name, op := range reductions {
		reduction(name, op)
	}
	unaryOp("leaky_relu", "leaky_relu", []argSpec{{name: "negative_slope", kind: aFloat, def: 0.01}},
		func(c *call) (ir.Attrs, error) { return ir.Attrs{"alpha": c.float("negative_slope")}, nil })
	for _, n := range []string{"softmax", "log_softmax"} {
		unaryOp(n, n, []argSpec{{name: "dim", kind: aInt, def: -1, alias: "axis"}},
			func(c *call) (ir.Attrs, error) { return ir.Attrs{"axis": c.int("dim")}, nil })
	}
	unaryOp("dropout", "dropout", []argSpec{{name: "p", kind: aFloat, def: 0.5}},
		func(c *call) (ir.Attrs, error) {
			if p := c.float("p"); !(p >= 0 && p <= 1) {
				return nil, c.errorf("p must be between 0 and 1, got %v", p)
			}
			return ir.Attrs{"p": c.float("p")}, nil
		})
	clip := func(lo, hi string) func(c *call) (ir.Attrs, error) {
		return func(c *call) (ir.Attrs, error) {
			// min > max is allowed: everything becomes max, as in torch.clamp.
			a, b := c.float(lo), c.float(hi)
			if math.IsNaN(a) || math.IsNaN(b) {
				return nil, c.errorf("%s %v and %s %v must be numbers", lo, a, hi, b)
			}
			return ir.Attrs{"min": a, "max": b}, nil
		}
	}
	unaryOp("clip", "clip", []argSpec{{name: "min", kind: aFloat, def: math.Inf(-1)}, {name: "max", kind: aFloat, def: math.Inf(1)}}, clip("min", "max"))
	unaryOp("hardtanh", "clip", []argSpec{{name: "min_val", kind: aFloat, def: -1.0}, {name: "max_val", kind: aFloat, def: 1.0}}, clip("min_val", "max_val"))
	unaryOp("relu6", "clip", nil, func(c *call) (ir.Attrs, error) { return ir.Attrs{"min": 0.0, "max": 6.0}, nil })
	def(&layerDef{name: "flatten", inputs: 1,
		args:  []argSpec{{name: "start_dim", kind: aInt, def: 1}, {name: "end_dim", kind: aInt, def: -1}},
		build: buildFlatten})
	def(&layerDef{name: "reshape", inputs: 1, args: []argSpec{{name: "shape", kind: aIntsVar}},
		build: func(c *call) (val, error) {
			for _, d := range c.ints("shape") {
				if d == 0 || d < -1 {
					return val{}, c.errorf("shape %s: dimensions must be positive or -1 (inferred)", fmtInts(c.ints("shape")))
				}
			}
			return c.node("reshape", []*ir.Value{c.x()}, ir.Attrs{"shape": c.ints("shape")})
		}})
	def(&layerDef{name: "transpose", inputs: 1,
		args:  []argSpec{{name: "dim0", kind: aInts}, {name: "dim1", kind: aInt, opt: true}},
		build: buildTranspose})
	def(&layerDef{name: "permute", inputs: 1, args: []argSpec{{name: "dims", kind: aIntsVar}},
		build: func(c *call) (val, error) { return permute(c, c.ints("dims")) }})
	def(&layerDef{name: "concat", inputs: -1, args: []argSpec{{name: "dim", kind: aInt, alias: "axis"}},
		build: func(c *call) (val, error) {
			return c.node("concat", c.in, ir.Attrs{"axis": c.int("dim")})
		}})
	for _, op := range []string{"add", "sub", "mul", "div", "maximum", "minimum", "pow"} {
		op := op
		other := "other"
		if op == "pow" {
			other = "exponent" // torch.pow(input, exponent)
		}
		def(&layerDef{name: op, inputs: -1, args: []argSpec{{name: other, kind: aFloat, opt: true}},
			build: func(c *call) (val, error) {
				switch {
				case len(c.in) == 2 && !c.has(other):
					return c.node(op, c.in, nil)
				case len(c.in) == 1 && c.has(other):
					return c.l.binaryNode(nil, c.pos, op, c.name, tensorVal(c.x()), val{kind: vFloat, f: c.float(other)})
				}
				return val{}, c.errorf("takes two tensors, or a tensor and a number")
			}})
	}
	def(&layerDef{name: "cast", inputs: 1, args: []argSpec{{name: "dtype", kind: aString, enum: dtypeNames()}},
		build: func(c *call) (val, error) {
			return c.node("cast", c.in, ir.Attrs{"to": c.str("dtype")})
		}})
	def(&layerDef{name: "matmul", inputs: 2, build: func(c *call) (val, error) { return c.node("matmul", c.in, nil) }})
	def(&layerDef{name: "embedding", inputs: 1, params: true,
		args: []argSpec{{name: "num_embeddings", kind: aInt}, {name: "embedding_dim", kind: aInt},
			{name: "padding_idx", kind: aInt, opt: true},
			// nn.Embedding's training-only arguments; max_norm would
			// renormalize rows at lookup, which dlc does not do.
			{name: "max_norm", kind: aFloat, opt: true, kwOnly: true}, {name: "norm_type", kind: aFloat, def: 2.0, kwOnly: true},
			{name: "scale_grad_by_freq", kind: aBool, def: false, kwOnly: true}, {name: "sparse", kind: aBool, def: false, kwOnly: true}},
		build: buildEmbedding})
	for _, op := range []string{"rnn", "lstm", "gru"} {
		op := op
		args := []argSpec{{name: "hidden_size", kind: aInt}, {name: "num_layers", kind: aInt, def: 1},
			{name: "input_size", kind: aInt, opt: true, kwOnly: true}}
		if op == "lstm" {
			args = append(args, argSpec{name: "proj_size", kind: aInt, def: 0, kwOnly: true})
		}
		if op == "rnn" {
			args = append(args, argSpec{name: "nonlinearity", kind: aString, def: "tanh", enum: []string{"tanh", "relu"}})
		}
		args = append(args, argSpec{name: "bias", kind: aBool, def: true}, argSpec{name: "batch_first", kind: aBool, def: false},
			argSpec{name: "dropout", kind: aFloat, def: 0.0}, argSpec{name: "bidirectional", kind: aBool, def: false},
			argSpec{name: "h0", kind: aTensor, opt: true})
		switch op {
		case "lstm":
			args = append(args, argSpec{name: "c0", kind: aTensor, opt: true}, argSpec{name: "peepholes", kind: aBool, def: false})
		case "gru":
			args = append(args, argSpec{name: "linear_before_reset", kind: aBool, def: true})
		}
		def(&layerDef{name: op, inputs: 1, params: true, args: args,
			build: func(c *call) (val, error) { return buildRNN(c, op) }})
	}
	def(&layerDef{name: "index_select", inputs: 2,
		args: []argSpec{{name: "dim", kind: aInt, alias: "axis"}},
		build: func(c *call) (val, error) {
			if c.in[1].Type.DType != ir.I64 {
				return val{}, c.errorf("indices %s must be i64, got %v", c.in[1].Name, c.in[1].Type)
			}
			return c.node("gather", c.in, ir.Attrs{"axis": c.int("dim")})
		}})
	def(&layerDef{name: "select", inputs: 1,
		args:  []argSpec{{name: "dim", kind: aInt, alias: "axis"}, {name: "index", kind: aInt}},
		build: buildSelect})
	def(&layerDef{name: "squeeze", inputs: 1, args: []argSpec{{name: "dim", kind: aInts, opt: true, alias: "axis"}},
		build: buildSqueeze})
	def(&layerDef{name: "unsqueeze", inputs: 1, args: []argSpec{{name: "dim", kind: aInt, alias: "axis"}},
		build: func(c *call) (val, error) {
			return c.node("unsqueeze", []*ir.Value{c.x()}, ir.Attrs{"axes": []int{c.int("dim")}})
		}})
}

// buildSqueeze drops the given axes of size 1, or every axis of size 1.
// As in PyTorch, a given axis whose size is not 1 is left alone, so
// squeeze(1) of a [2, 3] tensor is the tensor unchanged (an identity node).
func buildSqueeze(c *call) (val, error) {
	x := c.x()
	axes := c.ints("dim")
	if axes == nil {
		return c.node("squeeze", []*ir.Value{x}, ir.Attrs{"axes": []int{}})
	}
	r := len(x.Type.Shape)
	var keep []int
	for _, a := range axes {
		na := a
		if na < 0 {
			na += r
		}
		if na >= 0 && na < r && x.Type.Shape[na] != 1 {
			continue // PyTorch: not of size 1, not squeezed
		}
		keep = append(keep, a) // the op checks the range
	}
	if len(keep) == 0 {
		return c.node("identity", []*ir.Value{x}, nil)
	}
	return c.node("squeeze", []*ir.Value{x}, ir.Attrs{"axes": keep})
}

func buildDense(c *call) (val, error) {
	x := c.x()
	if len(x.Type.Shape) == 0 {
		return val{}, c.errorf("needs an input of rank >= 1, got %s %v", x.Name, x.Type)
	}
	out := c.int("out_features")
	if out < 1 {
		return val{}, c.errorf("out_features must be positive, got %d", out)
	}
	in := x.Type.Shape[len(x.Type.Shape)-1]
	if err := c.checkInferred("in_features", in, x); err != nil {
		return val{}, err
	}
	init, err := c.initFor("he")
	if err != nil {
		return val{}, err
	}
	w, err := c.param(param{suffix: "weight", kind: ir.Param, shape: ir.Shape{out, in}, inferred: []int{1}, init: init})
	if err != nil {
		return val{}, err
	}
	ins := []*ir.Value{x, w}
	if c.bool("bias") {
		b, err := c.param(param{suffix: "bias", kind: ir.Param, shape: ir.Shape{out}, init: "zeros"})
		if err != nil {
			return val{}, err
		}
		ins = append(ins, b)
	}
	return c.node("dense", ins, nil)
}

func buildConv(c *call, r int) (val, error) {
	x := c.x()
	if len(x.Type.Shape) != r+2 {
		return val{}, c.errorf("wants input of rank %d [N, C, %d spatial], got %s %v", r+2, r, x.Name, x.Type)
	}
	out, groups := c.int("out_channels"), c.int("groups")
	if out < 1 || groups < 1 {
		return val{}, c.errorf("out_channels and groups must be positive, got %d and %d", out, groups)
	}
	in := x.Type.Shape[1]
	if err := c.checkInferred("in_channels", in, x); err != nil {
		return val{}, err
	}
	if m := c.str("padding_mode"); m != "zeros" {
		return val{}, c.argErrorf("padding_mode", "padding_mode %q is not supported: pad first, as in x | pad([1, 1, 1, 1], mode=%q) | conv2d(..., padding=0)", m, m)
	}
	if in%groups != 0 || out%groups != 0 {
		return val{}, c.errorf("groups %d must divide the input channels %d (of %s) and out_channels %d", groups, in, x.Name, out)
	}
	k, err := c.expand("kernel_size", r)
	if err != nil {
		return val{}, err
	}
	stride, err := c.expand("stride", r)
	if err != nil {
		return val{}, err
	}
	dil, err := c.expand("dilation", r)
	if err != nil {
		return val{}, err
	}
	for _, e := range []error{c.atLeast("kernel_size", k, 1), c.atLeast("stride", stride, 1), c.atLeast("dilation", dil, 1)} {
		if e != nil {
			return val{}, e
		}
	}
	pads := make([]int, 2*r)
	switch p := c.args["padding"].(type) {
	case string:
		if p == "same" {
			for i := 0; i < r; i++ {
				if stride[i] != 1 {
					return val{}, c.errorf(`padding="same" needs stride 1 (as in PyTorch), got stride %s`, fmtInts(stride))
				}
				// PyTorch puts the odd pixel of an even kernel at the end.
				total := dil[i] * (k[i] - 1)
				pads[i], pads[r+i] = total/2, total-total/2
			}
		}
	default:
		pv, err := c.expand("padding", r)
		if err != nil {
			return val{}, err
		}
		if err := c.atLeast("padding", pv, 0); err != nil {
			return val{}, err
		}
		copy(pads, pv)
		copy(pads[r:], pv)
	}
	if err := c.explicitPads(pads, r); err != nil {
		return val{}, err
	}
	init, err := c.initFor("he")
	if err != nil {
		return val{}, err
	}
	wshape := append(ir.Shape{out, in / groups}, k...)
	w, err := c.param(param{suffix: "weight", kind: ir.Param, shape: wshape, init: init})
	if err != nil {
		return val{}, err
	}
	ins := []*ir.Value{x, w}
	if c.bool("bias") {
		b, err := c.param(param{suffix: "bias", kind: ir.Param, shape: ir.Shape{out}, init: "zeros"})
		if err != nil {
			return val{}, err
		}
		ins = append(ins, b)
	}
	return c.node("conv", ins, ir.Attrs{"strides": stride, "pads": pads, "dilations": dil, "groups": groups})
}

func buildPool(c *call, r int, op string) (val, error) {
	k, err := c.expand("kernel_size", r)
	if err != nil {
		return val{}, err
	}
	stride := k
	if c.has("stride") {
		if stride, err = c.expand("stride", r); err != nil {
			return val{}, err
		}
	}
	pad, err := c.expand("padding", r)
	if err != nil {
		return val{}, err
	}
	if err := c.atLeast("padding", pad, 0); err != nil {
		return val{}, err
	}
	for _, e := range []error{c.atLeast("kernel_size", k, 1), c.atLeast("stride", stride, 1)} {
		if e != nil {
			return val{}, e
		}
	}
	for i := range pad {
		// torch.nn pooling refuses padding above half the kernel (pads= is
		// ONNX's form and keeps ONNX's rule, checked by the op).
		if pad[i] > k[i]/2 {
			return val{}, c.argErrorf("padding", "padding %s must be at most half the kernel %s (padding <= kernel_size/2, as in PyTorch)", fmtInts(pad), fmtInts(k))
		}
	}
	pads := append(append([]int(nil), pad...), pad...)
	if err := c.explicitPads(pads, r); err != nil {
		return val{}, err
	}
	attrs := ir.Attrs{"kernel": k, "strides": append([]int(nil), stride...), "pads": pads, "ceil_mode": c.bool("ceil_mode")}
	if op == "maxpool" {
		dil, err := c.expand("dilation", r)
		if err != nil {
			return val{}, err
		}
		if err := c.atLeast("dilation", dil, 1); err != nil {
			return val{}, err
		}
		attrs["dilations"] = dil
	} else {
		attrs["count_include_pad"] = c.bool("count_include_pad")
	}
	return c.node(op, []*ir.Value{c.x()}, attrs)
}

func buildBatchNorm(c *call, r int) (val, error) {
	x := c.x()
	rank := len(x.Type.Shape)
	want := map[int]string{1: "[N, C] or [N, C, L]", 2: "[N, C, H, W]", 3: "[N, C, D, H, W]"}[r]
	if rank != r+2 && !(r == 1 && rank == 2) {
		return val{}, c.errorf("wants input %s, got %s %v", want, x.Name, x.Type)
	}
	ch := x.Type.Shape[1]
	if c.has("num_features") && c.int("num_features") != ch {
		return val{}, c.errorf("num_features is %d, but %s %v has %d channels", c.int("num_features"), x.Name, x.Type.Shape, ch)
	}
	if !c.bool("track_running_stats") {
		return val{}, c.errorf("track_running_stats=false is not supported (inference uses running statistics)")
	}
	if eps := c.float("eps"); !(eps >= 0) || math.IsInf(eps, 0) {
		return val{}, c.errorf("eps must be a non-negative number, got %v", eps)
	}
	affine := c.bool("affine")
	s := ir.Shape{ch}
	ps := []param{
		{suffix: "weight", kind: ir.Param, fill: ptr(1), noFile: !affine},
		{suffix: "bias", kind: ir.Param, fill: ptr(0), noFile: !affine},
		{suffix: "running_mean", kind: ir.Const, fill: ptr(0)},
		{suffix: "running_var", kind: ir.Const, fill: ptr(1)},
	}
	ins := []*ir.Value{x}
	for _, p := range ps {
		p.shape, p.inferred = s, []int{0}
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

func buildFlatten(c *call) (val, error) {
	x := c.x()
	shape := x.Type.Shape
	r := len(shape)
	rr := max(r, 1) // PyTorch flattens a scalar as if it were 1-D
	s, err1 := ir.NormAxis(c.int("start_dim"), rr)
	e, err2 := ir.NormAxis(c.int("end_dim"), rr)
	if err1 != nil || err2 != nil {
		return val{}, c.errorf("start_dim %d, end_dim %d out of range for %s %v", c.int("start_dim"), c.int("end_dim"), x.Name, x.Type)
	}
	if s > e {
		return val{}, c.errorf("start_dim %d comes after end_dim %d", c.int("start_dim"), c.int("end_dim"))
	}
	if r >= 2 && s == 1 && e == r-1 {
		return c.node("flatten", []*ir.Value{x}, ir.Attrs{"axis": 1})
	}
	var out []int
	if r == 0 {
		out = []int{1}
	} else {
		out = append(out, shape[:s]...)
		out = append(out, shape[s:e+1].NumElems())
		out = append(out, shape[e+1:]...)
	}
	return c.node("reshape", []*ir.Value{x}, ir.Attrs{"shape": out})
}

func buildTranspose(c *call) (val, error) {
	d0 := c.ints("dim0")
	if !c.has("dim1") {
		if len(d0) < 2 {
			return val{}, c.errorf("takes two dims to swap, as transpose(1, 2), or a permutation list")
		}
		return permute(c, d0)
	}
	if len(d0) != 1 {
		return val{}, c.errorf("takes two dims to swap, as transpose(1, 2), or a permutation list")
	}
	r := len(c.x().Type.Shape)
	a, err1 := ir.NormAxis(d0[0], r)
	b, err2 := ir.NormAxis(c.int("dim1"), r)
	if err1 != nil || err2 != nil {
		return val{}, c.errorf("dims %d, %d out of range for %s %v", d0[0], c.int("dim1"), c.x().Name, c.x().Type)
	}
	perm := make([]int, r)
	for i := range perm {
		perm[i] = i
	}
	perm[a], perm[b] = perm[b], perm[a]
	return c.node("transpose", []*ir.Value{c.x()}, ir.Attrs{"perm": perm})
}

func permute(c *call, dims []int) (val, error) {
	r := len(c.x().Type.Shape)
	perm := make([]int, len(dims))
	for i, d := range dims {
		a, err := ir.NormAxis(d, r)
		if err != nil {
			return val{}, c.errorf("dim %d is out of range for %s %v", d, c.x().Name, c.x().Type)
		}
		perm[i] = a
	}
	return c.node("transpose", []*ir.Value{c.x()}, ir.Attrs{"perm": perm})
}

func buildEmbedding(c *call) (val, error) {
	if c.has("max_norm") {
		return val{}, c.argErrorf("max_norm", "max_norm is not supported (it renormalizes rows at lookup): renormalize the weights before saving them")
	}
	n, d := c.int("num_embeddings"), c.int("embedding_dim")
	if n < 1 || d < 1 {
		return val{}, c.errorf("num_embeddings and embedding_dim must be positive, got %d and %d", n, d)
	}
	init, err := c.initFor("normal")
	if err != nil {
		return val{}, err
	}
	w, err := c.param(param{suffix: "weight", kind: ir.Param, shape: ir.Shape{n, d}, init: init})
	if err != nil {
		return val{}, err
	}
	return c.node("embedding", []*ir.Value{c.x(), w}, nil)
}

func buildRNN(c *call, op string) (val, error) {
	x := c.x()
	if len(x.Type.Shape) != 3 {
		return val{}, c.errorf("wants input [T, N, F] (or [N, T, F] with batch_first=true), got %s %v", x.Name, x.Type)
	}
	if err := c.checkInferred("input_size", x.Type.Shape[2], x); err != nil {
		return val{}, err
	}
	if op == "lstm" && c.int("proj_size") != 0 {
		return val{}, c.argErrorf("proj_size", "proj_size=%d is not supported (an LSTM with projections): only 0", c.int("proj_size"))
	}
	h, layers := c.int("hidden_size"), c.int("num_layers")
	if h < 1 || layers < 1 || layers > 100 {
		return val{}, c.errorf("hidden_size must be positive and num_layers from 1 to 100, got %d and %d", h, layers)
	}
	if p := c.float("dropout"); !(p >= 0 && p <= 1) {
		return val{}, c.errorf("dropout must be between 0 and 1, got %v", p)
	}
	bi, bias := c.bool("bidirectional"), c.bool("bias")
	ins := []*ir.Value{x, c.tensor("h0")}
	if op == "lstm" {
		ins = append(ins, c.tensor("c0"))
	}
	init, err := c.initFor("xavier")
	if err != nil {
		return val{}, err
	}
	peep := op == "lstm" && c.bool("peepholes")
	names := ir.RNNParamNames(layers, bi, bias, peep)
	g := ir.RNNGates(op)
	dirs := 1
	if bi {
		dirs = 2
	}
	k := 0
	for l := 0; l < layers; l++ {
		in := x.Type.Shape[2]
		if l > 0 {
			in = h * dirs
		}
		for d := 0; d < dirs; d++ {
			ps := []param{
				{shape: ir.Shape{g * h, in}, init: init},
				{shape: ir.Shape{g * h, h}, init: init},
				{shape: ir.Shape{g * h}, init: "zeros"},
				{shape: ir.Shape{g * h}, init: "zeros"},
			}
			if !bias {
				ps = ps[:2]
			}
			if peep {
				ps = append(ps, param{shape: ir.Shape{3 * h}, init: "zeros"})
			}
			for _, p := range ps {
				p.suffix, p.kind = names[k], ir.Param
				k++
				v, err := c.param(p)
				if err != nil {
					return val{}, err
				}
				ins = append(ins, v)
			}
		}
	}
	attrs := ir.Attrs{"hidden_size": h, "num_layers": layers, "bidirectional": bi, "batch_first": c.bool("batch_first"), "bias": bias}
	switch op {
	case "rnn":
		attrs["nonlinearity"] = c.str("nonlinearity")
	case "gru":
		attrs["linear_before_reset"] = c.bool("linear_before_reset")
	case "lstm":
		if peep {
			attrs["peepholes"] = true
		}
	}
	return c.node(op, ins, attrs)
}

func buildSelect(c *call) (val, error) {
	x := c.x()
	a, err := ir.NormAxis(c.int("dim"), len(x.Type.Shape))
	if err != nil {
		return val{}, c.errorf("%v (input %s %v)", err, x.Name, x.Type)
	}
	size, idx := x.Type.Shape[a], c.int("index")
	if idx < -size || idx >= size {
		return val{}, c.errorf("index %d is out of range for dim %d of %s %v (size %d)", idx, c.int("dim"), x.Name, x.Type, size)
	}
	if idx < 0 {
		idx += size
	}
	name := c.name + ".index"
	if err := c.l.claim(name, c.pos); err != nil {
		return val{}, err
	}
	t := &ir.Tensor{DType: ir.I64, Shape: ir.Shape{}, Data: []int64{int64(idx)}}
	iv := c.l.g.AddParam(name, ir.Const, t.Type(), t, "", c.pos)
	return c.node("gather", []*ir.Value{x, iv}, ir.Attrs{"axis": a})
}

// explicitPads applies a pads= argument: the padding of every spatial axis
// at its beginning, then at its end (2*r values, as in ONNX), for padding
// that differs between the two sides. It overwrites pads, which holds the
// padding= result and must then be all zeros.
func (c *call) explicitPads(pads []int, r int) error {
	if !c.has("pads") {
		return nil
	}
	if _, s := c.args["padding"].(string); s {
		return c.errorf("give padding or pads, not both")
	}
	for _, p := range pads {
		if p != 0 {
			return c.errorf("give padding or pads, not both")
		}
	}
	pv := c.ints("pads")
	if len(pv) != 2*r {
		return c.errorf("pads has %d values, want %d (the begin of each of the %d spatial axes, then the end of each)", len(pv), 2*r, r)
	}
	if err := c.atLeast("pads", pv, 0); err != nil {
		return err
	}
	copy(pads, pv)
	return nil
}

// dtypeNames lists the .dl spellings of every dtype.
func dtypeNames() []string {
	var names []string
	for _, dt := range ir.DTypes() {
		names = append(names, dt.String())
	}
	return names
}

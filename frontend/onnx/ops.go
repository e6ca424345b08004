package onnx

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/dlcompiler/dlc/ir"
)

// opConv describes how one ONNX op is imported.
type opConv struct {
	// minIn is the number of inputs that must be present.
	minIn int
	// check reports unsupported attribute combinations from the node
	// alone (no values), so every unsupported node is listed at once.
	check func(c *nctx) error
	// conv converts the node, binding its outputs.
	conv func(c *nctx) error
}

// opTable is filled by the init functions of ops.go and ops_<family>.go;
// it is made here so that their order does not matter.
var opTable = map[string]opConv{}

func init() {
	for k, v := range map[string]opConv{
		"Add": {2, nil, binaryOp("add")}, "Sub": {2, nil, binaryOp("sub")},
		"Mul": {2, nil, binaryOp("mul")}, "Div": {2, nil, binaryOp("div")},
		"Relu": {1, nil, unaryOp("relu")}, "Sigmoid": {1, nil, unaryOp("sigmoid")},
		"Tanh": {1, nil, unaryOp("tanh")}, "LeakyRelu": {1, nil, leakyRelu}, "Gelu": {1, nil, unaryOp("gelu")},
		"Identity": {1, nil, identity}, "Dropout": {1, nil, dropout},
		"Softmax": {1, nil, softmax("softmax")}, "LogSoftmax": {1, nil, softmax("log_softmax")},
		"Gemm": {2, nil, gemm}, "MatMul": {2, nil, matmul},
		"Conv":    {2, checkConv, conv},
		"MaxPool": {1, checkPool, pool("maxpool")}, "AveragePool": {1, checkPool, pool("avgpool")},
		"GlobalAveragePool": {1, nil, unaryOp("global_avgpool")}, "GlobalMaxPool": {1, nil, unaryOp("global_maxpool")},
		"BatchNormalization": {5, checkBatchNorm, batchNorm},
		"Flatten":            {1, nil, flatten}, "Reshape": {1, checkReshape, reshape},
		"Transpose": {1, nil, transpose}, "Concat": {1, nil, concat},
		"Gather": {2, nil, gather}, "Squeeze": {1, nil, squeeze(false)}, "Unsqueeze": {1, nil, squeeze(true)},
		"Clip":  {1, nil, clip},
		"Shape": {1, nil, shapeOp}, "Cast": {1, checkCast, cast}, "Slice": {1, nil, slice},
		"Constant": {0, checkConstant, constant},
		"Pad":      {1, checkPad, pad}, "Expand": {2, nil, expand}, "ConstantOfShape": {1, nil, constantOfShape},
		"LSTM": {3, checkRNN, rnn("lstm")}, "GRU": {3, checkRNN, rnn("gru")}, "RNN": {3, checkRNN, rnn("rnn")},
		// Reductions: the opset from which axes is an input, not an attribute.
		"ReduceSum": {1, nil, reduce("reduce_sum", 13)}, "ReduceMax": {1, nil, reduce("reduce_max", 18)},
		"ReduceMean": {1, nil, reduce("reduce_mean", 18)},
	} {
		opTable[k] = v
	}
}

// reduce imports an ONNX Reduce* op as op (an ir reduction). Its axes are
// an attribute before opset axesInput and an optional constant input
// from it; empty axes reduce everything unless noop_with_empty_axes asks
// for the identity. ONNX keeps the reduced axes by default.
func reduce(op string, axesInput int64) func(c *nctx) error {
	return func(c *nctx) error {
		x := c.in(0)
		// A bool max is any, a bool min all: the float reduction of
		// 0s and 1s, cast back.
		isBool := x.typ().DType == ir.Bool && (op == "reduce_max" || op == "reduce_min")
		if !ir.Floats.Has(x.typ().DType) && !isBool {
			return unsup("%s of %s tensors is not supported (%v only)", c.n.opType, dtName(x.elem), ir.Floats)
		}
		var axes []int
		var err error
		if c.opset < axesInput {
			axes, err = c.ints("axes", nil)
		} else {
			axes, _, err = c.constInts(1, "axes")
		}
		if err != nil {
			return err
		}
		keep, err := c.int("keepdims", 1)
		if err != nil {
			return err
		}
		noop, err := c.int("noop_with_empty_axes", 0)
		if err != nil {
			return err
		}
		if len(axes) == 0 && noop != 0 {
			c.set(0, x)
			return nil
		}
		if isBool {
			if x, err = c.castTo(x, ir.F32); err != nil {
				return err
			}
		}
		y, err := c.emit1(op, "", []*val{x}, ir.Attrs{"axes": append([]int{}, axes...), "keepdims": keep != 0})
		if err != nil {
			return err
		}
		if isBool {
			if y, err = c.castTo(y, ir.Bool); err != nil {
				return err
			}
		}
		c.set(0, y)
		return nil
	}
}

// constIn returns the contents of input i, which must be known at import
// time, or an unsupported error naming what.
func (c *nctx) constIn(i int, what string) (*ir.Tensor, error) {
	x := c.in(i)
	if x == nil {
		return nil, nil
	}
	if x.c == nil {
		if x.v.Kind == ir.Input {
			c.im.needConst = append(c.im.needConst, c.n.inputs[i])
			return nil, unsup("%s (input %d) must be known at compile time, but it is the graph input %q: bind its value (dlc compile/run --bind %s=FILE.npy)", what, i, x.name, x.name)
		}
		if srcs := c.im.inputsOf(x.v); len(srcs) > 0 {
			c.im.needConst = append(c.im.needConst, srcs...)
			return nil, unsup("%s (input %d %q) must be known at import time, but it is computed from the graph input(s) %q: bind their values (dlc compile/run --bind NAME=FILE.npy)", what, i, x.name, srcs)
		}
		return nil, unsup("%s (input %d %q) must be known at import time", what, i, x.name)
	}
	return x.c, nil
}

// inputsOf returns the ONNX names of the graph inputs v is computed from.
// Bound to values (Options.Constants), they make v known: the ops that
// compute shapes and sizes fold known inputs.
func (im *importer) inputsOf(v *ir.Value) []string {
	seen := map[*ir.Value]bool{}
	var found []*ir.Value
	var walk func(v *ir.Value)
	walk = func(v *ir.Value) {
		if v == nil || seen[v] {
			return
		}
		seen[v] = true
		if v.Kind == ir.Input {
			found = append(found, v)
		}
		if v.Def != nil {
			for _, u := range v.Def.Inputs {
				walk(u)
			}
		}
	}
	walk(v)
	var names []string
	for _, in := range im.m.graph.inputs {
		if x := im.vals[in.name]; x != nil && x.v != nil && slices.Contains(found, x.v) {
			names = append(names, in.name)
		}
	}
	return names
}

// constInts returns a known integer input (int64 in ONNX's shape and
// axes inputs, int32 or int64 in Slice's) as ints.
func (c *nctx) constInts(i int, what string) ([]int, bool, error) {
	t, err := c.constIn(i, what)
	if err != nil || t == nil {
		return nil, false, err
	}
	if !t.DType.IsInt() {
		return nil, false, fmt.Errorf("%s must be integers, got %v", what, t.Type())
	}
	out := make([]int, t.Len())
	for k := range out {
		if v := t.Int(k); v > maxElems || v < -maxElems {
			out[k] = int(math.Copysign(maxElems, float64(v)))
		} else {
			out[k] = int(v)
		}
	}
	return out, true, nil
}

func binaryOp(op string) func(c *nctx) error {
	return func(c *nctx) error {
		y, err := c.binary(op, c.in(0), c.in(1), "")
		if err != nil {
			return err
		}
		c.set(0, y)
		return nil
	}
}

// unaryOp imports a one-input ONNX op as op, taking the ONNX attributes
// that have the name of one of op's attributes (as Gelu's approximate).
func unaryOp(op string) func(c *nctx) error {
	return func(c *nctx) error {
		attrs, err := c.sameAttrs(ir.Lookup(op))
		if err != nil {
			return err
		}
		// A known input (shape arithmetic: Neg of a Shape) folds, so
		// that what reads the result may need it known.
		y, err := c.fold(op, attrs, []*val{c.in(0)})
		if err != nil {
			return err
		}
		c.set(0, y)
		return nil
	}
}

// sameAttrs reads the node's attributes named as d's, by d's kinds.
func (c *nctx) sameAttrs(d *ir.OpDef) (ir.Attrs, error) {
	attrs := ir.Attrs{}
	for _, a := range d.Attrs {
		if !c.has(a.Name) {
			continue
		}
		var v any
		var err error
		switch a.Kind {
		case ir.AttrFloat:
			v, err = c.float(a.Name, 0)
		case ir.AttrInt:
			v, err = c.int(a.Name, 0)
		case ir.AttrInts:
			v, err = c.ints(a.Name, nil)
		case ir.AttrString:
			v, err = c.str(a.Name, "")
		default:
			return nil, unsup("attribute %s of kind %v", a.Name, a.Kind)
		}
		if err != nil {
			return nil, err
		}
		attrs[a.Name] = v
	}
	return attrs, nil
}

func leakyRelu(c *nctx) error {
	alpha, err := c.float("alpha", 0.01)
	if err != nil {
		return err
	}
	y, err := c.emit1("leaky_relu", "", []*val{c.in(0)}, ir.Attrs{"alpha": alpha})
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

func identity(c *nctx) error {
	c.set(0, c.in(0))
	return nil
}

// dropout is the identity at inference. Before opset 12 and without
// training_mode it never drops; with training_mode a known true and ratio
// 0 it is also the identity; any other training run draws random numbers,
// which dlc does not reproduce. The mask is then all true.
func dropout(c *nctx) error {
	x := c.in(0)
	if c.opset >= 12 {
		ratio := 0.5
		if t, err := c.constIn(1, "ratio"); err != nil {
			return err
		} else if t != nil {
			if !t.DType.IsFloat() || t.Len() != 1 {
				return fmt.Errorf("ratio must be a float scalar, got %v", t.Type())
			}
			ratio = t.Float(0)
		}
		train, err := c.constIn(2, "training_mode")
		if err != nil {
			return err
		}
		if train != nil && train.Len() == 1 && train.Int(0) != 0 && ratio != 0 {
			return unsup("training_mode with ratio %g draws random numbers; only inference is supported", ratio)
		}
	}
	c.set(0, x)
	if c.hasOut(1) {
		if x.shape().NumElems() > maxFold {
			return unsup("the mask output of a tensor of %v is too large to fold", x.shape())
		}
		m := ir.NewTensor(ir.Bool, x.shape())
		for i := range m.Bools() {
			m.Bools()[i] = true
		}
		c.set(1, c.known(m, dtBool, false))
	}
	return nil
}

// softmax maps Softmax and LogSoftmax. Before opset 13 the input is
// coerced to 2-D at axis (default 1) and normalized over the second
// dimension: reshape, softmax over the last axis, reshape back.
func softmax(op string) func(c *nctx) error {
	return func(c *nctx) error {
		x := c.in(0)
		r := x.rank()
		def := -1
		if c.opset < 13 {
			def = 1
		}
		axis, err := c.int("axis", def)
		if err != nil {
			return err
		}
		if axis < -r || axis >= r || r == 0 {
			if !(c.opset < 13 && r > 0 && axis == r) {
				return fmt.Errorf("axis %d is out of range for rank %d", axis, r)
			}
		}
		if axis < 0 {
			axis += r
		}
		if c.opset >= 13 || axis == r-1 {
			y, err := c.emit1(op, "", []*val{x}, ir.Attrs{"axis": axis})
			if err != nil {
				return err
			}
			c.set(0, y)
			return nil
		}
		s := x.shape()
		flat, err := c.reshape(x, ir.Shape{s[:axis].NumElems(), s[axis:].NumElems()}, "flat")
		if err != nil {
			return err
		}
		y, err := c.emit1(op, "", []*val{flat}, ir.Attrs{"axis": -1})
		if err != nil {
			return err
		}
		y, err = c.reshape(y, s, "unflat")
		if err != nil {
			return err
		}
		c.set(0, y)
		return nil
	}
}

// gemm maps Y = alpha*A'B' + beta*C. With B known and A 2-D it becomes a
// dense layer whose weight is B in [out, in] layout with alpha folded in;
// otherwise matmul, mul and add.
func gemm(c *nctx) error {
	a, b, cc := c.in(0), c.in(1), c.in(2)
	alpha, err := c.float("alpha", 1)
	if err != nil {
		return err
	}
	beta, err := c.float("beta", 1)
	if err != nil {
		return err
	}
	transA, err := c.int("transA", 0)
	if err != nil {
		return err
	}
	transB, err := c.int("transB", 0)
	if err != nil {
		return err
	}
	if a.rank() != 2 || b.rank() != 2 {
		return fmt.Errorf("A and B must be 2-D, got %v and %v", a.shape(), b.shape())
	}
	if beta == 0 {
		cc = nil
	}
	if transA != 0 {
		if a, err = c.transpose(a, []int{1, 0}, "transA"); err != nil {
			return err
		}
	}
	if b.c != nil && b.c.DType == ir.F32 {
		w := b
		if transB == 0 {
			if w, err = c.transpose(b, []int{1, 0}, "transB"); err != nil {
				return err
			}
		}
		if alpha != 1 {
			if w, err = c.binary("mul", w, c.known(scalarF32(alpha), dtFloat, false), "alpha"); err != nil {
				return err
			}
		}
		nOut := w.shape()[0]
		var bias, post *val
		if cc != nil {
			if beta != 1 { // folded when C is known
				if cc, err = c.binary("mul", cc, c.known(scalarF32(beta), dtFloat, false), "beta"); err != nil {
					return err
				}
			}
			if cc.c != nil && cc.c.DType == ir.F32 {
				ct := cc.c
				cs := ct.Shape
				switch {
				case ct.Len() == nOut && (len(cs) == 1 || (len(cs) == 2 && cs[0] == 1)):
					bias = &val{name: cc.name, c: &ir.Tensor{DType: ir.F32, Shape: ir.Shape{nOut}, Data: ct.F32()}, elem: cc.elem, weight: cc.weight}
				case ct.Len() == 1:
					bt := ir.NewTensor(ir.F32, ir.Shape{nOut})
					for i := range bt.F32() {
						bt.F32()[i] = ct.F32()[0]
					}
					bias = &val{name: cc.name, c: bt, elem: cc.elem, weight: cc.weight}
				default:
					post = &val{name: cc.name, c: ct, elem: cc.elem, weight: cc.weight}
				}
			} else {
				post = cc
			}
		}
		y, err := c.emit1("dense", "", []*val{a, w, bias}, nil)
		if err != nil {
			return err
		}
		if post != nil {
			if y, err = c.binary("add", y, post, "bias"); err != nil {
				return err
			}
		}
		c.set(0, y)
		return nil
	}
	if transB != 0 {
		if b, err = c.transpose(b, []int{1, 0}, "transB"); err != nil {
			return err
		}
	}
	y, err := c.emit1("matmul", "", []*val{a, b}, nil)
	if err != nil {
		return err
	}
	// alpha and beta in the product's dtype (f32 or f64)
	scalar := func(v float64) *val {
		t := ir.NewTensor(y.typ().DType, ir.Shape{})
		t.SetFloat(0, v)
		return c.known(t, elemOf(t.DType), false)
	}
	if alpha != 1 {
		if y, err = c.binary("mul", y, scalar(alpha), "alpha"); err != nil {
			return err
		}
	}
	if cc != nil {
		if beta != 1 {
			if cc, err = c.binary("mul", cc, scalar(beta), "beta"); err != nil {
				return err
			}
		}
		if y, err = c.binary("add", y, cc, "bias"); err != nil {
			return err
		}
	}
	c.set(0, y)
	return nil
}

func matmul(c *nctx) error {
	y, err := c.emit1("matmul", "", []*val{c.in(0), c.in(1)}, nil)
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

func checkAutoPad(c *nctx) error {
	ap, err := c.str("auto_pad", "NOTSET")
	if err != nil {
		return err
	}
	switch ap {
	case "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", "":
		return nil
	}
	return unsup("auto_pad %q is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", ap)
}

func checkConv(c *nctx) error { return checkAutoPad(c) }

// window resolves kernel, strides, pads and dilations for conv and pool
// nodes over the spatial dims of x, applying auto_pad.
func (c *nctx) window(x ir.Shape, kernel []int) (strides, pads, dil []int, err error) {
	r := len(kernel)
	if len(x) != r+2 {
		return nil, nil, nil, fmt.Errorf("input %v does not have %d spatial dims for kernel %v", x, r, kernel)
	}
	ones := make([]int, r)
	for i := range ones {
		ones[i] = 1
	}
	if strides, err = c.ints("strides", ones); err != nil {
		return
	}
	if dil, err = c.ints("dilations", ones); err != nil {
		return
	}
	if pads, err = c.ints("pads", make([]int, 2*r)); err != nil {
		return
	}
	if len(strides) != r || len(dil) != r || len(pads) != 2*r {
		return nil, nil, nil, fmt.Errorf("strides %v, dilations %v and pads %v do not match kernel %v", strides, dil, pads, kernel)
	}
	for i := 0; i < r; i++ {
		if strides[i] < 1 || dil[i] < 1 || kernel[i] < 1 {
			return nil, nil, nil, fmt.Errorf("kernel %v, strides %v and dilations %v must be positive", kernel, strides, dil)
		}
	}
	ap, err := c.str("auto_pad", "NOTSET")
	if err != nil {
		return
	}
	switch ap {
	case "VALID":
		pads = make([]int, 2*r)
	case "SAME_UPPER", "SAME_LOWER":
		pads = make([]int, 2*r)
		for i := 0; i < r; i++ {
			in := x[2+i]
			out := (in + strides[i] - 1) / strides[i]
			eff := dil[i]*(kernel[i]-1) + 1
			total := (out-1)*strides[i] + eff - in
			if total < 0 {
				total = 0
			}
			small := total / 2
			if ap == "SAME_UPPER" {
				pads[i], pads[r+i] = small, total-small
			} else {
				pads[i], pads[r+i] = total-small, small
			}
		}
	}
	return strides, pads, dil, nil
}

func conv(c *nctx) error {
	x, w, b := c.in(0), c.in(1), c.in(2)
	ws := w.shape()
	if len(ws) < 3 {
		return fmt.Errorf("weight %v must have spatial dims", ws)
	}
	kernel := []int(ws[2:].Clone())
	if ks, err := c.ints("kernel_shape", kernel); err != nil {
		return err
	} else if !ir.Shape(ks).Equal(ir.Shape(kernel)) {
		return fmt.Errorf("kernel_shape %v does not match weight %v", ks, ws)
	}
	group, err := c.int("group", 1)
	if err != nil {
		return err
	}
	strides, pads, dil, err := c.window(x.shape(), kernel)
	if err != nil {
		return err
	}
	// Zero padding before the conv adds to its own.
	x = foldPad(x, pads)
	y, err := c.emit1("conv", "", []*val{x, w, b}, ir.Attrs{"strides": strides, "pads": pads, "dilations": dil, "groups": group})
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

func checkPool(c *nctx) error {
	if err := checkAutoPad(c); err != nil {
		return err
	}
	if c.n.opType == "MaxPool" && c.hasOut(1) {
		if so, _ := c.int("storage_order", 0); so != 0 && so != 1 {
			return unsup("storage_order %d is not supported (0 row major, 1 column major)", so)
		}
	}
	if !c.has("kernel_shape") {
		return fmt.Errorf("kernel_shape is required")
	}
	return nil
}

// pool maps MaxPool and AveragePool. ONNX's default stride is 1 while
// ir's is the kernel, so strides are always set; count_include_pad
// defaults to 0 in ONNX. MaxPool's optional Indices output maps to
// maxpool's indices (with storage_order).
func pool(op string) func(c *nctx) error {
	return func(c *nctx) error {
		x := c.in(0)
		kernel, err := c.ints("kernel_shape", nil)
		if err != nil {
			return err
		}
		strides, pads, dil, err := c.window(x.shape(), kernel)
		if err != nil {
			return err
		}
		ceil, err := c.int("ceil_mode", 0)
		if err != nil {
			return err
		}
		attrs := ir.Attrs{"kernel": kernel, "strides": strides, "pads": pads, "dilations": dil, "ceil_mode": ceil != 0}
		if op == "avgpool" {
			cip, err := c.int("count_include_pad", 0)
			if err != nil {
				return err
			}
			attrs["count_include_pad"] = cip != 0
			if x.pad != nil {
				// Fold a pending zero pad when it makes one pool, else
				// pad first.
				fp := append([]int(nil), pads...)
				if px, ceilMode, ferr := c.foldPoolPad(x, kernel, strides, fp, dil, ceil != 0, cip != 0); ferr == nil {
					x = px
					attrs["pads"], attrs["count_include_pad"], attrs["ceil_mode"] = fp, true, ceilMode
				} else if x, err = c.im.materializePad(c.n.inputs[0], x, c.idx); err != nil {
					return err
				}
			}
		}
		if op == "maxpool" && c.hasOut(1) {
			// Indices: flat indices into X, row or column major.
			so, err := c.int("storage_order", 0)
			if err != nil {
				return err
			}
			attrs["indices"] = true
			attrs["storage_order"] = so
		}
		ys, err := c.emit(op, "", []*val{x}, attrs)
		if err != nil {
			return err
		}
		for i, y := range ys {
			c.set(i, y)
		}
		return nil
	}
}

func checkBatchNorm(c *nctx) error {
	if tm, _ := c.int("training_mode", 0); tm != 0 {
		return unsup("training_mode=1 (batch statistics) is not supported")
	}
	if sp, _ := c.int("spatial", 1); sp != 1 {
		return unsup("spatial=0 is not supported")
	}
	for i := 1; i < len(c.n.outputs); i++ {
		if c.hasOut(i) {
			return unsup("outputs beyond Y (training statistics) are not supported")
		}
	}
	return nil
}

func batchNorm(c *nctx) error {
	eps, err := c.float("epsilon", 1e-5)
	if err != nil {
		return err
	}
	// Running statistics are constants, not trainable parameters.
	for _, s := range []*val{c.in(3), c.in(4)} {
		if s.c != nil && s.v == nil {
			s.weight = false
		}
	}
	y, err := c.emit1("batchnorm", "", []*val{c.in(0), c.in(1), c.in(2), c.in(3), c.in(4)}, ir.Attrs{"epsilon": eps})
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

func flatten(c *nctx) error {
	x := c.in(0)
	axis, err := c.int("axis", 1)
	if err != nil {
		return err
	}
	s := x.shape()
	r := len(s)
	if axis < -r || axis > r {
		return fmt.Errorf("axis %d is out of range for rank %d", axis, r)
	}
	if axis < 0 {
		axis += r
	}
	y, err := c.reshape(x, ir.Shape{s[:axis].NumElems(), s[axis:].NumElems()}, "")
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

func checkReshape(c *nctx) error {
	if c.opset < 5 || c.has("shape") {
		return unsup("the shape attribute (opset < 5) is not supported")
	}
	return nil
}

// reshape resolves the target shape at import: -1 is inferred, 0 copies
// the input dimension unless allowzero=1.
func reshape(c *nctx) error {
	x := c.in(0)
	target, ok, err := c.constInts(1, "shape")
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("the shape input is missing")
	}
	allowZero, err := c.int("allowzero", 0)
	if err != nil {
		return err
	}
	var s ir.Shape
	if allowZero != 0 && slicesContains(target, 0) {
		// A literal 0: the result is empty, hence known at import.
		s, _, err = shapeOf(toInt64s(target))
		if err != nil {
			return err
		}
		if s.NumElems() != 0 || x.shape().NumElems() != 0 {
			return fmt.Errorf("cannot reshape %v to %v", x.shape(), target)
		}
		c.set(0, c.known(ir.NewTensor(x.typ().DType, s), x.elem, false))
		return nil
	}
	if s, err = ir.ReshapeShape(x.shape(), target); err != nil {
		return err
	}
	y, err := c.reshape(x, s, "")
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

func transpose(c *nctx) error {
	x := c.in(0)
	r := x.rank()
	def := make([]int, r)
	for i := range def {
		def[i] = r - 1 - i
	}
	perm, err := c.ints("perm", def)
	if err != nil {
		return err
	}
	y, err := c.transpose(x, perm, "")
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

func concat(c *nctx) error {
	if !c.has("axis") {
		return fmt.Errorf("attribute axis is required")
	}
	axis, err := c.int("axis", 0)
	if err != nil {
		return err
	}
	var xs []*val
	for i := range c.n.inputs {
		if x := c.in(i); x != nil {
			xs = append(xs, x)
		}
	}
	y, err := c.concat(xs, axis, "")
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

// gather maps Gather to ir gather (numpy's take), folded when everything is
// known. It is never an embedding, even on a known f32 matrix at axis 0:
// ONNX lets an id count from the end (-1 is the last row), and embedding
// keeps PyTorch's nn.Embedding rule that refuses negative ids.
func gather(c *nctx) error {
	data, idx := c.in(0), c.in(1)
	axis, err := c.int("axis", 0)
	if err != nil {
		return err
	}
	y, err := c.gather(data, idx, axis, "")
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

// squeeze maps Squeeze and Unsqueeze (axes an attribute before opset 13,
// an input after) to a reshape.
func squeeze(unsq bool) func(c *nctx) error {
	return func(c *nctx) error {
		x := c.in(0)
		var axes []int
		var err error
		if c.opset < 13 {
			axes, err = c.ints("axes", nil)
		} else {
			axes, _, err = c.constInts(1, "axes")
		}
		if err != nil {
			return err
		}
		s := x.shape()
		var out ir.Shape
		if unsq {
			r := len(s) + len(axes)
			ins := make([]bool, r)
			for _, a := range axes {
				na, err := ir.NormAxis(a, r)
				if err != nil {
					return err
				}
				if ins[na] {
					return fmt.Errorf("axes %v repeat axis %d", axes, na)
				}
				ins[na] = true
			}
			j := 0
			for i := 0; i < r; i++ {
				if ins[i] {
					out = append(out, 1)
				} else {
					out = append(out, s[j])
					j++
				}
			}
		} else {
			drop := make([]bool, len(s))
			for _, a := range axes {
				na, err := ir.NormAxis(a, len(s))
				if err != nil {
					return err
				}
				if s[na] != 1 {
					return fmt.Errorf("axis %d of %v has size %d, want 1", a, s, s[na])
				}
				drop[na] = true
			}
			out = ir.Shape{}
			for i, d := range s {
				if drop[i] || (len(axes) == 0 && d == 1) {
					continue
				}
				out = append(out, d)
			}
		}
		y, err := c.reshape(x, out, "")
		if err != nil {
			return err
		}
		c.set(0, y)
		return nil
	}
}

// clip takes its bounds from attributes before opset 11 and from known
// inputs after.
func clip(c *nctx) error {
	x := c.in(0)
	lo, hi := math.Inf(-1), math.Inf(1)
	if c.opset < 11 {
		var err error
		if lo, err = c.float("min", lo); err != nil {
			return err
		}
		if hi, err = c.float("max", hi); err != nil {
			return err
		}
	} else {
		for i, p := range []*float64{&lo, &hi} {
			t, err := c.constIn(i+1, [...]string{"min", "max"}[i])
			if err != nil {
				return err
			}
			if t == nil {
				continue
			}
			if t.Len() != 1 {
				return fmt.Errorf("clip bound must be a scalar, got %v", t.Type())
			}
			*p = t.Float(0)
		}
	}
	y, err := c.emit1("clip", "", []*val{x}, ir.Attrs{"min": lo, "max": hi})
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

// shapeOp folds Shape: shapes are static, so the result is a constant.
func shapeOp(c *nctx) error {
	s := c.in(0).shape()
	r := len(s)
	start, err := c.int("start", 0)
	if err != nil {
		return err
	}
	end, err := c.int("end", r)
	if err != nil {
		return err
	}
	clamp := func(v int) int {
		if v < 0 {
			v += r
		}
		return max(0, min(v, r))
	}
	start, end = clamp(start), clamp(end)
	dims := []int{}
	if start < end {
		dims = s[start:end]
	}
	c.set(0, c.known(i64s(dims...), dtInt64, false))
	return nil
}

func checkCast(c *nctx) error {
	if !c.has("to") {
		return fmt.Errorf("attribute to is required")
	}
	to, err := c.int("to", 0)
	if err != nil {
		return err
	}
	if _, err := irDType(int32(to)); err != nil {
		return unsup("cast to %s: %v", dtName(int32(to)), err)
	}
	return nil
}

// cast maps Cast onto ir cast (ir.Convert's rules), folded when x is
// known; saturate (opset 19) and round_mode (opset 24) go to the cast's
// no_saturate and round (ops_quant.go).
func cast(c *nctx) error {
	to, err := c.int("to", 0)
	if err != nil {
		return err
	}
	dt, err := irDType(int32(to))
	if err != nil {
		return unsup("cast to %s: %v", dtName(int32(to)), err)
	}
	y, err := c.castMode(c.in(0), dt)
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

// castTo converts x to dtype dt: x itself when it has it, a fold when x
// is known, else an ir cast.
func (c *nctx) castTo(x *val, dt ir.DType) (*val, error) {
	return c.castWith(x, dt, ir.Attrs{"to": dt.String()})
}

// castWith is castTo with the cast's attributes given.
func (c *nctx) castWith(x *val, dt ir.DType, attrs ir.Attrs) (*val, error) {
	switch {
	case x.typ().DType == dt:
		return x, nil
	case x.c != nil:
		t, err := evalKnown("cast", attrs, x.c)
		if err != nil {
			return nil, err
		}
		return &val{name: x.name, c: t, elem: elemOf(dt), weight: x.weight, key: derivedKey("cast", attrs, x)}, nil
	}
	return c.emit1("cast", "", []*val{x}, attrs)
}

// slice becomes one gather per sliced axis with known indices, folded
// when the data is known.
func slice(c *nctx) error {
	x := c.in(0)
	s := x.shape()
	var starts, ends, axes, steps []int
	var err error
	if c.opset < 10 {
		if starts, err = c.ints("starts", nil); err != nil {
			return err
		}
		if ends, err = c.ints("ends", nil); err != nil {
			return err
		}
		if axes, err = c.ints("axes", nil); err != nil {
			return err
		}
	} else {
		if starts, _, err = c.constInts(1, "starts"); err != nil {
			return err
		}
		if ends, _, err = c.constInts(2, "ends"); err != nil {
			return err
		}
		if axes, _, err = c.constInts(3, "axes"); err != nil {
			return err
		}
		if steps, _, err = c.constInts(4, "steps"); err != nil {
			return err
		}
	}
	if len(starts) != len(ends) {
		return fmt.Errorf("starts %v and ends %v differ in length", starts, ends)
	}
	if axes == nil {
		for i := range starts {
			axes = append(axes, i)
		}
	}
	if steps == nil {
		for range starts {
			steps = append(steps, 1)
		}
	}
	if len(axes) != len(starts) || len(steps) != len(starts) {
		return fmt.Errorf("starts %v, ends %v, axes %v and steps %v differ in length", starts, ends, axes, steps)
	}
	y := x
	seen := map[int]bool{}
	for k, a := range axes {
		na, err := ir.NormAxis(a, len(s))
		if err != nil {
			return err
		}
		if seen[na] {
			return fmt.Errorf("axes %v repeat axis %d", axes, na)
		}
		seen[na] = true
		d, st := s[na], steps[k]
		if st == 0 {
			return fmt.Errorf("steps must not be 0")
		}
		b, e := starts[k], ends[k]
		if b < 0 {
			b += d
		}
		if e < 0 {
			e += d
		}
		var idx []int
		if d > maxFold {
			return unsup("slicing an axis of %d elements is not supported", d)
		}
		if st > 0 {
			b, e = max(0, min(b, d)), max(0, min(e, d))
			for i := b; i < e; i += st {
				idx = append(idx, i)
			}
		} else {
			b, e = max(-1, min(b, d-1)), max(-1, min(e, d-1))
			for i := b; i > e; i += st {
				idx = append(idx, i)
			}
		}
		whole := len(idx) == d
		for i, j := range idx {
			whole = whole && i == j
		}
		if whole {
			continue
		}
		if y, err = c.gather(y, c.known(i64s(idx...), dtInt64, false), na, fmt.Sprintf("axis%d", na)); err != nil {
			return err
		}
	}
	c.set(0, y)
	return nil
}

func checkConstant(c *nctx) error {
	for _, a := range c.n.attrs {
		switch a.name {
		case "value", "value_float", "value_floats", "value_int", "value_ints":
		case "sparse_value":
			return unsup("sparse_value is not supported")
		case "value_string", "value_strings":
			return unsup("string constants are not supported")
		}
	}
	return nil
}

func constant(c *nctx) error {
	if len(c.n.attrs) != 1 {
		return fmt.Errorf("a Constant node takes exactly one attribute, got %d", len(c.n.attrs))
	}
	a := c.n.attrs[0]
	var t *ir.Tensor
	elem := int32(dtFloat)
	switch a.name {
	case "value":
		if a.t == nil {
			return fmt.Errorf("attribute value holds no tensor")
		}
		var err error
		if t, err = tensorData(a.t, c.im.dir); err != nil {
			return fmt.Errorf("value: %w", err)
		}
		elem = a.t.dataType
	case "value_float":
		t = scalarF32(float64(a.f))
	case "value_floats":
		t = &ir.Tensor{DType: ir.F32, Shape: ir.Shape{len(a.floats)}, Data: append([]float32{}, a.floats...)}
	case "value_int":
		t = &ir.Tensor{DType: ir.I64, Shape: ir.Shape{}, Data: []int64{a.i}}
		elem = dtInt64
	case "value_ints":
		t = &ir.Tensor{DType: ir.I64, Shape: ir.Shape{len(a.ints)}, Data: append([]int64{}, a.ints...)}
		elem = dtInt64
	default:
		return unsup("attribute %s is not supported", a.name)
	}
	c.set(0, c.known(t, elem, false))
	return nil
}

// lower compares activation names case-insensitively, as runtimes do.
func lower(s string) string { return strings.ToLower(s) }

func slicesContains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func toInt64s(s []int) []int64 {
	out := make([]int64, len(s))
	for i, v := range s {
		out[i] = int64(v)
	}
	return out
}

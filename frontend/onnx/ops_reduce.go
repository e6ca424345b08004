package onnx

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// ReduceMin, ReduceProd, ReduceL1, ReduceL2, ReduceLogSum,
// ReduceLogSumExp, ReduceSumSquare (through reduce, ops.go), ArgMax,
// ArgMin and CumSum (ir/ops_reduce2.go).

func init() {
	for onnxName, op := range map[string]string{
		"ReduceMin": "reduce_min", "ReduceProd": "reduce_prod", "ReduceL1": "reduce_l1", "ReduceL2": "reduce_l2",
		"ReduceLogSum": "reduce_log_sum", "ReduceLogSumExp": "reduce_log_sum_exp", "ReduceSumSquare": "reduce_sum_square",
	} {
		opTable[onnxName] = opConv{1, nil, reduce(op, 18)} // axes an input from opset 18
	}
	opTable["ArgMax"] = opConv{1, nil, argReduce("argmax")}
	opTable["ArgMin"] = opConv{1, nil, argReduce("argmin")}
	opTable["CumSum"] = opConv{2, nil, cumsum("cumsum")}
	opTable["CumProd"] = opConv{2, nil, cumsum("cumprod")}
}

// argReduce maps ArgMax and ArgMin; ONNX keeps the axis by default.
func argReduce(op string) func(c *nctx) error {
	return func(c *nctx) error {
		x := c.in(0)
		if x.typ().DType != ir.F32 {
			return unsup("%s of %s tensors is not supported (f32 only)", c.n.opType, dtName(x.elem))
		}
		axis, err := c.int("axis", 0)
		if err != nil {
			return err
		}
		keep, err := c.int("keepdims", 1)
		if err != nil {
			return err
		}
		last, err := c.int("select_last_index", 0)
		if err != nil {
			return err
		}
		y, err := c.emit1(op, "", []*val{x}, ir.Attrs{"axis": axis, "keepdims": keep != 0, "select_last_index": last != 0})
		if err != nil {
			return err
		}
		c.set(0, y)
		return nil
	}
}

// cumsum maps CumSum or CumProd (op), whose axis is a known scalar input.
func cumsum(op string) func(c *nctx) error {
	return func(c *nctx) error {
		x := c.in(0)
		if set := ir.Lookup(op).Inputs[0].DTypes; !set.Has(x.typ().DType) {
			return unsup("%s of %s tensors is not supported (%v only)", c.n.opType, dtName(x.elem), set)
		}
		axes, _, err := c.constInts(1, "axis")
		if err != nil {
			return err
		}
		if len(axes) != 1 {
			return fmt.Errorf("axis must hold one value, got %v", axes)
		}
		excl, err := c.int("exclusive", 0)
		if err != nil {
			return err
		}
		rev, err := c.int("reverse", 0)
		if err != nil {
			return err
		}
		y, err := c.emit1(op, "", []*val{x}, ir.Attrs{"axis": axes[0], "exclusive": excl != 0, "reverse": rev != 0})
		if err != nil {
			return err
		}
		c.set(0, y)
		return nil
	}
}

func init() { opTable["TopK"] = opConv{2, nil, topk} }

// topk maps TopK (k a known input from opset 10, an attribute before);
// sorted=0 leaves the order open, so the sorted order serves.
func topk(c *nctx) error {
	x := c.in(0)
	if !ir.TopKDTypes.Has(x.typ().DType) {
		return unsup("TopK of %s tensors is not supported (%v only)", dtName(x.elem), ir.TopKDTypes)
	}
	var k int
	if c.opset < 10 {
		var err error
		if k, err = c.int("k", -1); err != nil {
			return err
		}
	} else {
		ks, _, err := c.constInts(1, "k")
		if err != nil {
			return err
		}
		if len(ks) != 1 {
			return fmt.Errorf("k must hold one value, got %v", ks)
		}
		k = ks[0]
	}
	axis, err := c.int("axis", -1)
	if err != nil {
		return err
	}
	largest, err := c.int("largest", 1)
	if err != nil {
		return err
	}
	ys, err := c.emit("topk", "", []*val{x}, ir.Attrs{"k": k, "axis": axis, "largest": largest != 0})
	if err != nil {
		return err
	}
	for i, y := range ys {
		c.set(i, y)
	}
	return nil
}

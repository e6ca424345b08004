package onnx

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// LpNormalization (x over its L1 or L2 norm along an axis, through the ir
// reductions, comparison and where), MeanVarianceNormalization (through
// reduce_mean and arithmetic) and EyeLike (a constant: shapes are
// static).

func init() {
	opTable["LpNormalization"] = opConv{1, nil, lpNorm}
	opTable["EyeLike"] = opConv{1, nil, eyeLike}
	opTable["MeanVarianceNormalization"] = opConv{1, nil, mvn}
}

// mvn is (x - E[x]) / (sqrt(E[x²] - E[x]²) + 1e-9) over axes (default
// 0, 2, 3), ONNX's definition, through reduce_mean and arithmetic.
func mvn(c *nctx) error {
	x := c.in(0)
	axes, err := c.ints("axes", []int{0, 2, 3})
	if err != nil {
		return err
	}
	attrs := ir.Attrs{"axes": axes, "keepdims": true}
	mean, err := c.emit1("reduce_mean", "mean", []*val{x}, attrs)
	if err != nil {
		return err
	}
	sq, err := c.binary("mul", x, x, "sq")
	if err != nil {
		return err
	}
	sqMean, err := c.emit1("reduce_mean", "sq_mean", []*val{sq}, attrs)
	if err != nil {
		return err
	}
	meanSq, err := c.binary("mul", mean, mean, "mean_sq")
	if err != nil {
		return err
	}
	v, err := c.binary("sub", sqMean, meanSq, "var")
	if err != nil {
		return err
	}
	std, err := c.emit1("sqrt", "std", []*val{v}, nil)
	if err != nil {
		return err
	}
	if std, err = c.binary("add", std, c.known(scalarF32(1e-9), 1, false), "std_eps"); err != nil {
		return err
	}
	d, err := c.binary("sub", x, mean, "centered")
	if err != nil {
		return err
	}
	y, err := c.binary("div", d, std, "")
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

// lpNorm divides x by its p-norm along axis; a zero norm divides by 1
// (ONNX's reference), so an all-zero slice stays 0.
func lpNorm(c *nctx) error {
	x := c.in(0)
	axis, err := c.int("axis", -1)
	if err != nil {
		return err
	}
	p, err := c.int("p", 2)
	if err != nil {
		return err
	}
	op := map[int]string{1: "reduce_l1", 2: "reduce_l2"}[p]
	if op == "" {
		return fmt.Errorf("p must be 1 or 2, got %d", p)
	}
	n, err := c.emit1(op, "norm", []*val{x}, ir.Attrs{"axes": []int{axis}, "keepdims": true})
	if err != nil {
		return err
	}
	zero, err := c.emit1("eq", "norm_zero", []*val{n, c.known(scalarF32(0), 1, false)}, nil)
	if err != nil {
		return err
	}
	if n, err = c.emit1("where", "norm_safe", []*val{zero, c.known(scalarF32(1), 1, false), n}, nil); err != nil {
		return err
	}
	y, err := c.emit1("div", "", []*val{x, n}, nil)
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

// eyeLike is the known tensor of x's 2-D shape with ones on diagonal k,
// of x's dtype or the dtype attribute.
func eyeLike(c *nctx) error {
	x := c.in(0)
	s := x.shape()
	if len(s) != 2 {
		return fmt.Errorf("input must be 2-D, got %v", s)
	}
	dt := x.typ().DType
	if c.has("dtype") {
		to, err := c.int("dtype", 0)
		if err != nil {
			return err
		}
		if dt, err = irDType(int32(to)); err != nil {
			return unsup("dtype %s: %v", dtName(int32(to)), err)
		}
	}
	k, err := c.int("k", 0)
	if err != nil {
		return err
	}
	if s.NumElems() > maxFold {
		return unsup("an EyeLike of shape %v is too large to fold", s)
	}
	t := ir.NewTensor(dt, s)
	for i := range s[0] {
		if j := i + k; j >= 0 && j < s[1] {
			t.SetFloat(i*s[1]+j, 1)
		}
	}
	c.set(0, c.known(t, elemOf(dt), false))
	return nil
}

package onnx

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// LpNormalization (x over its L1 or L2 norm along an axis, through the ir
// reductions, comparison and where) and EyeLike (a constant: shapes are static).

func init() {
	opTable["LpNormalization"] = opConv{1, nil, lpNorm}
	opTable["EyeLike"] = opConv{1, nil, eyeLike}
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

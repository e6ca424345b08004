package onnx

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dlcompiler/dlc/ir"
)

// Einsum maps onto ir einsum (ir/ops_einsum.go) with an explicit
// equation: ellipses become letters the equation does not use (aligned
// from the right, as numpy broadcasts them), and an equation without ->
// gets numpy's implicit output (the ellipsis, then the letters used
// once, in alphabetical order).

func init() { opTable["Einsum"] = opConv{1, nil, einsumOp} }

func einsumOp(c *nctx) error {
	eq, err := c.str("equation", "")
	if err != nil {
		return err
	}
	var xs []*val
	var shapes []ir.Shape
	for i := range c.n.inputs {
		if x := c.in(i); x != nil {
			xs = append(xs, x)
			shapes = append(shapes, x.shape())
		}
	}
	explicit, err := explicitEinsum(eq, shapes)
	if err != nil {
		return err
	}
	y, err := c.emit1("einsum", "", xs, ir.Attrs{"equation": explicit})
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

// explicitEinsum rewrites an ONNX equation without ellipses or implicit
// output. Ellipsis dimensions must agree across operands (no size-1
// broadcasting).
func explicitEinsum(eq string, shapes []ir.Shape) (string, error) {
	eq = strings.ReplaceAll(eq, " ", "")
	lhs, rhs, explicit := strings.Cut(eq, "->")
	terms := strings.Split(lhs, ",")
	if len(terms) != len(shapes) {
		return "", fmt.Errorf("equation %q has %d operands, the node %d inputs", eq, len(terms), len(shapes))
	}
	var free []rune // letters the equation does not use
	for r := 'A'; r <= 'z'; r++ {
		if (r <= 'Z' || r >= 'a') && !strings.ContainsRune(eq, r) {
			free = append(free, r)
		}
	}
	ell := 0 // the most axes an ellipsis stands for
	for i, t := range terms {
		if strings.Contains(t, "...") {
			ell = max(ell, len(shapes[i])-len([]rune(strings.ReplaceAll(t, "...", ""))))
		}
	}
	if ell > len(free) {
		return "", fmt.Errorf("equation %q: too many ellipsis axes", eq)
	}
	ellDims := make([]int, ell) // the size of each ellipsis axis, -1 unknown
	for i := range ellDims {
		ellDims[i] = -1
	}
	for i, t := range terms {
		if !strings.Contains(t, "...") {
			continue
		}
		n := len(shapes[i]) - len([]rune(strings.ReplaceAll(t, "...", "")))
		if n < 0 {
			return "", fmt.Errorf("equation %q: operand %d %v has fewer axes than letters", eq, i, shapes[i])
		}
		at := strings.Index(t, "...")
		for k := range n {
			d := shapes[i][at+k]
			j := ell - n + k
			if ellDims[j] >= 0 && ellDims[j] != d {
				return "", unsup("Einsum with broadcasting ellipsis axes (%d and %d) is not supported", ellDims[j], d)
			}
			ellDims[j] = d
		}
		terms[i] = t[:at] + string(free[ell-n:ell]) + t[at+3:]
	}
	if !explicit {
		count := map[rune]int{}
		for _, t := range terms {
			for _, r := range t {
				count[r]++
			}
		}
		var once []rune
		for r, n := range count {
			if n == 1 && !slices.Contains(free[:ell], r) {
				once = append(once, r)
			}
		}
		slices.Sort(once)
		rhs = string(free[:ell]) + string(once)
	} else {
		rhs = strings.ReplaceAll(rhs, "...", string(free[:ell]))
	}
	return strings.Join(terms, ",") + "->" + rhs, nil
}

package runtime

import (
	"fmt"
	"math"

	"github.com/dlcompiler/dlc/ir"
)

// Comparison, logic and bitwise ops, where, isnan, isinf, fmod and
// remainder (ir/ops_logic.go), with numpy broadcasting. Values pass
// through float64 (every float dtype, exactly), int64 (every integer
// dtype but u64, exactly; bool as 0 or 1) or uint64, and results are
// stored by the tensor's setters, which wrap integers to their width as
// fixed-width arithmetic does.

func init() {
	for name := range ir.LogicOps {
		register(name, logicKernel)
	}
}

// logicKernel computes every op of the family.
func logicKernel(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	shapes := make([]ir.Shape, len(in))
	for i, t := range in {
		shapes[i] = t.Shape
	}
	shape := ir.Shape{}
	for _, s := range shapes {
		var err error
		if shape, err = ir.BroadcastShapes(shape, s); err != nil {
			return nil, err
		}
	}
	idx := make([][]int, len(in))
	for i, s := range shapes {
		idx[i] = broadcastIndex(shape, s)
	}
	dt := in[len(in)-1].DType
	if ir.LogicOps[n.Op].Bool {
		dt = ir.Bool
	}
	y := ir.NewTensor(dt, shape)
	var err error
	switch n.Op {
	case "where":
		c := in[0].Bools()
		for i := range y.Len() {
			src := 2
			if c[idx[0][i]] {
				src = 1
			}
			copyElems(y, i, in[src], idx[src][i], 1)
		}
	case "isnan":
		for i := range y.Len() {
			y.Bools()[i] = math.IsNaN(in[0].Float(i))
		}
	case "isinf":
		pos, neg := n.Attrs.Bool("detect_positive"), n.Attrs.Bool("detect_negative")
		for i := range y.Len() {
			x := in[0].Float(i)
			y.Bools()[i] = pos && math.IsInf(x, 1) || neg && math.IsInf(x, -1)
		}
	case "fmod", "remainder":
		err = modKernel(n.Op == "fmod", in[0], in[1], idx, y)
	default:
		err = operatorKernel(ir.LogicOps[n.Op].Go, in, idx, y)
	}
	if err != nil {
		return nil, err
	}
	return one(y)
}

// operatorKernel applies a Go operator: comparisons, logical and
// bitwise ops, shifts. Unary ops have one input.
func operatorKernel(op string, in []*ir.Tensor, idx [][]int, y *ir.Tensor) error {
	a := in[0]
	for i := range y.Len() {
		ia := idx[0][i]
		if len(in) == 1 {
			if op == "!" {
				y.Bools()[i] = !a.Bools()[ia]
			} else { // "^": bitwise not, on the bits
				y.SetInt(i, ^a.Int(ia))
			}
			continue
		}
		b, ib := in[1], idx[1][i]
		switch {
		case y.DType == ir.Bool && (op == "&&" || op == "||"):
			x, z := a.Bools()[ia], b.Bools()[ib]
			y.Bools()[i] = op == "&&" && x && z || op == "||" && (x || z)
		case y.DType == ir.Bool:
			y.Bools()[i] = compare(op, a, ia, b, ib)
		case op == "<<" || op == ">>":
			// Unsigned operands, zero-extended into uint64: a shift by
			// the width or more clears every bit that is stored.
			x, s := uint64(a.Int(ia)), uint64(b.Int(ib))
			if op == "<<" {
				y.SetInt(i, int64(x<<s))
			} else {
				y.SetInt(i, int64(x>>s))
			}
		default:
			x, z := a.Int(ia), b.Int(ib) // u64 keeps its bits
			switch op {
			case "&":
				y.SetInt(i, x&z)
			case "|":
				y.SetInt(i, x|z)
			case "^":
				y.SetInt(i, x^z)
			default:
				return fmt.Errorf("internal error: no operator %q", op)
			}
		}
	}
	return nil
}

// compare applies a comparison operator to element ia of a and ib of b
// (one dtype): as float64 for floats, where NaN compares false; as
// int64, or uint64 for u64; bool as 0 and 1.
func compare(op string, a *ir.Tensor, ia int, b *ir.Tensor, ib int) bool {
	var c int // -1, 0, 1
	switch {
	case a.DType.IsFloat():
		x, z := a.Float(ia), b.Float(ib)
		if math.IsNaN(x) || math.IsNaN(z) {
			return op == "!="
		}
		c = cmp3(x, z)
	case a.DType == ir.U64:
		c = cmp3(uint64(a.Int(ia)), uint64(b.Int(ib)))
	default:
		c = cmp3(a.Int(ia), b.Int(ib))
	}
	switch op {
	case "==":
		return c == 0
	case "!=":
		return c != 0
	case "<":
		return c < 0
	case ">":
		return c > 0
	case "<=":
		return c <= 0
	}
	return c >= 0
}

func cmp3[T int64 | uint64 | float64](x, z T) int {
	switch {
	case x < z:
		return -1
	case x > z:
		return 1
	}
	return 0
}

// modKernel is fmod (trunc, the sign of a) or remainder (the sign of b).
// Floats are exact (math.Mod) and give NaN for b = 0; integers fail on a
// zero divisor, naming the element.
func modKernel(trunc bool, a, b *ir.Tensor, idx [][]int, y *ir.Tensor) error {
	for i := range y.Len() {
		ia, ib := idx[0][i], idx[1][i]
		switch {
		case a.DType.IsFloat():
			x, z := a.Float(ia), b.Float(ib)
			if trunc {
				y.SetFloat(i, math.Mod(x, z))
			} else {
				y.SetFloat(i, ir.FloatRemainder(x, z))
			}
		case a.DType == ir.U64:
			x, z := uint64(a.Int(ia)), uint64(b.Int(ib))
			if z == 0 {
				return fmt.Errorf("element %d: integer modulo by zero (%d %% 0)", i, x)
			}
			y.SetInt(i, int64(x%z)) // unsigned: both rules agree
		default:
			r, err := ir.IntRemainder(a.Int(ia), b.Int(ib), trunc)
			if err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
			y.SetInt(i, r)
		}
	}
	return nil
}

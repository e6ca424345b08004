package ir

import (
	"fmt"
	"math"
)

// More reductions as Reduction rows (torch.amin, prod, logsumexp and the
// norms; ONNX ReduceMin, ReduceProd, ReduceL1, ReduceL2, ReduceLogSum,
// ReduceLogSumExp, ReduceSumSquare), and the index reductions argmax and
// argmin and the scan cumsum, which have their own kernels.

// logAddExp is log(e^acc + e^x) without overflow: the larger plus
// log1p(e^(smaller - larger)); -inf adds nothing, +inf stays, NaN
// spreads. Generated code calls the same statements (goLogAddExp).
func logAddExp(acc, x float64) float64 {
	if x > acc {
		acc, x = x, acc
	}
	if math.IsInf(x, -1) || math.IsInf(acc, 1) {
		return acc
	}
	return acc + math.Log1p(math.Exp(x-acc))
}

const goLogAddExp = "func(a, x float64) float64 { if x > a { a, x = x, a }; if @math.IsInf(x, -1) || @math.IsInf(a, 1) { return a }; return a + @math.Log1p(@math.Exp(x-a)) }"

func init() {
	sum := func(acc, x float64) float64 { return acc + x }
	goSum := func(acc, x string) string { return acc + " + " + x }
	sq := func(acc, x float64) float64 { return acc + x*x }
	goSq := func(acc, x string) string { return fmt.Sprintf("%s + %s*%[2]s", acc, x) }
	for _, r := range []struct {
		name, doc string
		red       *Reduction
	}{
		{"reduce_min", "minimum over axes; NaN if any element is NaN (torch.amin, ONNX ReduceMin)", &Reduction{
			Init: math.Inf(1), Combine: NaNMin, GoCombine: func(acc, x string) string { return fmt.Sprintf("min(%s, %s)", acc, x) }}},
		{"reduce_prod", "product over axes (torch.prod, ONNX ReduceProd)", &Reduction{
			Init: 1, Combine: func(acc, x float64) float64 { return acc * x }, GoCombine: func(acc, x string) string { return acc + " * " + x }}},
		{"reduce_l1", "sum of |x| over axes (torch.linalg.vector_norm ord 1, ONNX ReduceL1)", &Reduction{
			Init: 0, Combine: func(acc, x float64) float64 { return acc + math.Abs(x) },
			GoCombine: func(acc, x string) string { return acc + " + @math.Abs(" + x + ")" }}},
		{"reduce_l2", "sqrt of the sum of x² over axes (torch.linalg.vector_norm, ONNX ReduceL2)", &Reduction{
			Init: 0, Combine: sq, GoCombine: goSq,
			Finalize: func(acc float64, _ int) float64 { return math.Sqrt(acc) }, GoFinalize: func(acc string, _ int) string { return "@math.Sqrt(" + acc + ")" }}},
		{"reduce_sum_square", "sum of x² over axes (ONNX ReduceSumSquare)", &Reduction{Init: 0, Combine: sq, GoCombine: goSq}},
		{"reduce_log_sum", "log of the sum over axes (ONNX ReduceLogSum)", &Reduction{
			Init: 0, Combine: sum, GoCombine: goSum,
			Finalize: func(acc float64, _ int) float64 { return math.Log(acc) }, GoFinalize: func(acc string, _ int) string { return "@math.Log(" + acc + ")" }}},
		{"reduce_log_sum_exp", "log of the sum of e^x over axes, without overflow (torch.logsumexp, ONNX ReduceLogSumExp)", &Reduction{
			Init: math.Inf(-1), Combine: logAddExp, GoCombine: func(acc, x string) string { return goLogAddExp + "(" + acc + ", " + x + ")" }}},
	} {
		d := reduction(r.name, r.doc, r.red)
		Register(d)
	}
	for _, op := range []string{"argmax", "argmin"} {
		Register(&OpDef{
			Name: op, Doc: "the index of the " + map[string]string{"argmax": "largest", "argmin": "smallest"}[op] + " value along axis, as i64; NaN counts as beyond every number, the first index wins ties unless select_last_index (torch." + op + ", ONNX " + map[string]string{"argmax": "ArgMax", "argmin": "ArgMin"}[op] + ")",
			Class: Reduce, Pure: Pure, Stream: StreamWhole, NoGrad: "an index has no gradient",
			Inputs: []InputDef{{Name: "x", DTypes: OnlyF32}}, Outputs: []string{"y"},
			Attrs: []AttrDef{{Name: "axis", Kind: AttrInt, Default: 0, Doc: "the axis searched (negative counts from the end)"},
				{Name: "keepdims", Kind: AttrBool, Default: false, Doc: "keep the axis with size 1"},
				{Name: "select_last_index", Kind: AttrBool, Default: false, Doc: "the last index of equal values, not the first"}},
			Infer: func(n *Node) ([]TensorType, error) {
				x := in(n, 0).Shape
				a, err := normAxis(n.Attrs.Int("axis"), len(x))
				if err != nil {
					return nil, err
				}
				if x[a] == 0 {
					return nil, shapeErr("%s over axis %d of %v, which is empty", n.Op, a, x)
				}
				out := append(Shape{}, x[:a]...)
				if n.Attrs.Bool("keepdims") {
					out = append(out, 1)
				}
				return []TensorType{{I64, append(out, x[a+1:]...)}}, nil
			},
		})
	}
	for _, op := range []struct{ name, what, torch, onnx string }{
		{"cumsum", "sum", "torch.cumsum", "ONNX CumSum"}, {"cumprod", "product", "torch.cumprod", "ONNX CumProd"},
	} {
		Register(&OpDef{
			Name: op.name, Doc: "running " + op.what + " along axis; exclusive leaves out the element itself, reverse runs from the end (" + op.torch + ", " + op.onnx + ")",
			Class: Reduce, Pure: Pure, InPlace: true, Stream: StreamAlongAxis, Grad: &Grad{},
			Inputs: []InputDef{{Name: "x", DTypes: Floats | UnaryIntDTypes}}, Outputs: []string{"y"},
			Attrs: []AttrDef{{Name: "axis", Kind: AttrInt, Doc: "the axis run along (negative counts from the end)"},
				{Name: "exclusive", Kind: AttrBool, Default: false, Doc: "each result leaves out its own element"},
				{Name: "reverse", Kind: AttrBool, Default: false, Doc: "run from the end of the axis"}},
			Infer: func(n *Node) ([]TensorType, error) {
				x := in(n, 0)
				if _, err := normAxis(n.Attrs.Int("axis"), len(x.Shape)); err != nil {
					return nil, err
				}
				return []TensorType{{x.DType, x.Shape.Clone()}}, nil
			},
		})
	}
}

// noRuleYet is the NoGrad reason of the ops whose gradient rule is still
// to be written in passes/autodiff.
const noRuleYet = "no gradient rule yet"

// AxisSplit returns the sizes before, along and after axis a of shape s.
func AxisSplit(s Shape, a int) (outer, size, inner int) {
	return s[:a].NumElems(), s[a], s[a+1:].NumElems()
}

func init() {
	Register(&OpDef{
		Name: "hardmax", Doc: "1 at the first largest value along axis (NaN counts as largest), 0 elsewhere (ONNX Hardmax)",
		Class: Reduce, Pure: Pure, InPlace: true, Stream: StreamAlongAxis, Grad: &Grad{},
		Inputs: []InputDef{{Name: "x", DTypes: F32F64}}, Outputs: []string{"y"},
		Attrs: []AttrDef{{Name: "axis", Kind: AttrInt, Default: -1, Doc: "the axis searched (negative counts from the end)"}},
		Infer: func(n *Node) ([]TensorType, error) {
			x := in(n, 0)
			if _, err := normAxis(n.Attrs.Int("axis"), len(x.Shape)); err != nil {
				return nil, err
			}
			return []TensorType{{x.DType, x.Shape.Clone()}}, nil
		},
	})
}

func init() {
	Register(&OpDef{
		Name: "topk", Doc: "the k largest (or smallest) values along axis, sorted, and their i64 indices; NaN counts as the largest, equal values keep their order (torch.topk, ONNX TopK)",
		Class: Reduce, Pure: Pure, Stream: StreamAlongAxis, Grad: &Grad{},
		Inputs: []InputDef{{Name: "x", DTypes: TopKDTypes}}, Outputs: []string{"values", "indices"},
		Attrs: []AttrDef{{Name: "k", Kind: AttrInt, Doc: "how many"},
			{Name: "axis", Kind: AttrInt, Default: -1, Doc: "the axis searched (negative counts from the end)"},
			{Name: "largest", Kind: AttrBool, Default: true, Doc: "the largest values, else the smallest"}},
		Infer: func(n *Node) ([]TensorType, error) {
			x := in(n, 0).Shape
			a, err := normAxis(n.Attrs.Int("axis"), len(x))
			if err != nil {
				return nil, err
			}
			if k := n.Attrs.Int("k"); k < 0 || k > x[a] {
				return nil, shapeErr("topk: k %d is not within the %d elements of axis %d of %v", k, x[a], a, x)
			}
			s := x.Clone()
			s[a] = n.Attrs.Int("k")
			return []TensorType{{in(n, 0).DType, s}, {I64, s.Clone()}}, nil
		},
	})
}

// TopKDTypes are the dtypes topk ranks: those whose stored values order
// as their numbers do (f16 and bf16 hold bits).
var TopKDTypes = SetOf(F32, F64) | Integers

// TopKBefore reports whether v ranks strictly before w in a topk
// (largest: greater, NaN first; else smaller, NaN last), so that equal
// values keep their order.
func TopKBefore(v, w float32, largest bool) bool {
	if largest {
		return v > w || v != v && w == w
	}
	return v < w || w != w && v == v
}

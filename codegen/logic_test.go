package codegen

import (
	"math"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/runtime"
)

// logicEdges are values every logic probe puts in its inputs, converted
// to the probe's dtype: NaN, ±Inf, ±0, halves, and integer extremes
// (which a float dtype rounds or saturates).
var logicEdges = []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0, 1, -1, 2.5, -2.5, 7, -7, 3,
	-128, 127, 255, -32768, 65504, 1e10, -1e10, 9.2e18, -9.2e18, 0.75, -3, 5}

// logicInputs are a [3, 8] and b [8] of dt holding logicEdges (b
// rotated, and with no zero when dt is an integer, so that fmod and
// remainder divide).
func logicInputs(dt ir.DType) (a, b *ir.Tensor) {
	a, b = ir.NewTensor(dt, ir.Shape{3, 8}), ir.NewTensor(dt, ir.Shape{8})
	for i := range a.Len() {
		a.SetFloat(i, logicEdges[i%len(logicEdges)])
	}
	for i := range b.Len() {
		v := logicEdges[(i*5+3)%len(logicEdges)]
		if !dt.IsFloat() && ir.Convert(floatT(v), dt).Int(0) == 0 {
			v = 3
		}
		b.SetFloat(i, v)
	}
	if dt == ir.Bool {
		copy(b.Bools(), []bool{false, true, false, true, true, false, false, true})
	}
	return a, b
}

func floatT(v float64) *ir.Tensor {
	return &ir.Tensor{DType: ir.F64, Shape: ir.Shape{1}, Data: []float64{v}}
}

// TestLogicEquivalence generates every op of ir/ops_logic.go for every
// dtype it takes, on edge values with broadcasting ([3,8] with [8] and
// with [3,1]), and checks the generated code against the interpreter.
func TestLogicEquivalence(t *testing.T) {
	var probes []probe
	for _, dt := range ir.DTypes() {
		if !ir.AnyDType.Has(dt) {
			continue // the low-precision dtypes have no logic ops
		}
		b := probeGraph(t, "logic"+dt.String())
		x := b.g.AddInput("a", ir.TensorType{DType: dt, Shape: ir.Shape{3, 8}}, ir.Pos{})
		y := b.g.AddInput("b", ir.TensorType{DType: dt, Shape: ir.Shape{8}}, ir.Pos{})
		col := b.n1("reshape", []*ir.Value{b.n1("gather", []*ir.Value{x, b.constIDs([]int64{5}, 1)}, ir.Attrs{"axis": 1})}, ir.Attrs{"shape": []int{3, 1}})
		var outs []*ir.Value
		for _, op := range sortedLogicOps() {
			d := ir.Lookup(op)
			if !d.Inputs[len(d.Inputs)-1].DTypes.Has(dt) {
				continue
			}
			switch len(d.Inputs) {
			case 1:
				outs = append(outs, b.n1(op, []*ir.Value{x}, nil))
				if op == "isinf" {
					outs = append(outs, b.n1(op, []*ir.Value{x}, ir.Attrs{"detect_positive": false}), b.n1(op, []*ir.Value{x}, ir.Attrs{"detect_negative": false}))
				}
			case 2:
				outs = append(outs, b.n1(op, []*ir.Value{x, y}, nil), b.n1(op, []*ir.Value{col, y}, nil))
			case 3:
				c := b.n1("lt", []*ir.Value{x, y}, nil)
				outs = append(outs, b.n1(op, []*ir.Value{c, x, y}, nil), b.n1(op, []*ir.Value{c, col, y}, nil))
			}
		}
		b.out(outs...)
		a, bb := logicInputs(dt)
		probes = append(probes, probe{name: b.g.Name, g: b.g, ins: []*ir.Tensor{a, bb}})
	}
	runProbes(t, probes)
}

func sortedLogicOps() []string {
	var s []string
	for _, d := range ir.Ops() {
		if _, ok := ir.LogicOps[d.Name]; ok {
			s = append(s, d.Name)
		}
	}
	return s
}

// TestModByZeroGenerated: an integer fmod or remainder whose divisor
// holds a zero at run time makes Run return an error naming the layer,
// as the interpreter does, never Go's panic; a constant divisor with a
// zero is refused when generating.
func TestModByZeroGenerated(t *testing.T) {
	b := probeGraph(t, "modconst")
	a := b.ids("a", 4)
	b.g.AddOutput("y", b.n1("remainder", []*ir.Value{a, b.constIDs([]int64{1, 0, 2, 3}, 4)}, nil))
	if _, err := Generate(b.g, Options{}); err == nil || !strings.Contains(err.Error(), "remainder") || !strings.Contains(err.Error(), "modulo by zero") {
		t.Errorf("constant divisor with a zero: got %v, want an error naming the layer", err)
	}

	b = probeGraph(t, "modrun")
	a, d := b.ids("a", 4), b.ids("b", 4)
	b.g.AddOutput("y", b.n1("fmod", []*ir.Value{a, d}, nil))
	lay := b.g.Nodes[0].Name
	ins := []*ir.Tensor{i64Tensor(ir.Shape{4}, math.MinInt64, 7, -7, math.MaxInt64), i64Tensor(ir.Shape{4}, -1, 2, 2, -1)}
	runProbes(t, []probe{{
		name: "modrun", g: b.g, ins: ins,
		check: func(t *testing.T, outs []*ir.Tensor) {
			for i, w := range []int64{0, 1, -1, 0} {
				if outs[0].I64()[i] != w {
					t.Errorf("interpreter: y[%d] = %d, want %d", i, outs[0].I64()[i], w)
				}
			}
		},
		extra: callRun + `
func TestModByZero(t *testing.T) {
	err := callRun(t, func(d *selfTestData) { d.in.B[2] = 0 })
	if err == nil || !strings.Contains(err.Error(), "` + lay + `") || !strings.Contains(err.Error(), "modulo by zero") {
		t.Fatalf("got %v, want an error naming layer ` + lay + `", err)
	}
}
`,
	}})
	if _, err := runtime.Run(b.g, []*ir.Tensor{ins[0], i64Tensor(ir.Shape{4}, 1, 0, 1, 1)}); err == nil || !strings.Contains(err.Error(), lay) {
		t.Errorf("interpreter: got %v, want an error naming layer %s", err, lay)
	}
}

package codegen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/ir"
)

// TestRNNEquivalence checks the recurrent emitter's arrangement (input
// projection hoisted out of the time loop, blocked float32 h·W_hhᵀ, fast
// activations) against the float64 interpreter on shapes the blocking
// must handle: hidden sizes that are not multiples of the row block,
// stacked bidirectional batch_first layers with initial states, both gru
// reset forms, rnn relu, no bias, and long sequences with a large hidden
// size for the float32 accumulation, lstm peepholes, and the Gemv
// kernel's panel boundaries.
func TestRNNEquivalence(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	type rc struct {
		name               string
		op                 string
		T, N, F, H, L      int
		bidi, bf, bias, st bool
		extra              ir.Attrs
	}
	cases := []rc{
		{"rlstmbig", "lstm", 40, 2, 48, 128, 1, false, false, true, true, nil},
		{"rlstmodd", "lstm", 7, 3, 5, 13, 2, true, true, true, true, nil},
		{"rlstmnobias", "lstm", 5, 1, 3, 7, 1, false, false, false, false, nil},
		{"rlstmpeep", "lstm", 6, 2, 5, 10, 2, true, false, true, true, ir.Attrs{"peepholes": true}},
		{"rlstmpeepbf", "lstm", 5, 3, 4, 7, 1, false, true, false, false, ir.Attrs{"peepholes": true}},
		{"rgrulbr", "gru", 9, 2, 6, 11, 2, true, true, true, true, ir.Attrs{"linear_before_reset": true}},
		{"rgruonnx", "gru", 9, 2, 6, 11, 2, true, true, true, true, ir.Attrs{"linear_before_reset": false}},
		{"rgrubig", "gru", 30, 1, 32, 96, 1, false, false, true, false, ir.Attrs{"linear_before_reset": false}},
		{"rgrunobias", "gru", 4, 2, 3, 5, 1, true, false, false, true, ir.Attrs{"linear_before_reset": true}},
		{"rrnnrelu", "rnn", 8, 2, 4, 9, 3, true, true, true, true, ir.Attrs{"nonlinearity": "relu"}},
		{"rrnntanh", "rnn", 20, 2, 10, 33, 2, false, false, true, true, nil},
		// The Gemv kernel's panels of 64 gate rows (rnnPanels): lstm's 4H
		// = 24 in one narrow panel; gru's 3H = 216 in three whole panels
		// and one of 24, with the r·h product's H = 72 rows starting
		// inside a panel and its W_ih (216 rows, not whole 32-column
		// blocks) multiplied per step.
		{"rlstm6", "lstm", 5, 2, 7, 6, 1, false, false, true, true, nil},
		{"rgru72", "gru", 6, 1, 9, 72, 2, false, false, true, true, ir.Attrs{"linear_before_reset": false}},
	}
	dir := t.TempDir()
	writeModule(t, dir)
	var simd []string
	for i, c := range cases {
		b := &gb{t: t, g: ir.NewGraph(c.name), r: rand.New(rand.NewPCG(uint64(i), 11))}
		b.g.Batch = 1
		xs := []int{c.T, c.N, c.F}
		if c.bf {
			xs = []int{c.N, c.T, c.F}
		}
		D := 1
		if c.bidi {
			D = 2
		}
		in := []*ir.Value{b.input("x", xs...), nil}
		if c.op == "lstm" {
			in = append(in, nil)
		}
		if c.st {
			in[1] = b.input("h0", c.L*D, c.N, c.H)
			if c.op == "lstm" {
				in[2] = b.input("c0", c.L*D, c.N, c.H)
			}
		}
		ws := rnnWeights(b, c.op, c.F, c.H, c.L, c.bidi, c.bias)
		if c.H >= 32 {
			// PyTorch's initialization, U(-1/√H, 1/√H): weights in
			// [-1, 1] with H≈100 make the recurrence chaotic, and any
			// float32 reordering then grows past 1e-5 within a few steps.
			for _, w := range ws {
				for j := range w.Data.F32() {
					w.Data.F32()[j] /= float32(math.Sqrt(float64(c.H)))
				}
			}
		}
		if c.extra["peepholes"] == true {
			// p [3H] after each layer and direction's other weights.
			per := len(ws) / (c.L * D)
			var wp []*ir.Value
			for j := 0; j < len(ws); j += per {
				wp = append(append(wp, ws[j:j+per]...), b.param(3*c.H))
			}
			ws = wp
		}
		in = append(in, ws...)
		attrs := ir.Attrs{"hidden_size": c.H, "num_layers": c.L, "bidirectional": c.bidi, "batch_first": c.bf, "bias": c.bias}
		for k, v := range c.extra {
			attrs[k] = v
		}
		b.out(b.node(c.op, in, attrs)...)
		if err := ir.Verify(b.g); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		files, err := generateRef(t, b.g, b.g)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if err := WritePackage(filepath.Join(dir, c.name), files); err != nil {
			t.Fatal(err)
		}
		// Again on the SIMD kernels (rnn_simd.go): the Dot kernel over
		// the weights as stored, and the Gemv kernel over the weights
		// transposed at compile time (the hidden sizes it cannot take
		// fall back to Dot); peepholes keep the float64 gates.
		for _, kn := range []string{"avx2.dot4", "avx2.gemv64"} {
			s := &ir.Schedule{Kernel: kn, Threads: 1}
			if kn == "avx2.gemv64" {
				s.WeightLayout = "rnn-wT"
			}
			sg := WithSchedule(b.g, []string{c.op}, s)
			sg.Name = c.name + kn[strings.Index(kn, ".")+1:]
			files, err := generateRef(t, sg, b.g)
			if err != nil {
				t.Fatalf("%s: %v", sg.Name, err)
			}
			if _, ok := files["kernels_amd64.s"]; !ok && c.extra["peepholes"] != true {
				t.Errorf("%s: the SIMD schedule generated no kernels", sg.Name)
			}
			if err := WritePackage(filepath.Join(dir, sg.Name), files); err != nil {
				t.Fatal(err)
			}
			simd = append(simd, "./"+sg.Name)
		}
	}
	if out, err := goTest(t, dir, append([]string{"-count=1", "-tags", "purego"}, simd...)...); err != nil {
		t.Errorf("go test -tags purego over the SIMD recurrent packages failed: %v\n%s", err, trim(out))
	}
	if out, err := goTest(t, dir, "-count=1", "./..."); err != nil {
		t.Errorf("go test over %d recurrent packages (twice) failed: %v\n%s", len(cases), err, trim(out))
	} else {
		t.Log(fmt.Sprintf("%d packages passed", len(cases)))
	}
}

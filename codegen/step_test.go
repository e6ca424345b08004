package codegen

import (
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/ir"
)

// The streaming tests generate recurrent models into one temporary module
// and run one `go test ./...`: each generated TestStep checks that Reset +
// Step over the recorded sequence reproduces the interpreter's
// whole-sequence outputs and that Step allocates nothing.

type stepCase struct {
	name       string
	build      func(b *gb)
	streamable bool
	reason     string // part of the package doc when not streamable
}

// recStack adds a recurrent layer over x and returns its outputs.
func recStack(b *gb, op string, x, h0, c0 *ir.Value, F, H, L int, bf, bidi bool) []*ir.Value {
	in := []*ir.Value{x, h0}
	if op == "lstm" {
		in = append(in, c0)
	}
	in = append(in, rnnWeights(b, op, F, H, L, bidi, true)...)
	return b.node(op, in, ir.Attrs{"hidden_size": H, "num_layers": L, "batch_first": bf, "bidirectional": bidi})
}

// lastState is h[-1], the top layer's final hidden state [N, H].
func lastState(b *gb, h *ir.Value) *ir.Value {
	return b.n1("gather", []*ir.Value{h, b.constIDs([]int64{-1})}, ir.Attrs{"axis": 0})
}

func stepCases() []stepCase {
	const T, N, V, E, H = 6, 2, 11, 5, 4
	var cs []stepCase
	for _, op := range []string{"rnn", "lstm", "gru"} {
		for _, L := range []int{1, 2} {
			for _, bf := range []bool{false, true} {
				name := fmt.Sprintf("%s%d", op, L)
				if bf {
					name += "bf"
				}
				cs = append(cs, stepCase{name: name, streamable: true, build: func(b *gb) {
					var ids *ir.Value
					if bf {
						ids = b.ids("ids", N, T)
					} else {
						ids = b.ids("ids", T, N)
					}
					e := b.n1("embedding", []*ir.Value{ids, b.param(V, E)}, nil)
					o := recStack(b, op, e, nil, nil, E, H, L, bf, false)
					b.out(b.n1("dense", []*ir.Value{lastState(b, o[1]), b.param(3, H), b.param(3)}, nil))
				}})
			}
		}
	}
	cs = append(cs,
		// A dense layer on each step before the LSTM, a per-step output
		// (tanh of y), the last step's output and the final states.
		stepCase{name: "densefront", streamable: true, build: func(b *gb) {
			x := b.input("x", T, N, 3)
			d := b.n1("dense", []*ir.Value{x, b.param(E, 3), b.param(E)}, nil)
			d = b.n1("relu", []*ir.Value{d}, nil)
			o := recStack(b, "lstm", d, nil, nil, E, H, 2, false, false)
			last := b.n1("gather", []*ir.Value{o[0], b.constIDs([]int64{T - 1})}, ir.Attrs{"axis": 0})
			b.out(b.n1("tanh", []*ir.Value{o[0]}, nil),
				b.n1("dense", []*ir.Value{last, b.param(2, H), nil}, nil), o[1], o[2])
		}},
		// batch_first with the initial states as graph inputs, a per-step
		// head through a reshape and a softmax over features.
		stepCase{name: "statesbf", streamable: true, build: func(b *gb) {
			x := b.input("x", N, T, 3)
			h0, c0 := b.input("h0", 1, N, H), b.input("c0", 1, N, H)
			o := recStack(b, "lstm", x, h0, c0, 3, H, 1, true, false)
			r := b.n1("reshape", []*ir.Value{o[0]}, ir.Attrs{"shape": []int{0, -1, 2, H / 2}})
			y := b.n1("dense", []*ir.Value{r, b.param(3, H/2), b.param(3)}, nil)
			b.out(b.n1("softmax", []*ir.Value{y}, nil), o[1])
		}},
		// A learned initial state and a GRU after an RNN.
		stepCase{name: "learnedh0", streamable: true, build: func(b *gb) {
			x := b.input("x", T, 1, 3)
			o := recStack(b, "rnn", x, b.param(1, 1, H), nil, 3, H, 1, false, false)
			o = recStack(b, "gru", o[0], nil, nil, H, 3, 1, false, false)
			b.out(b.n1("squeeze", []*ir.Value{o[1]}, ir.Attrs{"axes": []int{0}}))
		}},
		// Fused ops as -O2 makes them, with a bias broadcast over steps.
		stepCase{name: "fused", streamable: true, build: func(b *gb) {
			x := b.input("x", N, T, 3)
			d := b.n1("fused_dense", []*ir.Value{x, b.param(E, 3), b.param(E)}, ir.Attrs{"act": "tanh"})
			o := recStack(b, "gru", d, nil, nil, E, H, 1, true, false)
			y := b.n1("fused_ewise", []*ir.Value{o[0], b.param(1, 1, H)}, ir.Attrs{"steps": "add(1);relu;tanh"})
			b.out(y, b.n1("matmul", []*ir.Value{o[1], b.param(H, 2)}, nil))
		}},
		// Issue 8 bug 5: a bias-free dense (two inputs, the optional
		// bias left out) on each step of a recurrent layer's sequence.
		stepCase{name: "densenobias", streamable: true, build: func(b *gb) {
			x := b.input("x", 4, 1, 3)
			o := recStack(b, "rnn", x, nil, nil, 3, 2, 1, false, false)
			b.out(b.n1("dense", []*ir.Value{o[0], b.param(2, 2)}, nil))
		}},
		stepCase{name: "bidi", reason: "is bidirectional", build: func(b *gb) {
			ids := b.ids("ids", N, T)
			e := b.n1("embedding", []*ir.Value{ids, b.param(V, E)}, nil)
			o := recStack(b, "lstm", e, nil, nil, E, H, 1, true, true)
			b.out(b.n1("dense", []*ir.Value{lastState(b, o[1]), b.param(3, H), b.param(3)}, nil))
		}},
		stepCase{name: "flattent", reason: "reshapes across the time axis", build: func(b *gb) {
			x := b.input("x", 1, T, 3)
			o := recStack(b, "gru", x, nil, nil, 3, H, 1, true, false)
			f := b.n1("flatten", []*ir.Value{o[0]}, nil)
			b.out(b.n1("dense", []*ir.Value{f, b.param(2, T*H), nil}, nil))
		}},
		// A reduction over features before the time axis is dropped
		// (batch_first: time moves from axis 1 to 0).
		stepCase{name: "reduceaxes", streamable: true, build: func(b *gb) {
			x := b.input("x", N, T, 3)
			o := recStack(b, "gru", x, nil, nil, 3, H, 1, true, false)
			b.out(b.n1("reduce_max", []*ir.Value{o[0]}, ir.Attrs{"axes": []int{0, 2}}))
		}},
		stepCase{name: "reducet", reason: "reduces over the time axis", build: func(b *gb) {
			x := b.input("x", T, 1, 3)
			o := recStack(b, "rnn", x, nil, nil, 3, H, 1, false, false)
			b.out(b.n1("reduce_sum", []*ir.Value{o[0]}, ir.Attrs{"axes": []int{0}, "keepdims": true}))
		}},
		stepCase{name: "softmaxt", reason: "normalizes over the time axis", build: func(b *gb) {
			x := b.input("x", T, 1, 3)
			o := recStack(b, "rnn", x, nil, nil, 3, H, 1, false, false)
			b.out(b.n1("softmax", []*ir.Value{o[0]}, ir.Attrs{"axis": 0}))
		}},
	)
	return cs
}

func TestStep(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	dir := t.TempDir()
	writeModule(t, dir)
	cs := stepCases()
	simd := 0
	for i, c := range cs {
		b := &gb{t: t, g: ir.NewGraph(c.name), r: rand.New(rand.NewPCG(uint64(i), 11))}
		b.g.Batch = 1
		c.build(b)
		if err := ir.Verify(b.g); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		files, err := generateCase(t, b.g)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		api := string(files[c.name+".go"])
		hasStep := strings.Contains(api, "func (m *Model) Step(") && strings.Contains(api, "func (m *Model) Reset()")
		if hasStep != c.streamable {
			t.Errorf("%s: Step generated = %v, want %v", c.name, hasStep, c.streamable)
		}
		if c.streamable {
			if _, ok := files["kernels_step.go"]; !ok || !strings.Contains(string(files[c.name+"_test.go"]), "func TestStep(") {
				t.Errorf("%s: kernels_step.go or TestStep missing", c.name)
			}
		} else if flat := strings.ReplaceAll(api, "\n// ", " "); !strings.Contains(flat, "There is no streaming Step API for this model:") || !strings.Contains(flat, c.reason) {
			t.Errorf("%s: package doc does not say why there is no Step (want %q):\n%s", c.name, c.reason, api[:min(len(api), 3000)])
		}
		if err := WritePackage(filepath.Join(dir, c.name), files); err != nil {
			t.Fatal(err)
		}
		if !c.streamable {
			continue
		}
		// Again with the recurrent layers on the SIMD kernels
		// (rnn_simd.go), in Run and in Step: lstm (H even) on the Gemv
		// kernel over its weights packed at compile time, rnn and gru
		// (H not a multiple of 8) on the Dot kernel.
		sg := WithSchedule(b.g, []string{"rnn", "lstm", "gru"}, &ir.Schedule{Kernel: "avx2.gemv64", WeightLayout: "rnn-wT", Threads: 1})
		sg.Name = c.name + "simd"
		files, err = generateRef(t, sg, b.g)
		if err != nil {
			t.Fatalf("%s: %v", sg.Name, err)
		}
		if !strings.Contains(string(files["kernels_step.go"]), "simdAct(") {
			t.Errorf("%s: the Step kernels do not run the SIMD recurrent path", sg.Name)
		}
		if err := WritePackage(filepath.Join(dir, sg.Name), files); err != nil {
			t.Fatal(err)
		}
		simd++
	}
	args := []string{"-count=1", "-run", "TestSelfTest|TestStep", "./..."}
	if testing.Verbose() {
		args = append(args, "-v")
	}
	out, err := goTest(t, dir, args...)
	if testing.Verbose() {
		t.Log(out)
	}
	if err != nil {
		t.Errorf("go test ./... over %d generated packages failed: %v\n%s", len(cs), err, out[:min(len(out), 30000)])
	}
	if n := strings.Count("\n"+out, "\nok "); n != len(cs)+simd {
		t.Errorf("%d packages passed, want %d:\n%s", n, len(cs)+simd, out)
	}
	if n, want := strings.Count(out, "--- PASS: TestStep"), countStreamable(cs)+simd; testing.Verbose() && n != want {
		t.Errorf("%d generated TestStep passed, want %d", n, want)
	}
	vet := exec.Command("go", "vet", "./...")
	vet.Dir = dir
	if b, err := vet.CombinedOutput(); err != nil {
		t.Errorf("go vet on the generated packages: %v\n%s", err, b)
	}
}

// TestStreamRules checks the per-step analysis on single ops.
func TestStreamRules(t *testing.T) {
	for _, tc := range []struct {
		in, out ir.Shape
		a, want int
	}{
		{ir.Shape{2, 6, 4}, ir.Shape{12, 4}, 1, -1},
		{ir.Shape{1, 6, 4}, ir.Shape{6, 4}, 1, 0},
		{ir.Shape{6, 2, 4}, ir.Shape{6, 8}, 0, 0},
		{ir.Shape{6, 2, 4}, ir.Shape{6, 1, 2, 4}, 0, 0},
		{ir.Shape{2, 6}, ir.Shape{12}, 1, -1},
		{ir.Shape{2, 6, 4}, ir.Shape{2, 6, 2, 2}, 1, 1},
	} {
		if got := viewAxis(tc.in, tc.out, tc.a, 6); got != tc.want {
			t.Errorf("viewAxis(%v → %v, axis %d) = %d, want %d", tc.in, tc.out, tc.a, got, tc.want)
		}
	}
}

func countStreamable(cs []stepCase) int {
	n := 0
	for _, c := range cs {
		if c.streamable {
			n++
		}
	}
	return n
}

// TestStreamAbsentInputs runs the streaming analysis on layers whose
// optional inputs are absent, as nil or left out of Node.Inputs
// altogether (issue 8 bug 5: a bias-free dense after an rnn panicked with
// "slice bounds out of range [:3] with capacity 2").
func TestStreamAbsentInputs(t *testing.T) {
	const T, N, H = 4, 1, 2
	for _, tc := range []struct {
		name  string
		build func(b *gb, y *ir.Value) *ir.Value
	}{
		{"dense [x w]", func(b *gb, y *ir.Value) *ir.Value {
			return b.n1("dense", []*ir.Value{y, b.param(2, H)}, nil)
		}},
		{"dense [x w nil]", func(b *gb, y *ir.Value) *ir.Value {
			return b.n1("dense", []*ir.Value{y, b.param(2, H), nil}, nil)
		}},
		{"fused_dense [x w]", func(b *gb, y *ir.Value) *ir.Value {
			return b.n1("fused_dense", []*ir.Value{y, b.param(H, H)}, ir.Attrs{"act": "relu"})
		}},
		{"fused_dense [x w nil residual]", func(b *gb, y *ir.Value) *ir.Value {
			return b.n1("fused_dense", []*ir.Value{y, b.param(H, H), nil, y}, ir.Attrs{"act": "tanh"})
		}},
		{"conv [x w]", func(b *gb, y *ir.Value) *ir.Value {
			// [T, N, H] as a 1-d conv over H with T as the batch axis.
			return b.n1("conv", []*ir.Value{y, b.param(2, N, 1)}, ir.Attrs{"strides": []int{1}, "pads": []int{0, 0}, "dilations": []int{1}, "groups": 1})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &gb{t: t, g: ir.NewGraph("m"), r: rand.New(rand.NewPCG(1, 2))}
			b.g.Batch = 1
			x := b.input("x", T, N, 3)
			o := recStack(b, "rnn", x, nil, nil, 3, H, 1, false, false)
			b.out(tc.build(b, o[0]))
			if err := ir.Verify(b.g); err != nil {
				t.Fatal(err)
			}
			gn, err := newGen(b.g, "m", Options{Package: "m"})
			if err != nil {
				t.Fatal(err)
			}
			if s := gn.streaming(); s == nil || s.reason != "" {
				t.Fatalf("not streamable: %+v", s)
			}
			if _, err := generateCase(t, b.g); err != nil {
				t.Fatal(err)
			}
		})
	}
}

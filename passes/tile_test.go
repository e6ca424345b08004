package passes

import (
	"testing"

	"github.com/dlcompiler/dlc/ir"
)

// TestTileSchedules checks the tiling pass's choices on a narrow first
// layer (an implicit GEMM), a wide layer whose im2col buffer overflows
// the L2 budget, a
// depthwise layer and a dense layer, and that the result still computes
// the same outputs (checkPass).
func TestTileSchedules(t *testing.T) {
	b := newBuilder(t)
	x := b.g.AddInput("x", f32(1, 3, 16, 16), ir.Pos{})
	h := b.node("conv", "narrow", ir.Attrs{"pads": []int{1, 1}}, x, b.param("w1", ir.Param, f32(4, 3, 3, 3)))
	h = b.node("conv", "wide", ir.Attrs{"pads": []int{1, 1}}, h, b.param("w2", ir.Param, f32(128, 4, 3, 3)))
	h = b.node("conv", "wider", ir.Attrs{"pads": []int{1, 1}}, h, b.param("w3", ir.Param, f32(96, 128, 3, 3)))
	h = b.node("conv", "dw", ir.Attrs{"pads": []int{1, 1}, "groups": 96}, h, b.param("w4", ir.Param, f32(96, 1, 3, 3)))
	h = b.node("flatten", "f", nil, h)
	h = b.node("dense", "fc", nil, h, b.param("w5", ir.Param, f32(10, 96*16*16)))
	b.g.AddOutput("y", h)
	g := checkPass(t, b.g, "tile")
	s := map[string]*ir.Schedule{}
	for _, n := range g.Nodes {
		s[n.Name] = n.Schedule
	}
	if s["f"] != nil {
		t.Errorf("flatten got a schedule: %v", s["f"])
	}
	for name, algo := range map[string]string{"narrow": "igemm", "wide": "im2row", "wider": "im2row", "dw": "direct"} {
		if s[name] == nil || s[name].Algo != algo {
			t.Errorf("%s: schedule %v, want algo %s", name, s[name], algo)
		}
	}
	// wider: K = 128·9 = 1152 terms in 3 passes of 384; a pass of 256
	// columns (16×16 outputs) fits ½ L2 and its panels within
	// convPanels, and ¼ L2 a pass of the 96 channels' weights: no column
	// or channel tiles.
	if w := s["wider"]; w.Tiles["k"] != 384 || w.Tiles["n"] != 0 || w.Tiles["m"] != 0 || w.Unroll != 12 || w.Kernel != "avx512.gemm12x32" || w.Vector != 0 || w.Threads != 1 {
		t.Errorf("wider: schedule %v, want k=384 unroll 12 kernel avx512.gemm12x32 on one thread", w)
	}
	if w := s["narrow"]; w.Unroll != 4 || w.Kernel != "avx512.igemm12x32" {
		t.Errorf("narrow: 4 channels: schedule %v, want unroll 4 kernel avx512.igemm12x32", w)
	}
	if w := s["wide"]; w.Tiles["n"] != 0 {
		t.Errorf("wide: K=36 fits whole: no column tiles, got %v", w)
	}
	if fc := s["fc"]; fc.Unroll != 4 || fc.Kernel != "avx2.dot4" || fc.Tiles["k"] != 0 {
		t.Errorf("fc: schedule %v, want unroll 4, kernel avx2.dot4, no k tiles", fc)
	}
	if d := s["dw"]; d.Kernel != "avx512.dw3x3s1" || d.Unroll != 1 || d.Threads != 1 {
		t.Errorf("dw: schedule %v, want kernel avx512.dw3x3s1, unroll 1, on one thread", d)
	}
}

// TestTileIm2row checks the cost model between im2col and im2row: im2row
// for stride-1 layers whose output rows do not fill whole panels and for
// stride 2 (phase planes; im2col gathers every panel), unless the wasted
// virtual columns cost more than the gather saves (a 7×7 output with 512
// channels); im2col for dilated strides, fused pools and outputs whose
// rows are whole panels. (Above the implicit GEMM's 64 channels.)
func TestTileIm2row(t *testing.T) {
	for _, c := range []struct {
		name   string
		x, w   []int
		attrs  ir.Attrs
		pool   bool
		im2row bool
	}{
		{"resnet56", []int{1, 64, 56, 56}, []int{64, 64, 3, 3}, ir.Attrs{"pads": []int{1, 1}}, false, true},
		{"vgg30", []int{1, 80, 30, 30}, []int{80, 80, 3, 3}, ir.Attrs{"pads": []int{1, 1}}, false, true},
		{"deep7", []int{1, 512, 7, 7}, []int{512, 512, 3, 3}, ir.Attrs{"pads": []int{1, 1}}, false, false},
		{"stride2", []int{1, 64, 56, 56}, []int{64, 64, 3, 3}, ir.Attrs{"pads": []int{1, 1}, "strides": []int{2, 2}}, false, true},
		{"stem", []int{1, 3, 224, 224}, []int{64, 3, 7, 7}, ir.Attrs{"pads": []int{3, 3}, "strides": []int{2, 2}}, false, true},
		{"stride2dil", []int{1, 80, 56, 56}, []int{80, 80, 3, 3}, ir.Attrs{"pads": []int{2, 2}, "strides": []int{2, 2}, "dilations": []int{2, 2}}, false, false},
		{"whole64", []int{1, 80, 64, 64}, []int{80, 80, 3, 3}, ir.Attrs{"pads": []int{1, 1}}, false, false},
		{"pool", []int{1, 80, 30, 30}, []int{80, 80, 3, 3}, ir.Attrs{"pads": []int{1, 1}}, true, false},
	} {
		b := newBuilder(t)
		x := b.g.AddInput("x", f32(c.x...), ir.Pos{})
		h := b.node("conv", c.name, c.attrs, x, b.param("w", ir.Param, f32(c.w...)))
		if c.pool {
			h = b.node("maxpool", "p", ir.Attrs{"kernel": []int{2, 2}}, h)
		}
		b.g.AddOutput("y", h)
		g := checkPass(t, b.g, "fuse,tile")
		s := g.Nodes[0].Schedule
		want := map[bool]string{true: "im2row", false: "im2col"}[c.im2row]
		if s.Algo == "tgemm" {
			// Few positions, many channels: the transposed GEMM takes
			// it (TestTileTGemm); the choice between the other two
			// still holds.
			want, s = "im2row", nil
			if im2rowWins(g.Nodes[0], gemmKernel.NR) != c.im2row {
				t.Errorf("%s: im2rowWins %v, want %v", c.name, !c.im2row, c.im2row)
			}
		}
		if s != nil && s.Algo != want {
			t.Errorf("%s: schedule %v, want algo %s", c.name, s, want)
		}
	}
}

// TestTileTGemm checks the cost model of the transposed GEMM on the
// shapes of resnet18 and mobilenet_v2 (bench/ort) it was measured on:
// the 3×3 convs at 14×14 and 7×7 and the stride-2 ones into 7×7 take it,
// so do the 1×1 convs at 7×7 with long sums or many outputs; the 3×3
// convs at 28×28 and 56×56 (im2row), the 1×1 expansions at 7×7 and 14×14
// with short sums (their input read in place), grouped convs, fused
// pools and too few output channels do not. C above 384: passes of
// about 256 input channels.
func TestTileTGemm(t *testing.T) {
	for _, c := range []struct {
		name  string
		x, w  []int
		attrs ir.Attrs
		pool  bool
		tgemm bool
		kc    int
	}{
		{"r14", []int{1, 256, 14, 14}, []int{256, 256, 3, 3}, ir.Attrs{"pads": []int{1, 1}}, false, true, 0},
		{"r7", []int{1, 512, 7, 7}, []int{512, 512, 3, 3}, ir.Attrs{"pads": []int{1, 1}}, false, true, 256},
		{"r7s2", []int{1, 256, 14, 14}, []int{512, 256, 3, 3}, ir.Attrs{"pads": []int{1, 1}, "strides": []int{2, 2}}, false, true, 0},
		{"d7", []int{1, 256, 14, 14}, []int{512, 256, 1, 1}, ir.Attrs{"strides": []int{2, 2}}, false, true, 0},
		{"m7c", []int{1, 960, 7, 7}, []int{320, 960, 1, 1}, nil, false, true, 240},
		{"m7d", []int{1, 320, 7, 7}, []int{1280, 320, 1, 1}, nil, false, true, 0},
		{"r28", []int{1, 128, 28, 28}, []int{128, 128, 3, 3}, ir.Attrs{"pads": []int{1, 1}}, false, false, 0},
		{"r56", []int{1, 64, 56, 56}, []int{64, 64, 3, 3}, ir.Attrs{"pads": []int{1, 1}}, false, false, 0},
		{"m7a", []int{1, 160, 7, 7}, []int{960, 160, 1, 1}, nil, false, false, 0},
		{"m14a", []int{1, 96, 14, 14}, []int{576, 96, 1, 1}, nil, false, false, 0},
		{"groups", []int{1, 512, 7, 7}, []int{512, 256, 3, 3}, ir.Attrs{"pads": []int{1, 1}, "groups": 2}, false, false, 0},
		{"pool", []int{1, 512, 8, 8}, []int{512, 512, 3, 3}, ir.Attrs{"pads": []int{1, 1}}, true, false, 0},
		{"few", []int{1, 512, 7, 7}, []int{24, 512, 3, 3}, ir.Attrs{"pads": []int{1, 1}}, false, false, 0},
	} {
		b := newBuilder(t)
		x := b.g.AddInput("x", f32(c.x...), ir.Pos{})
		h := b.node("conv", c.name, c.attrs, x, b.param("w", ir.Param, f32(c.w...)))
		if c.pool {
			h = b.node("maxpool", "p", ir.Attrs{"kernel": []int{2, 2}}, h)
		}
		b.g.AddOutput("y", h)
		g := checkPass(t, b.g, "fuse,tile")
		s := g.Nodes[0].Schedule
		if got := s.Algo == "tgemm"; got != c.tgemm {
			t.Errorf("%s: schedule %v, want tgemm %v", c.name, s, c.tgemm)
			continue
		}
		if c.tgemm && (s.Kernel != gemmKernel.Name || s.WeightLayout != "tpanel32" || s.Tiles["k"] != c.kc) {
			t.Errorf("%s: schedule %v, want kernel %s, layout tpanel32, k=%d", c.name, s, gemmKernel.Name, c.kc)
		}
	}
}

// TestTileDepthwiseAndRecurrent checks which convolutions get a depthwise
// kernel (the registered windows and strides, dilation 1, equal strides)
// and which recurrent layers the Gemv kernel with packed weights (gate
// blocks of whole vectors, no peepholes) or the Dot kernel.
func TestTileDepthwiseAndRecurrent(t *testing.T) {
	for _, c := range []struct {
		name   string
		w      []int
		attrs  ir.Attrs
		kernel string
	}{
		{"dw5s2", []int{8, 1, 5, 5}, ir.Attrs{"pads": []int{2, 2}, "strides": []int{2, 2}, "groups": 8}, "avx2.dw5x5s2"},
		{"grouped", []int{8, 2, 3, 3}, ir.Attrs{"pads": []int{1, 1}, "groups": 4}, "avx512.dw3x3s1"},
		{"dilated", []int{8, 1, 3, 3}, ir.Attrs{"pads": []int{2, 2}, "dilations": []int{2, 2}, "groups": 8}, ""},
		{"strides12", []int{8, 1, 3, 3}, ir.Attrs{"pads": []int{1, 1}, "strides": []int{1, 2}, "groups": 8}, ""},
		{"7x7", []int{8, 1, 7, 7}, ir.Attrs{"pads": []int{3, 3}, "groups": 8}, ""},
	} {
		b := newBuilder(t)
		x := b.g.AddInput("x", f32(1, 8, 12, 12), ir.Pos{})
		b.g.AddOutput("y", b.node("conv", c.name, c.attrs, x, b.param("w", ir.Param, f32(c.w...))))
		g := checkPass(t, b.g, "tile")
		if s := g.Nodes[0].Schedule; s.Kernel != c.kernel || s.Algo != "direct" {
			t.Errorf("%s: schedule %v, want algo direct, kernel %q", c.name, s, c.kernel)
		}
	}
	for _, c := range []struct {
		op          string
		H           int
		kernel, lay string
	}{
		{"lstm", 6, "avx2.gemv64", "rnn-wT"},
		{"lstm", 5, "avx2.dot4", ""},
		{"gru", 12, "avx2.dot4", ""},
		{"gru", 16, "avx2.gemv64", "rnn-wT"},
		{"rnn", 8, "avx2.gemv64", "rnn-wT"},
	} {
		s := rnnSchedule(&ir.Node{Op: c.op, Attrs: ir.Attrs{"hidden_size": c.H}})
		if s.Kernel != c.kernel || s.WeightLayout != c.lay {
			t.Errorf("%s H=%d: kernel %q layout %q, want %q %q", c.op, c.H, s.Kernel, s.WeightLayout, c.kernel, c.lay)
		}
	}
}

// TestTileDenseGEMM checks that a batched dense layer runs as a matrix
// product over weights pre-packed in the Gemm kernel's panels, with k and
// n cache blocks, and that one row stays on dot products.
func TestTileDenseGEMM(t *testing.T) {
	b := newBuilder(t)
	x := b.g.AddInput("x", f32(64, 300), ir.Pos{})
	h := b.node("dense", "fc1", nil, x, b.param("w1", ir.Param, f32(600, 300)))
	b.g.AddOutput("y", h)
	x1 := b.g.AddInput("x1", f32(1, 300), ir.Pos{})
	b.g.AddOutput("y1", b.node("dense", "fc2", nil, x1, b.param("w2", ir.Param, f32(600, 300))))
	x3 := b.g.AddInput("x3", f32(64, 1500), ir.Pos{})
	b.g.AddOutput("y3", b.node("dense", "fc3", nil, x3, b.param("w3", ir.Param, f32(64, 1500))))
	g := checkPass(t, b.g, "tile")
	s := map[string]*ir.Schedule{}
	for _, n := range g.Nodes {
		s[n.Name] = n.Schedule
	}
	// KC: all 300 (12 rows of x in L1); NC: 19 panels of 300×32 weights,
	// 13 in ½ L2, balanced as 10 and 9.
	if w := s["fc1"]; w.Kernel != "avx512.gemm12x32" || w.WeightLayout != "panel32" || w.Unroll != 12 ||
		w.Tiles["k"] != 0 || w.Tiles["n"] != 320 || w.Tiles["m"] != 0 {
		t.Errorf("fc1: schedule %v, want kernel avx512.gemm12x32, layout panel32, unroll 12, tiles n=320", w)
	}
	// K 1500 > 1024: three passes of 500, rounded up to 512; 2 panels of 512×32.
	if w := s["fc3"]; w.Tiles["k"] != 512 || w.Tiles["n"] != 0 {
		t.Errorf("fc3: schedule %v, want tiles k=512", w)
	}
	if w := s["fc2"]; w.Kernel != "avx2.dot4" || w.WeightLayout != "" {
		t.Errorf("fc2 (one row): schedule %v, want kernel avx2.dot4 over the weights as stored", w)
	}
}

// TestTileIGemm checks which convolutions run as an implicit GEMM: small
// ones of any rank, stride, dilation and groups, with or without a fused
// pool; not those with more than 64 channels per group, whose input or
// virtual output overflows half of L2, or that a Depthwise kernel takes.
func TestTileIGemm(t *testing.T) {
	for _, c := range []struct {
		name  string
		x, w  []int
		attrs ir.Attrs
		pool  bool
		want  bool
	}{
		{"lenet", []int{2, 1, 28, 28}, []int{6, 1, 5, 5}, ir.Attrs{"pads": []int{2, 2}}, true, true},
		{"stride2", []int{1, 16, 16, 16}, []int{32, 16, 3, 3}, ir.Attrs{"pads": []int{1, 1}, "strides": []int{2, 2}}, false, true},
		{"conv1d", []int{2, 16, 20}, []int{8, 16, 3}, nil, false, true},
		{"conv3d", []int{2, 4, 4, 6, 6}, []int{8, 4, 3, 3, 3}, ir.Attrs{"pads": []int{1, 1, 1}, "strides": []int{1, 2, 2}}, false, true},
		{"grouped", []int{1, 12, 9, 9}, []int{24, 4, 3, 3}, ir.Attrs{"pads": []int{1, 1}, "groups": 3}, false, true},
		{"dilated", []int{1, 8, 15, 15}, []int{8, 8, 3, 3}, ir.Attrs{"dilations": []int{2, 2}}, false, true},
		{"channels", []int{1, 96, 14, 14}, []int{32, 96, 3, 3}, ir.Attrs{"pads": []int{1, 1}}, false, false},
		{"large", []int{1, 64, 56, 56}, []int{64, 64, 3, 3}, ir.Attrs{"pads": []int{1, 1}}, false, false},
		{"dwgroups", []int{1, 8, 12, 12}, []int{8, 2, 3, 3}, ir.Attrs{"pads": []int{1, 1}, "groups": 4}, false, false},
		{"depthwise", []int{1, 8, 12, 12}, []int{8, 1, 3, 3}, ir.Attrs{"pads": []int{1, 1}, "groups": 8}, false, false},
	} {
		b := newBuilder(t)
		x := b.g.AddInput("x", f32(c.x...), ir.Pos{})
		h := b.node("conv", c.name, c.attrs, x, b.param("w", ir.Param, f32(c.w...)))
		if c.pool {
			h = b.node("avgpool", "p", ir.Attrs{"kernel": []int{2, 2}}, h)
		}
		b.g.AddOutput("y", h)
		g := checkPass(t, b.g, "fuse,tile")
		s := g.Nodes[0].Schedule
		if got := s.Algo == "igemm" && s.Kernel == "avx512.igemm12x32"; got != c.want {
			t.Errorf("%s: schedule %v, implicit GEMM %v, want %v", c.name, s, got, c.want)
		}
	}
}

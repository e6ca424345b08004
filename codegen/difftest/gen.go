// Package difftest is the differential tester of dlc's fast paths: it
// builds random graphs (chains of convolutions, pools, dense layers,
// activations, normalizations and recurrent layers with random shapes,
// strides, pads, dilations, groups and sizes that are not multiples of
// any vector width), compiles each at -O2 (fusion, the tiling pass's
// kernel choices, packed weights, the planned arena) and checks the
// generated package against the reference interpreter under every
// instruction set the machine has: AVX-512, AVX2 and pure Go. Graphs
// with an even seed run every kernel that can split on 3 workers
// (dlc compile -threads; -threads N forces N on every graph).
//
// A short run is part of `go test ./...`; a longer one is
//
//	go test ./codegen/difftest -run TestRandom -timeout 2h -args -n 200 -seed 1
//
// (see the package test's flags). A failure names the graph's seed and
// writes its printed IR, so `-args -n 1 -seed S -keep DIR` rebuilds
// exactly that graph and keeps its package to debug.
package difftest

import (
	"fmt"
	"math/rand/v2"

	"github.com/dlcompiler/dlc/ir"
)

// builder adds random nodes to one graph.
type builder struct {
	g *ir.Graph
	r *rand.Rand
	k int
}

// Graph returns the random graph of seed: chains independent op chains,
// each from its own input to its own output, so one generated package
// exercises several fast paths.
func Graph(seed uint64, chains int) (*ir.Graph, error) {
	b := &builder{g: ir.NewGraph(fmt.Sprintf("rand%d", seed)), r: rand.New(rand.NewPCG(seed, 0x64696666))}
	b.g.Batch = 1
	for c := range chains {
		var v *ir.Value
		var err error
		switch b.r.IntN(6) {
		case 0, 1, 2:
			v, err = b.imageChain(c)
		case 3, 4:
			v, err = b.vectorChain(c)
		default:
			v, err = b.sequenceChain(c)
		}
		if err != nil {
			return nil, fmt.Errorf("seed %d chain %d: %w", seed, c, err)
		}
		b.g.AddOutput(fmt.Sprintf("out%d", c), v)
	}
	if err := ir.Verify(b.g); err != nil {
		return nil, fmt.Errorf("seed %d: %w", seed, err)
	}
	return b.g, nil
}

func (b *builder) between(lo, hi int) int { return lo + b.r.IntN(hi-lo+1) }

func (b *builder) pick(xs ...int) int { return xs[b.r.IntN(len(xs))] }

func (b *builder) input(c int, s ...int) *ir.Value {
	return b.g.AddInput(fmt.Sprintf("x%d", c), ir.TensorType{DType: ir.F32, Shape: s}, ir.Pos{})
}

// param is a weight uniform in [-scale, scale).
func (b *builder) param(scale float64, s ...int) *ir.Value {
	b.k++
	t := ir.NewTensor(ir.F32, s)
	for i := range t.F32() {
		t.F32()[i] = float32((b.r.Float64()*2 - 1) * scale)
	}
	return b.g.AddParam(fmt.Sprintf("p%d", b.k), ir.Param, ir.TensorType{DType: ir.F32, Shape: s}, t, "", ir.Pos{})
}

func (b *builder) node(op string, in []*ir.Value, attrs ir.Attrs) ([]*ir.Value, error) {
	b.k++
	n, err := b.g.AddNode(op, fmt.Sprintf("%s%d", op, b.k), in, attrs, ir.Pos{})
	if err != nil {
		return nil, fmt.Errorf("%s %v: %w", op, attrs, err)
	}
	return n.Outputs, nil
}

func (b *builder) n1(op string, in []*ir.Value, attrs ir.Attrs) (*ir.Value, error) {
	out, err := b.node(op, in, attrs)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// activation appends a random element-wise activation (the ones conv and
// dense epilogues fuse and the Act kernels vectorize).
func (b *builder) activation(v *ir.Value) (*ir.Value, error) {
	switch b.r.IntN(10) {
	case 0, 1, 2:
		return b.n1("relu", []*ir.Value{v}, nil)
	case 3:
		return b.n1("sigmoid", []*ir.Value{v}, nil)
	case 4:
		return b.n1("tanh", []*ir.Value{v}, nil)
	case 5:
		return b.n1("leaky_relu", []*ir.Value{v}, ir.Attrs{"alpha": 0.1})
	case 6:
		return b.n1("gelu", []*ir.Value{v}, ir.Attrs{"approximate": []string{"none", "tanh"}[b.r.IntN(2)]})
	case 7:
		return b.n1("hardswish", []*ir.Value{v}, nil)
	case 8:
		return b.n1("silu", []*ir.Value{v}, nil)
	default:
		return b.n1("clip", []*ir.Value{v}, ir.Attrs{"min": 0.0, "max": 6.0})
	}
}

// conv appends a random convolution of x (NC + spatial) with groups,
// strides, pads and dilations; same keeps the shape (for a residual add).
func (b *builder) conv(x *ir.Value, same bool) (*ir.Value, error) {
	s := x.Type.Shape
	C, sp := s[1], s[2:]
	groups := 1
	switch b.r.IntN(4) {
	case 0:
		groups = C // depthwise
	case 1:
		for _, g := range []int{4, 3, 2} {
			if C%g == 0 && C > g {
				groups = g
				break
			}
		}
	}
	oc := b.pick(1, 3, 6, 8, 13, 16, 24, 32, 37, 48)
	if groups > 1 {
		oc = groups * b.pick(1, 1, 2, 3)
	}
	if same {
		oc = C
	}
	k := make([]int, len(sp))
	st := make([]int, len(sp))
	dil := make([]int, len(sp))
	pads := make([]int, 2*len(sp))
	kk := b.pick(1, 1, 3, 3, 3, 5)
	if groups == C && C > 1 {
		kk = b.pick(3, 3, 5) // the direct depthwise kernels' windows
	}
	ss := b.pick(1, 1, 1, 2)
	for i, n := range sp {
		k[i], st[i], dil[i] = min(kk, n), 1, 1
		if !same {
			st[i] = ss
			if b.r.IntN(8) == 0 {
				st[i] = b.pick(1, 2, 3)
			}
			if b.r.IntN(8) == 0 && n >= 2*k[i] {
				dil[i] = 2
			}
		}
		span := (k[i]-1)*dil[i] + 1
		pads[i] = span / 2
		pads[len(sp)+i] = span - 1 - span/2
		if !same && b.r.IntN(3) == 0 {
			pads[i], pads[len(sp)+i] = b.r.IntN(span), b.r.IntN(span)
		}
		if n+pads[i]+pads[len(sp)+i] < span {
			pads[len(sp)+i] = span - n - pads[i]
		}
	}
	var bias *ir.Value
	if b.r.IntN(4) != 0 {
		bias = b.param(0.5, oc)
	}
	fan := float64(C / groups * ir.Shape(k).NumElems())
	w := b.param(1/fan, append([]int{oc, C / groups}, k...)...)
	return b.n1("conv", []*ir.Value{x, w, bias}, ir.Attrs{"strides": st, "pads": pads, "dilations": dil, "groups": groups})
}

// batchnorm appends inference batch normalization (folded into a
// preceding convolution by the passes).
func (b *builder) batchnorm(x *ir.Value) (*ir.Value, error) {
	C := x.Type.Shape[1]
	v := b.param(0.5, C)
	for i := range v.Data.F32() {
		v.Data.F32()[i] += 1 // variances in [0.5, 1.5)
	}
	return b.n1("batchnorm", []*ir.Value{x, b.param(1, C), b.param(0.5, C), b.param(0.5, C), v}, nil)
}

// pool appends a max or average pool that fits x's spatial size.
func (b *builder) pool(x *ir.Value) (*ir.Value, error) {
	sp := x.Type.Shape[2:]
	k := make([]int, len(sp))
	st := make([]int, len(sp))
	pads := make([]int, 2*len(sp))
	kk, ss := b.pick(2, 2, 3), b.pick(1, 2, 2)
	pad := b.r.IntN(3) == 0
	for i, n := range sp {
		k[i], st[i] = min(kk, n), ss
		if pad && k[i] > 1 {
			pads[i], pads[len(sp)+i] = k[i]/2, k[i]/2
		}
	}
	attrs := ir.Attrs{"kernel": k, "strides": st, "pads": pads, "ceil_mode": b.r.IntN(3) == 0}
	if b.r.IntN(2) == 0 {
		return b.n1("maxpool", []*ir.Value{x}, attrs)
	}
	attrs["count_include_pad"] = b.r.IntN(2) == 0
	return b.n1("avgpool", []*ir.Value{x}, attrs)
}

// imageChain: an NC(D)HW input through one to four conv blocks (conv,
// optional batch norm, activation, pool or residual), sometimes ending in
// a global pool and a dense layer.
func (b *builder) imageChain(c int) (*ir.Value, error) {
	rank := b.pick(1, 2, 2, 2, 2, 3)
	s := []int{b.pick(1, 1, 1, 2), b.pick(1, 2, 3, 4, 7, 8, 16, 17, 32)}
	for range rank {
		if rank == 3 {
			s = append(s, b.between(2, 7))
		} else {
			s = append(s, b.between(3, 23))
		}
	}
	v := b.input(c, s...)
	var err error
	for range b.between(1, 3) {
		if v.Type.Shape[2:].NumElems() > 4 && b.r.IntN(4) == 0 {
			// A residual block: conv keeping the shape, added to its input.
			r := v
			if v, err = b.conv(v, true); err != nil {
				return nil, err
			}
			if v, err = b.n1("add", []*ir.Value{v, r}, nil); err != nil {
				return nil, err
			}
		} else if v, err = b.conv(v, false); err != nil {
			return nil, err
		}
		if b.r.IntN(3) == 0 {
			if v, err = b.batchnorm(v); err != nil {
				return nil, err
			}
		}
		if b.r.IntN(5) != 0 {
			if v, err = b.activation(v); err != nil {
				return nil, err
			}
		}
		if b.r.IntN(3) == 0 && v.Type.Shape[2:].NumElems() >= 4 {
			if v, err = b.pool(v); err != nil {
				return nil, err
			}
		}
	}
	if b.r.IntN(3) == 0 {
		if v, err = b.n1("global_avgpool", []*ir.Value{v}, nil); err != nil {
			return nil, err
		}
		if v, err = b.n1("flatten", []*ir.Value{v}, nil); err != nil {
			return nil, err
		}
		return b.dense(v)
	}
	return v, nil
}

func (b *builder) dense(x *ir.Value) (*ir.Value, error) {
	K := x.Type.Shape[len(x.Type.Shape)-1]
	N := b.pick(1, 5, 10, 16, 31, 32, 33, 64, 100, 130)
	var bias *ir.Value
	if b.r.IntN(4) != 0 {
		bias = b.param(0.5, N)
	}
	return b.n1("dense", []*ir.Value{x, b.param(1/float64(K), N, K), bias}, nil)
}

// vectorChain: [batch, features] through dense layers (batch 1 takes the
// dot kernels, larger batches the GEMM), activations, layer norm and a
// softmax.
func (b *builder) vectorChain(c int) (*ir.Value, error) {
	v := b.input(c, b.pick(1, 1, 2, 3, 7, 13, 64), b.pick(1, 3, 15, 16, 17, 64, 100, 200, 257))
	var err error
	for range b.between(1, 3) {
		if v, err = b.dense(v); err != nil {
			return nil, err
		}
		switch b.r.IntN(6) {
		case 5:
			// A matrix product with a constant right operand (the GEMM
			// when its columns fill the kernel's panels).
			K, N := v.Type.Shape[1], b.pick(7, 32, 64, 96)
			v, err = b.n1("matmul", []*ir.Value{v, b.param(1/float64(K), K, N)}, nil)
		case 0:
			N := v.Type.Shape[1]
			v, err = b.n1("layernorm", []*ir.Value{v, b.param(1, N), b.param(0.5, N)}, nil)
		case 1:
		default:
			v, err = b.activation(v)
		}
		if err != nil {
			return nil, err
		}
	}
	if b.r.IntN(2) == 0 {
		return b.n1("softmax", []*ir.Value{v}, nil)
	}
	return v, nil
}

// sequenceChain: [T, N, F] through an RNN, LSTM or GRU with random sizes,
// layers and directions; its sequence output, sometimes through a dense
// layer.
func (b *builder) sequenceChain(c int) (*ir.Value, error) {
	T, N, F := b.between(1, 9), b.pick(1, 1, 2, 3), b.pick(1, 4, 16, 17, 40)
	H := b.pick(1, 5, 16, 20, 32, 33, 64)
	L := b.pick(1, 1, 2)
	bidi := b.r.IntN(3) == 0
	op := []string{"rnn", "lstm", "gru"}[b.r.IntN(3)]
	x := b.input(c, T, N, F)
	in := []*ir.Value{x, nil}
	if op == "lstm" {
		in = append(in, nil)
	}
	G := ir.RNNGates(op)
	D := 1
	if bidi {
		D = 2
	}
	scale := 1 / float64(H)
	for l := range L {
		isz := F
		if l > 0 {
			isz = H * D
		}
		for range D {
			in = append(in, b.param(scale, G*H, isz), b.param(scale, G*H, H), b.param(0.5, G*H), b.param(0.5, G*H))
		}
	}
	attrs := ir.Attrs{"hidden_size": H, "num_layers": L, "bidirectional": bidi, "bias": true}
	outs, err := b.node(op, in, attrs)
	if err != nil {
		return nil, err
	}
	v := outs[0]
	if b.r.IntN(2) == 0 {
		return b.dense(v)
	}
	return v, nil
}

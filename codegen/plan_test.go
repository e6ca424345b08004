package codegen

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/ir"
)

// TestScratchPerWorker checks that kernel scratch is planned per worker:
// Schedule.Threads regions, each as large as one worker needs, aligned,
// disjoint, above every planned value, and one region (the same layout as
// before workers existed) for a one-worker schedule.
func TestScratchPerWorker(t *testing.T) {
	build := func(threads int) (*ir.Graph, *plan) {
		b := &gb{t: t, g: ir.NewGraph("m"), r: rand.New(rand.NewPCG(1, 2))}
		x := b.input("x", 1, 3, 12, 12)
		y := b.n1("conv", []*ir.Value{x, b.param(8, 3, 3, 3), b.param(8)}, nil)
		y = b.n1("conv", []*ir.Value{y, b.param(8, 8, 3, 3), nil}, ir.Attrs{"pads": []int{1, 1}})
		b.out(y)
		g := WithSchedule(b.g, []string{"conv"}, &ir.Schedule{Algo: "im2col", Unroll: 6, Kernel: "avx2.gemm6x16", Threads: threads})
		p, err := makePlan(g)
		if err != nil {
			t.Fatal(err)
		}
		return g, p
	}
	g1, p1 := build(1)
	g2, p2 := build(2)
	grow := 0
	for i, n := range g2.Nodes {
		n1 := g1.Nodes[i]
		ws, s1 := p2.workers[n], p1.scratch[n1]
		if len(ws) != 2 || len(p1.workers[n1]) != 1 {
			t.Fatalf("%s: %d and %d worker regions, want 2 and 1", n.Name, len(ws), len(p1.workers[n1]))
		}
		if p1.workers[n1][0] != s1 {
			t.Errorf("%s: one worker: region %+v, want the whole scratch %+v", n.Name, p1.workers[n1][0], s1)
		}
		for w, l := range ws {
			if l.n != s1.n || l.off%align != 0 || l.off < p2.scratch[n].off || l.off+l.n > p2.scratch[n].off+p2.scratch[n].n || l.off+l.n > p2.arenaF {
				t.Errorf("%s: worker %d region %+v: want %d elements, aligned, inside the scratch %+v and the arena (%d)", n.Name, w, l, s1.n, p2.scratch[n], p2.arenaF)
			}
			for _, v := range g2.Nodes {
				if o := p2.loc[v.Out()]; o.kind == locArena && o.dt == ir.F32 && o.off+o.n > l.off {
					t.Errorf("%s: worker %d region %+v overlaps value %s %+v", n.Name, w, l, v.Out().Name, o)
				}
			}
		}
		if ws[0].off+ws[0].n > ws[1].off {
			t.Errorf("%s: worker regions overlap: %+v %+v", n.Name, ws[0], ws[1])
		}
		grow = max(grow, p2.scratch[n].n-s1.n)
	}
	if grow == 0 || p2.arenaF < p1.arenaF+grow {
		t.Errorf("arena %d elements with two workers, %d with one: want room for the second worker's scratch (%d)", p2.arenaF, p1.arenaF, grow)
	}
}

// TestUnknownKernel checks that a schedule naming a kernel the registry
// does not have is an error naming the layer, not silently scalar code.
func TestUnknownKernel(t *testing.T) {
	b := &gb{t: t, g: ir.NewGraph("m"), r: rand.New(rand.NewPCG(1, 2))}
	x := b.input("x", 1, 32)
	b.out(b.n1("dense", []*ir.Value{x, b.param(4, 32), nil}, nil))
	g := WithSchedule(b.g, []string{"dense"}, &ir.Schedule{Kernel: "avx9.dot4"})
	_, err := Generate(g, Options{Package: "m"})
	if err == nil || !strings.Contains(err.Error(), "avx9.dot4") || !strings.Contains(err.Error(), "avx2.dot4") {
		t.Fatalf("error %v, want one naming the kernel and the registered ones", err)
	}
}

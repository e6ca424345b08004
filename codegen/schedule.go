package codegen

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// Schedules: the emitters of dense, matmul and conv describe their math
// as loops with names ("m", "n", "k" for a matrix product; "oc", "oh" for
// a convolution) and ask the node's Schedule how to arrange them:
//
//	Tiles[name]  split the loop into tiles of that size (0 or ≥ the
//	             extent: no split)
//	Order        the order of the tile loops, outermost first
//	Unroll       the register block of the innermost blocked loop (the
//	             number of outputs computed together, sharing loads)
//
// A nil Schedule is the default arrangement. A schedule changes only the
// order of the float32 additions, never which terms are summed.

// tiling is a resolved loop arrangement.
type tiling struct {
	tile  map[string]int // effective tile size, 0 = untiled
	order []string       // tile loops outermost first
	reg   int            // register block
}

// resolve fits a schedule to loops with the given extents; defReg is the
// default register block.
func resolve(s *ir.Schedule, names []string, extent map[string]int, defReg int) tiling {
	t := tiling{tile: map[string]int{}, reg: defReg}
	if s == nil {
		t.order = names
		return t
	}
	for _, n := range names {
		if v := s.Tiles[n]; v > 0 && v < extent[n] {
			t.tile[n] = v
		}
	}
	seen := map[string]bool{}
	for _, n := range s.Order {
		if _, ok := extent[n]; ok && !seen[n] {
			t.order = append(t.order, n)
			seen[n] = true
		}
	}
	for _, n := range names {
		if !seen[n] {
			t.order = append(t.order, n)
		}
	}
	if s.Unroll > 0 {
		t.reg = min(s.Unroll, 8)
	}
	return t
}

// openTiles emits the tile loops in order and returns, per loop name,
// the Go expressions of the inner range [lo, hi). Untiled loops get the
// constant range [0, extent). close emits the closing braces.
func openTiles(k *kctx, t tiling, extent map[string]int) (lo, hi map[string]string, close func()) {
	lo, hi = map[string]string{}, map[string]string{}
	opened := 0
	for _, name := range t.order {
		ts := t.tile[name]
		if ts == 0 {
			lo[name], hi[name] = "0", fmt.Sprint(extent[name])
			continue
		}
		v := name + "t"
		k.l("for %s := 0; %s < %d; %s += %d {", v, v, extent[name], v, ts)
		lo[name] = v
		if extent[name]%ts == 0 {
			hi[name] = fmt.Sprintf("%s+%d", v, ts)
		} else {
			k.l("%sEnd := min(%s+%d, %d)", name, v, ts, extent[name])
			hi[name] = name + "End"
		}
		opened++
	}
	return lo, hi, func() {
		for range opened {
			k.l("}")
		}
	}
}

// WithTiles returns a copy of g in which every node of the given ops gets
// a schedule with the given tiles and register block, for tests and
// tuning experiments.
func WithTiles(g *ir.Graph, ops []string, tiles map[string]int, order []string, unroll int) *ir.Graph {
	return WithSchedule(g, ops, &ir.Schedule{Tiles: tiles, Order: order, Unroll: unroll})
}

// WithSchedule returns a copy of g in which every node of the given ops
// gets a copy of s.
func WithSchedule(g *ir.Graph, ops []string, s *ir.Schedule) *ir.Graph {
	c := g.Clone()
	for _, n := range c.Nodes {
		for _, op := range ops {
			if n.Op == op {
				ns := *s
				ns.Tiles = map[string]int{}
				for k, v := range s.Tiles {
					ns.Tiles[k] = v
				}
				ns.Order = append([]string(nil), s.Order...)
				n.Schedule = &ns
			}
		}
	}
	return c
}

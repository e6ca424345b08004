package passes

import (
	"testing"

	"github.com/dlcompiler/dlc/ir"
)

// TestPlanNoOverlap checks on a chain with a skip connection that no two
// values alive at the same time share memory, that views share their
// input's memory, and that reuse makes the arena smaller than the naive sum.
func TestPlanNoOverlap(t *testing.T) {
	b := newBuilder(t)
	x := b.g.AddInput("x", f32(1, 64), ir.Pos{})
	h1 := b.node("relu", "a", nil, x)
	h2 := b.node("sigmoid", "b", nil, h1)
	h3 := b.node("tanh", "c", nil, h2)
	h4 := b.node("relu", "d", nil, h3)
	v := b.node("reshape", "v", ir.Attrs{"shape": []int{8, 8}}, h4)
	h5 := b.node("sigmoid", "e", nil, v)
	r := b.node("reshape", "r", ir.Attrs{"shape": []int{1, 64}}, h5)
	s := b.node("add", "s", nil, r, h1) // h1 lives to here
	b.g.AddOutput("y", s)
	g := checkPass(t, b.g, "plan")
	p := g.Memory
	if p == nil {
		t.Fatal("no plan")
	}
	// lifetimes by node index
	idx := map[*ir.Value][2]int{}
	for i, n := range g.Nodes {
		for _, o := range n.Outputs {
			idx[o] = [2]int{i, i}
		}
	}
	for i, n := range g.Nodes {
		for _, in := range n.Inputs {
			if l, ok := idx[in]; ok {
				l[1] = i
				idx[in] = l
			}
		}
	}
	vals := []*ir.Value{}
	for _, n := range g.Nodes {
		vals = append(vals, n.Outputs...)
	}
	byName := map[string]*ir.Value{}
	for _, v := range vals {
		byName[v.Name] = v
	}
	if p.Offset[byName["v"]] != p.Offset[byName["d"]] {
		t.Error("reshape v does not share d's memory")
	}
	for i, a := range vals {
		for _, c := range vals[i+1:] {
			if p.Offset[a] == p.Offset[c] && (c.Def.Def().View || a.Def.Def().View) {
				continue
			}
			la, lc := idx[a], idx[c]
			overlapT := la[0] <= lc[1] && lc[0] <= la[1]
			overlapM := p.Offset[a] < p.Offset[c]+64 && p.Offset[c] < p.Offset[a]+64
			// In place: c overwrites its input 0, which dies at c's node.
			inplace := c.Def.Def().InPlace && c.Def.Inputs[0] == a && la[1] == lc[0]
			if overlapT && overlapM && !(c.Def.Def().View && c.Def.Inputs[0] == a) && !inplace {
				t.Errorf("%s and %s are alive together but share memory", a.Name, c.Name)
			}
		}
	}
	if p.Offset[byName["b"]] == p.Offset[byName["a"]] {
		t.Error("b overwrites a, which s still reads")
	}
	if p.Offset[byName["c"]] != p.Offset[byName["b"]] {
		t.Error("c does not run in place over b, which dies at c")
	}
	if p.Bytes() >= p.Naive {
		t.Errorf("arena %d bytes, naive %d: no reuse", p.Bytes(), p.Naive)
	}
	t.Logf("arena %d bytes vs naive %d", p.Bytes(), p.Naive)
}

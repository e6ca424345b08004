package codegen

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"

	"github.com/dlcompiler/dlc/ir"
)

// The memory plan decides, in this one place, where every value lives:
// a graph input (the caller's array), the weights (package-level, decoded
// from weights.bin), or the model's scratch arena at an element offset.
// View ops (reshape, flatten, squeeze, unsqueeze, identity, dropout) share
// their input's storage; element-wise ops may overwrite an input that dies
// at them; other values get arena space by first-fit over buffers that are
// no longer live. A later memory-planning pass can replace makePlan and
// the emitters will not notice: they only see array pointers.

type locKind uint8

const (
	locInput locKind = iota + 1
	locWeight
	locArena
)

// loc is where a value's elements live.
type loc struct {
	kind locKind
	dt   ir.DType
	idx  int // graph input index (locInput)
	off  int // element offset in the weights or arena of dtype dt
	n    int // elements
}

// plan is the memory plan of a graph.
type plan struct {
	loc map[*ir.Value]loc
	// copyNode marks view nodes that must copy because their output is a
	// graph output whose storage would otherwise be an input or weights.
	copyNode map[*ir.Node]bool
	// inplace marks nodes whose output reuses input 0's buffer.
	inplace map[*ir.Node]bool
	// scratch is each node's temporary arena space (f32 elements).
	scratch map[*ir.Node]loc
	// outCopy lists graph outputs that are inputs or params: copied into
	// their arena slot at the end of a call.
	outCopy        map[int]loc
	arenaF, arenaI int // arena sizes in elements
	wF             []float32
	wI             []int64
}

const align = 16 // elements; keeps every buffer on a 64-byte boundary

// freeList is a first-fit allocator over one arena.
type freeList struct {
	free [][2]int // sorted [off, end) intervals
	top  int
	peak int // the arena size needed
}

func (f *freeList) alloc(n int) int {
	n = (n + align - 1) / align * align
	for i, iv := range f.free {
		if iv[1]-iv[0] >= n {
			off := iv[0]
			if iv[1]-iv[0] == n {
				f.free = append(f.free[:i], f.free[i+1:]...)
			} else {
				f.free[i][0] += n
			}
			return off
		}
	}
	off := f.top
	f.top += n
	f.peak = max(f.peak, f.top)
	return off
}

func (f *freeList) release(off, n int) {
	n = (n + align - 1) / align * align
	iv := [2]int{off, off + n}
	i := 0
	for i < len(f.free) && f.free[i][0] < off {
		i++
	}
	f.free = append(f.free, [2]int{})
	copy(f.free[i+1:], f.free[i:])
	f.free[i] = iv
	// merge neighbours
	out := f.free[:0]
	for _, v := range f.free {
		if len(out) > 0 && out[len(out)-1][1] == v[0] {
			out[len(out)-1][1] = v[1]
			continue
		}
		out = append(out, v)
	}
	f.free = out
	if len(f.free) > 0 && f.free[len(f.free)-1][1] == f.top {
		f.top = f.free[len(f.free)-1][0]
		f.free = f.free[:len(f.free)-1]
	}
}

func makePlan(g *ir.Graph) (*plan, error) {
	p := &plan{loc: map[*ir.Value]loc{}, copyNode: map[*ir.Node]bool{}, inplace: map[*ir.Node]bool{},
		scratch: map[*ir.Node]loc{}, outCopy: map[int]loc{}}
	used := map[*ir.Value]bool{}
	for _, n := range g.Nodes {
		for _, v := range n.Inputs {
			if v != nil {
				used[v] = true
			}
		}
	}
	for _, v := range g.Outputs {
		used[v] = true
	}
	for i, v := range g.Inputs {
		p.loc[v] = loc{kind: locInput, dt: v.Type.DType, idx: i, n: v.Type.Shape.NumElems()}
	}
	for _, v := range g.Params {
		if !used[v] {
			continue
		}
		if v.Data == nil {
			return nil, fmt.Errorf("codegen: %v %s has no data (initializer %q not applied)", v.Kind, v.Name, v.Init)
		}
		l := loc{kind: locWeight, dt: v.Type.DType, n: v.Type.Shape.NumElems()}
		switch v.Type.DType {
		case ir.F32:
			l.off = len(p.wF)
			p.wF = append(p.wF, v.Data.F32...)
		case ir.I64:
			l.off = len(p.wI)
			p.wI = append(p.wI, v.Data.I64...)
		default:
			return nil, fmt.Errorf("codegen: %s has unsupported dtype %v", v.Name, v.Type.DType)
		}
		p.loc[v] = l
	}

	// root follows views to the value that owns the storage.
	root := map[*ir.Value]*ir.Value{}
	rootOf := func(v *ir.Value) *ir.Value {
		if r, ok := root[v]; ok {
			return r
		}
		return v
	}
	isOut := map[*ir.Value]bool{}
	for _, v := range g.Outputs {
		isOut[v] = true
	}
	inArena := func(v *ir.Value) bool {
		r := rootOf(v)
		return r.Kind == ir.Temp
	}
	for _, n := range g.Nodes {
		e := emitters[n.Op]
		if e.view && n.Inputs[0] != nil {
			if isOut[n.Out()] && !inArena(n.Inputs[0]) {
				p.copyNode[n] = true
				continue
			}
			root[n.Out()] = rootOf(n.Inputs[0])
		}
	}
	const forever = 1 << 30
	last := map[*ir.Value]int{}
	for i, n := range g.Nodes {
		for _, o := range n.Outputs {
			if _, ok := last[rootOf(o)]; !ok {
				last[rootOf(o)] = i
			}
		}
		for _, v := range n.Inputs {
			if v != nil {
				last[rootOf(v)] = i
			}
		}
	}
	for _, v := range g.Outputs {
		last[rootOf(v)] = forever
	}

	var fF, fI freeList
	lists := map[ir.DType]*freeList{ir.F32: &fF, ir.I64: &fI}
	taken := map[*ir.Value]bool{} // roots whose buffer moved to an in-place output
	for i, n := range g.Nodes {
		e := emitters[n.Op]
		for _, o := range n.Outputs {
			if r := rootOf(o); r != o {
				p.loc[o] = p.loc[r]
				continue
			}
			numel := o.Type.Shape.NumElems()
			if e.inplace && !p.copyNode[n] {
				x := n.Inputs[0]
				r := rootOf(x)
				if r.Kind == ir.Temp && last[r] == i && !taken[r] && x.Type.Equal(o.Type) {
					p.loc[o] = p.loc[r]
					taken[r] = true
					p.inplace[n] = true
					continue
				}
			}
			fl := lists[o.Type.DType]
			if fl == nil {
				return nil, fmt.Errorf("codegen: %s (%s): unsupported dtype %v", n.Name, n.Op, o.Type.DType)
			}
			p.loc[o] = loc{kind: locArena, dt: o.Type.DType, off: fl.alloc(numel), n: numel}
		}
		if e.scratch != nil {
			if s := e.scratch(n); s > 0 {
				l := loc{kind: locArena, dt: ir.F32, off: fF.alloc(s), n: s}
				p.scratch[n] = l
				fF.release(l.off, l.n)
			}
		}
		seen := map[*ir.Value]bool{}
		release := func(v *ir.Value) {
			r := rootOf(v)
			if seen[r] || r.Kind != ir.Temp || last[r] != i || taken[r] {
				return
			}
			seen[r] = true
			l := p.loc[r]
			lists[l.dt].release(l.off, l.n)
		}
		for _, v := range n.Inputs {
			if v != nil {
				release(v)
			}
		}
		for _, o := range n.Outputs {
			release(o)
		}
	}
	for i, v := range g.Outputs {
		if v.Kind != ir.Temp {
			fl := lists[v.Type.DType]
			if fl == nil {
				return nil, fmt.Errorf("codegen: output %s has unsupported dtype %v", v.Name, v.Type.DType)
			}
			n := v.Type.Shape.NumElems()
			p.outCopy[i] = loc{kind: locArena, dt: v.Type.DType, off: fl.alloc(n), n: n}
		}
	}
	p.arenaF, p.arenaI = fF.peak, fI.peak
	return p, nil
}

// weightBytes is the contents of weights.bin: the f32 weights, then the
// i64 ones, little endian.
func (p *plan) weightBytes() []byte {
	b := make([]byte, 0, 4*len(p.wF)+8*len(p.wI))
	for _, v := range p.wF {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	for _, v := range p.wI {
		b = binary.LittleEndian.AppendUint64(b, uint64(v))
	}
	return b
}

func (p *plan) checksum() uint64 {
	h := fnv.New64a()
	h.Write(p.weightBytes())
	return h.Sum64()
}

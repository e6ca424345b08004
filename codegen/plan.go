package codegen

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"reflect"
	"strings"

	"github.com/dlcompiler/dlc/ir"
)

// The memory plan decides, in this one place, where every value lives:
// a graph input (the caller's array), the weights (package-level, decoded
// from weights.bin), or the model's scratch arena at an element offset.
// Arena offsets come from g.Memory, filled by the planning pass (passes
// plan: liveness-based reuse, in-place element-wise ops, views sharing
// their input's storage); codegen checks that plan against the emitters
// (only an emitter marked inplace may overwrite its input). Without a
// plan (-O0) every value gets its own buffer. Kernel scratch (im2col
// buffers) follows the planned arena, one region per worker of the
// node's schedule (Schedule.Threads), so workers never share scratch.
// The emitters never notice: they only see array pointers.

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
	// scratch is each node's temporary arena space (f32 elements), the
	// kernel's tmp parameter: the regions of all its workers.
	scratch map[*ir.Node]loc
	// workers are the per-worker regions of scratch, in worker order,
	// each aligned, disjoint and scratch(n) elements long; worker 0's
	// starts at scratch's offset.
	workers map[*ir.Node][]loc
	// outCopy lists graph outputs that are inputs or params: copied into
	// their arena slot at the end of a call.
	outCopy map[int]loc
	// arena is the size in elements of the arena of each dtype the model
	// keeps values of (f32 always: kernel scratch is f32).
	arena map[ir.DType]int
	// weights holds, per dtype, that dtype's weights concatenated (each at
	// its loc's element offset).
	weights map[ir.DType]*ir.Tensor
	// laidOut are the parameters stored in their node's WeightLayout
	// (pack.go) rather than as in the graph.
	laidOut map[*ir.Value]bool
}

const align = 16 // elements; keeps every buffer on a 64-byte boundary

func makePlan(g *ir.Graph) (*plan, error) {
	p := &plan{loc: map[*ir.Value]loc{}, copyNode: map[*ir.Node]bool{}, inplace: map[*ir.Node]bool{},
		scratch: map[*ir.Node]loc{}, workers: map[*ir.Node][]loc{}, outCopy: map[int]loc{}, arena: map[ir.DType]int{}, weights: map[ir.DType]*ir.Tensor{}, laidOut: map[*ir.Value]bool{}}
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
	laid := layoutWeights(g)
	for _, v := range g.Params {
		if !used[v] {
			continue
		}
		if v.Data == nil {
			return nil, fmt.Errorf("codegen: %v %s has no data (initializer %q not applied)", v.Kind, v.Name, v.Init)
		}
		dt := v.Type.DType
		w := p.weights[dt]
		if w == nil {
			w = ir.NewTensor(dt, ir.Shape{0})
			p.weights[dt] = w
		}
		data := v.Data
		if t, ok := laid[v]; ok {
			data = t
			p.laidOut[v] = true
		}
		// A packing may pad (a Gemm kernel's panels): the loc is as long
		// as the stored data.
		l := loc{kind: locWeight, dt: dt, off: w.Len(), n: data.Len()}
		w.Data = reflect.AppendSlice(reflect.ValueOf(w.Data), reflect.ValueOf(data.Data)).Interface()
		w.Shape[0] = w.Len()
		p.loc[v] = l
	}

	mem := g.Memory
	if mem == nil {
		mem = naivePlan(g)
	}
	if err := p.place(g, mem); err != nil {
		return nil, err
	}
	return p, nil
}

// naivePlan is the memory layout without a planning pass (-O0): every
// value that needs arena memory gets its own buffer, and views share
// their input's. Its offsets follow the rules of passes' plan, without
// reuse or in-place writes.
func naivePlan(g *ir.Graph) *ir.MemoryPlan {
	m := &ir.MemoryPlan{Offset: map[*ir.Value]int{}, Size: map[ir.DType]int{}}
	isOut := map[*ir.Value]bool{}
	for _, v := range g.Outputs {
		isOut[v] = true
	}
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			m.Naive += o.Type.Bytes()
			if x := n.Inputs[0]; emitters[n.Op].view && x != nil && x.Type.DType == o.Type.DType {
				if off, ok := m.Offset[x]; ok {
					m.Offset[o] = off
					continue
				}
				if !isOut[o] {
					continue
				}
			}
			dt := o.Type.DType
			m.Offset[o] = m.Size[dt]
			m.Size[dt] += (o.Type.Shape.NumElems() + align - 1) / align * align
		}
	}
	return m
}

// place lays out the arena from mem: planned values at their offsets,
// then the kernels' scratch (shared by the kernels, which run one at a
// time; a region per worker within a kernel), then copies of graph
// outputs that are inputs or parameters.
func (p *plan) place(g *ir.Graph, mem *ir.MemoryPlan) error {
	top := map[ir.DType]int{}
	for dt, n := range mem.Size {
		top[dt] = (n + align - 1) / align * align
	}
	for _, n := range g.Nodes {
		e := emitters[n.Op]
		for _, o := range n.Outputs {
			off, ok := mem.Offset[o]
			if !ok {
				x := n.Inputs[0]
				if !e.view || x == nil {
					return fmt.Errorf("codegen: the memory plan gives %s (%s %s) no place; rerun the plan pass after changing the graph", o.Name, n.Op, n.Name)
				}
				p.loc[o] = p.loc[x] // a view of an input or weights
				continue
			}
			numel := o.Type.Shape.NumElems()
			if off < 0 || off+numel > mem.Size[o.Type.DType] {
				return fmt.Errorf("codegen: the memory plan puts %s (%v) at %d, outside the %v arena of %d elements", o.Name, o.Type, off, o.Type.DType, mem.Size[o.Type.DType])
			}
			p.loc[o] = loc{kind: locArena, dt: o.Type.DType, off: off, n: numel}
			x := n.Inputs[0]
			if x == nil {
				continue
			}
			lx, ok := p.loc[x]
			if !ok {
				return fmt.Errorf("codegen: %s reads %s before it is computed", n.Name, x.Name)
			}
			if e.view {
				if lx.kind != locArena {
					p.copyNode[n] = true
				} else if lx.off != off {
					return fmt.Errorf("codegen: the memory plan moves view %s away from its input %s", o.Name, x.Name)
				}
				continue
			}
			for _, in := range n.Inputs {
				if in == nil {
					continue
				}
				l := p.loc[in]
				if l.kind != locArena || l.dt != o.Type.DType || l.off+l.n <= off || off+numel <= l.off {
					continue
				}
				if in != x || l.off != off || !e.inplace || !x.Type.Equal(o.Type) {
					return fmt.Errorf("codegen: the memory plan overlaps %s with its input %s, and %s cannot run in place", o.Name, in.Name, n.Op)
				}
				p.inplace[n] = true
			}
		}
	}
	for _, n := range g.Nodes {
		if e := emitters[n.Op]; e.scratch != nil {
			if s := e.scratch(n); s > 0 {
				p.placeScratch(n, e.scratchType(n), top[e.scratchType(n)], s)
			}
		}
	}
	for dt := range p.arena {
		top[dt] = max(top[dt], (p.arena[dt]+align-1)/align*align)
	}
	for i, v := range g.Outputs {
		if v.Kind != ir.Temp {
			dt := v.Type.DType
			n := v.Type.Shape.NumElems()
			p.outCopy[i] = loc{kind: locArena, dt: dt, off: top[dt], n: n}
			top[dt] += (n + align - 1) / align * align
		}
	}
	for dt, n := range top {
		p.arena[dt] = max(p.arena[dt], n)
	}
	if _, ok := p.arena[ir.F32]; !ok {
		p.arena[ir.F32] = 0 // always present: kernel scratch and the API expect it
	}
	return nil
}

// dtName is a dtype's name in generated identifiers: "F32", "I64",
// "Bf16", "Bool".
func dtName(dt ir.DType) string {
	s := dt.String()
	return strings.ToUpper(s[:1]) + s[1:]
}

// arenaName is the Model field holding the arena of dtype dt.
func arenaName(dt ir.DType) string { return "arena" + dtName(dt) }

// weightsName is the package variable holding the weights of dtype dt.
func weightsName(dt ir.DType) string { return "weights" + dtName(dt) }

// dtypesOf lists, in table order, the dtypes in m's keys.
func dtypesOf[V any](m map[ir.DType]V) []ir.DType {
	var out []ir.DType
	for _, dt := range ir.DTypes() {
		if _, ok := m[dt]; ok {
			out = append(out, dt)
		}
	}
	return out
}

// scratchBytes is the size of the arenas in bytes.
func (p *plan) scratchBytes() int {
	n := 0
	for dt, size := range p.arena {
		n += size * dt.Size()
	}
	return n
}

// weightSection is where one dtype's weights lie in weights.bin.
type weightSection struct {
	dt       ir.DType
	off, n   int // byte offset in weights.bin, elements
	numBytes int
}

// weightSections lays out weights.bin: one section per dtype that has
// weights, in dtype table order, each starting at a multiple of 64 bytes
// (zero padding between them), elements little endian.
func (p *plan) weightSections() []weightSection {
	var out []weightSection
	off := 0
	for _, dt := range dtypesOf(p.weights) {
		n := p.weights[dt].Len()
		out = append(out, weightSection{dt: dt, off: off, n: n, numBytes: n * dt.Size()})
		off = (off + n*dt.Size() + 63) / 64 * 64
	}
	return out
}

// weightBytes is the contents of weights.bin (see weightSections).
func (p *plan) weightBytes() []byte {
	var b []byte
	for _, sec := range p.weightSections() {
		b = append(b, make([]byte, sec.off-len(b))...)
		b, _ = binary.Append(b, binary.LittleEndian, p.weights[sec.dt].Data)
	}
	return b
}

func (p *plan) checksum() uint64 {
	h := fnv.New64a()
	h.Write(p.weightBytes())
	return h.Sum64()
}

// placeScratch gives node n's workers s elements of scratch each, one
// aligned region after another from offset base in the arena of dt.
func (p *plan) placeScratch(n *ir.Node, dt ir.DType, base, s int) {
	W := n.Schedule.Workers()
	stride := (s + align - 1) / align * align
	per := make([]loc, W)
	for w := range per {
		per[w] = loc{kind: locArena, dt: dt, off: base + w*stride, n: s}
	}
	end := base + (W-1)*stride + s
	p.workers[n] = per
	p.scratch[n] = loc{kind: locArena, dt: dt, off: base, n: end - base}
	p.arena[dt] = max(p.arena[dt], end)
}

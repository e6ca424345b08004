package codegen

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"
	"github.com/dlcompiler/dlc/ir"
)

// Intra-op parallelism (dlc compile -threads N). A node whose schedule asks
// for W > 1 workers (Schedule.Threads, set by the tiling pass) is split
// along an output dimension into W parts: its kernel takes one more
// parameter, worker, and computes only that worker's share of its outer
// loop (span). No part sums into another's outputs, so every output is
// computed by the same operations in the same order as with one worker:
// results are bit-identical whatever W. Each worker has its own region of
// the kernel's scratch (plan.workers); the kernel rebinds tmp to it.
//
// The Model owns a pool of W-1 goroutines, started by New and stopped by
// Close (or by a cleanup when the Model becomes unreachable). forward runs
// a split kernel through Model.parallel: the parts 1..W-1 go to the pool
// through a buffered channel of worker indices, the calling goroutine
// runs part 0, then waits for W-1 tokens on done. The part functions
// (<kernel>Part) are package-level functions of (m, worker) that call the
// kernel with the plan's storage, so handing one to a worker is a plain
// function value: nothing is allocated per call. Graph inputs, which are
// forward's parameters, reach them through Model fields set for the call.
//
// An emitter opts in by calling span around its outer output loop; a
// node whose emitter does not (a path that has no split) runs on one
// worker whatever its schedule says, as does the one-step kernel of Step.

// workers is the number of parts k's kernel may be split into.
func (k *kctx) workers() int {
	if k.gen.serial {
		return 1
	}
	if e := emitters[k.n.Op]; e.fails != nil && e.fails(k.n) {
		return 1 // an error from one part would have to cancel the others
	}
	return k.n.Schedule.Workers()
}

// span returns the bounds [lo, hi) of this worker's share of an output
// loop over [0, extent) in whole units (a register block, a panel, a pool
// window): the ⌈extent/unit⌉ units are divided into W runs differing by
// at most one unit. With one worker it is [0, extent) and emits nothing,
// so single-threaded kernels are unchanged. name prefixes the locals
// (nameLo, nameHi); call span at most once per scope with a name.
func (k *kctx) span(name string, extent, unit int) (lo, hi string) {
	W := k.workers()
	if W == 1 || k.noSplit {
		return "0", fmt.Sprint(extent)
	}
	k.gen.splitting = true
	unit = max(unit, 1)
	T := (extent + unit - 1) / unit
	lo, hi = name+"Lo", name+"Hi"
	k.l("%s, %s := worker*%d/%d*%d, min((worker+1)*%d/%d*%d, %d) // this worker's share", lo, hi, T, W, unit, T, W, unit, extent)
	return lo, hi
}

// convSplitM reports whether an im2col convolution splits its output
// channels rather than its columns (output positions): when the columns
// make fewer than 4 units per worker (the last stages of a network at
// batch 1, 7×7 positions against 512 channels), a split by whole units
// would leave the workers unequal, and the channels make more units.
// Each worker then builds the whole im2col tile in its own scratch: that
// costs K·N copies against the K·N·OC/W multiply-adds it shares.
func convSplitM(k *kctx, c gemmConv) bool {
	W := k.workers()
	nu := (c.N + c.unit - 1) / c.unit
	mu := (c.OCg + c.MR - 1) / c.MR
	return W > 1 && nu < 4*W && mu > nu
}

// splitKernel finishes the signature of a kernel that span split: the
// worker parameter and the worker's own scratch region. params are the
// kernel's parameters so far (the scratch last, named tmp, if any).
func (gn *gen) splitKernel(k *kctx, params []jen.Code) []jen.Code {
	gn.split[k.n] = k.workers()
	if s, ok := gn.plan.scratch[k.n]; ok {
		params[len(params)-1] = src("tmps " + arrType(s.dt, s.n))
		ws := gn.plan.workers[k.n]
		stride := 0
		if len(ws) > 1 {
			stride = ws[1].off - ws[0].off
		}
		pro := &body{}
		pro.l("tmp := (*[%d]%s)(tmps[worker*%d:]) // this worker's scratch", ws[0].n, elemType(s.dt), stride)
		k.b.code = append(pro.code, k.b.code...)
	}
	return append(params, src("worker int"))
}

// partName is the name of the function running one part of n's kernel.
func (gn *gen) partName(n *ir.Node) string { return gn.pname[n] }

// maxWorkers is the size of the Model's pool (with the caller): the most
// parts any kernel is split into, or 1.
func (gn *gen) maxWorkers() int {
	w := 1
	for _, n := range gn.split {
		w = max(w, n)
	}
	return w
}

// callSplit writes forward's call of a split kernel: the kernel's parts
// run on the pool. The call itself is in the part function (partFuncs).
func (gn *gen) callSplit(b *body, n *ir.Node) {
	b.l("m.parallel(%d, %s)", gn.split[n], gn.partName(n))
}

// partInputs are the graph inputs a part function reads (through the
// Model's parIn<i> fields), by index.
func (gn *gen) partInputs() []int {
	seen := map[int]bool{}
	var out []int
	for _, n := range gn.g.Nodes {
		if gn.split[n] == 0 {
			continue
		}
		for _, v := range n.Inputs {
			if l, ok := gn.plan.loc[v]; ok && v != nil && l.kind == locInput && !seen[l.idx] {
				seen[l.idx] = true
				out = append(out, l.idx)
			}
		}
	}
	return out
}

// partFuncs emits, for every split kernel, the function that runs one
// part of it on the Model's storage.
func (gn *gen) partFuncs(f *jen.File) {
	ref := func(l loc) string {
		if l.kind == locInput {
			return fmt.Sprintf("m.parIn%d", l.idx)
		}
		return gn.ref(l)
	}
	for _, n := range gn.g.Nodes {
		if gn.split[n] == 0 {
			continue
		}
		args := gn.kernelArgs(n, ref)
		f.Add(doc("%s runs part worker of %s (of %d), on m's storage.", gn.partName(n), gn.kname[n], gn.split[n]))
		f.Func().Id(gn.partName(n)).Params(src("m *Model"), src("worker int")).Block(
			src(fmt.Sprintf("%s(%s, worker)", gn.kname[n], strings.Join(args, ", "))))
		f.Line()
	}
}

// poolSource is the worker pool of a package with split kernels.
const poolSource = `// pool is a Model's workers: goroutines that each run one part of a split
// kernel while the goroutine calling the Model runs part 0. They hold
// no reference to the Model between calls, so an unreachable Model's
// cleanup can stop them.
type pool struct {
	start chan int      // the worker index of each part to run
	done  chan struct{} // one token per finished part
	job   func(m *Model, worker int)
	m     *Model
}

// newPool starts n workers.
func newPool(n int) *pool {
	p := &pool{start: make(chan int, n), done: make(chan struct{}, n)}
	for range n {
		go p.work()
	}
	return p
}

// work runs parts until the pool is stopped.
func (p *pool) work() {
	for worker := range p.start {
		p.job(p.m, worker)
		p.done <- struct{}{}
	}
}

// stop makes the workers exit once they finish their current part.
func (p *pool) stop() { close(p.start) }

// parallel runs job(m, 0), ..., job(m, n-1) and returns when all are
// done: part 0 on the calling goroutine, the others on the pool (or, for
// a zero Model, which has none, one after another). The channels carry
// the happens-before edges: the parts see what forward wrote before, and
// forward sees what they wrote.
func (m *Model) parallel(n int, job func(m *Model, worker int)) {
	p := m.pool
	if p == nil {
		for worker := range n {
			job(m, worker)
		}
		return
	}
	p.job, p.m = job, m
	for worker := 1; worker < n; worker++ {
		p.start <- worker
	}
	job(m, 0)
	for worker := 1; worker < n; worker++ {
		<-p.done
	}
	p.job, p.m = nil, nil
}`

package codegen

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// Fused ops (made by the fusion pass): one kernel each, composed from the
// emitters of their parts. fused_dense, and fused_conv with Algo
// "im2col", apply the epilogue (bias, residual add, activation and, for
// the conv, the pool) at the store (gemm.go). Otherwise (a direct conv, a
// k-tiled dense, softmax) the epilogue runs over the result while it is
// still in cache, then (fused_conv) the pool from scratch into y.
// fused_ewise applies its whole chain per element in registers.

func init() {
	register("fused_dense", emitter{emit: emitFusedDense})
	register("fused_conv", emitter{emit: emitFusedConv, scratch: fusedConvScratch})
	register("fused_ewise", emitter{emit: emitFusedEwise})
}

// padNames extends input names to at least n entries with "" (absent).
func padNames(in []string, n int) []string {
	for len(in) < n {
		in = append(in, "")
	}
	return in
}

// epilogue emits residual add and activation over target's first n
// elements, as the interpreter applies them after the product.
func epilogue(k *kctx, target string, n int, residual string) error {
	act := k.n.Attrs.String("act")
	if residual == "" && act == "" {
		return nil
	}
	if act != "" && ir.Lookup(act).Act == ir.ActRows {
		if residual != "" {
			k.l("for i := range %d {\n%s[i] += %s[i]\n}", n, target, residual)
		}
		sub := &ir.Node{Name: k.n.Name, Op: "softmax", Attrs: ir.Attrs{"axis": -1},
			Inputs: []*ir.Value{{Type: k.n.Out().Type}}, Outputs: []*ir.Value{{Type: k.n.Out().Type}}}
		return emitSoftmax(&kctx{gen: k.gen, n: sub, in: []string{target}, out: []string{target}, b: k.b}, false)
	}
	res := ""
	if residual != "" {
		res = fmt.Sprintf("%s[:%d]", residual, n)
	}
	if call := epilogueCall(k.n, fmt.Sprintf("%s[:%d]", target, n), res, fmt.Sprintf("%s[:%d]", target, n)); call != "" {
		k.l("%s", call) // on the Act kernel (act_simd.go)
		return nil
	}
	k.l("for i := range %d {", n)
	k.l("v := %s[i]", target)
	if residual != "" {
		k.l("v += %s[i]", residual)
	}
	if act != "" {
		code, _, err := actCode(k.n)
		if err != nil {
			return k.errorf("%v", err)
		}
		k.l("%s", code)
	}
	k.l("%s[i] = v", target)
	k.l("}")
	return nil
}

func emitFusedDense(k *kctx) error {
	in := padNames(k.in, 4)
	sub := *k
	sub.in = in[:3]
	e := epiOf(k, in[2], in[3])
	rows := e.act != "" && ir.Lookup(e.act).Act == ir.ActRows
	if rows {
		e.act, e.code, e.residual = "", "", "" // a row-wise epilogue: after the product
		sub.noSplit = true
	}
	done, err := emitDenseEpi(&sub, e)
	if err != nil {
		return err
	}
	if done && !rows {
		return nil
	}
	// k tiled, or softmax: residual and activation over the finished rows.
	return epilogue(k, k.out[0], k.outShape(0).NumElems(), in[3])
}

// fusedConvParts returns the conv node inside a fused_conv and, when it
// pools, the pool node reading the conv's result.
func fusedConvParts(n *ir.Node) (conv, pool *ir.Node, err error) {
	ins := append([]*ir.Value(nil), n.Inputs...)
	for len(ins) < 3 {
		ins = append(ins, nil)
	}
	conv, err = ir.SubNode(n, "conv", ins[:3])
	if err != nil {
		return nil, nil, err
	}
	ts, err := conv.Def().Infer(conv)
	if err != nil {
		return nil, nil, err
	}
	conv.Outputs = []*ir.Value{{Name: n.Name + ".pre", Type: ts[0]}}
	conv.Schedule = n.Schedule
	if n.Attrs.String("pool") == "" {
		return conv, nil, nil
	}
	pool, err = ir.FusedPool(n, conv.Outputs[0])
	if err != nil {
		return nil, nil, err
	}
	pool.Outputs = []*ir.Value{{Name: n.Name, Type: n.Out().Type}}
	return conv, pool, nil
}

// fusedConvGEMM reports whether a fused_conv runs as im2col + GEMM with
// the epilogue (and pool) at the store.
func fusedConvGEMM(n *ir.Node, pool *ir.Node) bool {
	return useGEMM(n) && (pool == nil || poolSimple(pool))
}

func fusedConvScratch(n *ir.Node) int {
	conv, pool, err := fusedConvParts(n)
	if err != nil {
		return 0
	}
	if useIGemm(conv) {
		return igemmScratch(conv, pool)
	}
	if pool == nil && useTGemm(conv) {
		return tgemmScratch(conv)
	}
	if fusedConvGEMM(n, pool) {
		return gemmPlan(conv, pool).scratch()
	}
	n0 := 0
	if pool != nil {
		n0 = dwOffset(conv)
	}
	if p := dwPlan(conv); p != nil {
		return n0 + p.scratch()
	}
	return n0
}

// dwOffset is where a depthwise plan's padded plane starts in the scratch
// of a fused_conv that pools: after the pre-pool output.
func dwOffset(conv *ir.Node) int {
	return (conv.Out().Type.Shape.NumElems() + align - 1) / align * align
}

func emitFusedConv(k *kctx) error {
	conv, pool, err := fusedConvParts(k.n)
	if err != nil {
		return k.errorf("%v", err)
	}
	in := padNames(k.in, 4)
	if useIGemm(conv) {
		emitFusedIGemm(k, conv, pool, epiOf(k, in[2], in[3]))
		return nil
	}
	if pool == nil && useTGemm(conv) {
		return emitTGemm(k, conv, epiOf(k, in[2], in[3]))
	}
	if fusedConvGEMM(k.n, pool) {
		return emitConvGEMM(k, conv, pool, epiOf(k, in[2], in[3]))
	}
	target := k.out[0]
	if pool != nil {
		target = "tmp"
	}
	sub := &kctx{gen: k.gen, n: conv, in: in[:3], out: []string{target}, b: k.b}
	done := false
	_, _, clamp := dwClamp(k.n, in[3])
	// A tail (epilogue, pool) reads the whole output: no split before it.
	sub.noSplit = pool != nil || !(clamp && dwPlan(conv) != nil) && (in[3] != "" || k.n.Attrs.String("act") != "")
	if p := dwPlan(conv); p != nil {
		off := 0
		if pool != nil {
			off = dwOffset(conv)
		}
		lo, hi, clamp := dwClamp(k.n, in[3])
		p.emit(sub, off, clamp, lo, hi)
		done = clamp
	} else if err := emitConv(sub); err != nil {
		return err
	}
	if !done {
		if err := epilogue(k, target, conv.Out().Type.Shape.NumElems(), in[3]); err != nil {
			return err
		}
	}
	if pool != nil {
		return emitPool(&kctx{gen: k.gen, n: pool, in: []string{"tmp"}, out: k.out, b: k.b}, pool.Op == "avgpool")
	}
	return nil
}

func emitFusedEwise(k *kctx) error {
	steps, err := ir.ParseSteps(k.n.Attrs.String("steps"), len(k.n.Inputs))
	if err != nil {
		return k.errorf("%v", err)
	}
	out := k.outShape(0)
	strides := [][]int{out.Strides()}
	for i := range k.n.Inputs {
		strides = append(strides, bcastStrides(k.inShape(i), out))
	}
	dims, st := collapse(out, strides)
	loopNest(k, dims, st, func(idx []string) {
		k.l("v := %s[%s]", k.in[0], idx[1])
		for _, s := range steps {
			if b := ir.Lookup(s.Op).Binary; b != nil {
				k.l("v = %s", b.Go("v", fmt.Sprintf("%s[%s]", k.in[s.Input], idx[1+s.Input])))
				continue
			}
			k.l("v = %s", ir.Lookup(s.Op).Unary.Go("v", s.Attrs))
		}
		k.l("y[%s] = v", idx[0])
	})
	return nil
}

// actCode returns the statement applying the epilogue activation of n
// (a fused_conv or fused_dense) to the float32 v, from the activation's
// template, and whether the activation is non-decreasing. The
// activation's attributes come through ir.SubNode, which fills its
// defaults for those the fused node leaves out.
func actCode(n *ir.Node) (code string, monotone bool, err error) {
	act := n.Attrs.String("act")
	if act == "" {
		return "", true, nil
	}
	u := ir.Lookup(act).Unary
	if u == nil {
		return "", false, fmt.Errorf("activation %s has no element-wise form", act)
	}
	sub, err := ir.SubNode(n, act, []*ir.Value{n.Out()})
	if err != nil {
		return "", false, err
	}
	return "v = " + u.Go("v", sub.Attrs), u.IsMonotone(sub.Attrs), nil
}

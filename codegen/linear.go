package codegen

import (
	"fmt"
	"strings"

	"github.com/dlcompiler/dlc/codegen/kernels"
	"github.com/dlcompiler/dlc/ir"
)

// dense and matmul. Math: y[m,n] = Σ_k x[m,k]·w[n,k] (+ b[n]) for dense,
// whose weight rows are contiguous in k (dot-product form); y[m,n] =
// Σ_k a[m,k]·b[k,n] for matmul (axpy form: rows of b scaled and added).
// Loops m, n, k are tiled by the node's schedule; the register block
// (default 4) computes that many outputs n together, sharing each x load.
// Dense whose Schedule.Kernel names a Dot kernel of the registry
// (codegen/kernels, e.g. avx2.dot4) runs on it: up to its MR weight rows
// per call, each a whole dot product over k.

func init() {
	register("dense", withF64(emitter{emit: emitDense}, emitDense64))
	register("matmul", emitter{emit: emitMatMul})
}

func emitDense(k *kctx) error {
	_, err := emitDenseEpi(k, epi{bias: k.in[2]})
	return err
}

// denseTiling resolves a dense node's schedule.
func denseTiling(n *ir.Node) (t tiling, M, N, K int, ext map[string]int) {
	x, w := n.Inputs[0].Type.Shape, n.Inputs[1].Type.Shape
	K = x[len(x)-1]
	M = x.NumElems() / K
	N = w[0]
	ext = map[string]int{"m": M, "n": N, "k": K}
	return resolve(n.Schedule, []string{"m", "n", "k"}, ext, 1), M, N, K, ext
}

// emitDenseEpi emits dense with epilogue e applied at the store, unless
// the k loop is tiled (partial sums then accumulate in y, and the caller
// applies the rest of the epilogue after the product): it reports
// whether it applied the residual and activation.
func emitDenseEpi(k *kctx, e epi) (bool, error) {
	t, M, N, K, ext := denseTiling(k.n)
	if kn := denseOnGemm(k.n); kn != nil && k.gen.plan.laidOut[k.n.Inputs[1]] {
		return emitDenseGEMM(k, kn, e, M, N, K), nil
	}
	if kn := kernelOf(k.n.Schedule); kn != nil && kn.Op == kernels.Dot {
		emitDenseSIMD(k, kn, e, M, N, K)
		return true, nil
	}
	bias := k.in[2] != ""
	ktiled := t.tile["k"] != 0
	if ktiled {
		// Partial sums over k tiles accumulate into y, so y starts as the bias.
		k.l("for m := range %d {", M)
		k.l("yr := (*[%d]float32)(y[m*%d:])", N, N)
		if bias {
			k.l("*yr = *x2")
		} else {
			k.l("*yr = [%d]float32{}", N)
		}
		k.l("}")
	}
	lo, hi, closeTiles := openTiles(k, t, ext)
	k.l("for m := %s; m < %s; m++ {", lo["m"], hi["m"])
	k.l("xr := (*[%d]float32)(x0[m*%d:])", K, K)
	k.l("yr := (*[%d]float32)(y[m*%d:])", N, N)
	block := func(r int, nlo string) {
		var zero, acc, store []string
		for j := range r {
			k.l("w%d := (*[%d]float32)(x1[(n+%d)*%d:])", j, K, j, K)
			zero = append(zero, fmt.Sprintf("s%d", j))
			acc = append(acc, fmt.Sprintf("s%d += xv * w%d[k]", j, j))
			if ktiled {
				store = append(store, fmt.Sprintf("yr[n+%d] += s%d", j, j))
			} else {
				store = append(store, fmt.Sprintf("{\nv := s%d\n%s\nyr[n+%d] = v\n}", j, e.apply(fmt.Sprintf("n+%d", j), fmt.Sprintf("m*%d+n+%d", N, j)), j))
			}
		}
		_ = nlo
		k.l("var %s float32", strings.Join(zero, ", "))
		k.l("for k := %s; k < %s; k++ {", lo["k"], hi["k"])
		k.l("xv := xr[k]")
		k.l("%s", strings.Join(acc, "\n"))
		k.l("}")
		k.l("%s", strings.Join(store, "\n"))
	}
	r := max(t.reg, 1)
	if r > 1 {
		k.l("n := %s", lo["n"])
		k.l("for ; n+%d <= %s; n += %d {", r, hi["n"], r)
		block(r, "n")
		k.l("}")
		k.l("for ; n < %s; n++ {", hi["n"])
	} else {
		k.l("for n := %s; n < %s; n++ {", lo["n"], hi["n"])
	}
	block(1, "n")
	k.l("}")
	k.l("}")
	closeTiles()
	return !ktiled, nil
}

func emitMatMul(k *kctx) error {
	a, b, out := k.inShape(0), k.inShape(1), k.outShape(0)
	aa, bb := a.Clone(), b.Clone()
	if len(aa) == 1 {
		aa = ir.Shape{1, aa[0]}
	}
	if len(bb) == 1 {
		bb = ir.Shape{bb[0], 1}
	}
	M, K, N := aa[len(aa)-2], aa[len(aa)-1], bb[len(bb)-1]
	batch, err := ir.BroadcastShapes(aa[:len(aa)-2], bb[:len(bb)-2])
	if err != nil {
		return k.errorf("%v", err)
	}
	if batch.NumElems()*M*N != out.NumElems() {
		return k.errorf("internal error: output %v is not batch %v × %d × %d", out, batch, M, N)
	}
	if nb := batch.NumElems(); nb > 1 && bb[:len(bb)-2].NumElems() == 1 && aa[:len(aa)-2].NumElems() == nb {
		// B is shared by the whole batch and A is not broadcast: the
		// batch folds into A's rows, one product of nb·M rows (a batch of
		// single rows, as a sequence model's output layer, is then one
		// GEMM rather than nb products of one row each).
		M *= nb
		aa, bb, batch = ir.Shape{M, K}, ir.Shape{K, N}, ir.Shape{}
	}
	ext := map[string]int{"m": M, "n": N, "k": K}
	t := resolve(k.n.Schedule, []string{"m", "n", "k"}, ext, 1)
	sa := scale(bcastStrides(aa[:len(aa)-2], batch), M*K)
	sb := scale(bcastStrides(bb[:len(bb)-2], batch), K*N)
	sy := scale(batch.Strides(), M*N)
	dims, st := collapse(batch, [][]int{sy, sa, sb})
	kn := matmulGemm(k.n)
	loopNest(k, dims, st, func(idx []string) {
		k.l("yo, ao, bo := %s, %s, %s", idx[0], idx[1], idx[2])
		k.l("_, _, _ = yo, ao, bo")
		if kn != nil {
			emitMatMulGemm(k, kn, M, K, N)
			return
		}
		k.l("for i := range %d {", M*N)
		k.l("y[yo+i] = 0")
		k.l("}")
		lo, hi, closeTiles := openTiles(k, t, ext)
		k.l("for m := %s; m < %s; m++ {", lo["m"], hi["m"])
		et := elemType(k.n.Out().Type.DType)
		k.l("yr := (*[%d]%s)(y[yo+m*%d:])", N, et, N)
		k.l("for k := %s; k < %s; k++ {", lo["k"], hi["k"])
		k.l("av := x0[ao+m*%d+k]", K)
		k.l("br := (*[%d]%s)(x1[bo+k*%d:])", N, et, N)
		k.l("for n := %s; n < %s; n++ {", lo["n"], hi["n"])
		k.l("yr[n] += av * br[n]")
		k.l("}")
		k.l("}")
		k.l("}")
		closeTiles()
	})
	return nil
}

func scale(s []int, f int) []int {
	out := make([]int, len(s))
	for i, v := range s {
		out[i] = v * f
	}
	return out
}

// emitDenseSIMD emits dense on the Dot kernel kn: per row of x, up to
// kn.MR weight rows per call, each a whole dot product (the k tiles of the
// schedule do not apply), then the epilogue.
func emitDenseSIMD(k *kctx, kn *kernels.Kernel, e epi, M, N, K int) {
	// An activation the Act kernel has runs over each finished row,
	// after the residual (act_simd.go).
	yr := fmt.Sprintf("y[m*%d : (m+1)*%d]", N, N)
	res := ""
	if e.residual != "" {
		res = fmt.Sprintf("%s[m*%d : (m+1)*%d]", e.residual, N, N)
	}
	call := ""
	if e.act != "" {
		call = epilogueCall(k.n, yr, res, yr)
	}
	if call != "" {
		e.act, e.residual = "", ""
	}
	k.l("var acc [%d]float32", kn.MR)
	k.l("for m := range %d {", M)
	k.l("xr := x0[m*%d : (m+1)*%d]", K, K)
	k.l("for n := 0; n < %d; n += %d {", N, kn.MR)
	k.l("r := min(%d, %d-n)", kn.MR, N)
	k.l("%s(r, xr, x1[n*%d:], %d, &acc)", kn.Func, K, K)
	k.l("for j := range r {")
	k.l("v := acc[j]")
	if a := e.apply("n+j", fmt.Sprintf("m*%d+n+j", N)); a != "" {
		k.l("%s", a)
	}
	k.l("y[m*%d+n+j] = v", N)
	k.l("}")
	k.l("}")
	if call != "" {
		k.l("%s", call)
	}
	k.l("}")
}

// emitDenseGEMM emits dense as a matrix product on the Gemm kernel kn,
// whose weights the plan stored pre-packed in panels of kn.NR output
// columns (layout.go, kernels.PackPanels): y[m, p·NR+j] = Σ_k x[m,k]·panel_p[k,j].
// Each call computes up to MR rows of x × one panel and stores them into
// y (masked past column N). Cache blocks from the schedule:
// Tiles["k"] = KC (the k range of one pass; later passes accumulate into
// y), Tiles["n"] = NC (output columns, whole panels), Tiles["m"] = MC (x
// rows reused across the NC/NR panels). The kernel adds the bias and
// applies relu on the last k pass; it reports false when a residual or
// another activation remains for the caller (applied over y after).
func emitDenseGEMM(k *kctx, kn *kernels.Kernel, e epi, M, N, K int) bool {
	s := k.n.Schedule
	NR := kn.NR
	np := (N + NR - 1) / NR
	KC, MC, NP := K, M, np
	if t := s.Tiles["k"]; t > 0 && t < K {
		KC = t
	}
	if t := s.Tiles["m"]; t > 0 && t < M {
		MC = t
	}
	if t := s.Tiles["n"]; t > 0 && t < N {
		NP = max(1, t/NR)
	}
	X, W, Y := k.in[0], k.in[1], k.out[0]
	flags, done := 0, true
	if e.bias != "" {
		flags = 4
	}
	switch {
	case e.act == "relu" && e.residual == "":
		flags |= 2
	case e.act != "" || e.residual != "":
		done = false
	}
	plo, phi := "0", fmt.Sprint(np)
	if done {
		plo, phi = k.span("p", np, 1) // threads.go: this worker's panels
	}
	if KC == K {
		// One pass over k: the epilogue's flags from the start.
		k.l("{")
		k.l("k0, kc, fl := 0, %d, %d", K, flags)
	} else {
		k.l("for k0 := 0; k0 < %d; k0 += %d {", K, KC)
		k.l("kc := min(%d, %d-k0)", KC, K)
		k.l("fl := 8")
		k.l("if k0 == 0 {\nfl = 0\n}")
		k.l("if k0+kc == %d {\nfl |= %d\n}", K, flags)
	}
	k.l("for p0 := %s; p0 < %s; p0 += %d {", plo, phi, NP)
	k.l("for m0 := 0; m0 < %d; m0 += %d {", M, MC)
	k.l("mEnd := min(m0+%d, %d)", MC, M)
	// Row blocks of nearly equal height (≤ MR); each block's rows of x
	// stay in L1 while the block's panels stream past.
	k.l("mb := (mEnd - m0 + %d) / %d", kn.MR-1, kn.MR)
	k.l("for b, m := 0, m0; b < mb; b++ {")
	k.l("r := (mEnd - m0) / mb")
	k.l("if b < (mEnd-m0)%%mb {\nr++\n}")
	k.l("xr := %s[m*%d+k0:]", X, K)
	k.l("for p := p0; p < min(p0+%d, %s); p++ {", NP, phi)
	k.l("nv := min(%d, %d-p*%d)", NR, N, NR)
	k.l("var bi []float32")
	if e.bias != "" {
		k.l("if fl&4 != 0 {\nbi = %s[p*%d:]\n}", e.bias, NR)
	}
	k.l("%s(r, nv, kc, xr, %d, %s[(p*%d+k0)*%d:], %d, %s[m*%d+p*%d:], %d, bi, fl)", kn.Func, K, W, K, NR, NR, Y, N, NR, N)
	k.l("}") // p
	k.l("m += r")
	k.l("}") // b
	k.l("}") // m0
	k.l("}") // p0
	k.l("}") // k0
	return done
}

package kernels

// The Go source of each op's kernels (see template).
var templates = map[Op]template{
	Gemm: {
		wrapper: `
// FUNC sets c[i*ldc+j] = Σ_k a[i*lda+k]·b[k*ldb+j] for i < r (1.._MR_),
// j < n (1.._NR_) and k < kn, accumulating each sum in k order after
// c's own value when flags&8 (else 0), then applies flags to each row:
//
//	flags>>4 = p > 0  max over each group of 2^p columns (j>>p equal),
//	                  NaN if any is NaN, stored at the group's first
//	                  column (at least); n must then be _NR_
//	flags&1           add bias[i]
//	flags&4           add bias[j] (not with flags&1)
//	flags&2           relu: v < 0 becomes 0
//
// b must have _NR_ readable columns per k even when n < _NR_.
func FUNC(r, n, kn int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, bias []float32, flags int) {
	if flags&^127 != 0 {
		panic("FUNC: bad shape")
	}
	bp := FUNCCheck(r, n, kn, a, lda, b, ldb, c, ldc, bias, flags)
	DISPATCH
	TWIN(r, n, kn, a, lda, b, ldb, c, ldc, bias, flags)
}

// FUNCCheck panics unless the shapes fit FUNC's contract (the flags
// below 128) and returns the bias pointer the routines take.
func FUNCCheck(r, n, kn int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, bias []float32, flags int) *float32 {
	if r < 1 || r > _MR_ || n < 1 || n > _NR_ || kn < 1 || lda < 0 || ldb < 0 || ldc < 0 ||
		flags>>4&7 > _LG_ || flags>>4&7 > 0 && n < _NR_ || flags&5 == 5 {
		panic("FUNC: bad shape")
	}
	_ = a[(r-1)*lda+kn-1]
	_ = b[(kn-1)*ldb+_NR_-1]
	_ = c[(r-1)*ldc+n-1]
	var bp *float32
	if flags&1 != 0 {
		_ = bias[r-1]
		bp = &bias[0]
	} else if flags&4 != 0 {
		_ = bias[n-1]
		bp = &bias[0]
	}
	return bp
}
`,
		calls: map[ISA]string{
			AVX512: `ASM(r, n, kn, &a[0], lda, &b[0], ldb, &c[0], ldc, bp, flags, nil, nil, 0)`,
			// AVX2 computes _ROWS_ rows of _NR_ columns per call.
			AVX2: `if n < _NR_ {
	FUNCNarrow(r, n, kn, a, lda, b, ldb, c, ldc, bias, flags)
	return
}
for i := 0; i < r; i += _ROWS_ {
	if flags&1 != 0 {
		bp = &bias[i]
	}
	ASM(min(_ROWS_, r-i), n, kn, &a[i*lda], lda, &b[0], ldb, &c[i*ldc], ldc, bp, flags, nil, nil, 0)
}`,
		},
		// FUNCE's routines: those that run the extended epilogue
		// themselves (the others are staged, gemmExtWrapper).
		ext: map[ISA]string{
			AVX512: `if _NR_ <= 32 {
	var rp *float32
	if flags&128 != 0 {
		rp = &res[0]
	}
	ASM(r, n, kn, &a[0], lda, &b[0], ldb, &c[0], ldc, bp, flags, rp, &lohi[0], int(cmask))
	return
}`,
		},
		narrow: `
// FUNCNarrow is FUNC for n < _NR_ through a whole block: the AVX2
// routine stores all _NR_ columns.
func FUNCNarrow(r, n, kn int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, bias []float32, flags int) {
	var blk [_CB_]float32
	var cb [_NR_]float32
	for i := range r {
		copy(blk[i*_NR_:i*_NR_+n], c[i*ldc:])
	}
	if flags&4 != 0 {
		copy(cb[:], bias[:n])
		bias = cb[:]
	}
	FUNC(r, _NR_, kn, a, lda, b, ldb, blk[:], _NR_, bias, flags)
	for i := range r {
		copy(c[i*ldc:i*ldc+n], blk[i*_NR_:])
	}
}
`,
		twin: gemmTwin, // twins.go
		decl: `
// ASM is FUNC in _ISA_ (rows 1 ≤ r ≤ _ROWS_ of the _BLOCK_ block): kn ≥ 1;
// bias may be nil when flags&5 == 0. AVX-512 also runs FUNCE's flags
// (res, lohi, cmask); the others ignore them.
//
//go:noescape
func ASM(r, n, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, bias *float32, flags int, res *float32, lohi *float32, cmask int)
`,
		stub: `
func ASM(r, n, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, bias *float32, flags int, res *float32, lohi *float32, cmask int) {
	panic("ASM: no assembly in this build")
}
`,
	},
	Dot: {
		wrapper: `
// FUNC sets out[i] = Σ_k x[k]·w[i*ldw+k] for i < r (1.._MR_) and
// k < len(x).
func FUNC(r int, x, w []float32, ldw int, out *[_MR_]float32) {
	k := len(x)
	if r < 1 || r > _MR_ || k < 1 || ldw < 0 {
		panic("FUNC: bad shape")
	}
	_ = w[(r-1)*ldw+k-1]
	DISPATCH
	TWIN(r, x, w, ldw, out)
}
`,
		calls: map[ISA]string{
			AVX2: `ASM(r, k, &x[0], &w[0], ldw, &out[0])`,
		},
		twin: `
// TWIN is FUNC in pure Go: the fallback (purego, other GOARCH) and the
// assembly's test oracle. Rows in pairs (TWINRows2: each x value loaded
// once for both rows).
func TWIN(r int, x, w []float32, ldw int, out *[_MR_]float32) {
	i := 0
	for ; i+2 <= r; i += 2 {
		out[i], out[i+1] = TWINRows2(x, w[i*ldw:][:len(x)], w[(i+1)*ldw:][:len(x)])
	}
	if i < r {
		wr := w[i*ldw:][:len(x)]
		var s0, s1 float32
		k := 0
		for ; k < len(x)-1; k += 2 {
			s0 += x[k] * wr[k]
			s1 += x[k+1] * wr[k+1]
		}
		if k < len(x) {
			s0 += x[k] * wr[k]
		}
		out[i] = s0 + s1
	}
}

// TWINRows2 is Σ_k x[k]·w0[k] and Σ_k x[k]·w1[k], each as two partial
// sums (even and odd k, added at the end) so that four additions are in
// flight rather than one chain per row; a leaf so that they stay in
// registers.
func TWINRows2(x, w0, w1 []float32) (float32, float32) {
	w0, w1 = w0[:len(x)], w1[:len(x)]
	var s0, s1, t0, t1 float32
	k := 0
	for ; k < len(x)-1; k += 2 {
		x0, x1 := x[k], x[k+1]
		s0 += x0 * w0[k]
		s1 += x1 * w0[k+1]
		t0 += x0 * w1[k]
		t1 += x1 * w1[k+1]
	}
	if k < len(x) {
		s0 += x[k] * w0[k]
		t0 += x[k] * w1[k]
	}
	return s0 + s1, t0 + t1
}
`,
		decl: `
// ASM is FUNC in _ISA_: k ≥ 1, 1 ≤ r ≤ _ROWS_.
//
//go:noescape
func ASM(r, k int, x *float32, w *float32, ldw int, out *float32)
`,
		stub: `
func ASM(r, k int, x *float32, w *float32, ldw int, out *float32) {
	panic("ASM: no assembly in this build")
}
`,
	},
}

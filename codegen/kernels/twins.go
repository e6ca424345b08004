package kernels

// gemmTwin is the Gemm kernel's pure-Go twin (the template's twin): what
// -tags purego and every GOARCH but amd64 run, and the assembly's test
// oracle.
//
// Register tiles of 4 columns by 4 rows where the architecture has 32
// floating-point registers (TWINTile4x4: 16 sums, 4 a and 4 b values in
// registers, 16 fused multiply-adds per k on arm64), else by 2 rows
// (TWINTile2x4: 8 sums; amd64 has 15 float registers for Go code, and a
// third row there spills: measured 25–40% slower). The architectures
// with 32 are a constant (runtime.GOARCH), so each build compiles one
// path. Within a tile each sum adds its products in k order, as the
// assembly does; b's row is taken as b[o:o+4:o+4], whose length the
// compiler knows, so that the four loads need no checks of their own
// and no pointer mask (a conversion to *[4]float32 costs both).
var gemmTwin = `
// TWIN is FUNC in pure Go: the fallback (purego, other GOARCH) and the
// assembly's test oracle. It accumulates in a block of _MR_×_NR_ values
// in register tiles of 4 columns (TWINTile4x4 where GOARCH has 32 float
// registers, else TWINTile2x4 and TWINTile1x4), each sum adding its
// products in k order, then applies the epilogue row by row.
func TWIN(r, n, kn int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, bias []float32, flags int) {
	var blk [_CB_]float32
	if flags&8 != 0 {
		for i := range r {
			copy(blk[i*_NR_:i*_NR_+n], c[i*ldc:])
		}
	}
	// Columns in fours up to n (b has _NR_ readable columns, a multiple
	// of 4); rows in fours (32 registers), pairs, then one.
	const wide = runtime.GOARCH == "arm64" || runtime.GOARCH == "riscv64" || runtime.GOARCH == "loong64" || runtime.GOARCH == "ppc64le" || runtime.GOARCH == "ppc64"
	i := 0
	if wide {
		for ; i+4 <= r; i += 4 {
			a0, a1, a2, a3 := a[i*lda:][:kn], a[(i+1)*lda:][:kn], a[(i+2)*lda:][:kn], a[(i+3)*lda:][:kn]
			for j := 0; j < n; j += 4 {
				TWINTile4x4(a0, a1, a2, a3, b[j:], ldb, (*[4]float32)(blk[i*_NR_+j:]), (*[4]float32)(blk[(i+1)*_NR_+j:]),
					(*[4]float32)(blk[(i+2)*_NR_+j:]), (*[4]float32)(blk[(i+3)*_NR_+j:]))
			}
		}
	}
	for ; i+2 <= r; i += 2 {
		a0, a1 := a[i*lda:][:kn], a[(i+1)*lda:][:kn]
		for j := 0; j < n; j += 4 {
			TWINTile2x4(a0, a1, b[j:], ldb, (*[4]float32)(blk[i*_NR_+j:]), (*[4]float32)(blk[(i+1)*_NR_+j:]))
		}
	}
	if i < r {
		a0 := a[i*lda:][:kn]
		for j := 0; j < n; j += 4 {
			TWINTile1x4(a0, b[j:], ldb, (*[4]float32)(blk[i*_NR_+j:]))
		}
	}
	g := 1 << (flags >> 4)
	for i := range r {
		acc := (*[_NR_]float32)(blk[i*_NR_:])
		for j0 := 0; j0 < n; j0 += g {
			v := acc[j0]
			for _, u := range acc[j0+1 : j0+g] {
				if u > v || u != u { // NaN propagates
					v = u
				}
			}
			if flags&1 != 0 {
				v += bias[i]
			}
			if flags&4 != 0 {
				v += bias[j0]
			}
			if flags&2 != 0 && v < 0 {
				v = 0
			}
			acc[j0] = v
		}
		copy(c[i*ldc:i*ldc+n], acc[:n])
	}
}

// TWINTile4x4 adds a0·b … a3·b (b: len(a0) rows of 4 columns, ldb apart)
// to p0 … p3: sixteen sums, four a and four b values, which fit the 32
// float registers of arm64 (and the other GOARCH TWIN calls it on); a
// leaf of its own so that nothing else competes for them.
func TWINTile4x4(a0, a1, a2, a3, b []float32, ldb int, p0, p1, p2, p3 *[4]float32) {
	a1, a2, a3 = a1[:len(a0)], a2[:len(a0)], a3[:len(a0)]
	c00, c01, c02, c03 := p0[0], p0[1], p0[2], p0[3]
	c10, c11, c12, c13 := p1[0], p1[1], p1[2], p1[3]
	c20, c21, c22, c23 := p2[0], p2[1], p2[2], p2[3]
	c30, c31, c32, c33 := p3[0], p3[1], p3[2], p3[3]
	o := 0
	for k, x0 := range a0 {
		x1, x2, x3 := a1[k], a2[k], a3[k]
		bk := b[o : o+4 : o+4]
		o += ldb
		b0, b1, b2, b3 := bk[0], bk[1], bk[2], bk[3]
		c00 += x0 * b0
		c01 += x0 * b1
		c02 += x0 * b2
		c03 += x0 * b3
		c10 += x1 * b0
		c11 += x1 * b1
		c12 += x1 * b2
		c13 += x1 * b3
		c20 += x2 * b0
		c21 += x2 * b1
		c22 += x2 * b2
		c23 += x2 * b3
		c30 += x3 * b0
		c31 += x3 * b1
		c32 += x3 * b2
		c33 += x3 * b3
	}
	p0[0], p0[1], p0[2], p0[3] = c00, c01, c02, c03
	p1[0], p1[1], p1[2], p1[3] = c10, c11, c12, c13
	p2[0], p2[1], p2[2], p2[3] = c20, c21, c22, c23
	p3[0], p3[1], p3[2], p3[3] = c30, c31, c32, c33
}

// TWINTile2x4 adds a0·b and a1·b (b: len(a0) rows of 4 columns, ldb
// apart) to p0 and p1. A leaf of its own, so that its eight sums, two a
// values and the loop's indices fit the registers (amd64 has 15 for
// floats; a larger tile or an inlined one spills); one bounds check per
// k (b's row).
func TWINTile2x4(a0, a1, b []float32, ldb int, p0, p1 *[4]float32) {
	a1 = a1[:len(a0)]
	c00, c01, c02, c03 := p0[0], p0[1], p0[2], p0[3]
	c10, c11, c12, c13 := p1[0], p1[1], p1[2], p1[3]
	o := 0
	for k, x0 := range a0 {
		x1 := a1[k]
		bk := b[o : o+4 : o+4]
		o += ldb
		c00 += x0 * bk[0]
		c01 += x0 * bk[1]
		c02 += x0 * bk[2]
		c03 += x0 * bk[3]
		c10 += x1 * bk[0]
		c11 += x1 * bk[1]
		c12 += x1 * bk[2]
		c13 += x1 * bk[3]
	}
	p0[0], p0[1], p0[2], p0[3] = c00, c01, c02, c03
	p1[0], p1[1], p1[2], p1[3] = c10, c11, c12, c13
}

// TWINTile1x4 is TWINTile2x4 for one row.
func TWINTile1x4(a0, b []float32, ldb int, p0 *[4]float32) {
	c0, c1, c2, c3 := p0[0], p0[1], p0[2], p0[3]
	o := 0
	for _, x0 := range a0 {
		bk := b[o : o+4 : o+4]
		o += ldb
		c0 += x0 * bk[0]
		c1 += x0 * bk[1]
		c2 += x0 * bk[2]
		c3 += x0 * bk[3]
	}
	p0[0], p0[1], p0[2], p0[3] = c0, c1, c2, c3
}
`

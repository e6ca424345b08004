package kernels

// The extended epilogue of the Gemm kernels: FUNCE, the wrapper the
// convolution emitters call (codegen/gemm.go) when a layer's residual,
// clip (relu6) or a compressed store must run at the kernel's store
// rather than as another pass over the output. The AVX-512 routine does
// it in registers (gemmasm.go: gemmResidual, gemmClamp,
// gemmCompressStore); AVX2 and the twin compute the block into a staging
// array with the base flags and finish it in Go (FUNCStaged), in the
// same order, so all three agree.
//
// Compressed stores serve im2row (codegen/conv_rows.go): a panel of
// virtual columns holds outputs and the padding columns between output
// rows; cmask marks the outputs, which are consecutive in the output
// plane, so each row of the block is stored packed (VCOMPRESSPS) and its
// residual read packed (VEXPANDPS) from the first output's offset.

func init() {
	t := templates[Gemm]
	t.wrapper += gemmExtWrapper
	templates[Gemm] = t
}

// GemmExt is the name of a Gemm kernel's extended wrapper.
func (k *Kernel) GemmExt() string { return k.Func + "E" }

const gemmExtWrapper = `
// FUNCE is FUNC with more of the epilogue, in flags bits above the pool
// level (all after the biases, in this order):
//
//	flags&128  add res[i*ldc+j], a residual laid out as c
//	flags&2    relu, as in FUNC
//	flags&256  clamp to [lohi[0], lohi[1]]: max then min, NaN stays NaN
//	flags&512  compress: all _NR_ columns are computed and column j is
//	           kept when bit j of cmask is set, n of them; row i's kept
//	           columns are stored at c[i*ldc], c[i*ldc+1], … and its
//	           residual (flags&128) and own value (flags&8) read alike.
//	           Not with a pool or flags&4.
//
// lohi must be non-nil; cmask is 0 without flags&512.
func FUNCE(r, n, kn int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, bias []float32, flags int, res []float32, lohi *[2]float32, cmask uint32) {
	ext := flags &^ 127
	if ext == 0 {
		FUNC(r, n, kn, a, lda, b, ldb, c, ldc, bias, flags)
		return
	}
	kept := 0
	for m := uint64(cmask); m != 0; m &= m - 1 {
		kept++
	}
	if ext&^(128|256|512) != 0 || lohi == nil || flags>>4&7 != 0 ||
		flags&512 != 0 && (flags&4 != 0 || kept != n || uint64(cmask)>>_NR_ != 0) ||
		flags&512 == 0 && cmask != 0 {
		panic("FUNCE: bad epilogue")
	}
	if flags&128 != 0 {
		_ = res[(r-1)*ldc+n-1]
	}
	bp := FUNCCheck(r, n, kn, a, lda, b, ldb, c, ldc, bias, flags)
	_ = bp
	EXTDISPATCH
	FUNCStaged(r, n, kn, a, lda, b, ldb, c, ldc, bias, flags, res, lohi, cmask)
}

// FUNCStaged is FUNCE through a staging block: FUNC computes all _NR_
// columns with the biases (and c's own value, flags&8), then Go adds the
// residual, applies relu and the clamp and stores the kept columns.
func FUNCStaged(r, n, kn int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, bias []float32, flags int, res []float32, lohi *[2]float32, cmask uint32) {
	var blk [_CB_]float32
	var cb [_NR_]float32
	if flags&512 == 0 {
		cmask = uint32(uint64(1)<<n - 1)
	}
	if flags&8 != 0 {
		for i := range r {
			o := i * ldc
			for j := range _NR_ {
				if cmask>>j&1 != 0 {
					blk[i*_NR_+j] = c[o]
					o++
				}
			}
		}
	}
	if flags&4 != 0 {
		copy(cb[:], bias[:n])
		bias = cb[:]
	}
	FUNC(r, _NR_, kn, a, lda, b, ldb, blk[:], _NR_, bias, flags&13)
	lo, hi := lohi[0], lohi[1]
	for i := range r {
		row := (*[_NR_]float32)(blk[i*_NR_:])
		o := i * ldc
		for j, v := range row {
			if cmask>>j&1 == 0 {
				continue
			}
			if flags&128 != 0 {
				v += res[o]
			}
			if flags&2 != 0 && v < 0 {
				v = 0
			}
			if flags&256 != 0 {
				if v < lo {
					v = lo
				}
				if v > hi {
					v = hi
				}
			}
			c[o] = v
			o++
		}
	}
}
`

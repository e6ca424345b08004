package kernels

// DWPlane copies one input channel into a depthwise kernel's
// zero-bordered plane (dw.go): rows×cols of src (row stride lds) to
// rows pt, pt+1, … of dst (row stride ld) from column pl; with stride 2
// each row split by column parity, column c of the padded row at
// (c%2)·half + c/2. One call per channel: it replaces a Go loop over the
// rows with a copy (stride 1) or a Split call (stride 2) per row, whose
// per-row overhead was about as much as the depthwise kernel's own time
// on MobileNetV2's 112×112 and 56×56 planes.
const DWPlane Op = 23

func init() { templates[DWPlane] = dwPlaneTemplate }

// dwPlaneKernel is the registered DWPlane kernel.
var dwPlaneKernel = &Kernel{
	Name: "avx512.dwplane", Op: DWPlane, ISAs: []ISA{AVX512, AVX2}, MR: 1, NR: 16,
	PackA: Vector, PackB: Vector, Func: "simdDWPlane",
}

var dwPlaneTemplate = template{
	wrapper: `
// FUNC copies rows×cols of src (row stride lds) into the padded plane dst
// (row stride ld) from row pt and padded column pl: with s = 1 column c
// at pl+c; with s = 2 each row split by column parity, padded column
// pl+c at ((pl+c)%2)*half + (pl+c)/2, the layout of the stride-2
// depthwise kernels (codegen/kernels/dw.go). Nothing else of dst is
// written.
func FUNC(dst []float32, ld, half int, src []float32, lds, rows, cols, pt, pl, s int) {
	if rows == 0 || cols == 0 {
		return
	}
	if rows < 0 || cols < 0 || pt < 0 || pl < 0 || lds < cols || s < 1 || s > 2 ||
		(s == 1 && pl+cols > ld) || (s == 2 && (half < 0 || (pl+cols+1)/2 > half || 2*half > ld)) {
		panic("FUNC: bad shape")
	}
	_ = src[(rows-1)*lds+cols-1]
	last := pl + cols // past the last row's last column
	if s == 2 {
		last = 2 * half
	}
	_ = dst[(pt+rows-1)*ld+last-1]
	// The first column of each phase (s = 2: src's even columns go to
	// e0, its odd ones to o0) and the assembly's tail masks.
	e0, o0 := pt*ld+pl, pt*ld+pl
	masks := 1<<(cols%16) - 1
	if s == 2 {
		e0, o0 = pt*ld+(pl%2)*half+pl/2, pt*ld+((pl+1)%2)*half+(pl+1)/2
		r := cols % 32
		masks = 1<<min(r, 16) - 1 | (1<<max(r-16, 0)-1)<<16 | (1<<((r+1)/2)-1)<<32 | (1<<(r/2)-1)<<48
	}
	DISPATCH
	TWIN(dst, ld, half, src, lds, rows, cols, pt, pl, s)
}
`,
	calls: map[ISA]string{
		AVX512: `ASM(&dst[e0], &dst[o0], ld, &src[0], lds, rows, cols, s, masks)`,
		AVX2:   `ASM(&dst[e0], &dst[o0], ld, &src[0], lds, rows, cols, s, masks)`,
	},
	twin: `
// TWIN is FUNC in pure Go: the fallback and the assembly's test oracle.
func TWIN(dst []float32, ld, half int, src []float32, lds, rows, cols, pt, pl, s int) {
	for r := range rows {
		sr := src[r*lds : r*lds+cols]
		dr := dst[(pt+r)*ld:]
		if s == 1 {
			copy(dr[pl:pl+cols], sr)
			continue
		}
		for c, v := range sr {
			dr[((pl+c)%2)*half+(pl+c)/2] = v
		}
	}
}
`,
	decl: `
// ASM is FUNC in _ISA_ from the first destination column of each
// phase (e: src's even columns, o: its odd ones; the same with s = 1),
// rows, cols ≥ 1. masks: s = 1, the 16-column tail's lanes; s = 2, four
// 16-bit masks of the 32-column tail: the two loads, the even and the
// odd stores.
//
//go:noescape
func ASM(e, o *float32, ld int, src *float32, lds, rows, cols, s, masks int)
`,
	stub: `
func ASM(e, o *float32, ld int, src *float32, lds, rows, cols, s, masks int) {
	panic("ASM: no assembly in this build")
}
`,
}

// avx512DWPlane writes the AVX-512 routine: stride 1, whole 16-column
// vectors and a masked tail per row; stride 2, 32 columns per step, two
// loads split by two VPERMI2PS into the even and odd columns, the tail
// masked at the loads and the stores. GPRs: DI/R8 the even/odd
// destination row, SI the source row, R11-R13 their columns, R9 ld and
// R10 lds in bytes, BX rows left, CX steps left, DX cols.
func avx512DWPlane(w *asmw, k *Kernel) {
	fn := k.Asm(AVX512)
	idx := fn + "idx"
	for i := range 32 { // even lanes' sources, then odd lanes'
		w.p("DATA %s<>+%d(SB)/4, $%d", idx, 4*i, 2*(i%16)+i/16)
	}
	w.p("GLOBL %s<>(SB), RODATA|NOPTR, $128", idx)
	w.p("")
	dwPlaneHead(w, fn)
	w.in("MOVQ masks+64(FP), AX")
	w.in("KMOVW AX, K1")
	w.in("CMPQ s+56(FP), $1")
	w.in("JNE %ss2", fn)
	w.p("%ss1row:", fn)
	w.in("MOVQ SI, R11")
	w.in("MOVQ DI, R12")
	w.in("MOVQ DX, CX")
	w.in("SHRQ $4, CX")
	w.in("JZ %ss1tail", fn)
	w.p("%ss1vec:", fn)
	w.in("VMOVUPS (R11), Z0")
	w.in("VMOVUPS Z0, (R12)")
	w.in("ADDQ $64, R11")
	w.in("ADDQ $64, R12")
	w.in("DECQ CX")
	w.in("JNZ %ss1vec", fn)
	w.p("%ss1tail:", fn)
	// An empty mask loads and stores nothing (faults suppressed).
	w.in("VMOVUPS.Z (R11), K1, Z0")
	w.in("VMOVUPS Z0, K1, (R12)")
	w.in("ADDQ R10, SI")
	w.in("ADDQ R9, DI")
	w.in("DECQ BX")
	w.in("JNZ %ss1row", fn)
	w.in("JMP %sdone", fn)
	w.p("%ss2:", fn)
	for _, kr := range []string{"K2", "K3", "K4"} {
		w.in("SHRQ $16, AX")
		w.in("KMOVW AX, %s", kr)
	}
	w.in("VMOVUPS %s<>+0(SB), Z6", idx)
	w.in("VMOVUPS %s<>+64(SB), Z7", idx)
	w.p("%ss2row:", fn)
	w.in("MOVQ SI, R11")
	w.in("MOVQ DI, R12")
	w.in("MOVQ R8, R13")
	w.in("MOVQ DX, CX")
	w.in("SHRQ $5, CX")
	w.in("JZ %ss2tail", fn)
	w.p("%ss2blk:", fn)
	w.in("VMOVUPS (R11), Z0")
	w.in("VMOVUPS 64(R11), Z1")
	w.in("VMOVAPS Z6, Z2")
	w.in("VPERMI2PS Z1, Z0, Z2")
	w.in("VMOVAPS Z7, Z3")
	w.in("VPERMI2PS Z1, Z0, Z3")
	w.in("VMOVUPS Z2, (R12)")
	w.in("VMOVUPS Z3, (R13)")
	w.in("ADDQ $128, R11")
	w.in("ADDQ $64, R12")
	w.in("ADDQ $64, R13")
	w.in("DECQ CX")
	w.in("JNZ %ss2blk", fn)
	w.p("%ss2tail:", fn)
	w.in("VMOVUPS.Z (R11), K1, Z0")
	w.in("VMOVUPS.Z 64(R11), K2, Z1")
	w.in("VMOVAPS Z6, Z2")
	w.in("VPERMI2PS Z1, Z0, Z2")
	w.in("VMOVAPS Z7, Z3")
	w.in("VPERMI2PS Z1, Z0, Z3")
	w.in("VMOVUPS Z2, K3, (R12)")
	w.in("VMOVUPS Z3, K4, (R13)")
	w.in("ADDQ R10, SI")
	w.in("ADDQ R9, DI")
	w.in("ADDQ R9, R8")
	w.in("DECQ BX")
	w.in("JNZ %ss2row", fn)
	w.p("%sdone:", fn)
	w.in("VZEROUPPER")
	w.in("RET")
	w.p("")
}

// dwPlaneHead loads a DWPlane routine's arguments.
func dwPlaneHead(w *asmw, fn string) {
	w.p(`// func %s(e, o *float32, ld int, src *float32, lds, rows, cols, s, masks int)`, fn)
	w.p(`TEXT ·%s(SB), NOSPLIT, $0-72`, fn)
	w.in("MOVQ e+0(FP), DI")
	w.in("MOVQ o+8(FP), R8")
	w.in("MOVQ ld+16(FP), R9")
	w.in("SHLQ $2, R9")
	w.in("MOVQ src+24(FP), SI")
	w.in("MOVQ lds+32(FP), R10")
	w.in("SHLQ $2, R10")
	w.in("MOVQ rows+40(FP), BX")
	w.in("MOVQ cols+48(FP), DX")
}

// avx2DWPlane writes the AVX2 routine: stride 1, 8-column vectors then
// single columns; stride 2, 16 columns per step (avx2Split's shuffles),
// then pairs, then a last even column.
func avx2DWPlane(w *asmw, k *Kernel) {
	fn := k.Asm(AVX2)
	dwPlaneHead(w, fn)
	w.in("CMPQ s+56(FP), $1")
	w.in("JNE %ss2", fn)
	w.p("%ss1row:", fn)
	w.in("MOVQ SI, R11")
	w.in("MOVQ DI, R12")
	w.in("MOVQ DX, CX")
	w.in("SHRQ $3, CX")
	w.in("JZ %ss1one", fn)
	w.p("%ss1vec:", fn)
	w.in("VMOVUPS (R11), Y0")
	w.in("VMOVUPS Y0, (R12)")
	w.in("ADDQ $32, R11")
	w.in("ADDQ $32, R12")
	w.in("DECQ CX")
	w.in("JNZ %ss1vec", fn)
	w.p("%ss1one:", fn)
	w.in("MOVQ DX, CX")
	w.in("ANDQ $7, CX")
	w.in("JZ %ss1next", fn)
	w.p("%ss1col:", fn)
	w.in("MOVL (R11), AX")
	w.in("MOVL AX, (R12)")
	w.in("ADDQ $4, R11")
	w.in("ADDQ $4, R12")
	w.in("DECQ CX")
	w.in("JNZ %ss1col", fn)
	w.p("%ss1next:", fn)
	w.in("ADDQ R10, SI")
	w.in("ADDQ R9, DI")
	w.in("DECQ BX")
	w.in("JNZ %ss1row", fn)
	w.in("JMP %sdone", fn)
	w.p("%ss2:", fn)
	w.p("%ss2row:", fn)
	w.in("MOVQ SI, R11")
	w.in("MOVQ DI, R12")
	w.in("MOVQ R8, R13")
	w.in("MOVQ DX, CX")
	w.in("SHRQ $4, CX")
	w.in("JZ %ss2pairs", fn)
	w.p("%ss2blk:", fn)
	w.in("VMOVUPS (R11), Y0")
	w.in("VMOVUPS 32(R11), Y1")
	w.in("VSHUFPS $0x88, Y1, Y0, Y2") // a0 a2 b0 b2 | a4 a6 b4 b6
	w.in("VSHUFPS $0xDD, Y1, Y0, Y3") // a1 a3 b1 b3 | a5 a7 b5 b7
	w.in("VPERMPD $0xD8, Y2, Y2")
	w.in("VPERMPD $0xD8, Y3, Y3")
	w.in("VMOVUPS Y2, (R12)")
	w.in("VMOVUPS Y3, (R13)")
	w.in("ADDQ $64, R11")
	w.in("ADDQ $32, R12")
	w.in("ADDQ $32, R13")
	w.in("DECQ CX")
	w.in("JNZ %ss2blk", fn)
	w.p("%ss2pairs:", fn)
	w.in("MOVQ DX, CX")
	w.in("ANDQ $15, CX")
	w.in("SHRQ $1, CX")
	w.in("JZ %ss2last", fn)
	w.p("%ss2pair:", fn)
	w.in("MOVL (R11), AX")
	w.in("MOVL AX, (R12)")
	w.in("MOVL 4(R11), AX")
	w.in("MOVL AX, (R13)")
	w.in("ADDQ $8, R11")
	w.in("ADDQ $4, R12")
	w.in("ADDQ $4, R13")
	w.in("DECQ CX")
	w.in("JNZ %ss2pair", fn)
	w.p("%ss2last:", fn)
	w.in("TESTQ $1, DX")
	w.in("JZ %ss2next", fn)
	w.in("MOVL (R11), AX")
	w.in("MOVL AX, (R12)")
	w.p("%ss2next:", fn)
	w.in("ADDQ R10, SI")
	w.in("ADDQ R9, DI")
	w.in("ADDQ R9, R8")
	w.in("DECQ BX")
	w.in("JNZ %ss2row", fn)
	w.p("%sdone:", fn)
	w.in("VZEROUPPER")
	w.in("RET")
	w.p("")
}

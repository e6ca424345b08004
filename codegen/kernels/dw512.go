package kernels

import "fmt"

// The AVX-512 depthwise routine (the contract is dw.go's): blocks of up
// to dw512Rows output rows by one 16-lane vector.
//
// Session 4's AVX-512 routine was dwAsm over zmm: one output row at a
// time, a weight broadcast before every tap and the block of 4 vectors
// only on rows of 64 columns or more. MobileNetV2's planes are 7 to 112
// columns wide, so nearly every row ran as one or two vectors, each a
// chain of 9 dependent FMAs (latency-bound: 4 cycles a tap on one of the
// two FMA ports), and it measured slower than AVX2. Here the independent
// chains come from rows instead of columns: a block of R output rows
// keeps R accumulators (R = 8: enough to cover the FMA latency on both
// ports), the window's weights stay in registers for the whole plane,
// and each input row vector is loaded once for all the block's rows and
// taps that read it (a 3×3 stride-1 block: 30 loads for 72 FMAs). The
// FMAs run per accumulator in (kh, kw) order, the interpreter's. Rows
// left after the 8-row blocks (oh mod 8) run as one block of that many
// rows, so a 7×7 plane is one block of 7 chains. The last vector of a
// row is masked (K2) at the y load and the store only: the padded plane
// is wide enough for whole vectors.

// dw512Rows is the rows of a full block.
const dw512Rows = 8

// avx512Depthwise writes the routine. GPRs: R12/R13 x and y at the
// block's first row, R8/DI at its current column, R9 ld in bytes, DX
// half in bytes, R10 ow in bytes, R11 the row pointer, AX flags, BX the
// rows left, CX the vectors left in the row. Vector registers: the
// weights (KH·KW ≤ 16; wider windows broadcast them from SI at each
// FMA), bias, lo, hi, R accumulators, then rotating loads. K1 the last
// vector's mask (all ones when ow is whole vectors), K2 the current one.
func avx512Depthwise(w *asmw, k *Kernel) {
	kh, kw, st := k.Taps[0], k.Taps[1], k.Stride
	kk := kh * kw
	fn := k.Asm(AVX512)
	regW := kk <= 16
	nw := 0
	if regW {
		nw = kk
	}
	zb, zlo, zhi, acc, ldr := nw, nw+1, nw+2, nw+3, nw+3+dw512Rows
	z := func(i int) string { return fmt.Sprintf("Z%d", i) }
	w.p(`// func %s(x *float32, ld, half int, w *float32, y *float32, oh, ow int, p *float32, flags int)`, fn)
	w.p(`TEXT ·%s(SB), NOSPLIT, $0-72`, fn)
	w.in("MOVQ x+0(FP), R12")
	w.in("MOVQ ld+8(FP), R9")
	w.in("SHLQ $2, R9")
	w.in("MOVQ half+16(FP), DX")
	w.in("SHLQ $2, DX")
	w.in("MOVQ w+24(FP), SI")
	w.in("MOVQ y+32(FP), R13")
	w.in("MOVQ ow+48(FP), R10")
	w.in("SHLQ $2, R10")
	w.in("MOVQ p+56(FP), AX")
	w.in("VBROADCASTSS 0(AX), %s", z(zb))
	w.in("VBROADCASTSS 4(AX), %s", z(zlo))
	w.in("VBROADCASTSS 8(AX), %s", z(zhi))
	for t := range nw {
		w.in("VBROADCASTSS %d(SI), %s", 4*t, z(t))
	}
	// K1: the last vector's lanes.
	w.in("KXNORW K1, K1, K1")
	w.in("MOVQ ow+48(FP), CX")
	w.in("ANDQ $15, CX")
	w.in("JZ %sfull", fn)
	w.in("MOVQ $1, BX")
	w.in("SHLQ CX, BX")
	w.in("DECQ BX")
	w.in("KMOVW BX, K1")
	w.p("%sfull:", fn)
	w.in("MOVQ flags+64(FP), AX")
	w.in("MOVQ oh+40(FP), BX")
	w.p("%sloop:", fn)
	w.in("CMPQ BX, $%d", dw512Rows)
	w.in("JLT %srest", fn)
	dw512Block(w, k, dw512Rows, fmt.Sprintf("%sb%d", fn, dw512Rows), z, zb, zlo, zhi, acc, ldr)
	for range st {
		w.in("LEAQ (R12)(R9*%d), R12", dw512Rows)
	}
	w.in("LEAQ (R13)(R10*%d), R13", dw512Rows)
	w.in("SUBQ $%d, BX", dw512Rows)
	w.in("JMP %sloop", fn)
	w.p("%srest:", fn)
	for r := 1; r < dw512Rows; r++ {
		w.in("CMPQ BX, $%d", r)
		w.in("JEQ %sb%d", fn, r)
	}
	w.in("JMP %sdone", fn)
	for r := 1; r < dw512Rows; r++ {
		l := fmt.Sprintf("%sb%d", fn, r)
		w.p("%s:", l)
		dw512Block(w, k, r, l, z, zb, zlo, zhi, acc, ldr)
		w.in("JMP %sdone", fn)
	}
	w.p("%sdone:", fn)
	w.in("VZEROUPPER")
	w.in("RET")
	w.p("")
}

// dw512Block writes one block of R output rows from R12 (x) and R13 (y):
// every vector of the rows, the last under K1.
func dw512Block(w *asmw, k *Kernel, R int, l string, z func(int) string, zb, zlo, zhi, acc, ldr int) {
	kh, kw, st := k.Taps[0], k.Taps[1], k.Stride
	w.in("MOVQ R12, R8")
	w.in("MOVQ R13, DI")
	w.in("MOVQ ow+48(FP), CX")
	w.in("ADDQ $15, CX")
	w.in("SHRQ $4, CX")
	w.in("KXNORW K2, K2, K2")
	w.p("%scol:", l)
	w.in("CMPQ CX, $1")
	w.in("JNE %sgo", l)
	w.in("KMOVW K1, K2")
	w.p("%sgo:", l)
	w.in("TESTQ $1, AX")
	w.in("JNZ %sacc", l)
	for i := range R {
		w.in("VMOVAPS %s, %s", z(zb), z(acc+i))
	}
	w.in("JMP %staps", l)
	w.p("%sacc:", l)
	w.in("MOVQ DI, R11")
	for i := range R {
		w.in("VMOVUPS.Z (R11), K2, %s", z(acc+i))
		if i < R-1 {
			w.in("ADDQ R10, R11")
		}
	}
	w.p("%staps:", l)
	w.in("MOVQ R8, R11")
	rows := (R-1)*st + kh
	nl := 0
	for m := range rows {
		for c := range kw {
			addr := fmt.Sprintf("%d(R11)", 4*(c/st))
			if c%st == 1 {
				addr += "(DX*1)"
			}
			loaded := false
			for i := range R {
				h := m - i*st
				if h < 0 || h >= kh {
					continue
				}
				if !loaded {
					w.in("VMOVUPS %s, %s", addr, z(ldr+nl%4))
					loaded = true
				}
				t := h*kw + c
				if zb > 0 { // weights in registers
					w.in("VFMADD231PS %s, %s, %s", z(ldr+nl%4), z(t), z(acc+i))
				} else {
					w.in("VFMADD231PS.BCST %d(SI), %s, %s", 4*t, z(ldr+nl%4), z(acc+i))
				}
			}
			if loaded {
				nl++
			}
		}
		if m < rows-1 {
			w.in("ADDQ R9, R11")
		}
	}
	w.in("TESTQ $2, AX")
	w.in("JZ %sstore", l)
	for i := range R {
		w.in("VMAXPS %s, %s, %s", z(acc+i), z(zlo), z(acc+i)) // NaN in the accumulator is kept
		w.in("VMINPS %s, %s, %s", z(acc+i), z(zhi), z(acc+i))
	}
	w.p("%sstore:", l)
	w.in("MOVQ DI, R11")
	for i := range R {
		w.in("VMOVUPS %s, K2, (R11)", z(acc+i))
		if i < R-1 {
			w.in("ADDQ R10, R11")
		}
	}
	w.in("ADDQ $64, R8")
	w.in("ADDQ $64, DI")
	w.in("DECQ CX")
	w.in("JNZ %scol", l)
}

package kernels

import (
	"fmt"
	"go/format"
	"strings"
)

// testKernels are the kernels of internal/asmtest: the registry, plus
// block shapes no layer uses yet that exercise the generators' general
// register allocation (12 rows on four bases, one and four vectors per
// row, an odd dot block, a one-vector AVX-512 block).
var testKernels = append(All(),
	&Kernel{Name: "test.avx2.gemm12x8", Op: Gemm, ISAs: []ISA{AVX2}, MR: 12, NR: 8,
		PackA: RowMajor, PackB: Panel, Epilogues: Bias | Relu | MaxPool, Func: "gemm12x8"},
	&Kernel{Name: "test.avx2.gemm2x32", Op: Gemm, ISAs: []ISA{AVX2}, MR: 2, NR: 32,
		PackA: RowMajor, PackB: Panel, Epilogues: Bias | Relu | MaxPool, Func: "gemm2x32"},
	&Kernel{Name: "test.avx512.gemm7x16", Op: Gemm, ISAs: []ISA{AVX512, AVX2}, MR: 7, NR: 16,
		PackA: RowMajor, PackB: Panel, Epilogues: Bias | Relu | MaxPool, Func: "gemm7x16"},
	&Kernel{Name: "test.avx2.dot3", Op: Dot, ISAs: []ISA{AVX2}, MR: 3, NR: 1,
		PackA: RowMajor, PackB: Vector, Func: "dot3"},
	// An even window with stride 2 (the phases reach differently) and a
	// single row.
	testDW("test.avx512.dw2x4s2", 2, 4, 2, "dw2x4s2"),
	testDW("test.avx512.dw1x3s1", 1, 3, 1, "dw1x3s1"),
	// The AVX-512 routines the registry does not list (dw.go, gemv.go).
	testDW("test.avx512.dw5x5s1", 5, 5, 1, "dw5x5s1"),
	testDW("test.avx512.dw5x5s2", 5, 5, 2, "dw5x5s2"),
	&Kernel{Name: "test.avx512.gemv64", Op: Gemv, ISAs: []ISA{AVX512, AVX2}, MR: 1, NR: 64,
		PackA: Vector, PackB: Panel, WeightLayout: "rnn-wT", Epilogues: Bias, Func: "gemv64"},
)

// testDW is a Depthwise kernel with AVX-512 and AVX2 routines.
func testDW(name string, kh, kw, s int, fn string) *Kernel {
	k := dwKernel(kh, kw, s, AVX512, AVX2)
	k.Name, k.Func = name, fn
	return k
}

// AsmTestFiles returns the generated files of internal/asmtest: the
// kernel files of testKernels and kernels_table.go, which lists each
// kernel's wrapper, twin and assembly routines (with the cpuLevel each
// needs) behind one signature per op so the package's tests can call
// them all.
func AsmTestFiles() (map[string][]byte, error) {
	const pkg = "asmtest"
	files, err := Files(pkg, testKernels)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString(Header + "\n\npackage " + pkg + "\n\n")
	b.WriteString("// gemms and dots are every kernel of the package, with slices for the\n// fixed-size block arrays.\n")
	b.WriteString("var gemms = []gemmKernel{\n")
	for _, k := range testKernels {
		if k.Op != Gemm {
			continue
		}
		fmt.Fprintf(&b, "{name: %q, mr: %d, nr: %d,\n", k.Name, k.MR, k.NR)
		fmt.Fprintf(&b, "call: %s,\ntwin: %s,\next: %s,\nstaged: %sStaged,\nasm: []gemmAsm{\n", k.Func, k.Twin(), k.GemmExt(), k.Func)
		for _, isa := range k.ISAs {
			rows := k.MR
			if isa == AVX2 {
				rows = avx2Rows(k)
			}
			fmt.Fprintf(&b, "{isa: %q, level: %s, rows: %d, full: %v, f: %s},\n", isa, isaInfo[isa].level, rows, isa == AVX2, k.Asm(isa))
		}
		b.WriteString("}},\n")
	}
	b.WriteString("}\n\nvar dots = []dotKernel{\n")
	for _, k := range testKernels {
		if k.Op != Dot {
			continue
		}
		ob := fmt.Sprintf("(*[%d]float32)(out)", k.MR)
		fmt.Fprintf(&b, "{name: %q, mr: %d,\n", k.Name, k.MR)
		fmt.Fprintf(&b, "call: func(r int, x, w []float32, ldw int, out []float32) { %s(r, x, w, ldw, %s) },\n", k.Func, ob)
		fmt.Fprintf(&b, "twin: func(r int, x, w []float32, ldw int, out []float32) { %s(r, x, w, ldw, %s) },\n", k.Twin(), ob)
		fmt.Fprintf(&b, "asm: %s},\n", k.Asm(AVX2))
	}
	b.WriteString("}\n\nvar dws = []dwKernel{\n")
	for _, k := range testKernels {
		if k.Op != Depthwise {
			continue
		}
		wb := fmt.Sprintf("(*[%d]float32)(w)", k.Taps[0]*k.Taps[1])
		fmt.Fprintf(&b, "{name: %q, kh: %d, kw: %d, s: %d, lanes: %d,\n", k.Name, k.Taps[0], k.Taps[1], k.Stride, k.dwLanes())
		fmt.Fprintf(&b, "call: func(x []float32, ld, half int, w, y []float32, oh, ow int, p *[3]float32, flags int) { %s(x, ld, half, %s, y, oh, ow, p, flags) },\n", k.Func, wb)
		fmt.Fprintf(&b, "twin: func(x []float32, ld, half int, w, y []float32, oh, ow int, p *[3]float32, flags int) { %s(x, ld, half, %s, y, oh, ow, p, flags) },\n", k.Twin(), wb)
		asmList(&b, "dwAsm", k)
	}
	b.WriteString("}\n\nvar pools = []poolKernel{\n")
	for _, k := range testKernels {
		if k.Op != PoolMax {
			continue
		}
		fmt.Fprintf(&b, "{name: %q, kh: %d, kw: %d, s: %d, lanes: %d, call: %s, twin: %s,\n", k.Name, k.Taps[0], k.Taps[1], k.Stride, k.dwLanes(), k.Func, k.Twin())
		asmList(&b, "poolAsm", k)
	}
	b.WriteString("}\n\nvar avgPools = []avgPoolKernel{\n")
	for _, k := range testKernels {
		if k.Op != PoolAvg {
			continue
		}
		fmt.Fprintf(&b, "{name: %q, kh: %d, kw: %d, s: %d, lanes: %d, call: %s, twin: %s,\n", k.Name, k.Taps[0], k.Taps[1], k.Stride, k.dwLanes(), k.Func, k.Twin())
		asmList(&b, "avgPoolAsm", k)
	}
	for _, t := range []struct {
		list, typ string
		op        Op
	}{{"splits", "splitKernel", Split}, {"acts", "actKernel", Act}, {"gemvs", "gemvKernel", Gemv},
		{"igemms", "igemmKernel", IGemm}, {"vmaxes", "vmaxKernel", VMax},
		{"dwplanes", "dwPlaneKernel", DWPlane}, {"means", "meanKernel", Mean}} {
		fmt.Fprintf(&b, "}\n\nvar %s = []%s{\n", t.list, t.typ)
		for _, k := range testKernels {
			if k.Op == t.op {
				fmt.Fprintf(&b, "{name: %q, call: %s, twin: %s,\n", k.Name, k.Entries()[len(k.Entries())-1], k.Twin())
				asmList(&b, strings.TrimSuffix(t.typ, "Kernel")+"Asm", k)
			}
		}
	}
	b.WriteString("}\n")
	src, err := format.Source([]byte(b.String()))
	if err != nil {
		return nil, fmt.Errorf("kernels: internal error: kernels_table.go does not format: %v\n%s", err, b.String())
	}
	files["kernels_table.go"] = src
	return files, nil
}

// asmList writes the asm field of a table entry: one typ{isa, level, f}
// per instruction set of k.
func asmList(b *strings.Builder, typ string, k *Kernel) {
	fmt.Fprintf(b, "asm: []%s{\n", typ)
	for _, isa := range k.ISAs {
		fmt.Fprintf(b, "{isa: %q, level: %s, f: %s},\n", isa, isaInfo[isa].level, k.Asm(isa))
	}
	b.WriteString("}},\n")
}

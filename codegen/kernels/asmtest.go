package kernels

import (
	"fmt"
	"go/format"
	"strings"
)

// testKernels are the kernels of internal/asmtest: the registry, plus
// block shapes no layer uses yet that exercise the generator's general
// register allocation (12 rows on four bases, one and four vectors per
// row, an odd dot block).
var testKernels = append(All(),
	&Kernel{Name: "test.avx2.gemm12x8", Op: Gemm, ISA: AVX2, Lanes: 8, MR: 12, NR: 8,
		PackA: RowMajor, PackB: Panel, Epilogues: Bias | Relu | MaxPool, Func: "gemm12x8"},
	&Kernel{Name: "test.avx2.gemm2x32", Op: Gemm, ISA: AVX2, Lanes: 8, MR: 2, NR: 32,
		PackA: RowMajor, PackB: Panel, Epilogues: Bias | Relu | MaxPool, Func: "gemm2x32"},
	&Kernel{Name: "test.avx2.dot3", Op: Dot, ISA: AVX2, Lanes: 8, MR: 3, NR: 1,
		PackA: RowMajor, PackB: Vector, Func: "dot3"},
)

// AsmTestFiles returns the generated files of internal/asmtest: the
// kernel files of testKernels and kernels_table.go, which lists each
// kernel's wrapper, twin and assembly behind one signature per op so the
// package's tests can call them all.
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
		cb := fmt.Sprintf("(*[%d]float32)(c)", k.CBlock())
		fmt.Fprintf(&b, "{name: %q, mr: %d, nr: %d,\n", k.Name, k.MR, k.NR)
		fmt.Fprintf(&b, "call: func(r int, a []float32, lda int, b, c, bias []float32, flags int) { %s(r, a, lda, b, %s, bias, flags) },\n", k.Func, cb)
		fmt.Fprintf(&b, "twin: func(r, k int, a []float32, lda int, b, c, bias []float32, flags int) { %s(r, k, a, lda, b, %s, bias, flags) },\n", k.Twin(), cb)
		fmt.Fprintf(&b, "asm: %s},\n", k.Asm())
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
		fmt.Fprintf(&b, "asm: %s},\n", k.Asm())
	}
	b.WriteString("}\n")
	src, err := format.Source([]byte(b.String()))
	if err != nil {
		return nil, fmt.Errorf("kernels: internal error: kernels_table.go does not format: %v\n%s", err, b.String())
	}
	files["kernels_table.go"] = src
	return files, nil
}

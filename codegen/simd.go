package codegen

import (
	"sort"
	"strings"

	"github.com/dlcompiler/dlc/codegen/kernels"
	"github.com/dlcompiler/dlc/ir"
)

// SIMD micro-kernels. A node whose Schedule.Kernel names a registered
// kernel (codegen/kernels) calls it from its loops (gemm.go, linear.go);
// the package then gets the kernel files (kernels.Files: the wrappers and
// pure-Go twins, the AVX-512 and AVX2 assembly chosen at init by CPUID,
// the purego fallback) for the kernels its Go files call.

func init() {
	for _, n := range kernels.Reserved(kernels.All()) {
		reserved[n] = true
	}
}

// kernelOf returns the registered kernel a schedule names, or nil (the
// emitter's own loops).
func kernelOf(s *ir.Schedule) *kernels.Kernel {
	if s == nil || s.Kernel == "" {
		return nil
	}
	return kernels.Lookup(s.Kernel)
}

// usedKernels lists the registered kernels that the generated Go files
// call.
func usedKernels(files map[string][]byte) []*kernels.Kernel {
	names := make([]string, 0, len(files))
	for name := range files {
		if strings.HasSuffix(name, ".go") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var ks []*kernels.Kernel
	for _, k := range kernels.All() {
	found:
		for _, name := range names {
			for _, e := range k.Entries() {
				if strings.Contains(string(files[name]), e+"(") {
					ks = append(ks, k)
					break found
				}
			}
		}
	}
	return ks
}

// simdFiles adds the kernel files to a generated package when one of its
// Go files calls a registered kernel.
func simdFiles(pkg string, files map[string][]byte) error {
	ks := usedKernels(files)
	if len(ks) == 0 {
		return nil
	}
	kf, err := kernels.Files(pkg, ks)
	if err != nil {
		return err
	}
	for name, b := range kf {
		files[name] = b
	}
	return nil
}

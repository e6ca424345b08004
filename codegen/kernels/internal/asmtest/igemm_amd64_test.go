//go:build amd64 && !purego

package asmtest

import (
	"math/rand/v2"
	"testing"
)

// TestIGemmAVX2Wrapper runs TestIGemm's cases with the CPU level held at
// AVX2 (as -tags dlcavx2 holds a generated package's), so the wrapper
// takes the AVX2 routine for the whole panels and stages the last one;
// and TestVMax's, whose AVX2 wrapper leaves the tail to Go.
func TestIGemmAVX2Wrapper(t *testing.T) {
	if cpuLevel < isaAVX2 {
		t.Skip("no AVX2")
	}
	saved := cpuLevel
	cpuLevel = isaAVX2
	defer func() { cpuLevel = saved }()
	TestVMax(t)
	rng := rand.New(rand.NewPCG(20, 2))
	for _, kn := range igemms {
		for r := 1; r <= 12; r++ {
			for _, n := range []int{1, 31, 32, 33, 64, 95} {
				for _, k := range []int{1, 5, 27} {
					flags := (r + n + k) % 4
					testIGemm(t, rng, kn, kn.name+" at AVX2", r, n, k, flags, r%4 == 0, nil)
					testIGemm(t, rng, kn, kn.name+" at AVX2 keep", r, n, k, flags, r%4 == 0, keepTable(rng, n, r+k))
				}
			}
		}
	}
}

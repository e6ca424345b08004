//go:build !purego

package main

// fmaLoop runs n iterations of 12 independent ymm FMAs (192 flops each).
func fmaLoop(n int)

// cpuFMA reports whether the CPU and OS support AVX and FMA.
func cpuFMA() bool

const peakFlopsPerIter = 12 * 8 * 2

var peakName = "AVX2 FMA, 8-wide f32, one core"

func havePeak() bool { return cpuFMA() }

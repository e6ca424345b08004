//go:build !purego

package main

// fmaLoop runs n iterations of 12 independent ymm FMAs (192 flops each).
func fmaLoop(n int)

// cpuFMA reports whether the CPU and OS support AVX and FMA.
func cpuFMA() bool

const peakFlopsPerIter = 12 * 8 * 2

var peakName = "AVX2 FMA, 8-wide f32, one core"

func havePeak() bool { return cpuFMA() }

// fmaLoop512 runs n iterations of 12 independent zmm FMAs (384 flops).
func fmaLoop512(n int)

// cpuAVX512 reports whether the CPU has AVX-512F and the OS saves the
// opmask and zmm state.
func cpuAVX512() bool

const peak512FlopsPerIter = 12 * 16 * 2

var peak512Name = "AVX-512 FMA, 16-wide f32, one core"

func havePeak512() bool { return cpuFMA() && cpuAVX512() }

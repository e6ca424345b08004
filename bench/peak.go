package main

import "time"

// cpuClock makes clock count CPU time (-cpu).
var cpuClock bool

// clock times f: wall time, or with -cpu the CPU time of its thread
// (onCPU), which leaves out the time a loaded machine runs others.
func clock(f func()) time.Duration {
	if cpuClock {
		return onCPU(f)
	}
	t := time.Now()
	f()
	return time.Since(t)
}

// peakGFLOPs measures the machine's single-core floating-point peak: a
// tight loop of independent FMAs in assembly (peak_amd64.s), timed over
// about d (clock: wall time, or with -cpu the thread's CPU time). It returns 0 when the CPU lacks FMA.
func peakGFLOPs(d time.Duration) float64 {
	if !havePeak() {
		return 0
	}
	n := 1 << 16
	for {
		el := clock(func() { fmaLoop(n) })
		if el >= d {
			return float64(n) * peakFlopsPerIter / float64(el.Nanoseconds())
		}
		n *= 2
	}
}

// peak512GFLOPs is peakGFLOPs with 16-wide (512-bit) FMAs, the AVX-512
// kernels' ceiling; 0 when the CPU or OS lacks AVX-512.
func peak512GFLOPs(d time.Duration) float64 {
	if !havePeak512() {
		return 0
	}
	n := 1 << 16
	for {
		el := clock(func() { fmaLoop512(n) })
		if el >= d {
			return float64(n) * peak512FlopsPerIter / float64(el.Nanoseconds())
		}
		n *= 2
	}
}

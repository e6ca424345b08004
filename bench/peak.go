package main

import "time"

// peakGFLOPs measures the machine's single-core floating-point peak: a
// tight loop of independent FMAs in assembly (peak_amd64.s), timed over
// about d. It returns 0 when the CPU lacks FMA.
func peakGFLOPs(d time.Duration) float64 {
	if !havePeak() {
		return 0
	}
	n := 1 << 16
	for {
		t := time.Now()
		fmaLoop(n)
		el := time.Since(t)
		if el >= d {
			return float64(n) * peakFlopsPerIter / float64(el.Nanoseconds())
		}
		n *= 2
	}
}

//go:build !linux

package main

import "time"

// onCPU is wall time where thread CPU time is not available.
func onCPU(f func()) time.Duration {
	t := time.Now()
	f()
	return time.Since(t)
}

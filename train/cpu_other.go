//go:build !unix

package train

// selfCPU is 0 where getrusage is missing.
func selfCPU() float64 { return 0 }

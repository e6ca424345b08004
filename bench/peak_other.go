//go:build !amd64 || purego

package main

// Without the assembly loop, the peak is a scalar Go multiply-add loop.
func fmaLoop(n int) {
	var a [12]float32
	b, c := float32(1.0000001), float32(0.9999999)
	for range n {
		for j := range a {
			a[j] = a[j]*b + c
		}
	}
	peakSink = a[0]
}

var peakSink float32

const peakFlopsPerIter = 12 * 2

var peakName = "scalar Go multiply-add, one core"

func havePeak() bool { return true }

func fmaLoop512(n int) {}

const peak512FlopsPerIter = 0

var peak512Name = ""

func havePeak512() bool { return false }

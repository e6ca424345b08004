package main

import (
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
)

// The paired clock of -gemm -cpu on amd64: each package's test binary
// gets one more test (pairedTest, written into the package before it is
// built) that times Run and the AVX-512 FMA peak loop alternately on one
// locked OS thread by that thread's CPU time, a few milliseconds each, so
// that every GEMM sample has a peak sample taken under the same
// conditions. On this shared machine the other engineers' work slows the
// core by up to a third for seconds at a time (the kernel alone, operands
// in cache, drops from ~97% to ~70% of a peak loop measured moments
// before): a peak measured in another process, at another moment, is no
// denominator, and neither is a process's CPU time less that of a second
// process (its start-up is noise of the size of the difference). The
// timed call is the package's Run as a user calls it: the whole layer,
// copies of the output included.

//go:embed peak_amd64.s
var peakAsm string

// pairedAsm is peak_amd64.s with its routines renamed for the package.
func pairedAsm() string {
	r := strings.NewReplacer("·fmaLoop512(", "·dlcbenchFMA512(", "·fmaLoop(", "·dlcbenchFMA(",
		"·cpuFMA(", "·dlcbenchCPUFMA(", "·cpuAVX512(", "·dlcbenchCPUAVX512(")
	return r.Replace(peakAsm)
}

// pairedTest is the test added to a GEMM package (package name, then
// the flops of one Run).
const pairedTest = `//go:build amd64 && !purego

package %s

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

func dlcbenchFMA512(n int)
func dlcbenchFMA(n int)
func dlcbenchCPUFMA() bool
func dlcbenchCPUAVX512() bool

// dlcbenchSwitches is the calling thread's involuntary context switches.
func dlcbenchSwitches() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
	return ru.Nivcsw
}

// dlcbenchThreadCPU is the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID).
func dlcbenchThreadCPU() time.Duration {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 3, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}

// TestDLCBenchPaired prints, per sample, the FMA peak loop's GFLOP/s and
// the ns of one Run, timed back to back on one thread.
func TestDLCBenchPaired(t *testing.T) {
	samples, _ := strconv.Atoi(os.Getenv("DLCBENCH_SAMPLES"))
	if samples == 0 {
		t.Skip("run by go run ./bench -gemm -cpu")
	}
	flops := float64(%g)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	d := loadSelfTest(t)
	m := New()
	var out Output
	peak, per := dlcbenchFMA, 12*8*2.0
	if dlcbenchCPUAVX512() {
		peak, per = dlcbenchFMA512, 12*16*2.0
	}
	n := max(1, int(2e6/flops*50)) // ~2 ms at 50 GFLOP/s
	pn := 1 << 14
	for range 2 {
		m.Run(&d.in, &out)
	}
	for range samples {
		cs := dlcbenchSwitches()
		t0 := dlcbenchThreadCPU()
		peak(pn)
		pt := dlcbenchThreadCPU() - t0
		t0 = dlcbenchThreadCPU()
		for range n {
			if err := m.Run(&d.in, &out); err != nil {
				t.Fatal(err)
			}
		}
		rt := dlcbenchThreadCPU() - t0
		fmt.Printf("dlcbench peak %%g run %%g switches %%d\n", float64(pn)*per/float64(pt.Nanoseconds()), float64(rt.Nanoseconds())/float64(n), dlcbenchSwitches()-cs)
		if pt.Nanoseconds() < int64(rt.Nanoseconds()/2) {
			pn *= 2
		}
	}
}
`

// writePaired adds the paired test to the package pkg of a GEMM of
// flops per call; false when this host has no paired clock (not amd64,
// or no FMA), and the process clock is used.
func writePaired(dir, pkg string, flops float64) (bool, error) {
	if runtime.GOARCH != "amd64" || !havePeak() {
		return false, nil
	}
	p := filepath.Join(dir, pkg)
	if err := os.WriteFile(filepath.Join(p, "zz_dlcbench_amd64_test.go"), fmt.Appendf(nil, pairedTest, pkg, flops), 0o644); err != nil {
		return false, err
	}
	return true, os.WriteFile(filepath.Join(p, "zz_dlcbench_amd64.s"), []byte(pairedAsm()), 0o644)
}

var pairedRe = regexp.MustCompile(`dlcbench peak ([0-9.e+-]+) run ([0-9.e+-]+) switches ([0-9]+)`)

// runPaired runs the paired test of package pkg for samples samples and
// returns each sample's peak GFLOP/s, ns per Run and whether the thread
// was preempted during the sample (another process then ran on the core
// and evicted part of the caches the GEMM works from; the peak loop works
// in registers and does not notice).
func runPaired(dir, pkg string, samples int) (peaks, ns []float64, preempted []bool, err error) {
	cmd := exec.Command(filepath.Join(dir, pkg+".test"), "-test.run", "^TestDLCBenchPaired$", "-test.count", "1")
	cmd.Dir = filepath.Join(dir, pkg)
	cmd.Env = append(os.Environ(), fmt.Sprintf("DLCBENCH_SAMPLES=%d", samples))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%v\n%s", err, out)
	}
	for _, m := range pairedRe.FindAllStringSubmatch(string(out), -1) {
		p, err1 := strconv.ParseFloat(m[1], 64)
		t, err2 := strconv.ParseFloat(m[2], 64)
		if err1 != nil || err2 != nil {
			return nil, nil, nil, fmt.Errorf("bad sample %q", m[0])
		}
		peaks, ns, preempted = append(peaks, p), append(ns, t), append(preempted, m[3] != "0")
	}
	if len(ns) != samples {
		return nil, nil, nil, fmt.Errorf("%d samples, want %d:\n%s", len(ns), samples, out)
	}
	return peaks, ns, preempted, nil
}

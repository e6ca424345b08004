package harness

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"time"
)

// Timing by CPU time (the harnesses' -clock cpu): on a machine that other
// jobs load, a process waiting for a core accrues wall time but no CPU
// time, so ratios of CPU times survive load that makes wall-clock medians
// meaningless (they still include what sharing caches and memory costs).

// CPUNow is the CPU time (user + system) this process has used, in ns:
// every thread, so a garbage collector's work counts.
func CPUNow() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err) // RUSAGE_SELF with a valid pointer cannot fail
	}
	return float64(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuBenchFile is a test file written beside the generated package's own:
// BenchmarkRunCPU runs what BenchmarkRun runs (the generated test file's
// loadSelfTest, New and Run on the recorded inputs) and reports the CPU
// time per Run, measured around the b.Loop loop only.
const cpuBenchFile = `package %s

import (
	"syscall"
	"testing"
)

func BenchmarkRunCPU(b *testing.B) {
	d := loadSelfTest(b)
	m := New()
	var out Output
	var r0, r1 syscall.Rusage
	n := 0
	syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
	for b.Loop() {
		if err := m.Run(&d.in, &out); err != nil {
			b.Fatal(err)
		}
		n++
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
	cpu := r1.Utime.Nano() + r1.Stime.Nano() - r0.Utime.Nano() - r0.Stime.Nano()
	b.ReportMetric(float64(cpu)/float64(n), "cpu-ns/op")
}
`

// WriteCPUBench adds BenchmarkRunCPU to the generated package in dir/pkg
// (before its test binary is built).
func WriteCPUBench(dir, pkg string) error {
	return os.WriteFile(filepath.Join(dir, pkg, "zz_cpuclock_test.go"), fmt.Appendf(nil, cpuBenchFile, pkg), 0o644)
}

var cpuNsRe = regexp.MustCompile(`BenchmarkRunCPU\S*\s+\d+\s+[0-9.]+ ns/op\s+([0-9.]+) cpu-ns/op`)

// RunBenchCPU runs BenchmarkRunCPU (WriteCPUBench) of the test binary
// dir/pkg.test in dir/pkg for about benchtime (wall time, as go test
// counts it), with the extra test flags args, and returns its CPU ns per
// Run.
func RunBenchCPU(dir, pkg string, benchtime time.Duration, args ...string) (float64, error) {
	flags := append([]string{"-test.run", "^$", "-test.bench", "^BenchmarkRunCPU$"}, args...)
	cmd := exec.Command(filepath.Join(dir, pkg+".test"), append(flags, "-test.benchtime", benchtime.String())...)
	cmd.Dir = filepath.Join(dir, pkg)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%v\n%s", err, buf.String())
	}
	s := cpuNsRe.FindStringSubmatch(buf.String())
	if s == nil {
		return 0, fmt.Errorf("no cpu-ns/op in\n%s", buf.String())
	}
	return strconv.ParseFloat(s[1], 64)
}

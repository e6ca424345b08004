package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/dlcompiler/dlc/ir"
)

// The GEMM microbenchmark (-gemm): one dense layer y = x·wᵀ with x, w and
// y all s×s, for s from 64 to 1024, compiled at -O2 (the tiling pass's
// schedule: the Gemm kernel over weights pre-packed at compile time),
// each package's self-test run once, then timed interleaved with the
// measured one-core FMA peaks.

var gemmSizes = []int{64, 128, 256, 384, 512, 768, 1024}

// gemmModel is the s×s×s dense layer.
func gemmModel(s int) (*model, error) {
	g := ir.NewGraph(fmt.Sprintf("gemm%d", s))
	g.Batch = s
	r := rand.New(rand.NewPCG(uint64(s), 9))
	x := g.AddInput("x", ir.TensorType{DType: ir.F32, Shape: ir.Shape{s, s}}, ir.Pos{})
	t := ir.NewTensor(ir.F32, ir.Shape{s, s})
	for i := range t.F32() {
		t.F32()[i] = float32(r.Float64()*0.2 - 0.1)
	}
	w := g.AddParam("w", ir.Param, t.Type(), t, "", ir.Pos{})
	n, err := g.AddNode("dense", "fc", []*ir.Value{x, w, nil}, ir.Attrs{}, ir.Pos{})
	if err != nil {
		return nil, err
	}
	g.AddOutput("y", n.Out())
	m := &model{name: fmt.Sprintf("%d³", s), ref: g}
	if err := m.optimize(); err != nil {
		return nil, err
	}
	m.layer = "dense " + m.o2.Nodes[0].Schedule.String()
	return m, nil
}

// benchGEMM runs the microbenchmark.
func benchGEMM(rounds int, benchtime, dir string) error {
	var ms []*model
	for _, s := range gemmSizes {
		m, err := gemmModel(s)
		if err != nil {
			return err
		}
		ms = append(ms, m)
	}
	fmt.Fprintf(os.Stderr, "bench: generating and building %d GEMM packages in %s\n", len(ms), dir)
	paired := cpuClock
	for i, m := range ms {
		if err := m.generateO2(dir, fmt.Sprintf("g%02d", i)); err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		if paired {
			s := float64(gemmSizes[i])
			ok, err := writePaired(dir, m.binaries[0], 2*s*s*s)
			if err != nil {
				return err
			}
			paired = paired && ok
		}
		if err := build(dir, m.binaries[0]); err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		m.ns = make([][]float64, 1)
	}
	if paired {
		return benchGEMMPaired(ms, rounds, dir)
	}
	var peaks, peaks512 []float64
	for r := range rounds {
		fmt.Fprintf(os.Stderr, "bench: round %d of %d\n", r+1, rounds)
		peaks = append(peaks, peakGFLOPs(100*time.Millisecond))
		peaks512 = append(peaks512, peak512GFLOPs(100*time.Millisecond))
		for i, m := range ms {
			run := runBench
			if cpuClock {
				// Iterations for about 0.2 s at 50 GFLOP/s.
				s := float64(gemmSizes[i])
				n := max(4, int(0.2e9*50/(2*s*s*s)))
				run = func(dir, pkg, _ string) (float64, error) { return runBenchCPU(dir, pkg, n) }
			}
			ns, err := run(dir, m.binaries[0], benchtime)
			if err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			m.ns[0] = append(m.ns[0], ns)
		}
	}
	// Noise only lowers a peak: the best round is the machine's.
	peak, peak512 := slices.Max(peaks), slices.Max(peaks512)
	clk := "wall time"
	if cpuClock {
		clk = "CPU time"
	}
	fmt.Printf("dlc GEMM: %s/%s, %d CPUs, medians of %d interleaved rounds, one core, %s\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), rounds, clk)
	fmt.Printf("peak: %.1f GFLOP/s (%s)\n", peak, peakName)
	ref := peak
	if peak512 > 0 {
		fmt.Printf("peak: %.1f GFLOP/s (%s)\n", peak512, peak512Name)
		ref = peak512
	}
	fmt.Println()
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "size\ttime\tGFLOP/s\t% peak\tschedule")
	for i, m := range ms {
		s := float64(gemmSizes[i])
		t := median(m.ns[0])
		gf := 2 * s * s * s / t
		fmt.Fprintf(w, "%s\t%s\t%.1f\t%.0f%%\t%s\n", m.name, dur(t), gf, 100*gf/ref, m.layer)
	}
	return w.Flush()
}

// generateO2 writes only the -O2 package of m, with its self-test.
func (m *model) generateO2(dir, pkg string) error {
	m.alt = nil
	return m.generateLevels(dir, pkg, []*ir.Graph{m.o2}, []string{pkg + "o2"})
}

// runBenchCPU times one call of a package's Run by the CPU time of its
// benchmark process: a run of n iterations (after the b.N = 1 run the
// testing package makes first) less a run of one, over n.
func runBenchCPU(dir, pkg string, n int) (float64, error) {
	cpu := func(iters int) (time.Duration, error) {
		cmd := exec.Command(filepath.Join(dir, pkg+".test"), "-test.run", "^$", "-test.bench", ".", "-test.benchtime", fmt.Sprintf("%dx", iters))
		cmd.Dir = filepath.Join(dir, pkg)
		if out, err := cmd.CombinedOutput(); err != nil {
			return 0, fmt.Errorf("%v\n%s", err, out)
		}
		return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
	}
	t1, err := cpu(1)
	if err != nil {
		return 0, err
	}
	tn, err := cpu(n)
	if err != nil {
		return 0, err
	}
	return float64((tn - t1).Nanoseconds()) / float64(n), nil
}

// pairedSamples is the samples of each package per round (-cpu, amd64).
const pairedSamples = 9

// benchGEMMPaired times the packages with their paired tests: rounds ×
// pairedSamples samples of each, the packages interleaved round by round.
// A sample's % of peak is its GFLOP/s over the peak loop's just before.
// Samples during which the thread was preempted are left out when at
// least a quarter are not (on a loaded machine the others' processes
// evict the GEMM's operands from L1 and L2 between time slices): the
// table says how many samples it kept, and gives their medians.
func benchGEMMPaired(ms []*model, rounds int, dir string) error {
	type sample struct{ peak, ns, pct float64 }
	all := make([][]sample, len(ms))
	var peaks []float64
	for r := range rounds {
		fmt.Fprintf(os.Stderr, "bench: round %d of %d\n", r+1, rounds)
		for i, m := range ms {
			pk, ns, pre, err := runPaired(dir, m.binaries[0], pairedSamples)
			if err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			s := float64(gemmSizes[i])
			for j := range ns {
				if !pre[j] {
					all[i] = append(all[i], sample{pk[j], ns[j], 100 * 2 * s * s * s / ns[j] / pk[j]})
				}
			}
			if len(all[i]) < (r+1)*pairedSamples/4 {
				// Too few undisturbed samples: keep them all.
				for j := range ns {
					if pre[j] {
						all[i] = append(all[i], sample{pk[j], ns[j], 100 * 2 * s * s * s / ns[j] / pk[j]})
					}
				}
			}
			peaks = append(peaks, pk...)
		}
	}
	name := peakName
	if havePeak512() {
		name = peak512Name
	}
	fmt.Printf("dlc GEMM: %s/%s, %d CPUs, one core, thread CPU time; %d rounds × %d samples, each a peak-loop sample then Run on the same thread\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), rounds, pairedSamples)
	fmt.Printf("peak: %.1f GFLOP/s median, %.1f best (%s)\n\n", median(peaks), slices.Max(peaks), name)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "size\ttime\tGFLOP/s\t% peak\t(q1-q3)\tsamples\tschedule")
	for i, m := range ms {
		s := float64(gemmSizes[i])
		var ns, pct []float64
		for _, x := range all[i] {
			ns, pct = append(ns, x.ns), append(pct, x.pct)
		}
		t := median(ns)
		slices.Sort(pct)
		fmt.Fprintf(w, "%s\t%s\t%.1f\t%.0f%%\t%.0f-%.0f\t%d/%d\t%s\n", m.name, dur(t), 2*s*s*s/t, median(pct),
			pct[len(pct)/4], pct[3*len(pct)/4], len(pct), rounds*pairedSamples, m.layer)
	}
	return w.Flush()
}

package main

import (
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/ir"
)

// TestTileKernel checks --tile's kernel override: a registered name or
// none (the emitter's own loops) is set on the layer's schedule; an
// unknown name is refused with the list of kernels.
func TestTileKernel(t *testing.T) {
	tf := tileFlag{}
	if err := tf.Set("fc:kernel=avx2.dot4,unroll=2"); err != nil {
		t.Fatal(err)
	}
	if err := tf.Set("conv1:kernel=none"); err != nil {
		t.Fatal(err)
	}
	err := tf.Set("fc:kernel=avx9.gemm")
	if err == nil || !strings.Contains(err.Error(), "avx2.gemm6x16") {
		t.Errorf("unknown kernel: error %v, want one listing the kernels", err)
	}
	g := ir.NewGraph("m")
	fc := &ir.Node{Name: "fc", Op: "dense"}
	conv := &ir.Node{Name: "conv1", Op: "conv", Schedule: &ir.Schedule{Kernel: "avx2.gemm6x16", Threads: 1}}
	g.Nodes = []*ir.Node{fc, conv}
	if err := applyTiles(g, tf); err != nil {
		t.Fatal(err)
	}
	if s := fc.Schedule; s == nil || s.Kernel != "avx2.dot4" || s.Unroll != 2 {
		t.Errorf("fc: schedule %v, want kernel avx2.dot4 unroll 2", s)
	}
	if s := conv.Schedule; s.Kernel != "" || s.Threads != 1 {
		t.Errorf("conv1: schedule %v, want no kernel, one thread", s)
	}
}

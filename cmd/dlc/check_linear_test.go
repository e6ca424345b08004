package main

import (
	"strings"
	"testing"
)

// TestCheckWarnsLinearCollapse: dlc check names both layers of every
// pair of linear layers with no non-linearity between them, through
// views, dropout and batch norm, and is silent when an activation or a
// max pool separates them.
func TestCheckWarnsLinearCollapse(t *testing.T) {
	p := writeModel(t, `model m
input x: f32[2, 1, 8, 8]
y = x | c1: conv2d(4, 3) | bn: batchnorm2d | c2: conv2d(4, 3) | relu | c3: conv2d(4, 1) | maxpool2d(2) | c4: conv2d(4, 1)
  | flatten | fc1: dense(16) | dropout(0.5) | fc2: dense(8) | tanh | fc3: dense(2)
output y
`)
	code, stdout, stderr := dlc(t, "check", "--no-weights", p)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	want := []string{
		"m.dl:3:50: layers c1 (conv) and c2 (conv) follow each other with no non-linearity between them (through bn)",
		"layers c4 (conv) and fc1 (dense) follow each other with no non-linearity between them (through flatten_1)",
		"layers fc1 (dense) and fc2 (dense) follow each other with no non-linearity between them (through dropout_1)",
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("no warning %q in\n%s", w, stderr)
		}
	}
	if n := strings.Count(stderr, "warning:"); n != len(want) {
		t.Errorf("%d warnings, want %d:\n%s", n, len(want), stderr)
	}
}

package asmtest

import (
	"fmt"
	"testing"
)

// TestDWPlane checks the plane copy of the depthwise kernels against its
// contract, for both strides: rows of every width around the 8-, 16- and
// 32-column steps of the routines, both parities of the first padded
// column, source rows longer than the columns copied, and nothing of the
// plane written but the copied columns. The routines run through the
// wrapper (the best the CPU has), then each one the CPU has on its own
// with the wrapper's arguments.
func TestDWPlane(t *testing.T) {
	if len(dwplanes) == 0 {
		t.Fatal("no DWPlane kernel")
	}
	n := 0
	for _, kn := range dwplanes {
		for _, s := range []int{1, 2} {
			for _, cols := range []int{1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 56, 63, 64, 65, 112} {
				for pl := range 3 {
					name := fmt.Sprintf("%s s=%d cols=%d pl=%d", kn.name, s, cols, pl)
					testDWPlane(t, kn, name, s, 3, cols, 1+pl%2, pl)
					n++
				}
			}
		}
	}
	if n == 0 {
		t.Error("no case ran")
	}
}

func testDWPlane(t *testing.T, kn dwPlaneKernel, name string, s, rows, cols, pt, pl int) {
	t.Helper()
	lds := cols + 3
	half, ld := 0, pl+cols+5
	if s == 2 {
		half = (pl+cols+1)/2 + 2
		ld = 2*half + 1
	}
	src := make([]float32, (rows-1)*lds+cols)
	for i := range src {
		src[i] = float32(i + 1)
	}
	const fill = float32(-7)
	want := make([]float32, (pt+rows+1)*ld)
	for i := range want {
		want[i] = fill
	}
	for r := range rows {
		for c := range cols {
			at := pl + c
			if s == 2 {
				at = (at%2)*half + at/2
			}
			want[(pt+r)*ld+at] = src[r*lds+c]
		}
	}
	run := func(what string, f func(dst []float32)) {
		dst := make([]float32, len(want))
		for i := range dst {
			dst[i] = fill
		}
		f(dst)
		for i := range dst {
			if dst[i] != want[i] {
				t.Fatalf("%s: %s: dst[%d] (row %d, column %d) = %v, want %v", name, what, i, i/ld, i%ld, dst[i], want[i])
			}
		}
	}
	run("twin", func(dst []float32) { kn.twin(dst, ld, half, src, lds, rows, cols, pt, pl, s) })
	run("wrapper", func(dst []float32) { kn.call(dst, ld, half, src, lds, rows, cols, pt, pl, s) })
	e0, o0 := pt*ld+pl, pt*ld+pl
	masks := 1<<(cols%16) - 1
	if s == 2 {
		e0, o0 = pt*ld+(pl%2)*half+pl/2, pt*ld+((pl+1)%2)*half+(pl+1)/2
		r := cols % 32
		masks = 1<<min(r, 16) - 1 | (1<<max(r-16, 0)-1)<<16 | (1<<((r+1)/2)-1)<<32 | (1<<(r/2)-1)<<48
	}
	for _, a := range kn.asm {
		if cpuLevel < a.level {
			continue
		}
		run(a.isa, func(dst []float32) { a.f(&dst[e0], &dst[o0], ld, &src[0], lds, rows, cols, s, masks) })
	}
}

// TestDWPlaneBadShapes checks that the wrapper refuses planes its
// buffers cannot hold before touching memory.
func TestDWPlaneBadShapes(t *testing.T) {
	for _, kn := range dwplanes {
		src, dst := make([]float32, 2*10), make([]float32, 4*12)
		for what, f := range map[string]func(){
			"ok s=1":      func() { kn.call(dst, 12, 0, src, 10, 2, 10, 1, 1, 1) },
			"ok s=2":      func() { kn.call(dst, 12, 6, src, 10, 2, 10, 1, 1, 2) },
			"short src":   func() { kn.call(dst, 12, 0, src[:19], 10, 2, 10, 1, 1, 1) },
			"short dst":   func() { kn.call(dst[:35], 12, 0, src, 10, 2, 10, 2, 1, 1) },
			"wide s=1":    func() { kn.call(dst, 12, 0, src, 10, 2, 10, 1, 3, 1) },
			"narrow half": func() { kn.call(dst, 12, 5, src, 10, 2, 10, 1, 1, 2) },
			"wide half":   func() { kn.call(dst, 12, 7, src, 10, 2, 10, 1, 1, 2) },
			"stride 3":    func() { kn.call(dst, 12, 4, src, 10, 2, 10, 1, 1, 3) },
			"lds < cols":  func() { kn.call(dst, 12, 0, src, 9, 2, 10, 1, 1, 1) },
		} {
			panicked := func() (p bool) {
				defer func() { p = recover() != nil }()
				f()
				return false
			}()
			if panicked != (what[:2] != "ok") {
				t.Errorf("%s %s: panicked = %v", kn.name, what, panicked)
			}
		}
	}
}

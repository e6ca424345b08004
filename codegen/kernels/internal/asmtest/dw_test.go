package asmtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The depthwise kernels against a float64 reference written from their
// contract (kernels.Depthwise): the twin always, the wrapper, and the
// assembly when the CPU has it; then the assembly against the twin. Row
// widths below, at and past a vector, past a 4-vector block and with
// every tail; padded rows wider than needed; both flags; clamps that are
// relu, relu6, a narrow band and an empty one (min > max); NaN and ±Inf
// inputs. Nothing past oh·ow may be written.

var dwWidths = []int{1, 2, 5, 7, 8, 9, 14, 15, 16, 17, 28, 31, 32, 33, 56, 63, 112}

var dwClamps = [][2]float32{{0, float32(math.Inf(1))}, {0, 6}, {-0.5, 0.5}, {1, 0}}

func TestDepthwise(t *testing.T) {
	if cpuLevel < isaAVX2 {
		t.Log("no AVX2/FMA (or -tags purego): testing the pure-Go twins only")
	}
	if len(dws) < 4 {
		t.Fatalf("%d depthwise kernels, want the 4 registered and the test shapes", len(dws))
	}
	rng := rand.New(rand.NewPCG(4, 2))
	for _, kn := range dws {
		for i, ow := range dwWidths {
			// A few rows, and past the AVX-512 routine's 8-row block:
			// 8 to 16 rows, every remainder.
			for _, oh := range []int{1 + rng.IntN(4), 8 + i%9} {
				for flags := range 4 {
					specials := (ow+flags)%4 == 0
					cl := dwClamps[(ow+flags)%len(dwClamps)]
					name := fmt.Sprintf("%s oh=%d ow=%d flags=%d clamp=%v specials=%v", kn.name, oh, ow, flags, cl, specials)
					testDW(t, rng, kn, name, oh, ow, flags, cl, specials)
				}
			}
		}
	}
}

func testDW(t *testing.T, rng *rand.Rand, kn dwKernel, name string, oh, ow, flags int, cl [2]float32, specials bool) {
	t.Helper()
	// Whole vectors of the widest routine (AVX-512's 16 lanes).
	width := (ow+15)/16*16 + (kn.kw-1)/kn.s
	half, ld := 0, width+rng.IntN(3)
	if kn.s > 1 {
		half = width + rng.IntN(3)
		ld = kn.s*half + rng.IntN(2)
	}
	x := randVals(rng, ((oh-1)*kn.s+kn.kh-1)*ld+(kn.s-1)*half+width, specials)
	w := randVals(rng, kn.kh*kn.kw, specials)
	y0 := randVals(rng, oh*ow, false)
	p := [3]float32{rng.Float32() - 0.5, cl[0], cl[1]}
	want, mag := make([]float64, oh*ow), make([]float64, oh*ow)
	for r := range oh {
		for j := range ow {
			v := float64(p[0])
			if flags&1 != 0 {
				v = float64(y0[r*ow+j])
			}
			m := math.Abs(v)
			for h := range kn.kh {
				for c := range kn.kw {
					xv := x[(r*kn.s+h)*ld+(c%kn.s)*half+c/kn.s+j]
					pr := float64(w[h*kn.kw+c]) * float64(xv)
					v += pr
					m += math.Abs(pr)
				}
			}
			if flags&2 != 0 {
				if v < float64(cl[0]) {
					v = float64(cl[0])
				}
				if v > float64(cl[1]) {
					v = float64(cl[1])
				}
			}
			want[r*ow+j], mag[r*ow+j] = v, m
		}
	}
	const sentinel = float32(-4242)
	run := func(what string, f func(y []float32)) []float32 {
		y := make([]float32, oh*ow+9)
		copy(y, y0)
		for i := oh * ow; i < len(y); i++ {
			y[i] = sentinel
		}
		f(y[:oh*ow])
		for i, v := range y {
			if i >= oh*ow {
				if v != sentinel {
					t.Fatalf("%s: %s wrote y[%d] past the plane", name, what, i)
				}
			} else if !check(v, want[i], mag[i]) {
				t.Fatalf("%s: %s: y[%d] (row %d, column %d) = %v, want %v", name, what, i, i/ow, i%ow, v, want[i])
			}
		}
		return y
	}
	twin := run("twin", func(y []float32) { kn.twin(x, ld, half, w, y, oh, ow, &p, flags) })
	run("wrapper", func(y []float32) { kn.call(x, ld, half, w, y, oh, ow, &p, flags) })
	for _, a := range kn.asm {
		if cpuLevel < a.level {
			continue
		}
		asm := run(a.isa, func(y []float32) { a.f(&x[0], ld, half, &w[0], &y[0], oh, ow, &p[0], flags) })
		// Same sums in the same order; only FMA's single rounding differs.
		for i := range oh * ow {
			if !check(asm[i], float64(twin[i]), 2*mag[i]) {
				t.Fatalf("%s: %s y[%d] = %v, twin %v", name, a.isa, i, asm[i], twin[i])
			}
		}
	}
}

// TestDepthwiseBadShapes checks that the wrappers refuse planes their
// buffers cannot hold before touching memory.
func TestDepthwiseBadShapes(t *testing.T) {
	for _, kn := range dws {
		width := kn.lanes + (kn.kw-1)/kn.s
		half, ld := 0, width
		if kn.s > 1 {
			half, ld = width, kn.s*width
		}
		n := ((2-1)*kn.s+kn.kh-1)*ld + (kn.s-1)*half + width
		x, w, y := make([]float32, n), make([]float32, kn.kh*kn.kw), make([]float32, 16)
		var p [3]float32
		for what, f := range map[string]func(){
			"ok":        func() { kn.call(x, ld, half, w, y, 2, 8, &p, 0) },
			"short x":   func() { kn.call(x[:n-1], ld, half, w, y, 2, 8, &p, 0) },
			"short y":   func() { kn.call(x, ld, half, w, y[:15], 2, 8, &p, 0) },
			"narrow ld": func() { kn.call(x, ld-1, half, w, y, 1, 8, &p, 0) },
			"oh=0":      func() { kn.call(x, ld, half, w, y, 0, 8, &p, 0) },
			"ow=0":      func() { kn.call(x, ld, half, w, y, 2, 0, &p, 0) },
		} {
			panicked := func() (p bool) {
				defer func() { p = recover() != nil }()
				f()
				return false
			}()
			if panicked != (what != "ok") {
				t.Errorf("%s %s: panicked = %v", kn.name, what, panicked)
			}
		}
	}
}

// TestSplit checks the row split of the stride-2 kernels: every row
// length around the 16-column step of the assembly, both parities of the
// first column, and nothing written outside the columns given; the
// wrapper, the twin, and every routine the CPU has.
func TestSplit(t *testing.T) {
	n := 0
	for _, kn := range splits {
		for _, cols := range []int{1, 2, 3, 15, 16, 17, 18, 31, 32, 33, 100} {
			for pl := range 3 {
				half := (pl+cols+1)/2 + 1
				src := make([]float32, cols)
				for i := range src {
					src[i] = float32(i + 1)
				}
				want := make([]float32, 2*half)
				for i, v := range src {
					c := pl + i
					want[(c%2)*half+c/2] = v
				}
				dst := make([]float32, 2*half)
				kn.call(dst, half, src, pl)
				for i := range dst {
					if dst[i] != want[i] {
						t.Fatalf("%s cols=%d pl=%d: dst[%d] = %v, want %v", kn.name, cols, pl, i, dst[i], want[i])
					}
				}
				// The pairs alone, from an even first column.
				pairs := cols / 2
				if pairs == 0 {
					continue
				}
				e, o := make([]float32, pairs+1), make([]float32, pairs+1)
				kn.twin(e[:pairs], o[:pairs], src)
				for _, a := range kn.asm {
					if cpuLevel < a.level {
						continue
					}
					ea, oa := make([]float32, pairs+1), make([]float32, pairs+1)
					a.f(&ea[0], &oa[0], &src[0], pairs)
					for m := range pairs + 1 {
						if ea[m] != e[m] || oa[m] != o[m] || m < pairs && (e[m] != src[2*m] || o[m] != src[2*m+1]) {
							t.Fatalf("%s %s pairs=%d: [%d] = %v, %v; twin %v, %v", kn.name, a.isa, pairs, m, ea[m], oa[m], e[m], o[m])
						}
					}
				}
				n++
			}
		}
	}
	if n == 0 {
		t.Error("no Split kernel")
	}
}

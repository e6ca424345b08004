package onnx

import (
	"fmt"
	"math"

	"github.com/dlcompiler/dlc/ir"
)

// DFT and STFT (ir dft; STFT frames the signal with a gather of known
// positions, multiplies by the window and transforms each frame), and
// the windows HannWindow, HammingWindow, BlackmanWindow (known tensors:
// their size must be known at compile time).

func init() {
	opTable["DFT"] = opConv{1, nil, dftOp}
	opTable["STFT"] = opConv{2, nil, stft}
	opTable["HannWindow"] = opConv{1, nil, window([]float64{0.5, 0.5})}
	opTable["HammingWindow"] = opConv{1, nil, window([]float64{25.0 / 46, 21.0 / 46})}
	opTable["BlackmanWindow"] = opConv{1, nil, window([]float64{0.42, 0.5, 0.08})}
}

// dftOp maps DFT: before opset 20 axis is an attribute (default 1), from
// 20 an optional input (default -2); a negative axis counts from the back
// including the trailing re/im axis.
func dftOp(c *nctx) error {
	x := c.in(0)
	r := len(x.shape())
	var axis int
	var err error
	if c.opset >= 20 {
		axis = -2
		if c.in(2) != nil {
			a, _, err := c.constInts(2, "axis")
			if err != nil {
				return err
			}
			if len(a) != 1 {
				return fmt.Errorf("axis must be a scalar, got %d values", len(a))
			}
			axis = a[0]
		}
	} else if axis, err = c.int("axis", 1); err != nil {
		return err
	}
	if axis < -r || axis >= r {
		return fmt.Errorf("axis %d is out of range for rank %d", axis, r)
	}
	if axis < 0 {
		axis += r
	}
	attrs := ir.Attrs{"axis": axis}
	if c.in(1) != nil {
		l, _, err := c.constInts(1, "dft_length")
		if err != nil {
			return err
		}
		if len(l) != 1 || l[0] < 1 {
			return fmt.Errorf("dft_length must be one positive value, got %v", l)
		}
		attrs["length"] = l[0]
	}
	for _, a := range []string{"inverse", "onesided"} {
		v, err := c.int(a, 0)
		if err != nil {
			return err
		}
		attrs[a] = v != 0
	}
	y, err := c.emit1("dft", "", []*val{x}, attrs)
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

// stft frames signal [B, L, 1|2] at frame_step into [B, frames, length,
// 1|2] with one gather of known positions, multiplies by the window
// ([length, 1], broadcast) and transforms axis 2.
func stft(c *nctx) error {
	x := c.in(0)
	s := x.shape()
	if len(s) != 3 {
		return fmt.Errorf("signal must be [batch, length, 1 or 2], got %v", s)
	}
	step, _, err := c.constInts(1, "frame_step")
	if err != nil {
		return err
	}
	if len(step) != 1 || step[0] < 1 {
		return fmt.Errorf("frame_step must be one positive value, got %v", step)
	}
	win := c.in(2)
	fl := 0
	if c.in(3) != nil {
		l, _, err := c.constInts(3, "frame_length")
		if err != nil {
			return err
		}
		if len(l) != 1 || l[0] < 1 {
			return fmt.Errorf("frame_length must be one positive value, got %v", l)
		}
		fl = l[0]
	}
	if win != nil {
		ws := win.shape()
		if len(ws) != 1 || (fl != 0 && ws[0] != fl) {
			return fmt.Errorf("window %v must be 1-D of frame_length %d", ws, fl)
		}
		fl = ws[0]
	}
	if fl == 0 || fl > s[1] {
		return fmt.Errorf("frame_length %d (from frame_length or the window) must be in [1, %d]", fl, s[1])
	}
	frames := (s[1]-fl)/step[0] + 1
	pos := ir.NewTensor(ir.I64, ir.Shape{frames, fl})
	for f := range frames {
		for k := range fl {
			pos.I64()[f*fl+k] = int64(f*step[0] + k)
		}
	}
	fr, err := c.gather(x, c.known(pos, elemOf(ir.I64), false), 1, "frames")
	if err != nil {
		return err
	}
	if win != nil {
		w, err := c.reshape(win, ir.Shape{fl, 1}, "window")
		if err != nil {
			return err
		}
		if fr, err = c.binary("mul", fr, w, "windowed"); err != nil {
			return err
		}
	}
	one, err := c.int("onesided", 1)
	if err != nil {
		return err
	}
	y, err := c.emit1("dft", "", []*val{fr}, ir.Attrs{"axis": 2, "onesided": one != 0})
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

// window returns the importer of a cosine-sum window Σ (-1)^k a_k
// cos(2πkn/N), N the size when periodic (the default) else size-1,
// computed in float64 and rounded once to output_datatype.
func window(a []float64) func(c *nctx) error {
	return func(c *nctx) error {
		sz, _, err := c.constInts(0, "size")
		if err != nil {
			return err
		}
		if len(sz) != 1 || sz[0] < 0 || sz[0] > maxFold {
			return fmt.Errorf("size must be one value in [0, %d], got %v", maxFold, sz)
		}
		periodic, err := c.int("periodic", 1)
		if err != nil {
			return err
		}
		to, err := c.int("output_datatype", 1)
		if err != nil {
			return err
		}
		dt, err := irDType(int32(to))
		if err != nil {
			return unsup("output_datatype %s: %v", dtName(int32(to)), err)
		}
		n := sz[0]
		N := float64(n)
		if periodic == 0 {
			N = float64(n - 1)
		}
		t := ir.NewTensor(dt, ir.Shape{n})
		for i := range n {
			v := 0.0
			for k, ak := range a {
				v += math.Pow(-1, float64(k)) * ak * math.Cos(2*math.Pi*float64(k*i)/N)
			}
			t.SetFloat(i, v)
		}
		c.set(0, c.known(t, elemOf(dt), false))
		return nil
	}
}

func init() {
	opTable["Det"] = opConv{1, nil, func(c *nctx) error {
		y, err := c.emit1("det", "", []*val{c.in(0)}, nil)
		if err != nil {
			return err
		}
		c.set(0, y)
		return nil
	}}
}

func init() { opTable["MelWeightMatrix"] = opConv{5, nil, melWeightMatrix} }

// melWeightMatrix is the known [dft_length/2+1, num_mel_bins] matrix of
// ONNX's reference: triangles between num_mel_bins+2 points spaced
// evenly in mel (2595·log10(1 + f/700), its step the range over the
// point count, as the reference divides), mapped to spectrogram bins by
// floor((dft_length+1)·f / sample_rate). The mel edges are computed in
// float32, the rest in float64, as numpy does there.
func melWeightMatrix(c *nctx) error {
	var iv [3]int
	for i, name := range []string{"num_mel_bins", "dft_length", "sample_rate"} {
		v, _, err := c.constInts(i, name)
		if err != nil {
			return err
		}
		if len(v) != 1 || v[0] < 1 || v[0] > maxFold {
			return fmt.Errorf("%s must be one positive value, got %v", name, v)
		}
		iv[i] = v[0]
	}
	var fv [2]float32
	for i, name := range []string{"lower_edge_hertz", "upper_edge_hertz"} {
		t, err := c.constIn(3+i, name)
		if err != nil {
			return err
		}
		if t.Len() != 1 || !t.DType.IsFloat() {
			return fmt.Errorf("%s must be one float, got %v", name, t.Type())
		}
		fv[i] = float32(t.Float(0))
	}
	bins, dftLen, rate := iv[0], iv[1], iv[2]
	spec := dftLen/2 + 1
	if spec*bins > maxFold {
		return unsup("a MelWeightMatrix of %d×%d is too large to fold", spec, bins)
	}
	mel := func(f float32) float64 { return float64(float32(2595) * float32(math.Log10(float64(1+f/700)))) }
	lo, hi := mel(fv[0]), mel(fv[1])
	step := (hi - lo) / float64(bins+2)
	pts := make([]int, bins+2)
	for i := range pts {
		f := 700 * (math.Pow(10, (float64(i)*step+lo)/2595) - 1)
		pts[i] = int(math.Floor(float64(dftLen+1) * f / float64(rate)))
		if pts[i] < 0 || pts[i] >= spec {
			return fmt.Errorf("mel point %d falls on spectrogram bin %d, outside [0, %d)", i, pts[i], spec)
		}
	}
	to, err := c.int("output_datatype", 1)
	if err != nil {
		return err
	}
	dt, err := irDType(int32(to))
	if err != nil {
		return unsup("output_datatype %s: %v", dtName(int32(to)), err)
	}
	t := ir.NewTensor(dt, ir.Shape{spec, bins})
	for i := range bins {
		l, m, h := pts[i], pts[i+1], pts[i+2]
		if m == l {
			t.SetFloat(m*bins+i, 1)
		} else {
			for j := l; j <= m; j++ {
				t.SetFloat(j*bins+i, float64(j-l)/float64(m-l))
			}
		}
		for j := m; j < h; j++ {
			t.SetFloat(j*bins+i, float64(h-j)/float64(h-m))
		}
	}
	c.set(0, c.known(t, elemOf(dt), false))
	return nil
}

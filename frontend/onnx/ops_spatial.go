package onnx

import (
	"fmt"
	"math"

	"github.com/dlcompiler/dlc/ir"
)

// Spatial ops: ConvTranspose, Resize and Upsample. Every size, scale and
// padding is resolved here, at import, into ir's explicit attributes.

func init() {
	for k, v := range map[string]opConv{
		"ConvTranspose": {2, checkConvTranspose, convTranspose},
		"Resize":        {1, checkResize, resizeOp},
		"Upsample":      {1, checkResize, upsample},
		"LpPool":        {1, checkLpPool, lpPool},
	} {
		opTable[k] = v
	}
}

func checkConvTranspose(c *nctx) error { return checkAutoPad(c) }

// convTranspose maps ConvTranspose (weight [C, M/group, k...], as
// PyTorch's). output_shape and auto_pad SAME_* fix the total padding
// (stride*(in-1) + output_padding + dilation*(k-1) + 1 - out) of each
// axis, split as ONNX says: SAME_UPPER puts the smaller half first, other
// modes last (Python's floor division, so a total of -1 grows the end by
// one). A negative end pad becomes output_padding; a negative begin pad
// is refused.
func convTranspose(c *nctx) error {
	x, w, b := c.in(0), c.in(1), c.in(2)
	xs, ws := x.shape(), w.shape()
	if len(ws) < 3 || len(ws) > 5 || len(xs) != len(ws) {
		return fmt.Errorf("weight %v and input %v must both be [_, _, spatial...] with 1 to 3 spatial axes", ws, xs)
	}
	r := len(ws) - 2
	kernel := []int(ws[2:].Clone())
	if ks, err := c.ints("kernel_shape", kernel); err != nil {
		return err
	} else if !ir.Shape(ks).Equal(ir.Shape(kernel)) {
		return fmt.Errorf("kernel_shape %v does not match weight %v", ks, ws)
	}
	group, err := c.int("group", 1)
	if err != nil {
		return err
	}
	ones := make([]int, r)
	for i := range ones {
		ones[i] = 1
	}
	strides, err := c.ints("strides", ones)
	if err != nil {
		return err
	}
	dil, err := c.ints("dilations", ones)
	if err != nil {
		return err
	}
	pads, err := c.ints("pads", make([]int, 2*r))
	if err != nil {
		return err
	}
	outPad, err := c.ints("output_padding", make([]int, r))
	if err != nil {
		return err
	}
	outShape, err := c.ints("output_shape", nil)
	if err != nil {
		return err
	}
	ap, err := c.str("auto_pad", "NOTSET")
	if err != nil {
		return err
	}
	if len(strides) != r || len(dil) != r || len(pads) != 2*r || len(outPad) != r {
		return fmt.Errorf("strides %v, dilations %v, pads %v and output_padding %v do not match kernel %v", strides, dil, pads, outPad, kernel)
	}
	for i := range r {
		if strides[i] < 1 || dil[i] < 1 {
			return fmt.Errorf("strides %v and dilations %v must be positive", strides, dil)
		}
	}
	if len(outShape) == r+2 {
		outShape = outShape[2:]
	}
	if outShape == nil && (ap == "SAME_UPPER" || ap == "SAME_LOWER") {
		for i := range r {
			outShape = append(outShape, xs[2+i]*strides[i])
		}
	}
	if ap == "VALID" {
		pads = make([]int, 2*r)
	}
	if outShape != nil {
		if len(outShape) != r {
			return fmt.Errorf("output_shape %v: want %d values", outShape, r)
		}
		for i := range r {
			total := strides[i]*(xs[2+i]-1) + outPad[i] + dil[i]*(kernel[i]-1) + 1 - outShape[i]
			half := floorDiv(total, 2)
			if ap == "SAME_UPPER" {
				pads[i], pads[r+i] = half, total-half
			} else {
				pads[i], pads[r+i] = total-half, half
			}
		}
	}
	outPad = append([]int(nil), outPad...)
	for i := range r {
		if pads[i] < 0 {
			return unsup("output_shape %v needs negative begin padding %v", outShape, pads)
		}
		if pads[r+i] < 0 {
			outPad[i] -= pads[r+i]
			pads[r+i] = 0
		}
	}
	y, err := c.emit1("conv_transpose", "", []*val{x, w, b},
		ir.Attrs{"strides": strides, "pads": pads, "dilations": dil, "groups": group, "output_padding": outPad})
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func checkResize(c *nctx) error {
	mode, err := c.str("mode", "nearest")
	if err != nil {
		return err
	}
	switch mode {
	case "nearest", "linear", "cubic", "bilinear":
	default:
		return unsup("mode %q is not one of nearest, linear, cubic", mode)
	}
	if p, _ := c.str("keep_aspect_ratio_policy", "stretch"); p != "stretch" && p != "not_larger" && p != "not_smaller" {
		return unsup("keep_aspect_ratio_policy %q is not one of stretch, not_larger, not_smaller", p)
	}
	return nil
}

// resizeAttrs are the attributes of ir's resize an ONNX node spells alike.
var resizeAttrs = []string{"coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a", "exclude_outside", "extrapolation_value", "antialias"}

// resizeOp maps Resize. Opset 10 takes scales only and maps coordinates
// as Upsample (asymmetric, nearest rounds down); from opset 11 roi,
// scales and sizes are inputs (known at import), and from 18 axes names
// the axes they list and keep_aspect_ratio_policy may fit sizes.
func resizeOp(c *nctx) error {
	x := c.in(0)
	r := x.rank()
	if c.opset < 11 {
		return c.resizeScales(1, ir.Attrs{"coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"})
	}
	attrs := ir.Attrs{}
	for _, name := range resizeAttrs {
		if !c.has(name) {
			continue
		}
		if name == "coordinate_transformation_mode" || name == "nearest_mode" {
			s, err := c.str(name, "")
			if err != nil {
				return err
			}
			attrs[name] = s
			continue
		}
		v, err := c.float(name, 0)
		if a := c.attrs[name]; err != nil && a.typ == atInt {
			v, err = float64(a.i), nil
		}
		if err != nil {
			return err
		}
		if name == "exclude_outside" || name == "antialias" {
			attrs[name] = v != 0
		} else {
			attrs[name] = v
		}
	}
	axes, err := c.ints("axes", nil)
	if err != nil {
		return err
	}
	if axes == nil {
		for i := range r {
			axes = append(axes, i)
		}
	}
	for k, a := range axes {
		if axes[k], err = ir.NormAxis(a, r); err != nil {
			return err
		}
	}
	if attrs["coordinate_transformation_mode"] == "tf_crop_and_resize" {
		roi, err := c.constFloats(1, "roi")
		if err != nil {
			return err
		}
		if len(roi) != 2*len(axes) {
			return fmt.Errorf("roi %v: want %d values (starts, then ends of axes %v)", roi, 2*len(axes), axes)
		}
		full := make([]float64, 2*r)
		for i := range r {
			full[r+i] = 1
		}
		for k, a := range axes {
			full[a], full[r+a] = roi[k], roi[len(axes)+k]
		}
		attrs["roi"] = full
	}
	sizes, _, err := c.constInts(3, "sizes")
	if err != nil {
		return err
	}
	if len(sizes) == 0 {
		return c.resizeScalesAxes(2, axes, attrs)
	}
	if t, _ := c.constIn(2, "scales"); t != nil && t.Len() > 0 {
		return fmt.Errorf("scales and sizes are both given; ONNX allows only one")
	}
	return c.resizeSizes(sizes, axes, attrs)
}

// resizeSizes resizes to sizes (of axes), fitted by keep_aspect_ratio_policy.
func (c *nctx) resizeSizes(sizes, axes []int, attrs ir.Attrs) error {
	xs := c.in(0).shape()
	if len(sizes) != len(axes) {
		return fmt.Errorf("sizes %v: want %d values (axes %v)", sizes, len(axes), axes)
	}
	out := []int(xs.Clone())
	scales := make([]float64, len(xs))
	for i := range scales {
		scales[i] = 1
	}
	policy, err := c.str("keep_aspect_ratio_policy", "stretch")
	if err != nil {
		return err
	}
	common := 0.0
	for k, a := range axes {
		s := float64(sizes[k]) / float64(xs[a])
		switch {
		case k == 0:
			common = s
		case policy == "not_larger":
			common = math.Min(common, s)
		case policy == "not_smaller":
			common = math.Max(common, s)
		}
	}
	for k, a := range axes {
		if sizes[k] < 1 {
			return fmt.Errorf("sizes %v must be positive", sizes)
		}
		out[a], scales[a] = sizes[k], float64(sizes[k])/float64(xs[a])
		if policy != "stretch" {
			out[a], scales[a] = int(math.RoundToEven(common*float64(xs[a]))), common
		}
	}
	return c.emitResize(out, scales, attrs)
}

// resizeScales resizes every axis by the scales of known input i
// (Upsample, Resize-10).
func (c *nctx) resizeScales(i int, attrs ir.Attrs) error {
	axes := make([]int, c.in(0).rank())
	for k := range axes {
		axes[k] = k
	}
	return c.resizeScalesAxes(i, axes, attrs)
}

// resizeScalesAxes resizes axes by the scales of known input i: each
// output size is floor(input size · scale) (times the roi's extent for
// tf_crop_and_resize), computed in float32 as ONNX's reference does.
func (c *nctx) resizeScalesAxes(i int, axes []int, attrs ir.Attrs) error {
	scales, err := c.constFloats(i, "scales")
	if err != nil {
		return err
	}
	return c.resizeBy(scales, axes, attrs)
}

func (c *nctx) resizeBy(scales []float64, axes []int, attrs ir.Attrs) error {
	xs := c.in(0).shape()
	if len(scales) != len(axes) {
		return fmt.Errorf("scales %v: want %d values (axes %v)", scales, len(axes), axes)
	}
	out := []int(xs.Clone())
	full := make([]float64, len(xs))
	for k := range full {
		full[k] = 1
	}
	roi, _ := attrs["roi"].([]float64)
	for k, a := range axes {
		s := scales[k]
		if !(s > 0) || s > 1e6 {
			return fmt.Errorf("scales %v must be positive", scales)
		}
		ext := float32(1)
		if roi != nil {
			ext = float32(roi[len(xs)+a] - roi[a])
		}
		out[a], full[a] = int(math.Floor(float64(float32(xs[a])*ext*float32(s)))), s
		if out[a] < 1 {
			return unsup("scale %g makes axis %d of %v empty", s, a, xs)
		}
	}
	return c.emitResize(out, full, attrs)
}

func (c *nctx) emitResize(sizes []int, scales []float64, attrs ir.Attrs) error {
	mode, err := c.str("mode", "nearest")
	if err != nil {
		return err
	}
	if mode == "bilinear" { // Upsample-7's spelling
		mode = "linear"
	}
	attrs["mode"], attrs["sizes"], attrs["scales"] = mode, sizes, scales
	if n := ir.Shape(sizes).NumElems(); n > maxElems {
		return unsup("the output %v is too large", sizes)
	}
	y, err := c.emit1("resize", "", []*val{c.in(0)}, attrs)
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

// upsample maps Upsample: scales an attribute at opset 7, an input from
// 9; coordinates map asymmetrically and nearest rounds down.
func upsample(c *nctx) error {
	attrs := ir.Attrs{"coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}
	if c.opset >= 9 {
		return c.resizeScales(1, attrs)
	}
	a, ok := c.attrs["scales"]
	if !ok {
		return fmt.Errorf("attribute scales is required")
	}
	var scales []float64
	for _, f := range a.floats {
		scales = append(scales, float64(f))
	}
	axes := make([]int, c.in(0).rank())
	for k := range axes {
		axes[k] = k
	}
	return c.resizeBy(scales, axes, attrs)
}

// constFloats returns a known float input as float64s (nil if absent).
func (c *nctx) constFloats(i int, what string) ([]float64, error) {
	t, err := c.constIn(i, what)
	if err != nil || t == nil {
		return nil, err
	}
	if !ir.Floats.Has(t.DType) {
		return nil, fmt.Errorf("%s must be floats, got %v", what, t.Type())
	}
	// Resize's roi may be f16, f32 or f64 (ONNX's T2).
	out := make([]float64, t.Len())
	for k := range out {
		out[k] = t.Float(k)
	}
	return out, nil
}

func checkLpPool(c *nctx) error {
	if err := checkAutoPad(c); err != nil {
		return err
	}
	if !c.has("kernel_shape") {
		return fmt.Errorf("kernel_shape is required")
	}
	if cm, _ := c.int("ceil_mode", 0); cm != 0 {
		return unsup("ceil_mode=1 is not supported")
	}
	return nil
}

// lpPool is (Σ|x|^p)^(1/p) over each window, padding counted as zeros:
// |x|^p (x·x for p 2, |x| for p 1, else pow), an average pool counting
// the padding, times the window size, then the 1/p power (sqrt for p 2).
func lpPool(c *nctx) error {
	x := c.in(0)
	kernel, err := c.ints("kernel_shape", nil)
	if err != nil {
		return err
	}
	strides, pads, dil, err := c.window(x.shape(), kernel)
	if err != nil {
		return err
	}
	p, err := c.int("p", 2)
	if err != nil {
		return err
	}
	if p < 1 {
		return fmt.Errorf("p %d must be positive", p)
	}
	var a *val
	switch p {
	case 1:
		a, err = c.emit1("abs", "abs", []*val{x}, nil)
	case 2:
		a, err = c.binary("mul", x, x, "square")
	default:
		if a, err = c.emit1("abs", "abs", []*val{x}, nil); err == nil {
			a, err = c.binary("pow", a, c.known(scalarF32(float64(p)), dtFloat, false), "pow")
		}
	}
	if err != nil {
		return err
	}
	k := 1
	for _, v := range kernel {
		k *= v
	}
	s, err := c.emit1("avgpool", "sum", []*val{a}, ir.Attrs{"kernel": kernel, "strides": strides, "pads": pads, "dilations": dil, "count_include_pad": true})
	if err != nil {
		return err
	}
	if s, err = c.binary("mul", s, c.known(scalarF32(float64(k)), dtFloat, false), "count"); err != nil {
		return err
	}
	switch p {
	case 1:
	case 2:
		s, err = c.emit1("sqrt", "", []*val{s}, nil)
	default:
		s, err = c.binary("pow", s, c.known(scalarF32(1/float64(p)), dtFloat, false), "")
	}
	if err != nil {
		return err
	}
	c.set(0, s)
	return nil
}

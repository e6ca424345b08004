package dl

import (
	"fmt"
	"math"
	"strconv"

	"github.com/dlcompiler/dlc/ir"
)

// Spatial layers: conv_transpose1d/2d/3d (nn.ConvTranspose*d) and
// upsample/interpolate (nn.Upsample, F.interpolate), with PyTorch's
// argument names, defaults and state_dict names; resize is ir's op
// spelled with its own attributes, for what PyTorch cannot say.

func init() {
	for r := 1; r <= 3; r++ {
		r := r
		def(&layerDef{name: "conv_transpose" + strconv.Itoa(r) + "d", inputs: 1, params: true,
			args: []argSpec{{name: "out_channels", kind: aInt}, {name: "kernel_size", kind: aInts},
				{name: "stride", kind: aInts, def: []int{1}}, {name: "padding", kind: aInts, def: []int{0}},
				{name: "output_padding", kind: aInts, def: []int{0}}, {name: "groups", kind: aInt, def: 1},
				{name: "bias", kind: aBool, def: true}, {name: "dilation", kind: aInts, def: []int{1}},
				{name: "in_channels", kind: aInt, opt: true}, {name: "pads", kind: aInts, opt: true},
				{name: "padding_mode", kind: aString, def: "zeros", enum: []string{"zeros"}, kwOnly: true}},
			build: func(c *call) (val, error) { return buildConvTranspose(c, r) }})
	}
	def(&layerDef{name: "upsample", inputs: 1,
		args: []argSpec{{name: "size", kind: aInts, opt: true}, {name: "scale_factor", kind: aFloats, opt: true},
			{name: "mode", kind: aString, def: "nearest", enum: []string{"nearest", "linear", "bilinear", "bicubic", "trilinear", "nearest-exact"}},
			{name: "align_corners", kind: aBool, opt: true}, {name: "recompute_scale_factor", kind: aBool, opt: true},
			{name: "antialias", kind: aBool, def: false}},
		build: buildUpsample})
	aliases["interpolate"] = "upsample"
	resizeLayer(ir.Lookup("resize"))
	formatters["conv_transpose"] = formatConvTranspose
	formatters["resize"] = formatResize
	formatters["adaptive_avgpool"] = func(f *formatter, n *ir.Node, label string) (string, []string, error) {
		os := n.Attrs.Ints("output_size")
		return fmt.Sprintf("adaptive_avgpool%dd", len(os)), []string{fmtList(os)}, nil
	}
}

// buildAdaptiveAvg is adaptive_avgpool<r>d with an output size other
// than 1 (output_size=1 is global_avgpool): PyTorch's bins.
func buildAdaptiveAvg(c *call, r int) (val, error) {
	x := c.x()
	if got := len(x.Type.Shape); got != r+2 {
		return val{}, c.errorf("wants input of rank %d [N, C, %d spatial], got %s %v", r+2, r, x.Name, x.Type)
	}
	os, err := c.expand("output_size", r)
	if err != nil {
		return val{}, err
	}
	if err := c.atLeast("output_size", os, 1); err != nil {
		return val{}, err
	}
	return c.node("adaptive_avgpool", []*ir.Value{x}, ir.Attrs{"output_size": os})
}

func buildConvTranspose(c *call, r int) (val, error) {
	x := c.x()
	if len(x.Type.Shape) != r+2 {
		return val{}, c.errorf("wants input of rank %d [N, C, %d spatial], got %s %v", r+2, r, x.Name, x.Type)
	}
	out, groups, in := c.int("out_channels"), c.int("groups"), x.Type.Shape[1]
	if out < 1 || groups < 1 {
		return val{}, c.errorf("out_channels and groups must be positive, got %d and %d", out, groups)
	}
	if c.has("in_channels") && c.int("in_channels") != in {
		return val{}, c.errorf("in_channels=%d, but the input %s %v has %d channels", c.int("in_channels"), x.Name, x.Type, in)
	}
	if in%groups != 0 || out%groups != 0 {
		return val{}, c.errorf("groups %d must divide the input channels %d (of %s) and out_channels %d", groups, in, x.Name, out)
	}
	lists := map[string][]int{}
	for _, name := range []string{"kernel_size", "stride", "padding", "output_padding", "dilation"} {
		v, err := c.expand(name, r)
		if err != nil {
			return val{}, err
		}
		min := 1
		if name == "padding" || name == "output_padding" {
			min = 0
		}
		if err := c.atLeast(name, v, min); err != nil {
			return val{}, err
		}
		lists[name] = v
	}
	k, stride, dil, op := lists["kernel_size"], lists["stride"], lists["dilation"], lists["output_padding"]
	for i := range r {
		if op[i] >= max(stride[i], dil[i]) {
			return val{}, c.errorf("output_padding %s must be smaller than stride %s or dilation %s (as in PyTorch)", fmtInts(op), fmtInts(stride), fmtInts(dil))
		}
	}
	pads := append(append([]int(nil), lists["padding"]...), lists["padding"]...)
	if err := c.explicitPads(pads, r); err != nil {
		return val{}, err
	}
	init, err := c.initFor("he")
	if err != nil {
		return val{}, err
	}
	// PyTorch's layout: weight [in_channels, out_channels/groups, k...].
	w, err := c.param(param{suffix: "weight", kind: ir.Param, shape: append(ir.Shape{in, out / groups}, k...), init: init})
	if err != nil {
		return val{}, err
	}
	ins := []*ir.Value{x, w}
	if c.bool("bias") {
		b, err := c.param(param{suffix: "bias", kind: ir.Param, shape: ir.Shape{out}, init: "zeros"})
		if err != nil {
			return val{}, err
		}
		ins = append(ins, b)
	}
	return c.node("conv_transpose", ins, ir.Attrs{"strides": stride, "pads": pads, "dilations": dil, "groups": groups, "output_padding": op})
}

// torchModes gives, per PyTorch mode, ir's mode and the input rank it
// needs (0: any of 3 to 5).
var torchModes = map[string]struct {
	mode string
	rank int
}{"nearest": {"nearest", 0}, "nearest-exact": {"nearest", 0}, "linear": {"linear", 3}, "bilinear": {"linear", 4},
	"trilinear": {"linear", 5}, "bicubic": {"cubic", 4}}

// buildUpsample maps F.interpolate onto resize. Nearest takes
// floor(dst/scale) (ONNX's asymmetric, floor); nearest-exact rounds
// half-pixel coordinates half up; the others map half pixels (PyTorch's
// pytorch_half_pixel) unless align_corners. The scale of a coordinate is
// scale_factor when given (and not recompute_scale_factor), else
// size/input, as in PyTorch.
func buildUpsample(c *call) (val, error) {
	x := c.x()
	s := x.Type.Shape
	m := torchModes[c.str("mode")]
	r := len(s) - 2
	if (m.rank == 0 && (r < 1 || r > 3)) || (m.rank != 0 && len(s) != m.rank) {
		want := "3 to 5"
		if m.rank != 0 {
			want = strconv.Itoa(m.rank)
		}
		return val{}, c.errorf("mode %q wants input of rank %s [N, C, spatial...], got %s %v", c.str("mode"), want, x.Name, x.Type)
	}
	if c.has("size") == c.has("scale_factor") {
		return val{}, c.errorf("give exactly one of size and scale_factor")
	}
	ac := c.bool("align_corners")
	if c.has("align_corners") && m.mode == "nearest" {
		return val{}, c.errorf("align_corners is only for linear, bilinear, bicubic and trilinear modes (as in PyTorch)")
	}
	if c.bool("antialias") && m.mode == "nearest" {
		return val{}, c.errorf("antialias is only for bilinear and bicubic modes (as in PyTorch)")
	}
	sizes := []int(s.Clone())
	scales := make([]float64, len(s))
	for i := range scales {
		scales[i] = 1
	}
	if c.has("size") {
		sz, err := c.expand("size", r)
		if err != nil {
			return val{}, err
		}
		if err := c.atLeast("size", sz, 1); err != nil {
			return val{}, err
		}
		for i := range r {
			sizes[2+i], scales[2+i] = sz[i], float64(sz[i])/float64(s[2+i])
		}
	} else {
		sf := c.args["scale_factor"].([]float64)
		if len(sf) == 1 {
			for len(sf) < r {
				sf = append(sf, sf[0])
			}
		}
		if len(sf) != r {
			return val{}, c.errorf("scale_factor has %d values, want 1 or %d", len(sf), r)
		}
		for i := range r {
			if !(sf[i] > 0) || sf[i] > 1e6 {
				return val{}, c.errorf("scale_factor must be positive, got %v", sf)
			}
			sizes[2+i] = int(math.Floor(float64(s[2+i]) * sf[i]))
			if sizes[2+i] < 1 {
				return val{}, c.errorf("scale_factor %v makes spatial axis %d of %s %v empty", sf, i, x.Name, x.Type)
			}
			scales[2+i] = sf[i]
			if c.bool("recompute_scale_factor") || ac {
				scales[2+i] = float64(sizes[2+i]) / float64(s[2+i])
			}
		}
	}
	attrs := ir.Attrs{"sizes": sizes, "scales": scales, "mode": m.mode, "antialias": c.bool("antialias")}
	if c.bool("antialias") {
		// PyTorch's antialiased filters (PIL's) leave out taps outside the
		// input rather than repeat the edge, and its bicubic one is Keys'
		// kernel with a = -0.5.
		attrs["exclude_outside"] = true
		if m.mode == "cubic" {
			attrs["cubic_coeff_a"] = -0.5
		}
	}
	switch {
	case c.str("mode") == "nearest":
		attrs["coordinate_transformation_mode"], attrs["nearest_mode"] = "asymmetric", "floor"
	case c.str("mode") == "nearest-exact":
		attrs["coordinate_transformation_mode"], attrs["nearest_mode"] = "half_pixel", "round_prefer_ceil"
	case ac:
		attrs["coordinate_transformation_mode"] = "align_corners"
	default:
		attrs["coordinate_transformation_mode"] = "pytorch_half_pixel"
	}
	return c.node("resize", []*ir.Value{x}, attrs)
}

// resizeLayer defines resize(sizes=..., ...) with the op's attributes as
// arguments; an absent one takes the op's default.
func resizeLayer(d *ir.OpDef) {
	kinds := map[ir.AttrKind]argKind{ir.AttrInt: aInt, ir.AttrFloat: aFloat, ir.AttrBool: aBool, ir.AttrString: aString, ir.AttrInts: aInts, ir.AttrFloats: aFloats}
	var args []argSpec
	for _, a := range d.Attrs {
		args = append(args, argSpec{name: a.Name, kind: kinds[a.Kind], opt: a.Name != "sizes", enum: a.Enum})
	}
	unaryOp(d.Name, d.Name, args, func(c *call) (ir.Attrs, error) {
		attrs := ir.Attrs{}
		for _, a := range d.Attrs {
			if c.has(a.Name) {
				attrs[a.Name] = c.args[a.Name]
			}
		}
		return attrs, nil
	})
}

// formatters give the .dl spelling of ops that layers_<family>.go files
// define (see formatter.layer).
func formatConvTranspose(f *formatter, n *ir.Node, label string) (string, []string, error) {
	a := n.Attrs
	w := n.Inputs[1]
	r := len(w.Type.Shape) - 2
	var args []string
	kw := func(name, val string) { args = append(args, name+"="+val) }
	args = append(args, strconv.Itoa(w.Type.Shape[1]*a.Int("groups")), fmtList(w.Type.Shape[2:]))
	if s := a.Ints("strides"); !allEqual(s, 1) {
		kw("stride", fmtList(s))
	}
	padArgs(a.Ints("pads"), r, kw)
	if op := a.Ints("output_padding"); !allEqual(op, 0) {
		kw("output_padding", fmtList(op))
	}
	if gr := a.Int("groups"); gr != 1 {
		kw("groups", strconv.Itoa(gr))
	}
	if d := a.Ints("dilations"); !allEqual(d, 1) {
		kw("dilation", fmtList(d))
	}
	f.addTensor(label+".weight", w.Data)
	if len(n.Inputs) > 2 && n.Inputs[2] != nil {
		f.addTensor(label+".bias", n.Inputs[2].Data)
	} else {
		kw("bias", "false")
	}
	if op := a.Ints("output_padding"); !allEqual(op, 0) {
		for i := range r {
			if op[i] >= max(a.Ints("strides")[i], a.Ints("dilations")[i]) {
				return "", nil, nodeErr(n, "output_padding %v is not smaller than stride or dilation, which conv_transpose%dd refuses as PyTorch does", op, r)
			}
		}
	}
	return fmt.Sprintf("conv_transpose%dd", r), args, nil
}

// formatResize spells a resize as upsample when PyTorch could have
// written it (nearest, or linear/cubic with half pixels or aligned
// corners, resizing spatial axes only), else as resize with its
// attributes.
func formatResize(f *formatter, n *ir.Node, label string) (string, []string, error) {
	if args, ok := upsampleArgs(n); ok {
		return "upsample", args, nil
	}
	var args []string
	for _, d := range n.Def().Attrs {
		v := n.Attrs[d.Name]
		if v == nil || (d.Default != nil && ir.FormatAttr(v) == ir.FormatAttr(d.Default)) {
			continue
		}
		s := ir.FormatAttr(v)
		if x, isFloat := v.(float64); isFloat {
			var err error
			if s, err = fmtFloat(n, x); err != nil {
				return "", nil, err
			}
		}
		args = append(args, d.Name+"="+s)
	}
	return "resize", args, nil
}

func upsampleArgs(n *ir.Node) ([]string, bool) {
	a := n.Attrs
	in := n.Inputs[0].Type.Shape
	sizes, scales := a.Ints("sizes"), a.Floats("scales")
	if len(in) < 3 || len(in) > 5 || sizes[0] != in[0] || sizes[1] != in[1] || len(a.Floats("roi")) > 0 {
		return nil, false
	}
	mode, ctm := a.String("mode"), a.String("coordinate_transformation_mode")
	var tmode string
	switch {
	case mode == "nearest" && ctm == "asymmetric" && a.String("nearest_mode") == "floor":
		tmode = "nearest"
	case mode == "nearest" && ctm == "half_pixel" && a.String("nearest_mode") == "round_prefer_ceil":
		tmode = "nearest-exact"
	case mode == "linear" && (ctm == "pytorch_half_pixel" || ctm == "align_corners"):
		tmode = [...]string{3: "linear", 4: "bilinear", 5: "trilinear"}[len(in)]
	case mode == "cubic" && len(in) == 4 && (ctm == "pytorch_half_pixel" || ctm == "align_corners"):
		tmode = "bicubic"
	default:
		return nil, false
	}
	if aa := a.Bool("antialias"); (aa && mode == "nearest") || aa != a.Bool("exclude_outside") {
		return nil, false
	}
	if want := map[bool]float64{false: -0.75, true: -0.5}[a.Bool("antialias")]; mode == "cubic" && a.Float("cubic_coeff_a") != want {
		return nil, false
	}
	// The coordinate scale must be what PyTorch would derive.
	bySize := true
	var sf []string
	for i := 2; i < len(in); i++ {
		bySize = bySize && scales[i] == float64(sizes[i])/float64(in[i])
		if int(math.Floor(float64(in[i])*scales[i])) != sizes[i] {
			sf = nil
			break
		}
		sf = append(sf, strconv.FormatFloat(scales[i], 'g', -1, 64))
	}
	// A short scale_factor (2, 0.5) says what was meant; a long one is
	// a size.
	short := sf != nil
	for _, v := range sf {
		short = short && len(v) <= 6
	}
	var args []string
	switch {
	case bySize && (!short || ctm == "align_corners"):
		args = append(args, "size="+fmtList(sizes[2:]))
	case sf != nil && ctm != "align_corners" && allSame(sf):
		args = append(args, "scale_factor="+sf[0])
	case sf != nil && ctm != "align_corners":
		args = append(args, fmt.Sprintf("scale_factor=[%s]", joinStrs(sf)))
	default:
		return nil, false
	}
	if tmode != "nearest" {
		q, err := quote(tmode)
		if err != nil {
			return nil, false
		}
		args = append(args, "mode="+q)
	}
	if ctm == "align_corners" {
		args = append(args, "align_corners=true")
	}
	if a.Bool("antialias") {
		args = append(args, "antialias=true")
	}
	return args, true
}

func allSame(s []string) bool {
	for _, x := range s {
		if x != s[0] {
			return false
		}
	}
	return true
}

func joinStrs(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}

package dl

import (
	"strconv"
	"strings"

	"github.com/dlcompiler/dlc/ir"
)

// Tensor plumbing layers with PyTorch's names: pad (F.pad), tril and triu
// (torch.tril/triu), expand (Tensor.expand).

// torchPadModes maps F.pad's modes to ir's pad modes.
var torchPadModes = map[string]string{"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}

func init() {
	def(&layerDef{name: "pad", inputs: 1,
		args: []argSpec{{name: "pad", kind: aInts}, {name: "mode", kind: aString, def: "constant", enum: []string{"constant", "reflect", "replicate", "circular"}},
			{name: "value", kind: aFloat, def: 0.0}},
		build: buildPad})
	for _, name := range []string{"tril", "triu"} {
		upper := name == "triu"
		def(&layerDef{name: name, inputs: 1, args: []argSpec{{name: "diagonal", kind: aInt, def: 0}},
			build: func(c *call) (val, error) {
				if r := len(c.x().Type.Shape); r < 2 {
					return val{}, c.errorf("wants input with at least 2 axes, got %s %v", c.x().Name, c.x().Type)
				}
				return c.node("trilu", []*ir.Value{c.x()}, ir.Attrs{"upper": upper, "k": c.int("diagonal")})
			}})
	}
	def(&layerDef{name: "expand", inputs: 1, args: []argSpec{{name: "size", kind: aIntsVar}}, build: buildExpand})
	formatters["pad"] = formatPad
	formatters["trilu"] = func(f *formatter, n *ir.Node, label string) (string, []string, error) {
		name := "tril"
		if n.Attrs.Bool("upper") {
			name = "triu"
		}
		var args []string
		if k := n.Attrs.Int("k"); k != 0 {
			args = append(args, "diagonal="+strconv.Itoa(k))
		}
		return name, args, nil
	}
	formatters["expand"] = func(f *formatter, n *ir.Node, label string) (string, []string, error) {
		var args []string
		for _, d := range n.Out().Type.Shape {
			args = append(args, strconv.Itoa(d))
		}
		return "expand", args, nil
	}
}

// buildPad maps F.pad: pad lists (begin, end) pairs from the last axis
// backwards; constant padding may be negative (a crop); reflect needs
// each pad below the axis size and circular at most the axis size, as in
// PyTorch.
func buildPad(c *call) (val, error) {
	x := c.x()
	s := x.Type.Shape
	p := c.ints("pad")
	r := len(s)
	if len(p)%2 != 0 || len(p) > 2*r {
		return val{}, c.errorf("pad has %d values; want (begin, end) pairs for at most the %d axes of %s %v, last axis first", len(p), r, x.Name, x.Type)
	}
	mode := c.str("mode")
	pads := make([]int, 2*r)
	for k := 0; k < len(p)/2; k++ {
		a := r - 1 - k
		pads[a], pads[r+a] = p[2*k], p[2*k+1]
		for _, v := range p[2*k : 2*k+2] {
			switch {
			case v < 0 && mode != "constant":
				return val{}, c.errorf("mode %s cannot crop (pad %s has a negative value)", mode, fmtInts(p))
			case mode == "reflect" && v >= s[a]:
				return val{}, c.errorf("reflect padding %d of axis %d must be smaller than its size %d (of %s %v), as in PyTorch", v, a, s[a], x.Name, x.Type)
			case mode == "circular" && v > s[a]:
				return val{}, c.errorf("circular padding %d of axis %d must be at most its size %d (of %s %v), as in PyTorch", v, a, s[a], x.Name, x.Type)
			}
		}
	}
	if c.has("value") && c.float("value") != 0 && mode != "constant" {
		return val{}, c.errorf("value is only for mode constant")
	}
	return c.node("pad", []*ir.Value{x}, ir.Attrs{"pads": pads, "mode": torchPadModes[mode], "value": c.float("value")})
}

// buildExpand maps Tensor.expand: sizes for every axis, new ones in
// front; -1 keeps an existing axis.
func buildExpand(c *call) (val, error) {
	x := c.x()
	s := x.Type.Shape
	size := c.ints("size")
	if len(size) < len(s) {
		return val{}, c.errorf("size has %d values, fewer than the %d axes of %s %v", len(size), len(s), x.Name, x.Type)
	}
	out := append([]int(nil), size...)
	off := len(size) - len(s)
	for i, d := range size {
		switch {
		case d == -1 && i >= off:
			out[i] = s[i-off]
		case d < 0:
			return val{}, c.errorf("size %s: -1 keeps an existing axis; a new one (in front) needs a size", fmtInts(size))
		case i >= off && s[i-off] != 1 && s[i-off] != d:
			return val{}, c.errorf("cannot expand axis %d of size %d (of %s %v) to %d: only axes of size 1 expand", i-off, s[i-off], x.Name, x.Type, d)
		}
	}
	return c.node("expand", []*ir.Value{x}, ir.Attrs{"shape": out})
}

// formatPad writes a pad as F.pad would be called: pairs from the last
// padded axis backwards.
func formatPad(f *formatter, n *ir.Node, label string) (string, []string, error) {
	p := n.Attrs.Ints("pads")
	r := len(p) / 2
	last := 0 // pairs needed: up to the first padded axis from the front
	for a := 0; a < r; a++ {
		if p[a] != 0 || p[r+a] != 0 {
			last = r - a
			break
		}
	}
	var pairs []string
	for k := range last {
		a := r - 1 - k
		pairs = append(pairs, strconv.Itoa(p[a]), strconv.Itoa(p[r+a]))
	}
	args := []string{"[" + strings.Join(pairs, ", ") + "]"}
	for torch, m := range torchPadModes {
		if m == n.Attrs.String("mode") && m != "constant" {
			args = append(args, `mode="`+torch+`"`)
		}
	}
	if v := n.Attrs.Float("value"); v != 0 {
		s, err := fmtFloat(n, v)
		if err != nil {
			return "", nil, err
		}
		args = append(args, "value="+s)
	}
	return "pad", args, nil
}

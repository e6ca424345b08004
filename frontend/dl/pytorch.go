package dl

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dlcompiler/dlc/ir"
)

// PyTorch's positional order. nn.Conv2d, nn.Linear and nn.LSTM take the
// input size first; dlc infers it, so its order starts with the output
// size. A call written in PyTorch's order reads as something else
// (conv2d(1, 6, 5) as out=1, kernel=6, stride=5), so such calls are
// recognized and the message shows the call dlc wants.

// torchTwin is a layer whose PyTorch module takes the input size first.
type torchTwin struct {
	module string // nn.Conv2d(in_channels, out_channels, kernel_size, ...)
	inArg  string // in_channels
	// axis is the input's axis holding the size PyTorch asks for
	// (negative: from the end).
	axis int
	// sure reports, for a call that has not failed, whether its
	// positional ints p (p[0] equal to the input size) are implausible
	// in dlc's order, and what to write to keep that reading.
	sure func(c *call, p []int) (bool, string)
}

var torchTwins = map[string]torchTwin{}

func init() {
	conv := func(d, module string) torchTwin {
		return torchTwin{module: "nn." + module + d + "(in_channels, out_channels, kernel_size, ...)", inArg: "in_channels", axis: 1,
			// dlc's third positional is the stride: one above 2 that is
			// not the kernel (a patch embedding) is PyTorch's kernel_size.
			sure: func(c *call, p []int) (bool, string) {
				if len(p) < 3 || p[2] <= 2 || p[2] == p[1] {
					return false, ""
				}
				return true, fmt.Sprintf("stride=%d by keyword, if out_channels %d, kernel %d, stride %d is meant", p[2], p[0], p[1], p[2])
			}}
	}
	for _, d := range []string{"1d", "2d", "3d"} {
		torchTwins["conv"+d] = conv(d, "Conv")
		torchTwins["conv_transpose"+d] = conv(d, "ConvTranspose")
	}
	// dense's second positional is bias: an int there is out_features.
	torchTwins["dense"] = torchTwin{module: "nn.Linear(in_features, out_features, bias)", inArg: "in_features", axis: -1,
		sure: func(c *call, p []int) (bool, string) { return len(p) >= 2, "" }}
	for op, module := range map[string]string{"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"} {
		torchTwins[op] = torchTwin{module: "nn." + module + "(input_size, hidden_size, num_layers, ...)", inArg: "input_size", axis: -1,
			// More than 8 stacked layers is PyTorch's hidden_size.
			sure: func(c *call, p []int) (bool, string) {
				if len(p) < 2 || p[1] <= 8 {
					return false, ""
				}
				return true, fmt.Sprintf("num_layers=%d by keyword, if %d layers are meant", p[1], p[1])
			}}
	}
}

// torchOrder looks at a call written with PyTorch's positional order.
// With err (the call failed: an argument given twice or of the wrong
// type, a shape or a weight that does not fit) it returns err, or an
// error that explains it when the call reads as PyTorch's (dense with an
// int second; the others starting with the input size, or with an
// argument given twice). Without err it returns an error only when the
// call surely is PyTorch's order, so that it does not silently become
// another model.
func (c *call) torchOrder(err error, failed bool) error {
	tw, ok := torchTwins[c.def.name]
	if !ok || len(c.in) == 0 || len(c.in[0].Type.Shape) == 0 || errors.Is(err, errReported) {
		return err
	}
	var p []int
	for _, a := range c.posArgs {
		if a.v.kind != vInt {
			break
		}
		p = append(p, int(a.v.i))
	}
	x := c.in[0]
	s := x.Type.Shape
	ax := tw.axis
	if ax < 0 {
		ax += len(s)
	}
	if len(p) < 2 || ax < 0 || ax >= len(s) {
		return err
	}
	in := s[ax]
	keep := ""
	sure, k := tw.sure(c, p)
	// A failed call is explained when PyTorch's reading has every
	// positional it needs (conv's kernel_size is its third), or one of
	// them is given twice by keyword.
	twice := err != nil && strings.Contains(err.Error(), " is given twice")
	full := len(p) >= 3 || c.def.name == "dense"
	switch {
	case c.def.name == "dense":
	case p[0] != in && !twice:
		// An argument given twice by keyword is PyTorch's order whatever
		// the input holds; otherwise only a call starting with the input
		// size is taken for it.
		return err
	case !failed && !sure:
		return nil
	case failed && !sure && !full && !twice:
		return err
	default:
		keep = k
	}
	msg := fmt.Sprintf("%s reads like PyTorch's %s, but dlc takes %s from the input (%d, of %s %v): write %s",
		c.written(c.posArgs, false), tw.module, tw.inArg, in, x.Name, x.Type, c.written(c.posArgs[1:], true))
	if p[0] != in {
		msg = fmt.Sprintf("%s reads like PyTorch's %s, but dlc takes %s from the input (%d, of %s %v, not %d): write %s",
			c.written(c.posArgs, false), tw.module, tw.inArg, in, x.Name, x.Type, p[0], c.written(c.posArgs[1:], true))
	}
	if keep != "" && !failed {
		msg += " (or " + keep + ")"
	}
	if err != nil && !isArgError(err) {
		// A shape or weight error says what did not fit; keep it.
		var pe *posErr
		if errors.As(err, &pe) {
			return errAt(pe.pos, "%s; %s", pe.msg, msg)
		}
	}
	return c.errorf("%s", msg)
}

// isArgError reports whether err is about the arguments themselves (a
// type or a duplicate), which the PyTorch reading explains away.
func isArgError(err error) bool {
	var pe *posErr
	if !errors.As(err, &pe) {
		return false
	}
	return strings.Contains(pe.msg, ": argument ") || strings.Contains(pe.msg, "takes at most")
}

// written renders the call with positional arguments pos and the call's
// keyword arguments, as in conv2d(6, 5, padding=2), with its label when
// labelled (conv1: conv2d(6, 5, padding=2)).
func (c *call) written(pos []argVal, labelled bool) string {
	var args []string
	for _, a := range pos {
		args = append(args, render(a.v))
	}
	for _, k := range c.kwArgs {
		args = append(args, k.name+"="+render(k.v))
	}
	s := c.kind + "(" + strings.Join(args, ", ") + ")"
	if c.label != "" && labelled {
		s = c.label + ": " + s
	}
	return s
}

// render writes a value as .dl source.
func render(v val) string {
	switch v.kind {
	case vInt:
		return strconv.FormatInt(v.i, 10)
	case vFloat:
		s := strconv.FormatFloat(v.f, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEn") {
			s += ".0"
		}
		return s
	case vBool:
		return strconv.FormatBool(v.b)
	case vString:
		if v.bare {
			return v.s
		}
		return strconv.Quote(v.s)
	case vTensor:
		return v.ts[0].Name
	case vList:
		var parts []string
		for _, e := range v.list {
			parts = append(parts, render(e))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return "?"
}

// inplaceLayers take PyTorch's inplace= and ignore it: dlc's memory plan
// decides what is computed in place.
var inplaceLayers = map[string]bool{"relu": true, "relu6": true, "leaky_relu": true, "elu": true, "selu": true,
	"celu": true, "hardtanh": true, "hardswish": true, "hardsigmoid": true, "silu": true, "mish": true,
	"threshold": true, "dropout": true}

// checkInferred checks a PyTorch input size given by keyword
// (in_features=, in_channels=, input_size=) against the input.
func (c *call) checkInferred(name string, got int, x *ir.Value) error {
	if !c.has(name) || c.int(name) == got {
		return nil
	}
	return c.argErrorf(name, "%s=%d, but the input %s %v has %d (dlc takes it from the input; the argument is only checked)", name, c.int(name), x.Name, x.Type, got)
}

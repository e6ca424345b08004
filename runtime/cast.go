package runtime

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// cast converts its input to the dtype named by `to`, by ir.Convert's
// rules (those of ONNX Cast, with NaN and out-of-range float to integer
// conversions fixed: NaN gives 0, the rest saturate).
func init() {
	register("cast", func(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
		to, ok := ir.ParseDType(n.Attrs.String("to"))
		if !ok {
			return nil, fmt.Errorf("cast to unknown dtype %q", n.Attrs.String("to"))
		}
		return one(ir.ConvertMode(in[0], to, castMode(n.Attrs)))
	})
}

// castMode is the low-precision options of a cast node.
func castMode(a ir.Attrs) ir.CastMode {
	return ir.CastMode{NoSaturate: a.Bool("no_saturate"), Round: a.String("round")}
}

package runtime

import (
	"fmt"
	"reflect"

	"github.com/dlcompiler/dlc/ir"
)

// tensor_scatter (ir/ops_tscatter.go).

func init() { register("tensor_scatter", tensorScatter) }

func tensorScatter(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	a, err := ir.TensorScatterAxis(n)
	if err != nil {
		return nil, err
	}
	y := in[0].Clone()
	cs, us := in[0].Shape, in[1].Shape
	outer, inner := cs[:a].NumElems(), cs[a+1:].NumElems()
	per := outer / cs[0] // rows of one batch entry
	circular := n.Attrs.String("mode") == "circular"
	yv, uv := reflect.ValueOf(y.Data), reflect.ValueOf(in[1].Data)
	for o := range outer {
		w := int64(0)
		if len(in) > 2 && in[2] != nil {
			w = in[2].I64()[o/per]
		}
		for s := range us[a] {
			p := w + int64(s)
			if circular {
				p = ((p % int64(cs[a])) + int64(cs[a])) % int64(cs[a])
			}
			if p < 0 || p >= int64(cs[a]) {
				return nil, fmt.Errorf("write position %d (write index %d + step %d) is outside the cache's %d steps", p, w, s, cs[a])
			}
			d, src := (o*cs[a]+int(p))*inner, (o*us[a]+s)*inner
			reflect.Copy(yv.Slice(d, d+inner), uv.Slice(src, src+inner))
		}
	}
	return one(y)
}

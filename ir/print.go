package ir

import (
	"fmt"
	"strings"
)

// Print returns the graph in dlc's stable text form, used for golden files
// and `dlc check --ir`:
//
//	graph lenet batch=1
//	  input x: f32[1,1,28,28]
//	  param conv1.weight: f32[6,1,5,5]
//	  conv1 = conv(x, conv1.weight, conv1.bias) {dilations=[1,1] groups=1 ...}: f32[1,6,24,24]
//	  [conv2] pool2 = fused_conv(...)   (layer name in brackets when it differs from the value's)
//	  output logits = fc3
func Print(g *Graph) string {
	var b strings.Builder
	fmt.Fprintf(&b, "graph %s batch=%d", g.Name, g.Batch)
	if g.Training {
		b.WriteString(" training")
	}
	b.WriteString("\n")
	for _, v := range g.Inputs {
		fmt.Fprintf(&b, "  input %s: %v\n", v.Name, v.Type)
	}
	for _, v := range g.Params {
		fmt.Fprintf(&b, "  %v %s: %v", v.Kind, v.Name, v.Type)
		if v.Data == nil && v.Init != "" {
			fmt.Fprintf(&b, " init=%s", v.Init)
		}
		b.WriteByte('\n')
	}
	for _, n := range g.Nodes {
		b.WriteString("  ")
		if len(n.Outputs) > 0 && n.Outputs[0].Name != n.Name {
			// A fused node keeps its layer's name; its value is the last
			// absorbed op's.
			b.WriteString("[" + n.Name + "] ")
		}
		for i, o := range n.Outputs {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(o.Name)
		}
		fmt.Fprintf(&b, " = %s(", n.Op)
		for i, in := range n.Inputs {
			if i > 0 {
				b.WriteString(", ")
			}
			if in == nil {
				b.WriteString("_")
			} else {
				b.WriteString(in.Name)
			}
		}
		b.WriteByte(')')
		if len(n.Attrs) > 0 {
			b.WriteString(" {")
			for i, k := range n.Attrs.Keys() {
				if i > 0 {
					b.WriteByte(' ')
				}
				fmt.Fprintf(&b, "%s=%s", k, FormatAttr(n.Attrs[k]))
			}
			b.WriteByte('}')
		}
		b.WriteString(": ")
		for i, o := range n.Outputs {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(o.Type.String())
		}
		if s := n.Schedule; s != nil {
			b.WriteString(" schedule{")
			b.WriteString(s.String())
			b.WriteByte('}')
		}
		b.WriteByte('\n')
	}
	for i, o := range g.Outputs {
		fmt.Fprintf(&b, "  output %s = %s\n", g.OutputNames[i], o.Name)
	}
	return b.String()
}

// String formats the schedule stably.
func (s *Schedule) String() string {
	var parts []string
	if s.Algo != "" {
		parts = append(parts, "algo="+s.Algo)
	}
	if len(s.Tiles) > 0 {
		keys := make([]string, 0, len(s.Tiles))
		for k := range s.Tiles {
			keys = append(keys, k)
		}
		sortStrings(keys)
		var ts []string
		for _, k := range keys {
			ts = append(ts, fmt.Sprintf("%s:%d", k, s.Tiles[k]))
		}
		parts = append(parts, "tiles="+strings.Join(ts, ","))
	}
	if len(s.Order) > 0 {
		parts = append(parts, "order="+strings.Join(s.Order, ","))
	}
	if s.Vector > 1 {
		parts = append(parts, fmt.Sprintf("vector=%d", s.Vector))
	}
	if s.Unroll > 1 {
		parts = append(parts, fmt.Sprintf("unroll=%d", s.Unroll))
	}
	if s.Kernel != "" {
		parts = append(parts, "kernel="+s.Kernel)
	}
	if s.Threads > 1 {
		parts = append(parts, fmt.Sprintf("threads=%d", s.Threads))
	}
	if s.WeightLayout != "" {
		parts = append(parts, "layout="+s.WeightLayout)
	}
	return strings.Join(parts, " ")
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

package onnx

import (
	"fmt"
	"strings"

	"github.com/dlcompiler/dlc/ir"
)

// Names. PyTorch names ONNX nodes by module scope and op, "/conv1/Conv",
// "/layer2/se/se.1/Conv", "/Relu_1", and initializers by state-dict key,
// "conv1.weight" (or "onnx::Conv_64" for ones the exporter made, such as
// batch norm fused into a conv). Once a graph is converted, rename gives
//
//   - each ir node the PyTorch module path of its ONNX node, "conv1" or
//     "layer2.se.1", when that node is the module's only ONNX node with
//     ir nodes, or the only one reading parameters (a GRU among the
//     transposes around it); "module.Op" otherwise ("layer1.Relu_1"), or
//     the op part alone at top level ("Relu_1"). Further ir nodes of the
//     same ONNX node add "_suffix".
//   - each parameter its initializer's name when PyTorch gave one, else
//     "node.slot" after the one node reading it ("features.0.weight",
//     "gru.weight_ih_l0"), else a cleaned-up name.
//
// Names keep letters, digits, '_' and '.'; all are unique, node output
// names ("gru.h") included, numbered "_2", "_3" on a clash.

// origin is the ONNX node an ir node comes from.
type origin struct {
	onnx   *node
	idx    int
	suffix string
}

// cleanName turns an ONNX name into letters, digits, '_' and '.', with
// '/' as '.', no leading, trailing or repeated dots, and no leading digit.
func cleanName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		case r == '.' || r == '/':
			b.WriteByte('.')
		default:
			b.WriteByte('_')
		}
	}
	var parts []string
	for _, p := range strings.Split(b.String(), ".") {
		if p != "" {
			parts = append(parts, p)
		}
	}
	out := strings.Join(parts, ".")
	if out == "" || (out[0] >= '0' && out[0] <= '9') {
		out = "v" + out
	}
	return out
}

// scopeOf splits a PyTorch node name into its module path and op part:
// "/layer2/se/se.1/Conv" → "layer2.se.1", "Conv". A Sequential child's
// scope repeats its parent's ("se/se.1"), so the repeat is dropped. Names
// without '/' have no module.
func scopeOf(n *node, idx int) (module, leaf string) {
	name := n.name
	if name == "" {
		return "", fmt.Sprintf("%s_%d", n.opType, idx)
	}
	if !strings.Contains(name, "/") {
		return "", name
	}
	segs := strings.Split(strings.Trim(name, "/"), "/")
	leaf = segs[len(segs)-1]
	var mod []string
	for _, s := range segs[:len(segs)-1] {
		if s == "" {
			continue
		}
		if k := len(mod); k > 0 && strings.HasPrefix(s, mod[k-1]+".") {
			mod[k-1] = s
			continue
		}
		mod = append(mod, s)
	}
	if leaf == "" {
		leaf = n.opType
	}
	return strings.Join(mod, "."), leaf
}

// namer hands out unique names.
type namer map[string]bool

func (t namer) take(want string, extra []string) string {
	name := want
	for k := 2; ; k++ {
		ok := !t[name]
		for _, e := range extra {
			ok = ok && !t[name+"."+e]
		}
		if ok {
			break
		}
		name = fmt.Sprintf("%s_%d", want, k)
	}
	t[name] = true
	for _, e := range extra {
		t[name+"."+e] = true
	}
	return name
}

func hasParam(n *ir.Node) bool {
	for _, in := range n.Inputs {
		if in != nil && in.Kind == ir.Param {
			return true
		}
	}
	return false
}

// rename gives the converted graph its final names (see above).
func (im *importer) rename() {
	g := im.g
	taken := namer{}
	for _, v := range g.Inputs {
		taken[v.Name] = true
	}
	// Parameters named by PyTorch keep their names.
	pending := map[*ir.Value]bool{}
	for _, p := range g.Params {
		src := im.paramSrc[p]
		if im.initNames[src] && !strings.Contains(src, "::") {
			p.Name = taken.take(cleanName(src), nil)
		} else {
			pending[p] = true
		}
	}

	// Which ONNX node of each module scope names the module.
	type onnxInfo struct {
		module, leaf string
		param        bool
	}
	info := map[*node]*onnxInfo{}
	var order []*node
	for _, n := range g.Nodes {
		o, ok := im.origin[n]
		if !ok {
			continue
		}
		in := info[o.onnx]
		if in == nil {
			m, l := scopeOf(o.onnx, o.idx)
			in = &onnxInfo{module: m, leaf: l}
			info[o.onnx] = in
			order = append(order, o.onnx)
		}
		in.param = in.param || hasParam(n)
	}
	groups := map[string][]*node{}
	for _, on := range order {
		if m := info[on].module; m != "" {
			groups[m] = append(groups[m], on)
		}
	}
	// A multi-layer nn.LSTM (GRU, RNN) exports one node per layer:
	// those become module.l0, module.l1, ... with PyTorch's parameter
	// names (module.weight_ih_l1).
	layer := map[*node]int{}
	for _, grp := range groups {
		var rnns []*node
		for _, o := range grp {
			if info[o].param {
				rnns = append(rnns, o)
			}
		}
		same := len(rnns) > 1
		for _, o := range rnns {
			same = same && o.opType == rnns[0].opType && (o.opType == "LSTM" || o.opType == "GRU" || o.opType == "RNN")
		}
		if !same {
			continue
		}
		for k, o := range rnns {
			layer[o] = k
			info[o].leaf = fmt.Sprintf("l%d", k)
		}
	}
	base := map[*node]string{}
	for _, on := range order {
		in := info[on]
		if in.module == "" {
			base[on] = cleanName(in.leaf)
			continue
		}
		grp := groups[in.module]
		primary := len(grp) == 1
		if !primary && in.param {
			np := 0
			for _, o := range grp {
				if info[o].param {
					np++
				}
			}
			primary = np == 1
		}
		if primary {
			base[on] = cleanName(in.module)
		} else {
			base[on] = cleanName(in.module + "." + in.leaf)
		}
	}
	for _, n := range g.Nodes {
		want := n.Name
		if o, ok := im.origin[n]; ok {
			want = base[o.onnx]
			if o.suffix != "" {
				want += "_" + o.suffix
			}
		}
		names := n.Def().OutputNames(n)
		var extra []string
		if len(names) > 1 {
			extra = names[1:]
		}
		n.Name = taken.take(want, extra)
		for i, o := range n.Outputs {
			o.Name = n.Name
			if i > 0 {
				o.Name = n.Name + "." + names[i]
			}
		}
	}

	// Other parameters: after the one node that reads them, if any.
	users := map[*ir.Value][]string{}
	for _, n := range g.Nodes {
		def := n.Def()
		var rnnNames []string
		prefix := n.Name
		if n.Op == "rnn" || n.Op == "gru" || n.Op == "lstm" {
			k := 0
			if o, ok := im.origin[n]; ok {
				if l, ok := layer[o.onnx]; ok {
					k, prefix = l, cleanName(info[o.onnx].module)
				}
			}
			rnnNames = ir.RNNParamNames(k+1, n.Attrs.Bool("bidirectional"), n.Attrs.Bool("bias"), ir.RNNPeepholes(n))
			rnnNames = rnnNames[len(rnnNames)/(k+1)*k:]
		}
		first := len(def.Inputs) - 1 // the variadic slot
		for i, in := range n.Inputs {
			if in == nil || !pending[in] {
				continue
			}
			slot := ""
			switch {
			case rnnNames != nil && i >= first && i-first < len(rnnNames):
				slot = rnnNames[i-first]
			case i < len(def.Inputs) && (def.Inputs[i].Param || in.Kind == ir.Param):
				slot = def.Inputs[i].Name
			}
			if slot != "" {
				users[in] = append(users[in], prefix+"."+slot)
			} else {
				users[in] = append(users[in], "")
			}
		}
	}
	for _, v := range g.Outputs {
		if pending[v] {
			users[v] = append(users[v], "")
		}
	}
	for _, p := range g.Params {
		if !pending[p] {
			continue
		}
		want := cleanName(im.paramSrc[p])
		if u := users[p]; len(u) == 1 && u[0] != "" {
			want = u[0]
		}
		p.Name = taken.take(want, nil)
	}
}

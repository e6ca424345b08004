package dl

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/weights"
)

// Format writes g as .dl source in graph form, the inverse of Load: the
// model name, `const batch` when g.Batch > 0, the inputs, a `weights`
// statement naming weightsFile, `const`/`param` declarations for tensors
// that are not the parameters of a layer, one statement per chain of
// nodes in topological order (a node whose only reader is the next node
// continues the previous statement's pipeline), and the outputs.
//
// Layers with parameters are labelled with a name made from the node's
// name (an ONNX name such as /layer1/conv1/Conv becomes layer1_conv1), and
// their parameters are returned in tensors under the state_dict names the
// frontend reads for that layer (layer1_conv1.weight, .bias,
// .running_mean, .weight_ih_l0, ...); declared tensors are stored under
// their own names. Small constants are written inline. Writing tensors to
// weightsFile beside the source and loading the source gives a graph that
// computes the same outputs as g.
//
// Format fails, naming the node, for what the language cannot express:
// fused ops (format before optimizing), parameters without data, layer
// weights computed by the graph, and a few attribute combinations (see
// the error).
func Format(g *ir.Graph, weightsFile string) (src []byte, tensors map[string]*weights.Tensor, err error) {
	if err := ir.Verify(g); err != nil {
		return nil, nil, fmt.Errorf("format: %v", err)
	}
	f := &formatter{
		g: g, tensors: map[string]*weights.Tensor{}, taken: map[string]bool{},
		vars: map[*ir.Value]string{}, labels: map[*ir.Node]string{},
		uses: g.Uses(), isOut: map[*ir.Value]bool{},
	}
	for _, o := range g.Outputs {
		f.isOut[o] = true
	}
	if err := f.run(weightsFile); err != nil {
		return nil, nil, err
	}
	return []byte(f.out.String()), f.tensors, nil
}

// formatter holds the state of one Format call.
type formatter struct {
	g       *ir.Graph
	tensors map[string]*weights.Tensor
	taken   map[string]bool          // identifiers used in the source
	vars    map[*ir.Value]string     // the variable holding each value
	labels  map[*ir.Node]string      // labels of layers with parameters
	uses    map[*ir.Value][]*ir.Node // readers of each value
	isOut   map[*ir.Value]bool
	out     strings.Builder
}

// nodeErr is an error about one node.
func nodeErr(n *ir.Node, format string, args ...any) error {
	return fmt.Errorf("format: node %s (%s): %s", n.Name, n.Op, fmt.Sprintf(format, args...))
}

func (f *formatter) run(weightsFile string) error {
	g := f.g
	// Names: inputs first, so that they keep theirs.
	for _, v := range g.Inputs {
		// Inputs keep their names unless a name is a keyword: a layer's
		// name is a valid variable, and tools pass inputs by name.
		name := cleanName(v.Name, false)
		if isIdent(v.Name) && !keywords[v.Name] && !reservedValue(v.Name) && !f.taken[v.Name] {
			name = v.Name
			f.taken[name] = true
		} else {
			name = f.alloc(name)
		}
		f.vars[v] = name
	}
	// Tensors read by something other than a layer's parameter slot need a
	// declaration, unless every such use can take them inline.
	need := map[*ir.Value]bool{}
	for _, n := range g.Nodes {
		for i, v := range n.Inputs {
			if v == nil {
				continue
			}
			if paramSlot(n, i) {
				if !v.IsConst() {
					if v.Kind == ir.Param {
						return nodeErr(n, "parameter %s has no data (load the model with its weights)", v.Name)
					}
					return nodeErr(n, "its %s %s is computed by the graph; .dl layers read their parameters from the weights file", n.Def().InputName(i), v.Name)
				}
				continue
			}
			if (v.Kind == ir.Param || v.Kind == ir.Const) && !f.inlineUse(n, i) {
				need[v] = true
			}
		}
	}
	for _, v := range g.Outputs {
		if v.Kind == ir.Param || v.Kind == ir.Const {
			need[v] = true
		}
	}
	var decls []string
	for _, v := range g.Params {
		if !need[v] {
			continue
		}
		d, err := f.declare(v)
		if err != nil {
			return err
		}
		decls = append(decls, d)
	}

	// Chains: node i continues the statement of node i-1 when it pipes
	// that node's only used output.
	var body []string
	for i := 0; i < len(g.Nodes); {
		j := i + 1
		for j < len(g.Nodes) && f.canPipe(g.Nodes[j-1], g.Nodes[j]) {
			j++
		}
		s, err := f.statement(g.Nodes[i:j])
		if err != nil {
			return err
		}
		body = append(body, s)
		i = j
	}

	// Outputs.
	var outs []string
	outNames := map[string]bool{}
	for i, v := range g.Outputs {
		name := cleanName(g.OutputNames[i], false)
		if name == "" || isDigit(name[0]) {
			name = "out" + name
		}
		for k := 2; outNames[name]; k++ {
			name = cleanName(g.OutputNames[i], false) + "_" + strconv.Itoa(k)
		}
		outNames[name] = true
		ex, ok := f.vars[v]
		if !ok {
			return fmt.Errorf("format: output %s (%s) has no variable", g.OutputNames[i], v.Name)
		}
		decl := "output " + name
		if g.IsClassScores(i) && (i > 0 || len(g.Labels) == 0) {
			decl += ": classes"
		}
		if ex != name {
			decl += " = " + ex
		}
		outs = append(outs, decl)
	}

	// Assemble.
	w := &f.out
	if isIdent(g.Name) {
		fmt.Fprintf(w, "model %s\n", g.Name)
	} else if g.Name != "" {
		q, err := quote(g.Name)
		if err != nil {
			return fmt.Errorf("format: model name: %v", err)
		}
		fmt.Fprintf(w, "model %s\n", q)
	}
	if g.Batch > 0 {
		fmt.Fprintf(w, "const batch = %d\n", g.Batch)
	}
	for _, v := range g.Inputs {
		fmt.Fprintf(w, "input %s: %s%s\n", f.vars[v], v.Type.DType, f.shape(v.Type.Shape, true))
	}
	if len(f.tensors) > 0 {
		q, err := quote(weightsFile)
		if err != nil {
			return fmt.Errorf("format: weights file name: %v", err)
		}
		fmt.Fprintf(w, "weights %s\n", q)
	}
	if len(decls) > 0 {
		w.WriteString("\n")
		for _, d := range decls {
			w.WriteString(d + "\n")
		}
	}
	w.WriteString("\n")
	for _, s := range body {
		w.WriteString(s + "\n")
	}
	w.WriteString("\n")
	for _, o := range outs {
		w.WriteString(o + "\n")
	}
	if len(g.Labels) > 0 {
		var ls []string
		for _, l := range g.Labels {
			q, err := quote(l)
			if err != nil {
				return fmt.Errorf("format: label: %v", err)
			}
			ls = append(ls, q)
		}
		fmt.Fprintf(w, "labels %s\n", strings.Join(ls, ", "))
	}
	return nil
}

// paramSlot reports whether input i of n is a parameter the layer reads
// from the weights file.
func paramSlot(n *ir.Node, i int) bool {
	d := n.Def()
	if d == nil || len(d.Inputs) == 0 {
		return false
	}
	if i >= len(d.Inputs) {
		i = len(d.Inputs) - 1
	}
	return d.Inputs[i].Param
}

var binaryOps = map[string]string{"add": "+", "sub": "-", "mul": "*", "div": "/"}

// numberOperandOps are binary layers written as calls whose second
// operand may be a number (pow(2), maximum(0)).
var numberOperandOps = map[string]bool{"pow": true, "maximum": true, "minimum": true}

// inlineUse reports whether input i of n is a constant written inline: a
// finite f32 scalar operand of add/sub/mul/div, or the scalar index of a
// gather written as select.
func (f *formatter) inlineUse(n *ir.Node, i int) bool {
	v := n.Inputs[i]
	if v.Kind != ir.Const || v.Data == nil || len(v.Type.Shape) != 0 {
		return false
	}
	switch {
	case binaryOps[n.Op] != "" || numberOperandOps[n.Op] && i == 1:
		return v.Type.DType == ir.F32 && !math.IsInf(float64(v.Data.F32()[0]), 0) && !math.IsNaN(float64(v.Data.F32()[0]))
	case n.Op == "gather" && i == 1:
		_, ok := selectIndex(n)
		return ok
	}
	return false
}

// selectIndex returns the index of a gather that select can express: a
// constant scalar index within the axis.
func selectIndex(n *ir.Node) (int, bool) {
	idx := n.Inputs[1]
	if idx.Kind != ir.Const || idx.Data == nil || len(idx.Type.Shape) != 0 || idx.Type.DType != ir.I64 {
		return 0, false
	}
	x := n.Inputs[0].Type.Shape
	a, err := ir.NormAxis(n.Attrs.Int("axis"), len(x))
	if err != nil {
		return 0, false
	}
	k := idx.Data.I64()[0]
	if k < -int64(x[a]) || k >= int64(x[a]) {
		return 0, false
	}
	return int(k), true
}

// canPipe reports whether next can continue the pipeline ending in prev.
func (f *formatter) canPipe(prev, next *ir.Node) bool {
	y := prev.Outputs[0]
	if len(next.Inputs) == 0 || next.Inputs[0] != y || f.isOut[y] || len(f.uses[y]) != 1 {
		return false
	}
	for _, o := range prev.Outputs[1:] {
		if f.isOut[o] || len(f.uses[o]) > 0 {
			return false
		}
	}
	return true
}

// declare writes the declaration of a tensor that is not a layer's
// parameter: inline when it is a small constant, else from the weights
// file.
func (f *formatter) declare(v *ir.Value) (string, error) {
	name := f.alloc(cleanName(v.Name, false))
	f.vars[v] = name
	if v.Data == nil {
		return "", fmt.Errorf("format: parameter %s has no data (load the model with its weights)", v.Name)
	}
	kw := "param"
	if v.Kind == ir.Const || v.Type.DType != ir.F32 {
		kw = "const"
	}
	head := fmt.Sprintf("%s %s: %s%s", kw, name, v.Type.DType, f.shape(v.Type.Shape, false))
	if v.Kind == ir.Const {
		if lit, ok := literal(v.Data); ok {
			return head + " = " + lit, nil
		}
	}
	f.addTensor(name, v.Data)
	return head, nil
}

// literal writes a small or uniform constant inline: one number for a
// tensor whose elements are all equal, else a flat list of up to 16.
func literal(t *ir.Tensor) (string, bool) {
	n := t.Len()
	if n == 0 || n > 1<<16 {
		return "", false
	}
	var elems []string
	for i := 0; i < n; i++ {
		var s string
		switch {
		case t.DType == ir.U64:
			s = strconv.FormatUint(uint64(t.Int(i)), 10)
		case t.DType.IsInt():
			s = strconv.FormatInt(t.Int(i), 10)
		case t.DType == ir.Bool:
			return "", false // from the weights file
		default:
			x := t.Float(i)
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return "", false
			}
			if t.DType == ir.F32 {
				s = fmtF32(float32(x))
			} else {
				s = strconv.FormatFloat(x, 'g', -1, 64) // exact: f16 and bf16 values are float64 values
			}
		}
		elems = append(elems, s)
	}
	uniform := true
	for _, e := range elems {
		uniform = uniform && e == elems[0]
	}
	switch {
	case uniform && (len(t.Shape) == 0 || n > 1):
		return elems[0], true
	case n <= 16:
		return "[" + strings.Join(elems, ", ") + "]", true
	}
	return "", false
}

func (f *formatter) addTensor(name string, t *ir.Tensor) {
	f.tensors[name] = t
}

// statement writes one chain of nodes as an assignment.
func (f *formatter) statement(chain []*ir.Node) (string, error) {
	head := chain[0]
	var parts []string
	first, err := f.head(head)
	if err != nil {
		return "", err
	}
	parts = append(parts, first...)
	for _, n := range chain[1:] {
		s, err := f.stage(n, true)
		if err != nil {
			return "", err
		}
		parts = append(parts, s)
	}
	last := chain[len(chain)-1]
	name := f.labels[last]
	if name == "" {
		name = f.alloc(cleanName(last.Name, false))
	}
	f.vars[last.Outputs[0]] = name
	targets := []string{name}
	extra := false
	for _, o := range last.Outputs[1:] {
		extra = extra || f.isOut[o] || len(f.uses[o]) > 0
	}
	if extra {
		names := last.Def().OutputNames(last)
		for i, o := range last.Outputs[1:] {
			v := f.alloc(name + "_" + names[i+1])
			f.vars[o] = v
			targets = append(targets, v)
		}
	}
	lhs := strings.Join(targets, ", ") + " = "
	line := lhs + strings.Join(parts, " | ")
	if len(line) <= 100 || len(parts) == 1 {
		return line, nil
	}
	// A long pipeline: one stage per line. (A long single stage, say a
	// concat of many branches, stays on its line: a `|` with nothing
	// after it does not parse.)
	return lhs + parts[0] + "\n    | " + strings.Join(parts[1:], "\n    | "), nil
}

// head writes the start of a statement: `x | stage` for a layer reading
// one tensor, an operator expression for add/sub/mul/div, a call for the
// layers reading several tensors. It returns the pipeline's parts.
func (f *formatter) head(n *ir.Node) ([]string, error) {
	if op := binaryOps[n.Op]; op != "" {
		a, err := f.operand(n, 0)
		if err != nil {
			return nil, err
		}
		b, err := f.operand(n, 1)
		if err != nil {
			return nil, err
		}
		return []string{a + " " + op + " " + b}, nil
	}
	x, err := f.operand(n, 0)
	if err != nil {
		return nil, err
	}
	switch n.Op {
	case "concat", "matmul":
		s, err := f.stage(n, false)
		return []string{s}, err
	case "gather":
		if _, ok := selectIndex(n); !ok {
			s, err := f.stage(n, false)
			return []string{s}, err
		}
	}
	s, err := f.stage(n, true)
	return []string{x, s}, err
}

// operand is the source text of input i of n: a variable or an inline
// number.
func (f *formatter) operand(n *ir.Node, i int) (string, error) {
	v := n.Inputs[i]
	if name, ok := f.vars[v]; ok {
		return name, nil
	}
	if f.inlineUse(n, i) && n.Op != "gather" {
		s := fmtF32(v.Data.F32()[0])
		if strings.HasPrefix(s, "-") {
			s = "(" + s + ")"
		}
		return s, nil
	}
	return "", nodeErr(n, "input %s has no variable", v.Name)
}

// stage writes n as a layer. With piped, its first input comes through
// the pipe and is not written; otherwise every tensor input is written as
// a leading argument.
func (f *formatter) stage(n *ir.Node, piped bool) (string, error) {
	label := ""
	if needsLabel(n) {
		label = f.alloc(cleanName(n.Name, true))
		f.labels[n] = label
	}
	kind, args, err := f.layer(n, label)
	if err != nil {
		return "", err
	}
	var all []string
	start := 1
	if !piped {
		start = 0
	}
	for i := start; i < len(n.Inputs); i++ {
		if n.Inputs[i] == nil || paramSlot(n, i) {
			continue
		}
		if isRecurrent(n.Op) && i > 0 {
			continue // h0= and c0= are keyword arguments
		}
		if n.Op == "gather" && i == 1 {
			if _, ok := selectIndex(n); ok {
				continue
			}
		}
		if (binaryOps[n.Op] != "" || numberOperandOps[n.Op]) && f.inlineUse(n, i) {
			s, err := f.operand(n, i)
			if err != nil {
				return "", err
			}
			args = append([]string{strings.Trim(s, "()")}, args...)
			continue
		}
		s, err := f.operand(n, i)
		if err != nil {
			return "", err
		}
		all = append(all, s)
	}
	all = append(all, args...)
	s := kind
	if len(all) > 0 {
		s += "(" + strings.Join(all, ", ") + ")"
	}
	if label != "" {
		s = label + ": " + s
	}
	return s, nil
}

func isRecurrent(op string) bool { return op == "rnn" || op == "lstm" || op == "gru" }

// needsLabel reports whether the layer has parameters, whose names in the
// weights file come from its label.
func needsLabel(n *ir.Node) bool {
	for i, v := range n.Inputs {
		if v != nil && paramSlot(n, i) {
			return true
		}
	}
	return false
}

// formatters holds the spellings of ops whose layers live in a
// layers_<family>.go file, filled by its init.
var formatters = map[string]func(f *formatter, n *ir.Node, label string) (string, []string, error){}

// layer returns the layer spelling and the non-tensor arguments of n, and
// records its parameters under the layer's label.
func (f *formatter) layer(n *ir.Node, label string) (string, []string, error) {
	a := n.Attrs
	x := n.Inputs[0].Type.Shape
	var args []string
	kw := func(name, val string) { args = append(args, name+"="+val) }
	param := func(suffix string, v *ir.Value) { f.addTensor(label+"."+suffix, v.Data) }
	if name, args, ok, err := f.tableLayer(n); ok {
		return name, args, err
	}
	if fm := formatters[n.Op]; fm != nil {
		return fm(f, n, label)
	}
	switch n.Op {
	case "global_avgpool", "global_maxpool":
		return n.Op, nil, nil
	case "cast":
		return "cast", []string{a.String("to")}, nil
	case "leaky_relu":
		if al := a.Float("alpha"); al != 0.01 {
			s, err := fmtFloat(n, al)
			if err != nil {
				return "", nil, err
			}
			args = append(args, s)
		}
		return "leaky_relu", args, nil
	case "clip":
		lo, hi := a.Float("min"), a.Float("max")
		if lo == 0 && hi == 6 {
			return "relu6", nil, nil
		}
		for _, b := range []struct {
			name string
			v    float64
		}{{"min", lo}, {"max", hi}} {
			if math.IsInf(b.v, 0) {
				continue
			}
			s, err := fmtFloat(n, b.v)
			if err != nil {
				return "", nil, err
			}
			kw(b.name, s)
		}
		return "clip", args, nil
	case "shrink", "prelu":
		return f.actLayer(n, label)
	case "layernorm", "rmsnorm", "groupnorm":
		return f.normLayer(n, label)
	case "lrn":
		return lrnLayer(n)
	case "argmax", "argmin", "cumsum", "topk":
		return f.scanLayer(n)
	case "softmax", "log_softmax":
		if ax := a.Int("axis"); ax != -1 {
			kw("dim", strconv.Itoa(ax))
		}
		return n.Op, args, nil
	case "dropout":
		if p := a.Float("p"); p != 0.5 {
			s, err := fmtFloat(n, p)
			if err != nil {
				return "", nil, err
			}
			args = append(args, s)
		}
		return "dropout", args, nil
	case "add", "sub", "mul", "div", "concat", "matmul", "pow", "maximum", "minimum":
		if n.Op == "concat" {
			kw("dim", strconv.Itoa(a.Int("axis")))
		}
		return n.Op, args, nil
	case "dense":
		w := n.Inputs[1]
		args = append(args, strconv.Itoa(w.Type.Shape[0]))
		param("weight", w)
		if len(n.Inputs) > 2 && n.Inputs[2] != nil {
			param("bias", n.Inputs[2])
		} else {
			kw("bias", "false")
		}
		return "dense", args, nil
	case "conv":
		w := n.Inputs[1]
		r := len(w.Type.Shape) - 2
		args = append(args, strconv.Itoa(w.Type.Shape[0]), fmtList(w.Type.Shape[2:]))
		if s := a.Ints("strides"); !allEqual(s, 1) {
			kw("stride", fmtList(s))
		}
		padArgs(a.Ints("pads"), r, kw)
		if d := a.Ints("dilations"); !allEqual(d, 1) {
			kw("dilation", fmtList(d))
		}
		if gr := a.Int("groups"); gr != 1 {
			kw("groups", strconv.Itoa(gr))
		}
		param("weight", w)
		if len(n.Inputs) > 2 && n.Inputs[2] != nil {
			param("bias", n.Inputs[2])
		} else {
			kw("bias", "false")
		}
		return fmt.Sprintf("conv%dd", r), args, nil
	case "maxpool", "avgpool":
		k := a.Ints("kernel")
		r := len(k)
		args = append(args, fmtList(k))
		if s := a.Ints("strides"); !equalInts(s, k) {
			kw("stride", fmtList(s))
		}
		if p := a.Ints("pads"); len(p) == 2*r && !poolPaddingOK(p[:r], k) {
			kw("pads", fmtListAlways(p)) // padding= would break PyTorch's rule
		} else {
			padArgs(p, r, kw)
		}
		if d := a.Ints("dilations"); !allEqual(d, 1) {
			if n.Op == "avgpool" {
				return "", nil, nodeErr(n, "avgpool with dilations %v cannot be written in .dl (avgpool2d has no dilation)", d)
			}
			kw("dilation", fmtList(d))
		}
		if a.Bool("ceil_mode") {
			kw("ceil_mode", "true")
		}
		if a.Bool("indices") {
			return "", nil, nodeErr(n, "maxpool with an indices output cannot be written in .dl (maxpool1d/2d/3d have one output)")
		}
		if n.Op == "avgpool" && !a.Bool("count_include_pad") {
			kw("count_include_pad", "false")
		}
		return fmt.Sprintf("%s%dd", n.Op, r), args, nil
	case "batchnorm":
		r := len(x) - 2
		if r < 1 {
			r = 1
		}
		if r > 3 {
			return "", nil, nodeErr(n, "batchnorm of a rank-%d input cannot be written in .dl (batchnorm1d/2d/3d take rank 2 to 5)", len(x))
		}
		if eps := a.Float("epsilon"); eps != 1e-5 {
			s, err := fmtFloat(n, eps)
			if err != nil {
				return "", nil, err
			}
			kw("eps", s)
		}
		for i, s := range []string{"weight", "bias", "running_mean", "running_var"} {
			param(s, n.Inputs[1+i])
		}
		return fmt.Sprintf("batchnorm%dd", r), args, nil
	case "flatten":
		if a.Int("axis") == 1 && len(x) >= 2 {
			return "flatten", nil, nil
		}
		return f.reshape(n)
	case "reshape":
		return f.reshape(n)
	case "transpose":
		p := a.Ints("perm")
		var diff []int
		for i, d := range p {
			if d != i {
				diff = append(diff, i)
			}
		}
		if len(diff) == 2 {
			return "transpose", []string{strconv.Itoa(diff[0]), strconv.Itoa(diff[1])}, nil
		}
		for _, d := range p {
			args = append(args, strconv.Itoa(d))
		}
		if len(args) == 0 {
			return "identity", nil, nil
		}
		return "permute", args, nil
	case "squeeze":
		if ax := a.Ints("axes"); len(ax) > 0 {
			args = append(args, fmtListAlways(ax))
		}
		return "squeeze", args, nil
	case "unsqueeze":
		if ax := a.Ints("axes"); len(ax) == 1 {
			return "unsqueeze", []string{strconv.Itoa(ax[0])}, nil
		}
		return f.reshape(n)
	case "embedding":
		w := n.Inputs[1]
		param("weight", w)
		return "embedding", []string{strconv.Itoa(w.Type.Shape[0]), strconv.Itoa(w.Type.Shape[1])}, nil
	case "gather":
		if k, ok := selectIndex(n); ok {
			return "select", []string{strconv.Itoa(a.Int("axis")), strconv.Itoa(k)}, nil
		}
		kw("dim", strconv.Itoa(a.Int("axis")))
		return "index_select", args, nil
	case "rnn", "lstm", "gru":
		args = append(args, strconv.Itoa(a.Int("hidden_size")))
		layers, bi, bias := a.Int("num_layers"), a.Bool("bidirectional"), a.Bool("bias")
		if layers != 1 {
			kw("num_layers", strconv.Itoa(layers))
		}
		if n.Op == "rnn" && a.String("nonlinearity") != "tanh" {
			kw("nonlinearity", a.String("nonlinearity"))
		}
		if !bias {
			kw("bias", "false")
		}
		if a.Bool("batch_first") {
			kw("batch_first", "true")
		}
		if bi {
			kw("bidirectional", "true")
		}
		if n.Op == "gru" && !a.Bool("linear_before_reset") {
			kw("linear_before_reset", "false")
		}
		peep := ir.RNNPeepholes(n)
		if peep {
			kw("peepholes", "true")
		}
		states := []string{"h0", "c0"}[:ir.RNNStates(n.Op)]
		for i, s := range states {
			if n.Inputs[1+i] != nil {
				name, err := f.operand(n, 1+i)
				if err != nil {
					return "", nil, err
				}
				kw(s, name)
			}
		}
		for k, s := range ir.RNNParamNames(layers, bi, bias, peep) {
			param(s, n.Inputs[1+len(states)+k])
		}
		return n.Op, args, nil
	}
	if strings.HasPrefix(n.Op, "fused_") {
		return "", nil, nodeErr(n, "fused ops are made by the optimizer and have no .dl spelling; format the graph before running passes")
	}
	return "", nil, nodeErr(n, "op %s has no .dl spelling", n.Op)
}

// reshape writes n as a reshape to its output shape.
func (f *formatter) reshape(n *ir.Node) (string, []string, error) {
	out := n.Outputs[0].Type.Shape
	in := n.Inputs[0].Type.Shape
	if len(out) == 0 {
		if len(in) == 0 {
			return "identity", nil, nil
		}
		return "squeeze", nil, nil // every axis has size 1
	}
	var args []string
	for i, d := range out {
		if d < 1 {
			return "", nil, nodeErr(n, "reshape to %v: .dl reshapes take positive dimensions", out)
		}
		if i == 0 && f.g.Batch > 0 && d == f.g.Batch && len(in) > 0 && in[0] == d {
			args = append(args, "batch")
			continue
		}
		args = append(args, strconv.Itoa(d))
	}
	return "reshape", args, nil
}

// poolPaddingOK reports whether padding= may carry pad for a pool of
// kernel k: PyTorch wants every pad at most half its kernel.
func poolPaddingOK(pad, k []int) bool {
	for i := range pad {
		if pad[i] > k[i]/2 {
			return false
		}
	}
	return true
}

// padArgs writes padding= for symmetric pads, pads= for others.
func padArgs(p []int, r int, kw func(name, val string)) {
	if len(p) != 2*r || allEqual(p, 0) {
		return
	}
	if equalInts(p[:r], p[r:]) {
		kw("padding", fmtList(p[:r]))
		return
	}
	kw("pads", fmtListAlways(p))
}

// shape writes a tensor type's dimensions, with `batch` for the first
// dimension of an input when it is the graph's batch size.
func (f *formatter) shape(s ir.Shape, input bool) string {
	var ds []string
	for i, d := range s {
		if input && i == 0 && f.g.Batch > 0 && d == f.g.Batch {
			ds = append(ds, "batch")
			continue
		}
		ds = append(ds, strconv.Itoa(d))
	}
	return "[" + strings.Join(ds, ", ") + "]"
}

func allEqual(s []int, v int) bool {
	for _, x := range s {
		if x != v {
			return false
		}
	}
	return true
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// fmtList writes one int when every value is the same, else a list.
func fmtList(s []int) string {
	if len(s) > 0 && allEqual(s, s[0]) {
		return strconv.Itoa(s[0])
	}
	return fmtListAlways(s)
}

func fmtListAlways(s []int) string {
	var ds []string
	for _, d := range s {
		ds = append(ds, strconv.Itoa(d))
	}
	return "[" + strings.Join(ds, ", ") + "]"
}

// fmtFloat writes an attribute value so that it reads back exactly.
func fmtFloat(n *ir.Node, x float64) (string, error) {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "", nodeErr(n, "attribute value %v cannot be written in .dl", x)
	}
	return strconv.FormatFloat(x, 'g', -1, 64), nil
}

// tableLayer writes the layers that layers.go derives from the op table
// (tableOps, reductions): ok is false for other ops.
func (f *formatter) tableLayer(n *ir.Node) (name string, args []string, ok bool, err error) {
	for _, op := range append(tableOps[:len(tableOps):len(tableOps)], logicLayers...) {
		if op != n.Op {
			continue
		}
		for _, a := range n.Def().Attrs {
			v := n.Attrs[a.Name]
			if v == a.Default {
				continue
			}
			s := ir.FormatAttr(v)
			if x, isFloat := v.(float64); isFloat {
				if s, err = fmtFloat(n, x); err != nil {
					return "", nil, true, err
				}
			}
			args = append(args, a.Name+"="+s)
		}
		return n.Op, args, true, nil
	}
	for layer, op := range reductions {
		if op != n.Op {
			continue
		}
		if axes := n.Attrs.Ints("axes"); len(axes) > 0 {
			args = append(args, "dim="+fmtInts(axes))
		}
		if n.Attrs.Bool("keepdims") {
			args = append(args, "keepdim=true")
		}
		return layer, args, true, nil
	}
	return "", nil, false, nil
}

// fmtF32 writes an f32 value in the fewest digits that read back (through
// float64, as the lexer reads numbers) to the same f32.
func fmtF32(x float32) string {
	s := strconv.FormatFloat(float64(x), 'g', -1, 32)
	if y, err := strconv.ParseFloat(s, 64); err != nil || float32(y) != x {
		s = strconv.FormatFloat(float64(x), 'g', -1, 64)
	}
	return s
}

// quote writes a .dl string literal.
func quote(s string) (string, error) {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < ' ' || r == 0x7f {
				return "", fmt.Errorf("%q has a control character", s)
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}

// isIdent reports whether s is a plain .dl name.
func isIdent(s string) bool {
	if s == "" || isDigit(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLetter(s[i]) && !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// alloc returns an unused identifier made from base, avoiding keywords,
// layer names and other words with a meaning in .dl.
func (f *formatter) alloc(base string) string {
	if base == "" {
		base = "v"
	}
	if isDigit(base[0]) {
		base = "v" + base
	}
	name := base
	if reservedWord(name) {
		name = base + "_0"
	}
	for k := 2; f.taken[name] || reservedWord(name); k++ {
		name = base + "_" + strconv.Itoa(k)
	}
	f.taken[name] = true
	return name
}

func reservedWord(s string) bool {
	return reservedValue(s) || keywords[s] || lookupLayer(s) != nil
}

// reservedValue reports whether s cannot name a value: a literal or the
// batch const.
func reservedValue(s string) bool {
	switch s {
	case "seq", "repeat", "true", "false", "True", "False", "batch":
		return true
	}
	return false
}

// cleanName makes a readable identifier from a node or value name.
// Characters other than letters and digits become '_'. In an ONNX name
// (/layer1/conv1/Conv, sanitized to _layer1_conv1_Conv) the last segment
// that starts with a capital is the op type: a layer with parameters
// drops it (layer1_conv1: its parameters are layer1_conv1.weight), other
// nodes keep it in snake case (layer1_relu). A segment repeating the one
// before it, as in torch's nested scopes (/features/features.0), is
// dropped.
func cleanName(name string, layer bool) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if isLetter(c) || isDigit(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('_')
		}
	}
	segs := strings.FieldsFunc(b.String(), func(r rune) bool { return r == '_' })
	op := -1
	for i := len(segs) - 1; i >= 0; i-- {
		if c := segs[i][0]; 'A' <= c && c <= 'Z' {
			op = i
			break
		}
	}
	if op >= 0 {
		if layer && op > 0 {
			segs = append(segs[:op:op], segs[op+1:]...)
		} else {
			segs[op] = snake(segs[op])
		}
	}
	var out []string
	for _, s := range segs {
		if len(out) > 0 && s == out[len(out)-1] && !isDigit(s[0]) {
			continue
		}
		out = append(out, s)
	}
	return strings.Join(out, "_")
}

// snake turns CamelCase into snake_case: GlobalAveragePool becomes
// global_average_pool, LSTM lstm.
func snake(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		up := 'A' <= c && c <= 'Z'
		if up && i > 0 {
			prevLower := s[i-1] >= 'a' && s[i-1] <= 'z' || isDigit(s[i-1])
			nextLower := i+1 < len(s) && s[i+1] >= 'a' && s[i+1] <= 'z'
			prevUpper := 'A' <= s[i-1] && s[i-1] <= 'Z'
			if prevLower || prevUpper && nextLower {
				b.WriteByte('_')
			}
		}
		if up {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

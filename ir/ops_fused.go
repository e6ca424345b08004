package ir

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Fused ops are made by the fusion pass, never by a frontend. Each is one
// kernel in generated code: its intermediate results never reach memory.
//
//	fused_conv  = conv → +bias → +residual → activation → pool
//	fused_dense = dense → +bias → +residual → activation
//	fused_ewise = a chain of element-wise steps over one tensor
//
// Their meaning is the composition of the unfused ops, which is how the
// reference interpreter computes them.

// epilogueAttrs are the attributes of an op that applies an epilogue
// (fused_conv, fused_dense). The act attribute's values and the
// activations' own attributes are added from the op table by
// linkEpilogue as activations register, so a new element-wise op fuses
// without an edit here.
func epilogueAttrs() []AttrDef {
	return []AttrDef{
		{Name: "act", Kind: AttrString, Default: "", Enum: []string{""}, Doc: "activation after bias and residual (an op of the table with Act set)"},
	}
}

// linkEpilogue makes act (an op with Act set) available to the epilogue
// of holder: a value of its act attribute and, for an element-wise
// activation, its attributes. They are optional without a default: the
// fusion pass copies the absorbed node's values, and readers apply the
// activation through SubNode, which fills the activation's defaults.
func linkEpilogue(holder, act *OpDef) {
	a := holder.AttrDef("act")
	a.Enum = append(a.Enum, act.Name)
	if act.Act != ActElementwise {
		return
	}
	for _, ad := range act.Attrs {
		if holder.AttrDef(ad.Name) == nil {
			holder.Attrs = append(holder.Attrs, AttrDef{Name: ad.Name, Kind: ad.Kind, Optional: true, Doc: act.Name + ": " + ad.Doc})
		}
	}
}

// FusedPoolAttrs maps the attributes of a fused_conv's pool to the
// attribute names of the pool op.
var FusedPoolAttrs = map[string]string{
	"pool_kernel": "kernel", "pool_strides": "strides", "pool_pads": "pads",
	"pool_dilations": "dilations", "pool_ceil_mode": "ceil_mode", "pool_count_include_pad": "count_include_pad",
}

// SubNode returns a node of op carrying the attributes of n that op
// also has, reading inputs. Shape rules and kernels of fused ops reuse
// those of their parts through it.
func SubNode(n *Node, op string, inputs []*Value) (*Node, error) {
	def := Lookup(op)
	sub := &Node{Name: n.Name, Op: op, Inputs: inputs, Attrs: Attrs{}, Pos: n.Pos}
	for k, v := range n.Attrs {
		if def.AttrDef(k) != nil {
			sub.Attrs[k] = v
		}
	}
	if err := def.CheckAttrs(sub); err != nil {
		return nil, err
	}
	return sub, nil
}

func checkEpilogue(n *Node, spatial bool) error {
	if act := n.Attrs.String("act"); spatial && act != "" && Lookup(act).Act == ActRows {
		return shapeErr("%s: %s cannot be fused into a convolution", n.Op, act)
	}
	return nil
}

func residualCheck(n *Node, idx int, out TensorType) error {
	if !has(n, idx) {
		return nil
	}
	if r := in(n, idx); !r.Equal(out) {
		return shapeErr("%s residual %s is %v, want %v", n.Op, n.Inputs[idx].Name, r, out)
	}
	return nil
}

func init() {
	convDef := Lookup("conv")
	attrs := append([]AttrDef(nil), convDef.Attrs...)
	attrs = append(attrs, epilogueAttrs()...)
	attrs = append(attrs,
		AttrDef{Name: "pool", Kind: AttrString, Default: "", Enum: []string{"", "max", "avg"}, Doc: "pooling after the activation"},
		AttrDef{Name: "pool_kernel", Kind: AttrInts, Default: []int{}, Doc: "pool window"},
		AttrDef{Name: "pool_strides", Kind: AttrInts, Default: []int{}, Doc: "pool step"},
		AttrDef{Name: "pool_pads", Kind: AttrInts, Default: []int{}, Doc: "pool padding"},
		AttrDef{Name: "pool_dilations", Kind: AttrInts, Default: []int{}, Doc: "pool dilation"},
		AttrDef{Name: "pool_ceil_mode", Kind: AttrBool, Default: false, Doc: "pool rounds up"},
		AttrDef{Name: "pool_count_include_pad", Kind: AttrBool, Default: true, Doc: "avg pool counts padding"},
	)
	Register(&OpDef{
		Name: "fused_conv", epilogue: true, Doc: "conv → +bias → +residual → activation → pool, one kernel",
		Class: Opaque, NoGrad: "made by the fusion pass, which runs after autodiff: differentiate the unfused ops", Pure: Pure, Stream: StreamWindows,
		Inputs: []InputDef{{Name: "x", DTypes: OnlyF32}, {Name: "weight", Param: true, DTypes: OnlyF32}, {Name: "bias", Optional: true, Param: true, DTypes: OnlyF32},
			{Name: "residual", Optional: true, DTypes: OnlyF32}},
		Outputs: []string{"y"},
		Attrs:   attrs,
		Check: func(n *Node) error {
			if err := convDef.Check(n); err != nil {
				return err
			}
			return checkEpilogue(n, true)
		},
		Infer: func(n *Node) ([]TensorType, error) {
			conv, err := SubNode(n, "conv", n.Inputs[:min(3, len(n.Inputs))])
			if err != nil {
				return nil, err
			}
			ts, err := convDef.Infer(conv)
			if err != nil {
				return nil, err
			}
			if err := residualCheck(n, 3, ts[0]); err != nil {
				return nil, err
			}
			if n.Attrs.String("pool") == "" {
				return ts, nil
			}
			if has(n, 3) {
				return nil, shapeErr("fused_conv cannot pool after a residual add")
			}
			pool, err := FusedPool(n, &Value{Name: n.Name + ".pre", Type: ts[0]})
			if err != nil {
				return nil, err
			}
			return pool.Def().Infer(pool)
		},
	})
	Register(&OpDef{
		Name: "fused_dense", epilogue: true, Doc: "dense → +bias → +residual → activation, one kernel",
		Class: Opaque, NoGrad: "made by the fusion pass, which runs after autodiff: differentiate the unfused ops", Pure: Pure, Stream: StreamLinear,
		Inputs: []InputDef{{Name: "x", DTypes: OnlyF32}, {Name: "weight", Param: true, DTypes: OnlyF32}, {Name: "bias", Optional: true, Param: true, DTypes: OnlyF32},
			{Name: "residual", Optional: true, DTypes: OnlyF32}},
		Outputs: []string{"y"},
		Attrs:   epilogueAttrs(),
		Infer: func(n *Node) ([]TensorType, error) {
			ts, err := Lookup("dense").Infer(n)
			if err != nil {
				return nil, err
			}
			return ts, residualCheck(n, 3, ts[0])
		},
	})
	Register(&OpDef{
		Name: "fused_ewise", Doc: "a chain of element-wise steps applied to x; binary steps name another input",
		Class: Elementwise, NoGrad: "made by the fusion pass, which runs after autodiff: differentiate the unfused ops", Pure: Pure, InPlace: true, Stream: StreamPointwise,
		Inputs:  []InputDef{{Name: "x", Variadic: true, DTypes: OnlyF32}},
		Outputs: []string{"y"},
		Attrs:   []AttrDef{{Name: "steps", Kind: AttrString, Doc: `steps separated by ";", e.g. "add(1);relu;leaky_relu(0.1);clip(0,6)"`}},
		Check: func(n *Node) error {
			_, err := ParseSteps(n.Attrs.String("steps"), len(n.Inputs))
			return err
		},
		Infer: func(n *Node) ([]TensorType, error) {
			x := in(n, 0)
			if x.DType != F32 {
				return nil, shapeErr("fused_ewise needs f32 input, got %v", x)
			}
			for i := 1; i < len(n.Inputs); i++ {
				s, err := BroadcastShapes(x.Shape, in(n, i).Shape)
				if err != nil || !s.Equal(x.Shape) {
					return nil, shapeErr("fused_ewise operand %s %v must broadcast to %v", n.Inputs[i].Name, in(n, i).Shape, x.Shape)
				}
			}
			return []TensorType{{x.DType, x.Shape.Clone()}}, nil
		},
	})
}

// FusedPool returns the pool node a fused_conv applies to pre, the
// conv's activated output.
func FusedPool(n *Node, pre *Value) (*Node, error) {
	op := n.Attrs.String("pool") + "pool"
	rename := map[string]string{}
	for k, v := range FusedPoolAttrs {
		if k == "pool_count_include_pad" && op != "avgpool" {
			continue
		}
		if k != "pool_kernel" && len(n.Attrs.Ints(k)) == 0 && strings.HasSuffix(k, "s") {
			continue // empty list: the pool's default
		}
		rename[k] = v
	}
	p := &Node{Name: n.Name, Op: op, Inputs: []*Value{pre}, Attrs: Attrs{}, Pos: n.Pos}
	for k, v := range rename {
		p.Attrs[v] = n.Attrs[k]
	}
	if err := Lookup(op).CheckAttrs(p); err != nil {
		return nil, err
	}
	return p, nil
}

// Step is one step of a fused_ewise chain: an op of the table with a
// Unary or Binary form.
type Step struct {
	Op string
	// Input is the operand of a binary step (an index into the node's
	// inputs).
	Input int
	// Attrs are a unary step's attributes, all of its op's (defaults
	// filled in).
	Attrs Attrs
}

// String formats the step as ParseSteps reads it: a binary step names
// its operand, a unary step lists its attributes in the op's order.
func (s Step) String() string {
	def := Lookup(s.Op)
	if def.Binary != nil {
		return s.Op + "(" + strconv.Itoa(s.Input) + ")"
	}
	if len(def.Attrs) == 0 {
		return s.Op
	}
	var as []string
	for _, a := range def.Attrs {
		v := s.Attrs[a.Name]
		if str, ok := v.(string); ok {
			as = append(as, str) // enum values need no quotes
			continue
		}
		as = append(as, FormatAttr(v))
	}
	return s.Op + "(" + strings.Join(as, ",") + ")"
}

// FormatSteps joins steps into a fused_ewise "steps" attribute.
func FormatSteps(steps []Step) string {
	var parts []string
	for _, s := range steps {
		parts = append(parts, s.String())
	}
	return strings.Join(parts, ";")
}

// ParseSteps parses a fused_ewise "steps" attribute for a node with
// nInputs inputs.
func ParseSteps(s string, nInputs int) ([]Step, error) {
	if s == "" {
		return nil, shapeErr("fused_ewise has no steps")
	}
	var steps []Step
	for _, part := range strings.Split(s, ";") {
		name, args, _ := strings.Cut(part, "(")
		args = strings.TrimSuffix(args, ")")
		var fields []string
		if args != "" {
			fields = strings.Split(args, ",")
		}
		def := Lookup(name)
		if def == nil || (def.Unary == nil && def.Binary == nil) {
			return nil, shapeErr("fused_ewise: unknown step %q", fmt.Sprint(part))
		}
		st := Step{Op: name}
		if def.Binary != nil {
			i, err := strconv.Atoi(args)
			if len(fields) != 1 || err != nil || i < 1 || i >= nInputs {
				return nil, shapeErr("fused_ewise step %q must name an input 1..%d", part, nInputs-1)
			}
			st.Input = i
			steps = append(steps, st)
			continue
		}
		if len(fields) != len(def.Attrs) {
			return nil, shapeErr("fused_ewise step %q wants %d arguments, got %d", part, len(def.Attrs), len(fields))
		}
		st.Attrs = Attrs{}
		for i, f := range fields {
			v, err := parseStepArg(&def.Attrs[i], f)
			if err != nil {
				return nil, shapeErr("fused_ewise step %q: %v", part, err)
			}
			st.Attrs[def.Attrs[i].Name] = v
		}
		steps = append(steps, st)
	}
	return steps, nil
}

// parseStepArg reads one positional argument of a step as attribute a.
func parseStepArg(a *AttrDef, f string) (any, error) {
	var v any = f
	switch a.Kind {
	case AttrFloat:
		switch f {
		case "inf":
			v = math.Inf(1)
		case "-inf":
			v = math.Inf(-1)
		default:
			x, err := strconv.ParseFloat(f, 64)
			if err != nil {
				return nil, fmt.Errorf("bad number %q", f)
			}
			v = x
		}
	case AttrInt:
		x, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("bad integer %q", f)
		}
		v = x
	case AttrBool:
		x, err := strconv.ParseBool(f)
		if err != nil {
			return nil, fmt.Errorf("bad bool %q", f)
		}
		v = x
	}
	return a.check(v)
}

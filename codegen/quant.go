package codegen

import (
	"fmt"
	"math"
	"strings"

	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/runtime"
)

// The low-precision dtypes in generated code, and the quantization ops.
//
// Generated code stores the float8, float4 and e8m0 dtypes as their raw
// bits in uint8, int4 and int2 as their value in int8, uint4 and uint2 as
// their value in uint8 (ir's storage, one element a byte). Values are
// decoded through a 256-entry table made from ir.LowFloatValue, and
// encoded by lowbits and e8m0bits, which mirror ir.LowFloatBits line for
// line, so generated code and the interpreter agree bit for bit.

func init() {
	register("quantize", emitter{emit: emitQuantize})
	register("dequantize", emitter{emit: emitDequantize})
	register("dynamic_quantize", emitter{emit: emitDynamicQuantize})
	register("matmul_integer", emitter{emit: emitMatMulInteger})
	register("conv_integer", emitter{emit: emitConvInteger})
	register("requant", emitter{emit: emitRequant})
	register("bitcast", emitter{emit: emitBitcast})
	for _, dt := range ir.DTypes() {
		if ir.LowFloats.Has(dt) {
			name := lowValName(dt)
			helperSource[name] = lowValHelper(dt)
			reserved[name], reserved[name+"Tab"] = true, true
		}
	}
	reserved["lowbits"], reserved["e8m0bits"] = true, true
	helperSource["lowbits"] = `// lowbits rounds v to nearest even in a float format of at most 8 bits
// (m mantissa bits, exponent bias, largest finite magnitude maxCode, sign
// bit) and returns its bits, as ir.LowFloatBits: beyond maxCode ±max when
// sat (always for f4, which has no NaN), else Inf (inf) or NaN; uz
// formats have no -0 and 0x80 as their one NaN; f4 NaN is 0x8.
func lowbits(v float64, m uint, bias int, maxCode, sgn uint32, inf, uz, f4, sat bool) uint8 {
	var sign uint32
	if @math.Signbit(v) {
		sign = sgn
	}
	over := func() uint8 {
		switch {
		case sat || f4:
			return uint8(sign | maxCode)
		case inf:
			return uint8(sign | (maxCode + 1))
		case uz:
			return uint8(sgn)
		}
		return uint8(sign | 0x7f)
	}
	switch {
	case v != v:
		switch {
		case uz || f4:
			return uint8(sgn)
		case inf:
			return uint8(sign | 0x7e)
		}
		return uint8(sign | 0x7f)
	case @math.IsInf(v, 0):
		return over()
	}
	a := @math.Abs(v)
	if a == 0 {
		if uz {
			return 0
		}
		return uint8(sign)
	}
	_, exp := @math.Frexp(a)
	e := max(exp-1+bias, 1)
	if e > int(maxCode)+2 {
		return over()
	}
	code := uint32(e-1)<<m + uint32(@math.RoundToEven(@math.Ldexp(a, int(m)+bias-e)))
	switch {
	case code > maxCode:
		return over()
	case code == 0 && uz:
		return 0
	}
	return uint8(sign | code)
}`
	helperSource["e8m0bits"] = `// e8m0bits converts v to float8e8m0 bits as ir.LowFloatBits does: the
// float32 exponent, raised by the rounding mode (0 up, 1 down, 2
// nearest), saturated at 0xFE when sat; NaN and ±Inf give 0xFF.
func e8m0bits(v float64, sat bool, mode int) uint8 {
	b := @math.Float32bits(float32(v))
	e := b >> 23 & 0xff
	if e == 0xff {
		return 0xff
	}
	var up bool
	switch mode {
	case 2:
		up = b&0x400000 != 0 && (b&0x200000 != 0 || b&0x1fffff != 0 || e > 0)
	case 1:
	default:
		up = b&0x7fffff != 0
		if e == 0 {
			up = b&0x7fffff > 0x400000
		}
	}
	if up && !(sat && e == 0xfe) {
		e++
	}
	return uint8(e)
}`
}

// lowValName is the helper decoding bits of low float dtype dt.
func lowValName(dt ir.DType) string { return dt.String() + "val" }

// lowValHelper is the source of dt's decoding helper and its table.
func lowValHelper(dt ir.DType) string {
	name := lowValName(dt)
	n := 256
	if dt == ir.F4E2M1 {
		n = 16
	}
	var b strings.Builder
	fmt.Fprintf(&b, "// %s is the value of %v bits, from a table of float32 bits\n// (any NaN is the quiet NaN 0x7fc00000).\n", name, dt)
	fmt.Fprintf(&b, "func %s(b uint8) float32 { return @math.Float32frombits(%sTab[b&%#x]) }\n\n", name, name, n-1)
	fmt.Fprintf(&b, "var %sTab = [%d]uint32{", name, n)
	for i := range n {
		if i%8 == 0 {
			b.WriteString("\n")
		}
		v := ir.LowFloatValue(dt, uint8(i))
		bits := math.Float32bits(float32(v))
		if math.IsNaN(v) {
			bits = 0x7fc00000
		}
		fmt.Fprintf(&b, "%#08x, ", bits)
	}
	b.WriteString("\n}")
	return b.String()
}

// lowValExpr is the float32 value of x, bits of low float dtype dt.
func lowValExpr(dt ir.DType, x string) string { return lowValName(dt) + "(" + x + ")" }

// lowBitsExpr converts v, a float64 expression, to the bits of low float
// dtype dt by ir.LowFloatBits with mode's options.
func lowBitsExpr(dt ir.DType, v string, mode ir.CastMode) string {
	sat := !mode.NoSaturate
	if dt == ir.F8E8M0 {
		m := map[string]int{"": 0, "up": 0, "down": 1, "nearest": 2}[mode.Round]
		return fmt.Sprintf("e8m0bits(%s, %v, %d)", v, sat, m)
	}
	p := lowParams[dt]
	return fmt.Sprintf("lowbits(%s, %d, %d, %#x, %#x, %v, %v, %v, %v)", v, p.m, p.bias, p.maxCode, p.sign, p.inf, p.uz, dt == ir.F4E2M1, sat)
}

// lowParams are the formats' constants, as in ir/lowp.go's formatOf.
var lowParams = map[ir.DType]struct {
	m             uint
	bias          int
	maxCode, sign uint32
	inf, uz       bool
}{
	ir.F8E4M3FN:   {3, 7, 0x7e, 0x80, false, false},
	ir.F8E4M3FNUZ: {3, 8, 0x7f, 0x80, false, true},
	ir.F8E5M2:     {2, 15, 0x7b, 0x80, true, false},
	ir.F8E5M2FNUZ: {2, 16, 0x7f, 0x80, false, true},
	ir.F4E2M1:     {1, 1, 0x7, 0x8, false, false},
}

// lowIntExpr wraps v, an int64 expression, to small integer dtype dt.
func lowIntExpr(dt ir.DType, v string) string {
	switch dt {
	case ir.I4:
		return "int8((" + v + ")<<60>>60)"
	case ir.I2:
		return "int8((" + v + ")<<62>>62)"
	case ir.U4:
		return "uint8((" + v + ")&0xf)"
	}
	return "uint8((" + v + ")&3)"
}

// storageNote tells the user of a generated API how a value of dtype dt
// is stored, for the dtypes whose Go type does not say it.
func storageNote(dt ir.DType) string {
	switch {
	case ir.LowFloats.Has(dt):
		return " (stored as its uint8 bits, one element a byte)"
	case ir.LowInts.Has(dt):
		return " (one value a byte, not packed)"
	}
	return ""
}

// roundToExpr rounds v, a float64 expression, to float dtype dt and back
// to float64: ir.RoundTo in generated code.
func roundToExpr(dt ir.DType, v string) string {
	switch dt {
	case ir.F32:
		return "float64(float32(" + v + "))"
	case ir.F16:
		return "float64(f16val(roundhalf(" + v + ", 5, 10)))"
	case ir.BF16:
		return "float64(bf16val(roundhalf(" + v + ", 8, 7)))"
	}
	return v
}

// quantLoops opens the loops over x's elements of quantize and
// dequantize: i is the element, si its scale's index. The caller closes
// them with quantClose.
func quantLoops(k *kctx) {
	q := ir.QuantLayoutOf(k.n)
	si := "0"
	switch {
	case q.Block > 0:
		si = fmt.Sprintf("(o*%d+d/%d)*%d+j", (q.D+q.Block-1)/q.Block, q.Block, q.Inner)
	case q.PerAxis:
		si = "d"
	}
	k.l("i := 0")
	k.l("for o := range %d {\nfor d := range %d {\nfor j := range %d {", q.Outer, q.D, q.Inner)
	k.l("_, _, _ = o, d, j")
	k.l("si := %s", si)
	k.l("_ = si")
}

func quantClose(k *kctx) { k.l("i++\n}\n}\n}") }

// emitQuantize mirrors runtime's quantize: the division rounded to the
// compute dtype, then rint, zero point and clipping, or a float8 cast.
func emitQuantize(k *kctx) error {
	n := k.n
	xdt, sdt, to := n.Inputs[0].Type.DType, n.Inputs[1].Type.DType, n.Outputs[0].Type.DType
	ct := ir.QuantComputeType(n)
	X, S, Y := k.in[0], k.in[1], k.out[0]
	zp := ""
	if len(k.in) > 2 {
		zp = k.in[2]
	}
	quantLoops(k)
	x := roundToExpr(ct, "float64("+computeExpr(xdt, X+"[i]")+")")
	sc := roundToExpr(ct, "float64("+computeExpr(sdt, S+"[si]")+")")
	k.l("v := %s", roundToExpr(ct, x+" / "+sc))
	switch {
	case to == ir.F4E2M1:
		if zp != "" {
			k.l("v = %s", roundToExpr(ct, "v + float64("+computeExpr(to, zp+"[si]")+")"))
		}
		k.l("%s[i] = %s", Y, lowBitsExpr(to, "v", ir.CastMode{}))
	case ir.LowFloats.Has(to):
		k.l("%s[i] = %s", Y, lowBitsExpr(to, "v", ir.CastMode{NoSaturate: n.Attrs.Bool("no_saturate")}))
	default:
		lo, hi := ir.IntRange(to)
		k.l("q := satint(@math.RoundToEven(v), -2147483648, 2147483647)")
		if zp != "" {
			k.l("q += int64(%s[si])", zp)
		}
		k.l("%s[i] = %s(min(max(q, %d), %d))", Y, elemType(to), lo, hi)
	}
	quantClose(k)
	return nil
}

// emitDequantize mirrors runtime's dequantize (f32 arithmetic unless
// runtime.DequantWide).
func emitDequantize(k *kctx) error {
	n := k.n
	xdt, sdt, to := n.Inputs[0].Type.DType, n.Inputs[1].Type.DType, n.Outputs[0].Type.DType
	X, S, Y := k.in[0], k.in[1], k.out[0]
	quantLoops(k)
	k.l("d := float64(float32(%s))", computeExpr(xdt, X+"[i]"))
	if len(k.in) > 2 && k.in[2] != "" && !ir.LowFloats.Has(xdt) {
		k.l("d -= float64(%s[si])", k.in[2])
	}
	s := "float64(" + computeExpr(sdt, S+"[si]") + ")"
	if runtime.DequantWide(n) {
		k.l("v := d * %s", s)
	} else {
		k.l("v := float64(float32(float64(float32(d)) * %s))", s)
	}
	k.l("%s[i] = %s", Y, storeExpr(to, "v"))
	quantClose(k)
	return nil
}

// emitDynamicQuantize mirrors runtime.DynamicQuantParams and
// DynamicQuantValue, in float32.
func emitDynamicQuantize(k *kctx) error {
	X, Y, S, Z := k.in[0], k.out[0], k.out[1], k.out[2]
	k.l("var mx, mn float32")
	k.l("for _, v := range %s {\nmx, mn = max(mx, v), min(mn, v)\n}", X)
	k.l("scale := float32(1)")
	k.l("if mx != mn {\nscale = (mx - mn) / 255\n}")
	k.l("z := 0 - mn/scale")
	k.l("zp := float32(@math.RoundToEven(float64(max(0, min(255, z)))))")
	k.l("for i, v := range %s {", X)
	k.l("q := float32(@math.RoundToEven(float64(v/scale))) + zp")
	k.l("switch {\ncase q != q || q <= 0:\n%s[i] = 0\ncase q >= 255:\n%s[i] = 255\ndefault:\n%s[i] = uint8(q)\n}", Y, Y, Y)
	k.l("}")
	k.l("%s[0], %s[0] = scale, uint8(zp)", S, Z)
	return nil
}

// zeroPoint is the i32 expression of zero point slot i of a product node
// at index idx (per tensor: element 0), or "0" when absent.
func zeroPoint(k *kctx, i int, idx string) string {
	if i >= len(k.in) || k.in[i] == "" {
		return "int32(0)"
	}
	if k.n.Inputs[i].Type.Shape.NumElems() == 1 {
		idx = "0"
	}
	return "int32(" + k.in[i] + "[" + idx + "])"
}

func emitMatMulInteger(k *kctx) error {
	a, y := k.inShape(0), k.outShape(0)
	M, K, N := y[len(y)-2], a[len(a)-1], y[len(y)-1]
	ao, bo := runtime.MatMulIntegerOffsets(k.n)
	A, B, Y := k.in[0], k.in[1], k.out[0]
	k.l("aoff, boff := [...]int{%s}, [...]int{%s}", intList(ao), intList(bo))
	k.l("for bi := range %d {\nfor m := range %d {", len(ao), M)
	k.l("za := %s", zeroPoint(k, 2, "m"))
	k.l("for j := range %d {", N)
	k.l("zb := %s", zeroPoint(k, 3, "j"))
	k.l("var acc int32")
	k.l("for kk := range %d {", K)
	k.l("acc += (int32(%s[aoff[bi]+m*%d+kk]) - za) * (int32(%s[boff[bi]+kk*%d+j]) - zb)", A, K, B, N)
	k.l("}")
	k.l("%s[(bi*%d+m)*%d+j] = acc", Y, M, N)
	k.l("}\n}\n}")
	return nil
}

// emitConvInteger is runtime's convInteger loop nest with the geometry's
// constants.
func emitConvInteger(k *kctx) error {
	g := ir.ConvGeomOf(k.n)
	X, W, Y := k.in[0], k.in[1], k.out[0]
	cg, mg := g.C/g.G, g.M/g.G
	k.l("// %s", g)
	k.l("xz := %s", zeroPoint(k, 2, "0"))
	k.l("i := 0")
	k.l("for b := range %d {\nfor m := range %d {", g.N, g.M)
	k.l("wz := %s", zeroPoint(k, 3, "m"))
	k.l("c0 := m / %d * %d", mg, cg)
	k.l("for o0 := range %d {\nfor o1 := range %d {\nfor o2 := range %d {", g.Out[0], g.Out[1], g.Out[2])
	k.l("var acc int32")
	k.l("for c := range %d {", cg)
	for a, ax := range []string{"0", "1", "2"} {
		k.l("for k%s := range %d {", ax, g.K[a])
		k.l("i%s := o%s*%d - %d + k%s*%d", ax, ax, g.Stride[a], g.Pad[a], ax, g.Dil[a])
		k.l("if i%s < 0 || i%s >= %d {\ncontinue\n}", ax, ax, g.In[a])
	}
	k.l("xv := int32(%s[(((b*%d+c0+c)*%d+i0)*%d+i1)*%d+i2])", X, g.C, g.In[0], g.In[1], g.In[2])
	k.l("wv := int32(%s[(((m*%d+c)*%d+k0)*%d+k1)*%d+k2])", W, cg, g.K[0], g.K[1], g.K[2])
	k.l("acc += (xv - xz) * (wv - wz)")
	k.l("}\n}\n}\n}")
	k.l("%s[i] = acc\ni++", Y)
	k.l("}\n}\n}\n}\n}")
	return nil
}

// emitRequant mirrors runtime's requant: the multipliers in the scales'
// dtype, then f64.
func emitRequant(k *kctx) error {
	n := k.n
	dt, to := n.Inputs[1].Type.DType, n.Outputs[0].Type.DType
	dim, inner := runtime.RequantLayout(n)
	nb := n.Inputs[2].Type.Shape.NumElems()
	val := func(i int, idx string) string { return "float64(" + computeExpr(dt, k.in[i]+"["+idx+"]") + ")" }
	k.l("var mult [%d]float64", nb)
	k.l("for c := range %d {", nb)
	k.l("mult[c] = %s", roundToExpr(dt, roundToExpr(dt, val(1, "0")+" * "+val(2, "c"))+" / "+val(3, "0")))
	k.l("}")
	zp := "0.0"
	if len(k.in) > 4 && k.in[4] != "" {
		zp = "float64(" + k.in[4] + "[0])"
	}
	mi := "0"
	if nb > 1 {
		mi = fmt.Sprintf("i/%d%%%d", inner, dim)
	}
	lo, hi := ir.IntRange(to)
	k.l("for i, v := range %s {", k.in[0])
	k.l("r := @math.RoundToEven(float64(float64(v)*mult[%s]) + %s)", mi, zp)
	k.l("%s[i] = %s(min(max(r, %d), %d))", k.out[0], elemType(to), lo, hi)
	k.l("}")
	return nil
}

// emitBitcast moves each element's bits through the unsigned integer of
// its size.
func emitBitcast(k *kctx) error {
	from, to := k.n.Inputs[0].Type.DType, k.n.Outputs[0].Type.DType
	var u string
	x := k.in[0] + "[i]"
	switch from {
	case ir.F32:
		u = "@math.Float32bits(" + x + ")"
	case ir.F64:
		u = "@math.Float64bits(" + x + ")"
	case ir.Bool:
		u = "uint8(b2i(" + x + "))"
	default:
		u = fmt.Sprintf("uint%d(%s)", 8*from.Size(), x)
	}
	var y string
	switch to {
	case ir.F32:
		y = "@math.Float32frombits(" + u + ")"
	case ir.F64:
		y = "@math.Float64frombits(" + u + ")"
	case ir.Bool:
		y = u + " != 0"
	default:
		y = elemType(to) + "(" + u + ")"
	}
	k.l("for i := range %d {\n%s[i] = %s\n}", k.outShape(0).NumElems(), k.out[0], y)
	return nil
}

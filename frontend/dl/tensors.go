package dl

import (
	"fmt"
	"math"

	"github.com/dlcompiler/dlc/ir"
)

// tensorStmt lowers `const NAME: dtype[dims] [= value]` and
// `param NAME: f32[dims] [= value]`: a tensor variable that is not the
// parameter of a layer (a normalization mean, a gather index, a weight
// used by matmul). Its data comes from the value after '=' (one number
// for every element, or a flat list in row-major order), else from the
// weights file under NAME (renames apply), else zeros for a const and the
// default initializer for a param.
func (l *lowerer) tensorStmt(sc *scope, s *tensorStmt) {
	what := "const"
	if s.param {
		what = "param"
	}
	fail := func(err error) {
		l.report(err)
		sc.vars[s.name] = val{}
	}
	dt, ok := ir.ParseDType(s.dtype)
	if !ok {
		fail(errAt(s.dpos, "unknown dtype %q (want f32 or i64)", s.dtype))
		return
	}
	if s.param && dt != ir.F32 {
		fail(errAt(s.dpos, "param %s must be f32 (an i64 tensor is not trainable: declare it with const)", s.name))
		return
	}
	if _, ok := l.consts[s.name]; ok {
		fail(errAt(s.pos, "%s %s: the name is a const", what, s.name))
		return
	}
	var shape ir.Shape
	for _, d := range s.dims {
		v, err := l.value(sc, d)
		if err != nil {
			fail(err)
			return
		}
		if v.kind != vInt || v.i < 1 || v.i > maxDim {
			fail(errAt(d.exprPos(), "%s %s: dimension must be a positive int, got %s", what, s.name, v.describe()))
			return
		}
		shape = append(shape, int(v.i))
	}
	n, ok := numElems(shape)
	if !ok {
		fail(errAt(s.pos, "%s %s: shape %v is too large (more than %d elements)", what, s.name, shape, maxElems))
		return
	}
	if err := l.claim(s.name, s.pos); err != nil {
		fail(err)
		return
	}
	t := ir.TensorType{DType: dt, Shape: shape}
	kind := ir.Const
	if s.param {
		kind = ir.Param
	}
	var data *ir.Tensor
	init := ""
	switch {
	case s.val != nil:
		d, err := l.literalTensor(sc, s, t, n)
		if err != nil {
			fail(err)
			return
		}
		data = d
	case l.wfile != nil:
		fname, renamed := l.fileName(s.name)
		disp := s.name
		if renamed {
			disp = s.name + " (" + `"` + fname + `"` + " in the file)"
		}
		ft := l.wfile.Tensors[fname]
		if ft == nil {
			fail(errAt(s.pos, "%s %s is not in %s", what, disp, l.wname))
			return
		}
		fs := ir.Shape(append([]int{}, ft.Shape...))
		if !loadsAs(ft.DType, dt) || !fs.Equal(shape) {
			fail(errAt(s.pos, "%s %s: safetensors has %s%v, the declaration wants %v", what, disp, ft.DType, fs, t))
			return
		}
		data = ir.Convert(ft, dt)
		data.Shape = shape.Clone()
		if data.Len() != n {
			fail(errAt(s.pos, "%s %s: bad tensor in %s", what, disp, l.wname))
			return
		}
	case s.param:
		init = "normal"
		if l.initSet {
			init = l.initName
		}
	default:
		l.alloc += n
		if l.alloc > maxAlloc {
			fail(errAt(s.pos, "const %s: too much constant data to make without a weights file (%v)", s.name, t))
			return
		}
		data = ir.NewTensor(dt, shape)
	}
	v := l.g.AddParam(s.name, kind, t, data, init, s.pos)
	sc.vars[s.name] = tensorVal(v)
}

// literalTensor evaluates the value of a tensor declaration: one number
// (every element) or a flat list of n numbers.
func (l *lowerer) literalTensor(sc *scope, s *tensorStmt, t ir.TensorType, n int) (*ir.Tensor, error) {
	v, err := l.value(sc, s.val)
	if err != nil {
		return nil, err
	}
	pos := s.val.exprPos()
	elems := []val{v}
	if v.kind == vList {
		elems = v.list
		if len(elems) != n {
			return nil, errAt(pos, "%s: %d values for %v (%d elements)", s.name, len(elems), t, n)
		}
	}
	l.alloc += n
	if l.alloc > maxAlloc {
		return nil, errAt(pos, "%s: too much constant data (%v)", s.name, t)
	}
	data := ir.NewTensor(t.DType, t.Shape)
	for i := 0; i < n; i++ {
		e := elems[0]
		if len(elems) > 1 {
			e = elems[i]
		}
		if err := setLiteral(data, i, e); err != "" {
			return nil, errAt(pos, "%s: %s", s.name, err)
		}
	}
	return data, nil
}

// setLiteral stores literal e as element i of data, or says why it does
// not fit data's dtype: integer dtypes take integers within their range,
// bool takes true, false, 0 or 1, floats take numbers within their finite
// range.
func setLiteral(data *ir.Tensor, i int, e val) string {
	dt := data.DType
	if dt == ir.Bool {
		switch {
		case e.kind == vBool:
			data.Bools()[i] = e.b
		case e.kind == vInt && (e.i == 0 || e.i == 1):
			data.Bools()[i] = e.i == 1
		default:
			return fmt.Sprintf("a bool tensor wants true or false, got %s", e.describe())
		}
		return ""
	}
	f, ok := e.num()
	if !ok {
		return fmt.Sprintf("want numbers, got %s", e.describe())
	}
	if dt.IsInt() {
		lo, hi := ir.IntRange(dt)
		switch {
		case e.kind != vInt:
			return fmt.Sprintf("an %v tensor wants ints, got %s", dt, e.describe())
		case dt == ir.U64 && e.i < 0, dt != ir.U64 && (e.i < lo || e.i > hi):
			return fmt.Sprintf("%s is out of range for %v", e.short(), dt)
		}
		data.SetInt(i, e.i)
		return ""
	}
	max := map[ir.DType]float64{ir.F32: math.MaxFloat32, ir.F16: 65504, ir.BF16: 0x1.fep127, ir.F64: math.MaxFloat64}[dt]
	if math.Abs(f) > max {
		return fmt.Sprintf("%s is out of range for %v", e.short(), dt)
	}
	data.SetFloat(i, f)
	return ""
}

// loadsAs reports whether a safetensors tensor of dtype file may fill a
// declaration of dtype decl: the same dtype, or a float file for a float
// declaration and an integer file for an integer one (converted as cast
// does: f16, bf16 and f64 weights for an f32 model, i32 ids for i64).
func loadsAs(file, decl ir.DType) bool {
	return file == decl || file.IsFloat() && decl.IsFloat() || file.IsInt() && decl.IsInt()
}

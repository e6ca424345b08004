package train

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"

	"github.com/dlcompiler/dlc/codegen"
	"github.com/dlcompiler/dlc/compiler"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/passes"
	"github.com/dlcompiler/dlc/runtime"
)

// The compiled engine runs the training step as generated Go, as dlc
// compile makes it: the training graph, with its params turned into
// inputs (the loop updates them, so they cannot be embedded), goes through
// the -O2 pipeline (fusion, tiling, memory planning) into a package
// "step"; the model, its params and constants likewise made inputs, into
// a package "eval". dlc builds both with a small main into a program in a
// cache folder (once per model and settings: the folder is named by a
// hash of the sources) and talks to it over its standard input and
// output: a request is an op byte ('S' step, 'E' eval) and every input's
// float32 values, little endian, in order; the reply is a status byte and
// every output's values. Sending the params with each step costs one copy
// of them each way, small beside the step's arithmetic. The optimizer,
// the data and the checkpoints stay in this package, shared with the
// interpreter engine. The first step runs on both engines and their
// losses and gradients must agree, so a code generation bug stops the run
// instead of training a wrong model.

// engine runs a training step and an evaluation; the interpreter's is
// the default.
type engine interface {
	step(ins []*ir.Tensor) ([]*ir.Tensor, error)
	eval(x *ir.Tensor) (*ir.Tensor, error)
}

type interpEngine struct{ t *Trainer }

func (e interpEngine) step(ins []*ir.Tensor) ([]*ir.Tensor, error) { return runtime.Run(e.t.g, ins) }
func (e interpEngine) eval(x *ir.Tensor) (*ir.Tensor, error) {
	outs, err := runtime.Run(e.t.model, []*ir.Tensor{x})
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

// compiledEngine is the generated program, running as a child process.
type compiledEngine struct {
	cmd        *exec.Cmd
	w          *bufio.Writer
	r          *bufio.Reader
	stepParams []*ir.Value // the training graph's params, sent after its inputs
	stepOuts   []ir.TensorType
	evalVals   []*ir.Value // the model's params and constants, sent after x
	evalOut    ir.TensorType
	checked    bool
	t          *Trainer
	buf        []byte                // writeF32, readF32
	replies    map[byte][]*ir.Tensor // call's reply tensors by op
}

// UseCompiled switches t to the compiled engine, building the program in
// a folder under cacheDir, its kernels split across up to threads
// goroutines (dlc compile -threads), and returns a function that stops
// it. logf receives progress notes.
func (t *Trainer) UseCompiled(cacheDir string, threads int, logf func(format string, args ...any)) (stop func(), err error) {
	e := &compiledEngine{t: t}
	stepG := t.g.Clone()
	e.stepParams = paramsToInputs(stepG, func(v *ir.Value) bool { return v.Kind == ir.Param })
	for _, o := range stepG.Outputs {
		e.stepOuts = append(e.stepOuts, o.Type)
	}
	evalG := t.model.Clone()
	evalG.Outputs, evalG.OutputNames = evalG.Outputs[:1], evalG.OutputNames[:1]
	e.evalVals = paramsToInputs(evalG, func(v *ir.Value) bool { return v.Data != nil && v.Data.DType == ir.F32 })
	e.evalOut = evalG.Outputs[0].Type
	ps, err := passes.Select(2, "")
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{"go.mod": []byte("module dlctrain\n\ngo 1.26\n"), "main.go": []byte(childMain)}
	for name, g := range map[string]*ir.Graph{"step": stepG, "eval": evalG} {
		pkg, err := compiler.Compile(g, compiler.Options{Package: name, Passes: ps, Threads: threads, Tune: gemmGrads})
		if err != nil {
			return nil, fmt.Errorf("compiling the %s graph: %w", name, err)
		}
		for f, b := range pkg {
			files[name+"/"+f] = b
		}
	}
	dir := filepath.Join(cacheDir, "dlc-train", hashFiles(files))
	bin := filepath.Join(dir, "trainstep")
	if _, err := os.Stat(bin); err != nil {
		if _, err := exec.LookPath("go"); err != nil {
			return nil, fmt.Errorf("the compiled engine builds the training program with the go command, which is not on the PATH (the interpreter engine, dlc train --engine interp, needs none)")
		}
		logf("building the training program in %s", dir)
		if err := writeModule(dir, files); err != nil {
			return nil, err
		}
		cmd := exec.Command("go", "build", "-o", "trainstep", ".")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("building the training program in %s: %v\n%s", dir, err, out)
		}
	}
	e.cmd = exec.Command(bin)
	in, err := e.cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := e.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	e.cmd.Stderr = os.Stderr
	if err := e.cmd.Start(); err != nil {
		return nil, err
	}
	e.w, e.r = bufio.NewWriterSize(in, 1<<20), bufio.NewReaderSize(out, 1<<20)
	stop = func() { in.Close(); e.cmd.Wait() }
	if err := e.handshake(stepG, evalG); err != nil {
		stop()
		return nil, err
	}
	t.engine = e
	return stop, nil
}

// handshake reads the program's field sizes (step inputs, step outputs,
// eval inputs, eval outputs; a count then the sizes, as uint32) and checks
// them against the graphs, so that a disagreement on the order of the
// fields is an error rather than a hang.
func (e *compiledEngine) handshake(stepG, evalG *ir.Graph) error {
	for _, vs := range [][]*ir.Value{stepG.Inputs, stepG.Outputs, evalG.Inputs, evalG.Outputs} {
		var n uint32
		if err := binary.Read(e.r, binary.LittleEndian, &n); err != nil {
			return fmt.Errorf("the training program did not start: %w", err)
		}
		sizes := make([]uint32, n)
		if err := binary.Read(e.r, binary.LittleEndian, sizes); err != nil {
			return fmt.Errorf("the training program did not start: %w", err)
		}
		if int(n) != len(vs) {
			return fmt.Errorf("internal error: the training program has %d fields, the graph %d values", n, len(vs))
		}
		for i, v := range vs {
			if int(sizes[i]) != v.Type.Shape.NumElems() {
				return fmt.Errorf("internal error: the training program's field %d has %d elements, the graph's %s %v", i, sizes[i], v.Name, v.Type)
			}
		}
	}
	return nil
}

// gemmGrads puts the weight gradients of convolutions on the Gemm kernel
// (codegen.UseGemmGrads): float32 sums over the batch, as PyTorch's
// backward, several times faster than the exact float64 form.
func gemmGrads(g *ir.Graph) error {
	codegen.UseGemmGrads(g)
	return nil
}

// paramsToInputs turns the params and constants keep selects into graph
// inputs, appended in declaration order, and returns them.
func paramsToInputs(g *ir.Graph, keep func(v *ir.Value) bool) []*ir.Value {
	var moved []*ir.Value
	rest := g.Params[:0]
	for _, p := range g.Params {
		if !keep(p) {
			rest = append(rest, p)
			continue
		}
		moved = append(moved, p)
	}
	g.Params = rest
	for _, p := range moved {
		p.Kind, p.Data, p.Init = ir.Input, nil, ""
		g.Inputs = append(g.Inputs, p)
	}
	return moved
}

func hashFiles(files map[string][]byte) string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s %d\n", n, len(files[n]))
		h.Write(files[n])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func writeModule(dir string, files map[string][]byte) error {
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// call sends one request and reads the reply into tensors of types outs.
// The reply's tensors are reused by the next call of the same op, so a
// caller uses them before its next step or evaluation.
func (e *compiledEngine) call(op byte, ins []*ir.Tensor, outs []ir.TensorType) ([]*ir.Tensor, error) {
	e.w.WriteByte(op)
	for _, t := range ins {
		if err := e.writeF32(t.F32()); err != nil {
			return nil, err
		}
	}
	if err := e.w.Flush(); err != nil {
		return nil, fmt.Errorf("the training program: %w", err)
	}
	status, err := e.r.ReadByte()
	if err != nil {
		return nil, fmt.Errorf("the training program stopped: %w", err)
	}
	if status != 0 {
		msg, _ := e.r.ReadString('\n')
		return nil, fmt.Errorf("the training program: %s", msg)
	}
	if e.replies == nil {
		e.replies = map[byte][]*ir.Tensor{}
	}
	res := e.replies[op]
	if res == nil {
		res = make([]*ir.Tensor, len(outs))
		for i, tt := range outs {
			res[i] = ir.NewTensor(ir.F32, tt.Shape)
		}
		e.replies[op] = res
	}
	for _, t := range res {
		if err := e.readF32(t.F32()); err != nil {
			return nil, fmt.Errorf("the training program: %w", err)
		}
	}
	return res, nil
}

// writeF32 sends v as little-endian float32s through one reused buffer
// (binary.Write would allocate one per call: megabytes a step).
func (e *compiledEngine) writeF32(v []float32) error {
	b := e.bytes(len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	_, err := e.w.Write(b)
	return err
}

// readF32 reads len(v) little-endian float32s into v.
func (e *compiledEngine) readF32(v []float32) error {
	b := e.bytes(len(v))
	if _, err := io.ReadFull(e.r, b); err != nil {
		return err
	}
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return nil
}

// bytes returns the reused buffer sized for n float32s.
func (e *compiledEngine) bytes(n int) []byte {
	if cap(e.buf) < 4*n {
		e.buf = make([]byte, 4*n)
	}
	return e.buf[:4*n]
}

func (e *compiledEngine) step(ins []*ir.Tensor) ([]*ir.Tensor, error) {
	all := append([]*ir.Tensor(nil), ins...)
	for _, p := range e.stepParams {
		all = append(all, e.t.paramData(p.Name))
	}
	outs, err := e.call('S', all, e.stepOuts)
	if err != nil || e.checked {
		return outs, err
	}
	// The first step also runs on the interpreter: the two must agree.
	e.checked = true
	ref, err := runtime.Run(e.t.g, ins)
	if err != nil {
		return nil, err
	}
	for i := range ref {
		if err := agree(ref[i], outs[i]); err != nil {
			return nil, fmt.Errorf("the compiled training step disagrees with the interpreter on output %s: %v", e.t.g.OutputNames[i], err)
		}
	}
	return outs, nil
}

func (e *compiledEngine) eval(x *ir.Tensor) (*ir.Tensor, error) {
	all := []*ir.Tensor{x}
	for _, v := range e.evalVals {
		all = append(all, e.t.paramData(v.Name))
	}
	outs, err := e.call('E', all, []ir.TensorType{e.evalOut})
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

// agree compares a compiled output with the interpreter's: the generated
// code sums in float32, the interpreter in float64, and a gradient sums
// over the batch, so the bound is relative to the largest magnitude:
// 1e-3 of it plus 1e-6.
func agree(want, got *ir.Tensor) error {
	var big float64
	for _, v := range want.F32() {
		big = math.Max(big, math.Abs(float64(v)))
	}
	for i, v := range want.F32() {
		if d := math.Abs(float64(got.F32()[i] - v)); !(d <= 1e-3*big+1e-6) {
			return fmt.Errorf("element %d: %g, the interpreter %g", i, got.F32()[i], v)
		}
	}
	return nil
}

// paramData is the current data of the model's param or constant name.
func (t *Trainer) paramData(name string) *ir.Tensor {
	for _, p := range t.model.Params {
		if p.Name == name {
			return p.Data
		}
	}
	panic("train: no param " + name)
}

// childMain is the training program's main: it serves requests until its
// input closes. It finds the Input and Output fields by reflection, in
// declaration order, which is the graph's input and output order.
const childMain = `// Code generated by dlc. DO NOT EDIT.

// Command trainstep serves dlc train: it runs the compiled training step
// (package step) and the model (package eval) on the float32 values it
// reads from its standard input and writes the results to its output.
package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"

	"dlctrain/eval"
	"dlctrain/step"
)

// fields returns the array fields of the struct p points to, as slices.
func fields(p any) [][]float32 {
	v := reflect.ValueOf(p).Elem()
	var fs [][]float32
	for i := range v.NumField() {
		f := v.Field(i)
		fs = append(fs, f.Slice(0, f.Len()).Interface().([]float32))
	}
	return fs
}

// buf is the byte buffer of readF32 and writeF32, reused.
var buf []byte

func bytesFor(n int) []byte {
	if cap(buf) < 4*n {
		buf = make([]byte, 4*n)
	}
	return buf[:4*n]
}

func readF32(r io.Reader, v []float32) error {
	b := bytesFor(len(v))
	if _, err := io.ReadFull(r, b); err != nil {
		return err
	}
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return nil
}

func writeF32(w io.Writer, v []float32) {
	b := bytesFor(len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	w.Write(b)
}

func main() {
	r := bufio.NewReaderSize(os.Stdin, 1<<20)
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	sm, em := step.New(), eval.New()
	var si step.Input
	var so step.Output
	var ei eval.Input
	var eo eval.Output
	sin, sout, ein, eout := fields(&si), fields(&so), fields(&ei), fields(&eo)
	for _, fs := range [][][]float32{sin, sout, ein, eout} {
		binary.Write(w, binary.LittleEndian, uint32(len(fs)))
		for _, f := range fs {
			binary.Write(w, binary.LittleEndian, uint32(len(f)))
		}
	}
	w.Flush()
	for {
		op, err := r.ReadByte()
		if err == io.EOF {
			return
		}
		ins, outs, run := sin, sout, func() error { return sm.Run(&si, &so) }
		if op == 'E' {
			ins, outs, run = ein, eout, func() error { return em.Run(&ei, &eo) }
		}
		for _, f := range ins {
			if err := readF32(r, f); err != nil {
				fmt.Fprintln(os.Stderr, "trainstep:", err)
				os.Exit(1)
			}
		}
		if err := run(); err != nil {
			fmt.Fprintf(w, "\x01%v\n", err)
			w.Flush()
			continue
		}
		w.WriteByte(0)
		for _, f := range outs {
			writeF32(w, f)
		}
		w.Flush()
	}
}
`

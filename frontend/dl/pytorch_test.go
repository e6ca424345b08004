package dl

import (
	"fmt"
	"github.com/dlcompiler/dlc/ir"
	"github.com/dlcompiler/dlc/runtime"
	"os"
	"strings"
	"testing"
)

// Tests of the "fewer surprises for a PyTorch user" features: each pins
// the behaviour or the message that leads to the fix.

// loadErr loads src without weights and returns the error text.
func loadErr(t *testing.T, src string) string {
	t.Helper()
	_, err := Load("m.dl", []byte(src), Options{NoWeights: true})
	if err == nil {
		t.Fatalf("no error for:\n%s", src)
	}
	return err.Error()
}

func TestClassScoresDecl(t *testing.T) {
	g := load(t, vec+"y = x | fc: dense(3, bias=false)\noutput y: classes, z = relu(y)\noutput p: classes = softmax(y)")
	g.Param("fc.weight").Data = ir.NewTensor(ir.F32, ir.Shape{3, 10})
	if len(g.ClassScores) != 2 || !g.IsClassScores(0) || g.IsClassScores(1) || !g.IsClassScores(2) {
		t.Errorf("class scores %v", g.ClassScores)
	}
	src, _, err := Format(g, "w.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"output y: classes = fc\n", "output p: classes = "} {
		if !strings.Contains(string(src), want) {
			t.Errorf("formatted source lacks %q:\n%s", want, src)
		}
	}
	h := load(t, strings.Replace(string(src), "weights ", "# weights ", 1))
	if len(h.ClassScores) != 2 {
		t.Errorf("round trip lost the class scores: %v", h.ClassScores)
	}
	// labels make the first output class scores, without a declaration.
	g = load(t, vec+"labels \"a\", \"b\", \"c\"\ny = x | fc: dense(3)\noutput y")
	if !g.IsClassScores(0) || len(g.ClassScores) != 0 {
		t.Errorf("labels: %v", g.ClassScores)
	}
	if got := loadErr(t, vec+"output x: class"); !strings.Contains(got, "m.dl:2:11: syntax error: want classes (output NAME: classes declares class scores), found \"class\"") {
		t.Errorf("got %s", got)
	}
}

// TestTorchOrder: calls in PyTorch's positional order (input size first)
// are recognized, and the message shows the call dlc wants.
func TestTorchOrder(t *testing.T) {
	const mnist = "input x: f32[1, 1, 28, 28]\n"
	for _, tc := range []struct{ name, src, want string }{
		{"conv2d", mnist + "y = x | conv1: conv2d(1, 6, 5, padding=2)\noutput y",
			`m.dl:2:16: conv2d conv1: conv2d(1, 6, 5, padding=2) reads like PyTorch's nn.Conv2d(in_channels, out_channels, kernel_size, ...), but dlc takes in_channels from the input (1, of x f32[1,1,28,28]): write conv1: conv2d(6, 5, padding=2) (or stride=5 by keyword, if out_channels 1, kernel 6, stride 5 is meant)
    | y = x | conv1: conv2d(1, 6, 5, padding=2)
    |                ^`},
		{"conv2d-kernel-kw", mnist + "y = x | c: conv2d(1, 6, kernel_size=5)\noutput y",
			"conv2d c: conv2d(1, 6, kernel_size=5) reads like PyTorch's nn.Conv2d(in_channels, out_channels, kernel_size, ...), but dlc takes in_channels from the input (1, of x f32[1,1,28,28]): write c: conv2d(6, kernel_size=5)"},
		{"conv_transpose2d", "input x: f32[1, 16, 4, 4]\ny = x | up: conv_transpose2d(16, 8, 4, stride=2)\noutput y",
			"conv_transpose2d up: conv_transpose2d(16, 8, 4, stride=2) reads like PyTorch's nn.ConvTranspose2d(in_channels, out_channels, kernel_size, ...), but dlc takes in_channels from the input (16, of x f32[1,16,4,4]): write up: conv_transpose2d(8, 4, stride=2)"},
		{"dense", mnist + "y = x | flatten | fc1: dense(784, 120)\noutput y",
			`m.dl:2:24: dense fc1: dense(784, 120) reads like PyTorch's nn.Linear(in_features, out_features, bias), but dlc takes in_features from the input (784, of flatten_1 f32[1,784]): write fc1: dense(120)`},
		{"dense-other-size", mnist + "y = x | flatten | fc1: dense(400, 120)\noutput y",
			"dense fc1: dense(400, 120) reads like PyTorch's nn.Linear(in_features, out_features, bias), but dlc takes in_features from the input (784, of flatten_1 f32[1,784], not 400): write fc1: dense(120)"},
		{"lstm", "input x: f32[10, 1, 32]\ny = x | enc: lstm(32, 128, num_layers=2)\noutput y",
			`m.dl:2:14: lstm enc: lstm(32, 128, num_layers=2) reads like PyTorch's nn.LSTM(input_size, hidden_size, num_layers, ...), but dlc takes input_size from the input (32, of x f32[10,1,32]): write enc: lstm(128, num_layers=2)`},
		{"lstm-other-size", "input x: f32[10, 1, 16]\ny = x | enc: lstm(32, 128, num_layers=2)\noutput y",
			"lstm enc: lstm(32, 128, num_layers=2) reads like PyTorch's nn.LSTM(input_size, hidden_size, num_layers, ...), but dlc takes input_size from the input (16, of x f32[10,1,16], not 32): write enc: lstm(128, num_layers=2)"},
		{"gru-three", "input x: f32[10, 1, 32]\ny = x | g: gru(32, 64, 2)\noutput y",
			"gru g: gru(32, 64, 2) reads like PyTorch's nn.GRU(input_size, hidden_size, num_layers, ...), but dlc takes input_size from the input (32, of x f32[10,1,32]): write g: gru(64, 2)"},
		{"lstm-many-layers", "input x: f32[10, 1, 32]\ny = x | enc: lstm(32, 64)\noutput y",
			"write enc: lstm(64) (or num_layers=64 by keyword, if 64 layers are meant)"},
		// A shape error keeps its message and gains the explanation.
		{"conv-1x1", "input x: f32[1, 16, 8, 8]\ny = x | c: conv2d(16, 16, 1)\noutput y",
			"; conv2d(16, 16, 1) reads like PyTorch's nn.Conv2d(in_channels, out_channels, kernel_size, ...), but dlc takes in_channels from the input (16, of x f32[1,16,8,8]): write c: conv2d(16, 1)"},
		// PyTorch's keywords for the input size are checked.
		{"in_channels", mnist + "y = x | c: conv2d(in_channels=3, out_channels=6, kernel_size=5)\noutput y",
			"m.dl:2:19: conv2d c: in_channels=3, but the input x f32[1,1,28,28] has 1 (dlc takes it from the input; the argument is only checked)"},
		{"in_features", "input x: f32[2, 10]\ny = x | fc: dense(in_features=12, out_features=3)\noutput y",
			"dense fc: in_features=12, but the input x f32[2,10] has 10"},
		{"input_size", "input x: f32[10, 1, 32]\ny = x | r: rnn(input_size=16, hidden_size=8)\noutput y",
			"rnn r: input_size=16, but the input x f32[10,1,32] has 32"},
		{"padding_mode", mnist + "y = x | c: conv2d(6, 3, padding=1, padding_mode=\"reflect\")\noutput y",
			`conv2d c: padding_mode "reflect" is not supported: pad first, as in x | pad([1, 1, 1, 1], mode="reflect") | conv2d(..., padding=0)`},
		{"return_indices", mnist + "y = x | maxpool2d(2, return_indices=True)\noutput y",
			"m.dl:2:22: maxpool2d maxpool2d_1: return_indices=true is not supported: maxpool2d gives the values only"},
		{"proj_size", "input x: f32[10, 1, 32]\ny = x | r: lstm(16, proj_size=8)\noutput y",
			"lstm r: proj_size=8 is not supported (an LSTM with projections): only 0"},
		{"max_norm", "input x: i64[2, 5]\ny = x | e: embedding(10, 4, max_norm=1.0)\noutput y",
			"embedding e: max_norm is not supported (it renormalizes rows at lookup)"},
		{"transpose-padding_mode", "input x: f32[1, 4, 4, 4]\ny = x | u: conv_transpose2d(2, 2, padding_mode=\"reflect\")\noutput y",
			`conv_transpose2d u: argument padding_mode: want one of zeros, got "reflect"`},
		{"inplace-type", "input x: f32[2, 10]\ny = x | relu(inplace=1)\noutput y",
			"relu relu_1: argument inplace: want bool, got int 1"},
		{"inplace-elsewhere", "input x: f32[2, 10]\ny = x | fc: dense(3, inplace=true)\noutput y",
			"dense fc: unknown argument inplace (it takes out_features, bias, in_features, init)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := loadErr(t, tc.src); !strings.Contains(got, tc.want) {
				t.Errorf("got:\n%s\nwant it to contain:\n%s", got, tc.want)
			}
		})
	}
	// Calls in dlc's order that start with the input size are left alone,
	// and PyTorch's keyword names load.
	for _, src := range []string{
		"input x: f32[1, 64, 8, 8]\ny = x | c: conv2d(64, 3, 1, 1)\noutput y",
		"input x: f32[1, 32, 8, 8]\ny = x | c: conv2d(32, 3, 2, 1)\noutput y",
		"input x: f32[1, 3, 28, 28]\ny = x | c: conv2d(3, 7, 7)\noutput y",
		"input x: f32[10, 1, 32]\ny = x | r: lstm(32, 2)\noutput y",
		mnist + "y = x | c: conv2d(in_channels=1, out_channels=6, kernel_size=5, padding=2, padding_mode=\"zeros\") | relu(inplace=True) | flatten | fc: dense(in_features=4704, out_features=10, bias=True) | dropout(p=0.5, inplace=False)\noutput y",
		"input x: f32[10, 1, 32]\ny = x | r: lstm(input_size=32, hidden_size=16, num_layers=2, proj_size=0)\noutput y",
		mnist + "y = x | maxpool2d(kernel_size=2, return_indices=False)\noutput y",
		"input x: i64[2, 5]\ny = x | e: embedding(10, 4, padding_idx=0, scale_grad_by_freq=False, sparse=False)\noutput y",
	} {
		load(t, src)
	}
}

// TestTorchOrderWeights: with the weights file, a mismatch from PyTorch's
// order names both the file's shape and the fix.
func TestTorchOrderWeights(t *testing.T) {
	dir := t.TempDir()
	writeWeights(t, dir, map[string][]int{"c.weight": {16, 16, 1, 1}, "c.bias": {16}})
	_, err := LoadFile(writeModel(t, dir, "input x: f32[1, 16, 8, 8]\nweights \"w.safetensors\"\ny = x | c: conv2d(16, 16, 1)\noutput y\n"), Options{})
	want := "net.dl:3:12: c.weight: safetensors has [16,16,1,1], layer c wants [16,16,16,16]; conv2d(16, 16, 1) reads like PyTorch's nn.Conv2d(in_channels, out_channels, kernel_size, ...), but dlc takes in_channels from the input (16, of x f32[1,16,8,8]): write c: conv2d(16, 1)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v\nwant it to contain %s", err, want)
	}
}

// TestTorchSpellings: PyTorch's names for layers lead to .dl's.
func TestTorchSpellings(t *testing.T) {
	const pre = "input x: f32[2, 3, 8, 8]\n"
	for _, tc := range []struct{ src, want string }{
		{"y = x | ReLU()", "m.dl:2:9: unknown layer ReLU: PyTorch's ReLU is relu in .dl (x | relu or relu(x))"},
		{"y = x | LeakyReLU(0.1)", "unknown layer LeakyReLU: PyTorch's LeakyReLU is leaky_relu in .dl"},
		{"y = x | AdaptiveAvgPool2d(1)", "unknown layer AdaptiveAvgPool2d: PyTorch's AdaptiveAvgPool2d is adaptive_avgpool2d in .dl"},
		{"y = x | nn.Conv2d(3, 6, 5)", "m.dl:2:9: nn.Conv2d: PyTorch's nn.Conv2d is conv2d in .dl (x | conv2d or conv2d(x))"},
		{"y = x | nn.BatchNorm2d(3)", "nn.BatchNorm2d: PyTorch's nn.BatchNorm2d is batchnorm2d in .dl"},
		{"y = F.relu(x)", "m.dl:2:5: F.relu: PyTorch's F.relu is relu in .dl (x | relu or relu(x))"},
		{"y = F.max_pool2d(x, 2)", "F.max_pool2d: PyTorch's F.max_pool2d is maxpool2d in .dl"},
		{"y = torch.amax(x, dim=1)", "torch.amax: PyTorch's torch.amax is amax in .dl"},
		{"y = x | max(dim=2)", "m.dl:2:9: unknown layer max: for PyTorch's max write amax(dim=...) for the largest value along dims (torch.amax; torch.max(x, dim) also gives indices: argmax(dim=...)), or maximum(a, b) for the larger of two tensors"},
		{"y = torch.min(x, dim=2)", "torch.min: for PyTorch's torch.min write amin(dim=...)"},
		{"y = x | nn.Sequential(relu)", "nn.Sequential: for PyTorch's nn.Sequential write seq { ... }"},
		{"y = x.mean(dim=1)", "m.dl:2:5: x.mean: a method call is a pipeline stage in .dl: x | mean"},
		{"y = x.view(2, -1)", "x.view: a method call is a pipeline stage in .dl: x | view"},
		{"y = x.contiguous()", "m.dl:2:5: x.contiguous: for PyTorch's .contiguous() write nothing: drop it (.dl tensors have no strides)"},
		{"y = x.float()", "m.dl:2:5: x.float: for PyTorch's .float() write cast(f32)"},
		{"y = x.weird()", `m.dl:2:5: layer "x.weird" must not contain '.'`},
		{"y = x | Linear(4)", "unknown layer Linear: PyTorch's Linear is linear in .dl"},
		{"y = x | relx", "unknown layer relx (did you mean relu"},
	} {
		if got := loadErr(t, pre+tc.src+"\noutput y"); !strings.Contains(got, tc.want) {
			t.Errorf("%s:\ngot  %s\nwant %s", tc.src, got, tc.want)
		}
	}
}

// TestIndexing: PyTorch's indexing and slicing give its values.
func TestIndexing(t *testing.T) {
	src := `input x: f32[2, 3, 4]
const k = 1
a = x[-1]
b = x[:, 0]
c = x[..., :3]
d = x[:, None, k:3, ::2]
e = x[0, 1, 2]
f = (x * 2)[1][-2:]
g = x[...]
output a, b, c, d, e, f, g
`
	g := load(t, src)
	in := ir.NewTensor(ir.F32, ir.Shape{2, 3, 4})
	for i := range in.F32() {
		in.F32()[i] = float32(i)
	}
	outs, err := runtime.Run(g, []*ir.Tensor{in})
	if err != nil {
		t.Fatal(err)
	}
	// Element (i, j, k) of x is 12i + 4j + k.
	want := []struct {
		shape ir.Shape
		data  []float32
	}{
		{ir.Shape{3, 4}, []float32{12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23}},
		{ir.Shape{2, 4}, []float32{0, 1, 2, 3, 12, 13, 14, 15}},
		{ir.Shape{2, 3, 3}, []float32{0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 16, 17, 18, 20, 21, 22}},
		{ir.Shape{2, 1, 2, 2}, []float32{4, 6, 8, 10, 16, 18, 20, 22}},
		{ir.Shape{}, []float32{6}},
		{ir.Shape{2, 4}, []float32{32, 34, 36, 38, 40, 42, 44, 46}},
		{ir.Shape{2, 3, 4}, in.F32()},
	}
	for i, w := range want {
		o := outs[i]
		if !o.Shape.Equal(w.shape) || fmt.Sprint(o.F32()) != fmt.Sprint(w.data) {
			t.Errorf("output %s: got %v %v, want %v %v", g.OutputNames[i], o.Shape, o.F32(), w.shape, w.data)
		}
	}
	// h[-1] of an LSTM's final state, and a tensor of indices.
	g = load(t, `input x: f32[5, 1, 8]
const idx: i64[2] = [2, 0]
y, h, c = x | enc: lstm(16, num_layers=2)
last = h[-1]
picked = x[idx, :, 1:3]
output last, picked`)
	if s := g.Outputs[0].Type.Shape; !s.Equal(ir.Shape{1, 16}) {
		t.Errorf("h[-1] is %v", s)
	}
	if s := g.Outputs[1].Type.Shape; !s.Equal(ir.Shape{2, 1, 2}) {
		t.Errorf("x[idx, :, 1:3] is %v", s)
	}
	for _, tc := range []struct{ src, want string }{
		{"y = x[2]", "m.dl:2:7: index 2 is out of range for axis 0 of x f32[2,3,4] (size 2)"},
		{"y = x[:, 1:1]", "slice 1:1 of axis 1 of x f32[2,3,4] (size 3) is empty"},
		{"y = x[::-1]", "slice step must be positive, got -1 (as in PyTorch)"},
		{"y = x[0, 0, 0, 0]", "too many indices for x f32[2,3,4]: 4 for 3 axes"},
		{"y = x[..., 0, ...]", "an index has at most one ..."},
		{`y = x["a"]`, `an index is an int, a slice (start:stop:step), ..., None or an i64 tensor, got string "a"`},
		{"y = x[1.5:]", "a slice bound is an int, got number 1.5"},
		{"y = x | relu[0]", "m.dl:2:13: syntax error: want end of line, found '[': to index a pipeline's result, put it in parentheses, (x | layer)[0], or pipe it into select(dim, index)"},
		{"y = x[,]", "syntax error: want an index, a slice (start:stop:step), ... or None, found ','"},
	} {
		if got := loadErr(t, "input x: f32[2, 3, 4]\n"+tc.src+"\noutput y"); !strings.Contains(got, tc.want) {
			t.Errorf("%s:\ngot  %s\nwant %s", tc.src, got, tc.want)
		}
	}
}

// TestTupleTargets: PyTorch's y, (h, c) = lstm(x), and _ as the
// throwaway name.
func TestTupleTargets(t *testing.T) {
	g := load(t, `input x: f32[5, 1, 8]
y, (h, c) = x | enc: lstm(16)
_, (h2, _) = y | dec: lstm(4)
out, _ = y | g: gru(3)
_ = x | relu
output y, h, c, h2, out`)
	want := []string{"enc", "enc.h", "enc.c", "dec.h", "g"}
	for i, w := range want {
		if g.Outputs[i].Name != w {
			t.Errorf("output %s is %s, want %s", g.OutputNames[i], g.Outputs[i].Name, w)
		}
	}
	for _, tc := range []struct{ src, want string }{
		{"y, (h, c) = x | g: gru(16)", "m.dl:2:1: 3 names on the left, but the right side gives 2 value(s) (g, g.h)"},
		{"(y, h), c = x | l: lstm(16)", "m.dl:2:2: lstm gives its results nested as y, (h, c), as PyTorch does, or flat: y, h, c"},
		{"(v, i) = x | t: topk(2)", "m.dl:2:2: topk's results are not nested: write the 2 names without parentheses"},
		{"_ = x | relu\ny = _ | relu", "m.dl:3:5: _ is the throwaway name: a value assigned to it is dropped, and it cannot be used"},
	} {
		if got := loadErr(t, "input x: f32[5, 1, 8]\n"+tc.src+"\noutput x"); !strings.Contains(got, tc.want) {
			t.Errorf("%s:\ngot  %s\nwant %s", tc.src, got, tc.want)
		}
	}
}

// TestSplice: *block(...) in a seq numbers the block's layers in the
// seq, as nn.Sequential(*layers) numbers a list built by a helper.
func TestSplice(t *testing.T) {
	g := load(t, `input x: f32[1, 3, 16, 16]
block cbr(x; c) {
  return x | conv2d(c, 3, padding=1) | batchnorm2d | relu
}
y = x | features: seq {
  *cbr(8)
  *cbr(8)
  maxpool2d(2)
  *repeat(2) cbr(16)
  *seq { conv2d(16, 1) | relu }
  cbr(4)
  last: relu
}
output y`)
	p := ir.Print(g)
	for _, want := range []string{
		"param features.0.weight: f32[8,3,3,3]", "features.1 = batchnorm(features.0,", "features.2 = relu(features.1)",
		"param features.3.weight: f32[8,8,3,3]", "features.6 = maxpool(features.5)",
		"param features.7.weight: f32[16,8,3,3]", "param features.10.weight: f32[16,16,3,3]", "features.12 = relu(features.11)",
		"param features.13.weight: f32[16,16,1,1]", "features.14 = relu(features.13)",
		// A block not spliced is one item, its layers nested under it.
		"param features.15.conv2d_1.weight: f32[4,16,3,3]", "features.last = relu(",
	} {
		if !strings.Contains(p, want) {
			t.Errorf("IR lacks %q:\n%s", want, p)
		}
	}
	for _, tc := range []struct{ src, want string }{
		{"y = x | s: seq { c: *cbr(8) }", "m.dl:3:21: syntax error: want a layer, found '*'"},
		{"y = x | s: seq { *c: cbr(8) }", "m.dl:3:19: a spliced item has no name of its own: its layers take the seq's numbers (drop c: or the *)"},
		{"y = x | *cbr(8)", "m.dl:3:9: syntax error: want a layer, found '*'"},
	} {
		src := "input x: f32[1, 3, 16, 16]\nblock cbr(x; c) { return x | relu }\n"
		if got := loadErr(t, src+tc.src+"\noutput y"); !strings.Contains(got, tc.want) {
			t.Errorf("%s:\ngot  %s\nwant %s", tc.src, got, tc.want)
		}
	}
}

// TestMissingWeights: every missing parameter is listed at once, each
// with the file's tensor nearest by index, and a seq shifted by a
// left-out relu says so.
func TestMissingWeights(t *testing.T) {
	dir := t.TempDir()
	ws := map[string][]int{"features.0.weight": {4, 1, 3, 3}, "features.0.bias": {4},
		"features.3.weight": {4, 4, 3, 3}, "features.3.bias": {4}, "features.6.weight": {4, 4, 3, 3}, "features.6.bias": {4}}
	for _, bn := range []string{"features.1.", "features.4.", "features.7."} {
		for _, s := range []string{"weight", "bias", "running_mean", "running_var"} {
			ws[bn+s] = []int{4}
		}
	}
	writeWeights(t, dir, ws)
	// PyTorch: conv, bn, relu, conv, bn, relu, conv, bn, relu; the .dl
	// leaves out the first relu.
	src := `input x: f32[1, 1, 8, 8]
weights "w.safetensors"
y = x | features: seq {
  conv2d(4, 3, padding=1)
  batchnorm2d
  conv2d(4, 3, padding=1)
  batchnorm2d
  relu
}
output y
`
	_, err := LoadFile(writeModel(t, dir, src), Options{})
	if err == nil {
		t.Fatal("no error")
	}
	got := strings.ReplaceAll(err.Error(), dir+"/", "")
	want := `net.dl:7:3: features.3.weight: safetensors has [4,4,3,3], layer features.3 wants [4] (features.4.weight in the file has that shape: is a layer missing or extra before features.3?)
    |   batchnorm2d
    |   ^
net.dl:6:3: conv2d features.2: 2 parameters are not in w.safetensors: features.2.weight (did you mean features.3.weight?), features.2.bias (did you mean features.3.bias?); the file's numbers under features are 1 higher: is there a layer missing before features.2? (nn.Sequential numbers every item, relu and pooling included)
    |   conv2d(4, 3, padding=1)
    |   ^`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	// Missing parameters of several statements are listed in one error.
	_, err = LoadFile(writeModel(t, dir, `input x: f32[2, 4]
weights "w.safetensors"
a = x | fc1: dense(3)
b = a | fc2: dense(2)
output b
`), Options{})
	if err == nil || !strings.Contains(err.Error(), "net.dl:3:14: dense fc1: 4 parameters are not in w.safetensors: fc1.weight, fc1.bias, fc2.weight, fc2.bias\n") {
		t.Errorf("got %v", err)
	}
}

// TestPyTorchTable: docs/language.md's "Coming from PyTorch: layer by
// layer" table has every layer and alias in its .dl column.
func TestPyTorchTable(t *testing.T) {
	b, err := os.ReadFile("../../docs/language.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i := strings.Index(doc, "## Coming from PyTorch: layer by layer")
	if i < 0 {
		t.Fatal("docs/language.md has no Coming from PyTorch: layer by layer section")
	}
	doc = doc[i+3:]
	doc = doc[:strings.Index(doc, "\n## ")]
	words := map[string]bool{}
	for _, line := range strings.Split(doc, "\n") {
		cols := strings.Split(strings.ReplaceAll(line, `\|`, ""), "|")
		if len(cols) < 4 {
			continue
		}
		for _, w := range strings.FieldsFunc(cols[2], func(r rune) bool {
			return !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
		}) {
			words[w] = true
		}
	}
	var names []string
	for n := range layerTable {
		names = append(names, n)
	}
	for n := range aliases {
		names = append(names, n)
	}
	for _, n := range names {
		if !words[n] {
			t.Errorf("layer %s has no row in the Coming from PyTorch table", n)
		}
	}
}

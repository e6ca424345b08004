package dl

import (
	"sort"
	"strconv"
	"strings"
)

// PyTorch spellings of layers: nn.Conv2d, F.relu, torch.amax, ReLU(),
// max(dim=2). Each is met with the .dl name to write.

// torchPrefixes are the module paths a PyTorch call is written with.
var torchPrefixes = []string{"torch.nn.functional.", "torch.nn.", "nn.functional.", "nn.", "F.", "torch.", "Tensor."}

// torchOnly maps PyTorch names without a .dl layer of the same (or
// normalized) name to what to write instead.
var torchOnly = map[string]string{
	"max":          "amax(dim=...) for the largest value along dims (torch.amax; torch.max(x, dim) also gives indices: argmax(dim=...)), or maximum(a, b) for the larger of two tensors",
	"min":          "amin(dim=...) for the smallest value along dims (torch.amin; torch.min(x, dim) also gives indices: argmin(dim=...)), or minimum(a, b) for the smaller of two tensors",
	"sequential":   "seq { ... } (nn.Sequential: one layer per line, numbered from 0)",
	"modulelist":   "a block, repeat(n) block(...), or seq { ... } (items numbered like nn.ModuleList)",
	"mm":           "matmul(a, b)",
	"bmm":          "matmul(a, b)",
	"maskedfill":   "where(mask, value_tensor, x)",
	"stack":        "concat of the tensors each unsqueezed: concat(unsqueeze(a, 0), unsqueeze(b, 0), dim=0)",
	"contiguous":   "nothing: drop it (.dl tensors have no strides)",
	"size":         "nothing: shapes are static; dlc check prints them",
	"clampmin":     "clip(min=...)",
	"clampmax":     "clip(max=...)",
	"float":        "cast(f32)",
	"double":       "cast(f64)",
	"half":         "cast(f16)",
	"long":         "cast(i64)",
	"int":          "cast(i32)",
	"to":           "cast(DTYPE), as cast(f32) or cast(i64)",
	"batchnorm":    "batchnorm1d, batchnorm2d or batchnorm3d",
	"instancenorm": "instancenorm1d, instancenorm2d or instancenorm3d",
}

// normName is a name lower-cased without underscores: LeakyReLU and
// leaky_relu, AdaptiveAvgPool2d and adaptive_avgpool2d meet there.
func normName(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "")) }

// torchSpelling returns the .dl for a PyTorch spelling of a layer (with
// or without nn., F., torch.), or "" when it is none.
func torchSpelling(name string, blocks map[string]*blockStmt) string {
	bare := name
	for _, p := range torchPrefixes {
		if strings.HasPrefix(bare, p) {
			bare = bare[len(p):]
			break
		}
	}
	if strings.Contains(bare, ".") {
		return ""
	}
	if bare != name && (lookupLayer(bare) != nil || blocks[bare] != nil) {
		return bare
	}
	n := normName(bare)
	var names []string
	for k := range layerTable {
		names = append(names, k)
	}
	for k := range aliases {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if normName(k) == n && k != name {
			return k
		}
	}
	return torchOnly[n]
}

// torchHint is the message for an unknown layer written as PyTorch
// spells it, or "".
func torchHint(name string, blocks map[string]*blockStmt) string {
	dl := torchSpelling(name, blocks)
	if dl == "" {
		return ""
	}
	if lookupLayer(dl) != nil || blocks[dl] != nil {
		return "PyTorch's " + name + " is " + dl + " in .dl (x | " + dl + " or " + dl + "(x))"
	}
	return "for PyTorch's " + name + " write " + dl
}

// dottedHint explains a dotted name used as a layer: a PyTorch module
// path (nn.Conv2d, F.relu) or a method call (x.mean).
func dottedHint(name string) string {
	if h := torchHint(name, nil); h != "" {
		return name + ": " + h
	}
	i := strings.LastIndex(name, ".")
	m := name[i+1:]
	if lookupLayer(m) == nil {
		if dl := torchSpelling(m, nil); dl != "" && lookupLayer(dl) == nil {
			return name + ": for PyTorch's ." + m + "() write " + dl
		} else if dl != "" {
			m = dl
		}
	}
	if lookupLayer(m) != nil {
		return name + ": a method call is a pipeline stage in .dl: " + name[:i] + " | " + m
	}
	return "layer " + strconv.Quote(name) + " must not contain '.'"
}

package onnx

import (
	"strings"
	"testing"
)

// TestNewerOpsets checks opsets above checkedOpset: a model at opset 28
// whose ops have no newer version imports; an op version there that
// changes semantics is refused by name; opsets beyond maxOpset are
// refused.
func TestNewerOpsets(t *testing.T) {
	model := func(opset int64) []byte {
		return modelProto(opset, graphSpec{
			inputs:  []pb{vinfo("X", dtFloat, 2, 3)},
			outputs: []pb{vinfo("Y", dtFloat)},
			nodes:   []pb{nodeProto("Relu", "r", []string{"X"}, []string{"Y"})},
		})
	}
	for opset := int64(26); opset <= maxOpset; opset++ {
		g := mustImport(t, model(opset))
		near(t, run1(t, g, f32t([]int{2, 3}, []float32{-1, 2, -3, 4, -5, 6})), []float32{0, 2, 0, 4, 0, 6})
	}
	if _, err := Import("m.onnx", model(maxOpset+1), ""); err == nil || !strings.Contains(err.Error(), "outside the supported range 7..28") {
		t.Errorf("opset %d: got %v, want a refusal naming the range", maxOpset+1, err)
	}
	old := newerVersions["Relu"]
	defer func() { newerVersions["Relu"] = old }()
	newerVersions["Relu"] = []opVersion{{27, false, "a made-up change"}}
	if _, err := Import("m.onnx", model(26), ""); err != nil {
		t.Errorf("opset 26, before the change: %v", err)
	}
	_, err := Import("m.onnx", model(27), "")
	if err == nil || !strings.Contains(err.Error(), "Relu-27 (a made-up change) is not supported; dlc implements its versions up to opset 26") {
		t.Errorf("opset 27: got %v, want Relu-27 refused", err)
	}
	newerVersions["Relu"] = []opVersion{{27, true, "adds types"}}
	if _, err := Import("m.onnx", model(27), ""); err != nil {
		t.Errorf("opset 27, a types-only version: %v", err)
	}
}

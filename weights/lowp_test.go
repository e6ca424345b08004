package weights

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/ir"
)

// TestLowPrecision: safetensors keeps the float8 dtypes it has by their
// bits; the other low-precision dtypes, and every one in .npy, are
// refused by name.
func TestLowPrecision(t *testing.T) {
	for _, dt := range ir.DTypes() {
		if !ir.LowPrecision.Has(dt) {
			continue
		}
		x := ir.NewTensor(dt, ir.Shape{2, 2})
		for i := range 4 {
			x.SetFloat(i, float64(i)-1.5)
		}
		info, _ := dt.Info()
		data, err := EncodeSafetensors(map[string]*Tensor{"w": x}, nil)
		switch {
		case info.Safetensors == "" && (err == nil || !strings.Contains(err.Error(), "safetensors has no "+dt.String())):
			t.Errorf("%v: safetensors encode: %v, want a refusal", dt, err)
		case info.Safetensors != "" && err != nil:
			t.Errorf("%v: %v", dt, err)
		case info.Safetensors != "":
			f, err := ParseSafetensors(data, "m")
			if err != nil {
				t.Fatalf("%v: %v", dt, err)
			}
			got := f.Tensors["w"]
			if got == nil || got.DType != dt || fmt.Sprint(got.Data) != fmt.Sprint(x.Data) {
				t.Errorf("%v: read back %v", dt, got)
			}
		}
		if _, err := EncodeNpy(x); err == nil || !strings.Contains(err.Error(), dt.String()) {
			t.Errorf("%v: npy encode: %v, want a refusal naming the dtype", dt, err)
		}
	}
}

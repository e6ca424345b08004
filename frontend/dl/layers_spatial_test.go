package dl

import (
	"strings"
	"testing"

	"github.com/dlcompiler/dlc/ir"
)

// The spatial layers' cases: PyTorch's arguments become the attributes
// the runtime fixtures (gen_fixtures.py: conv_transpose_case,
// resize_case) check against PyTorch.
func init() {
	layerCases = append(layerCases, []struct {
		name, src string
		want      []string
	}{
		{"conv_transpose2d", img + "y = x | up: conv_transpose2d(4, 3, stride=2, padding=1, output_padding=1)\noutput y", []string{
			"param up.weight: f32[3,4,3,3] init=he", "param up.bias: f32[4] init=zeros",
			`conv_transpose(x, up.weight, up.bias) {dilations=[1,1] groups=1 output_padding=[1,1] pads=[1,1,1,1] strides=[2,2]}: f32[2,4,16,16]`}},
		{"conv_transpose1d", sig + "y = x | up: conv_transpose1d(6, 4, stride=3, groups=3, bias=false, dilation=2, in_channels=3)\noutput y", []string{
			"param up.weight: f32[3,2,4] init=he",
			`conv_transpose(x, up.weight) {dilations=[2] groups=3 output_padding=[0] pads=[0,0] strides=[3]}: f32[2,6,52]`}},
		{"conv_transpose3d", vol + "y = x | up: conv_transpose3d(2, [2, 1, 3], pads=[0, 0, 1, 0, 0, 1])\noutput y", []string{
			"param up.weight: f32[2,2,2,1,3] init=he", `pads=[0,0,1,0,0,1]`, `: f32[1,2,5,4,4]`}},
		{"upsample", img + "y = x | upsample(scale_factor=2)\nz = x | interpolate(size=(5, 12), mode=\"bilinear\", align_corners=true)\noutput y\noutput z", []string{
			`resize(x) {antialias=false coordinate_transformation_mode="asymmetric" cubic_coeff_a=-0.75 exclude_outside=false extrapolation_value=0 mode="nearest" nearest_mode="floor" roi=[] scales=[1,1,2,2] sizes=[2,3,16,16]}: f32[2,3,16,16]`,
			`coordinate_transformation_mode="align_corners"`, `scales=[1,1,0.625,1.5] sizes=[2,3,5,12]}: f32[2,3,5,12]`}},
		{"resize", img + "y = x | resize(sizes=[2, 3, 4, 9], mode=\"cubic\", exclude_outside=true)\noutput y", []string{
			`exclude_outside=true`, `mode="cubic"`, `scales=[1,1,0.5,1.125] sizes=[2,3,4,9]}: f32[2,3,4,9]`}},
	}...)
}

func TestUpsampleModes(t *testing.T) {
	for _, tc := range []struct{ call, want string }{
		{`upsample(scale_factor=[1.5, 0.5], mode="bilinear")`, `coordinate_transformation_mode="pytorch_half_pixel"`},
		{`upsample(size=6, mode="nearest-exact")`, `coordinate_transformation_mode="half_pixel"`},
		{`upsample(size=6, mode="nearest-exact")`, `nearest_mode="round_prefer_ceil"`},
		{`upsample(size=[4, 4], mode="bicubic", antialias=true)`, `cubic_coeff_a=-0.5 exclude_outside=true`},
		{`upsample(scale_factor=1.5, mode="bilinear", recompute_scale_factor=true)`, `scales=[1,1,1.5,1.5] sizes=[2,3,12,12]`},
		{`upsample(scale_factor=1.7)`, `scales=[1,1,1.7,1.7] sizes=[2,3,13,13]`},
	} {
		g := load(t, img+"y = x | "+tc.call+"\noutput y")
		if p := ir.Print(g); !strings.Contains(p, tc.want) {
			t.Errorf("%s: printed IR lacks %q:\n%s", tc.call, tc.want, p)
		}
	}
}

func TestSpatialLayerErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{img + "y = x | conv_transpose2d(4, 3, stride=2, output_padding=2)\noutput y", "output_padding [2,2] must be smaller than stride [2,2] or dilation [1,1] (as in PyTorch)"},
		{img + "y = x | conv_transpose2d(4, 3, in_channels=5)\noutput y", "in_channels=5, but the input x f32[2,3,8,8] has 3 channels"},
		{img + "y = x | conv_transpose2d(4, 3, groups=2)\noutput y", "groups 2 must divide the input channels 3"},
		{sig + "y = x | conv_transpose2d(4, 3)\noutput y", "wants input of rank 4"},
		{img + "y = x | upsample(scale_factor=2, size=4)\noutput y", "give exactly one of size and scale_factor"},
		{img + "y = x | upsample()\noutput y", "give exactly one of size and scale_factor"},
		{img + "y = x | upsample(scale_factor=2, mode=\"linear\")\noutput y", `mode "linear" wants input of rank 3`},
		{img + "y = x | upsample(scale_factor=2, align_corners=true)\noutput y", "align_corners is only for linear"},
		{img + "y = x | upsample(scale_factor=0.01)\noutput y", "makes spatial axis 0 of x f32[2,3,8,8] empty"},
		{img + "y = x | upsample(scale_factor=[2, 2, 2])\noutput y", "scale_factor has 3 values, want 1 or 2"},
		{img + "y = x | upsample(scale_factor=2, mode=\"area\")\noutput y", "want one of nearest"},
		{img + "y = x | resize(sizes=[2, 3, 4])\noutput y", "sizes [2,3,4] has 3 values, input x [2,3,8,8] has rank 4"},
	} {
		_, err := Load("m.dl", []byte(tc.src), Options{NoWeights: true})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.src, err, tc.want)
		} else if !strings.Contains(err.Error(), "m.dl:2:") {
			t.Errorf("error names no position: %v", err)
		}
	}
}

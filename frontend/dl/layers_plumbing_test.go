package dl

import (
	"strings"
	"testing"
)

// The plumbing layers' cases: PyTorch's arguments become the attributes
// the runtime fixtures (gen_fixtures.py: pad_case, plumbing) check
// against PyTorch.
func init() {
	layerCases = append(layerCases, []struct {
		name, src string
		want      []string
	}{
		{"pad", img + "y = x | pad([1, 2, 0, 3], value=1.5)\nz = x | pad([2, 1], mode=\"reflect\")\nw = x | pad([1, 1, 2, 2], mode=\"replicate\")\nv = x | pad([-1, 2, 1, 0, 0, 1], mode=\"constant\")\nu = x | pad([8, 0], mode=\"circular\")\noutput y\noutput z\noutput w\noutput v\noutput u", []string{
			`pad(x) {mode="constant" pads=[0,0,0,1,0,0,3,2] value=1.5}: f32[2,3,11,11]`,
			`pad(x) {mode="reflect" pads=[0,0,0,2,0,0,0,1] value=0}: f32[2,3,8,11]`,
			`{mode="edge" pads=[0,0,2,1,0,0,2,1] value=0}: f32[2,3,12,10]`,
			`{mode="constant" pads=[0,0,1,-1,0,1,0,2] value=0}: f32[2,4,9,9]`,
			`{mode="wrap" pads=[0,0,0,8,0,0,0,0] value=0}: f32[2,3,8,16]`}},
		{"tril", img + "y = x | tril\nz = x | triu(diagonal=-2)\noutput y\noutput z", []string{
			`trilu(x) {k=0 upper=false}: f32[2,3,8,8]`, `trilu(x) {k=-2 upper=true}: f32[2,3,8,8]`}},
		{"expand", "input x: f32[3, 1]\ny = x | expand(2, -1, 4)\noutput y", []string{`expand(x) {shape=[2,3,4]}: f32[2,3,4]`}},
		{"adaptive_avgpool2d", img + "y = x | adaptive_avgpool2d((3, 5))\noutput y\n" + "input s: f32[2, 3, 10]\nz = s | adaptive_avgpool1d(4)\noutput z", []string{
			`adaptive_avgpool(x) {output_size=[3,5]}: f32[2,3,3,5]`}},
	}...)
}

func TestPlumbingLayerErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{img + "y = x | pad([1, 2, 3])\noutput y", "pad has 3 values; want (begin, end) pairs"},
		{img + "y = x | pad([8, 0], mode=\"reflect\")\noutput y", "reflect padding 8 of axis 3 must be smaller than its size 8"},
		{img + "y = x | pad([9, 0], mode=\"circular\")\noutput y", "circular padding 9 of axis 3 must be at most its size 8"},
		{img + "y = x | pad([-1, 0], mode=\"replicate\")\noutput y", "mode replicate cannot crop"},
		{img + "y = x | pad([1, 0], mode=\"reflect\", value=2)\noutput y", "value is only for mode constant"},
		{img + "y = x | pad([1, 0], mode=\"zeros\")\noutput y", "want one of constant, reflect, replicate, circular"},
		{img + "y = x | pad([-5, -5])\noutput y", "pads [0,0,0,-5,0,0,0,-5] remove all of axis 3"},
		{"input x: f32[4]\ny = x | tril\noutput y", "wants input with at least 2 axes"},
		{"input x: f32[3, 2]\ny = x | expand(3, 4)\noutput y", "cannot expand axis 1 of size 2 (of x f32[3,2]) to 4"},
		{"input x: f32[3, 2]\ny = x | expand(2)\noutput y", "size has 1 values, fewer than the 2 axes"},
		{"input x: f32[3, 2]\ny = x | expand(-1, 3, 2)\noutput y", "a new one (in front) needs a size"},
		{img + "y = x | adaptive_avgpool2d((3, 0))\noutput y", "output_size"},
		{img + "y = x | adaptive_maxpool2d((3, 3))\noutput y", "only output_size=1 is supported"},
	} {
		_, err := Load("m.dl", []byte(tc.src), Options{NoWeights: true})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.src, err, tc.want)
		} else if !strings.Contains(err.Error(), "m.dl:2:") {
			t.Errorf("error names no position: %v", err)
		}
	}
}

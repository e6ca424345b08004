package runtime

import (
	"fmt"
	"math"
	"slices"

	"github.com/dlcompiler/dlc/ir"
)

// Detection ops (ir/ops_detect.go).

func init() { register("nms", nms) }

// nms follows ONNX's reference (and onnxruntime): per batch and class,
// the candidates (score above the threshold when it is used; a NaN score
// never) in falling score order, ties by rising box index; a candidate is
// kept unless its IoU with a kept box of its class exceeds iou_threshold,
// until max_per_class are kept. IoU is computed in float32 as there.
func nms(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	boxes, scores := in[0].F32(), in[1].F32()
	B, S, C := in[0].Shape[0], in[0].Shape[1], in[1].Shape[1]
	a := n.Attrs
	maxOut, iou := a.Int("max_per_class"), float32(a.Float("iou_threshold"))
	thr, useThr, center := float32(a.Float("score_threshold")), a.Bool("use_score_threshold"), a.Bool("center_point_box")
	sel := ir.NewTensor(ir.I64, n.Outputs[0].Type.Shape)
	out := sel.I64()
	for i := range out {
		out[i] = -1
	}
	count := 0
	var cand, kept []int
	for b := range B {
		bx := boxes[b*S*4 : (b+1)*S*4]
		for c := range C {
			sc := scores[(b*C+c)*S : (b*C+c+1)*S]
			cand = cand[:0]
			for i, s := range sc {
				if s == s && (!useThr || s > thr) {
					cand = append(cand, i)
				}
			}
			slices.SortFunc(cand, func(i, j int) int {
				switch {
				case sc[i] > sc[j]:
					return -1
				case sc[i] < sc[j]:
					return 1
				}
				return i - j
			})
			kept = kept[:0]
			for _, i := range cand {
				if len(kept) >= maxOut {
					break
				}
				keep := true
				for _, j := range kept {
					if ir.NMSSuppress(bx[i*4:i*4+4], bx[j*4:j*4+4], center, iou) {
						keep = false
						break
					}
				}
				if keep {
					kept = append(kept, i)
					out[count*3], out[count*3+1], out[count*3+2] = int64(b), int64(c), int64(i)
					count++
				}
			}
		}
	}
	cnt := ir.NewTensor(ir.I64, ir.Shape{})
	cnt.I64()[0] = int64(count)
	return []*ir.Tensor{sel, cnt}, nil
}

func init() { register("roi_align", roiAlign) }

// roiAlign pools each region over ir.RoiAlignSamples: avg sums every
// sample's four weighted taps in float64 and divides by the per-bin
// count; max keeps the largest weighted tap, as onnxruntime does. A batch
// index outside [0, N) fails.
func roiAlign(n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x, rois, bi := in[0], in[1].F32(), in[2]
	xs := x.F32()
	N, C, H, W := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	y := newF32(n.Outputs[0].Type.Shape)
	ys := y.F32()
	bins := y.Shape[2] * y.Shape[3]
	max := n.Attrs.String("mode") == "max"
	for r := range y.Shape[0] {
		b := bi.Int(r)
		if b < 0 || b >= int64(N) {
			return nil, fmt.Errorf("batch index %d of region %d is out of range [0, %d)", b, r, N)
		}
		samples, count := ir.RoiAlignSamples(n, rois[r*4:r*4+4], H, W)
		if count == 0 {
			return nil, fmt.Errorf("region %d %v needs more than %d samples", r, rois[r*4:r*4+4], ir.MaxRoiSamples)
		}
		per := len(samples) / bins
		for c := range C {
			plane := xs[(int(b)*C+c)*H*W:]
			for p := range bins {
				acc := 0.0
				for q, s := range samples[p*per : (p+1)*per] {
					if max {
						v := s.W[0] * float64(plane[s.Off[0]])
						for t := 1; t < 4; t++ {
							v = math.Max(v, s.W[t]*float64(plane[s.Off[t]]))
						}
						if q == 0 || v > acc {
							acc = v
						}
						continue
					}
					acc += s.W[0]*float64(plane[s.Off[0]]) + s.W[1]*float64(plane[s.Off[1]]) + s.W[2]*float64(plane[s.Off[2]]) + s.W[3]*float64(plane[s.Off[3]])
				}
				if !max {
					acc /= float64(count)
				}
				ys[(r*C+c)*bins+p] = float32(acc)
			}
		}
	}
	return one(y)
}

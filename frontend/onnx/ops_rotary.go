package onnx

import (
	"fmt"

	"github.com/dlcompiler/dlc/ir"
)

// RotaryEmbedding (opset 23) onto ir rotary_embedding: with position_ids
// the cos and sin rows are first gathered from the caches (a gather of
// the ids, checked at run time); f16 and bf16 compute in f32.

func init() {
	opTable["RotaryEmbedding"] = opConv{3, nil, viaF32(rotaryEmbedding, ir.SetOf(ir.F16, ir.BF16))}
}

func rotaryEmbedding(c *nctx) error {
	attrs := ir.Attrs{}
	for onnxName, irName := range map[string]string{"interleaved": "interleaved", "rotary_embedding_dim": "rotary_dim", "num_heads": "num_heads"} {
		v, err := c.int(onnxName, 0)
		if err != nil {
			return err
		}
		if irName == "interleaved" {
			attrs[irName] = v != 0
		} else {
			attrs[irName] = v
		}
	}
	cs, sn := c.in(1), c.in(2)
	if ids := c.in(3); ids != nil {
		if len(cs.shape()) != 2 || len(sn.shape()) != 2 {
			return fmt.Errorf("with position_ids, cos_cache %v and sin_cache %v must be [positions, rotary_dim/2]", cs.shape(), sn.shape())
		}
		var err error
		if cs, err = c.gather(cs, ids, 0, "cos"); err != nil {
			return err
		}
		if sn, err = c.gather(sn, ids, 0, "sin"); err != nil {
			return err
		}
	}
	y, err := c.emit1("rotary_embedding", "", []*val{c.in(0), cs, sn}, attrs)
	if err != nil {
		return err
	}
	c.set(0, y)
	return nil
}

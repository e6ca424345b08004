#!/usr/bin/python3
"""Generate PyTorch reference fixtures for dlc's quantization ops and
bitcast (ir/ops_quant.go): runtime/testdata/fixtures/q_<case>.safetensors,
in gen_fixtures.py's format. Run with the system Python (torch 1.13):

    /usr/bin/python3 runtime/testdata/gen_quant_fixtures.py

torch's quantizers multiply by 1/scale where ONNX divides by the scale,
so the scales here are powers of two, on which the two agree; ops torch
lacks in this form (dynamic_quantize, requant) are ONNX's formulas
written in torch's float32 and float64 arithmetic.
"""

import os

import torch
import torch.nn.functional as F

import gen_fixtures as g


def quant():
    r = g.Rand("q_quantize_u8")
    x = g.with_special(r.randn(3, 5) * 4, 0.0625 * 2.5, -0.0625 * 3.5, 1000.0)  # ties and saturation
    x = torch.nan_to_num(x, nan=0.0, posinf=1e4, neginf=-1e4)
    q = torch.quantize_per_tensor(x, 0.0625, 100, torch.quint8)
    g.case("q_quantize_u8", "quantize", [("x", x), ("scale", torch.tensor(0.0625)), ("zero_point", torch.tensor(100, dtype=torch.uint8))],
           [("y", q.int_repr())], {"to": "u8"})
    g.case("q_dequantize_u8", "dequantize", [("x", q.int_repr()), ("scale", torch.tensor(0.0625)), ("zero_point", torch.tensor(100, dtype=torch.uint8))],
           [("y", q.dequantize())], {"to": "f32"})
    r = g.Rand("q_quantize_i8_axis")
    x = r.randn(2, 3, 4) * 3
    s = torch.tensor([0.25, 0.03125, 0.5])
    z = torch.tensor([-3, 0, 7], dtype=torch.int8)
    q = torch.quantize_per_channel(x, s.double(), z.long(), 1, torch.qint8)
    g.case("q_quantize_i8_axis", "quantize", [("x", x), ("scale", s), ("zero_point", z)], [("y", q.int_repr())], {"to": "i8", "axis": 1})
    g.case("q_dequantize_i8_axis", "dequantize", [("x", q.int_repr()), ("scale", s), ("zero_point", z)], [("y", q.dequantize())], {"to": "f32", "axis": 1})


def dynamic():
    r = g.Rand("q_dynamic_quantize")
    x = r.randn(4, 6) * 2
    mx, mn = torch.clamp(x.max(), min=0), torch.clamp(x.min(), max=0)
    scale = (mx - mn) / torch.tensor(255.0)
    zp = torch.round(torch.clamp(torch.tensor(0.0) - mn / scale, 0, 255))
    y = torch.clamp(torch.round(x / scale) + zp, 0, 255).to(torch.uint8)
    g.case("q_dynamic_quantize", "dynamic_quantize", [("x", x)],
           [("y", y), ("scale", scale.reshape(())), ("zero_point", zp.to(torch.uint8).reshape(()))])


def products():
    r = g.Rand("q_matmul_integer")
    a = r.ints(0, 256, 2, 3, 5).to(torch.uint8)
    b = r.ints(-128, 128, 5, 4).to(torch.int8)
    az = torch.tensor([3, 120, 255], dtype=torch.uint8)
    bz = torch.tensor(-7, dtype=torch.int8)
    y = torch.matmul(a.long() - az.long().reshape(3, 1), b.long() - bz.long()).to(torch.int32)
    g.case("q_matmul_integer", "matmul_integer", [("a", a), ("b", b), ("a_zero_point", az), ("b_zero_point", bz)], [("y", y)])
    r = g.Rand("q_conv_integer")
    x = r.ints(0, 256, 1, 4, 5, 6).to(torch.uint8)
    w = r.ints(-128, 128, 6, 2, 3, 3).to(torch.int8)
    xz = torch.tensor(128, dtype=torch.uint8)
    wz = r.ints(-5, 5, 6).to(torch.int8)
    # zero padding of x - x_zero_point, exact in float64
    y = F.conv2d(x.double() - 128, w.double() - wz.double().reshape(6, 1, 1, 1), stride=(1, 2), padding=1, dilation=(2, 1), groups=2)
    g.case("q_conv_integer", "conv_integer", [("x", x), ("weight", w), ("x_zero_point", xz), ("w_zero_point", wz)], [("y", y.to(torch.int32))],
           {"strides": [1, 2], "pads": [1, 1, 1, 1], "dilations": [2, 1], "groups": 2})
    r = g.Rand("q_requant")
    acc = r.ints(-40000, 40000, 2, 3, 4).to(torch.int32)
    a_s, b_s, y_s = torch.tensor(0.02), torch.tensor([0.5, 0.013, 0.07]), torch.tensor(0.3)
    mult = (a_s * b_s) / y_s  # float32, as ONNX's reference
    y = torch.clamp(torch.round(acc.double() * mult.double().reshape(1, 3, 1) + 5), -128, 127).to(torch.int8)
    g.case("q_requant", "requant", [("acc", acc), ("a_scale", a_s), ("b_scale", b_s), ("y_scale", y_s), ("y_zero_point", torch.tensor(5, dtype=torch.int8))],
           [("y", y)], {"to": "i8", "axis": 1})


def bitcast():
    r = g.Rand("q_bitcast")
    x = g.with_special(r.randn(7))
    g.case("q_bitcast", "bitcast", [("x", x)], [("y", x.view(torch.int32))], {"to": "i32"})
    h = r.randn(6).to(torch.float16)
    g.case("q_bitcast_f16", "bitcast", [("x", h)], [("y", h.view(torch.int16))], {"to": "i16"})


def main():
    torch.set_grad_enabled(False)
    torch.set_num_threads(1)
    quant()
    dynamic()
    products()
    bitcast()
    os.makedirs(g.OUT, exist_ok=True)
    for name, tensors, meta in g.CASES:
        assert name.startswith("q_"), name
        g.write_safetensors(os.path.join(g.OUT, name + ".safetensors"), tensors, meta)
    print("wrote %d cases to %s" % (len(g.CASES), g.OUT))


if __name__ == "__main__":
    main()

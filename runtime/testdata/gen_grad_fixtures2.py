"""Backward cases of the rules added in session 5 (gather.go, plumbing.go,
reduce.go, norm2.go, loss.go, spatial.go and rnn.go of passes/autodiff),
recorded through gen_grad_fixtures.back; run by gen_grad_fixtures.py."""

import torch
import torch.nn.functional as F

import gen_fixtures as gf


def idx(*vals, shape):
    return torch.tensor(vals, dtype=torch.int64).reshape(shape)


def indexing(back):
    r = gf.Rand("indexing")
    back("gather_axis1", "gather", [("data", r.randn(2, 5, 3)), ("indices", idx(1, -1, 1, 0, shape=(2, 2)))],
         lambda x, i: x[:, i], {"axis": 1})
    back("gather_select", "gather", [("data", r.randn(3, 2, 4)), ("indices", idx(-1, shape=()))],
         lambda x, i: x[i], {"axis": 0})
    back("gather_elements", "gather_elements", [("data", r.randn(2, 3)), ("indices", idx(0, 2, 2, 1, 1, 1, 0, 0, shape=(2, 4)))],
         lambda x, i: torch.gather(x, 1, i), {"axis": 1})
    back("gather_nd", "gather_nd", [("data", r.randn(3, 2, 2)), ("indices", idx(0, 1, 2, 0, 0, 1, shape=(3, 2)))],
         lambda x, i: x[i[:, 0], i[:, 1]])
    back("gather_nd_batch", "gather_nd", [("data", r.randn(2, 3, 4)), ("indices", idx(2, 0, 1, 1, shape=(2, 2, 1)))],
         lambda x, i: x[torch.arange(2)[:, None], i[..., 0]], {"batch_dims": 1})
    back("matmul_vec_mat", "matmul", [("a", r.randn(4)), ("b", r.randn(2, 4, 3))], torch.matmul)
    back("matmul_mat_vec", "matmul", [("a", r.randn(2, 3, 4)), ("b", r.randn(4))], torch.matmul)
    back("matmul_vec_vec", "matmul", [("a", r.randn(4)), ("b", r.randn(4))], torch.matmul)
    i2 = idx(1, 0, 2, 0, 2, 1, shape=(2, 3))
    back("scatter_elements", "scatter_elements", [("data", r.randn(3, 3)), ("indices", i2), ("updates", r.randn(2, 3))],
         lambda x, i, u: x.scatter(0, i, u), {"axis": 0})
    back("scatter_elements_add", "scatter_elements", [("data", r.randn(3, 3)), ("indices", idx(1, 1, 2, 1, 2, 2, shape=(2, 3))), ("updates", r.randn(2, 3))],
         lambda x, i, u: x.scatter_add(0, i, u), {"axis": 0, "reduction": "add"})

    back("scatter_elements_max", "scatter_elements", [("data", r.randn(3, 3)), ("indices", idx(1, 0, 2, 0, 2, 1, 1, 1, 2, 0, 0, 0, shape=(4, 3))), ("updates", r.randn(4, 3))],
         lambda x, i, u: x.scatter_reduce(0, i, u, "amax"), {"axis": 0, "reduction": "max"})
    back("scatter_elements_min", "scatter_elements", [("data", r.randn(3, 3)), ("indices", idx(1, 0, 2, 0, 2, 1, shape=(2, 3))), ("updates", r.randn(2, 3))],
         lambda x, i, u: x.scatter_reduce(0, i, u, "amin"), {"axis": 0, "reduction": "min"})

    def put(acc):
        def f(x, i, u):
            return x.index_put((i[:, 0],), u, accumulate=acc)
        return f
    back("scatter_nd", "scatter_nd", [("data", r.randn(4, 3)), ("indices", idx(3, 1, shape=(2, 1))), ("updates", r.randn(2, 3))], put(False))
    back("scatter_nd_add", "scatter_nd", [("data", r.randn(4, 3)), ("indices", idx(1, 1, shape=(2, 1))), ("updates", r.randn(2, 3))],
         put(True), {"reduction": "add"})
    back("one_hot", "one_hot", [("indices", idx(0, 3, 1, 1, 2, 2, shape=(2, 3))), ("values", r.randn(2))],
         lambda i, v: v[0] + (v[1] - v[0]) * F.one_hot(i, 4).float(), {"depth": 4, "axis": -1})
    back("topk", "topk", [("x", r.randn(2, 5, 3))], lambda x: torch.topk(x, 2, dim=1).values, {"k": 2, "axis": 1})


def plumbing(back):
    r = gf.Rand("plumbing")
    back("expand", "expand", [("x", r.randn(3, 1))], lambda x: x.expand(2, 1, 3, 4), {"shape": [2, 1, 3, 4]})
    cond = r.rand(2, 1, 3) < 0.5
    back("where", "where", [("condition", cond), ("a", r.randn(2, 4, 3)), ("b", r.randn(4, 1))], torch.where)
    back("trilu", "trilu", [("x", r.randn(2, 3, 4))], lambda x: torch.triu(x, -1), {"upper": True, "k": -1})
    pads = [0, 2, -1, 1, -1, 2]
    back("pad_constant", "pad", [("x", r.randn(2, 3, 4))], lambda x: F.pad(x, gf.torch_pads(pads), value=0.5), {"pads": pads, "value": 0.5})
    for mode, tmode in (("reflect", "reflect"), ("edge", "replicate"), ("wrap", "circular")):
        p = [0, 0, 1, 2, 0, 0, 2, 1]
        back("pad_" + mode, "pad", [("x", r.randn(1, 2, 4, 5))], lambda x, p=p, m=tmode: F.pad(x, gf.torch_pads(p)[:4], mode=m),
             {"pads": p, "mode": mode})
    a, b = r.randn(2, 3) * 3, r.nonzero(3)
    back("fmod", "fmod", [("a", a), ("b", b)], torch.fmod)
    back("remainder", "remainder", [("a", a), ("b", b)], torch.remainder)
    back("cumsum", "cumsum", [("x", r.randn(2, 4, 3))], lambda x: torch.cumsum(x, 1), {"axis": 1})
    back("cumsum_excl_rev", "cumsum", [("x", r.randn(2, 4, 3))],
         lambda x: torch.flip(torch.cumsum(torch.flip(x, [2]), 2), [2]) - x, {"axis": -1, "exclusive": True, "reverse": True})
    x = r.randn(2, 4, 3)
    x[0, 1, 2] = 0  # an exact zero: the gradient is not y/x
    back("cumprod", "cumprod", [("x", x)], lambda x: torch.cumprod(x, 1), {"axis": 1})
    x = r.randn(3, 2)
    x[1, 0] = 0

    def excl_rev(x):
        c = torch.cumprod(torch.flip(x, [0]), 0)
        return torch.flip(torch.cat([torch.ones_like(x[:1]), c[:-1]], 0), [0])
    back("cumprod_excl_rev", "cumprod", [("x", x)], excl_rev, {"axis": 0, "exclusive": True, "reverse": True})


def reductions(back):
    r = gf.Rand("reductions")
    back("reduce_sum_square", "reduce_sum_square", [("x", r.randn(2, 3, 4))], lambda x: (x * x).sum(1), {"axes": [1]})
    back("reduce_l1", "reduce_l1", [("x", r.randn(2, 3, 4))], lambda x: x.abs().sum((0, 2), keepdim=True), {"axes": [0, 2], "keepdims": True})
    back("reduce_l2", "reduce_l2", [("x", r.randn(2, 3, 4))], lambda x: torch.linalg.vector_norm(x, 2, 2), {"axes": [2]})
    back("reduce_log_sum", "reduce_log_sum", [("x", r.rand(2, 3, 4) + 0.1)], lambda x: torch.log(x.sum(2)), {"axes": [2]})
    back("reduce_log_sum_exp", "reduce_log_sum_exp", [("x", r.randn(2, 3, 4))], lambda x: torch.logsumexp(x, 1), {"axes": [1]})
    x = r.randn(2, 3, 4)
    x[1, 2, 0] = x[1, 0, 0]  # a tie: amax shares the gradient
    back("reduce_max", "reduce_max", [("x", x)], lambda x: torch.amax(x, 1), {"axes": [1]})
    back("reduce_min", "reduce_min", [("x", r.randn(2, 3, 4))], lambda x: torch.amin(x, (0, 2)), {"axes": [0, 2]})
    x = r.randn(2, 3, 2)
    x[1, 1, 0] = 0
    back("reduce_prod", "reduce_prod", [("x", x)], lambda x: x.permute(1, 0, 2).reshape(3, -1).prod(1), {"axes": [0, 2]})


def norms(back):
    r = gf.Rand("norms")
    back("layernorm", "layernorm", [("x", r.randn(2, 3, 4)), ("scale", r.randn(3, 4)), ("bias", r.randn(3, 4))],
         lambda x, s, b: F.layer_norm(x, (3, 4), s, b, 1e-5), {"axis": 1})

    def ln_stats(x, s, b):
        m = x.mean((1, 2), keepdim=True)
        inv = torch.rsqrt(((x - m) ** 2).mean((1, 2), keepdim=True) + 1e-5)
        return (x - m) * inv * s + b, m, inv
    back("layernorm_stats", "layernorm", [("x", r.randn(2, 3, 4)), ("scale", r.randn(3, 4)), ("bias", r.randn(3, 4))],
         ln_stats, {"axis": 1, "stats": True})
    back("rmsnorm", "rmsnorm", [("x", r.randn(2, 3, 4)), ("scale", r.randn(4))],
         lambda x, s: x * torch.rsqrt((x * x).mean(-1, keepdim=True) + 1e-5) * s)
    back("groupnorm", "groupnorm", [("x", r.randn(2, 4, 3, 2)), ("scale", r.randn(4)), ("bias", r.randn(4))],
         lambda x, s, b: F.group_norm(x, 2, s, b, 1e-5), {"num_groups": 2})
    back("instancenorm", "groupnorm", [("x", r.randn(2, 3, 5)), ("scale", r.randn(3)), ("bias", r.randn(3))],
         lambda x, s, b: F.instance_norm(x, weight=s, bias=b, eps=1e-5), {"num_groups": 3})
    back("lrn", "lrn", [("x", r.randn(2, 5, 3, 2))], lambda x: F.local_response_norm(x, 3, 0.5, 0.75, 1.5),
         {"size": 3, "alpha": 0.5, "beta": 0.75, "bias": 1.5})
    w = r.rand(4) + 0.5
    back("nll_loss", "nll_loss", [("x", r.randn(3, 4, 2)), ("target", idx(0, 1, 3, 2, 1, 3, shape=(3, 2))), ("weight", w, False)],
         lambda x, t, w: F.nll_loss(x, t, w, ignore_index=1), {"ignore_index": 1})
    back("nll_loss_none", "nll_loss", [("x", r.randn(3, 4)), ("target", idx(2, -100, 0, shape=(3,))), None],
         lambda x, t, w=None: F.nll_loss(x, t, reduction="none"), {"reduction": "none"})
    back("nll_loss_sum", "nll_loss", [("x", r.randn(3, 4)), ("target", idx(2, 3, 2, shape=(3,))), None],
         lambda x, t, w=None: F.nll_loss(x, t, reduction="sum"), {"reduction": "sum"})


def spatial(back):
    r = gf.Rand("spatial2")
    back("conv_transpose2d", "conv_transpose", [("x", r.randn(2, 3, 3, 4)), ("weight", r.randn(3, 2, 3, 2)), ("bias", r.randn(2))],
         lambda x, w, b: F.conv_transpose2d(x, w, b, stride=(2, 1), padding=(1, 0), output_padding=(1, 0), dilation=(1, 2)),
         {"strides": [2, 1], "pads": [1, 0, 1, 0], "dilations": [1, 2], "output_padding": [1, 0]})
    back("conv_transpose1d_groups", "conv_transpose", [("x", r.randn(1, 4, 5)), ("weight", r.randn(4, 3, 3)), None],
         lambda x, w, b=None: F.conv_transpose1d(x, w, stride=2, groups=2), {"strides": [2], "groups": 2})
    back("conv_transpose1d_outpad", "conv_transpose", [("x", r.randn(2, 2, 4)), ("weight", r.randn(2, 3, 2)), None],
         lambda x, w, b=None: F.conv_transpose1d(x, w, dilation=3, output_padding=2), {"dilations": [3], "output_padding": [2]})
    back("resize_nearest", "resize", [("x", r.randn(1, 2, 3, 5))], lambda x: F.interpolate(x, size=(6, 3), mode="nearest"),
         {"sizes": [1, 2, 6, 3], "mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"})
    back("resize_bilinear_align", "resize", [("x", r.randn(2, 2, 3, 4))],
         lambda x: F.interpolate(x, size=(5, 7), mode="bilinear", align_corners=True),
         {"sizes": [2, 2, 5, 7], "mode": "linear", "coordinate_transformation_mode": "align_corners"})
    back("resize_bicubic", "resize", [("x", r.randn(1, 2, 4, 3))],
         lambda x: F.interpolate(x, size=(7, 5), mode="bicubic", align_corners=False),
         {"sizes": [1, 2, 7, 5], "mode": "cubic", "coordinate_transformation_mode": "half_pixel", "cubic_coeff_a": -0.75})
    # (torch's antialias forward is not ONNX's: a downscale without it.)
    back("resize_bilinear_down", "resize", [("x", r.randn(1, 2, 8, 7))],
         lambda x: F.interpolate(x, size=(3, 4), mode="bilinear", align_corners=False),
         {"sizes": [1, 2, 3, 4], "mode": "linear", "coordinate_transformation_mode": "half_pixel"})
    back("adaptive_avgpool", "adaptive_avgpool", [("x", r.randn(2, 2, 5, 7))], lambda x: F.adaptive_avg_pool2d(x, (3, 2)),
         {"output_size": [3, 2]})


def recurrent(back):
    def module_case(name, op, T, N, Fe, H, L, bidi=False, bf=False, bias=True, states=True, relu=False):
        r = gf.Rand(name)
        cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[op]
        kw = dict(num_layers=L, bias=bias, batch_first=bf, bidirectional=bidi)
        if op == "rnn":
            kw["nonlinearity"] = "relu" if relu else "tanh"
        m = cls(Fe, H, **kw)
        names = [n for n, _ in m.named_parameters()]
        D = 2 if bidi else 1
        x = r.randn(N, T, Fe) if bf else r.randn(T, N, Fe)
        ins = [("x", x)]
        nstates = 2 if op == "lstm" else 1
        for s in range(nstates):
            ins.append(("h0" if s == 0 else "c0", r.randn(L * D, N, H)) if states else None)
        for n in names:
            ins.append((n, r.randn(*dict(m.named_parameters())[n].shape, scale=0.5)))

        def fn(x, *rest):
            # torch._VF's functions are what nn.RNN/LSTM/GRU.forward call,
            # with the weights as arguments (functional_call does not
            # reach an RNN module's cached flat weights in torch 1.13).
            st, ws = list(rest[:nstates]), list(rest[nstates:])
            if not states:
                st = [torch.zeros(L * D, N, H) for _ in range(nstates)]
            if op == "lstm":
                y, h, c = torch._VF.lstm(x, st, ws, bias, L, 0.0, False, bidi, bf)
                return y, h, c
            f = {"gru": torch._VF.gru, "rnn": torch._VF.rnn_relu if relu else torch._VF.rnn_tanh}[op]
            y, h = f(x, st[0], ws, bias, L, 0.0, False, bidi, bf)
            return y, h
        attrs = {"hidden_size": H, "num_layers": L, "bidirectional": bidi, "batch_first": bf, "bias": bias}
        if op == "rnn":
            attrs["nonlinearity"] = "relu" if relu else "tanh"
        back(name, op, ins, fn, attrs)

    module_case("rnn_tanh", "rnn", 4, 2, 3, 5, 1)
    module_case("rnn_relu_bidi_stacked", "rnn", 3, 2, 3, 4, 2, bidi=True, relu=True, states=False)
    module_case("lstm", "lstm", 4, 2, 3, 5, 1, states=False)
    module_case("lstm_stacked_bidi_bf", "lstm", 3, 2, 3, 4, 2, bidi=True, bf=True)
    module_case("lstm_nobias", "lstm", 3, 1, 2, 3, 1, bias=False)
    module_case("gru", "gru", 4, 2, 3, 4, 1)
    module_case("gru_stacked_bidi_bf", "gru", 3, 2, 3, 4, 2, bidi=True, bf=True, states=False)

    # ONNX's forms, which torch.nn has not, written as torch cells.
    r = gf.Rand("onnx_rnn")
    T, N, Fe, H = 3, 2, 3, 4

    def gru_onnx(x, h0, wih, whh, bih, bhh):
        h, ys = h0[0], []
        for t in range(T):
            gi = x[t] @ wih.t() + bih
            rz = torch.sigmoid(gi[:, :2 * H] + h @ whh[:2 * H].t() + bhh[:2 * H])
            rr, z = rz[:, :H], rz[:, H:]
            n = torch.tanh(gi[:, 2 * H:] + (rr * h) @ whh[2 * H:].t() + bhh[2 * H:])
            h = (1 - z) * n + z * h
            ys.append(h)
        return torch.stack(ys), h[None]
    back("gru_onnx", "gru", [("x", r.randn(T, N, Fe)), ("h0", r.randn(1, N, H)), ("w_ih", r.randn(3 * H, Fe, scale=0.5)),
                             ("w_hh", r.randn(3 * H, H, scale=0.5)), ("b_ih", r.randn(3 * H)), ("b_hh", r.randn(3 * H))],
         gru_onnx, {"hidden_size": H, "linear_before_reset": False})

    def lstm_peep(x, h0, c0, wih, whh, bih, bhh, p):
        h, c, ys = h0[0], c0[0], []
        for t in range(T):
            g = x[t] @ wih.t() + bih + h @ whh.t() + bhh
            i = torch.sigmoid(g[:, :H] + p[:H] * c)
            f = torch.sigmoid(g[:, H:2 * H] + p[H:2 * H] * c)
            c = f * c + i * torch.tanh(g[:, 2 * H:3 * H])
            o = torch.sigmoid(g[:, 3 * H:] + p[2 * H:] * c)
            h = o * torch.tanh(c)
            ys.append(h)
        return torch.stack(ys), h[None], c[None]
    back("lstm_peepholes", "lstm", [("x", r.randn(T, N, Fe)), ("h0", r.randn(1, N, H)), ("c0", r.randn(1, N, H)),
                                    ("w_ih", r.randn(4 * H, Fe, scale=0.5)), ("w_hh", r.randn(4 * H, H, scale=0.5)),
                                    ("b_ih", r.randn(4 * H)), ("b_hh", r.randn(4 * H)), ("p", r.randn(3 * H))],
         lstm_peep, {"hidden_size": H, "peepholes": True})


def cases(back):
    indexing(back)
    plumbing(back)
    reductions(back)
    norms(back)
    spatial(back)
    recurrent(back)

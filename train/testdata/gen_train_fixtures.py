#!/usr/bin/python3
"""Generate PyTorch reference fixtures for dlc's training package.

Run once with the system Python (torch 1.13):

    /usr/bin/python3 train/testdata/gen_train_fixtures.py

It writes, in runtime/testdata/gen_fixtures.py's safetensors format:

optim_<case>.safetensors   a param p0, gradients g1..g4 and torch.optim's
                           params p1..p4 after each step; metadata "config"
                           (JSON: opt, lr, momentum, nesterov, wd, betas, eps)
loss_<case>.safetensors    logits z, a target (one-hot rows for the class
                           losses), torch's loss and d loss / d z; metadata
                           "config" (loss, label_smoothing, class weights)
bn_train.safetensors       batch norm in training mode: x, scale, bias,
                           dy, running stats before; torch's y, dx, dscale,
                           dbias and running stats after
clip.safetensors           gradients before and after clip_grad_norm_(1.0)
sched.safetensors          learning rates of StepLR and CosineAnnealingLR
"""

import json
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "runtime", "testdata"))
import gen_fixtures as gf  # noqa: E402


def write(name, tensors, config):
    gf.write_safetensors(os.path.join(HERE, name + ".safetensors"), tensors,
                         {"config": json.dumps(config, sort_keys=True)})


def optim_case(name, make, config):
    g = torch.Generator().manual_seed(len(name))
    p = torch.randn(7, generator=g)
    param = torch.nn.Parameter(p.clone())
    opt = make([param])
    t = {"p0": p}
    for i in range(1, 5):
        grad = torch.randn(7, generator=g)
        param.grad = grad.clone()
        opt.step()
        t["g%d" % i] = grad
        t["p%d" % i] = param.detach().clone()
    write("optim_" + name, t, config)


def optims():
    O = torch.optim
    optim_case("sgd", lambda ps: O.SGD(ps, lr=0.1), {"opt": "sgd", "lr": 0.1})
    optim_case("sgd_momentum_wd", lambda ps: O.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01),
               {"opt": "sgd", "lr": 0.05, "momentum": 0.9, "wd": 0.01})
    optim_case("sgd_nesterov", lambda ps: O.SGD(ps, lr=0.05, momentum=0.8, nesterov=True, weight_decay=1e-3),
               {"opt": "sgd", "lr": 0.05, "momentum": 0.8, "nesterov": True, "wd": 1e-3})
    optim_case("adam", lambda ps: O.Adam(ps, lr=1e-2), {"opt": "adam", "lr": 1e-2})
    optim_case("adam_wd", lambda ps: O.Adam(ps, lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
               {"opt": "adam", "lr": 1e-2, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "wd": 0.1})
    optim_case("adamw", lambda ps: O.AdamW(ps, lr=1e-2, weight_decay=0.05),
               {"opt": "adamw", "lr": 1e-2, "wd": 0.05})


def loss_case(name, config, z, target, fn):
    z = z.clone().requires_grad_(True)
    with torch.enable_grad():
        loss = fn(z)
        (dz,) = torch.autograd.grad(loss, (z,))
    write("loss_" + name, {"z": z.detach(), "target": target, "loss": loss.detach().reshape(1), "dz": dz}, config)


def losses():
    g = torch.Generator().manual_seed(5)
    z = torch.randn(6, 4, generator=g) * 2
    labels = torch.tensor([0, 3, 1, 1, 2, 3])
    onehot = F.one_hot(labels, 4).float()
    w = torch.tensor([0.5, 2.0, 1.0, 1.5])
    loss_case("cross_entropy", {"loss": "cross_entropy"}, z, onehot, lambda z: F.cross_entropy(z, labels))
    loss_case("cross_entropy_smooth_weights", {"loss": "cross_entropy", "label_smoothing": 0.1, "class_weights": w.tolist()},
              z, onehot, lambda z: F.cross_entropy(z, labels, weight=w, label_smoothing=0.1))
    logp = torch.log_softmax(z, 1)
    loss_case("nll_weights", {"loss": "nll", "class_weights": w.tolist()}, logp, onehot, lambda z: F.nll_loss(z, labels, weight=w))
    t = torch.rand(6, 4, generator=g)
    loss_case("bce", {"loss": "bce"}, z * 4, t, lambda z: F.binary_cross_entropy_with_logits(z, t))
    loss_case("mse", {"loss": "mse"}, z, t, lambda z: F.mse_loss(z, t))


def batchnorm():
    g = torch.Generator().manual_seed(7)
    x = torch.randn(4, 3, 2, 5, generator=g) * 2 + 1
    bn = torch.nn.BatchNorm2d(3)
    with torch.no_grad():
        bn.weight.copy_(torch.randn(3, generator=g))
        bn.bias.copy_(torch.randn(3, generator=g))
        bn.running_mean.copy_(torch.randn(3, generator=g))
        bn.running_var.copy_(torch.rand(3, generator=g) + 0.5)
    t = {"x": x, "scale": bn.weight.detach().clone(), "bias": bn.bias.detach().clone(),
         "mean0": bn.running_mean.clone(), "var0": bn.running_var.clone()}
    bn.train()
    xg = x.clone().requires_grad_(True)
    with torch.enable_grad():
        y = bn(xg)
        dy = torch.randn(*y.shape, generator=g)
        dx, ds, db = torch.autograd.grad(y, (xg, bn.weight, bn.bias), dy)
    t.update({"dy": dy, "y": y.detach(), "dx": dx, "dscale": ds, "dbias": db,
              "mean1": bn.running_mean.clone(), "var1": bn.running_var.clone()})
    write("bn_train", t, {})


def clip():
    g = torch.Generator().manual_seed(9)
    ps = [torch.nn.Parameter(torch.zeros(5)), torch.nn.Parameter(torch.zeros(3, 2))]
    ps[0].grad = torch.randn(5, generator=g)
    ps[1].grad = torch.randn(3, 2, generator=g)
    t = {"a": ps[0].grad.clone(), "b": ps[1].grad.clone()}
    norm = torch.nn.utils.clip_grad_norm_(ps, 1.0)
    t.update({"a_clipped": ps[0].grad.clone(), "b_clipped": ps[1].grad.clone(), "norm": norm.reshape(1)})
    write("clip", t, {"max_norm": 1.0})


def sched():
    p = [torch.nn.Parameter(torch.zeros(1))]
    out = {}
    opt = torch.optim.SGD(p, lr=0.1)
    s = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    lrs = []
    for _ in range(7):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        s.step()
    out["step"] = torch.tensor(lrs, dtype=torch.float64)
    opt = torch.optim.SGD(p, lr=0.1)
    s = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    lrs = []
    for _ in range(10):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        s.step()
    out["cosine"] = torch.tensor(lrs, dtype=torch.float64)
    write("sched", out, {"step": "StepLR(step_size=2 epochs, gamma=0.5), one step an epoch", "cosine": "CosineAnnealingLR(T_max=10)"})


def main():
    torch.set_num_threads(1)
    for f in os.listdir(HERE):
        if f.endswith(".safetensors"):
            os.remove(os.path.join(HERE, f))
    optims()
    losses()
    batchnorm()
    clip()
    sched()
    print("wrote fixtures to", HERE)


if __name__ == "__main__":
    main()

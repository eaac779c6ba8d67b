#!/usr/bin/env python3
"""Writes PyTorch reference values for the ClozeTensor ops to Tests/Fixtures/tensor/*.json.

Run from the package root:  /work/venv/bin/python scripts/make_tensor_fixtures.py
Each fixture holds the inputs, torch's forward output and torch's gradients of
L = sum(output * w) for a fixed random w (also stored), all float32.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "tensor")
torch.manual_seed(1234)


def t(x):
    x = x.detach().to(torch.float32)
    return {"shape": list(x.shape), "data": [float(v) for v in x.reshape(-1).tolist()]}


def rand(*shape, scale=1.0):
    return ((torch.rand(*shape) * 2 - 1) * scale).requires_grad_(True)


def save(name, obj):
    obj["generator"] = f"scripts/make_tensor_fixtures.py (torch {torch.__version__})"
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(obj, f, separators=(",", ":"))


def weighted_backward(y):
    w = torch.rand(y.shape) * 2 - 1
    (y * w).sum().backward()
    return w


def layer_norm():
    x, g, b = rand(4, 37, scale=3), rand(37), rand(37)
    x.data[0] += 5.0  # non-zero mean
    y = F.layer_norm(x, (37,), g, b, eps=1e-12)
    w = weighted_backward(y)
    save("layernorm.json", {"eps": 1e-12, "x": t(x), "gamma": t(g), "beta": t(b), "y": t(y), "w": t(w),
                            "dx": t(x.grad), "dgamma": t(g.grad), "dbeta": t(b.grad)})


def gelu():
    base = torch.linspace(-7, 7, 301)
    extra = torch.tensor([0.0, 1e-4, -1e-4, 0.5, -0.5, 3.0, -3.0, 10.0, -10.0, 0.3333])
    out = {}
    for kind in ["none", "tanh"]:
        x = torch.cat([base, extra]).clone().requires_grad_(True)
        y = F.gelu(x, approximate=kind)
        w = weighted_backward(y)
        out[kind] = {"x": t(x), "y": t(y), "w": t(w), "dx": t(x.grad)}
    for kind in ["tanh_fn"]:
        x = torch.cat([base, extra]).clone().requires_grad_(True)
        y = torch.tanh(x)
        w = weighted_backward(y)
        out[kind] = {"x": t(x), "y": t(y), "w": t(w), "dx": t(x.grad)}
    save("gelu.json", out)


def attention():
    B, T, H, D = 2, 7, 3, 4
    q, k, v = rand(B * T, H * D), rand(B * T, H * D), rand(B * T, H * D)
    mask = torch.ones(B, T)
    mask[1, 4:] = 0  # second sequence: 4 real tokens, 3 padding
    def heads(x):
        return x.view(B, T, H, D).transpose(1, 2)  # [B, H, T, D]
    scores = heads(q) @ heads(k).transpose(-1, -2) / math.sqrt(D)
    # Hugging Face's extended attention mask: (1 - mask) * finfo.min added to the scores.
    scores = scores + (1.0 - mask)[:, None, None, :] * torch.finfo(torch.float32).min
    probs = scores.softmax(-1)
    ctx = (probs @ heads(v)).transpose(1, 2).reshape(B * T, H * D)
    w = weighted_backward(ctx)
    save("attention.json", {"batch": B, "seqLen": T, "heads": H, "mask": mask.reshape(-1).tolist(),
                            "q": t(q), "k": t(k), "v": t(v), "context": t(ctx), "probs": t(probs), "w": t(w),
                            "dq": t(q.grad), "dk": t(k.grad), "dv": t(v.grad)})


def cross_entropy():
    x = rand(5, 11, scale=4)
    targets = [3, -100, 10, 0, 7]
    loss = F.cross_entropy(x, torch.tensor(targets))  # ignore_index=-100, mean over the other rows
    loss.backward()
    save("crossentropy.json", {"logits": t(x), "targets": targets, "loss": float(loss.detach()), "dlogits": t(x.grad)})


def kl_divergence():
    T = 2.0
    s = rand(4, 6, scale=4)
    teacher_logits = torch.rand(4, 6) * 8 - 4
    p = F.softmax(teacher_logits / T, dim=-1)
    # PET's distillation_loss: kl_div(log_softmax(s/T), softmax(teacher/T), 'sum') * T^2 / N
    loss = F.kl_div(F.log_softmax(s / T, dim=-1), p, reduction="sum") * T * T / s.shape[0]
    batchmean = torch.nn.KLDivLoss(reduction="batchmean")(F.log_softmax(s / T, dim=-1), p) * T * T
    assert abs(float(loss) - float(batchmean)) < 1e-6
    loss.backward()
    save("kldivergence.json", {"temperature": T, "student": t(s), "teacherProbabilities": t(p),
                               "loss": float(loss.detach()), "dstudent": t(s.grad)})


def linear():
    x, W, b = rand(6, 20), rand(9, 20), rand(9)
    y = F.linear(x, W, b)
    w = weighted_backward(y)
    save("linear.json", {"x": t(x), "weight": t(W), "bias": t(b), "y": t(y), "w": t(w),
                         "dx": t(x.grad), "dweight": t(W.grad), "dbias": t(b.grad)})


def adamw():
    """3 steps: clip_grad_norm_(1.0), AdamW (p1 decayed, p2 no decay), HF linear warmup schedule."""
    from transformers import get_linear_schedule_with_warmup
    p1 = torch.nn.Parameter(torch.rand(3, 5) * 2 - 1)
    p2 = torch.nn.Parameter(torch.rand(7) * 2 - 1)
    init = {"p1": t(p1), "p2": t(p2)}
    opt = torch.optim.AdamW([{"params": [p1], "weight_decay": 0.01}, {"params": [p2], "weight_decay": 0.0}],
                            lr=1e-2, betas=(0.9, 0.999), eps=1e-8)
    sched = get_linear_schedule_with_warmup(opt, num_warmup_steps=1, num_training_steps=4)
    steps = []
    for i in range(3):
        g1 = (torch.rand(3, 5) * 2 - 1) * (3.0 if i == 0 else 0.2)  # step 0 is clipped, later ones not
        g2 = (torch.rand(7) * 2 - 1) * (3.0 if i == 0 else 0.2)
        p1.grad, p2.grad = g1.clone(), g2.clone()
        lr = opt.param_groups[0]["lr"]
        norm = torch.nn.utils.clip_grad_norm_([p1, p2], max_norm=1.0)
        opt.step()
        sched.step()
        steps.append({"lr": lr, "g1": t(g1), "g2": t(g2), "norm": float(norm), "p1": t(p1), "p2": t(p2)})
    lrs = [get_linear_schedule_with_warmup(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=3e-5),
                                           num_warmup_steps=3, num_training_steps=10).lr_lambdas[0](s) * 3e-5
           for s in range(12)]
    save("adamw.json", {"baseLR": 1e-2, "warmup": 1, "total": 4, "maxNorm": 1.0, "weightDecay": 0.01,
                        "init": init, "steps": steps,
                        "schedule": {"baseLR": 3e-5, "warmup": 3, "total": 10, "lrs": lrs}})


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    layer_norm(); gelu(); attention(); cross_entropy(); kl_divergence(); linear(); adamw()
    print("wrote", sorted(os.listdir(OUT)))

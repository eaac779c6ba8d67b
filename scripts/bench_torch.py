#!/usr/bin/env python3
"""PyTorch counterpart of `cloze bench`: same shapes, same work, same thread count.

  /work/venv/bin/python scripts/bench_torch.py --shape minilm --batch 4 --seq 128 --threads 2

forward = encoder + MLM head (transform + full-vocabulary decoder) at the masked positions only,
under torch.no_grad, eval mode; train step = train mode (dropout on) forward, cross-entropy at the
masked positions, backward, AdamW step, zero_grad. Median of --runs after --warmup.
"""
import argparse
import time

import torch
from transformers import BertConfig, BertForMaskedLM

SHAPES = {"bert-base": (768, 12, 12, 3072), "minilm": (384, 6, 12, 1536)}


def median(fn, warmup, runs):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", default="minilm", choices=SHAPES)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--mask-fraction", type=float, default=0.15)
    ap.add_argument("--attn", default="eager", choices=["eager", "sdpa"])
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    h, l, heads, ffn = SHAPES[a.shape]
    cfg = BertConfig(vocab_size=30522, hidden_size=h, num_hidden_layers=l, num_attention_heads=heads,
                     intermediate_size=ffn, attn_implementation=a.attn)
    model = BertForMaskedLM(cfg)
    n = a.batch * a.seq
    ids = torch.randint(1000, 30000, (a.batch, a.seq))
    mask = torch.ones_like(ids)
    masked = max(1, round(n * a.mask_fraction))
    positions = torch.randperm(n)[:masked].sort().values
    targets = torch.randint(0, cfg.vocab_size, (masked,))

    def forward():
        with torch.no_grad():
            hidden = model.bert(input_ids=ids, attention_mask=mask).last_hidden_state.reshape(n, h)
            model.cls(hidden[positions])

    model.eval()
    fwd = median(forward, a.warmup, a.runs)

    opt = torch.optim.AdamW(model.parameters(), lr=1e-5)
    model.train()

    def step():
        hidden = model.bert(input_ids=ids, attention_mask=mask).last_hidden_state.reshape(n, h)
        loss = torch.nn.functional.cross_entropy(model.cls(hidden[positions]), targets)
        loss.backward()
        opt.step()
        opt.zero_grad()

    train = median(step, a.warmup, a.runs)
    params = sum(p.numel() for p in model.parameters())
    print(f"torch {torch.__version__} bench: {a.shape} ({params / 1e6:.1f}M parameters), batch {a.batch} x seq {a.seq}, "
          f"{masked} masked positions, {a.threads} threads, attention {a.attn}, median of {a.runs}")
    print(f"forward (encoder + MLM head at masks, no grad):  {fwd * 1000:.1f} ms  = {n / fwd:.0f} tokens/s")
    print(f"train step (forward + CE + backward + AdamW):    {train * 1000:.1f} ms  = {n / train:.0f} tokens/s")


if __name__ == "__main__":
    main()

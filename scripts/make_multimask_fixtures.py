#!/usr/bin/env python3
"""Writes Tests/Fixtures/pet/multimask.json: multi-mask PET reference values on the tiny BERT fixture
(Tests/Fixtures/models/tiny-bert, eval mode = dropout off, fixed example order).

A PyTorch re-implementation following timoschick/pet's MultiMaskTaskHelper:
- training loss: per candidate the summed cross-entropy (full vocabulary) of its tokens at the first
  masks, hinge max(0, 1 + L_correct - L_wrong) summed over wrong candidates, mean over the batch;
  AdamW with PET's no-decay groups, linear warmup, clip_grad_norm_(1.0);
- inference: per example and candidate length, the input keeps only the first n masks
  (trim_input_ids); max-first decoding: fill the mask whose candidate token is most probable,
  re-run the model on input_ids alone, until no mask is left; the score is the summed log-probability.

Run from the package root in a throwaway venv with torch and transformers:
    /tmp/venv/bin/python scripts/make_multimask_fixtures.py
"""
import json, math, os
import numpy as np
import torch
from transformers import BertForMaskedLM, get_linear_schedule_with_warmup

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "Tests", "Fixtures", "models", "tiny-bert")
PAD, CLS, SEP, MASK, V = 0, 1, 2, 3, 120
CHOICES = [[10, 11, 12], [20], [30, 31]]          # three labels of 3, 1 and 2 tokens
M = max(len(c) for c in CHOICES)
rng = np.random.RandomState(5)


def example(label=None):
    before, after = int(rng.randint(1, 6)), int(rng.randint(1, 8))
    ids = [CLS] + rng.randint(5, V, size=before).tolist() + [MASK] * M + rng.randint(5, V, size=after).tolist() + [SEP]
    return {"inputIDs": ids, "tokenTypeIDs": [0] * len(ids), "maskPosition": 1 + before, "label": label}


def choice_targets(f, T):
    """[C, T] target ids: a candidate's tokens at the first masks, -100 elsewhere (add_special_input_features)."""
    out = []
    for c in CHOICES:
        t = [-100] * T
        for j, tok in enumerate(c):
            t[f["maskPosition"] + j] = tok
        out.append(t)
    return out


def hinge_loss(model, feats):
    T = max(len(f["inputIDs"]) for f in feats)
    ids = torch.tensor([f["inputIDs"] + [PAD] * (T - len(f["inputIDs"])) for f in feats])
    att = (ids != PAD).long()
    logits = model(input_ids=ids, attention_mask=att, token_type_ids=torch.zeros_like(ids)).logits   # [B, T, V]
    ce = torch.nn.CrossEntropyLoss(reduction="none")
    scores = logits.permute(1, 2, 0)                                        # [T, V, B]
    targets = torch.tensor([choice_targets(f, T) for f in feats])           # [B, C, T]
    labels = [f["label"] for f in feats]
    per_choice = torch.stack([ce(scores, targets[:, c, :].permute(1, 0)).sum(dim=0) for c in range(len(CHOICES))])  # [C, B]
    correct = per_choice[labels, torch.arange(len(feats))]
    total = 0
    for c in range(len(CHOICES)):
        wrong = torch.tensor([c != y for y in labels], dtype=torch.float)
        total = total + torch.clamp(1 + correct - per_choice[c], min=0) * wrong
    return total.mean()


def max_first(model, f):
    """Scores [C] of one example, as the reference's eval_step with batch size 1."""
    scores = []
    for c in CHOICES:
        n = len(c)
        ids = f["inputIDs"][:f["maskPosition"] + n] + f["inputIDs"][f["maskPosition"] + M:]   # keep the first n masks
        ids = list(ids)
        open_ = list(range(n))
        logp = 0.0
        while open_:
            with torch.no_grad():
                probs = torch.softmax(model(input_ids=torch.tensor([ids])).logits[0], dim=-1)
            best, best_p = None, None
            for j in open_:
                p = probs[f["maskPosition"] + j][c[j]]
                if best_p is None or p > best_p:
                    best, best_p = j, p
            logp += math.log(best_p.item())
            ids[f["maskPosition"] + best] = c[best]
            open_.remove(best)
        scores.append(logp)
    return scores


def main():
    labelled = [example(label=i % 3) for i in range(9)]
    test = [example() for _ in range(7)]
    cfg = {"steps": 12, "batchSize": 4, "learningRate": 1e-3, "warmupSteps": 2, "weightDecay": 0.01,
           "adamEpsilon": 1e-8, "maxGradNorm": 1.0}
    model = BertForMaskedLM.from_pretrained(MODEL)
    model.eval()
    zero_shot = [max_first(model, f) for f in test]
    no_decay = ["bias", "LayerNorm.weight"]
    groups = [
        {"params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)], "weight_decay": cfg["weightDecay"]},
        {"params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=cfg["learningRate"], eps=cfg["adamEpsilon"])
    sched = get_linear_schedule_with_warmup(opt, cfg["warmupSteps"], cfg["steps"])
    losses, order = [], []
    n = len(labelled)
    for step in range(cfg["steps"]):
        # Cloze's fixed order: wrap-around batches of an unshuffled epoch (last partial batch kept).
        epoch_batches = [list(range(s, min(s + cfg["batchSize"], n))) for s in range(0, n, cfg["batchSize"])]
        batch = epoch_batches[step % len(epoch_batches)]
        loss = hinge_loss(model, [labelled[i] for i in batch])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["maxGradNorm"])
        opt.step(); sched.step(); model.zero_grad()
        losses.append(loss.item())
    trained = [max_first(model, f) for f in test]
    out = {"modelDirectory": "Tests/Fixtures/models/tiny-bert", "padID": PAD, "maskID": MASK, "choices": CHOICES,
           "config": cfg, "labelled": labelled, "test": test, "losses": losses,
           "zeroShotScores": zero_shot, "trainedScores": trained}
    path = os.path.join(ROOT, "Tests", "Fixtures", "pet", "multimask.json")
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")
    print("wrote", path, "losses", [round(l, 4) for l in losses])


if __name__ == "__main__":
    main()

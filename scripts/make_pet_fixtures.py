#!/usr/bin/env python3
"""Writes Tests/Fixtures/pet/*.json: reference values for ClozePETTests.

- metrics.json: sklearn / scipy / numpy values (accuracy, F1, macro-F1, MCC, Pearson, Spearman, mean/std)
  for seeded random predictions.
- bert_inputs.json: Hugging Face tokenizer ids for PET inputs built from patterns with the shared
  bert-base-uncased vocabulary (../shared/models/minilm-l6-mlm), and verbalizer word ids.

Needs numpy, transformers/tokenizers, scikit-learn and scipy (`pip install scikit-learn scipy`; set
EXTRA_SITE=/path to add a --target install dir to sys.path). Run from the package root:
    /work/venv/bin/python scripts/make_pet_fixtures.py
"""
import json, os, sys
if os.environ.get("EXTRA_SITE"):
    sys.path.insert(0, os.environ["EXTRA_SITE"])
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "pet")
os.makedirs(OUT, exist_ok=True)


def metrics():
    from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef
    from scipy.stats import pearsonr, spearmanr
    rng = np.random.RandomState(7)
    cases = []
    for n, c in [(40, 2), (57, 3), (100, 6), (12, 2)]:
        gold = rng.randint(0, c, size=n)
        pred = np.where(rng.rand(n) < 0.6, gold, rng.randint(0, c, size=n))
        cases.append({
            "classes": c, "gold": gold.tolist(), "pred": pred.tolist(),
            "accuracy": accuracy_score(gold, pred),
            "f1_pos1": f1_score(gold, pred, pos_label=1, average="binary") if c == 2 else None,
            "macro_f1": f1_score(gold, pred, average="macro", labels=list(range(c)), zero_division=0),
            "mcc": matthews_corrcoef(gold, pred),
        })
    x = np.round(rng.rand(30) * 5, 1)             # rounding creates ties for Spearman
    y = np.round(x + rng.randn(30), 1)
    runs = (rng.rand(5) * 0.3 + 0.6).tolist()
    return {
        "classification": cases,
        "regression": {"x": x.tolist(), "y": y.tolist(),
                       "pearson": float(pearsonr(x, y)[0]), "spearman": float(spearmanr(x, y)[0])},
        "runs": {"values": runs, "mean": float(np.mean(runs)), "std": float(np.std(runs))},
    }


def pet_truncate(parts, shortenable, max_len, n_special):
    """Docs/PATTERNS.md shortening rule (PET's truncate; longest slot inside a segment)."""
    total = n_special + sum(len(p) for seg in parts for p in seg)
    while total > max_len:
        short = [sum(len(p) for p, s in zip(seg, sh) if s) for seg, sh in zip(parts, shortenable)]
        a = short[0]; b = short[1] if len(short) > 1 else 0
        assert a + b > 0
        s = 0 if (len(short) == 1 or a > b) else 1
        best = -1
        for e, p in enumerate(parts[s]):
            if shortenable[s][e] and p and (best < 0 or len(p) >= len(parts[s][best])):
                best = e
        parts[s][best] = parts[s][best][:-1]
        total -= 1
    return parts


def bert_inputs():
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(os.path.join(ROOT, "..", "shared", "models", "minilm-l6-mlm"))
    enc = lambda t: tok.encode(t, add_special_tokens=False)
    sst = "a gorgeous , witty , seductive movie ."
    prem = "The cat sat on the mat while the dog slept in the sun all afternoon."
    hyp = "A dog was sleeping."
    cases = []
    # Single segment, no shortening: must equal HF encoding of the whole filled-in string.
    for pattern, text_a, filled in [
        ("{text_a:shorten} It was [MASK].", sst, sst + " It was [MASK]."),
        ("[MASK]: {text_a:shorten}", "What is DSL ?", "[MASK]: What is DSL ?"),
        ("{text_a:shorten} All in all, it was [MASK].", "Überraschend gut! Naïve café.", "Überraschend gut! Naïve café. All in all, it was [MASK]."),
        ("\\[ Category: [MASK] \\] {text_a:shorten}", "Stocks fell sharply.", "[ Category: [MASK] ] Stocks fell sharply."),
    ]:
        ids = tok(filled)["input_ids"]
        cases.append({"pattern": pattern, "fields": {"text_a": text_a}, "maxLength": 128,
                      "inputIDs": ids, "tokenTypeIDs": [0] * len(ids), "maskPosition": ids.index(tok.mask_token_id)})
    # Two segments: HF pair encoding of (segment A, segment B).
    for pattern, a_str, b_str in [
        ('"{text_a:shorten}" ? [SEP] [MASK], "{text_b:shorten}"', f'"{prem}" ?', f'[MASK], "{hyp}"'),
        ("Just [MASK]! [SEP] {text_a:shorten}", "Just [MASK]!", sst),
    ]:
        e = tok(a_str, b_str)
        fields = {"text_a": prem, "text_b": hyp} if "text_b" in pattern else {"text_a": sst}
        cases.append({"pattern": pattern, "fields": fields, "maxLength": 128, "inputIDs": e["input_ids"],
                      "tokenTypeIDs": e["token_type_ids"], "maskPosition": e["input_ids"].index(tok.mask_token_id)})
    # Shortening: pieces tokenised by HF, shortened by the documented rule.
    lit = lambda s: enc(s)
    M = [tok.mask_token_id]
    for max_len in (12, 20):
        parts = [[enc(prem), lit("?"), M, lit(","), enc(hyp)]]
        sh = [[True, False, False, False, True]]
        parts = pet_truncate(parts, sh, max_len, 2)
        ids = [tok.cls_token_id] + sum(parts[0], []) + [tok.sep_token_id]
        cases.append({"pattern": "{text_a:shorten}? [MASK], {text_b:shorten}", "fields": {"text_a": prem, "text_b": hyp},
                      "maxLength": max_len, "inputIDs": ids, "tokenTypeIDs": [0] * len(ids), "maskPosition": ids.index(M[0])})
    parts = pet_truncate([[lit('"'), enc(prem), lit('" ?')], [M, lit(', "'), enc(hyp), lit('"')]],
                         [[False, True, False], [False, False, True, False]], 16, 3)
    a = sum(parts[0], []); b = sum(parts[1], [])
    ids = [tok.cls_token_id] + a + [tok.sep_token_id] + b + [tok.sep_token_id]
    cases.append({"pattern": '"{text_a:shorten}" ? [SEP] [MASK], "{text_b:shorten}"', "fields": {"text_a": prem, "text_b": hyp},
                  "maxLength": 16, "inputIDs": ids, "tokenTypeIDs": [0] * (len(a) + 2) + [1] * (len(b) + 1),
                  "maskPosition": ids.index(M[0])})
    words = {}
    for w in ["terrible", "great", "Description", "Expression", "Maybe", "subjective", "objective"]:
        words[w] = tok.convert_tokens_to_ids(tok.tokenize(" " + w))
    multi = {w: tok.tokenize(" " + w) for w in ["unwatchable", "superb"]}
    return {"cases": cases, "singleTokenWords": words, "multiTokenWords": multi,
            "special": {"cls": tok.cls_token_id, "sep": tok.sep_token_id, "pad": tok.pad_token_id,
                        "mask": tok.mask_token_id, "unk": tok.unk_token_id}}


def pet_training():
    """PET's training loss (timoschick/pet `mlm` wrapper: MLM logits at the mask -> per label the mean of
    its verbalizer tokens' logits (convert_mlm_logits_to_cls_logits) -> CrossEntropyLoss; optional
    auxiliary MLM loss alpha*loss + (1-alpha)*lm_loss), AdamW with PET's no-decay groups, linear
    warmup schedule, clip_grad_norm_(1.0), on the tiny BERT of Tests/Fixtures/models/tiny-bert with
    dropout off (eval mode) and a fixed example order. Records the loss of every step."""
    import torch
    from transformers import BertForMaskedLM, get_linear_schedule_with_warmup
    model_dir = os.path.join(ROOT, "Tests", "Fixtures", "models", "tiny-bert")
    rng = np.random.RandomState(11)
    PAD, CLS, SEP, MASK = 0, 1, 2, 3
    V = 120

    def example(length, pair):
        body = rng.randint(5, V, size=length).tolist()
        m = int(rng.randint(0, length))
        body[m] = MASK
        if pair:
            cut = length // 2
            ids = [CLS] + body[:cut] + [SEP] + body[cut:] + [SEP]
            types = [0] * (cut + 2) + [1] * (length - cut + 1)
        else:
            ids = [CLS] + body + [SEP]
            types = [0] * len(ids)
        return {"inputIDs": ids, "tokenTypeIDs": types, "maskPosition": ids.index(MASK)}

    labelled = []
    for i in range(8):
        f = example(int(rng.randint(5, 18)), pair=(i % 3 == 2))
        f["label"] = int(i % 2)
        labelled.append(f)
    unlabeled = [example(int(rng.randint(5, 18)), pair=False) for _ in range(6)]
    label_rows = [[10, 20], [30]]                 # label 0 averages two words, label 1 has one
    cfg = {"steps": 20, "batchSize": 4, "unlabeledBatchSize": 3, "learningRate": 1e-3, "warmupSteps": 3,
           "weightDecay": 0.01, "adamEpsilon": 1e-8, "maxGradNorm": 1.0}

    def pad(feats):
        T = max(len(f["inputIDs"]) for f in feats)
        ids = torch.tensor([f["inputIDs"] + [PAD] * (T - len(f["inputIDs"])) for f in feats])
        att = torch.tensor([[1] * len(f["inputIDs"]) + [0] * (T - len(f["inputIDs"])) for f in feats])
        typ = torch.tensor([f["tokenTypeIDs"] + [0] * (T - len(f["inputIDs"])) for f in feats])
        return ids, att, typ

    def cls_logits(mlm_logits, ids):
        # PET: logits at the mask, then m2c with -1 filler and the mean over each label's tokens.
        masked = mlm_logits[ids == MASK]                                   # [B, V]
        width = max(len(r) for r in label_rows)
        m2c = torch.tensor([r + [-1] * (width - len(r)) for r in label_rows])
        filler_len = torch.tensor([len(r) for r in label_rows], dtype=torch.float)
        out = []
        for row in masked:
            c = row[torch.max(torch.zeros_like(m2c), m2c)] * (m2c > 0).float()
            out.append(c.sum(axis=1) / filler_len)
        return torch.stack(out)

    def aux_masks(feats):
        ids, att, typ = pad(feats)
        T = ids.shape[1]
        flat = ids.view(-1).clone()
        cand = [i for i in range(flat.numel()) if att.view(-1)[i] == 1 and int(flat[i]) not in (PAD, CLS, SEP, MASK)]
        chosen = sorted(rng.choice(cand, size=max(1, int(round(0.15 * len(cand)))), replace=False).tolist())
        targets = [int(flat[i]) for i in chosen]
        for i in chosen:
            r = rng.rand()
            if r < 0.8: flat[i] = MASK
            elif r < 0.9: flat[i] = int(rng.randint(0, V))
        return {"ids": flat.tolist(), "rows": chosen, "targets": targets}

    def run(alpha):
        torch.manual_seed(0)
        model = BertForMaskedLM.from_pretrained(model_dir)
        model.eval()
        no_decay = ["bias", "LayerNorm.weight"]
        groups = [
            {"params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)], "weight_decay": cfg["weightDecay"]},
            {"params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)], "weight_decay": 0.0}]
        opt = torch.optim.AdamW(groups, lr=cfg["learningRate"], eps=cfg["adamEpsilon"])
        sched = get_linear_schedule_with_warmup(opt, cfg["warmupSteps"], cfg["steps"])
        losses, masks = [], []
        for step in range(cfg["steps"]):
            b = (step * cfg["batchSize"]) % len(labelled)
            feats = labelled[b:b + cfg["batchSize"]]
            ids, att, typ = pad(feats)
            out = model(input_ids=ids, attention_mask=att, token_type_ids=typ)
            loss = torch.nn.CrossEntropyLoss()(cls_logits(out.logits, ids), torch.tensor([f["label"] for f in feats]))
            if alpha is not None:
                u = (step * cfg["unlabeledBatchSize"]) % len(unlabeled)
                ufeats = unlabeled[u:u + cfg["unlabeledBatchSize"]]
                m = aux_masks(ufeats)
                masks.append(m)
                uids, uatt, utyp = pad(ufeats)
                lm_labels = torch.full((uids.numel(),), -100, dtype=torch.long)
                lm_labels[m["rows"]] = torch.tensor(m["targets"])
                lm = model(input_ids=torch.tensor(m["ids"]).view_as(uids), attention_mask=uatt, token_type_ids=utyp,
                           labels=lm_labels.view_as(uids))
                loss = alpha * loss + (1 - alpha) * lm.loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["maxGradNorm"])
            opt.step()
            sched.step()
            model.zero_grad()
            losses.append(loss.item())
        return losses, masks

    plain, _ = run(None)
    aux, masks = run(0.5)
    return {"modelDirectory": "Tests/Fixtures/models/tiny-bert", "config": cfg, "padID": PAD, "maskID": MASK,
            "labelRows": label_rows, "labelled": labelled, "unlabeled": unlabeled,
            "petLosses": plain, "auxAlpha": 0.5, "auxLosses": aux, "auxMasks": masks}


def distillation():
    """PET's final-classifier distillation: BertForSequenceClassification (tiny-bert-cls fixture, eval mode =
    no dropout) trained on soft labels with PET's distillation_loss
    KLDivLoss(reduction='sum')(log_softmax(student/T), softmax(teacher/T)) * T^2 / batch, AdamW with PET's
    no-decay groups, linear warmup, clip 1.0, fixed order. Records every step's loss."""
    import torch
    import torch.nn.functional as F
    from transformers import BertForSequenceClassification, get_linear_schedule_with_warmup
    model_dir = os.path.join(ROOT, "Tests", "Fixtures", "models", "tiny-bert-cls")
    torch.manual_seed(0)
    model = BertForSequenceClassification.from_pretrained(model_dir)
    model.eval()
    L = model.config.num_labels
    rng = np.random.RandomState(5)
    feats = []
    for i in range(8):
        n = int(rng.randint(4, 20))
        feats.append({"inputIDs": [1] + rng.randint(5, 120, size=n).tolist() + [2]})
    teacher = (rng.randn(8, L) * 2).tolist()
    cfg = {"steps": 20, "batchSize": 4, "learningRate": 1e-3, "warmupSteps": 2, "weightDecay": 0.01,
           "adamEpsilon": 1e-8, "maxGradNorm": 1.0, "temperature": 2.0}
    no_decay = ["bias", "LayerNorm.weight"]
    groups = [
        {"params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)], "weight_decay": cfg["weightDecay"]},
        {"params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=cfg["learningRate"], eps=cfg["adamEpsilon"])
    sched = get_linear_schedule_with_warmup(opt, cfg["warmupSteps"], cfg["steps"])
    T = cfg["temperature"]
    losses = []
    for step in range(cfg["steps"]):
        b = (step * cfg["batchSize"]) % len(feats)
        batch = feats[b:b + cfg["batchSize"]]
        W = max(len(f["inputIDs"]) for f in batch)
        ids = torch.tensor([f["inputIDs"] + [0] * (W - len(f["inputIDs"])) for f in batch])
        att = (ids != 0).long()
        att[:, 0] = 1
        logits = model(input_ids=ids, attention_mask=att, token_type_ids=torch.zeros_like(ids)).logits
        targets = torch.tensor(teacher[b:b + cfg["batchSize"]])
        loss = torch.nn.KLDivLoss(reduction="sum")(F.log_softmax(logits / T, dim=-1), F.softmax(targets / T, dim=-1)) * (T ** 2) / logits.size(0)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["maxGradNorm"])
        opt.step()
        sched.step()
        model.zero_grad()
        losses.append(loss.item())
    return {"modelDirectory": "Tests/Fixtures/models/tiny-bert-cls", "numLabels": L, "config": cfg,
            "features": feats, "teacherLogits": teacher, "losses": losses}


if __name__ == "__main__":
    for name, fn in [("metrics.json", metrics), ("bert_inputs.json", bert_inputs), ("pet_training.json", pet_training),
                     ("distillation.json", distillation)]:
        with open(os.path.join(OUT, name), "w") as f:
            json.dump(fn(), f, indent=1, ensure_ascii=False)
            f.write("\n")
        print("wrote", os.path.join(OUT, name))

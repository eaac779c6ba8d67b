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


if __name__ == "__main__":
    for name, fn in [("metrics.json", metrics), ("bert_inputs.json", bert_inputs)]:
        with open(os.path.join(OUT, name), "w") as f:
            json.dump(fn(), f, indent=1, ensure_ascii=False)
            f.write("\n")
        print("wrote", os.path.join(OUT, name))

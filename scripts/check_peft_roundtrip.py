#!/usr/bin/env python3
"""Checks that an adapter (LoRA, DoRA, (IA)³, prompt tuning, P-tuning; prefix: loading only) saved by Cloze loads in Hugging Face peft and gives Cloze's outputs.

  /tmp/venv/bin/python scripts/check_peft_roundtrip.py ADAPTER_DIR [--model DIR] [--cloze .build/release/cloze]

Loads the base model with transformers, the adapter with `PeftModel.from_pretrained`, and compares the
fill-mask probabilities of the top tokens at each mask with `cloze fill-mask --adapter ADAPTER_DIR --json`
on a few sentences. Exits non-zero if any probability differs by more than 1e-4.
"""
import argparse
import json
import subprocess
import sys

import torch
import transformers
from peft import PeftModel

SENTENCES = ["the movie was [MASK].", "a gripping, [MASK] film. it was [MASK].", "all in all, it was [MASK]!"]

p = argparse.ArgumentParser()
p.add_argument("adapter")
p.add_argument("--model", default="../shared/models/minilm-l6-mlm")
p.add_argument("--cloze", default=".build/release/cloze")
a = p.parse_args()

tok = transformers.AutoTokenizer.from_pretrained(a.model)
base = transformers.AutoModelForMaskedLM.from_pretrained(a.model)
model = PeftModel.from_pretrained(base, a.adapter).eval()
if model.peft_config["default"].peft_type.value == "PREFIX_TUNING":
    # peft loads the prefix but refuses to run BERT-family models with it ("Model does not support past
    # key values"); scripts/make_prompt_fixtures.py's reference attention is what Cloze is tested against.
    print("PREFIX_TUNING adapter loaded by peft:", tuple(model.prompt_encoder["default"].embedding.weight.shape))
    sys.exit(0)
plain = transformers.AutoModelForMaskedLM.from_pretrained(a.model).eval()
worst, changed = 0.0, 0.0
for text in SENTENCES:
    enc = tok(text.replace("[MASK]", tok.mask_token), return_tensors="pt")
    with torch.no_grad():
        logits = model(**enc).logits[0]
        probs = logits[logits.shape[0] - enc["input_ids"].shape[1]:].softmax(-1)   # prompt methods prepend virtual tokens
        base_probs = plain(**enc).logits[0].softmax(-1)
    masks = (enc["input_ids"][0] == tok.mask_token_id).nonzero().flatten().tolist()
    out = json.loads(subprocess.check_output([a.cloze, "fill-mask", "--model", a.model, "--adapter", a.adapter,
                                              "--json", "--top-k", "5", text]))
    for m, pos in zip(out["masks"], masks):
        for c in m["candidates"]:
            d = abs(probs[pos, c["id"]].item() - c["probability"])
            worst = max(worst, d)
            changed = max(changed, abs(base_probs[pos, c["id"]].item() - c["probability"]))
        print(text, [(c["token"], round(c["probability"], 5), round(probs[pos, c["id"]].item(), 5)) for c in m["candidates"]])
print(f"largest |cloze - peft| probability difference: {worst:.2e}; the adapter moves them by up to {changed:.2e}")
sys.exit(0 if worst <= 1e-4 else 1)

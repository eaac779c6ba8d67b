#!/usr/bin/env python3
"""Writes PEFT LoRA fixtures under Tests/Fixtures/peft/ with Hugging Face peft itself.

Run from the package root:  /tmp/venv/bin/python scripts/make_peft_fixtures.py
Needs torch, transformers, peft, safetensors and the tiny checkpoints of make_model_fixtures.py.

For tiny-bert and tiny-roberta: a LoRA adapter (peft's own injection; lora_B redrawn non-zero so the
update matters) saved with `save_pretrained` (adapter_config.json + adapter_model.safetensors), and
lora.json with the MLM logits at a few positions and vocabulary rows, the cross-entropy loss, and
d(loss)/d(every lora_A / lora_B) — eval mode, so dropout is off.
"""
import json
import os

import torch
import transformers
from peft import IA3Config, LoraConfig, PromptTuningConfig, TaskType, get_peft_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "Tests", "Fixtures", "models")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "peft")

POSITIONS = [1, 2, 4, 10]      # flat b*T+t rows
ROWS = [4, 5, 6, 9, 30]        # vocabulary rows (verbalizer-like)
TARGETS = [0, 2, 3, 1]


def make(fixture, targets, r, alpha, seed, dora=False):
    config = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=0.0, target_modules=targets, use_dora=dora)

    def perturb(name, p, g):
        if "lora_B" in name:
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
        elif "lora_magnitude_vector" in name:      # DoRA: move the magnitudes off ||W|| so they matter
            p.mul_(1 + 0.3 * torch.randn(p.shape, generator=g))

    adapted(fixture, config, perturb, seed, f"{fixture}-{'dora' if dora else 'lora'}")


def make_ia3(fixture, seed, targets=None, feedforward=None):
    config = IA3Config(target_modules=targets, feedforward_modules=feedforward)

    def perturb(name, p, g):
        if "ia3_l" in name:
            p.copy_(1 + 0.3 * torch.randn(p.shape, generator=g))

    adapted(fixture, config, perturb, seed, f"{fixture}-ia3")


def adapted(fixture, config, perturb, seed, outname):
    """Any PEFT method that wraps Linear layers: logits, loss, every adapter gradient, trainable count."""
    base = os.path.join(MODELS, fixture)
    golden = json.load(open(os.path.join(base, "golden.json")))
    model = transformers.AutoModelForMaskedLM.from_pretrained(base)
    torch.manual_seed(seed)
    peft_model = get_peft_model(model, config)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            perturb(name, p, g)
    peft_model.eval()
    b, t = golden["batch"], golden["seqLen"]
    ids = torch.tensor(golden["inputIds"]).view(b, t)
    mask = torch.tensor(golden["attentionMask"]).view(b, t)
    kwargs = dict(input_ids=ids, attention_mask=mask)
    if golden["arch"] != "distilbert":
        kwargs["token_type_ids"] = torch.tensor(golden["tokenTypeIds"]).view(b, t)
    logits = peft_model(**kwargs).logits.reshape(b * t, -1)[POSITIONS][:, ROWS]
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor(TARGETS))
    loss.backward()
    grads = {}
    for name, p in peft_model.named_parameters():
        if p.requires_grad:
            # base_model.model.<module>.lora_A.default.weight -> the saved name (no adapter name);
            # DoRA's magnitude is saved as <module>.lora_magnitude_vector (no ".weight")
            saved = name.replace(".default", "").replace("lora_magnitude_vector.weight", "lora_magnitude_vector")
            grads[saved] = p.grad.flatten().tolist()
    out = os.path.join(OUT, outname)
    peft_model.save_pretrained(out)
    with open(os.path.join(out, "lora.json"), "w") as f:
        json.dump({"base": f"Tests/Fixtures/models/{fixture}", "positions": POSITIONS, "rows": ROWS, "targets": TARGETS,
                   "logits": logits.detach().flatten().tolist(), "loss": loss.item(), "grads": grads,
                   "trainable": sum(p.numel() for p in peft_model.parameters() if p.requires_grad),
                   "all": sum(p.numel() for p in peft_model.parameters())}, f)
    print(out, "trainable", sum(len(v) for v in grads.values()))


def make_prompt(fixture, n, seed):
    """Prompt tuning through PeftModelForTokenClassification, whose forward prepends the virtual tokens
    to a masked LM's inputs_embeds (attention 1, token type 0) and returns the MLM logits [B, n+T, V]."""
    base = os.path.join(MODELS, fixture)
    golden = json.load(open(os.path.join(base, "golden.json")))
    model = transformers.AutoModelForMaskedLM.from_pretrained(base)
    torch.manual_seed(seed)
    peft_model = get_peft_model(model, PromptTuningConfig(task_type=TaskType.TOKEN_CLS, num_virtual_tokens=n))
    peft_model.eval()
    b, t = golden["batch"], golden["seqLen"]
    ids = torch.tensor(golden["inputIds"]).view(b, t)
    kwargs = dict(input_ids=ids, attention_mask=torch.tensor(golden["attentionMask"]).view(b, t),
                  token_type_ids=torch.tensor(golden["tokenTypeIds"]).view(b, t))
    logits = peft_model(**kwargs).logits
    wide = [(p // t) * (t + n) + n + p % t for p in POSITIONS]
    picked = logits.reshape(b * (t + n), -1)[wide][:, ROWS]
    loss = torch.nn.functional.cross_entropy(picked, torch.tensor(TARGETS))
    loss.backward()
    (prompt,) = [p for p in peft_model.parameters() if p.requires_grad]
    out = os.path.join(OUT, f"{fixture}-prompt")
    peft_model.save_pretrained(out)
    with open(os.path.join(out, "prompt.json"), "w") as f:
        json.dump({"positions": POSITIONS, "rows": ROWS, "targets": TARGETS, "virtualTokens": n,
                   "logits": picked.detach().flatten().tolist(), "loss": loss.item(),
                   "grad": prompt.grad.flatten().tolist()}, f)
    print(out, "prompt", tuple(prompt.shape))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    make("tiny-bert", ["query", "value"], r=4, alpha=8, seed=11)
    make("tiny-roberta", ["query", "key", "value", "dense"], r=2, alpha=5, seed=12)
    make("tiny-bert", ["query", "value"], r=4, alpha=8, seed=15, dora=True)
    make("tiny-roberta", ["query", "key", "value", "dense"], r=2, alpha=5, seed=16, dora=True)
    make_ia3("tiny-bert", seed=17)
    make_ia3("tiny-roberta", seed=18)
    make_ia3("tiny-distilbert", seed=19, targets=["k_lin", "v_lin", "lin2"], feedforward=["lin2"])
    make_prompt("tiny-bert", 3, seed=13)
    make_prompt("tiny-roberta", 4, seed=14)
    for d in os.listdir(OUT):
        readme = os.path.join(OUT, d, "README.md")
        if os.path.exists(readme):
            os.remove(readme)

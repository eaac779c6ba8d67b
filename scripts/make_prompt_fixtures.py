#!/usr/bin/env python3
"""Prefix tuning, P-tuning and bottleneck-adapter fixtures under Tests/Fixtures/peft/.

Run from the package root:  /tmp/venv/bin/python scripts/make_prompt_fixtures.py
Needs torch, transformers, peft, safetensors and the tiny checkpoints of make_model_fixtures.py.

- P-tuning (MLP and LSTM encoders): peft's own PeftModelForTokenClassification, which prepends the
  encoder's virtual tokens to a masked LM's inputs_embeds.
- Prefix tuning: peft builds the PrefixEncoder and its past_key_values (get_prompt), but refuses to run
  BERT-family models ("Model does not support past key values"). The reference therefore feeds peft's
  per-layer keys/values into the models' own attention through a registered attention function that
  concatenates them before the sequence's keys and values (unmasked), as P-tuning v2 does.
- Houlsby adapters (peft has none): forward hooks on the attention-output and feed-forward-output
  projections add x + up(swish(down(x))) (eval mode: dropout is off, so the hook point is exact).

Each fixture directory holds the trainable tensors (encoder.safetensors, PEFT names), the adapter as
peft's save_pretrained writes it (prompt methods), and fixture.json with logits at a few positions and
vocabulary rows, the cross-entropy loss and d(loss)/d(every trainable tensor).
"""
import json
import os

import torch
import transformers
from peft import PrefixTuningConfig, PromptEncoderConfig, TaskType, get_peft_model
from safetensors.torch import save_file
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward  # noqa: F401  (registers nothing; import check)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "Tests", "Fixtures", "models")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "peft")
POSITIONS = [1, 2, 4, 10]
ROWS = [4, 5, 6, 9, 30]
TARGETS = [0, 2, 3, 1]


def inputs(fixture):
    golden = json.load(open(os.path.join(MODELS, fixture, "golden.json")))
    b, t = golden["batch"], golden["seqLen"]
    kw = dict(input_ids=torch.tensor(golden["inputIds"]).view(b, t),
              attention_mask=torch.tensor(golden["attentionMask"]).view(b, t))
    if golden["arch"] != "distilbert":
        kw["token_type_ids"] = torch.tensor(golden["tokenTypeIds"]).view(b, t)
    return golden, b, t, kw


def dump(outname, trainable, picked, extra):
    loss = torch.nn.functional.cross_entropy(picked, torch.tensor(TARGETS))
    loss.backward()
    out = os.path.join(OUT, outname)
    os.makedirs(out, exist_ok=True)
    save_file({n: p.detach().contiguous() for n, p in trainable.items()}, os.path.join(out, "encoder.safetensors"))
    with open(os.path.join(out, "fixture.json"), "w") as f:
        json.dump(dict(extra, positions=POSITIONS, rows=ROWS, targets=TARGETS,
                       logits=picked.detach().flatten().tolist(), loss=loss.item(),
                       grads={n: p.grad.flatten().tolist() for n, p in trainable.items()},
                       trainable=sum(p.numel() for p in trainable.values())), f)
    print(out, {n: tuple(p.shape) for n, p in trainable.items()})


def make_ptuning(fixture, kind, n, hidden, seed):
    golden, b, t, kw = inputs(fixture)
    model = transformers.AutoModelForMaskedLM.from_pretrained(os.path.join(MODELS, fixture))
    torch.manual_seed(seed)
    cfg = PromptEncoderConfig(task_type=TaskType.TOKEN_CLS, num_virtual_tokens=n, encoder_hidden_size=hidden,
                              encoder_reparameterization_type=kind.upper())
    pm = get_peft_model(model, cfg)
    pm.eval()
    logits = pm(**kw).logits
    wide = [(p // t) * (t + n) + n + p % t for p in POSITIONS]
    picked = logits.reshape(b * (t + n), -1)[wide][:, ROWS]
    trainable = {name.replace("prompt_encoder.default.", "prompt_encoder."): p
                 for name, p in pm.named_parameters() if p.requires_grad}
    outname = f"{fixture}-ptuning-{kind}"
    dump(outname, trainable, picked, dict(virtualTokens=n, encoderHidden=hidden, kind=kind))
    pm.save_pretrained(os.path.join(OUT, outname, "adapter"))


PREFIX = {}


def prefix_attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    """query/key/value [B, heads, T, d]. Prepends step k's prefix (k = call count) and masks padded keys."""
    step = PREFIX["step"]
    PREFIX["step"] += 1
    pk, pv = PREFIX["kv"][step]                       # [B, heads, n, d] each
    key = torch.cat([pk, key], dim=2)
    value = torch.cat([pv, value], dim=2)
    n = pk.shape[2]
    keep = torch.cat([torch.ones(query.shape[0], n), PREFIX["mask"].float()], dim=1)   # [B, n+T]
    scores = torch.matmul(query, key.transpose(2, 3)) * (scaling if scaling is not None else query.shape[-1] ** -0.5)
    scores = scores.masked_fill(keep[:, None, None, :] == 0, torch.finfo(scores.dtype).min)
    probs = torch.softmax(scores, dim=-1)
    return torch.matmul(probs, value).transpose(1, 2).contiguous(), probs


AttentionInterface.register("cloze_prefix", prefix_attention)


def make_prefix(fixture, n, projection, seed):
    golden, b, t, kw = inputs(fixture)
    base = os.path.join(MODELS, fixture)
    model = transformers.AutoModelForMaskedLM.from_pretrained(base, attn_implementation="cloze_prefix")
    torch.manual_seed(seed)
    cfg = PrefixTuningConfig(task_type=TaskType.TOKEN_CLS, num_virtual_tokens=n,
                             prefix_projection=projection is not None, encoder_hidden_size=projection or 0)
    pm = get_peft_model(model, cfg)
    pm.eval()
    raw = pm.get_prompt(batch_size=b)             # peft's own layout
    if hasattr(raw, "to_legacy_cache"):
        raw = raw.to_legacy_cache()
    if hasattr(raw, "layers"):
        raw = [(layer.keys, layer.values) for layer in raw.layers]
    PREFIX.update(step=0, kv=list(raw), mask=kw["attention_mask"])
    logits = pm.get_base_model()(**kw).logits
    assert PREFIX["step"] == cfg.num_layers, (PREFIX["step"], cfg.num_layers)
    picked = logits.reshape(b * t, -1)[POSITIONS][:, ROWS]
    trainable = {name.replace("prompt_encoder.default.", "prefix_encoder."): p
                 for name, p in pm.named_parameters() if p.requires_grad}
    outname = f"{fixture}-prefix" + ("-projection" if projection else "")
    dump(outname, trainable, picked, dict(virtualTokens=n, projection=projection or 0, layers=cfg.num_layers))
    pm.save_pretrained(os.path.join(OUT, outname, "adapter"))


def make_houlsby(fixture, reduction, seed):
    golden, b, t, kw = inputs(fixture)
    model = transformers.AutoModelForMaskedLM.from_pretrained(os.path.join(MODELS, fixture))
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    g = torch.Generator().manual_seed(seed)
    hidden = model.config.hidden_size
    m = hidden // reduction
    trainable = {}
    modules = dict(model.named_modules())
    prefix = model.base_model_prefix
    after = [n for n in modules if n.startswith(prefix + ".encoder.layer.") and
             (n.endswith("attention.output.dense") or (n.endswith(".output.dense") and "attention" not in n))]
    for name in after:
        tensors = {"down.weight": torch.randn(m, hidden, generator=g) * 0.3, "down.bias": torch.randn(m, generator=g) * 0.1,
                   "up.weight": torch.randn(hidden, m, generator=g) * 0.3, "up.bias": torch.randn(hidden, generator=g) * 0.1}
        params = {k: torch.nn.Parameter(v) for k, v in tensors.items()}
        for k, p in params.items():
            trainable[f"{name}.adapter.{k}"] = p

        def hook(mod, args, out, params=params):
            h = torch.nn.functional.linear(out, params["down.weight"], params["down.bias"])
            return out + torch.nn.functional.linear(torch.nn.functional.silu(h), params["up.weight"], params["up.bias"])
        modules[name].register_forward_hook(hook)
    logits = model(**kw).logits
    picked = logits.reshape(b * t, -1)[POSITIONS][:, ROWS]
    dump(f"{fixture}-houlsby", trainable, picked, dict(reduction=reduction))


if __name__ == "__main__":
    make_ptuning("tiny-bert", "mlp", 3, 16, seed=21)
    make_ptuning("tiny-roberta", "mlp", 4, 8, seed=22)
    make_ptuning("tiny-bert", "lstm", 3, 8, seed=23)
    make_ptuning("tiny-roberta", "lstm", 2, 6, seed=24)
    make_prefix("tiny-bert", 3, None, seed=25)
    make_prefix("tiny-roberta", 2, None, seed=26)
    make_prefix("tiny-bert", 4, 12, seed=27)
    make_prefix("tiny-albert", 3, None, seed=28)
    make_houlsby("tiny-bert", 4, seed=29)
    make_houlsby("tiny-roberta", 8, seed=30)
    for root, _, files in os.walk(OUT):
        if "README.md" in files:
            os.remove(os.path.join(root, "README.md"))

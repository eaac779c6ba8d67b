#!/usr/bin/env python3
"""Writes Tests/Fixtures/pet/ipet-sampling.json: iPET's pseudo-labelling as timoschick/pet's own code does it.

Runs the reference's `generate_ipet_train_set`, `eq_div` and `train_ipet`'s set-size formula (pet/modeling.py,
pet/utils.py of a checkout) on random logits of 9 "models" (3 patterns x 3 repetitions), 3 labels and 120
pool examples. The reference's model subset is random (`rng.sample`), so the fixture uses
logits_percentage = 1.0 (every other model), which makes the ensemble, the predicted labels, the candidate
sets and the per-label counts seed-free. When a label's count equals its number of candidates the drawn
set is seed-free too (numpy's choice without replacement takes them all); the fixture includes such cases.

The reference imports sklearn, transformers 3's metrics and its own model wrapper at module level; the
functions called here use only numpy, so those modules are stubbed (torch and transformers are real).

    git -C /work/.mirror/timoschick+pet/repo archive HEAD | tar -x -C /tmp/petref
    /tmp/venv/bin/python scripts/make_ipet_sampling_fixtures.py /tmp/petref
"""
import json, os, sys, types

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REF = sys.argv[1] if len(sys.argv) > 1 else "/tmp/petref"


def stub(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    sys.modules[name] = m


class Anything:
    def __init__(self, *a, **k): pass
    def __getattr__(self, name): return Anything()
    def __call__(self, *a, **k): return Anything()


stub("sklearn"); stub("sklearn.metrics", f1_score=None)
stub("transformers.data.metrics", simple_accuracy=None)   # gone from current transformers
stub("log", get_logger=lambda name: Anything())
stub("pet.wrapper", TransformerModelWrapper=object, SEQUENCE_CLASSIFIER_WRAPPER="sequence_classifier", WrapperConfig=object)
sys.path.insert(0, REF)
import importlib.util
pet_pkg = types.ModuleType("pet"); pet_pkg.__path__ = [os.path.join(REF, "pet")]; sys.modules["pet"] = pet_pkg
spec = importlib.util.spec_from_file_location("pet.utils", os.path.join(REF, "pet", "utils.py"))
utils = importlib.util.module_from_spec(spec); sys.modules["pet.utils"] = utils; spec.loader.exec_module(utils)
spec = importlib.util.spec_from_file_location("pet.modeling", os.path.join(REF, "pet", "modeling.py"))
modeling = importlib.util.module_from_spec(spec); sys.modules["pet.modeling"] = modeling; spec.loader.exec_module(modeling)

LABELS = ["0", "1", "2"]
L, N, MODELS = len(LABELS), 120, 9
rng = np.random.RandomState(11)
# Each model: noisy view of shared per-example scores, so the ensembles are non-trivial.
base = rng.randn(N, L) * 2.0
models = [{"weight": float(rng.uniform(0.3, 0.9)), "logits": (base + rng.randn(N, L)).astype(np.float32).astype(float).tolist()}
          for _ in range(MODELS)]
train_labels = [0] * 5 + [1] * 7 + [2] * 4   # |T| = 16, uneven on purpose


def set_sizes(train_count, scale_factor, generations):
    """train_ipet's formula (pet/modeling.py) and generate_ipet_train_sets' examples_per_label / eq_div."""
    out = []
    for gen in range(generations):
        original = train_count if train_count else 10 / scale_factor
        new = int(original * (scale_factor ** (gen + 1)) - train_count)
        if train_count:
            per_label = [sum(1 for l in train_labels if l == lab) for lab in range(L)]
            per_label = [int(epl * new / train_count) for epl in per_label]
        else:
            per_label = utils.eq_div(new, L)
        out.append({"trainCount": train_count, "generation": gen, "scaleFactor": scale_factor,
                    "newExamples": new, "examplesPerLabel": per_label})
    return out


def run_case(model, examples_per_label, n_most_likely, reduction="wmean"):
    pool = [utils.InputExample(guid=str(i), text_a="x") for i in range(N)]
    others = [utils.LogitsList(score=m["weight"], logits=m["logits"]) for j, m in enumerate(models) if j != model]
    drawn = modeling.generate_ipet_train_set(
        others, labels=LABELS, original_data=pool, examples_per_label=examples_per_label, logits_percentage=1.0,
        reduction=reduction, n_most_likely=n_most_likely, rng=__import__("random").Random(0),
        rng_np=np.random.RandomState(0))
    predicted = [LABELS.index(ex.label) for ex in pool]    # set by the call on every pool example
    probs = [ex.logits for ex in pool]
    return {"model": model, "examplesPerLabel": examples_per_label, "nMostLikely": n_most_likely,
            "predicted": predicted, "probabilities": probs,
            "drawnIndices": [int(ex.guid) for ex in drawn], "drawnLabels": [LABELS.index(ex.label) for ex in drawn]}


cases = []
# PET-style generations with |T| = 16, d = 5: the sizes of generations 0 and 1 (64 and 384 new examples).
for model, epl in [(0, [20, 28, 16]), (4, [120, 168, 96])]:
    cases.append(run_case(model, epl, -1))
# Seed-free draws: each label's count equals its number of candidates (taken from a first call).
probe = run_case(2, [1, 1, 1], -1)
counts = [probe["predicted"].count(l) for l in range(L)]
cases.append(run_case(2, counts, -1))
# Zero-shot iPET, first generation: the n most likely per label; count == n makes the set seed-free.
cases.append(run_case(5, [10, 10, 10], 10))
cases.append(run_case(7, [3, 4, 2], 25))

fixture = {"labels": L, "models": models, "trainLabels": train_labels,
           "setSizes": set_sizes(16, 5.0, 3) + set_sizes(0, 5.0, 3) + set_sizes(16, 2.0, 3),
           "cases": cases}
path = os.path.join(ROOT, "Tests", "Fixtures", "pet", "ipet-sampling.json")
with open(path, "w") as f:
    json.dump(fixture, f)
print("wrote", path, "counts", counts)

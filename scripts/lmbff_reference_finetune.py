#!/usr/bin/env python3
"""LM-BFF's prompt-based fine-tuning (with or without demonstrations) on the shared MiniLM MLM, as a
reference for `cloze train`: LM-BFF's own code for inputs and model, taken from the mirror at run
time (not copied) — `tokenize_multipart_input`, `input_example_to_tuple`, `FewShotDataset.select_context`
and `FewShotDataset.convert_fn` from src/dataset.py, `BertForPromptFinetuning` from src/models.py
(its transformers-3 imports pointed at today's modules). LM-BFF's `Trainer` subclass targets
transformers 3.4 internals, so the loop below is what it runs with these arguments: a fresh random
permutation of the training set per epoch, a fresh demonstration set at every `__getitem__`, AdamW
(bias and LayerNorm weights undecayed), linear decay without warmup, gradient norm clipped at 1, and
at test time `num_sample` demonstration sets per query with the label logits averaged.

Hyperparameters are Cloze's PET defaults so the two runs are the same experiment: 250 steps, batch 4,
lr 1e-5, weight decay 0.01, max length 128 (doubled with demonstrations, LM-BFF's --double_demo).

    /tmp/venv/bin/python scripts/lmbff_reference_finetune.py --seeds 1,2,3 [--demos] [--split-seed 42]
Prints one JSON line per training seed: {"seed", "demos", "accuracy"}.
"""
import argparse, ast, json, logging, os, subprocess, sys, types

import numpy as np
import pandas as pd
import torch
import transformers
import transformers.models.bert.modeling_bert as modeling_bert
import transformers.models.roberta.modeling_roberta as modeling_roberta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared")
MODEL = os.path.join(SHARED, "models", "minilm-l6-mlm")
TEMPLATE = "*cls**sent_0*_It_was*mask*.*sep+*"
DEMO_TEMPLATE = TEMPLATE + "*sent_1*_It_was*label_0*.*sep+**sent_2*_It_was*label_1*.*sep+*"
WORDS = ["terrible", "great"]


def lmbff_source(repo, path):
    for flag in ("--git-dir", "-C"):
        out = subprocess.run(["git", flag, repo, "show", "HEAD:" + path], capture_output=True, text=True).stdout
        if out:
            return out
    sys.exit(f"cannot read {path} from the LM-BFF mirror at {repo} (fetch princeton-nlp/LM-BFF)")


def lmbff_namespace(repo):
    """LM-BFF's dataset functions and methods and its BertForPromptFinetuning, executed from its source."""
    sys.modules["transformers.modeling_bert"] = modeling_bert
    sys.modules["transformers.modeling_roberta"] = modeling_roberta
    logger = logging.getLogger("lmbff")
    ns = {"logger": logger, "pd": pd, "np": np, "torch": torch, "median_mapping": {},
          "OurInputFeatures": lambda **kw: types.SimpleNamespace(**kw)}
    tree = ast.parse(lmbff_source(repo, "src/dataset.py"))
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)
                 and n.name in ("tokenize_multipart_input", "input_example_to_tuple")]
    dataset = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "FewShotDataset")
    methods = [n for n in dataset.body if isinstance(n, ast.FunctionDef) and n.name in ("select_context", "convert_fn")]
    exec(compile(ast.Module(functions + methods, []), "lmbff_dataset.py", "exec"), ns)
    models = ast.parse(lmbff_source(repo, "src/models.py"))
    exec(compile(models, "lmbff_models.py", "exec"), ns)
    # transformers 5 finishes a model in post_init (tied-weight bookkeeping); LM-BFF's init_weights predates it.
    cls = ns["BertForPromptFinetuning"]
    lmbff_init = cls.__init__
    def init(self, config):
        lmbff_init(self, config)
        self.post_init()
    cls.init_weights = lambda self: None
    # Its MLM decoder is the word-embedding table, as in BertForMaskedLM (transformers 3 tied it implicitly).
    cls._tied_weights_keys = modeling_bert.BertForMaskedLM._tied_weights_keys
    cls.__init__ = init
    return ns


class Dataset:
    """The parts of LM-BFF's FewShotDataset that select_context / convert_fn read."""

    def __init__(self, ns, tokenizer, args, support, label_words):
        self.select_context = types.MethodType(ns["select_context"], self)
        self.convert_fn = types.MethodType(ns["convert_fn"], self)
        self.tokenizer, self.args, self.support = tokenizer, args, support
        self.label_list = ["0", "1"]
        self.label_word_list = label_words

    def features(self, example, candidates):
        supports = self.select_context([self.support[i] for i in candidates]) if self.args.use_demo else []
        return self.convert_fn(example=example, supports=supports, use_demo=self.args.use_demo, label_list=self.label_list,
                               prompt=True, template=self.args.template, label_word_list=self.label_word_list)


def read_tsv(path):
    rows = [l.rstrip("\n").split("\t") for l in open(path, encoding="utf-8")][1:]
    return [types.SimpleNamespace(guid=str(i), text_a=r[0], text_b=None, label=r[1]) for i, r in enumerate(rows)]


def collate(features):
    n = max(sum(f.attention_mask) for f in features)
    t = lambda key: torch.tensor([getattr(f, key)[:n] for f in features])
    return dict(input_ids=t("input_ids"), attention_mask=t("attention_mask"),
                mask_pos=torch.tensor([f.mask_pos[0] for f in features]), labels=torch.tensor([f.label for f in features]))


def run(ns, tokenizer, train, test, seed, demos, args):
    torch.manual_seed(seed); np.random.seed(seed)
    label_words = [tokenizer.convert_tokens_to_ids(w) for w in WORDS]
    lmbff_args = types.SimpleNamespace(max_seq_length=128, double_demo=True, first_sent_limit=None, other_sent_limit=None,
                                       truncate_head=False, gpt3_in_context_head=False, gpt3_in_context_tail=False,
                                       task_name="sst-2", use_demo=demos, template=DEMO_TEMPLATE if demos else TEMPLATE)
    data = Dataset(ns, tokenizer, lmbff_args, train, label_words)
    model = ns["BertForPromptFinetuning"].from_pretrained(MODEL)
    model.label_word_list = torch.tensor(label_words)
    decay = [p for n, p in model.named_parameters() if not any(k in n for k in ("bias", "LayerNorm.weight"))]
    no_decay = [p for n, p in model.named_parameters() if any(k in n for k in ("bias", "LayerNorm.weight"))]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, eps=1e-8)
    schedule = transformers.get_linear_schedule_with_warmup(opt, 0, args.steps)
    order, step = [], 0
    model.train()
    while step < args.steps:
        if len(order) < args.batch_size:
            order += torch.randperm(len(train)).tolist()
        batch, order = order[:args.batch_size], order[args.batch_size:]
        # Train mode: every query's candidates are the other training examples (LM-BFF's example_idx).
        feats = [data.features(train[i], [j for j in range(len(train)) if j != i]) for i in batch]
        loss = model(**collate(feats))[0]
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step(); schedule.step(); opt.zero_grad()
        step += 1
    model.eval()
    samples = args.num_sample if demos else 1
    logits = []
    with torch.no_grad():
        for _ in range(samples):
            feats = [data.features(e, list(range(len(train)))) for e in test]
            out = [model(**{k: v for k, v in collate(feats[i:i + 32]).items() if k != "labels"})[0] for i in range(0, len(feats), 32)]
            logits.append(torch.cat(out))
    mean = torch.stack(logits).mean(0)
    gold = torch.tensor([int(e.label) for e in test])
    return float((mean.argmax(-1) == gold).float().mean())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lmbff", default="/work/.mirror/princeton-nlp+LM-BFF/repo")
    p.add_argument("--seeds", default="1")
    p.add_argument("--split-seed", type=int, default=42)
    p.add_argument("--demos", action="store_true")
    p.add_argument("--steps", type=int, default=250)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--lr", type=float, default=1e-5)
    p.add_argument("--num-sample", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--test-limit", type=int, default=None, help="first N test sentences only (smoke runs)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING)
    ns = lmbff_namespace(args.lmbff)
    tokenizer = transformers.AutoTokenizer.from_pretrained(MODEL)
    if not hasattr(tokenizer, "_convert_token_to_id"):
        tokenizer._convert_token_to_id = tokenizer.convert_tokens_to_ids
    split = os.path.join(SHARED, "datasets", "lmbff_kshot", "SST-2", f"16-{args.split_seed}")
    train, test = read_tsv(os.path.join(split, "train.tsv")), read_tsv(os.path.join(split, "test.tsv"))[:args.test_limit]
    for s in [int(x) for x in args.seeds.split(",")]:
        acc = run(ns, tokenizer, train, test, s, args.demos, args)
        print(json.dumps({"seed": s, "demos": args.demos, "accuracy": round(100 * acc, 2)}), flush=True)


if __name__ == "__main__":
    main()

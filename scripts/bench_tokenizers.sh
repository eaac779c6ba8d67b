#!/usr/bin/env bash
# Side-by-side single-thread tokenizer throughput: cloze (release) vs HF tokenizers (Rust via Python).
# Run from the package root after `swift build -c release --product cloze`.
set -euo pipefail
export RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false
PY=${PY:-/work/venv/bin/python}
H=Tests/Fixtures/tokenizers/hostile.txt
S=../shared/datasets/sst2_glue/train.tsv
for spec in "../shared/models/minilm-l6-mlm|$H|" "../shared/models/minilm-l6-mlm|$S|--tsv" \
            "Tests/Fixtures/tokenizers/bpe|$H|" "Tests/Fixtures/tokenizers/bpe|$S|--tsv" \
            "Tests/Fixtures/tokenizers/unigram|$H|" "Tests/Fixtures/tokenizers/unigram|$S|--tsv"; do
  IFS='|' read -r m f t <<<"$spec"
  echo "== $m on $f"
  ./.build/release/cloze bench-tokenizer --model "$m" --file "$f" $t --repeats ${REPEATS:-5}
  $PY scripts/bench_hf_tokenizer.py --model "$m/tokenizer.json" --file "$f" $t --repeats ${REPEATS:-5}
done

#!/usr/bin/env bash
# Times `cloze label --adapter a,b,c` (one stacked pass) against three separate `cloze label --adapter x`
# runs on the same pool. Usage: scripts/bench_multi_adapter.sh CLOZE_BIN ADAPTER_A ADAPTER_B ADAPTER_C [ROWS]
# Extra `cloze label` options (another base model, NF4) in LABEL_ARGS, e.g.
#   LABEL_ARGS="--model /tmp/bert-base --quantize nf4" scripts/bench_multi_adapter.sh ...
# Run alone (no build or training beside it): the numbers are wall times on this machine.
set -euo pipefail
bin=$1; a=$2; b=$3; c=$4; rows=${5:-2000}
read -r -a extra <<< "${LABEL_ARGS:-}"
work=$(mktemp -d)
head -n $((rows + 1)) ../shared/datasets/sst2_glue/train.tsv > "$work/pool.tsv"
t0=$(date +%s.%N)
"$bin" label --task sst-2 "${extra[@]}" --adapter "$a,$b,$c" --in "$work/pool.tsv" --out "$work/shared" --no-progress > /dev/null
t1=$(date +%s.%N)
for x in "$a" "$b" "$c"; do
  "$bin" label --task sst-2 "${extra[@]}" --adapter "$x" --in "$work/pool.tsv" --out "$work/separate-$(basename "$x")" --no-progress > /dev/null
done
t2=$(date +%s.%N)
for x in "$a" "$b" "$c"; do
  cmp -s "$work/shared/"*"-$(basename "$x").jsonl" "$work/separate-$(basename "$x")/0-$(basename "$x").jsonl" \
    && echo "$(basename "$x"): identical output" || echo "$(basename "$x"): outputs differ in the last digits (batch composition)"
done
python3 - "$t0" "$t1" "$t2" "$rows" <<'PY'
import sys
t0, t1, t2, rows = map(float, sys.argv[1:])
print(f"{int(rows)} rows x 3 adapters: one stacked pass {t1 - t0:.1f} s, three separate runs {t2 - t1:.1f} s, ratio {(t2 - t1) / (t1 - t0):.2f}x")
PY
rm -rf "$work"

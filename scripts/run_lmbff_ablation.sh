#!/usr/bin/env bash
# LM-BFF ablation on one task, 5 seeds, pattern models only (no distillation / fine-tuning):
#   manual prompt | + demonstrations | + similarity filter | auto label words | auto template | auto template + label words.
# Usage: scripts/run_lmbff_ablation.sh TASK OUTDIR [CLOZE_BINARY] [EXTRA TRAIN ARGS...]
# Prints one accuracy line per variant (mean ± std over seeds, from each results.json) and the searches' wall time.
set -euo pipefail
task=$1; out=$2; cloze=${3:-.build/release/cloze}; shift $(( $# >= 3 ? 3 : $# ))
seeds=13,21,42,87,100
common=(--task "$task" --no-distill --no-fine-tune --no-progress "$@")
mkdir -p "$out"
first_pattern() { grep -v '^\s*#' "$1" | grep -v '^\s*$' | head -1; }
task_patterns=$(python3 -c "import json,sys; print(json.load(open('datasets/$task.json'))['prompts'][0]['patterns'])")
task_verbalizer=$(python3 -c "import json,sys; print(json.load(open('datasets/$task.json'))['prompts'][0]['verbalizer'])")
first_pattern "$task_patterns" > "$out/manual.txt"
printf '%s {demo}\n' "$(first_pattern "$task_patterns")" > "$out/manual-demo.txt"
run() { local name=$1; shift; [ -f "$out/$name/results.json" ] || "$cloze" train "${common[@]}" "$@" --out "$out/$name" > "$out/$name.log" 2>&1; }
run manual --seeds $seeds --patterns "$out/manual.txt" --verbalizer "$task_verbalizer" --no-zero-shot
# SKIP_DEMOS=1 leaves out the two demonstration rows (16 sets per test example: most of the run's time).
if [ -z "${SKIP_DEMOS:-}" ]; then
  run demos --seeds $seeds --patterns "$out/manual-demo.txt" --verbalizer "$task_verbalizer"
  run demos-filter --seeds $seeds --patterns "$out/manual-demo.txt" --verbalizer "$task_verbalizer" --demo-filter --no-zero-shot
fi
start=$(date +%s)
[ -f "$out/labels/search.json" ] || "$cloze" search labels --task "$task" --seeds $seeds --patterns "$out/manual.txt" --verbalizer "$task_verbalizer" --out "$out/labels" --no-progress > "$out/labels.log" 2>&1
mid=$(date +%s)
[ -f "$out/templates/search.json" ] || "$cloze" search templates --task "$task" --seeds $seeds --out "$out/templates" --no-progress > "$out/templates.log" 2>&1
end=$(date +%s)
echo "label search $((mid - start)) s, template search $((end - mid)) s (5 seeds; 0 when cached)"
for s in ${seeds//,/ }; do
  run "auto-labels-$s" --seeds "$s" --patterns "$out/manual.txt" --verbalizer "$out/labels/labels-seed-$s.txt" --no-zero-shot
  first_pattern "$out/templates/templates-seed-$s.txt" > "$out/templates/top-$s.txt"
  run "auto-template-$s" --seeds "$s" --patterns "$out/templates/top-$s.txt" --verbalizer "$task_verbalizer" --no-zero-shot
  # Auto T + L: templates searched around the seed's found label words (LM-BFF searches label words
  # with the manual template, then templates with those words; the pattern only gives the slots).
  [ -f "$out/templates-tl-$s/search.json" ] || "$cloze" search templates --task "$task" --seeds "$s" \
    --patterns "$out/manual.txt" --verbalizer "$out/labels/labels-seed-$s.txt" --out "$out/templates-tl-$s" --no-progress > "$out/templates-tl-$s.log" 2>&1
  first_pattern "$out/templates-tl-$s/templates-seed-$s.txt" > "$out/templates-tl-$s/top.txt"
  run "auto-template-labels-$s" --seeds "$s" --patterns "$out/templates-tl-$s/top.txt" --verbalizer "$out/labels/labels-seed-$s.txt" --no-zero-shot
done
python3 - "$out" <<'PY'
import json, os, statistics, sys
out = sys.argv[1]
def runs(name, key="patterns"):
    r = json.load(open(os.path.join(out, name, "results.json")))
    return [x["accuracy"] for p in r[key] for x in p["scores"]["runs"]]
def line(label, accs):
    print(f"{label:32s} {100 * statistics.mean(accs):6.2f} ± {100 * statistics.pstdev(accs):5.2f}  ({len(accs)} runs)")
line("manual prompt", runs("manual"))
if os.path.exists(os.path.join(out, "demos", "results.json")):
    line("zero-shot + demos (in-context)", runs("demos", "zeroShot"))
    line("+ demonstrations", runs("demos"))
    line("+ demonstrations, filtered", runs("demos-filter"))
seeds = [13, 21, 42, 87, 100]
line("auto label words", [a for s in seeds for a in runs(f"auto-labels-{s}")])
line("auto template", [a for s in seeds for a in runs(f"auto-template-{s}")])
line("auto template + label words", [a for s in seeds for a in runs(f"auto-template-labels-{s}")])
for s in seeds:
    words = json.load(open(os.path.join(out, "labels", "search.json")))[seeds.index(s)]["chosen"]["words"]
    template = open(os.path.join(out, "templates", f"top-{s}.txt")).read().strip()
    joint = open(os.path.join(out, f"templates-tl-{s}", "top.txt")).read().strip()
    print(f"  seed {s}: words {'/'.join(words)}; template {template}; template for those words {joint}")
PY

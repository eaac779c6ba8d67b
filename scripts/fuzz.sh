#!/usr/bin/env bash
# Runs every libFuzzer target (or the named ones) for SECONDS each and fails on any crash, timeout or
# out-of-memory. Usage: scripts/fuzz.sh [SECONDS=60] [TARGET...]   (RUNS=N: stop each after N executions)
# Built in .build-fuzz (release, bounds and overflow checks on) with SwiftPM's --sanitize=fuzzer.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"; shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(pattern verbalizer csv tsv jsonl task config safetensors tokenizer-json vocab-txt vocab-json-merges spiece encode adapter-config sentence-encoder)
swift build -c release --product cloze-fuzz --scratch-path .build-fuzz --sanitize=fuzzer -Xswiftc -DCLOZE_LIBFUZZER >/dev/null
bin=.build-fuzz/release/cloze-fuzz
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
status=0
for t in "${targets[@]}"; do
  case "$t" in
    pattern|verbalizer|csv|tsv|jsonl|encode) dict=Tests/Fuzz/dict/text.dict ;;
    spiece|safetensors) dict="" ;;
    *) dict=Tests/Fuzz/dict/json.dict ;;
  esac
  mkdir -p "$work/$t"
  args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=65536 -print_final_stats=1
        -artifact_prefix="$work/$t-" "$work/$t" "Tests/Fuzz/corpus/$t")
  [ -n "$dict" ] && args=(-dict="$dict" "${args[@]}")
  [ -n "${RUNS:-}" ] && args=(-runs="$RUNS" "${args[@]}")
  if CLOZE_FUZZ_TARGET="$t" "$bin" "${args[@]}" > "$work/$t.log" 2>&1; then
    execs=$(grep -m1 'stat::number_of_executed_units' "$work/$t.log" | awk '{print $2}')
    rss=$(grep -m1 'stat::peak_rss_mb' "$work/$t.log" | awk '{print $2}')
    echo "fuzz $t: $execs executions, 0 crashes, peak RSS ${rss} MB"
  else
    status=1
    echo "fuzz $t: FAILED (crash, timeout or OOM); log and input:"
    tail -40 "$work/$t.log"
    for a in "$work/$t-"*; do [ -f "$a" ] && { mkdir -p fuzz-artifacts; cp "$a" fuzz-artifacts/; echo "saved fuzz-artifacts/$(basename "$a")"; }; done
  fi
done
exit $status

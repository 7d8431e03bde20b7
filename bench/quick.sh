#!/usr/bin/env bash
# `make bench-quick`: a short subset of the benchmarks, under a minute, to
# run before and after a change on the same machine (not in CI). Prints:
#   * the micro benchmarks of the hot paths at one middle size each;
#   * `leadscore score` end to end on a `leadscore gen` log (community model,
#     QUICK_EVENTS rows, default 200000; QUICK_THREADS threads, default 1),
#     median wall time of 3 runs.
# Usage: bench/quick.sh [BENCH_BUILD_DIR]  (default build-bench)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build-bench}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
EVENTS=${QUICK_EVENTS:-200000}
THREADS=${QUICK_THREADS:-1}
MIN_TIME=${QUICK_MIN_TIME:-0.2}
OUT="$BUILD/quick"
mkdir -p "$OUT"

run() {  # run BINARY FILTER
  "$BUILD/$1" --benchmark_filter="$2" --benchmark_min_time="$MIN_TIME" \
              --benchmark_counters_tabular=false 2>&1 |
    grep -E '^(BM_|ApplyBatch|ConditionEval|ParseTimes|-|Benchmark)' || true
}
echo "== micro benchmarks (Release, $BUILD)"
run model_bench '^(BM_ModelCompile_Community|ConditionEval/(score_and_tag|attr_as_number|mixed))$'
run engine_bench '^(BM_ApplyHotMember/members:32768|BM_ApplyColdMember/members:32768|ApplyBatch/(community|bench_model)/events:65536/sink:0|BM_AdvanceAll/members:32768|BM_ReadMember/members:32768)$'
run io_bench '^(BM_CsvRecords/rows:65536|BM_CsvEvents/rows:65536|ParseTimes/millis|BM_WriteMemberLines/events:65536)$'

echo
echo "== leadscore score, end to end ($EVENTS rows of leadscore gen, community model, $THREADS thread(s))"
LOG="$OUT/quick-$EVENTS.csv"
[ -f "$LOG" ] || "$BUILD/leadscore" gen --members $((EVENTS / 20)) --events "$EVENTS" \
                   --seed 7 --out "$LOG"
times=()
for i in 1 2 3; do
  t0=$(date +%s%N)
  "$BUILD/leadscore" score --model "$ROOT/examples/models/community.textproto" \
    --events "$LOG" --threads "$THREADS" --members-out "$OUT/members.jsonl" \
    --changes-out "$OUT/changes.jsonl" 2>"$OUT/score.err"
  t1=$(date +%s%N)
  times+=($(( (t1 - t0) / 1000000 )))
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
med=${sorted[1]}
echo "runs (ms): ${times[*]}; median ${med} ms = $(( EVENTS * 1000 / (med > 0 ? med : 1) )) events/s"
echo "(load average now: $(cut -d' ' -f1-3 /proc/loadavg); compare figures from the same machine only)"

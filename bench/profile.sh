#!/usr/bin/env bash
# Where `leadscore score` spends its time: a callgrind profile (instruction
# counts: repeatable on a noisy machine, unlike seconds) of one run on a
# bench log, and a summary of the top functions, inclusive and exclusive.
# Usage: bench/profile.sh [EVENTS] [MODEL]
#   EVENTS  rows of the log (default 1000000; callgrind runs ~50x slower)
#   MODEL   default bench/compare/bench_model.textproto (log from
#           bench/compare/gen_log.mjs, needs node); with any other model the
#           log comes from `leadscore gen` instead.
# Builds build-prof/ (Release + -g). Output: build-prof/profile/.
# When `perf stat -e instructions true` counts instructions on this machine,
# `perf record` gives timing profiles too (docs/performance.md says how).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
EVENTS=${1:-1000000}
MODEL=${2:-$ROOT/bench/compare/bench_model.textproto}
BUILD="$ROOT/build-prof"
OUT="$BUILD/profile"
command -v valgrind >/dev/null || { echo "profile: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS="-g -fno-omit-frame-pointer" -DLEADSCORE_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target leadscore_cli >/dev/null
mkdir -p "$OUT"
ASOF=()
if [ "$MODEL" = "$ROOT/bench/compare/bench_model.textproto" ]; then
  LOG="$OUT/log-$EVENTS-s42.csv"
  [ -f "$LOG" ] || node "$ROOT/bench/compare/gen_log.mjs" --events "$EVENTS" --seed 42 --out "$LOG" >/dev/null
  ASOF=(--as-of 1719619200000)
else
  LOG="$OUT/gen-$EVENTS.csv"
  [ -f "$LOG" ] || "$BUILD/leadscore" gen --members $((EVENTS / 20)) --events "$EVENTS" --seed 7 --out "$LOG"
fi
CG="$OUT/callgrind.$(basename "$MODEL" .textproto).$EVENTS.out"
valgrind --tool=callgrind --callgrind-out-file="$CG" \
  "$BUILD/leadscore" score --model "$MODEL" --events "$LOG" "${ASOF[@]}" --threads 1 \
  --members-out "$OUT/members.jsonl" --changes-out "$OUT/changes.jsonl" 2>"$OUT/valgrind.log"
tail -1 "$OUT/valgrind.log"
strip_paths() { sed -e "s|$ROOT/||g" -e 's|std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >|std::string|g' | cut -c1-160; }
echo "== inclusive (a function and everything it calls)"
callgrind_annotate --inclusive=yes "$CG" 2>/dev/null | sed -n '/^Ir .*file:function/,$p' | sed -n 2,40p | strip_paths
echo "== exclusive (the function's own instructions)"
callgrind_annotate "$CG" 2>/dev/null | sed -n '/^Ir .*file:function/,$p' | sed -n 2,25p | strip_paths
echo "profile: $CG (callgrind_annotate or kcachegrind for more)"

#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) into build-fuzz and
# runs each for N seconds, one after another, on a copy of its seed corpus
# (build-fuzz/corpus/NAME, kept between runs). Prints a line per target
# (runs, seconds, exec/s, cov, ft, corpus entries, finding) and a summary
# table; exits non-zero if any target found a crash, a leak, an invariant
# violation, an input over 2 GB of memory or 60 s (the input is in
# build-fuzz/findings/). See docs/fuzzing.md.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   TARGET: csv_reader, c_api, ...
set -euo pipefail
secs=${1:-60}
shift || true
cd "$(dirname "$0")/.."
need=()
for p in clang libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
if [ $# -gt 0 ]; then
  names=$(for t in "$@"; do echo "${t%_fuzz}_fuzz"; done)
else
  names=$(cd tests/fuzz && ls *_fuzz.cc | sed 's/\.cc$//')
fi
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLEADSCORE_BUILD_TESTS=OFF -DLEADSCORE_BUILD_FUZZERS=ON \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" >/dev/null
# shellcheck disable=SC2086
cmake --build build-fuzz -j "$(nproc)" --target $names
status=0
mkdir -p build-fuzz/findings
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain 2>/dev/null | grep -q . && echo " (with uncommitted changes)" || true)
echo "fuzz: ${secs}s per target, $(date -u +%Y-%m-%dT%H:%MZ), commit ${commit}${dirty}"
summary="target|runs|seconds|exec/s|cov|ft|corpus|finding"
for name in $names; do
  corpus=${name%_fuzz}
  work=build-fuzz/corpus/$corpus
  mkdir -p "$work"
  cp -n tests/fuzz/corpus/"$corpus"/* "$work"/ 2>/dev/null || true
  log=build-fuzz/$name.log
  finding=none
  if ! build-fuzz/"$name" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -timeout=60 \
        -print_final_stats=1 -artifact_prefix=build-fuzz/findings/"$corpus"- "$work" \
        >"$log" 2>&1; then
    status=1
    finding=$(grep -oE "Test unit written to [^ ]+" "$log" | tail -n 1 | sed 's/.* //')
    finding=${finding:-"see $log"}
  fi
  # The last status line (#N DONE/pulse/NEW/REDUCE ... cov: ft: corp: exec/s:).
  last=$(grep -E "^#[0-9]+" "$log" | tail -n 1 || true)
  field() { echo "$last" | grep -oE "$1: [0-9]+" | head -n 1 | sed "s/.*: //" || true; }
  runs=$(grep -oE "Done [0-9]+ runs in [0-9]+ second" "$log" | grep -oE "[0-9]+" | head -n 1 || true)
  took=$(grep -oE "Done [0-9]+ runs in [0-9]+ second" "$log" | grep -oE "[0-9]+" | tail -n 1 || true)
  if [ -z "$runs" ]; then  # stopped early: the stats libFuzzer prints at exit
    runs=$(grep -oE "stat::number_of_executed_units: [0-9]+" "$log" | sed 's/.*: //' || true)
    took=$(grep -oE "stat::.*" "$log" >/dev/null && echo "-" || true)
  fi
  cov=$(field cov); ft=$(field ft); execs=$(field "exec/s")
  entries=$(find "$work" -type f | wc -l)
  line="$name: ${runs:-?} runs in ${took:-?} s, ${execs:-?} exec/s, cov ${cov:-?}, ft ${ft:-?}, corpus ${entries} entries, finding: ${finding}"
  echo "$line"
  summary+=$'\n'"$name|${runs:-?}|${took:-?}|${execs:-?}|${cov:-?}|${ft:-?}|${entries}|${finding}"
done
echo
echo "$summary" | column -t -s '|'
exit $status

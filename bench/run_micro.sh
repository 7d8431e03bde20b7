#!/usr/bin/env bash
# `make bench`: every micro benchmark binary (bench/*_bench.cc), full sizes.
# Usage: bench/run_micro.sh [BENCH_BUILD_DIR]  (default build-bench)
# Extra arguments for Google Benchmark go in BENCH_ARGS, e.g.
#   BENCH_ARGS=--benchmark_filter=ApplyBatch make bench
# Each binary's results are also written as JSON to BENCH_BUILD_DIR/micro/.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build-bench}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
mkdir -p "$BUILD/micro"
status=0
for src in "$ROOT"/bench/*_bench.cc; do
  name=$(basename "$src" .cc)
  bin="$BUILD/$name"
  if [ ! -x "$bin" ]; then
    echo "bench: $bin is missing (make bench builds it)" >&2
    status=1
    continue
  fi
  echo "== $name"
  # shellcheck disable=SC2086
  "$bin" --benchmark_counters_tabular=false \
         --benchmark_out="$BUILD/micro/$name.json" --benchmark_out_format=json \
         ${BENCH_ARGS:-} || status=1
done
exit $status

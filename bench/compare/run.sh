#!/usr/bin/env bash
# `make compare`: leadscore against DuckDB and SQLite on the same logs.
# Usage: bench/compare/run.sh [BENCH_BUILD_DIR]   (default build-bench)
# Needs the leadscore CLI built in BENCH_BUILD_DIR (make compare does that),
# the sqlite3 shell, node and npm (scripts/bench-deps.sh compare).
# Environment: JOB (bench, the default, or issue: issue #4's shape), SIZES,
# REPS, REPS_LARGE, THREADS, SEED, LEADSCORE, WORK, RESULTS, ENGINES (see
# compare.mjs), e.g. SIZES="1000000 2000000" make compare, or
# JOB=issue SIZES=2000000 THREADS="1 2" ENGINES="leadscore duckdb" make compare.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build-bench}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
cd "$ROOT/bench/compare"

for tool in node npm sqlite3; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "compare: $tool not found (run: bash scripts/bench-deps.sh compare)" >&2
    exit 1
  }
done
# DuckDB: the exact version of package-lock.json, installed again only when
# the lock file changed.
if ! cmp -s package-lock.json node_modules/.leadscore-lock 2>/dev/null; then
  echo "compare: npm ci (@duckdb/node-api, pinned in bench/compare/package.json)"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.leadscore-lock
fi

export LEADSCORE="${LEADSCORE:-$BUILD/leadscore}"
export WORK="${WORK:-$BUILD/compare}"
exec node compare.mjs

#!/usr/bin/env bash
# `make sanitize`: the whole test suite built with AddressSanitizer and
# UndefinedBehaviorSanitizer (build-asan), then the multi-threaded paths built
# with ThreadSanitizer (build-tsan). Any report fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
asan="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_FLAGS="$asan" -DCMAKE_CXX_FLAGS="$asan" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build build-asan -j "$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The reference cross-check runs fewer seeds here: the same code paths, slower.
# Python loads the instrumented libleadscore_c.so: the ASan runtime must be
# preloaded there, and CPython's own allocations are not ours to leak-check.
# The install and PostgreSQL tests build and run other programs: run plainly.
(cd build-asan && REF_SEEDS=${REF_SEEDS:-8} ctest --output-on-failure -j "$jobs" \
  -E '^(python\.binding|script\.install_test|script\.postgres_crm_test)$')
(cd build-asan && LD_PRELOAD="$(gcc -print-file-name=libasan.so)" \
  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 ctest --output-on-failure -R '^python\.binding$')

tsan="-fsanitize=thread -fno-omit-frame-pointer"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS="$tsan" -DCMAKE_CXX_FLAGS="$tsan" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" >/dev/null
cmake --build build-tsan -j "$jobs" --target leadscore_tests leadscore_cli
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
# Everything that runs threads or shares a model between threads.
(cd build-tsan && ./leadscore_tests --gtest_filter='*Thread*:*thread*:BatchTest.*:SharedModel*')
# 200k rows: several buckets shared out over the threads; run twice, so that
# the second run also replaces the first one's outputs (a thread removes them).
(cd build-tsan && ./leadscore gen --members 20000 --events 200000 --seed 5 --out tsan.csv &&
  for run in 1 2; do
    ./leadscore score --model ../examples/models/community.textproto --events tsan.csv \
      --threads 4 --members-out tsan_m.jsonl --changes-out tsan_c.jsonl
  done)
echo "sanitize: ASan+UBSan suite and TSan runs are clean"

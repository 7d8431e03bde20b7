#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) into build-fuzz and
# runs each for N seconds on a copy of its seed corpus. Prints executions and
# coverage per target; exits non-zero if any target found a crash.
set -euo pipefail
secs=${1:-60}
cd "$(dirname "$0")/.."
need=()
for p in clang libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLEADSCORE_BUILD_TESTS=OFF -DLEADSCORE_BUILD_FUZZERS=ON \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target $(cd tests/fuzz && ls *_fuzz.cc | sed 's/\.cc$//')
status=0
mkdir -p build-fuzz/findings
for src in tests/fuzz/*_fuzz.cc; do
  name=$(basename "$src" .cc)
  corpus=${name%_fuzz}
  work=build-fuzz/corpus/$corpus
  mkdir -p "$work"
  cp -n tests/fuzz/corpus/"$corpus"/* "$work"/ 2>/dev/null || true
  log=build-fuzz/$name.log
  if ! build-fuzz/"$name" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 \
        -artifact_prefix=build-fuzz/findings/"$corpus"- "$work" >"$log" 2>&1; then
    status=1
    echo "$name: FINDING, see $log and build-fuzz/findings/"
  fi
  tail -n 30 "$log" | grep -E "^#[0-9]+.*(DONE|pulse|NEW|REDUCE)" | tail -n 1 |
    sed "s/^/$name: /" || true
  grep -E "Done [0-9]+ runs" "$log" | sed "s/^/$name: /" || true
done
exit $status

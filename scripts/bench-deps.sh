#!/usr/bin/env bash
# Installs what the benchmarks need beyond scripts/deps.sh, only what is
# missing (apt-get). Safe to run again.
#   scripts/bench-deps.sh micro     Google Benchmark; simdjson for the
#                                   parser-only JSON Lines benchmark
#   scripts/bench-deps.sh compare   the above, plus the peers of `make
#                                   compare`: the sqlite3 shell, Node.js and npm
#                                   (DuckDB itself comes from npm: bench/compare)
set -euo pipefail
what=${1:-compare}
pkgs=(libbenchmark-dev libsimdjson-dev)
if [ "$what" = compare ]; then
  pkgs+=(sqlite3)
  # Node.js and npm: any install that provides the commands will do (the
  # machine image may carry a newer Node.js than Debian's).
  command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
  command -v npm >/dev/null 2>&1 || pkgs+=(npm)
elif [ "$what" != micro ]; then
  echo "usage: $0 [micro|compare]" >&2
  exit 2
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "bench-deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

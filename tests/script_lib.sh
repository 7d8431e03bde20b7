# Shared by the script tests (tests/*_test.sh): `source` it first thing.
# Sets SRC (the source tree), LEADSCORE (the CLI), MODEL (the community
# model), works in a fresh temporary directory removed on exit, and defines:
#   check NAME COMMAND...  runs COMMAND as a test; counts it and reports a failure
#   run ARGS...            runs the CLI; sets $rc, $out (stdout) and $err (stderr)
#   finish                 prints "N passed, M failed"; exits non-zero on a failure
# Env: LEADSCORE = the CLI (default build/leadscore), SRC = the source tree.
set -u
SRC=${SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
LEADSCORE=${LEADSCORE:-$SRC/build/leadscore}
MODEL=$SRC/examples/models/community.textproto
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1

passed=0
failed=0
check() {
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $name" >&2
  fi
}
run() {
  "$LEADSCORE" "$@" >out.txt 2>err.txt
  rc=$?
  out=$(cat out.txt)
  err=$(cat err.txt)
}
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}

#!/usr/bin/env bash
# The bad-input catalogue (tests/data/bad/logs): scoring each malformed log
# must print exactly the lines of its .expected file on stderr (the summary
# line aside), and exit 1 when the log cannot be read at all, else 0.
set -u
: "${LEADSCORE:?}" "${SRC:?}"
dir=$SRC/tests/data/bad/logs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0; failed=0
cd "$dir" || exit 1
for log in *.csv; do
  exp=${log%.csv}.expected
  "$LEADSCORE" score --quiet --model "$SRC/examples/models/community.textproto" \
    --events "$log" --members-out "$tmp/m.jsonl" --changes-out "$tmp/c.jsonl" 2>"$tmp/err"
  rc=$?
  want_rc=0
  grep -q "^leadscore score: " "$exp" && want_rc=1
  if [ "$rc" -ne "$want_rc" ]; then failed=$((failed+1)); echo "FAIL $log: exit $rc, want $want_rc"; continue; fi
  if diff <(grep -v "rows read" "$tmp/err") "$exp" >"$tmp/diff"; then
    passed=$((passed+1))
  else
    failed=$((failed+1)); echo "FAIL $log: stderr differs:"; cat "$tmp/diff"
  fi
done
[ "$passed" -ge 3 ] || { failed=$((failed+1)); echo "FAIL: too few cases"; }
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

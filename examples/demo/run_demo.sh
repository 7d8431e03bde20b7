#!/usr/bin/env bash
# The leadscore demo: generate a sample community log, score it with the
# community model, and print a report. Usage: run_demo.sh [BUILD_DIR]
# (default build/); `make demo` runs it. Files go to BUILD_DIR/demo/.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
CLI="$BUILD/leadscore"
MODEL="$ROOT/examples/models/community.textproto"
OUT="$BUILD/demo"
MEMBERS=${DEMO_MEMBERS:-4000}
EVENTS=${DEMO_EVENTS:-100000}
SEED=${DEMO_SEED:-2024}

if [ ! -x "$CLI" ]; then
  echo "run_demo: no leadscore binary at $CLI (build first: make build)" >&2
  exit 1
fi
mkdir -p "$OUT"
ms() { date +%s%3N; }

echo "== 1. A sample community log"
t0=$(ms)
"$CLI" gen --members "$MEMBERS" --events "$EVENTS" --seed "$SEED" --out "$OUT/community.csv"
t1=$(ms)
echo "   $OUT/community.csv: $MEMBERS members, $EVENTS rows over 180 days (seed $SEED, $((t1 - t0)) ms)"
echo "   journeys: join, intro, reading, downloads, courses, bursts of posts, weeks of"
echo "   silence, events, demo requests, registrations, sales, orders, invites, spam;"
echo "   and the faults of real exports: duplicates, late rows, a few bad rows."
echo "   first rows:"
head -n 4 "$OUT/community.csv" | cut -c 1-110 | sed 's/^/     /'

echo
echo "== 2. Scoring with examples/models/community.textproto (2 threads)"
t0=$(ms)
set +e
"$CLI" score --model "$MODEL" --events "$OUT/community.csv" --threads 2 \
  --members-out "$OUT/members.jsonl" --changes-out "$OUT/changes.jsonl" \
  2>"$OUT/score.log"
rc=$?
set -e
t1=$(ms)
if [ "$rc" -ne 0 ]; then
  cat "$OUT/score.log" >&2
  exit "$rc"
fi
bad=$(grep -c '^[^ ]*\.csv:[0-9]*: ' "$OUT/score.log" || true)
echo "   $((t1 - t0)) ms; $bad bad rows reported on stderr (in $OUT/score.log), e.g.:"
grep '^[^ ]*\.csv:[0-9]*: ' "$OUT/score.log" | head -n 3 | sed "s|^$OUT/||; s/^/     /"
tail -n 1 "$OUT/score.log" | sed 's/^leadscore score: /   /' | fold -s -w 86 | sed '2,$s/^/   /'
echo "   outputs: $OUT/members.jsonl, $OUT/changes.jsonl"
"$CLI" score --model "$MODEL" --events "$OUT/community.csv" --threads 2 \
  --order arrival --members-out "$OUT/members.arrival.jsonl" \
  --changes-out "$OUT/changes.arrival.jsonl" 2>"$OUT/score.arrival.log"
echo "   the same log in arrival order (as a stream sees it): late rows are rejected:"
tail -n 1 "$OUT/score.arrival.log" | sed 's/^leadscore score: //; s/, as of.*//' |
  fold -s -w 80 | sed 's/^/     /'

echo
echo "== 3. Report"
"$CLI" summary --members "$OUT/members.jsonl" --changes "$OUT/changes.jsonl" \
  --model "$MODEL" | sed 's/^/   /'

echo
member=$(grep -m 1 '"kind":"flag_raised"' "$OUT/changes.jsonl" |
  sed 's/^{"member_id":"\([^"]*\)".*/\1/')
if [ -n "$member" ]; then
  echo "== 4. Why was $member flagged? (leadscore explain, excerpts)"
  ex="$OUT/explain-$member.txt"
  "$CLI" explain --model "$MODEL" --events "$OUT/community.csv" --member "$member" \
    --quiet 2>/dev/null >"$ex" || true
  raise=$(grep -n -m 1 ' raised ' "$ex" | cut -d: -f1)
  head -n 1 "$ex" | sed 's/^/   /'
  if [ -n "$raise" ]; then
    echo "   ..."
    sed -n "$((raise > 10 ? raise - 10 : 1)),$((raise + 3))p" "$ex" | cut -c 1-100 | sed 's/^/   /'
  fi
  echo "   ..."
  sed -n '/^ledger at as-of/,/^$/p' "$ex" | head -n 12 | cut -c 1-100 | sed 's/^/   /'
  echo "   the whole timeline, ledger and final state: $ex"
  echo
fi
echo "== 5. The HTML report (funnel, scores, flags per week, tags, flagged members)"
"$CLI" report --model "$MODEL" --events "$OUT/community.csv" -o "$OUT/report.html" \
  --quiet 2>/dev/null
echo "   $OUT/report.html ($(wc -c <"$OUT/report.html") bytes, one file): open it in a browser"

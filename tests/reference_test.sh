#!/usr/bin/env bash
# Cross-checks the C++ CLI against the independent Python reference scorer
# (tests/reference/) on random cases and on the shared community model.
# Env: LEADSCORE (the CLI), SRC (source dir), REF_SEEDS (random cases, default 40),
# REF_COMMUNITY_SEEDS (community logs, default 3), REF_AS_OF=0 to skip the --as-of runs.
set -u

SRC=${SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
REF="$SRC/tests/reference"
LEADSCORE=${LEADSCORE:-$SRC/build/leadscore}
SEEDS=${REF_SEEDS:-40}
COMMUNITY_SEEDS=${REF_COMMUNITY_SEEDS:-3}
AS_OF_RUNS=${REF_AS_OF:-1}
PY=${PYTHON:-python3}
COMMUNITY="$SRC/../shared/examples/community.textproto"

if [ ! -x "$LEADSCORE" ]; then
  echo "reference_test: no leadscore CLI at '$LEADSCORE' (set LEADSCORE)"
  echo "0 passed, 1 failed"
  exit 1
fi
TIMEOUT=()
command -v timeout >/dev/null 2>&1 && TIMEOUT=(timeout 300)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/leadscore-ref.XXXXXX")
passed=0
failed=0
kept=()

# compare_run DIR LABEL [scoring args...]: scores DIR's case with both scorers.
compare_run() {
  local dir=$1 label=$2
  shift 2
  local args=(--model "$dir/model.textproto" --events "$dir/events.csv" "$@")
  local a_m="$dir/cpp_members.$label.jsonl" a_c="$dir/cpp_changes.$label.jsonl"
  local b_m="$dir/ref_members.$label.jsonl" b_c="$dir/ref_changes.$label.jsonl"
  local why=""
  if ! "${TIMEOUT[@]}" "$LEADSCORE" score "${args[@]}" --members-out "$a_m" --changes-out "$a_c" \
      >"$dir/cpp.$label.log" 2>&1; then
    why="leadscore failed (exit $?): $(head -c 2000 "$dir/cpp.$label.log")"
  elif ! "$PY" "$REF/refscore.py" "${args[@]}" --members-out "$b_m" --changes-out "$b_c" \
      >"$dir/ref.$label.log" 2>&1; then
    why="refscore.py failed: $(head -c 2000 "$dir/ref.$label.log")"
  elif ! "$PY" "$REF/compare.py" "$a_m" "$b_m" "$a_c" "$b_c" >"$dir/diff.$label.txt" 2>&1; then
    why="outputs differ (A = leadscore, B = reference):
$(head -n 60 "$dir/diff.$label.txt")"
  fi
  if [ -z "$why" ]; then
    passed=$((passed + 1))
    return 0
  fi
  failed=$((failed + 1))
  echo "FAIL $label: case kept in $dir"
  echo "  rerun: $LEADSCORE score ${args[*]} --members-out a_m.jsonl --changes-out a_c.jsonl"
  echo "$why" | sed 's/^/  /'
  return 1
}

# run_case DIR NAME: the default (time) order, arrival order, and sometimes --as-of.
run_case() {
  local dir=$1 name=$2 ok=0
  compare_run "$dir" "$name.time" || ok=1
  compare_run "$dir" "$name.arrival" --order arrival || ok=1
  if [ "$AS_OF_RUNS" != 0 ] && [ -n "${3:-}" ]; then
    compare_run "$dir" "$name.as_of" --as-of "$(cat "$dir/as_of.txt")" || ok=1
  fi
  if [ $ok -eq 0 ]; then
    rm -rf "$dir"
  else
    kept+=("$dir")
  fi
}

for ((seed = 1; seed <= SEEDS; seed++)); do
  dir="$WORK/seed-$seed"
  if ! "$PY" "$REF/gen_case.py" --seed "$seed" --out "$dir" >"$WORK/gen-$seed.log" 2>&1; then
    echo "FAIL seed $seed: gen_case.py failed: $(cat "$WORK/gen-$seed.log")"
    failed=$((failed + 1))
    continue
  fi
  as_of=""
  [ $((seed % 4)) -eq 0 ] && as_of=yes
  run_case "$dir" "seed$seed" $as_of
done

if [ -f "$COMMUNITY" ]; then
  for ((k = 1; k <= COMMUNITY_SEEDS; k++)); do
    seed=$((1000 + k))
    dir="$WORK/community-$seed"
    if ! "$PY" "$REF/gen_case.py" --seed "$seed" --out "$dir" --model-file "$COMMUNITY" \
        >"$WORK/gen-$seed.log" 2>&1; then
      echo "FAIL community $seed: gen_case.py failed: $(cat "$WORK/gen-$seed.log")"
      failed=$((failed + 1))
      continue
    fi
    run_case "$dir" "community$seed" yes
  done
else
  echo "FAIL community model not found at $COMMUNITY"
  failed=$((failed + 1))
fi

if [ ${#kept[@]} -eq 0 ] && [ $failed -eq 0 ]; then
  rm -rf "$WORK"
else
  echo "failing cases kept under $WORK"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]

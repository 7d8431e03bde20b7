#!/usr/bin/env bash
# The outputs shown in docs/outputs.md are what the command in docs/cli.md
# prints today: every line of each ```jsonl block must appear in the output.
set -u
: "${LEADSCORE:?}" "${SRC:?}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$LEADSCORE" score --model "$SRC/examples/models/community.textproto" \
  --events "$SRC/examples/quickstart/events.csv" \
  --members-out "$dir/members.jsonl" --changes-out "$dir/changes.jsonl" 2>"$dir/err"
rc=$?
passed=0; failed=0
if [ $rc -eq 0 ]; then passed=$((passed+1)); else failed=$((failed+1)); echo "score exited $rc"; fi
cat "$dir/members.jsonl" "$dir/changes.jsonl" > "$dir/all"
while IFS= read -r line; do
  if grep -qxF -- "$line" "$dir/all"; then passed=$((passed+1)); else
    failed=$((failed+1)); echo "docs/outputs.md shows a line the tool does not print: $line"; fi
done < <(awk '/^```jsonl/{on=1;next} /^```/{on=0} on' "$SRC/docs/outputs.md")
# The stderr shown in docs/cli.md.
while IFS= read -r line; do
  case "$line" in *"rows read"*|*"bad time \""*)
    if grep -qF -- "${line#*events.csv}" "$dir/err"; then passed=$((passed+1)); else
      failed=$((failed+1)); echo "docs/cli.md shows stderr the tool does not print: $line"; fi;;
  esac
done < "$SRC/docs/cli.md"
[ "$passed" -ge 11 ] || { echo "too few checked lines: $passed"; failed=$((failed+1)); }
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

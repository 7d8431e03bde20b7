#!/usr/bin/env bash
# End-to-end tests of the `leadscore` command line: exit codes, --strict,
# model errors at file:line:col, outputs, threads, gen and summary.
# Env: LEADSCORE = the CLI (default build/leadscore), SRC = the source tree.
source "$(dirname "$0")/script_lib.sh"
has() { grep -q -- "$2" <<<"$1"; }
lacks() { ! grep -q -- "$2" <<<"$1"; }

if [ ! -x "$LEADSCORE" ]; then
  echo "cli_test: no executable at LEADSCORE=$LEADSCORE" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

cat >log.csv <<'CSV'
event_id,member_id,time,type,value,attr.topic,profile.role,profile.industry
e1,m2,2024-03-01T10:00:00Z,group.join,,,decision_maker,manufacturing
e2,m1,1709287200000,group.join,,,,
e3,m1,not-a-time,content.read,,tax,,
e4,m2,1709290800000,demo.request,,,,
e5,m2,1709290800000,demo.request,,,,
e6,m2,1709294400000,event.attend,,,,
e7,m1,1709298000000,content.read,,"tax",,
e7,m1,1709298000000,content.read,,"tax",,
CSV

# --- help and usage --------------------------------------------------------
run --help
check "--help exits 0" test "$rc" -eq 0
check "--help prints usage" has "$out" "usage:"
run score --help
check "score --help exits 0" test "$rc" -eq 0
check "score --help names the options" has "$out" "--members-out"
run gen --help
check "gen --help exits 0" test "$rc" -eq 0
run
check "no command exits 1" test "$rc" -eq 1
run frobnicate
check "unknown command exits 1" test "$rc" -eq 1
run score --model "$MODEL" --events log.csv --members-out m.jsonl
check "missing --changes-out exits 1" test "$rc" -eq 1
check "missing option is named" has "$err" "missing --changes-out"
run score --model "$MODEL" --events log.csv --members-out m.jsonl --changes-out c.jsonl --colour red
check "unknown option exits 1" test "$rc" -eq 1
run score --model "$MODEL" --events log.csv --members-out m.jsonl --changes-out c.jsonl --as-of tomorrow
check "bad --as-of exits 1" test "$rc" -eq 1
run score --model "$MODEL" --events log.csv --members-out m.jsonl --changes-out c.jsonl --threads 0
check "bad --threads exits 1" test "$rc" -eq 1
run score --model "$MODEL" --events log.csv --members-out m.jsonl --changes-out c.jsonl --order random
check "bad --order exits 1" test "$rc" -eq 1

# --- a scoring run ----------------------------------------------------------
run score --model "$MODEL" --events log.csv --members-out m.jsonl --changes-out c.jsonl
check "score exits 0" test "$rc" -eq 0
check "bad row reported with its line" has "$err" "log.csv:4: bad time \"not-a-time\""
check "summary line on stderr" has "$err" "8 rows read, 6 events applied, 2 rejected (invalid 1, too_late 0, duplicate 1, after_as_of 0), 2 members"
check "one line per member" test "$(wc -l <m.jsonl)" -eq 2
check "members sorted by member_id" test "$(head -c 17 m.jsonl)" = '{"member_id":"m1"'
check "bad row is a rejected change" has "$(cat c.jsonl)" '"event_id":"e3","reason":"invalid"}'
check "duplicate is a rejected change" has "$(cat c.jsonl)" '"event_id":"e7","reason":"duplicate"'
check "m2 is flagged" has "$(grep '"m2"' m.jsonl)" '"raised":1'
check "flag raise carries reasons" has "$(cat c.jsonl)" '"kind":"flag_raised","flag":"sales_ready"'
check "rfc 3339 time read" has "$(cat c.jsonl)" '"member_id":"m2","time":1709287200000'

run score --model "$MODEL" --events log.csv --members-out m2.jsonl --changes-out c2.jsonl --as-of 2024-03-01T11:30:00Z
check "--as-of exits 0" test "$rc" -eq 0
check "--as-of rejects later events" test "$(grep -c '"reason":"after_as_of"' c2.jsonl)" -eq 3

run score --model "$MODEL" --events log.csv --members-out m3.jsonl --changes-out c3.jsonl --order arrival
check "--order arrival exits 0" test "$rc" -eq 0

# --- strict ------------------------------------------------------------------
rm -f ms.jsonl cs.jsonl
run score --model "$MODEL" --events log.csv --members-out ms.jsonl --changes-out cs.jsonl --strict
check "--strict on a bad row exits 2" test "$rc" -eq 2
check "--strict prints the row's message" has "$err" "log.csv:4: bad time \"not-a-time\""
check "--strict writes no output" test ! -e ms.jsonl
grep -v not-a-time log.csv >clean.csv
run score --model "$MODEL" --events clean.csv --members-out ms.jsonl --changes-out cs.jsonl --strict
check "--strict on a clean log exits 0" test "$rc" -eq 0

# --- columns -----------------------------------------------------------------
printf 'member_id,colour,time,type\nm1,red,1000,group.join\nm1,blue,2000,member.intro\n' >cols.csv
run score --model "$MODEL" --events cols.csv --members-out mc.jsonl --changes-out cc.jsonl
check "unknown column still scores" test "$rc" -eq 0
check "unknown column warned once" test "$(grep -c 'unknown column "colour"' err.txt)" -eq 1
printf 'member_id,type\nm1,x\n' >notime.csv
run score --model "$MODEL" --events notime.csv --members-out mc.jsonl --changes-out cc.jsonl
check "header without time exits 1" test "$rc" -eq 1
check "header error names the file" has "$err" "notime.csv:1: the header has no time column"

# --- errors ------------------------------------------------------------------
cat >bad.textproto <<'PB'
score { name: "engagement" }
rule { name: "r" on: "x" score: "nope" points: 1 }
PB
run score --model bad.textproto --events log.csv --members-out m.jsonl --changes-out c.jsonl
check "model error exits 1" test "$rc" -eq 1
check "model error at file:line:col" grep -Eq '^bad\.textproto:2:[0-9]+: .*nope' err.txt
run score --model missing.textproto --events log.csv --members-out m.jsonl --changes-out c.jsonl
check "missing model exits 1" test "$rc" -eq 1
check "missing model is named" has "$err" "missing.textproto"
run score --model "$MODEL" --events missing.csv --members-out m.jsonl --changes-out c.jsonl
check "missing log exits 1" test "$rc" -eq 1
check "missing log is named" has "$err" "missing.csv"
run score --model "$MODEL" --events log.csv --members-out no/such/dir/m.jsonl --changes-out c.jsonl
check "unwritable output exits 1" test "$rc" -eq 1
check "unwritable output is named" has "$err" "no/such/dir/m.jsonl"

# --- outputs appear whole ------------------------------------------------------
# A run writes each output beside it and renames it into place: a rerun
# replaces the files, and leaves no temporary or earlier copy behind.
mkdir -p outdir
printf 'stale\n' >outdir/m.jsonl
printf 'stale\n' >outdir/c.jsonl
run score --model "$MODEL" --events log.csv --members-out outdir/m.jsonl --changes-out outdir/c.jsonl
check "score over earlier outputs exits 0" test "$rc" -eq 0
check "earlier members file replaced" cmp -s outdir/m.jsonl m.jsonl
check "earlier changes file replaced" cmp -s outdir/c.jsonl c.jsonl
check "no temporary or earlier copy left" test "$(ls outdir | wc -l)" -eq 2
# A failed run (here --strict) leaves the earlier outputs as they were.
run score --model "$MODEL" --events log.csv --members-out outdir/m.jsonl --changes-out outdir/c.jsonl --strict
check "a failed run keeps the earlier members file" cmp -s outdir/m.jsonl m.jsonl
check "a failed run leaves nothing else" test "$(ls outdir | wc -l)" -eq 2
# A symbolic link is written through; /dev/null can take an output.
ln -s m.jsonl outdir/link.jsonl
run score --model "$MODEL" --events log.csv --members-out outdir/link.jsonl --changes-out /dev/null \
  --as-of 2024-03-01T11:30:00Z
check "score to a link and /dev/null exits 0" test "$rc" -eq 0
check "a link stays a link" test -L outdir/link.jsonl
check "the link's file has the new members" cmp -s outdir/m.jsonl m2.jsonl
check "/dev/null is still a device" test -c /dev/null

# --- gen, threads, summary ---------------------------------------------------
run gen --members 300 --events 6000 --seed 7 --out g1.csv
check "gen exits 0" test "$rc" -eq 0
check "gen writes the rows asked for" test "$(tail -n +2 g1.csv | grep -c '^e[0-9]')" -ge 5900
run gen --members 300 --events 6000 --seed 7 --out g2.csv
check "gen is deterministic" cmp -s g1.csv g2.csv
run gen --members 300 --events 6000 --seed 8 --out g3.csv
check "another seed gives another log" test "$(cksum <g1.csv)" != "$(cksum <g3.csv)"
for n in 1 4; do
  run score --model "$MODEL" --events g1.csv --members-out gm$n.jsonl --changes-out gc$n.jsonl --threads $n
  check "score --threads $n exits 0" test "$rc" -eq 0
done
check "threads: same members.jsonl" cmp -s gm1.jsonl gm4.jsonl
check "threads: same changes.jsonl" cmp -s gc1.jsonl gc4.jsonl
# Re-reading the same log, or an overlapping second export, changes no score:
# the second copy of every row is a duplicate (or, for bad rows, invalid again).
{ cat g1.csv; tail -n +2 g1.csv; } > twice.csv
{ cat g1.csv; tail -n +3001 g1.csv; } > overlap.csv
for f in twice overlap; do
  run score --model "$MODEL" --events $f.csv --members-out ${f}_m.jsonl --changes-out ${f}_c.jsonl
  check "$f: score exits 0" test "$rc" -eq 0
  check "$f: same members.jsonl as one copy" cmp -s gm1.jsonl ${f}_m.jsonl
  check "$f: the changes other than rejections are the same" \
    cmp -s <(grep -v '"kind":"rejected"' gc1.jsonl) <(grep -v '"kind":"rejected"' ${f}_c.jsonl)
done
run summary --members gm1.jsonl --changes gc1.jsonl --model "$MODEL"
check "summary exits 0" test "$rc" -eq 0
check "summary lists stages" has "$out" "Members per stage"
check "summary lists flagged members" has "$out" "flagged members by lead score"

# --- formats: the same log as CSV, JSON Lines, protobuf, and gzip of each --
for f in csv jsonl pb csv.gz jsonl.gz pb.gz; do
  run gen --members 300 --events 6000 --seed 7 --out fmt.$f
  check "gen --out fmt.$f exits 0" test "$rc" -eq 0
done
check "gen csv is the CSV log" cmp -s g1.csv fmt.csv
check "gen .gz is gzip" test "$(head -c 2 fmt.jsonl.gz | od -An -tx1 | tr -d ' ')" = "1f8b"
for f in csv jsonl pb csv.gz jsonl.gz pb.gz; do
  run score --model "$MODEL" --events fmt.$f --members-out fm.$f.jsonl --changes-out fc.$f.jsonl
  check "score fmt.$f exits 0" test "$rc" -eq 0
  check "fmt.$f: same members as CSV" cmp -s gm1.jsonl fm.$f.jsonl
  check "fmt.$f: same changes as CSV" cmp -s gc1.jsonl fc.$f.jsonl
done
run score --model "$MODEL" --events fmt.jsonl --members-out x.jsonl --changes-out y.jsonl
check "jsonl bad rows named by line and reason" has "$err" "^fmt.jsonl:[0-9]*: bad time \"[^\"]*\": "
run score --model "$MODEL" --events fmt.pb --members-out x.jsonl --changes-out y.jsonl
check "pb bad records named by record and byte" has "$err" "fmt.pb: record [0-9]* at byte [0-9]*: "
cp fmt.jsonl events.txt
run score --model "$MODEL" --events events.txt --format jsonl --members-out ft.jsonl --changes-out fct.jsonl
check "--format jsonl reads any name" cmp -s gm1.jsonl ft.jsonl
run score --model "$MODEL" --events fmt.csv --format xml --members-out x.jsonl --changes-out y.jsonl
check "bad --format exits 1" test "$rc" -eq 1

# --- threads on a messy log: 1 and 2 give the same bytes, every format -----
for f in csv jsonl pb; do
  for n in 1 2; do
    run score --model "$MODEL" --events fmt.$f --members-out t$n.$f.m --changes-out t$n.$f.c --threads $n --order arrival
  done
  check "threads 1 and 2, $f, arrival: same members" cmp -s t1.$f.m t2.$f.m
  check "threads 1 and 2, $f, arrival: same changes" cmp -s t1.$f.c t2.$f.c
done
run score --model "$MODEL" --events g1.csv --members-out d.jsonl --changes-out dc.jsonl
check "default threads: same members" cmp -s gm1.jsonl d.jsonl

# --- several files, globs ---------------------------------------------------
mkdir -p parts
head -n 3001 g1.csv > parts/a.csv
{ head -n 1 g1.csv; tail -n +3002 g1.csv; } > parts/b.csv
run score --model "$MODEL" --events parts/a.csv --events parts/b.csv --members-out p1.jsonl --changes-out p1c.jsonl
check "two --events are one log" cmp -s gm1.jsonl p1.jsonl
check "two --events: same changes" cmp -s gc1.jsonl p1c.jsonl
run score --model "$MODEL" --events 'parts/*.csv' --members-out p2.jsonl --changes-out p2c.jsonl
check "a glob is one log, files by name" cmp -s gm1.jsonl p2.jsonl
run score --model "$MODEL" --events 'parts/*.jsonl' --members-out p3.jsonl --changes-out p3c.jsonl
check "a glob that matches nothing exits 1" test "$rc" -eq 1
check "... and says so" has "$err" "no file matches"

# --- members as CSV -----------------------------------------------------------
run score --model "$MODEL" --events g1.csv --members-out members.csv --changes-out mc.jsonl
check "members.csv exits 0" test "$rc" -eq 0
check "members.csv header" test "$(head -n 1 members.csv)" = \
  "member_id,stage,stage_since,score.engagement,score.fit,score.lead,tags,counter.posts_14d,counter.courses_30d,counter.invites,flag.sales_ready.armed,flag.sales_ready.raised,flag.sales_ready.last_raised"
check "members.csv has a row per member" test "$(($(wc -l <members.csv) - 1))" -eq "$(wc -l <gm1.jsonl)"
check "members.csv joins tags with ;" grep -q ',[a-z_:]*;[a-z_:]*,' members.csv

# --- progress -----------------------------------------------------------------
LEADSCORE_PROGRESS_INTERVAL=0.001 "$LEADSCORE" score --model "$MODEL" --events g1.csv \
  --members-out x.jsonl --changes-out y.jsonl 2>progress.txt
check "progress: plain lines when stderr is not a terminal" grep -q '^leadscore score: \(reading\|scoring\) ' progress.txt
check "progress: no carriage returns off a terminal" test "$(tr -cd '\r' <progress.txt | wc -c)" -eq 0
LEADSCORE_PROGRESS_INTERVAL=0.001 "$LEADSCORE" score --model "$MODEL" --events g1.csv \
  --members-out x.jsonl --changes-out y.jsonl --quiet 2>quiet.txt
check "--quiet: no progress" test "$(grep -c 'reading\|scoring' quiet.txt)" -eq 0
check "--quiet: the summary stays" grep -q 'rows read' quiet.txt
if command -v script >/dev/null 2>&1; then
  # A terminal (script(1) gives one): the line is rewritten in place.
  "$LEADSCORE" gen --members 20000 --events 1500000 --seed 3 --out big.csv
  script -qec "\"$LEADSCORE\" score --model \"$MODEL\" --events big.csv --threads 1 --members-out x.jsonl --changes-out y.jsonl" /dev/null >tty.txt 2>&1
  check "progress: in place on a terminal" grep -q $'\rleadscore score: \(reading\|scoring\)' tty.txt
fi

finish

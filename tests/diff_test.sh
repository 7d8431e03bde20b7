#!/usr/bin/env bash
# `leadscore diff` end to end, on a generated community log:
#  * a model against itself: no differences at all;
#  * against the same model with a higher flag threshold: the members listed
#    as no longer flagged are exactly those that `leadscore score` shows
#    raised under the first model and never under the second (computed here
#    from members.jsonl), none newly flagged, and the per-stage and per-flag
#    counts are those of members.jsonl;
#  * models that differ in structure (names in one model only);
#  * --limit, usage errors, and calibration cross-checked against a
#    `leadscore score --as-of cutoff` run.
# Env: LEADSCORE = the CLI, SRC = the source tree.
source "$(dirname "$0")/script_lib.sh"
has() { grep -qF -- "$2" <<<"$1"; }

if [ ! -x "$LEADSCORE" ] || ! command -v python3 >/dev/null; then
  echo "diff_test: needs LEADSCORE (got $LEADSCORE) and python3" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

"$LEADSCORE" gen --members 500 --events 8000 --seed 3 --out log.csv 2>/dev/null ||
  { echo "gen failed"; exit 1; }

# The same model with the flag at lead >= 120 (the flag only: the `mql`
# transition keeps 100). The substitution must have happened.
python3 - "$MODEL" strict.textproto <<'PY'
import sys
text = open(sys.argv[1]).read()
head, sep, flag = text.partition("flag {")
assert sep, "no flag block"
new = flag.replace('when: "score.lead >= 100', 'when: "score.lead >= 120', 1)
assert new != flag, "flag condition not found"
open(sys.argv[2], "w").write(head + sep + new)
PY
check "strict model written" grep -q 'score.lead >= 120' strict.textproto

# --- usage -----------------------------------------------------------------
run diff --help
check "--help exits 0" test "$rc" -eq 0
check "--help names --calibration-window" has "$out" "--calibration-window"
run diff --model "$MODEL" --events log.csv
check "one --model exits 1" test "$rc" -eq 1
check "one --model is explained" has "$err" "give --model twice"
run diff --model "$MODEL" --model "$MODEL" --events log.csv --limit -3
check "bad --limit exits 1" test "$rc" -eq 1
run diff --model "$MODEL" --model "$MODEL" --events log.csv --calibration-window 30
check "bad --calibration-window exits 1" test "$rc" -eq 1
run diff --model "$MODEL" --model nothere.textproto --events log.csv
check "missing model exits 1" test "$rc" -eq 1

# --- a model against itself --------------------------------------------------
run diff --model "$MODEL" --model "$MODEL" --events log.csv --quiet --json --limit 0
check "self diff exits 0" test "$rc" -eq 0
cp out.txt self.json
check "self diff: nothing differs" python3 - self.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
diff = d["differences"]
assert d["old"]["members"] == d["new"]["members"] > 400, d["old"]
for k in ("members", "stage", "tags", "flags", "only_old", "only_new", "scores"):
    assert diff[k] == 0, (k, diff[k])
assert diff["listed"] == [] and not diff["truncated"]
for row in d["stages"]:
    assert row["old"] == row["new"], row
for row in d["flags"]:
    assert row["old"] == row["new"], row
assert len(d["flag_changes"]) == 1
for fc in d["flag_changes"]:
    assert fc["newly_flagged"]["count"] == 0 and fc["no_longer_flagged"]["count"] == 0, fc
    assert fc["flagged_old"] == fc["flagged_new"] > 0, fc
assert [s["score"] for s in d["scores"]] == ["engagement", "fit", "lead"]
for s in d["scores"]:
    assert s["old"] == s["new"], s
    for b in s["bands"]:
        assert b["old"] == b["new"], b
for k in ("stages", "tags", "flags", "scores"):
    assert d["names_in_one_model"][k] == {"only_old": [], "only_new": []}
PY
run diff --model "$MODEL" --model "$MODEL" --events log.csv --quiet
check "self diff text says no member differs" \
  has "$out" "no member differs in stage, tags or flags, nor in any score"
check "self diff text: none gained or lost" \
  has "$out" "0 newly flagged, 0 no longer flagged"

# --- a higher threshold -------------------------------------------------------
"$LEADSCORE" score --model "$MODEL" --events log.csv --members-out old.jsonl \
  --changes-out old_changes.jsonl --quiet 2>/dev/null
"$LEADSCORE" score --model strict.textproto --events log.csv --members-out new.jsonl \
  --changes-out new_changes.jsonl --quiet 2>/dev/null
run diff --model "$MODEL" --model strict.textproto --events log.csv --quiet --json --limit 0
check "threshold diff exits 0" test "$rc" -eq 0
cp out.txt strict.json
check "exactly the members that lose their flag" python3 - old.jsonl new.jsonl strict.json <<'PY'
import json, sys
from collections import Counter
def members(path):
    return {m["member_id"]: m for m in map(json.loads, open(path))}
old, new, d = members(sys.argv[1]), members(sys.argv[2]), json.load(open(sys.argv[3]))
flagged = lambda ms: {i for i, m in ms.items() if m["flags"]["sales_ready"]["raised"] > 0}
lost = sorted(flagged(old) - flagged(new))
gained = sorted(flagged(new) - flagged(old))
assert len(lost) >= 5, "the test needs members that lose their flag: %d" % len(lost)
fc, = d["flag_changes"]
assert fc["flag"] == "sales_ready"
got_lost = [m["member_id"] for m in fc["no_longer_flagged"]["members"]]
got_gained = [m["member_id"] for m in fc["newly_flagged"]["members"]]
assert got_lost == lost, (got_lost, lost)
assert got_gained == gained == [], (got_gained, gained)
assert fc["no_longer_flagged"]["count"] == len(lost) and not fc["no_longer_flagged"]["truncated"]
assert fc["flagged_old"] == len(flagged(old)) and fc["flagged_new"] == len(flagged(new))
# Their scores under both models are those of members.jsonl.
for m in fc["no_longer_flagged"]["members"]:
    assert m["old"] == old[m["member_id"]]["scores"], m
    assert m["new"] == new[m["member_id"]]["scores"], m
# Members per stage and flags raised under each model.
for row in d["stages"]:
    assert row["old"] == Counter(m["stage"] for m in old.values())[row["stage"]], row
    assert row["new"] == Counter(m["stage"] for m in new.values())[row["stage"]], row
f, = d["flags"]
assert f["old"]["members"] == len(flagged(old)) and f["new"]["members"] == len(flagged(new))
assert f["old"]["raised"] == sum(m["flags"]["sales_ready"]["raised"] for m in old.values())
assert f["new"]["raised"] == sum(m["flags"]["sales_ready"]["raised"] for m in new.values())
# Members that differ: exactly those whose stage, tags or flag state differ.
def state(m):
    return (m["stage"], sorted(m["tags"]), m["flags"])
want = sorted(i for i in old if state(old[i]) != state(new[i]))
got = [m["member_id"] for m in d["differences"]["listed"]]
assert got == want, (got, want)
assert d["differences"]["members"] == len(want)
assert set(lost) <= set(got)
assert d["differences"]["scores"] == 0  # the threshold moves no score
PY

# Text: the same members, and --limit.
run diff --model "$MODEL" --model strict.textproto --events log.csv --quiet --limit 0
check "text names the lost count" python3 - strict.json out.txt <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
fc, = d["flag_changes"]
n = fc["no_longer_flagged"]["count"]
assert "0 newly flagged, %d no longer flagged" % n in text, text
block = text.split("no longer flagged", 2)[2].split("\n\n")[0].splitlines()[1:]
ids = [line.split()[0] for line in block]
assert ids == [m["member_id"] for m in fc["no_longer_flagged"]["members"]], ids
PY
run diff --model "$MODEL" --model strict.textproto --events log.csv --quiet --limit 2
check "--limit 2: two members listed, then how many more" python3 - strict.json out.txt <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
n = d["differences"]["members"]
members = text.split("\nMembers: ", 1)[1].split("\n\n")[0].splitlines()
assert len(members) == 4, members  # the head, two members, "... and N more"
assert members[3].strip() == "... and %d more (--limit 0 lists every one)" % (n - 2), members
PY
run diff --model "$MODEL" --model strict.textproto --events log.csv --quiet --json --limit 2
check "--limit 2 in JSON: two listed, counts complete" python3 - out.txt strict.json <<'PY'
import json, sys
d, full = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert len(d["differences"]["listed"]) == 2 and d["differences"]["truncated"]
assert d["differences"]["members"] == full["differences"]["members"]
fc = d["flag_changes"][0]["no_longer_flagged"]
assert len(fc["members"]) == 2 and fc["truncated"]
assert fc["count"] == full["flag_changes"][0]["no_longer_flagged"]["count"]
PY

# --- models that differ in structure ------------------------------------------
# NEW: flag renamed, a stage and a tag renamed, a score added.
python3 - "$MODEL" other.textproto <<'PY'
import sys
t = open(sys.argv[1]).read()
t = t.replace('name: "sales_ready"', 'name: "hot_lead"')
t = t.replace('"advocate"', '"promoter"')
t = t.replace('tag { name: "learner"', 'tag { name: "student"')
t = t.replace('score { name: "lead"', 'score { name: "extra" min: 0 }\nscore { name: "lead"')
open(sys.argv[2], "w").write(t)
PY
run diff --model "$MODEL" --model other.textproto --events log.csv --quiet
check "structure diff exits 0" test "$rc" -eq 0
check "flag names differ: said" has "$out" "flags in OLD only: sales_ready"
check "flag names differ: NEW's" has "$out" "flags in NEW only: hot_lead"
check "stage names differ" has "$out" "stages in OLD only: advocate"
check "tag names differ" has "$out" "tags in NEW only: student"
check "score in one model" has "$out" "scores in NEW only: extra"
run diff --model "$MODEL" --model other.textproto --events log.csv --quiet --json --limit 0
check "structure diff JSON" python3 - out.txt old.jsonl <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
old = [json.loads(l) for l in open(sys.argv[2])]
assert d["flag_changes"] == []  # no flag name in both
assert d["names_in_one_model"]["flags"] == {"only_old": ["sales_ready"], "only_new": ["hot_lead"]}
rows = {r["stage"]: r for r in d["stages"]}
assert rows["advocate"]["new"] is None and rows["promoter"]["old"] is None
assert rows["advocate"]["old"] == rows["promoter"]["new"] > 0, rows
# Members in `advocate` differ (stage name), learners differ (tag name).
want = sorted(m["member_id"] for m in old if m["stage"] == "advocate" or "learner" in m["tags"])
got = [m["member_id"] for m in d["differences"]["listed"]]
assert want and got == want, (got, want)
assert [s["score"] for s in d["scores"]] == ["engagement", "fit", "lead"]
PY

# --- calibration ------------------------------------------------------------
# Cross-check OLD's calibration against `score --as-of cutoff` and the
# order.paid rows of the log.
as_of=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["log"]["as_of"])' strict.json)
cutoff=$((as_of - 30 * 86400000))
"$LEADSCORE" score --model "$MODEL" --events log.csv --as-of "$cutoff" \
  --members-out cut.jsonl --changes-out cut_changes.jsonl --quiet 2>/dev/null
check "calibration as counted from the log" python3 - strict.json cut.jsonl log.csv "$cutoff" <<'PY'
import csv, json, sys
d = json.load(open(sys.argv[1]))
cut = {m["member_id"]: m for m in map(json.loads, open(sys.argv[2]))}
cutoff = int(sys.argv[4])
first = {}
for row in csv.DictReader(open(sys.argv[3])):
    if row["type"] != "order.paid" or not row["member_id"]:
        continue
    try:
        t = int(row["time"])
        if row["value"]:
            float(row["value"])
    except ValueError:
        continue
    first[row["member_id"]] = min(t, first.get(row["member_id"], t))
assert d["calibration"]["conversion_events"] >= 1
for side, threshold in (("old", 100), ("new", 120)):
    c, = d["calibration"][side]
    assert c["available"] and c["flag"] == "sales_ready" and c["score"] == "lead", c
    assert c["threshold"] == threshold and c["cutoff"] == cutoff
    kept = {i: m for i, m in cut.items() if not (i in first and first[i] <= cutoff)}
    assert c["excluded_converted_before"] == len(cut) - len(kept)
    assert c["members"] == len(kept)
    above = [i for i, m in kept.items() if m["scores"]["lead"] >= threshold]
    converted = lambda ids: sum(1 for i in ids if i in first)
    assert c["above"] == {"members": len(above), "converted": converted(above),
                          "rate": converted(above) / len(above) if above else None}, c["above"]
    below = [i for i in kept if i not in above]
    assert c["below"]["members"] == len(below) and c["below"]["converted"] == converted(below)
    assert sum(b["members"] for b in c["bands"]) == len(kept)
    assert sum(b["converted"] for b in c["bands"]) == converted(kept)
    assert any(b["lo"] == threshold for b in c["bands"]), c["bands"]
    for b in c["bands"]:
        ids = [i for i, m in kept.items() if b["lo"] <= m["scores"]["lead"] < b["hi"]]
        assert b["members"] == len(ids) and b["converted"] == converted(ids), b
PY
run diff --model "$MODEL" --model strict.textproto --events log.csv --quiet
check "calibration in the text" has "$out" "OLD sales_ready (lead >= 100):"
check "calibration rate above the threshold" has "$out" "at or above 120:"
run diff --model "$MODEL" --model strict.textproto --events log.csv --quiet --conversion no.such
check "no conversion: said once" has "$out" "Calibration: no conversion event (no.such) in the log"

# --- the doc page: its examples run, and their outputs are shown as printed ---
check "docs/diff.md shows what the tool prints" \
  python3 "$SRC/tests/check_doc_blocks.py" "$SRC/docs/diff.md" "$LEADSCORE" "$SRC" "$TMP/docs"

finish

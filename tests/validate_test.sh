#!/usr/bin/env bash
# `leadscore validate` end to end: a model with several errors (every
# file:line:col line checked), exit codes, and lint warnings against a
# generated community log, checked line for line (text) and field by field
# (JSON), for a text and a JSON model.
# Env: LEADSCORE = the CLI, SRC = the source tree.
source "$(dirname "$0")/script_lib.sh"
has() { grep -qF -- "$2" <<<"$1"; }
# same NAME FILE: out.txt is exactly FILE (a diff is shown when not).
same() {
  if diff -u "$2" out.txt >&2; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $1" >&2
  fi
}

if [ ! -x "$LEADSCORE" ]; then
  echo "validate_test: no executable at LEADSCORE=$LEADSCORE" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

"$LEADSCORE" gen --members 500 --events 8000 --seed 3 --out log.csv 2>/dev/null ||
  { echo "gen failed"; exit 1; }

# --- usage -----------------------------------------------------------------
run validate --help
check "--help exits 0" test "$rc" -eq 0
check "--help names --strict-lint" has "$out" "--strict-lint"
run validate
check "no model exits 1" test "$rc" -eq 1
check "no model is explained" has "$err" "missing the MODEL to check"
run validate a.textproto b.textproto
check "two models exit 1" test "$rc" -eq 1
run validate nothere.textproto
check "missing file exits 1" test "$rc" -eq 1
check "missing file is named" has "$err" "cannot open model file nothere.textproto"

# --- a model with errors ------------------------------------------------------
cat >broken.textproto <<'EOF'
name: "broken"
score { name: "engagement" half_life: "30x" }
rule { name: "read" on: "content.read" score: "engagment" points: 2 }
tag { name: "hot" when: "score.engagement >= " }
lifecycle {
  initial: "new"
  stage: ["new", "active"]
  transition { from: "new" to: "actve" when: "score.engagement >= 10" }
}
EOF
cat >broken.expected <<'EOF'
broken.textproto: 4 problems
broken.textproto:2:40: half_life: malformed duration "30x": each number needs a unit (ms, s, m, h, d, w)
broken.textproto:8:33: unknown stage 'actve' in `to`; did you mean 'active'?
broken.textproto:3:48: unknown score 'engagment' in rule 'read'; did you mean 'engagement'?
broken.textproto:4:46: the condition ends too early: a value is missing here
EOF
run validate broken.textproto
check "model with errors exits 1" test "$rc" -eq 1
same "every problem at file:line:col" broken.expected
# The same lines as `leadscore score` reports them.
"$LEADSCORE" score --model broken.textproto --events log.csv --members-out m.jsonl \
  --changes-out c.jsonl 2>score_err.txt
check "the problems are those score reports" diff -q broken.expected score_err.txt
# --events does not change that (the log is not read).
run validate broken.textproto --events log.csv --strict-lint
check "errors with --events still exit 1" test "$rc" -eq 1
same "errors with --events: the same lines" broken.expected
run validate broken.textproto --json
check "JSON errors exit 1" test "$rc" -eq 1
check "JSON errors: each with file, line, column" python3 - out.txt <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["valid"] is False and d["warnings"] == []
got = [(e["file"], e["line"], e["column"], e["message"][:20]) for e in d["errors"]]
want = [("broken.textproto", 2, 40, "half_life: malforme"),
        ("broken.textproto", 8, 33, "unknown stage 'actve"),
        ("broken.textproto", 3, 48, "unknown score 'engag"),
        ("broken.textproto", 4, 46, "the condition ends t")]
assert [g[:3] for g in got] == [w[:3] for w in want], got
assert [g[3][:19] for g in got] == [w[3][:19] for w in want], got
PY
printf 'name: "x"\nscore { name: "a"\n' >syntax.textproto
run validate syntax.textproto
check "syntax error exits 1" test "$rc" -eq 1
check "syntax error at its line" has "$out" "syntax.textproto:3:1: Expected identifier"

# --- a valid model -----------------------------------------------------------
cp "$MODEL" community.textproto
run validate community.textproto
check "valid model exits 0" test "$rc" -eq 0
cat >community.expected <<'EOF'
community.textproto: ok: model "b2b-community": 3 scores, 3 counters, 15 rules, 4 fit rules, 7 tags, 8 stages, 8 transitions, 1 flag
0 warnings (the model alone; --events LOG lints it against a log)
EOF
same "valid model, no log" community.expected

# --- lint against the log ------------------------------------------------------
# Line numbers matter: the expected warnings point into this text.
cat >lint.textproto <<'EOF'
# A model with warnings against a generated community log.
name: "lint"
score { name: "engagement" half_life: "30d" min: 0 max: 500 }
counter { name: "webinars" on: "webinar.*" }
counter { name: "reads" on: "content.*" }
rule { name: "read" on: "content.*" score: "engagement" points: 2 }
rule { name: "webinar" on: "webinar.attend" score: "engagement" points: 20 }
rule { name: "big_read" on: "content.read" when: "event.value > 1000000"
       score: "engagement" points: 5 }
rule { name: "any" on: "*" score: "engagement" points: 0 }
tag { name: "whale" when: "score.engagement >= 100000" }
tag { name: "reader" on: "content.*" }
tag { name: "webinar_fan" on: "webinar.*" ttl: "30d" }
lifecycle {
  initial: "new"
  stage: ["new", "active", "champion", "vip", "lost"]
  transition { from: "new" to: "active" when: "score.engagement >= 10" }
  transition { from: "active" to: "champion" when: "score.engagement >= 100000" }
  transition { from: "vip" to: "lost" on: "group.leave" }
  transition { from: "*" to: "new" on: "webinar.*" }
}
flag { name: "hot" when: "score.engagement >= 50000" }
flag { name: "warm" when: "score.engagement >= 10" }
EOF
# Without a log: only what the model alone shows.
cat >lint_static.expected <<'EOF'
lint.textproto: ok: model "lint": 1 score, 2 counters, 4 rules, 0 fit rules, 3 tags, 5 stages, 4 transitions, 2 flags
lint.textproto:16:41: warning: stage 'vip' is unreachable: no chain of transitions leads to it from the initial stage 'new'
lint.textproto:16:48: warning: stage 'lost' is unreachable: no chain of transitions leads to it from the initial stage 'new'
2 warnings (the model alone; --events LOG lints it against a log)
EOF
run validate lint.textproto
check "warnings alone exit 0" test "$rc" -eq 0
same "unreachable stages from the model alone" lint_static.expected
run validate lint.textproto --strict-lint
check "--strict-lint with warnings exits 3" test "$rc" -eq 3

cat >lint.expected <<'EOF'
lint.textproto: ok: model "lint": 1 score, 2 counters, 4 rules, 0 fit rules, 3 tags, 5 stages, 4 transitions, 2 flags
lint.textproto:4:33: warning: counter 'webinars': no event of the log matches on: "webinar.*", so it stays 0
lint.textproto:7:29: warning: rule 'webinar': no event of the log matches on: "webinar.attend", so it never granted points
lint.textproto:8:1: warning: rule 'big_read' never granted points: its condition never held on the 1121 matching events
lint.textproto:10:1: warning: rule 'any' never granted points: it applied to 7830 events but its points are 0
lint.textproto:11:1: warning: tag 'whale' never applied to any member
lint.textproto:13:32: warning: tag 'webinar_fan': no event of the log matches on: "webinar.*", so it never applies
lint.textproto:16:29: warning: stage 'champion' was never reached by any member of the log
lint.textproto:16:41: warning: stage 'vip' is unreachable: no chain of transitions leads to it from the initial stage 'new'
lint.textproto:16:48: warning: stage 'lost' is unreachable: no chain of transitions leads to it from the initial stage 'new'
lint.textproto:19:44: warning: transition #3 (vip -> lost): no event of the log matches on: "group.leave", so it never fires
lint.textproto:20:41: warning: transition #4 (* -> new): no event of the log matches on: "webinar.*", so it never fires
lint.textproto:22:1: warning: flag 'hot' was never raised in the log
12 warnings (against 8000 rows: 7830 events applied, 24 event types, 500 members)
EOF
run validate lint.textproto --events log.csv --quiet
check "lint with a log exits 0" test "$rc" -eq 0
same "every warning against the log" lint.expected
check "bad rows of the log reported on stderr" has "$err" "log.csv:2692: bad time"
run validate --events log.csv --quiet --strict-lint --model lint.textproto --threads 2
check "--strict-lint against the log exits 3" test "$rc" -eq 3
same "the same warnings with --model and 2 threads" lint.expected

# The counts behind the warnings, from the log itself (the checks above are
# only as good as these numbers).
check "1121 content.read events, no webinar or group.leave event" python3 - log.csv <<'PY'
import csv, sys
from collections import Counter
rows = list(csv.DictReader(open(sys.argv[1])))
types = Counter(r["type"] for r in rows)
assert not any(t.startswith("webinar.") for t in types), types
assert types["group.leave"] == 0, types
assert 1121 <= types["content.read"] <= 1121 + 40, types["content.read"]  # + duplicates
PY

run validate lint.textproto --events log.csv --quiet --json
check "JSON warnings" python3 - out.txt <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["valid"] is True and d["errors"] == [] and d["name"] == "lint"
got = [(w["line"], w["column"], w["kind"], w["item"], w["name"]) for w in d["warnings"]]
want = [(4, 33, "no_matching_event", "counter", "webinars"),
        (7, 29, "no_matching_event", "rule", "webinar"),
        (8, 1, "rule_never_granted", "rule", "big_read"),
        (10, 1, "rule_never_granted", "rule", "any"),
        (11, 1, "tag_never_applied", "tag", "whale"),
        (13, 32, "no_matching_event", "tag", "webinar_fan"),
        (16, 29, "stage_never_reached", "stage", "champion"),
        (16, 41, "stage_unreachable", "stage", "vip"),
        (16, 48, "stage_unreachable", "stage", "lost"),
        (19, 44, "no_matching_event", "transition", "#3 (vip -> lost)"),
        (20, 41, "no_matching_event", "transition", "#4 (* -> new)"),
        (22, 1, "flag_never_raised", "flag", "hot")]
assert got == want, got
assert all(w["file"] == "lint.textproto" for w in d["warnings"])
assert d["log"] == {"rows_read": 8000, "events_applied": 7830, "event_types": 24, "members": 500}, d["log"]
PY

# The bundled model against the log: its one warning; JSON models too.
run validate community.textproto --events log.csv --quiet
check "community model: one warning" has "$out" \
  "community.textproto:36:26: warning: rule 'left': no event of the log matches on: \"group.leave\", so it never granted points"
check "community model: one warning only" has "$out" "1 warning (against 8000 rows"
cp "$SRC/examples/models/community.json" community.json
run validate community.json --events log.csv --quiet
check "JSON model: the warning at its line and column" has "$out" \
  "community.json:142:11: warning: rule 'left': no event of the log matches on: \"group.leave\""
# Without the rule, nothing to say: --strict-lint passes.
grep -v 'rule { name: "left"' community.textproto >clean.textproto
run validate clean.textproto --events log.csv --quiet --strict-lint
check "clean model with --strict-lint exits 0" test "$rc" -eq 0
check "clean model: 0 warnings" has "$out" "0 warnings (against 8000 rows"

# --- the doc page: its examples run, and their outputs are shown as printed ---
check "docs/validate.md shows what the tool prints" \
  python3 "$SRC/tests/check_doc_blocks.py" "$SRC/docs/validate.md" "$LEADSCORE" "$SRC" "$TMP/docs"

finish

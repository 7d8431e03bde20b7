#!/usr/bin/env bash
# End-to-end test of `leadscore report`: one self-contained HTML file with
# its charts, checked against `leadscore score` outputs computed on the same
# log (python3); then, when Chromium is installed, rendered headless: the
# screenshot must be made and no console message may appear (the page has
# no script, and its Content-Security-Policy turns any attempt to fetch or
# run something into a console error). Without Chromium: SKIP-chromium, the
# structural checks still run.
# Env: LEADSCORE = the CLI (default build/leadscore), SRC = the source tree.
source "$(dirname "$0")/script_lib.sh"

if [ ! -x "$LEADSCORE" ]; then
  echo "report_test: no executable at LEADSCORE=$LEADSCORE" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
if ! command -v python3 >/dev/null; then
  echo "report_test: python3 is needed" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

"$LEADSCORE" gen --members 2000 --events 30000 --seed 5 --out log.csv 2>/dev/null
check "gen" test -s log.csv
"$LEADSCORE" score --model "$MODEL" --events log.csv --threads 2 --quiet \
  --members-out members.jsonl --changes-out changes.jsonl 2>/dev/null
check "score" test -s members.jsonl

# --- usage -------------------------------------------------------------------
"$LEADSCORE" report --help >help.txt 2>&1
check "report --help exits 0" test $? -eq 0
check "report --help names -o" grep -q -- "-o, --out" help.txt
"$LEADSCORE" report --model "$MODEL" --events log.csv >/dev/null 2>err.txt
check "missing -o exits 1" test $? -eq 1
check "missing -o is named" grep -q "missing --out" err.txt
"$LEADSCORE" report --model "$MODEL" --events log.csv -o x.html --flag nope >/dev/null 2>err.txt
check "unknown --flag exits 1" test $? -eq 1
"$LEADSCORE" report --model "$MODEL" --events log.csv -o x.html --calibration-window 0d \
  >/dev/null 2>err.txt
check "bad --calibration-window exits 1" test $? -eq 1
check "no file on a usage error" test ! -e x.html

# --- the report --------------------------------------------------------------
mkdir out
"$LEADSCORE" report --model "$MODEL" --events log.csv --threads 2 --quiet \
  -o out/report.html 2>report_err.txt
rc=$?
check "report exits 0" test "$rc" -eq 0
check "bad rows reported once" test "$(grep -c 'log.csv:' report_err.txt)" -eq \
  "$(grep -c 'log.csv:' <("$LEADSCORE" score --model "$MODEL" --events log.csv --quiet \
      --members-out /dev/null --changes-out /dev/null 2>&1))"
# Without conversions in the log: a sentence instead of the calibration chart.
"$LEADSCORE" report --model "$MODEL" --events log.csv --threads 2 --quiet \
  --conversion no.such.event -o noconv.html 2>/dev/null
check "report without conversions exits 0" test $? -eq 0
# A member id that is HTML, flagged (lead 5 + 40 + 40 + 25 + 15 >= 100).
cat >evil.csv <<'CSV'
event_id,member_id,time,type,profile.role,profile.industry
e1,"<img src=x onerror=alert(1)>&""",2026-03-01T10:00:00Z,group.join,decision_maker,manufacturing
e2,"<img src=x onerror=alert(1)>&""",2026-03-02T10:00:00Z,demo.request,,
e3,"<img src=x onerror=alert(1)>&""",2026-03-03T10:00:00Z,demo.request,,
e4,<script>alert(2)</script>,2026-03-03T11:00:00Z,group.join,,
CSV
"$LEADSCORE" report --model "$MODEL" --events evil.csv --quiet -o evil.html 2>/dev/null
check "report of evil.csv exits 0" test $? -eq 0

python3 - "$TMP" "$MODEL" <<'PY' >structure.txt 2>&1
import html.parser, json, os, re, sys

tmp, model_path = sys.argv[1], sys.argv[2]
errors = []
def expect(cond, what):
    if not cond:
        errors.append(what)

class Page(html.parser.HTMLParser):
    """The svgs (id -> title), the tables' rows, and the flagged rows."""
    def __init__(self):
        super().__init__()
        self.svgs = {}
        self.stack = []
        self.funnel = []      # attrs of funnel-table rows
        self.flagged = []     # [member_id, reasons text]
        self.flagged_count = None
        self.in_svg_title = None
        self.table = None
        self.row = None
        self.cell = None
        self.texts = []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg":
            self.svgs[a.get("id")] = ""
            self.stack.append(a.get("id"))
        elif tag == "title" and self.stack and a.get("id") == self.stack[-1] + "-title":
            self.in_svg_title = self.stack[-1]
        elif tag == "table":
            self.table = a.get("id")
        elif tag == "tr" and self.table == "funnel-table" and "data-stage" in a:
            self.funnel.append(a)
        elif tag == "tr" and self.table == "flagged-table" and a.get("class") == "flagged":
            self.row = []
        elif tag == "td" and self.row is not None:
            self.cell = ""
        elif tag == "p" and a.get("id") == "flagged-count":
            self.flagged_count = (int(a["data-total"]), int(a["data-shown"]))
    def handle_endtag(self, tag):
        if tag == "svg" and self.stack:
            self.stack.pop()
        elif tag == "title":
            self.in_svg_title = None
        elif tag == "table":
            self.table = None
        elif tag == "td" and self.row is not None and self.cell is not None:
            self.row.append(self.cell)
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.flagged.append(self.row)
            self.row = None
    def handle_data(self, data):
        if self.in_svg_title:
            self.svgs[self.in_svg_title] += data
        if self.cell is not None:
            self.cell += data

def load(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    p = Page()
    p.feed(text)
    return text, p

# Exactly one file, self-contained.
expect(os.listdir(os.path.join(tmp, "out")) == ["report.html"], "one file in out/")
text, page = load(os.path.join(tmp, "out", "report.html"))
for bad in ["http:", "https:", "src=", "<script", "<link", "<img", "<iframe", "<object",
            "@import", "url(", "href="]:
    expect(bad not in text.lower(), "no %r in the page" % bad)
expect(text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>"), "a whole page")
want = ["chart-funnel", "chart-scores", "chart-weekly", "chart-tags", "chart-calibration"]
expect(text.count("<svg") == len(want), "%d <svg> charts, not %d" % (len(want), text.count("<svg")))
expect(sorted(page.svgs) == sorted(want), "chart ids %s" % sorted(page.svgs))
for cid, title in page.svgs.items():
    expect(len(title.strip()) > 10, "chart %s has a <title>" % cid)
expect("sales_ready threshold: lead &gt;= 100" in text, "threshold marked on the histogram")

# Independent numbers from `leadscore score`.
members = [json.loads(l) for l in open(os.path.join(tmp, "members.jsonl"))]
history = {}  # member -> [stages in order]
raises = {}   # member -> last flag_raised change
initial = re.search(r'initial:\s*"([^"]+)"', open(model_path).read()).group(1)
for m in members:
    history[m["member_id"]] = [initial]
for l in open(os.path.join(tmp, "changes.jsonl")):
    c = json.loads(l)
    if c["kind"] == "stage_changed":
        history[c["member_id"]].append(c["to"])
    elif c["kind"] == "flag_raised" and c["flag"] == "sales_ready":
        raises[c["member_id"]] = c

# The flagged table: every member with a raise, top 200 by lead score now.
flagged = [m for m in members if m["flags"]["sales_ready"]["raised"] > 0]
expect(len(flagged) == len(raises), "members.jsonl and changes.jsonl agree on raises")
expect(page.flagged_count == (len(flagged), min(200, len(flagged))),
       "flagged count %s, expected %d in all" % (page.flagged_count, len(flagged)))
flagged.sort(key=lambda m: (-m["scores"]["lead"], m["member_id"].encode()))
top = [m["member_id"] for m in flagged[:200]]
expect(len(page.flagged) == len(top), "flagged rows: %d, expected %d" % (len(page.flagged), len(top)))
expect([r[1] for r in page.flagged] == top, "flagged rows are the top members by lead")
for row in page.flagged:
    c = raises.get(row[1])
    rules = re.findall(r"(\S+) \(\S+\) -?[\d,.]+", row[-1])
    expect(c is not None and rules == [r["rule"] for r in c["reasons"]],
           "reasons of %s: %s" % (row[1], rules))
print("flagged: %d in all, %d rows" % (len(flagged), len(page.flagged)))

# The funnel: reached ever, now, conversion along the main path.
stages = [r["data-stage"] for r in page.funnel]
main = ["new", "active", "engaged", "mql", "sql", "customer", "advocate"]
expect(stages == main + ["dormant"], "funnel stages %s" % stages)
for r in page.funnel:
    s = r["data-stage"]
    reached = sum(1 for h in history.values() if s in h)
    now = sum(1 for m in members if m["stage"] == s)
    expect(int(r["data-reached"]) == reached, "%s reached %s != %d" % (s, r["data-reached"], reached))
    expect(int(r["data-now"]) == now, "%s now %s != %d" % (s, r["data-now"], now))
    if s in main[1:]:
        prev = main[main.index(s) - 1]
        conv = sum(1 for h in history.values() if prev in h and s in h[h.index(prev) + 1:])
        expect(int(r.get("data-converted", -1)) == conv,
               "%s converted %s != %d" % (s, r.get("data-converted"), conv))
        expect(int(r["data-previous-reached"]) == sum(1 for h in history.values() if prev in h),
               "%s previous reached" % s)
    else:
        expect("data-converted" not in r, "%s has no conversion" % s)
print("funnel: " + ", ".join("%s %s/%s" % (r["data-stage"], r["data-reached"], r["data-now"])
                            for r in page.funnel))

# Calibration present here; absent (and said so) without conversion events.
expect('id="calibration-split"' in text, "calibration above/below")
text2, page2 = load(os.path.join(tmp, "noconv.html"))
expect(sorted(page2.svgs) == sorted(want[:-1]), "no calibration chart without conversions")
expect('id="calibration-none"' in text2 and "no.such.event" in text2, "says why not")

# Escaping.
text3, page3 = load(os.path.join(tmp, "evil.html"))
expect("<img" not in text3 and "<script" not in text3, "member ids escaped")
expect("&lt;img src=x onerror=alert(1)&gt;&amp;&quot;" in text3, "escaped id shown")
expect([r[1] for r in page3.flagged] == ['<img src=x onerror=alert(1)>&"'], "evil member flagged")

for e in errors:
    print("FAIL: " + e)
sys.exit(1 if errors else 0)
PY
structure_rc=$?
cat structure.txt
check "structure" test "$structure_rc" -eq 0

# --- rendered by headless Chromium ---------------------------------------------
CHROMIUM=${CHROMIUM:-}
if [ -z "$CHROMIUM" ]; then
  for c in /usr/bin/chromium /usr/bin/chromium-browser; do
    if [ -x "$c" ]; then CHROMIUM=$c; break; fi
  done
fi
# render PAGE PNG: a screenshot at 1280x4000; stderr (with console messages) in PNG.log.
render() {
  timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --no-first-run --user-data-dir="$TMP/profile" --hide-scrollbars \
    --enable-logging=stderr --v=0 --window-size=1280,4000 \
    --screenshot="$2" "file://$1" >"$2.log" 2>&1
}
# console_clean LOG: no console message and no uncaught exception.
console_clean() {
  if grep -E ':CONSOLE[:(]|Uncaught' "$1"; then return 1; fi
  return 0
}
# png_ok PNG: a PNG of 1280x4000, not blank (a blank page compresses to a few KB).
png_ok() {
  python3 - "$1" <<'PY'
import struct, sys, os
data = open(sys.argv[1], "rb").read()
ok = data[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", data[16:24]) == (1280, 4000)
ok = ok and os.path.getsize(sys.argv[1]) > 50000
sys.exit(0 if ok else 1)
PY
}
if [ -z "$CHROMIUM" ]; then
  echo "SKIP-chromium: no chromium (scripts/deps.sh installs it); structural checks only"
else
  # The detector must see a console error and an exception in a bad page.
  cat >bad.html <<'HTML'
<!DOCTYPE html><html><head><title>bad</title></head><body><p>bad</p>
<script>console.error("report_test: expected console error"); notDefined();</script>
</body></html>
HTML
  render "$TMP/bad.html" "$TMP/bad.png"
  check "detector: chromium ran on the bad page" test -s "$TMP/bad.png"
  check "detector: sees console.error" grep -q "expected console error" "$TMP/bad.png.log"
  check "detector: sees the exception" grep -q "Uncaught ReferenceError" "$TMP/bad.png.log"

  for page in out/report.html noconv.html evil.html; do
    png="$TMP/$(basename "$page" .html).png"
    render "$TMP/$page" "$png"
    check "chromium renders $page" test $? -eq 0
    check "screenshot of $page" png_ok "$png"
    check "no console errors in $page" console_clean "$png.log"
  done
fi
finish

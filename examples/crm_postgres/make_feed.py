#!/usr/bin/env python3
"""Turns a leadscore CSV event log into crm_app's feed, the way a CRM would
hand its events over: one event per line, times as milliseconds.

    make_feed.py LOG.csv FEED.tsv     # prints the latest valid time (ms)

Rows reads as `leadscore score` reads them (docs/cli.md, "The CSV log"):
times are integer milliseconds or RFC 3339; a row with an unparsable time or
value, no member_id, no time or a wrong number of cells is kept with a `bad`
reason (crm_app counts it as an invalid event, as the batch tool does).
"""

import csv
import re
import sys

RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))$")
NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?(?:nan|inf|infinity)$",
                    re.IGNORECASE)
FIXED = ["event_id", "member_id", "time", "type", "value", "group_id", "channel",
         "account_id"]


def days_from_civil(y, m, d):
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def days_in_month(y, m):
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    return 29 if m == 2 and leap else [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]


def parse_time(text):
    """Milliseconds, or None (lib/io/time_parse.cc, the same rules)."""
    if re.fullmatch(r"-?\d+", text):
        v = int(text)
        return v if -2**63 <= v < 2**63 else None
    m = RFC3339.match(text)
    if not m:
        return None
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    frac = (m.group(7) or "")[:3].ljust(3, "0")  # digits past the ms are dropped
    offset = 0
    if m.group(9):
        oh, om = int(m.group(10)), int(m.group(11))
        if oh > 23 or om > 59:
            return None
        offset = (1 if m.group(9) == "+" else -1) * (oh * 60 + om)
    if not 1 <= month <= 12 or not 1 <= day <= days_in_month(year, month):
        return None
    if hour > 23 or minute > 59 or second > 59:
        return None
    seconds = (days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
               - offset * 60)
    return seconds * 1000 + int(frac)


def escape(s):
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def main(src, dst):
    with open(src, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    index = {name: i for i, name in enumerate(header)}
    extra = [h for h in header if h.startswith("attr.") or h.startswith("profile.")]
    columns = FIXED + extra + ["bad"]
    latest = None
    with open(dst, "w", encoding="utf-8", newline="") as out:
        out.write("\t".join(columns) + "\n")
        for row in rows[1:]:
            if row == []:
                continue  # a blank line
            bad = ""
            if len(row) != len(header):
                bad = "%d cells, the header has %d" % (len(row), len(header))
                row = (row + [""] * len(header))[:len(header)]
            cell = {name: row[i] for name, i in index.items()}
            t = parse_time(cell.get("time", "")) if cell.get("time") else None
            if not bad and cell.get("time") and t is None:
                bad = "bad time"
            value = cell.get("value", "")
            if not bad and value and not NUMBER.match(value):
                bad = "bad value"
            if not bad and not cell.get("member_id"):
                bad = "missing member_id"
            if not bad and t is None:
                bad = "missing time"
            if not bad:
                latest = t if latest is None else max(latest, t)
            fields = []
            for c in columns:
                if c == "time":
                    fields.append("" if t is None else str(t))
                elif c == "bad":
                    fields.append(bad)
                else:
                    fields.append(escape(cell.get(c, "")))
            out.write("\t".join(fields) + "\n")
    print(latest if latest is not None else "")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])

#!/usr/bin/env python3
"""Compares two scoring outputs (members.jsonl and changes.jsonl of two scorers).

  python3 compare.py A_members.jsonl B_members.jsonl A_changes.jsonl B_changes.jsonl

Same members, same keys; strings, ints, bools and nulls equal; numbers equal to 1e-6
relative or 1e-9 absolute; changes: the same sequence per member, members grouped in
member_id byte order. Flag-raise reasons whose values tie to that tolerance may come in
either order. Prints the first differences with context; exit 1 on a mismatch.
"""

import json
import sys

REL, ABS = 1e-6, 1e-9
MAX_REPORTS = 12


def load(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                out.append((n, json.loads(line)))
            except ValueError as e:
                raise SystemExit("compare: %s:%d: not JSON: %s" % (path, n, e))
    return out


def num_close(a, b):
    if a == b:
        return True
    try:
        return abs(a - b) <= max(ABS, REL * max(abs(a), abs(b)))
    except TypeError:
        return False


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def canon_reasons(lst):
    """Drops ~0 entries and orders entries whose values tie (to tolerance) by name."""
    if not isinstance(lst, list) or not all(isinstance(x, dict) and is_num(x.get("points")) for x in lst):
        return lst
    lst = [x for x in lst if abs(x["points"]) > ABS]
    out, cluster = [], []
    for x in lst:
        if cluster and not num_close(cluster[-1]["points"], x["points"]):
            out += sorted(cluster, key=lambda y: (str(y.get("rule")), str(y.get("score"))))
            cluster = []
        cluster.append(x)
    out += sorted(cluster, key=lambda y: (str(y.get("rule")), str(y.get("score"))))
    return out


def diff(a, b, path, out):
    """Appends (path, a, b) for each difference."""
    if is_num(a) and is_num(b):
        if not num_close(a, b):
            out.append((path, a, b))
        return
    if type(a) is not type(b):
        out.append((path, a, b))
        return
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append((path + "." + k, a.get(k, "<absent>"), b.get(k, "<absent>")))
            elif k == "reasons":
                diff(canon_reasons(a[k]), canon_reasons(b[k]), path + "." + k, out)
            else:
                diff(a[k], b[k], path + "." + k, out)
        return
    if isinstance(a, list):
        if len(a) != len(b):
            out.append((path + " (length %d vs %d)" % (len(a), len(b)), a, b))
            return
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, "%s[%d]" % (path, i), out)
        return
    if a != b:
        out.append((path, a, b))


def short(v, limit=300):
    s = json.dumps(v, ensure_ascii=False, sort_keys=True)
    return s if len(s) <= limit else s[:limit] + "..."


def check_grouping(recs, path, reports):
    """Member ids must come grouped, in byte order."""
    seen_done = set()
    prev = None
    for n, r in recs:
        mid = r.get("member_id")
        if not isinstance(mid, str):
            reports.append("%s:%d: member_id is not a string: %s" % (path, n, short(r)))
            return
        if mid != prev:
            if mid in seen_done:
                reports.append("%s:%d: member %r appears in two separate runs" % (path, n, mid))
                return
            if prev is not None and prev.encode("utf-8") > mid.encode("utf-8"):
                reports.append("%s:%d: member %r comes after %r (not byte order)" % (path, n, mid, prev))
                return
            if prev is not None:
                seen_done.add(prev)
            prev = mid


def by_member(recs):
    out = {}
    for n, r in recs:
        out.setdefault(r.get("member_id"), []).append((n, r))
    return out


def main(argv):
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    am_path, bm_path, ac_path, bc_path = argv[1:]
    am, bm, ac, bc = load(am_path), load(bm_path), load(ac_path), load(bc_path)
    reports = []
    for recs, path in ((am, am_path), (bm, bm_path), (ac, ac_path), (bc, bc_path)):
        check_grouping(recs, path, reports)

    # members
    ma, mb = by_member(am), by_member(bm)
    for mid in sorted(set(ma) | set(mb), key=lambda s: str(s).encode("utf-8")):
        if mid not in mb:
            reports.append("member %r: only in %s (line %d)" % (mid, am_path, ma[mid][0][0]))
            continue
        if mid not in ma:
            reports.append("member %r: only in %s (line %d)" % (mid, bm_path, mb[mid][0][0]))
            continue
        if len(ma[mid]) != 1 or len(mb[mid]) != 1:
            reports.append("member %r: listed %d times in A, %d in B" % (mid, len(ma[mid]), len(mb[mid])))
            continue
        (na, ra), (nb, rb) = ma[mid][0], mb[mid][0]
        d = []
        diff(ra, rb, "", d)
        for p, x, y in d:
            reports.append("member %r (A line %d, B line %d) field %s:\n    A: %s\n    B: %s" % (
                mid, na, nb, p.lstrip("."), short(x), short(y)))

    # changes
    ca, cb = by_member(ac), by_member(bc)
    for mid in sorted(set(ca) | set(cb), key=lambda s: str(s).encode("utf-8")):
        la, lb = ca.get(mid, []), cb.get(mid, [])
        for i in range(max(len(la), len(lb))):
            if i >= len(la) or i >= len(lb):
                extra, side, path = (lb, "B", bc_path) if i >= len(la) else (la, "A", ac_path)
                reports.append("changes of member %r: %s has %d more, from %s line %d:\n    %s" % (
                    mid, side, len(extra) - i, path, extra[i][0], short(extra[i][1])))
                break
            (na, ra), (nb, rb) = la[i], lb[i]
            d = []
            diff(ra, rb, "", d)
            if d:
                ctx = ""
                if i > 0:
                    ctx = "\n    previous (both): %s" % short(la[i - 1][1], 200)
                fields = "; ".join("%s: %s vs %s" % (p.lstrip("."), short(x, 120), short(y, 120))
                                   for p, x, y in d[:4])
                reports.append("changes of member %r, #%d (A line %d, B line %d): %s%s\n    A: %s\n    B: %s" % (
                    mid, i + 1, na, nb, fields, ctx, short(ra), short(rb)))
                break  # later changes of this member usually differ as a consequence

    if not reports:
        print("compare: same (%d members, %d changes)" % (len(am), len(ac)))
        return 0
    print("compare: %d difference(s); A = %s, %s; B = %s, %s" % (
        len(reports), am_path, ac_path, bm_path, bc_path))
    for r in reports[:MAX_REPORTS]:
        print("  " + r)
    if len(reports) > MAX_REPORTS:
        print("  ... %d more" % (len(reports) - MAX_REPORTS))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

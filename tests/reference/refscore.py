#!/usr/bin/env python3
"""Independent reference scorer for SEMANTICS.md + docs/semantics-notes.md.

Python 3 standard library only. Written without reading the C++ sources, to
cross-check them (tests/reference_test.sh). Clarity over speed.

  python3 refscore.py --model M.textproto --events LOG.csv [--as-of T]
      [--order time|arrival] --members-out members.jsonl --changes-out changes.jsonl

Readings chosen where SEMANTICS.md and the notes are silent (marked "Reading:" below):
  R1  a CSV row with the wrong number of cells is invalid at read time and is filed
      under the member_id / event_id / time found at those columns' positions (cells
      past the end count as empty; time null if not parsable);
  R2  blank lines are not records; unknown columns are ignored; a quoted empty cell
      ("") is an empty cell, i.e. absent;
  R3  RFC 3339: 'T' or 't', 'Z' or 'z' or +hh:mm / -hh:mm, any number of fraction
      digits truncated to whole ms, seconds 00-59 (no leap second), real calendar
      dates; integer ms: optional '-', digits only;
  R4  value cells: decimal / scientific with optional sign, no spaces, no hex;
      inf / infinity / nan in any case (with sign) and overflow like 1e999 are
      non-finite (rejected at their place in time order); anything else is invalid
      while reading;
  R5  default as-of T = the largest time of rows that are not invalid (a row with a
      non-finite value does not count);
  R6  a lifetime cap (no window) counts everything the rule allowed so far,
      including events later than a late event (a window, by note 11, does not);
  R7  counters are updated in model order and a counter's condition sees the
      counters before it already updated; event tags are set in model order and an
      event tag's condition sees the tags set before it (the generator avoids both);
  R8  an evaluation expires event tags in model order; flags are handled one by one
      in model order, each "re-arm then raise" before the next flag;
  R9  conditions: an attribute in arithmetic next to a number is read as a number
      (missing if not one), next to a string concatenates; == between unrelated
      types is false and != true; size() of a string counts code points; int()
      truncates a double toward zero and parses only an integer string; double % is
      C fmod; string(double) is the shortest round-trip form without a trailing ".0";
      a derived formula that gives no number reads as 0;
  R10 a fit score with no holding fit rule is clamp(0, min, max); negative ledger
      entries are valid top reasons (sorted last).
"""

import argparse
import bisect
import csv
import json
import math
import re
import sys


class ModelError(Exception):
    pass


# ---------------------------------------------------------------------------
# Durations and times

_DUR_UNITS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000,
              "w": 7 * 86_400_000}
_DUR_PART = re.compile(r"(\d+)([smhdw])")


def parse_duration(text):
    """'7d', '36h', '1w2d' -> milliseconds; None if malformed."""
    if not isinstance(text, str) or text == "":
        return None
    pos, total = 0, 0
    while pos < len(text):
        m = _DUR_PART.match(text, pos)
        if not m:
            return None
        total += int(m.group(1)) * _DUR_UNITS[m.group(2)]
        pos = m.end()
    return total


_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_INT_MS = re.compile(r"-?\d+")
_DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def _days_from_civil(y, m, d):
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def parse_time(text):
    """Integer ms since the epoch, or RFC 3339; None if unusable."""
    if text is None or text == "":
        return None
    if _INT_MS.fullmatch(text):
        v = int(text)
        if not (-(1 << 63) <= v < (1 << 63)):
            return None
        return v
    m = _RFC3339.fullmatch(text)
    if not m:
        return None
    y, mo, d, hh, mi, ss = (int(m.group(i)) for i in range(1, 7))
    if not (1 <= mo <= 12):
        return None
    dim = _DAYS_IN_MONTH[mo - 1]
    if mo == 2 and (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)):
        dim = 29
    if not (1 <= d <= dim) or hh > 23 or mi > 59 or ss > 59:
        return None
    ms = (_days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss) * 1000
    frac = m.group(7)
    if frac:
        ms += int((frac[1:] + "000")[:3])  # Reading: R3, truncated to whole ms
    tz = m.group(8)
    if tz not in ("Z", "z"):
        oh, om = int(tz[1:3]), int(tz[4:6])
        if oh > 23 or om > 59:
            return None
        off = (oh * 60 + om) * 60_000
        ms -= off if tz[0] == "+" else -off
    return ms


# ---------------------------------------------------------------------------
# Protobuf text format (the subset models use), schema-driven

# field -> (type, repeated); a type starting with an upper-case letter is a message
SCHEMA = {
    "Model": {"name": ("string", False), "allowed_lateness": ("string", False),
              "score": ("Score", True), "counter": ("Counter", True),
              "rule": ("Rule", True), "fit": ("Fit", True), "tag": ("Tag", True),
              "lifecycle": ("Lifecycle", False), "flag": ("Flag", True)},
    "Score": {"name": ("string", False), "half_life": ("string", False),
              "min": ("double", False), "max": ("double", False),
              "formula": ("string", False)},
    "Counter": {"name": ("string", False), "on": ("string", False),
                "when": ("string", False), "window": ("string", False)},
    "Cap": {"max_points": ("double", False), "window": ("string", False)},
    "Rule": {"name": ("string", False), "on": ("string", False),
             "when": ("string", False), "score": ("string", False),
             "points": ("double", False), "once": ("bool", False),
             "cap": ("Cap", False)},
    "Fit": {"name": ("string", False), "when": ("string", False),
            "score": ("string", False), "points": ("double", False)},
    "Tag": {"name": ("string", False), "on": ("string", False),
            "when": ("string", False), "ttl": ("string", False)},
    "Transition": {"from": ("string", True), "to": ("string", False),
                   "on": ("string", False), "when": ("string", False)},
    "Lifecycle": {"initial": ("string", False), "stage": ("string", True),
                  "transition": ("Transition", True)},
    "Flag": {"name": ("string", False), "when": ("string", False),
             "rearm": ("string", False), "cooldown": ("string", False),
             "top_reasons": ("int32", False)},
}

_TP_TOKEN = re.compile(r"""
    (?P<ws>\s+|\#[^\n]*)
  | (?P<str>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<num>[-+]?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)[fF]?)
  | (?P<id>-?[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[{}\[\]:,;<>])
""", re.X)

_SIMPLE_ESC = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f",
               "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}


def _unescape_bytes(body):
    """Protobuf text-format string escapes -> bytes."""
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode("utf-8")
            i += 1
            continue
        i += 1
        c = body[i]
        if c in _SIMPLE_ESC:
            out += _SIMPLE_ESC[c].encode()
            i += 1
        elif c in "01234567":
            j = i
            while j < len(body) and j < i + 3 and body[j] in "01234567":
                j += 1
            out.append(int(body[i:j], 8) & 0xFF)
            i = j
        elif c in "xX":
            j = i + 1
            while j < len(body) and j < i + 3 and body[j] in "0123456789abcdefABCDEF":
                j += 1
            out.append(int(body[i + 1:j], 16))
            i = j
        elif c == "u":
            out += chr(int(body[i + 1:i + 5], 16)).encode("utf-8")
            i += 5
        elif c == "U":
            out += chr(int(body[i + 1:i + 9], 16)).encode("utf-8")
            i += 9
        else:
            raise ValueError("bad escape \\" + c)
    return bytes(out)


class _TextParser:
    def __init__(self, text, filename):
        self.filename = filename
        self.toks = []
        pos, line, col0 = 0, 1, 0
        while pos < len(text):
            m = _TP_TOKEN.match(text, pos)
            if not m:
                raise ModelError("%s:%d:%d: unexpected character %r" % (
                    filename, line, pos - col0 + 1, text[pos]))
            kind = m.lastgroup
            if kind != "ws":
                self.toks.append((kind, m.group(kind), line, pos - col0 + 1))
            seg = m.group(0)
            nl = seg.count("\n")
            if nl:
                line += nl
                col0 = pos + seg.rfind("\n") + 1
            pos = m.end()
        self.toks.append(("eof", "", line, pos - col0 + 1))
        self.i = 0

    def err(self, msg, tok=None):
        tok = tok or self.toks[self.i]
        return ModelError("%s:%d:%d: %s" % (self.filename, tok[2], tok[3], msg))

    def peek(self):
        return self.toks[self.i]

    def take(self):
        t = self.toks[self.i]
        self.i += 1
        return t

    def accept(self, punct):
        t = self.peek()
        if t[0] == "punct" and t[1] == punct:
            self.i += 1
            return True
        return False

    def message(self, mtype, close):
        fields = SCHEMA[mtype]
        out = {}
        while True:
            t = self.peek()
            if close is None and t[0] == "eof":
                return out
            if close is not None and t[0] == "punct" and t[1] == close:
                self.i += 1
                return out
            if t[0] != "id":
                raise self.err("expected a field name")
            self.i += 1
            name = t[1]
            if name not in fields:
                raise self.err("unknown field %r in %s" % (name, mtype), t)
            ftype, repeated = fields[name]
            is_msg = ftype[0].isupper()
            colon = self.accept(":")
            if not colon and not is_msg:
                raise self.err("expected ':' after %s" % name)
            if self.accept("["):
                if not repeated:
                    raise self.err("field %s is not repeated" % name, t)
                vals = []
                if not self.accept("]"):
                    while True:
                        vals.append(self.value(ftype))
                        if self.accept("]"):
                            break
                        if not self.accept(","):
                            raise self.err("expected ',' or ']'")
                out.setdefault(name, []).extend(vals)
            else:
                v = self.value(ftype)
                if repeated:
                    out.setdefault(name, []).append(v)
                else:
                    if name in out:
                        raise self.err("field %s set twice" % name, t)
                    out[name] = v
            if not self.accept(","):
                self.accept(";")

    def value(self, ftype):
        if ftype[0].isupper():
            if self.accept("{"):
                return self.message(ftype, "}")
            if self.accept("<"):
                return self.message(ftype, ">")
            raise self.err("expected '{'")
        t = self.take()
        if ftype == "string":
            if t[0] != "str":
                raise self.err("expected a string", t)
            data = _unescape_bytes(t[1][1:-1])
            while self.peek()[0] == "str":  # adjacent literals concatenate
                data += _unescape_bytes(self.take()[1][1:-1])
            return data.decode("utf-8")
        if ftype == "bool":
            if t[0] == "id" and t[1] in ("true", "True", "t"):
                return True
            if t[0] == "id" and t[1] in ("false", "False", "f"):
                return False
            if t[0] == "num" and t[1] in ("0", "1"):
                return t[1] == "1"
            raise self.err("expected true or false", t)
        if ftype == "int32":
            if t[0] != "num":
                raise self.err("expected an integer", t)
            try:
                return int(t[1], 0)
            except ValueError:
                raise self.err("expected an integer", t)
        if ftype == "double":
            if t[0] == "num":
                s = t[1].rstrip("fF") if not t[1].lower().startswith(("0x", "-0x", "+0x")) else t[1]
                if s.lower().lstrip("+-").startswith("0x"):
                    return float(int(s, 16))
                return float(s)
            if t[0] == "id" and t[1].lower().lstrip("-") in ("inf", "infinity", "nan"):
                return float(t[1])
            raise self.err("expected a number", t)
        raise self.err("internal: type " + ftype, t)


def parse_textproto(text, filename="<model>"):
    return _TextParser(text, filename).message("Model", None)


# ---------------------------------------------------------------------------
# Conditions: a CEL subset

INT_MIN, INT_MAX = -(1 << 63), (1 << 63) - 1


class _Missing:
    def __repr__(self):
        return "MISSING"


MISSING = _Missing()


class Attr:
    """A string attribute (member.K, event.attrs.K): read as a number next to one."""
    __slots__ = ("s",)

    def __init__(self, s):
        self.s = s

    def __repr__(self):
        return "Attr(%r)" % self.s


class Dur:
    __slots__ = ("ms",)

    def __init__(self, ms):
        self.ms = ms


class Ts:
    __slots__ = ("ms",)

    def __init__(self, ms):
        self.ms = ms


class MapVal:
    """member / event.attrs: selecting a key gives an Attr or MISSING."""
    __slots__ = ("d",)

    def __init__(self, d):
        self.d = d


class Namespace:
    __slots__ = ("get",)

    def __init__(self, getter):
        self.get = getter


class TagSet:
    __slots__ = ("names",)

    def __init__(self, names):
        self.names = names


_NUM_ATTR = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INT_STR = re.compile(r"[+-]?\d+")


def attr_number(s):
    if _NUM_ATTR.fullmatch(s):
        return float(s)
    return None


def _is_num(v):
    t = type(v)
    return t is int or t is float


def _kind(v):
    t = type(v)
    if t is int or t is float:
        return "num"
    if t is str:
        return "str"
    if t is bool:
        return "bool"
    if t is Attr:
        return "attr"
    if t is Dur:
        return "dur"
    if t is Ts:
        return "ts"
    if t is list:
        return "list"
    if v is None:
        return "null"
    return "other"


_MISMATCH = object()


def _comparable(a, b):
    """(x, y) ready for Python comparison, None (missing -> false), or _MISMATCH."""
    if a is MISSING or b is MISSING:
        return None
    ka, kb = _kind(a), _kind(b)
    if ka == "num" and kb == "num":
        return (a, b)
    if ka == "attr" and kb == "num":
        x = attr_number(a.s)
        return None if x is None else (x, b)
    if ka == "num" and kb == "attr":
        y = attr_number(b.s)
        return None if y is None else (a, y)
    if ka in ("attr", "str") and kb in ("attr", "str"):
        return (a.s if ka == "attr" else a, b.s if kb == "attr" else b)
    if ka == kb and ka in ("bool", "null"):
        return (a, b)
    if ka == kb and ka in ("dur", "ts"):
        return (a.ms, b.ms)
    return _MISMATCH


def _eq(a, b):
    """True / False for ==; None when the comparison is false both ways (missing)."""
    c = _comparable(a, b)
    if c is None:
        return None
    if c is _MISMATCH:
        if _kind(a) == "list" and _kind(b) == "list" and len(a) == len(b):
            return all(_eq(x, y) is True for x, y in zip(a, b))
        return False
    return c[0] == c[1]


def _check_int(v):
    return v if INT_MIN <= v <= INT_MAX else MISSING


def _as_arith(a, other):  # Reading: R9
    """An attribute next to a number is read as a number (missing if not one)."""
    if type(a) is Attr and _is_num(other):
        x = attr_number(a.s)
        return MISSING if x is None else x
    return a


def _fdiv(a, b):
    if b == 0.0:
        if a == 0.0 or a != a:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _arith(op, a, b):
    if a is MISSING or b is MISSING:
        return MISSING
    a, b = _as_arith(a, b), _as_arith(b, a)
    if a is MISSING or b is MISSING:
        return MISSING
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        if op == "+":
            return _check_int(a + b)
        if op == "-":
            return _check_int(a - b)
        if op == "*":
            return _check_int(a * b)
        if b == 0:
            return MISSING
        q = abs(a) // abs(b)
        if (a < 0) != (b < 0):
            q = -q
        if op == "/":
            return _check_int(q)
        return a - b * q  # %: sign of the dividend, like C
    if _is_num(a) and _is_num(b):
        a, b = float(a), float(b)
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return _fdiv(a, b)
        if b == 0.0 or math.isinf(a):
            return math.nan
        return math.fmod(a, b)
    ka, kb = _kind(a), _kind(b)
    if op == "+":
        if ka in ("str", "attr") and kb in ("str", "attr"):
            return (a.s if ka == "attr" else a) + (b.s if kb == "attr" else b)
        if ka == "list" and kb == "list":
            return a + b
        if ka == "dur" and kb == "dur":
            return Dur(a.ms + b.ms)
        if ka == "ts" and kb == "dur":
            return Ts(a.ms + b.ms)
        if ka == "dur" and kb == "ts":
            return Ts(a.ms + b.ms)
    if op == "-":
        if ka == "dur" and kb == "dur":
            return Dur(a.ms - b.ms)
        if ka == "ts" and kb == "dur":
            return Ts(a.ms - b.ms)
        if ka == "ts" and kb == "ts":
            return Dur(a.ms - b.ms)
    return MISSING


def _to_str(v):
    k = _kind(v)
    if k == "attr":
        return v.s
    if k == "str":
        return v
    return None


def _format_double(x):
    if x != x:
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    r = repr(x)
    if r.endswith(".0"):
        r = r[:-2]
    return r


class _Lexer:
    TOKEN = re.compile(r"""
        (?P<ws>\s+|//[^\n]*)
      | (?P<double>(?:\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\.\d+(?:[eE][+-]?\d+)?))
      | (?P<int>0[xX][0-9a-fA-F]+[uU]?|\d+[uU]?)
      | (?P<str>[rR]?(?:'''(?:.|\n)*?'''|\"\"\"(?:.|\n)*?\"\"\"|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"))
      | (?P<id>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>==|!=|<=|>=|&&|\|\||[-+*/%!<>?:.,()\[\]{}])
    """, re.X)

    def __init__(self, text):
        self.toks = []
        pos = 0
        while pos < len(text):
            m = self.TOKEN.match(text, pos)
            if not m:
                raise ModelError("col %d: unexpected character %r" % (pos + 1, text[pos]))
            kind = m.lastgroup
            if kind != "ws":
                self.toks.append((kind, m.group(kind), pos + 1))
            pos = m.end()
        self.toks.append(("eof", "", len(text) + 1))


def _cel_string(lit):
    raw = lit[0] in "rR"
    if raw:
        lit = lit[1:]
    q = 3 if lit[:3] in ("'''", '"""') else 1
    body = lit[q:-q]
    if raw:
        return body
    return _unescape_bytes(body).decode("utf-8", errors="surrogateescape")


class _ExprParser:
    RELOPS = ("<", "<=", ">", ">=", "==", "!=")

    def __init__(self, text):
        self.toks = _Lexer(text).toks
        self.i = 0

    def err(self, msg):
        return ModelError("col %d: %s" % (self.toks[self.i][2], msg))

    def peek(self, k=0):
        return self.toks[self.i + k]

    def is_op(self, *ops):
        t = self.toks[self.i]
        return t[0] == "op" and t[1] in ops

    def expect(self, op):
        if not self.is_op(op):
            raise self.err("expected %r" % op)
        self.i += 1

    def parse(self):
        e = self.expr()
        if self.peek()[0] != "eof":
            raise self.err("unexpected %r" % self.peek()[1])
        return e

    def expr(self):
        c = self.cond_or()
        if self.is_op("?"):
            self.i += 1
            a = self.cond_or()
            self.expect(":")
            b = self.expr()
            return ("cond", c, a, b)
        return c

    def cond_or(self):
        e = self.cond_and()
        while self.is_op("||"):
            self.i += 1
            e = ("or", e, self.cond_and())
        return e

    def cond_and(self):
        e = self.relation()
        while self.is_op("&&"):
            self.i += 1
            e = ("and", e, self.relation())
        return e

    def relation(self):
        e = self.addition()
        while True:
            t = self.peek()
            if t[0] == "op" and t[1] in self.RELOPS:
                self.i += 1
                e = ("rel", t[1], e, self.addition())
            elif t[0] == "id" and t[1] == "in":
                self.i += 1
                e = ("in", e, self.addition())
            else:
                return e

    def addition(self):
        e = self.mult()
        while self.is_op("+", "-"):
            op = self.peek()[1]
            self.i += 1
            e = ("arith", op, e, self.mult())
        return e

    def mult(self):
        e = self.unary()
        while self.is_op("*", "/", "%"):
            op = self.peek()[1]
            self.i += 1
            e = ("arith", op, e, self.unary())
        return e

    def unary(self):
        if self.is_op("!"):
            self.i += 1
            return ("not", self.unary())
        if self.is_op("-"):
            self.i += 1
            t = self.peek()
            # a negative numeric literal
            if t[0] == "int" and not t[1].lower().endswith("u") and not (
                    self.peek(1)[0] == "op" and self.peek(1)[1] in (".", "[")):
                self.i += 1
                v = -int(t[1], 0)
                if v < INT_MIN:
                    raise self.err("integer literal out of range")
                return ("lit", v)
            return ("neg", self.unary())
        return self.member()

    def args(self, close):
        out = []
        if self.is_op(close):
            self.i += 1
            return out
        while True:
            out.append(self.expr())
            if self.is_op(","):
                self.i += 1
                if self.is_op(close):
                    self.i += 1
                    return out
                continue
            self.expect(close)
            return out

    def member(self):
        e = self.primary()
        while True:
            if self.is_op("."):
                self.i += 1
                t = self.peek()
                if t[0] != "id":
                    raise self.err("expected a field name")
                self.i += 1
                if self.is_op("("):
                    self.i += 1
                    e = ("call", t[1], e, self.args(")"))
                else:
                    e = ("select", e, t[1])
            elif self.is_op("["):
                self.i += 1
                idx = self.expr()
                self.expect("]")
                e = ("index", e, idx)
            else:
                return e

    def primary(self):
        t = self.peek()
        self.i += 1
        k, v = t[0], t[1]
        if k == "int":
            if v[-1] in "uU":
                v = v[:-1]
            n = int(v, 0)
            if n > INT_MAX and not (k == "int" and t[1][-1] in "uU"):
                raise self.err("integer literal out of range")
            return ("lit", n)
        if k == "double":
            return ("lit", float(v))
        if k == "str":
            return ("lit", _cel_string(v))
        if k == "id":
            if v == "true":
                return ("lit", True)
            if v == "false":
                return ("lit", False)
            if v == "null":
                return ("lit", None)
            if self.is_op("("):
                self.i += 1
                return ("call", v, None, self.args(")"))
            return ("ident", v)
        if k == "op" and v == "(":
            e = self.expr()
            self.expect(")")
            return e
        if k == "op" and v == "[":
            return ("list", self.args("]"))
        self.i -= 1
        raise self.err("unexpected %r" % v if v else "unexpected end of condition")


def parse_expr(text):
    return _ExprParser(text).parse()


def _select(base, field):
    if base is MISSING:
        return MISSING
    tb = type(base)
    if tb is Namespace:
        return base.get(field)
    if tb is MapVal:
        v = base.d.get(field)
        return MISSING if v is None else Attr(v)
    return MISSING


class Evaluator:
    """Tree-walking evaluation. `names` maps top-level identifiers to values or thunks."""

    def __init__(self, regexes):
        self.regexes = regexes

    def run(self, node, names):
        v = self.ev(node, names)
        return v is True

    def ev(self, n, names):
        k = n[0]
        if k == "lit":
            return n[1]
        if k == "ident":
            v = names.get(n[1], MISSING)
            return v() if callable(v) else v
        if k == "select":
            return _select(self.ev(n[1], names), n[2])
        if k == "index":
            base = self.ev(n[1], names)
            idx = self.ev(n[2], names)
            if type(base) is MapVal and _to_str(idx) is not None:
                return _select(base, _to_str(idx))
            if type(base) is list and type(idx) is int:
                return base[idx] if 0 <= idx < len(base) else MISSING
            return MISSING
        if k == "and":
            a = self.ev(n[1], names)
            if a is False:
                return False
            b = self.ev(n[2], names)
            if b is False:
                return False
            if a is True and b is True:
                return True
            return MISSING
        if k == "or":
            a = self.ev(n[1], names)
            if a is True:
                return True
            b = self.ev(n[2], names)
            if b is True:
                return True
            if a is False and b is False:
                return False
            return MISSING
        if k == "not":
            a = self.ev(n[1], names)
            if type(a) is bool:
                return not a
            return MISSING
        if k == "neg":
            a = self.ev(n[1], names)
            if type(a) is Attr:
                a = attr_number(a.s)
                return MISSING if a is None else -a
            if type(a) is int:
                return _check_int(-a)
            if type(a) is float:
                return -a
            if type(a) is Dur:
                return Dur(-a.ms)
            return MISSING
        if k == "cond":
            c = self.ev(n[1], names)
            if c is True:
                return self.ev(n[2], names)
            if c is False:
                return self.ev(n[3], names)
            return MISSING
        if k == "rel":
            op = n[1]
            a = self.ev(n[2], names)
            b = self.ev(n[3], names)
            if op in ("==", "!="):
                r = _eq(a, b)
                if r is None:
                    return False
                return r if op == "==" else not r
            c = _comparable(a, b)
            if c is None or c is _MISMATCH:
                return False
            x, y = c
            if op == "<":
                return x < y
            if op == "<=":
                return x <= y
            if op == ">":
                return x > y
            return x >= y
        if k == "in":
            a = self.ev(n[1], names)
            b = self.ev(n[2], names)
            if a is MISSING or b is MISSING:
                return False
            tb = type(b)
            if tb is list:
                return any(_eq(a, e) is True for e in b)
            if tb is TagSet:
                s = _to_str(a)
                return s is not None and s in b.names
            if tb is MapVal:
                s = _to_str(a)
                return s is not None and s in b.d
            return False
        if k == "arith":
            return _arith(n[1], self.ev(n[2], names), self.ev(n[3], names))
        if k == "list":
            return [self.ev(e, names) for e in n[1]]
        if k == "call":
            return self.call(n, names)
        raise RuntimeError("bad node " + k)

    def call(self, n, names):
        fname, target, argn = n[1], n[2], n[3]
        if fname == "has" and target is None:
            sel = argn[0]
            base = self.ev(sel[1], names)
            if type(base) is MapVal:
                return sel[2] in base.d
            if base is MISSING:
                return False
            return True
        args = [self.ev(a, names) for a in argn]
        if target is not None:
            args = [self.ev(target, names)] + args
        if fname in ("startsWith", "endsWith", "contains"):
            a, b = _to_str(args[0]), _to_str(args[1])
            if a is None or b is None:
                return False
            if fname == "startsWith":
                return a.startswith(b)
            if fname == "endsWith":
                return a.endswith(b)
            return b in a
        if fname == "matches":
            a = _to_str(args[0])
            if a is None:
                return False
            pat = _to_str(args[1])
            rx = self.regexes.get(pat)
            if rx is None:
                rx = re.compile(pat)
            return rx.search(a) is not None
        if fname == "size":
            a = args[0]
            if a is MISSING:
                return MISSING
            s = _to_str(a)
            if s is not None:
                return len(s)
            if type(a) is list:
                return len(a)
            if type(a) is MapVal:
                return len(a.d)
            return MISSING
        if fname == "int":
            a = args[0]
            t = type(a)
            if t is int:
                return a
            if t is float:
                if a != a or math.isinf(a):
                    return MISSING
                return _check_int(int(a))  # truncates toward zero
            s = _to_str(a)
            if s is not None:
                return _check_int(int(s)) if _INT_STR.fullmatch(s) else MISSING
            if t is Dur:
                return _check_int(int(a.ms / 1000))
            if t is Ts:
                return a.ms // 1000
            return MISSING
        if fname == "double":
            a = args[0]
            t = type(a)
            if t is float:
                return a
            if t is int:
                return float(a)
            s = _to_str(a)
            if s is not None:
                x = attr_number(s)
                return MISSING if x is None else x
            return MISSING
        if fname == "string":
            a = args[0]
            t = type(a)
            if a is MISSING:
                return MISSING
            s = _to_str(a)
            if s is not None:
                return s
            if t is bool:
                return "true" if a else "false"
            if t is int:
                return str(a)
            if t is float:
                return _format_double(a)
            return MISSING
        if fname == "duration":
            s = _to_str(args[0])
            ms = parse_duration(s) if s is not None else None
            return MISSING if ms is None else Dur(ms)
        return MISSING


# ---------------------------------------------------------------------------
# The compiled model

class Condition:
    def __init__(self, text, node):
        self.text = text
        self.node = node


def _walk(node):
    yield node
    for c in node[1:]:
        if isinstance(c, tuple):
            yield from _walk(c)
        elif isinstance(c, list):
            for x in c:
                if isinstance(x, tuple):
                    yield from _walk(x)


def _pattern_matches(pattern, etype):
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return etype.startswith(pattern[:-1])
    return pattern == etype


class Model:
    def __init__(self, text, filename="<model>"):
        self.filename = filename
        d = parse_textproto(text, filename)
        self.raw = d
        self.name = d.get("name", "")
        lat = d.get("allowed_lateness", "") or "7d"
        self.lateness = self._dur(lat, "allowed_lateness")
        self.regexes = {}

        # names
        self.scores = []          # list of dicts, model order
        self.score_by_name = {}
        for s in d.get("score", []):
            n = s.get("name", "")
            if not n or n in self.score_by_name:
                raise ModelError("%s: bad or duplicate score name %r" % (filename, n))
            sc = {"name": n, "half_life": None, "min": s.get("min"), "max": s.get("max"),
                  "formula": s.get("formula", ""), "fit": False, "rules": False}
            if s.get("half_life"):
                sc["half_life"] = self._dur(s["half_life"], "half_life")
                if sc["half_life"] <= 0:
                    raise ModelError("%s: half_life must be positive" % filename)
            if sc["min"] is not None and sc["max"] is not None and sc["min"] > sc["max"]:
                raise ModelError("%s: score %s min > max" % (filename, n))
            self.scores.append(sc)
            self.score_by_name[n] = sc
        self.counter_names = [c.get("name", "") for c in d.get("counter", [])]
        self.tag_names = [t.get("name", "") for t in d.get("tag", [])]
        lc = d.get("lifecycle")
        self.lifecycle = None
        self.stages = []
        if lc is not None:
            self.stages = list(lc.get("stage", []))
        self._unique(self.counter_names, "counter")
        self._unique(self.tag_names, "tag")
        self._unique(self.stages, "stage")
        self._unique([r.get("name", "") for r in d.get("rule", [])] +
                     [f.get("name", "") for f in d.get("fit", [])], "rule")
        self._unique([f.get("name", "") for f in d.get("flag", [])], "flag")

        # derived formulas
        for sc in self.scores:
            if sc["formula"]:
                sc["formula_cond"] = self._cond(sc["formula"], "formula")
        self._check_formula_cycles()

        self.counters = []
        for c in d.get("counter", []):
            self.counters.append({
                "name": c["name"], "on": c.get("on", ""),
                "when": self._cond(c["when"], "event") if c.get("when") else None,
                "window": self._dur(c["window"], "window") if c.get("window") else None})

        self.rules = []
        for r in d.get("rule", []):
            sname = r.get("score", "")
            if sname not in self.score_by_name:
                raise ModelError("%s: rule %s: unknown score %r" % (filename, r.get("name"), sname))
            sc = self.score_by_name[sname]
            if sc["formula"]:
                raise ModelError("%s: rule %s targets a derived score" % (filename, r["name"]))
            sc["rules"] = True
            cap = r.get("cap")
            rule = {"name": r["name"], "on": r.get("on", ""), "score": sname,
                    "points": float(r.get("points", 0.0)), "once": bool(r.get("once", False)),
                    "when": self._cond(r["when"], "event") if r.get("when") else None,
                    "cap": None}
            if cap is not None:
                mp = float(cap.get("max_points", 0.0))
                if mp <= 0 or rule["points"] <= 0:
                    raise ModelError("%s: rule %s: bad cap" % (filename, r["name"]))
                rule["cap"] = {"max_points": mp,
                               "window": self._dur(cap["window"], "window") if cap.get("window") else None}
            self.rules.append(rule)

        self.fits = []
        for f in d.get("fit", []):
            sname = f.get("score", "")
            if sname not in self.score_by_name:
                raise ModelError("%s: fit %s: unknown score %r" % (filename, f.get("name"), sname))
            sc = self.score_by_name[sname]
            if sc["formula"] or sc["half_life"] is not None:
                raise ModelError("%s: fit %s: score %s cannot take fit rules" % (filename, f["name"], sname))
            sc["fit"] = True
            self.fits.append({"name": f["name"], "score": sname,
                              "points": float(f.get("points", 0.0)),
                              "when": self._cond(f.get("when", ""), "fit")})
        for sc in self.scores:
            if sc["fit"] and sc["rules"]:
                raise ModelError("%s: score %s has both fit and event rules" % (filename, sc["name"]))

        self.tags = []
        for t in d.get("tag", []):
            ev = bool(t.get("on"))
            if t.get("ttl") and not ev:
                raise ModelError("%s: ttl on state tag %s" % (filename, t["name"]))
            if not ev and not t.get("when"):
                raise ModelError("%s: state tag %s without when" % (filename, t["name"]))
            self.tags.append({
                "name": t["name"], "on": t.get("on", "") if ev else None,
                "when": self._cond(t["when"], "event" if ev else "eval") if t.get("when") else None,
                "ttl": self._dur(t["ttl"], "ttl") if t.get("ttl") else None})
        self.event_tags = [t for t in self.tags if t["on"] is not None]
        self.state_tags = [t for t in self.tags if t["on"] is None]

        if lc is not None:
            initial = lc.get("initial", "")
            if initial not in self.stages:
                raise ModelError("%s: unknown initial stage %r" % (filename, initial))
            trans = []
            for tr in lc.get("transition", []):
                frm = tr.get("from", [])
                for s in frm:
                    if s != "*" and s not in self.stages:
                        raise ModelError("%s: unknown stage %r" % (filename, s))
                if tr.get("to", "") not in self.stages:
                    raise ModelError("%s: unknown stage %r" % (filename, tr.get("to")))
                on = tr.get("on", "")
                if not on and not tr.get("when"):
                    raise ModelError("%s: transition without on or when" % filename)
                trans.append({"from": frm, "to": tr["to"], "on": on or None,
                              "when": self._cond(tr["when"], "event" if on else "eval")
                              if tr.get("when") else None})
            self.lifecycle = {"initial": initial, "transitions": trans}

        self.flags = []
        for f in d.get("flag", []):
            when = self._cond(f.get("when", ""), "eval")
            fl = {"name": f["name"], "when": when,
                  "rearm": self._cond(f["rearm"], "eval") if f.get("rearm") else None,
                  "cooldown": self._dur(f["cooldown"], "cooldown") if f.get("cooldown") else None,
                  "top": f.get("top_reasons", 3)}
            fl["reason_scores"] = self._scores_read(when.node)
            self.flags.append(fl)

    # -- helpers
    def _unique(self, names, kind):
        seen = set()
        for n in names:
            if not n or n in seen:
                raise ModelError("%s: bad or duplicate %s name %r" % (self.filename, kind, n))
            seen.add(n)

    def _dur(self, text, what):
        v = parse_duration(text)
        if v is None:
            raise ModelError("%s: bad duration %r for %s" % (self.filename, text, what))
        return v

    def _scores_read(self, node):
        """Non-derived scores read directly or through derived formulas."""
        out, todo, seen = set(), [node], set()
        while todo:
            nd = todo.pop()
            for x in _walk(nd):
                if x[0] == "select" and x[1] == ("ident", "score"):
                    name = x[2]
                    if name in seen:
                        continue
                    seen.add(name)
                    sc = self.score_by_name[name]
                    if sc["formula"]:
                        todo.append(sc["formula_cond"].node)
                    else:
                        out.add(name)
        return out

    def _check_formula_cycles(self):
        state = {}

        def visit(name):
            if state.get(name) == 1:
                raise ModelError("%s: derived score cycle through %s" % (self.filename, name))
            if state.get(name) == 2:
                return
            state[name] = 1
            sc = self.score_by_name[name]
            if sc["formula"]:
                for x in _walk(sc["formula_cond"].node):
                    if x[0] == "select" and x[1] == ("ident", "score"):
                        visit(x[2])
            state[name] = 2

        for sc in self.scores:
            visit(sc["name"])

    def _cond(self, text, ctx):
        try:
            node = parse_expr(text)
        except ModelError as e:
            raise ModelError("%s: condition %r: %s" % (self.filename, text, e))
        self._check(node, ctx, text)
        return Condition(text, node)

    def _check(self, node, ctx, text):
        allowed = {
            "event": {"event", "member", "score", "counter", "stage", "tags", "idle", "stage_age", "now"},
            "eval": {"member", "score", "counter", "stage", "tags", "idle", "stage_age", "now"},
            "fit": {"member"},
            "formula": {"score"},
        }[ctx]

        def bad(msg):
            return ModelError("%s: condition %r: %s" % (self.filename, text, msg))

        for x in _walk(node):
            k = x[0]
            if k == "ident":
                if x[1] not in allowed:
                    raise bad("name %r not allowed here" % x[1])
                if x[1] in ("stage", "stage_age") and "lifecycle" not in self.raw:
                    raise bad("%s without a lifecycle" % x[1])
            elif k == "select" and x[1][0] == "ident":
                base, f = x[1][1], x[2]
                if base == "score" and f not in self.score_by_name:
                    raise bad("unknown score %r" % f)
                if base == "counter" and f not in self.counter_names:
                    raise bad("unknown counter %r" % f)
                if base == "event" and f not in ("type", "value", "group", "channel", "attrs"):
                    raise bad("unknown event field %r" % f)
            elif k == "in" and x[2] == ("ident", "tags"):
                if x[1][0] != "lit" or x[1][1] not in self.tag_names:
                    raise bad("'in tags' needs a declared tag name literal")
            elif k == "rel" and ("ident", "stage") in (x[2], x[3]):
                other = x[3] if x[2] == ("ident", "stage") else x[2]
                if x[1] not in ("==", "!=") or other[0] != "lit" or other[1] not in self.stages:
                    raise bad("stage compares only with declared stage literals")
            elif k == "in" and x[1] == ("ident", "stage"):
                if x[2][0] != "list" or any(e[0] != "lit" or e[1] not in self.stages for e in x[2][1]):
                    raise bad("stage in [...] needs declared stage literals")
            elif k == "call":
                if x[1] == "matches":
                    pat = x[3][-1] if x[3] else None
                    if pat is None or pat[0] != "lit" or not isinstance(pat[1], str):
                        raise bad("matches needs a literal pattern")
                    try:
                        self.regexes[pat[1]] = re.compile(pat[1])
                    except re.error as e:
                        raise bad("bad pattern: %s" % e)
                elif x[1] == "has":
                    if len(x[3]) != 1 or x[3][0][0] != "select":
                        raise bad("has() needs a field selection")
                elif x[1] not in ("startsWith", "endsWith", "contains", "size", "int",
                                  "double", "string", "duration"):
                    raise bad("unknown function %r" % x[1])


# ---------------------------------------------------------------------------
# Scoring

def _decay(v, dt, half_life):
    if half_life is None or dt == 0 or v == 0.0:
        return v
    return v * 2.0 ** (-dt / half_life)


def _clamp(x, lo, hi):
    if lo is not None and x < lo:
        x = lo
    if hi is not None and x > hi:
        x = hi
    return x


class Event:
    __slots__ = ("row", "event_id", "member_id", "time", "type", "value", "group",
                 "channel", "account", "attrs", "profile")


class Member:
    def __init__(self, model, mid, t):
        self.id = mid
        self.clock = None
        self.last_event = None
        self.attrs = {}
        self.score_state = {s["name"]: [0.0, t] for s in model.scores
                            if not s["formula"] and not s["fit"]}
        self.ledger = {}           # rule name -> [value, t0]
        self.fit_holds = {}        # fit rule name -> bool
        self.counter_times = {c["name"]: [] for c in model.counters}
        self.cap_hist = {}         # rule name -> sorted [(time, raw)]
        self.cap_total = {}        # rule name -> lifetime allowed raw
        self.once_done = set()
        self.tags = {}             # held tag -> last_set (event tags) or None
        self.stage = model.lifecycle["initial"] if model.lifecycle else None
        self.stage_since = t if model.lifecycle else None
        self.flags = {f["name"]: {"armed": True, "raised": 0, "last_raised": None}
                      for f in model.flags}
        self.seen = {}             # event_id -> greatest applied event time


class Engine:
    def __init__(self, model):
        self.model = model
        self.members = {}
        self.changes = {}
        self.evaluator = Evaluator(model.regexes)

    # -- output
    def emit(self, mid, rec):
        self.changes.setdefault(mid, []).append(rec)

    def reject(self, mid, event_id, time, reason):
        self.emit(mid, {"member_id": mid, "time": time, "kind": "rejected",
                        "event_id": event_id, "reason": reason})

    # -- reading
    def score_value(self, m, name, t):
        sc = self.model.score_by_name[name]
        if sc["formula"]:
            v = self.evaluator.ev(sc["formula_cond"].node, {"score": self._score_ns(m, t)})
            if type(v) is int:
                return float(v)
            if type(v) is float:
                return v
            return 0.0
        if sc["fit"]:
            total = 0.0
            for f in self.model.fits:
                if f["score"] == name and m.fit_holds.get(f["name"]):
                    total += f["points"]
            return _clamp(total, sc["min"], sc["max"])  # Reading: R10 when nothing holds
        v, t0 = m.score_state[name]
        return _decay(v, t - t0, sc["half_life"])

    def _score_ns(self, m, t):
        return Namespace(lambda n: self.score_value(m, n, t))

    def counter_value(self, m, c, t):
        times = m.counter_times[c["name"]]
        if c["window"] is None:
            return len(times)
        return bisect.bisect_right(times, t) - bisect.bisect_right(times, t - c["window"])

    def _names(self, m, t, idle, event=None):
        model = self.model
        cmap = {c["name"]: c for c in model.counters}
        names = {
            "member": MapVal(m.attrs),
            "score": self._score_ns(m, t),
            "counter": Namespace(lambda n: self.counter_value(m, cmap[n], t)),
            "stage": lambda: m.stage,
            "tags": lambda: TagSet(set(m.tags)),
            "idle": Dur(idle),
            "stage_age": lambda: Dur(t - m.stage_since),
            "now": Ts(t),
        }
        if event is not None:
            ev_fields = {"type": event.type, "value": event.value,
                         "group": event.group, "channel": event.channel,
                         "attrs": MapVal(event.attrs)}
            names["event"] = Namespace(lambda f: ev_fields.get(f, MISSING))
        return names

    def holds(self, cond, names):
        return cond is None or self.evaluator.run(cond.node, names)

    # -- the evaluation of section 8
    def evaluate(self, m, t):
        model = self.model
        idle = t - m.last_event
        names = self._names(m, t, idle)
        # 1. expire event tags
        for tag in model.event_tags:
            n = tag["name"]
            if n in m.tags and tag["ttl"] is not None and t >= m.tags[n] + tag["ttl"]:
                del m.tags[n]
                self.emit(m.id, {"member_id": m.id, "time": t, "kind": "tag_removed", "tag": n})
        # 2. state tags, model order, each sees the ones before it
        for tag in model.state_tags:
            n = tag["name"]
            h = self.holds(tag["when"], names)
            if h and n not in m.tags:
                m.tags[n] = None
                self.emit(m.id, {"member_id": m.id, "time": t, "kind": "tag_added", "tag": n})
            elif not h and n in m.tags:
                del m.tags[n]
                self.emit(m.id, {"member_id": m.id, "time": t, "kind": "tag_removed", "tag": n})
        # 3. lifecycle transitions without `on`
        if model.lifecycle:
            visited = {m.stage}
            while True:
                fired = False
                for tr in model.lifecycle["transitions"]:
                    if tr["on"] is not None:
                        continue
                    if not ("*" in tr["from"] or m.stage in tr["from"]):
                        continue
                    if tr["to"] in visited:
                        continue
                    if self.holds(tr["when"], names):
                        self._change_stage(m, tr["to"], t)
                        visited.add(tr["to"])
                        fired = True
                        break
                if not fired:
                    break
        # 4. flags: re-arm, then raise (Reading: R8, flag by flag, model order)
        for fl in model.flags:
            st = m.flags[fl["name"]]
            if not st["armed"] and (fl["rearm"] is not None or fl["cooldown"] is not None):
                ok = True
                if fl["rearm"] is not None and not self.holds(fl["rearm"], names):
                    ok = False
                if ok and fl["cooldown"] is not None and t - st["last_raised"] < fl["cooldown"]:
                    ok = False
                if ok:
                    st["armed"] = True
                    self.emit(m.id, {"member_id": m.id, "time": t, "kind": "flag_rearmed",
                                     "flag": fl["name"]})
            if st["armed"] and self.holds(fl["when"], names):
                st["armed"] = False
                st["raised"] += 1
                st["last_raised"] = t
                self.emit(m.id, {"member_id": m.id, "time": t, "kind": "flag_raised",
                                 "flag": fl["name"], "scores": self.all_scores(m, t),
                                 "reasons": self.reasons(m, fl, t)})

    def _change_stage(self, m, to, t):
        self.emit(m.id, {"member_id": m.id, "time": t, "kind": "stage_changed",
                         "from": m.stage, "to": to})
        m.stage = to
        m.stage_since = t

    def all_scores(self, m, t):
        return {s["name"]: self.score_value(m, s["name"], t) for s in self.model.scores}

    def reasons(self, m, fl, t):
        entries = []
        for r in self.model.rules:
            if r["score"] in fl["reason_scores"] and r["name"] in m.ledger:
                v, t0 = m.ledger[r["name"]]
                v = _decay(v, t - t0, self.model.score_by_name[r["score"]]["half_life"])
                entries.append((v, r["name"], r["score"]))
        for f in self.model.fits:
            if f["score"] in fl["reason_scores"] and m.fit_holds.get(f["name"]):
                entries.append((f["points"], f["name"], f["score"]))
        entries = [e for e in entries if e[0] != 0.0]
        # Ties at 12 significant digits (docs/semantics-notes.md point 27).
        entries.sort(key=lambda e: (-float("%.12g" % e[0]), e[1].encode("utf-8"), e[2].encode("utf-8")))
        return [{"rule": e[1], "score": e[2], "points": e[0]} for e in entries[:fl["top"]]]

    def recompute_fit(self, m):
        names = {"member": MapVal(m.attrs)}
        for f in self.model.fits:
            m.fit_holds[f["name"]] = self.evaluator.run(f["when"].node, names)

    # -- applying one event (section 8)
    def apply(self, ev, as_of):
        model = self.model
        mid = ev.member_id
        if not math.isfinite(ev.value):
            self.reject(mid, ev.event_id, ev.time, "invalid")
            return
        if as_of is not None and ev.time > as_of:
            self.reject(mid, ev.event_id, ev.time, "after_as_of")
            return
        m = self.members.get(mid)
        if m is not None:
            horizon = m.clock - model.lateness
            if ev.time < horizon:
                self.reject(mid, ev.event_id, ev.time, "too_late")
                return
            prev = m.seen.get(ev.event_id)
            if prev is not None and prev >= horizon:
                self.reject(mid, ev.event_id, ev.time, "duplicate")
                return
        first = m is None
        if first:
            m = Member(model, mid, ev.time)
            self.members[mid] = m
            tau = ev.time
            idle = 0
        else:
            tau = max(m.clock, ev.time)
            self.evaluate(m, tau)                       # step 2
            idle = tau - m.last_event
        # step 3
        if ev.profile:
            m.attrs.update(ev.profile)
        self.recompute_fit(m)
        # step 4
        names = self._names(m, tau, idle, ev)
        for c in model.counters:  # Reading: R7
            if _pattern_matches(c["on"], ev.type) and self.holds(c["when"], names):
                bisect.insort(m.counter_times[c["name"]], ev.time)
        for r in model.rules:
            if not _pattern_matches(r["on"], ev.type):
                continue
            if r["once"] and r["name"] in m.once_done:
                continue
            if not self.holds(r["when"], names):
                continue
            if r["once"]:
                m.once_done.add(r["name"])
            raw = r["points"]
            cap = r["cap"]
            if cap is not None:
                if cap["window"] is None:  # Reading: R6
                    used = m.cap_total.get(r["name"], 0.0)
                else:
                    hist = m.cap_hist.setdefault(r["name"], [])
                    lo = bisect.bisect_right(hist, (ev.time - cap["window"], math.inf))
                    hi = bisect.bisect_right(hist, (ev.time, math.inf))
                    used = sum(x[1] for x in hist[lo:hi])
                raw = max(0.0, min(raw, cap["max_points"] - used))
                if cap["window"] is None:
                    m.cap_total[r["name"]] = m.cap_total.get(r["name"], 0.0) + raw
                else:
                    bisect.insort(m.cap_hist[r["name"]], (ev.time, raw))
            self._grant(m, r, raw, ev.time, tau)
        for tag in model.event_tags:
            if _pattern_matches(tag["on"], ev.type) and self.holds(tag["when"], names):
                n = tag["name"]
                if n in m.tags:
                    if m.tags[n] is not None and ev.time > m.tags[n]:
                        m.tags[n] = ev.time
                else:
                    m.tags[n] = ev.time
                    self.emit(mid, {"member_id": mid, "time": tau, "kind": "tag_added", "tag": n})
        if model.lifecycle:
            for tr in model.lifecycle["transitions"]:
                if tr["on"] is None or not _pattern_matches(tr["on"], ev.type):
                    continue
                if not ("*" in tr["from"] or m.stage in tr["from"]):
                    continue
                if tr["to"] == m.stage:
                    continue
                if self.holds(tr["when"], names):
                    self._change_stage(m, tr["to"], tau)
                    break
        # step 5
        m.last_event = ev.time if m.last_event is None else max(m.last_event, ev.time)
        prev = m.seen.get(ev.event_id)
        m.seen[ev.event_id] = ev.time if prev is None else max(prev, ev.time)
        self.evaluate(m, tau)
        m.clock = tau

    def _grant(self, m, rule, raw, etime, tau):
        sc = self.model.score_by_name[rule["score"]]
        p = _decay(raw, tau - etime, sc["half_life"])
        v0, t0 = m.score_state[sc["name"]]
        v = _decay(v0, tau - t0, sc["half_life"])
        granted = _clamp(v + p, sc["min"], sc["max"]) - v
        m.score_state[sc["name"]] = [v + granted, tau]
        lv, lt = m.ledger.get(rule["name"], (0.0, tau))
        m.ledger[rule["name"]] = [_decay(lv, tau - lt, sc["half_life"]) + granted, tau]

    def advance(self, m, t):
        t = max(m.clock, t)
        self.evaluate(m, t)
        m.clock = t

    # -- reading a member
    def member_record(self, m, t):
        t = max(m.clock, t)
        model = self.model
        return {
            "member_id": m.id,
            "stage": m.stage,
            "stage_since": m.stage_since,
            "scores": self.all_scores(m, t),
            "tags": sorted(m.tags, key=lambda s: s.encode("utf-8")),
            "counters": {c["name"]: self.counter_value(m, c, t) for c in model.counters},
            "flags": {f["name"]: dict(m.flags[f["name"]]) for f in model.flags},
        }


# ---------------------------------------------------------------------------
# The CSV log

_NONFINITE = re.compile(r"[+-]?(?:inf|infinity|nan)", re.I)


def _parse_value(cell):
    """float, or None if the cell is not a number at all."""
    if cell == "":
        return 0.0
    if _NUM_ATTR.fullmatch(cell):
        return float(cell)  # may overflow to inf: non-finite
    if _NONFINITE.fullmatch(cell):
        return float(cell)
    return None


def read_log(path):
    """-> list of ('reject', member_id, event_id, time) or ('event', Event), log order."""
    out = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            return out
        col = {}
        for i, h in enumerate(header):
            col.setdefault(h, i)
        attr_cols = [(h[5:], i) for i, h in enumerate(header) if h.startswith("attr.")]
        prof_cols = [(h[8:], i) for i, h in enumerate(header) if h.startswith("profile.")]

        def cell(rec, name):
            i = col.get(name)
            if i is None or i >= len(rec):
                return ""
            return rec[i]

        row = 0
        for rec in reader:
            if not rec:
                continue  # Reading: R2, a blank line is not a record
            row += 1
            mid = cell(rec, "member_id")
            eid = cell(rec, "event_id")
            t = parse_time(cell(rec, "time"))
            if len(rec) != len(header):  # Reading: R1
                out.append(("reject", mid, eid, t))
                continue
            value = _parse_value(cell(rec, "value"))
            if mid == "" or t is None or value is None:
                out.append(("reject", mid, eid, t))
                continue
            ev = Event()
            ev.row = row
            ev.event_id = eid
            ev.member_id = mid
            ev.time = t
            ev.type = cell(rec, "type")
            ev.value = value
            ev.group = cell(rec, "group_id")
            ev.channel = cell(rec, "channel")
            ev.account = cell(rec, "account_id")
            ev.attrs = {k: rec[i] for k, i in attr_cols if rec[i] != ""}
            ev.profile = {k: rec[i] for k, i in prof_cols if rec[i] != ""}
            out.append(("event", ev))
    return out


def run_batch(model, records, order="time", as_of=None):
    """Applies a log; returns (engine, T). T: --as-of, else the largest valid time."""
    eng = Engine(model)
    if as_of is None:
        valid = [r[1].time for r in records if r[0] == "event" and math.isfinite(r[1].value)]  # R5
        as_of = max(valid) if valid else None
    if order == "arrival":
        for r in records:
            if r[0] == "reject":
                eng.reject(r[1], r[2], r[3], "invalid")
            else:
                eng.apply(r[1], as_of)
    else:
        per_member = {}
        for r in records:  # rows without member or usable time: rejected while reading
            if r[0] == "reject":
                eng.reject(r[1], r[2], r[3], "invalid")
            else:
                per_member.setdefault(r[1].member_id, []).append(r[1])
        for evs in per_member.values():
            evs.sort(key=lambda e: (e.time, e.row))
            for ev in evs:
                eng.apply(ev, as_of)
    if as_of is not None:
        for m in eng.members.values():
            eng.advance(m, as_of)
    return eng, as_of


def score_log(model, records, order="time", as_of=None):
    """Runs the whole batch; returns (members records, changes records), both sorted."""
    eng, _ = run_batch(model, records, order, as_of)
    members = [eng.member_record(eng.members[mid], eng.members[mid].clock)
               for mid in sorted(eng.members, key=lambda s: s.encode("utf-8"))]
    changes = []
    for mid in sorted(eng.changes, key=lambda s: s.encode("utf-8")):
        changes.extend(eng.changes[mid])
    return members, changes


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--events", required=True)
    ap.add_argument("--as-of")
    ap.add_argument("--order", choices=("time", "arrival"), default="time")
    ap.add_argument("--members-out", required=True)
    ap.add_argument("--changes-out", required=True)
    a = ap.parse_args(argv)
    with open(a.model, encoding="utf-8") as f:
        text = f.read()
    try:
        model = Model(text, a.model)
    except ModelError as e:
        print("refscore: model error: %s" % e, file=sys.stderr)
        return 2
    as_of = None
    if a.as_of is not None:
        as_of = parse_time(a.as_of)
        if as_of is None:
            print("refscore: bad --as-of %r" % a.as_of, file=sys.stderr)
            return 2
    members, changes = score_log(model, read_log(a.events), a.order, as_of)
    with open(a.members_out, "w", encoding="utf-8") as f:
        for rec in members:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    with open(a.changes_out, "w", encoding="utf-8") as f:
        for rec in changes:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""leadscore for Python: score B2B community members, over the C API.

    import leadscore
    model = leadscore.Model.load("community.textproto")
    store = leadscore.Store(model)
    store.apply({"event_id": "e1", "member_id": "m1", "time": 1767225600000,
                 "type": "demo.request", "profile": {"role": "decision_maker"}})
    store.member("m1")          # {"member_id": "m1", "stage": ..., "scores": {...}, ...}
    for change in store.changes():
        print(change["kind"])   # tag_added, stage_changed, flag_raised, ...

Times are milliseconds since the Unix epoch (int) or datetime objects (naive
ones are taken as UTC). Threads: a Model may be shared by any number of
threads; a Store is used by one thread at a time (docs/c-api.md).
"""

import ctypes
import datetime as _dt
import json as _json

from . import _native

__all__ = [
    "Error", "InvalidArgument", "NotFound", "DataLoss", "FailedPrecondition",
    "Model", "Store", "shard_of", "version", "REJECT_REASONS",
]

_lib = _native.lib

# Canonical error codes (ls_code).
_CODE_NAMES = {
    0: "OK", 1: "CANCELLED", 2: "UNKNOWN", 3: "INVALID_ARGUMENT", 4: "DEADLINE_EXCEEDED",
    5: "NOT_FOUND", 6: "ALREADY_EXISTS", 7: "PERMISSION_DENIED", 8: "RESOURCE_EXHAUSTED",
    9: "FAILED_PRECONDITION", 10: "ABORTED", 11: "OUT_OF_RANGE", 12: "UNIMPLEMENTED",
    13: "INTERNAL", 14: "UNAVAILABLE", 15: "DATA_LOSS",
}

REJECT_REASONS = ("invalid", "too_late", "duplicate", "after_as_of")


class Error(Exception):
    """An error from the library; `code` is the ls_code, `code_name` its name."""

    def __init__(self, message, code=2):
        super().__init__(message)
        self.code = code
        self.code_name = _CODE_NAMES.get(code, "UNKNOWN")


class InvalidArgument(Error, ValueError):
    """A bad model (the message lists every problem), bad arguments, or bytes
    that are not ours."""


class NotFound(Error, LookupError):
    """No such file, or no such member."""


class DataLoss(Error):
    """A truncated or corrupt snapshot or member state."""


class FailedPrecondition(Error, RuntimeError):
    """A store called from its own change callback."""


_ERRORS = {3: InvalidArgument, 5: NotFound, 15: DataLoss, 9: FailedPrecondition}


def _raise(err):
    """Raises the error in `err` (a c_void_p filled by the library), freeing it."""
    message = ctypes.string_at(err.value).decode("utf-8", "replace")
    code = _lib.ls_error_code(err.value)
    _lib.ls_free(err.value)
    err.value = None
    raise _ERRORS.get(code, Error)(message, code)


def _call(fn, *args):
    err = ctypes.c_void_p()
    result = fn(*args, ctypes.byref(err))
    if err.value:
        _raise(err)
    return result


def _take(ptr, length):
    """Bytes of a library buffer the caller frees; frees it."""
    try:
        return ctypes.string_at(ptr, length)
    finally:
        _lib.ls_free(ptr)


def _b(s):
    if s is None:
        return b""
    if isinstance(s, bytes):
        return s
    return str(s).encode("utf-8")


def _millis(t):
    if isinstance(t, _dt.datetime):
        if t.tzinfo is None:
            t = t.replace(tzinfo=_dt.timezone.utc)
        return int(round(t.timestamp() * 1000))
    if isinstance(t, bool) or not isinstance(t, int):
        raise TypeError("time must be int milliseconds or a datetime, not %r" % (t,))
    return t


def version():
    """The library's version string, e.g. "0.1.0"."""
    return _lib.ls_version_string().decode()


def shard_of(member_id, num_shards):
    """The shard of a member among `num_shards` (stable everywhere)."""
    b = _b(member_id)
    shard = _lib.ls_shard_of(b, len(b), int(num_shards))
    if shard < 0:
        raise ValueError("num_shards must be >= 1")
    return shard


class Model:
    """A compiled scoring model: immutable, shareable between threads."""

    _KINDS = {"scores": 0, "counters": 1, "tags": 2, "stages": 3, "flags": 4, "rules": 5}

    def __init__(self, handle):
        self._h = handle

    @classmethod
    def load(cls, path):
        """From a file (".json": protobuf JSON, else protobuf text format)."""
        return cls(_call(_lib.ls_model_load_file, _b(str(path))))

    @classmethod
    def from_text(cls, text, filename="<model>"):
        b = _b(text)
        return cls(_call(_lib.ls_model_load_text, b, len(b), _b(filename)))

    @classmethod
    def from_json(cls, text, filename="<model>"):
        b = _b(text)
        return cls(_call(_lib.ls_model_load_json, b, len(b), _b(filename)))

    def _handle(self):
        if not self._h:
            raise ValueError("the model is closed")
        return self._h

    @property
    def name(self):
        return _lib.ls_model_name(self._handle()).decode()

    @property
    def allowed_lateness_ms(self):
        return _lib.ls_model_allowed_lateness_ms(self._handle())

    def _names(self, kind):
        h = self._handle()
        k = self._KINDS[kind]
        return tuple(_lib.ls_model_item(h, k, i).decode()
                     for i in range(_lib.ls_model_count(h, k)))

    scores = property(lambda self: self._names("scores"))
    counters = property(lambda self: self._names("counters"))
    tags = property(lambda self: self._names("tags"))
    stages = property(lambda self: self._names("stages"))
    flags = property(lambda self: self._names("flags"))
    rules = property(lambda self: self._names("rules"))

    def close(self):
        """Releases the model (stores made from it keep it alive)."""
        if self._h:
            _lib.ls_model_destroy(self._h)
            self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass

    def __repr__(self):
        return "Model(%r)" % (self.name if self._h else "<closed>")


_EVENT_STRINGS = ("event_id", "member_id", "type", "account_id", "group_id", "channel")
_EVENT_KEYS = set(_EVENT_STRINGS) | {"time", "value", "attrs", "profile"}


def _pairs(d, keep):
    if not d:
        return None, 0
    arr = (_native.KV * len(d))()
    for i, (k, v) in enumerate(d.items()):
        kb, vb = _b(k), _b(v)
        keep.append(kb)
        keep.append(vb)
        arr[i].key, arr[i].key_len = kb, len(kb)
        arr[i].value, arr[i].value_len = vb, len(vb)
    keep.append(arr)
    return arr, len(d)


def _fill_event(ev, d, keep):
    """Fills an ls_event from a dict; `keep` holds the buffers alive."""
    unknown = set(d) - _EVENT_KEYS
    if unknown:
        raise ValueError("unknown event keys: %s" % ", ".join(sorted(unknown)))
    for key in _EVENT_STRINGS:
        b = _b(d.get(key))
        keep.append(b)
        setattr(ev, key, b)
        setattr(ev, key + "_len", len(b))
    t = d.get("time")
    ev.has_time = 0 if t is None else 1
    ev.time = 0 if t is None else _millis(t)
    ev.value = float(d.get("value") or 0.0)
    ev.attrs, ev.num_attrs = _pairs(d.get("attrs"), keep)
    ev.profile, ev.num_profile = _pairs(d.get("profile"), keep)


class Store:
    """Member states scored with one model. Use from one thread at a time.

    Changes are queued (drain them with changes()) unless queue=False; a
    callback set with on_change() receives each change as a dict as it
    happens.
    """

    def __init__(self, model, queue=True, _handle=None):
        self.model = model
        self._h = _handle if _handle is not None else _call(_lib.ls_store_create,
                                                            model._handle())
        self._fn = None        # the ctypes callback, kept alive
        self._user_fn = None
        self._pending = None   # an exception raised by the user's callback
        _lib.ls_store_set_queue(self._h, 1 if queue else 0)

    @classmethod
    def load(cls, model, path, queue=True):
        """A store from a snapshot file. Raises NotFound, InvalidArgument (not
        a snapshot, or another model's), DataLoss (truncated or corrupt)."""
        h = _call(_lib.ls_store_load_snapshot, model._handle(), _b(str(path)))
        return cls(model, queue=queue, _handle=h)

    def _handle(self):
        if not self._h:
            raise ValueError("the store is closed")
        return self._h

    def _run(self, fn, *args):
        """Calls fn(store, *args, errptr); re-raises a callback's exception."""
        try:
            return _call(fn, self._handle(), *args)
        finally:
            pending, self._pending = self._pending, None
            if pending is not None:
                raise pending

    # --- events -----------------------------------------------------------

    def apply(self, event):
        """Applies one event, a dict with keys event_id, member_id, time (ms
        or datetime; None or absent: unknown, rejected as invalid), type,
        account_id, group_id, channel, value, attrs (dict), profile (dict).
        Bad data is a counted rejection (a "rejected" change), not an error."""
        keep = []
        ev = _native.Event()
        _fill_event(ev, event, keep)
        self._run(_lib.ls_store_apply, ctypes.byref(ev))

    def apply_many(self, events):
        """Applies events (dicts) in order, in one call."""
        events = list(events)
        if not events:
            return
        keep = []
        arr = (_native.Event * len(events))()
        for i, d in enumerate(events):
            _fill_event(arr[i], d, keep)
        self._run(_lib.ls_store_apply_batch, arr, len(events))

    def apply_proto(self, data):
        """Applies a serialized leadscore.v1.MemberEvent."""
        self._run(_lib.ls_store_apply_proto, bytes(data), len(data))

    def apply_proto_batch(self, data):
        """Applies a serialized leadscore.v1.MemberEventBatch."""
        self._run(_lib.ls_store_apply_proto_batch, bytes(data), len(data))

    def reject(self, member_id, event_id, time, reason, detail=""):
        """Counts and emits a rejection decided by the host; `reason` is one of
        REJECT_REASONS."""
        m, e, d = _b(member_id), _b(event_id), _b(detail)
        self._run(_lib.ls_store_reject, m, len(m), e, len(e), 0 if time is None else 1,
                  0 if time is None else _millis(time), REJECT_REASONS.index(reason), d,
                  len(d))

    def advance(self, member_id, time):
        """One evaluation of the member at max(its clock, time). NotFound when
        there is no such member."""
        b = _b(member_id)
        self._run(_lib.ls_store_advance, b, len(b), _millis(time))

    def advance_all(self, time):
        self._run(_lib.ls_store_advance_all, _millis(time))

    # --- reading ----------------------------------------------------------

    def member(self, member_id, at=None):
        """The member as a dict (stage, stage_since, scores, tags, counters,
        flags), read at max(its clock, at) (at=None: its clock); None when
        there is no such member."""
        b = _b(member_id)
        n = ctypes.c_size_t()
        t = _native.TIME_CLOCK if at is None else _millis(at)
        try:
            ptr = self._run(_lib.ls_store_read_json, b, len(b), t, ctypes.byref(n))
        except NotFound:
            return None
        return _json.loads(_take(ptr, n.value).decode("utf-8"))

    def view(self, member_id, at=None):
        """The member as a serialized leadscore.v1.MemberView (bytes, with
        the ledger); None when there is no such member."""
        b = _b(member_id)
        n = ctypes.c_size_t()
        t = _native.TIME_CLOCK if at is None else _millis(at)
        try:
            ptr = self._run(_lib.ls_store_read_view, b, len(b), t, ctypes.byref(n))
        except NotFound:
            return None
        return _take(ptr, n.value)

    def member_ids(self):
        """Every member id, in byte order."""
        ids = []

        def collect(_user, ptr, n):
            ids.append(ctypes.string_at(ptr, n).decode("utf-8", "surrogateescape"))

        self._run(_lib.ls_store_for_each_member, _native.MEMBER_FN(collect), None)
        return ids

    def __iter__(self):
        return iter(self.member_ids())

    def __len__(self):
        return self.stats["members"]

    def __contains__(self, member_id):
        b = _b(member_id)
        return bool(_lib.ls_store_contains(self._handle(), b, len(b)))

    @property
    def stats(self):
        """events_applied, rejected (by reason), members, flags_raised."""
        s = _native.Stats()
        _lib.ls_store_stats(self._handle(), ctypes.byref(s))
        return {
            "events_applied": s.events_applied,
            "rejected": {
                "invalid": s.rejected_invalid,
                "too_late": s.rejected_too_late,
                "duplicate": s.rejected_duplicate,
                "after_as_of": s.rejected_after_as_of,
            },
            "members": s.members,
            "flags_raised": s.flags_raised,
        }

    # --- changes ----------------------------------------------------------

    def changes(self):
        """Drains the queue: an iterator over the changes queued so far, as
        dicts (changes.jsonl lines: member_id, time, kind, ...)."""
        n = ctypes.c_size_t()
        ptr = self._run(_lib.ls_store_drain_changes, ctypes.byref(n))
        text = _take(ptr, n.value).decode("utf-8")
        return iter([_json.loads(line) for line in text.splitlines() if line])

    @property
    def queued(self):
        return _lib.ls_store_queued_changes(self._handle())

    def on_change(self, fn):
        """Calls fn(change_dict) for every change as it happens (None: stop).
        An exception in fn is raised from the store call that emitted it (the
        call completes first). fn must not call into this store."""
        if fn is None:
            self._fn = self._user_fn = None
            _lib.ls_store_set_callback(self._handle(), _native.CHANGE_FN(), None)
            return

        def trampoline(_user, change):
            if self._pending is not None:
                return
            c = change.contents
            try:
                fn(_json.loads(ctypes.string_at(c.json, c.json_len).decode("utf-8")))
            except BaseException as e:  # raised again after the C call returns
                self._pending = e

        self._user_fn = fn
        self._fn = _native.CHANGE_FN(trampoline)
        _lib.ls_store_set_callback(self._handle(), self._fn, None)

    # --- durable state ----------------------------------------------------

    def save(self, path):
        """Writes a snapshot atomically (temp file, fsync, rename)."""
        self._run(_lib.ls_store_save_snapshot, _b(str(path)))

    def export_member(self, member_id):
        """The member's state as bytes (keep it in your database row)."""
        b = _b(member_id)
        n = ctypes.c_size_t()
        ptr = self._run(_lib.ls_store_export_member, b, len(b), ctypes.byref(n))
        return _take(ptr, n.value)

    def import_member(self, data):
        """Adds (or replaces) a member from export_member() bytes. Returns the
        notes on what a changed model could not keep (a list, usually empty).
        Raises DataLoss for corrupt bytes, InvalidArgument for foreign ones."""
        data = bytes(data)
        self._run(_lib.ls_store_import_member, data, len(data))
        return self.restore_notes

    def erase(self, member_id):
        """Forgets a member; NotFound when there is none."""
        b = _b(member_id)
        self._run(_lib.ls_store_erase_member, b, len(b))

    @property
    def restore_notes(self):
        """What the last load/import could not keep under a changed model."""
        text = _lib.ls_store_restore_notes(self._handle()).decode("utf-8")
        return [line for line in text.split("\n") if line]

    # --- lifetime ---------------------------------------------------------

    def close(self):
        if self._h:
            _lib.ls_store_destroy(self._h)
            self._h = None
            self._fn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

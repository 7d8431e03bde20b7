"""ctypes declarations of the leadscore C API (bindings/c/leadscore/c.h).

Only this module knows the C layouts and signatures; __init__.py builds the
Pythonic API on top. The shared library is found, in order, at
$LEADSCORE_C_LIBRARY, by the system loader ("libleadscore_c.so.0"), or in the
build trees of a source checkout (build/, build-*/).
"""

import ctypes
import ctypes.util
import glob
import os

c_char_p = ctypes.c_char_p
c_void_p = ctypes.c_void_p
c_size_t = ctypes.c_size_t
c_int = ctypes.c_int
c_int64 = ctypes.c_int64
c_uint = ctypes.c_uint
c_double = ctypes.c_double
POINTER = ctypes.POINTER
byref = ctypes.byref


class KV(ctypes.Structure):
    _fields_ = [
        ("key", c_char_p),
        ("key_len", c_size_t),
        ("value", c_char_p),
        ("value_len", c_size_t),
    ]


class Event(ctypes.Structure):
    _fields_ = [
        ("event_id", c_char_p),
        ("event_id_len", c_size_t),
        ("member_id", c_char_p),
        ("member_id_len", c_size_t),
        ("has_time", c_int),
        ("time", c_int64),
        ("type", c_char_p),
        ("type_len", c_size_t),
        ("account_id", c_char_p),
        ("account_id_len", c_size_t),
        ("group_id", c_char_p),
        ("group_id_len", c_size_t),
        ("channel", c_char_p),
        ("channel_len", c_size_t),
        ("value", c_double),
        ("attrs", POINTER(KV)),
        ("num_attrs", c_size_t),
        ("profile", POINTER(KV)),
        ("num_profile", c_size_t),
    ]


class Change(ctypes.Structure):
    # Borrowed pointers: declared as void* so ctypes does not stop at a NUL.
    _fields_ = [
        ("kind", c_int),
        ("member_id", c_void_p),
        ("member_id_len", c_size_t),
        ("has_time", c_int),
        ("time", c_int64),
        ("tag", c_char_p),
        ("from_stage", c_char_p),
        ("to_stage", c_char_p),
        ("flag", c_char_p),
        ("event_id", c_void_p),
        ("event_id_len", c_size_t),
        ("reason", c_int),
        ("detail", c_void_p),
        ("detail_len", c_size_t),
        ("json", c_void_p),
        ("json_len", c_size_t),
    ]


class Stats(ctypes.Structure):
    _fields_ = [
        ("events_applied", c_int64),
        ("rejected_invalid", c_int64),
        ("rejected_too_late", c_int64),
        ("rejected_duplicate", c_int64),
        ("rejected_after_as_of", c_int64),
        ("members", c_int64),
        ("flags_raised", c_int64),
    ]


CHANGE_FN = ctypes.CFUNCTYPE(None, c_void_p, POINTER(Change))
MEMBER_FN = ctypes.CFUNCTYPE(None, c_void_p, c_void_p, c_size_t)

ERR = POINTER(c_void_p)  # char** errptr, read as void* to free it ourselves

TIME_CLOCK = -(2**63)

# name: (restype, argtypes)
_SIGNATURES = {
    "ls_version_number": (c_uint, []),
    "ls_version_string": (c_char_p, []),
    "ls_abi_version": (c_uint, []),
    "ls_free": (None, [c_void_p]),
    "ls_error_code": (c_int, [c_void_p]),
    "ls_model_load_text": (c_void_p, [c_char_p, c_size_t, c_char_p, ERR]),
    "ls_model_load_json": (c_void_p, [c_char_p, c_size_t, c_char_p, ERR]),
    "ls_model_load_file": (c_void_p, [c_char_p, ERR]),
    "ls_model_destroy": (None, [c_void_p]),
    "ls_model_name": (c_char_p, [c_void_p]),
    "ls_model_allowed_lateness_ms": (c_int64, [c_void_p]),
    "ls_model_count": (c_int, [c_void_p, c_int]),
    "ls_model_item": (c_char_p, [c_void_p, c_int, c_int]),
    "ls_store_create": (c_void_p, [c_void_p, ERR]),
    "ls_store_destroy": (None, [c_void_p]),
    "ls_store_set_callback": (None, [c_void_p, CHANGE_FN, c_void_p]),
    "ls_store_set_queue": (None, [c_void_p, c_int]),
    "ls_store_queued_changes": (c_size_t, [c_void_p]),
    "ls_store_drain_changes": (c_void_p, [c_void_p, POINTER(c_size_t), ERR]),
    "ls_store_apply": (c_int, [c_void_p, POINTER(Event), ERR]),
    "ls_store_apply_batch": (c_int, [c_void_p, POINTER(Event), c_size_t, ERR]),
    "ls_store_apply_proto": (c_int, [c_void_p, c_char_p, c_size_t, ERR]),
    "ls_store_apply_proto_batch": (c_int, [c_void_p, c_char_p, c_size_t, ERR]),
    "ls_store_reject": (c_int, [c_void_p, c_char_p, c_size_t, c_char_p, c_size_t, c_int,
                                c_int64, c_int, c_char_p, c_size_t, ERR]),
    "ls_store_advance": (c_int, [c_void_p, c_char_p, c_size_t, c_int64, ERR]),
    "ls_store_advance_all": (c_int, [c_void_p, c_int64, ERR]),
    "ls_store_read_json": (c_void_p, [c_void_p, c_char_p, c_size_t, c_int64,
                                      POINTER(c_size_t), ERR]),
    "ls_store_read_view": (c_void_p, [c_void_p, c_char_p, c_size_t, c_int64,
                                      POINTER(c_size_t), ERR]),
    "ls_store_contains": (c_int, [c_void_p, c_char_p, c_size_t]),
    "ls_store_for_each_member": (c_int, [c_void_p, MEMBER_FN, c_void_p, ERR]),
    "ls_store_stats": (None, [c_void_p, POINTER(Stats)]),
    "ls_store_save_snapshot": (c_int, [c_void_p, c_char_p, ERR]),
    "ls_store_load_snapshot": (c_void_p, [c_void_p, c_char_p, ERR]),
    "ls_store_export_member": (c_void_p, [c_void_p, c_char_p, c_size_t,
                                          POINTER(c_size_t), ERR]),
    "ls_store_import_member": (c_int, [c_void_p, c_char_p, c_size_t, ERR]),
    "ls_store_erase_member": (c_int, [c_void_p, c_char_p, c_size_t, ERR]),
    "ls_store_restore_notes": (c_char_p, [c_void_p]),
    "ls_shard_of": (c_int, [c_char_p, c_size_t, c_int]),
}


def _candidates():
    env = os.environ.get("LEADSCORE_C_LIBRARY")
    if env:
        yield env
        return
    yield "libleadscore_c.so.0"
    found = ctypes.util.find_library("leadscore_c")
    if found:
        yield found
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.normpath(os.path.join(here, "..", "..", ".."))
    for d in [os.path.join(root, "build")] + sorted(glob.glob(os.path.join(root, "build-*"))):
        path = os.path.join(d, "libleadscore_c.so")
        if os.path.exists(path):
            yield path


def load():
    errors = []
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            errors.append("%s: %s" % (path, e))
            continue
        for name, (restype, argtypes) in _SIGNATURES.items():
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = argtypes
        return lib
    raise ImportError(
        "leadscore: cannot load libleadscore_c.so (set LEADSCORE_C_LIBRARY to its path); "
        + "; ".join(errors))


lib = load()

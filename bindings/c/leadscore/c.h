/* leadscore C API: scoring B2B community members from a host written in any
 * language (Java, Go, Python, PHP, Node ...) through a C ABI.
 * Reference: docs/c-api.md. Guide for hosts: docs/host-guide.md.
 *
 * Rules of this header (they hold for every function):
 *
 *  - C99; compiles as C and C++. Only plain C types cross it: opaque handles,
 *    plain structs, (pointer, length) byte ranges. No Abseil or protobuf type.
 *    Serialized protobuf messages (leadscore.v1.*, proto/leadscore/v1/) are
 *    passed as bytes.
 *  - Handles are opaque. Every `_create`/`_load` has a `_destroy`; `_destroy`
 *    accepts NULL.
 *  - Strings in are (pointer, length): not NUL-terminated, may hold any byte;
 *    a NULL pointer with length 0 is the empty string. File paths and model
 *    names are NUL-terminated.
 *  - Errors: functions that can fail take `char** errptr` last. On success
 *    `*errptr` is left unchanged. On failure, if errptr is not NULL, `*errptr`
 *    is set to a malloc()ed NUL-terminated message "CODE: text", where CODE
 *    names the ls_code (e.g. "DATA_LOSS: snapshot: ... checksum mismatch");
 *    a message already in `*errptr` is freed first. Free it with ls_free().
 *    ls_error_code() gives the ls_code of a message. Such functions also
 *    return the failure: an int ls_code (LS_OK is 0), or NULL for a pointer.
 *  - Bad event data (no member id, no time, a non-finite value, a late or
 *    duplicate event) is not an error: it is a counted rejection, reported as
 *    an LS_CHANGE_REJECTED change.
 *  - Ownership: every returned pointer says who owns it. "Caller frees" means
 *    with ls_free(); "borrowed" means owned by the handle named, valid as
 *    long as it.
 *  - Threads: an ls_model_t is immutable and may be used from any number of
 *    threads at once. An ls_store_t is used by one thread at a time (calls on
 *    one store must not overlap; different stores may run on different
 *    threads, sharing one model). The change callback runs on the thread
 *    that called into the store, and must not call into that same store
 *    (such a call fails with LS_FAILED_PRECONDITION).
 *  - ABI: enum values are written out and never renumbered. Structs the
 *    caller allocates (ls_event, ls_kv, ls_stats) are frozen for ABI
 *    version 1: a new field means a new struct and function. Structs the
 *    library allocates and hands out by pointer (ls_change) may grow at
 *    their end.
 *  - Exported symbols all start with `ls_`.
 */
#ifndef LEADSCORE_C_H_
#define LEADSCORE_C_H_

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define LS_EXPORT __declspec(dllexport)
#elif defined(__GNUC__)
#define LS_EXPORT __attribute__((visibility("default")))
#else
#define LS_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Versions. The macros are the version of this header; ls_version_number()
 * that of the library loaded at run time. A host may refuse to run when
 * LS_VERSION_MAJOR differs from ls_version_number() / 10000.
 * ls_abi_version() changes only when a function or frozen struct changes
 * incompatibly.
 * ---------------------------------------------------------------------- */
#define LS_VERSION_MAJOR 0
#define LS_VERSION_MINOR 1
#define LS_VERSION_PATCH 0
#define LS_VERSION_NUMBER \
  (LS_VERSION_MAJOR * 10000 + LS_VERSION_MINOR * 100 + LS_VERSION_PATCH)
#define LS_ABI_VERSION 1

/* LS_VERSION_NUMBER of the library. */
LS_EXPORT unsigned ls_version_number(void);
/* "0.1.0". Static storage, never freed. */
LS_EXPORT const char* ls_version_string(void);
/* LS_ABI_VERSION of the library. */
LS_EXPORT unsigned ls_abi_version(void);

/* Frees what the library returned as "caller frees" (error messages, byte
 * buffers). NULL is allowed. */
LS_EXPORT void ls_free(void* ptr);

/* ------------------------------------------------------------------------
 * Error codes: the canonical codes (as gRPC and Abseil number them).
 * ---------------------------------------------------------------------- */
typedef enum ls_code {
  LS_OK = 0,
  LS_CANCELLED = 1,
  LS_UNKNOWN = 2,
  LS_INVALID_ARGUMENT = 3,    /* a bad model, a bad argument, not our bytes */
  LS_DEADLINE_EXCEEDED = 4,
  LS_NOT_FOUND = 5,           /* no such file, no such member */
  LS_ALREADY_EXISTS = 6,
  LS_PERMISSION_DENIED = 7,
  LS_RESOURCE_EXHAUSTED = 8,  /* out of memory */
  LS_FAILED_PRECONDITION = 9, /* a store called from its own change callback */
  LS_ABORTED = 10,
  LS_OUT_OF_RANGE = 11,
  LS_UNIMPLEMENTED = 12,
  LS_INTERNAL = 13,
  LS_UNAVAILABLE = 14,
  LS_DATA_LOSS = 15           /* a truncated or corrupt snapshot or state */
} ls_code;

/* The ls_code at the start of an error message from this library;
 * LS_UNKNOWN for NULL or a message of another form. */
LS_EXPORT int ls_error_code(const char* errmsg);

/* ------------------------------------------------------------------------
 * Models: loaded, checked and compiled once; immutable and thread-safe.
 * ---------------------------------------------------------------------- */
typedef struct ls_model_t ls_model_t;

/* A model from protobuf text format (`filename` names it in messages; may be
 * NULL). On a bad model: NULL, and the message lists every problem as
 * "file:line:col: message" lines (LS_INVALID_ARGUMENT). Caller destroys. */
LS_EXPORT ls_model_t* ls_model_load_text(const char* text, size_t text_len,
                                         const char* filename, char** errptr);
/* The same from protobuf JSON. */
LS_EXPORT ls_model_t* ls_model_load_json(const char* json, size_t json_len,
                                         const char* filename, char** errptr);
/* From a file: ".json" files as JSON, others as text format. LS_NOT_FOUND
 * when the file cannot be opened. */
LS_EXPORT ls_model_t* ls_model_load_file(const char* path, char** errptr);
/* Stores created from the model keep it alive: it may be destroyed first. */
LS_EXPORT void ls_model_destroy(ls_model_t* model);

/* The model's name. Borrowed from the model. */
LS_EXPORT const char* ls_model_name(const ls_model_t* model);
LS_EXPORT int64_t ls_model_allowed_lateness_ms(const ls_model_t* model);

/* Kinds of named items in a model, for ls_model_count / ls_model_item. */
typedef enum ls_item_kind {
  LS_ITEM_SCORE = 0,   /* every score, derived too, model order */
  LS_ITEM_COUNTER = 1,
  LS_ITEM_TAG = 2,
  LS_ITEM_STAGE = 3,   /* none without a lifecycle */
  LS_ITEM_FLAG = 4,
  LS_ITEM_RULE = 5     /* event rules, then fit rules */
} ls_item_kind;

/* How many items of a kind; -1 for an unknown kind. */
LS_EXPORT int ls_model_count(const ls_model_t* model, int kind);
/* The name of item `index` of a kind, NUL-terminated; NULL when out of
 * range. Borrowed from the model. */
LS_EXPORT const char* ls_model_item(const ls_model_t* model, int kind, int index);

/* ------------------------------------------------------------------------
 * Events.
 * ---------------------------------------------------------------------- */
typedef struct ls_kv {
  const char* key;
  size_t key_len;
  const char* value;
  size_t value_len;
} ls_kv;

/* One member event (SEMANTICS.md section 1), as leadscore.v1.MemberEvent.
 * Frozen layout. Zero-initialize it (`ls_event e = {0};`), then set what
 * you have. The library reads it during the call only. */
typedef struct ls_event {
  const char* event_id;
  size_t event_id_len;
  const char* member_id;
  size_t member_id_len;
  int has_time;  /* 0: unknown time (the event is rejected as invalid) */
  int64_t time;  /* ms since the Unix epoch, UTC */
  const char* type;
  size_t type_len;
  const char* account_id;
  size_t account_id_len;
  const char* group_id;
  size_t group_id_len;
  const char* channel;
  size_t channel_len;
  double value;
  const ls_kv* attrs;   /* event context (event.attrs.K) */
  size_t num_attrs;
  const ls_kv* profile; /* member attribute updates (member.K) */
  size_t num_profile;
} ls_event;

/* ------------------------------------------------------------------------
 * Changes (SEMANTICS.md section 9).
 * ---------------------------------------------------------------------- */
typedef enum ls_change_kind {
  LS_CHANGE_TAG_ADDED = 0,
  LS_CHANGE_TAG_REMOVED = 1,
  LS_CHANGE_STAGE_CHANGED = 2,
  LS_CHANGE_FLAG_RAISED = 3,  /* the sales threshold crossed */
  LS_CHANGE_FLAG_REARMED = 4,
  LS_CHANGE_REJECTED = 5
} ls_change_kind;

typedef enum ls_reject_reason {
  LS_REJECT_INVALID = 0,
  LS_REJECT_TOO_LATE = 1,
  LS_REJECT_DUPLICATE = 2,
  LS_REJECT_AFTER_AS_OF = 3
} ls_reject_reason;

/* One change, valid only during the callback that receives it (copy what
 * you keep). Names are NUL-terminated and borrowed from the model; NULL when
 * the kind has none. Byte ranges are borrowed for the callback. */
typedef struct ls_change {
  int kind;                /* ls_change_kind */
  const char* member_id;
  size_t member_id_len;
  int has_time;            /* 0 only for a rejected event without a time */
  int64_t time;            /* evaluation time; for a rejection the event's */
  const char* tag;         /* tag added / removed */
  const char* from_stage;  /* stage changed */
  const char* to_stage;
  const char* flag;        /* flag raised / re-armed */
  const char* event_id;    /* rejected */
  size_t event_id_len;
  int reason;              /* rejected: ls_reject_reason */
  const char* detail;      /* rejected: why, for people */
  size_t detail_len;
  /* The whole change as one JSON object, the shape of a changes.jsonl line
   * without its newline (docs/outputs.md): flag raises carry their scores
   * and top reasons here. */
  const char* json;
  size_t json_len;
} ls_change;

typedef void (*ls_change_fn)(void* user, const ls_change* change);

/* ------------------------------------------------------------------------
 * Stores: member states scored with one model. One thread at a time.
 * ---------------------------------------------------------------------- */
typedef struct ls_store_t ls_store_t;

/* An empty store. It holds its own reference to the model. Caller destroys.
 * NULL (LS_INVALID_ARGUMENT) when model is NULL. */
LS_EXPORT ls_store_t* ls_store_create(const ls_model_t* model, char** errptr);
LS_EXPORT void ls_store_destroy(ls_store_t* store);

/* Changes are delivered, as they happen, to `fn` (NULL: no callback) with
 * `user` passed through; and, when the queue is on, appended to the queue
 * (ls_store_drain_changes). Both may be on. */
LS_EXPORT void ls_store_set_callback(ls_store_t* store, ls_change_fn fn, void* user);
/* Turns the queue on (non-zero) or off (0; what it holds is dropped). */
LS_EXPORT void ls_store_set_queue(ls_store_t* store, int enabled);
/* Changes in the queue. */
LS_EXPORT size_t ls_store_queued_changes(const ls_store_t* store);
/* Empties the queue into a buffer of JSON lines, one change per line, each
 * ending in '\n' (changes.jsonl lines, docs/outputs.md), in emission order.
 * *len receives the length ("" and 0 when the queue is empty). Caller frees.
 * NULL only on error. */
LS_EXPORT char* ls_store_drain_changes(ls_store_t* store, size_t* len, char** errptr);

/* Applies one event (SEMANTICS.md section 8). Rejections are changes, not
 * errors. Errors: NULL arguments (LS_INVALID_ARGUMENT), a call from the
 * store's own callback (LS_FAILED_PRECONDITION). */
LS_EXPORT int ls_store_apply(ls_store_t* store, const ls_event* event, char** errptr);
/* Applies `n` events in order. Stops at the first error (none of the
 * events after it is applied). */
LS_EXPORT int ls_store_apply_batch(ls_store_t* store, const ls_event* events, size_t n,
                                   char** errptr);
/* Applies one serialized leadscore.v1.MemberEvent. Bytes that do not parse
 * are LS_INVALID_ARGUMENT (nothing applied, nothing counted). */
LS_EXPORT int ls_store_apply_proto(ls_store_t* store, const char* bytes, size_t len,
                                   char** errptr);
/* Applies a serialized leadscore.v1.MemberEventBatch, in order. Bytes that
 * do not parse: LS_INVALID_ARGUMENT, nothing applied. */
LS_EXPORT int ls_store_apply_proto_batch(ls_store_t* store, const char* bytes, size_t len,
                                         char** errptr);

/* Records a rejection decided by the host (e.g. a row it could not parse):
 * counted and emitted like the engine's own. */
LS_EXPORT int ls_store_reject(ls_store_t* store, const char* member_id, size_t member_id_len,
                              const char* event_id, size_t event_id_len, int has_time,
                              int64_t time, int reason, const char* detail,
                              size_t detail_len, char** errptr);

/* Runs one evaluation of the member at max(its clock, t) and moves its
 * clock there. LS_NOT_FOUND when there is no such member. */
LS_EXPORT int ls_store_advance(ls_store_t* store, const char* member_id, size_t len,
                               int64_t t, char** errptr);
/* The same for every member, in member_id byte order. */
LS_EXPORT int ls_store_advance_all(ls_store_t* store, int64_t t, char** errptr);

/* Reading at "the member's own clock": pass LS_TIME_CLOCK as t. */
#define LS_TIME_CLOCK INT64_MIN

/* The member read at max(its clock, t), without changing anything, as one
 * JSON object (a members.jsonl line without its newline: stage, scores,
 * tags, counters, flags), NUL-terminated; *len (if not NULL) receives its
 * length. Caller frees. NULL with LS_NOT_FOUND when there is no member. */
LS_EXPORT char* ls_store_read_json(const ls_store_t* store, const char* member_id,
                                   size_t member_id_len, int64_t t, size_t* len,
                                   char** errptr);
/* The same as a serialized leadscore.v1.MemberView (with the ledger, clock
 * and last event time too). Caller frees. */
LS_EXPORT char* ls_store_read_view(const ls_store_t* store, const char* member_id,
                                   size_t member_id_len, int64_t t, size_t* len,
                                   char** errptr);

/* 1 when the store holds the member, else 0 (0 for a NULL store or a NULL
 * id with a length). */
LS_EXPORT int ls_store_contains(const ls_store_t* store, const char* member_id,
                                size_t member_id_len);

/* Calls fn(user, id, id_len) for every member, in member_id byte order. The
 * id is borrowed for the call. fn must not call into the store. */
LS_EXPORT int ls_store_for_each_member(const ls_store_t* store,
                                       void (*fn)(void* user, const char* id, size_t len),
                                       void* user, char** errptr);

/* Statistics. Frozen layout. */
typedef struct ls_stats {
  int64_t events_applied;
  int64_t rejected_invalid;
  int64_t rejected_too_late;
  int64_t rejected_duplicate;
  int64_t rejected_after_as_of;
  int64_t members;
  int64_t flags_raised;
} ls_stats;

/* Fills *out (all zero for a NULL store). */
LS_EXPORT void ls_store_stats(const ls_store_t* store, ls_stats* out);

/* ------------------------------------------------------------------------
 * Durable state (docs/host-guide.md). Versioned, checksummed, keyed by
 * names: restoring under a changed model of the same name keeps what still
 * makes sense. A flipped byte or a truncation is LS_DATA_LOSS.
 * ---------------------------------------------------------------------- */

/* Writes every member and the statistics to `path` atomically (temporary
 * file, fsync, rename, fsync of the directory). On failure `path` is
 * untouched. */
LS_EXPORT int ls_store_save_snapshot(const ls_store_t* store, const char* path,
                                     char** errptr);
/* A new store scored with `model` from the snapshot at `path`. Errors:
 * LS_NOT_FOUND, LS_INVALID_ARGUMENT (not a snapshot, a newer format, a model
 * of another name), LS_DATA_LOSS (truncated or corrupt). Caller destroys. */
LS_EXPORT ls_store_t* ls_store_load_snapshot(const ls_model_t* model, const char* path,
                                             char** errptr);
/* One member's state as bytes, for a host's own database row. *len
 * receives the length. Caller frees. LS_NOT_FOUND when no such member. */
LS_EXPORT char* ls_store_export_member(const ls_store_t* store, const char* member_id,
                                       size_t member_id_len, size_t* len, char** errptr);
/* Adds the member in `bytes` (from ls_store_export_member), replacing one
 * of the same id. Emits no change. Errors: LS_INVALID_ARGUMENT (not member
 * state, a newer format, a model of another name), LS_DATA_LOSS (truncated
 * or corrupt); the store is then unchanged. */
LS_EXPORT int ls_store_import_member(ls_store_t* store, const char* bytes, size_t len,
                                     char** errptr);
/* Forgets a member. LS_NOT_FOUND when there is none. */
LS_EXPORT int ls_store_erase_member(ls_store_t* store, const char* member_id,
                                    size_t member_id_len, char** errptr);
/* What the last ls_store_load_snapshot / ls_store_import_member on this
 * store could not keep under a changed model: one line per item, each
 * ending in '\n' ("" when everything was kept). Borrowed from the store,
 * valid until the next call on it. */
LS_EXPORT const char* ls_store_restore_notes(const ls_store_t* store);

/* ------------------------------------------------------------------------
 * Many threads (docs/host-guide.md): one store per thread, members routed
 * by id. The shard of a member among `num_shards` (>= 1), stable across
 * runs, machines and versions; -1 when num_shards < 1 or member_id is NULL
 * with a non-zero length.
 * ---------------------------------------------------------------------- */
LS_EXPORT int ls_shard_of(const char* member_id, size_t member_id_len, int num_shards);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LEADSCORE_C_H_ */

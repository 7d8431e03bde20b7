/* A CRM host embedding leadscore through its C API, with each member's
 * scoring state kept in a PostgreSQL row (the "state in a row" pattern of
 * docs/host-guide.md).
 *
 * For every batch of events of its feed, in one transaction:
 *   lock the feed's progress row; for each event, read (and lock) the
 *   member's row and import it into a scratch store; apply the event; then
 *   write every touched member's state back, insert the changes into an
 *   outbox table (and pg_notify the sales channel for each flag raised),
 *   advance the progress row; commit.
 * A crash anywhere rolls the transaction back: on restart the feed resumes at
 * the first position not committed, so nothing is lost and nothing is
 * applied twice.
 *
 * Usage:
 *   crm_app --db CONNINFO init --schema schema.sql
 *   crm_app --db CONNINFO --model M apply --feed FEED.tsv [--batch N]
 *           [--crash-after K --crash-at read|apply|write|commit]
 *   crm_app --db CONNINFO --model M finish --as-of T --members-out F
 *           [--changes-out F]
 *
 * The feed (make_feed.py writes one from a leadscore CSV log) is text: a
 * header line of tab-separated column names (event_id, member_id, time, type,
 * value, group_id, channel, account_id, attr.K, profile.K, bad), then one
 * event per line; fields are tab-separated with \\ \t \n \r escaped; `time`
 * is milliseconds (empty: unknown); `bad`, when not empty, says why the row
 * could not be read (the app counts it as an invalid event).
 *
 * Exit: 0 ok, 1 error (message on stderr), 2 usage.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "leadscore/c.h"

/* --- small helpers ------------------------------------------------------ */

static void Die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "crm_app: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(1);
}

static void* Xmalloc(size_t n) {
  void* p = malloc(n == 0 ? 1 : n);
  if (p == NULL) Die("out of memory");
  return p;
}

static void* Xrealloc(void* p, size_t n) {
  p = realloc(p, n == 0 ? 1 : n);
  if (p == NULL) Die("out of memory");
  return p;
}

static char* Xstrndup(const char* s, size_t n) {
  char* out = (char*)Xmalloc(n + 1);
  memcpy(out, s, n);
  out[n] = '\0';
  return out;
}

/* Dies with the library's message (and frees it). */
static void CheckLs(int rc, char** err, const char* what) {
  if (rc != LS_OK || *err != NULL) {
    Die("%s: %s", what, *err != NULL ? *err : "failed");
  }
}

static PGresult* Exec(PGconn* db, const char* sql, int n, const char* const* values,
                      const int* lengths, const int* formats, int binary_result) {
  PGresult* r = PQexecParams(db, sql, n, NULL, values, lengths, formats, binary_result);
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    Die("%s\n  in: %s", PQerrorMessage(db), sql);
  }
  return r;
}

static void Run(PGconn* db, const char* sql) { PQclear(Exec(db, sql, 0, NULL, NULL, NULL, 0)); }

/* --- crash points, for the crash/restart test ----------------------------- */

static long crash_after = -1;  /* the event (counted in this run) to crash at */
static const char* crash_at = "";
static long events_this_run = 0;

static void MaybeCrash(const char* point) {
  if (crash_after >= 0 && events_this_run >= crash_after && strcmp(point, crash_at) == 0) {
    fprintf(stderr, "crm_app: crashing (SIGKILL) at '%s' after %ld events\n", point,
            events_this_run);
    fflush(stderr);
    raise(SIGKILL);
  }
}

/* --- the feed ------------------------------------------------------------- */

typedef struct Feed {
  char* text;     /* the whole file */
  char** lines;   /* data lines (header excluded), NUL-terminated in place */
  long num_lines;
  char** columns; /* header names */
  int num_columns;
} Feed;

/* Splits a line into at most max fields in place, unescaping; returns the
 * count. */
static int SplitFields(char* line, char** fields, size_t* lengths, int max) {
  int n = 0;
  char* out = line;
  char* start = line;
  char* p = line;
  for (;;) {
    if (*p == '\t' || *p == '\0') {
      if (n < max) {
        fields[n] = start;
        lengths[n] = (size_t)(out - start);
      }
      ++n;
      if (*p == '\0') break;
      ++p;
      start = out = p;
      continue;
    }
    if (*p == '\\' && p[1] != '\0') {
      char c = p[1];
      *out++ = c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c;
      p += 2;
      continue;
    }
    *out++ = *p++;
  }
  return n;
}

static void ReadFeed(const char* path, Feed* feed) {
  FILE* f = fopen(path, "rb");
  size_t size = 0, cap = 1 << 16, n;
  char* p;
  long count = 0, cap_lines = 1024;
  if (f == NULL) Die("cannot open feed %s: %s", path, strerror(errno));
  feed->text = (char*)Xmalloc(cap);
  while ((n = fread(feed->text + size, 1, cap - size - 1, f)) > 0) {
    size += n;
    if (cap - size - 1 == 0) {
      cap *= 2;
      feed->text = (char*)Xrealloc(feed->text, cap);
    }
  }
  fclose(f);
  feed->text[size] = '\0';
  feed->lines = (char**)Xmalloc(sizeof(char*) * (size_t)cap_lines);
  p = feed->text;
  while (*p != '\0') {
    char* nl = strchr(p, '\n');
    if (nl != NULL) *nl = '\0';
    if (count == cap_lines) {
      cap_lines *= 2;
      feed->lines = (char**)Xrealloc(feed->lines, sizeof(char*) * (size_t)cap_lines);
    }
    feed->lines[count++] = p;
    if (nl == NULL) break;
    p = nl + 1;
  }
  if (count == 0) Die("feed %s is empty", path);
  {
    char* fields[256];
    size_t lengths[256];
    int i, k = SplitFields(feed->lines[0], fields, lengths, 256);
    if (k > 256) Die("feed %s: too many columns", path);
    feed->columns = (char**)Xmalloc(sizeof(char*) * (size_t)k);
    for (i = 0; i < k; ++i) feed->columns[i] = Xstrndup(fields[i], lengths[i]);
    feed->num_columns = k;
  }
  feed->lines += 1; /* the data lines */
  feed->num_lines = count - 1;
}

/* One feed line as an ls_event (pointing into the line) plus its `bad`. */
typedef struct Row {
  ls_event event;
  ls_kv attrs[64];
  ls_kv profile[64];
  const char* bad;
  size_t bad_len;
} Row;

static int64_t ParseInt64(const char* s, size_t n, int* ok) {
  char buf[32];
  char* end;
  long long v;
  *ok = 0;
  if (n == 0 || n >= sizeof(buf)) return 0;
  memcpy(buf, s, n);
  buf[n] = '\0';
  errno = 0;
  v = strtoll(buf, &end, 10);
  if (errno != 0 || *end != '\0') return 0;
  *ok = 1;
  return (int64_t)v;
}

static void ParseRow(const Feed* feed, char* line, long seq, Row* row) {
  char* fields[256];
  size_t lengths[256];
  int i, n = SplitFields(line, fields, lengths, 256);
  memset(row, 0, sizeof(*row));
  if (n != feed->num_columns) Die("feed line %ld: %d fields, header has %d", seq + 2, n,
                                  feed->num_columns);
  row->event.attrs = row->attrs;
  row->event.profile = row->profile;
  for (i = 0; i < n; ++i) {
    const char* col = feed->columns[i];
    const char* v = fields[i];
    size_t len = lengths[i];
    if (strcmp(col, "event_id") == 0) {
      row->event.event_id = v, row->event.event_id_len = len;
    } else if (strcmp(col, "member_id") == 0) {
      row->event.member_id = v, row->event.member_id_len = len;
    } else if (strcmp(col, "type") == 0) {
      row->event.type = v, row->event.type_len = len;
    } else if (strcmp(col, "group_id") == 0) {
      row->event.group_id = v, row->event.group_id_len = len;
    } else if (strcmp(col, "channel") == 0) {
      row->event.channel = v, row->event.channel_len = len;
    } else if (strcmp(col, "account_id") == 0) {
      row->event.account_id = v, row->event.account_id_len = len;
    } else if (strcmp(col, "time") == 0) {
      int ok;
      row->event.time = ParseInt64(v, len, &ok);
      row->event.has_time = ok;
    } else if (strcmp(col, "value") == 0) {
      if (len > 0) {
        char buf[64];
        if (len >= sizeof(buf)) Die("feed line %ld: value too long", seq + 2);
        memcpy(buf, v, len);
        buf[len] = '\0';
        row->event.value = strtod(buf, NULL); /* "nan" reads as NaN: invalid */
      }
    } else if (strcmp(col, "bad") == 0) {
      row->bad = v, row->bad_len = len;
    } else if (len > 0 && strncmp(col, "attr.", 5) == 0 && row->event.num_attrs < 64) {
      ls_kv* kv = &row->attrs[row->event.num_attrs++];
      kv->key = col + 5, kv->key_len = strlen(col + 5);
      kv->value = v, kv->value_len = len;
    } else if (len > 0 && strncmp(col, "profile.", 8) == 0 && row->event.num_profile < 64) {
      ls_kv* kv = &row->profile[row->event.num_profile++];
      kv->key = col + 8, kv->key_len = strlen(col + 8);
      kv->value = v, kv->value_len = len;
    }
  }
}

/* --- changes, collected from the store's callback ------------------------ */

typedef struct Outbox {
  long count, cap;
  long* seq;
  char** member;
  char** kind;
  char** json;
  long current_seq;
} Outbox;

static const char* KindName(int kind) {
  switch (kind) {
    case LS_CHANGE_TAG_ADDED: return "tag_added";
    case LS_CHANGE_TAG_REMOVED: return "tag_removed";
    case LS_CHANGE_STAGE_CHANGED: return "stage_changed";
    case LS_CHANGE_FLAG_RAISED: return "flag_raised";
    case LS_CHANGE_FLAG_REARMED: return "flag_rearmed";
    case LS_CHANGE_REJECTED: return "rejected";
    default: return "unknown";
  }
}

static void OnChange(void* user, const ls_change* c) {
  Outbox* o = (Outbox*)user;
  if (o->count == o->cap) {
    o->cap = o->cap == 0 ? 64 : 2 * o->cap;
    o->seq = (long*)Xrealloc(o->seq, sizeof(long) * (size_t)o->cap);
    o->member = (char**)Xrealloc(o->member, sizeof(char*) * (size_t)o->cap);
    o->kind = (char**)Xrealloc(o->kind, sizeof(char*) * (size_t)o->cap);
    o->json = (char**)Xrealloc(o->json, sizeof(char*) * (size_t)o->cap);
  }
  o->seq[o->count] = o->current_seq;
  o->member[o->count] = Xstrndup(c->member_id, c->member_id_len);
  o->kind[o->count] = Xstrndup(KindName(c->kind), strlen(KindName(c->kind)));
  o->json[o->count] = Xstrndup(c->json, c->json_len);
  ++o->count;
}

/* Inserts the outbox into leadscore_change, notifies sales of flag raises,
 * and empties it. */
static void FlushOutbox(PGconn* db, Outbox* o) {
  long i;
  for (i = 0; i < o->count; ++i) {
    char seq[32];
    const char* values[4];
    snprintf(seq, sizeof(seq), "%ld", o->seq[i]);
    values[0] = seq;
    values[1] = o->member[i];
    values[2] = o->kind[i];
    values[3] = o->json[i];
    PQclear(Exec(db,
                 "INSERT INTO leadscore_change (seq, member_id, kind, change) "
                 "VALUES ($1, $2, $3, $4)",
                 4, values, NULL, NULL, 0));
    if (strcmp(o->kind[i], "flag_raised") == 0) {
      /* Delivered to LISTENers when (and only if) the transaction commits. */
      PQclear(Exec(db, "SELECT pg_notify('leadscore_sales', $1)", 1, values + 3, NULL,
                   NULL, 0));
    }
    free(o->member[i]);
    free(o->kind[i]);
    free(o->json[i]);
  }
  o->count = 0;
}

/* --- member rows -------------------------------------------------------- */

/* Imports the member's row into the scratch store, locking it; no row: a
 * member not seen yet. */
static void LoadMember(PGconn* db, ls_store_t* store, const char* id, size_t id_len) {
  char* err = NULL;
  char* key = Xstrndup(id, id_len);
  const char* values[1] = {key};
  PGresult* r = Exec(db, "SELECT state FROM leadscore_member WHERE member_id = $1 FOR UPDATE",
                     1, values, NULL, NULL, 1 /* binary: bytea as raw bytes */);
  if (PQntuples(r) == 1) {
    CheckLs(ls_store_import_member(store, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0),
                                   &err),
            &err, "import member state");
  }
  PQclear(r);
  free(key);
}

typedef struct IdList {
  long count, cap;
  char** ids;
  size_t* lens;
} IdList;

static void CollectId(void* user, const char* id, size_t len) {
  IdList* l = (IdList*)user;
  if (l->count == l->cap) {
    l->cap = l->cap == 0 ? 64 : 2 * l->cap;
    l->ids = (char**)Xrealloc(l->ids, sizeof(char*) * (size_t)l->cap);
    l->lens = (size_t*)Xrealloc(l->lens, sizeof(size_t) * (size_t)l->cap);
  }
  l->ids[l->count] = Xstrndup(id, len);
  l->lens[l->count] = len;
  ++l->count;
}

/* Writes every member of the scratch store back to its row and empties the
 * store. */
static void SaveMembers(PGconn* db, ls_store_t* store, long seq) {
  IdList l;
  long i;
  char* err = NULL;
  char seqbuf[32];
  memset(&l, 0, sizeof(l));
  CheckLs(ls_store_for_each_member(store, CollectId, &l, &err), &err, "list members");
  snprintf(seqbuf, sizeof(seqbuf), "%ld", seq);
  for (i = 0; i < l.count; ++i) {
    size_t len = 0;
    char* state = ls_store_export_member(store, l.ids[i], l.lens[i], &len, &err);
    const char* values[3];
    int lengths[3];
    int formats[3] = {0, 1, 0};
    if (state == NULL) CheckLs(LS_INTERNAL, &err, "export member state");
    values[0] = l.ids[i];
    values[1] = state;
    values[2] = seqbuf;
    lengths[0] = 0;
    lengths[1] = (int)len;
    lengths[2] = 0;
    PQclear(Exec(db,
                 "INSERT INTO leadscore_member (member_id, state, updated_at_seq) "
                 "VALUES ($1, $2, $3) ON CONFLICT (member_id) DO UPDATE "
                 "SET state = EXCLUDED.state, updated_at_seq = EXCLUDED.updated_at_seq",
                 3, values, lengths, formats, 0));
    ls_free(state);
    CheckLs(ls_store_erase_member(store, l.ids[i], l.lens[i], &err), &err, "erase member");
    free(l.ids[i]);
  }
  free(l.ids);
  free(l.lens);
}

/* --- commands ------------------------------------------------------------- */

static const char* kFeedName = "events";

static int CmdInit(PGconn* db, const char* schema_path) {
  FILE* f;
  char* sql;
  long size;
  if (schema_path == NULL) Die("init needs --schema");
  f = fopen(schema_path, "rb");
  if (f == NULL) Die("cannot open %s: %s", schema_path, strerror(errno));
  fseek(f, 0, SEEK_END);
  size = ftell(f);
  fseek(f, 0, SEEK_SET);
  sql = (char*)Xmalloc((size_t)size + 1);
  if (fread(sql, 1, (size_t)size, f) != (size_t)size) Die("cannot read %s", schema_path);
  sql[size] = '\0';
  fclose(f);
  {
    PGresult* r = PQexec(db, sql); /* several statements: simple query protocol */
    if (PQresultStatus(r) != PGRES_COMMAND_OK) Die("schema: %s", PQerrorMessage(db));
    PQclear(r);
  }
  free(sql);
  {
    const char* values[1] = {kFeedName};
    PQclear(Exec(db,
                 "INSERT INTO leadscore_progress (feed, next_seq) VALUES ($1, 0) "
                 "ON CONFLICT (feed) DO NOTHING",
                 1, values, NULL, NULL, 0));
  }
  return 0;
}

static int CmdApply(PGconn* db, const ls_model_t* model, const char* feed_path, long batch) {
  Feed feed;
  Outbox outbox;
  char* err = NULL;
  ls_store_t* store = ls_store_create(model, &err);
  long seq = 0, applied = 0;
  const char* values[2];
  PGresult* r;
  CheckLs(store == NULL ? LS_INTERNAL : LS_OK, &err, "create store");
  memset(&outbox, 0, sizeof(outbox));
  ls_store_set_callback(store, OnChange, &outbox);
  ReadFeed(feed_path, &feed);

  for (;;) {
    long end, i;
    char next[32];
    Run(db, "BEGIN");
    /* The progress row is the lock: one writer per feed at a time, and the
     * position to resume from. */
    values[0] = kFeedName;
    r = Exec(db, "SELECT next_seq FROM leadscore_progress WHERE feed = $1 FOR UPDATE", 1,
             values, NULL, NULL, 0);
    if (PQntuples(r) != 1) Die("no progress row: run `init` first");
    seq = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (seq >= feed.num_lines) {
      Run(db, "COMMIT");
      break;
    }
    end = seq + batch < feed.num_lines ? seq + batch : feed.num_lines;
    for (i = seq; i < end; ++i) {
      Row row;
      ParseRow(&feed, feed.lines[i], i, &row);
      outbox.current_seq = i;
      if (row.event.member_id_len > 0 &&
          !ls_store_contains(store, row.event.member_id, row.event.member_id_len)) {
        /* Not in the scratch store yet in this transaction: from its row. */
        LoadMember(db, store, row.event.member_id, row.event.member_id_len);
      }
      MaybeCrash("read");
      if (row.bad_len > 0) {
        CheckLs(ls_store_reject(store, row.event.member_id, row.event.member_id_len,
                                row.event.event_id, row.event.event_id_len,
                                row.event.has_time, row.event.time, LS_REJECT_INVALID,
                                row.bad, row.bad_len, &err),
                &err, "reject");
      } else {
        CheckLs(ls_store_apply(store, &row.event, &err), &err, "apply");
      }
      ++events_this_run;
      MaybeCrash("apply");
    }
    SaveMembers(db, store, end - 1);
    FlushOutbox(db, &outbox);
    MaybeCrash("write");
    snprintf(next, sizeof(next), "%ld", end);
    values[1] = next;
    PQclear(Exec(db, "UPDATE leadscore_progress SET next_seq = $2 WHERE feed = $1", 2, values,
                 NULL, NULL, 0));
    MaybeCrash("commit");
    Run(db, "COMMIT");
    applied += end - seq;
  }
  fprintf(stderr, "crm_app: applied %ld events in this run; the feed is done (%ld)\n",
          applied, feed.num_lines);
  ls_store_destroy(store);
  return 0;
}

static void WriteFile(const char* path, const char* text, size_t len) {
  FILE* f = fopen(path, "wb");
  if (f == NULL || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
    Die("cannot write %s", path);
  }
}

/* Advances every member to the as-of time (in one transaction), and writes
 * members.jsonl (and the outbox as changes.jsonl), the shapes of
 * `leadscore score`. */
static int CmdFinish(PGconn* db, const ls_model_t* model, int64_t as_of,
                     const char* members_out, const char* changes_out) {
  Outbox outbox;
  char* err = NULL;
  ls_store_t* store = ls_store_create(model, &err);
  PGresult* r;
  int i, n;
  char* members = NULL;
  size_t members_len = 0, members_cap = 0;
  CheckLs(store == NULL ? LS_INTERNAL : LS_OK, &err, "create store");
  memset(&outbox, 0, sizeof(outbox));
  outbox.current_seq = -1;
  ls_store_set_callback(store, OnChange, &outbox);
  Run(db, "BEGIN");
  r = Exec(db,
           "SELECT member_id, state FROM leadscore_member ORDER BY member_id COLLATE \"C\" "
           "FOR UPDATE",
           0, NULL, NULL, NULL, 1);
  n = PQntuples(r);
  for (i = 0; i < n; ++i) {
    const char* id = PQgetvalue(r, i, 0);
    size_t id_len = (size_t)PQgetlength(r, i, 0);
    size_t len = 0;
    char* json;
    CheckLs(ls_store_import_member(store, PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1),
                                   &err),
            &err, "import member state");
    CheckLs(ls_store_advance(store, id, id_len, as_of, &err), &err, "advance");
    json = ls_store_read_json(store, id, id_len, as_of, &len, &err);
    if (json == NULL) CheckLs(LS_INTERNAL, &err, "read member");
    if (members_len + len + 2 > members_cap) {
      members_cap = 2 * (members_len + len + 2);
      members = (char*)Xrealloc(members, members_cap);
    }
    memcpy(members + members_len, json, len);
    members_len += len;
    members[members_len++] = '\n';
    ls_free(json);
  }
  PQclear(r);
  SaveMembers(db, store, -1);
  FlushOutbox(db, &outbox);
  Run(db, "COMMIT");
  WriteFile(members_out, members == NULL ? "" : members, members_len);
  free(members);
  if (changes_out != NULL) {
    FILE* f = fopen(changes_out, "wb");
    if (f == NULL) Die("cannot write %s", changes_out);
    r = Exec(db, "SELECT change FROM leadscore_change ORDER BY member_id COLLATE \"C\", id", 0,
             NULL, NULL, NULL, 0);
    n = PQntuples(r);
    for (i = 0; i < n; ++i) fprintf(f, "%s\n", PQgetvalue(r, i, 0));
    PQclear(r);
    if (fclose(f) != 0) Die("cannot write %s", changes_out);
  }
  ls_store_destroy(store);
  return 0;
}

static void Usage(void) {
  fprintf(stderr,
          "usage: crm_app --db CONNINFO init --schema schema.sql\n"
          "       crm_app --db CONNINFO --model M apply --feed FEED.tsv [--batch N]\n"
          "               [--crash-after K --crash-at read|apply|write|commit]\n"
          "       crm_app --db CONNINFO --model M finish --as-of T --members-out F\n"
          "               [--changes-out F]\n");
  exit(2);
}

int main(int argc, char** argv) {
  const char *conninfo = NULL, *model_path = NULL, *command = NULL, *schema = NULL,
             *feed = NULL, *members_out = NULL, *changes_out = NULL, *as_of_text = NULL;
  long batch = 1;
  int i, rc;
  PGconn* db;
  ls_model_t* model = NULL;
  char* err = NULL;

  for (i = 1; i < argc; ++i) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
    if (a[0] != '-') {
      if (command != NULL) Usage();
      command = a;
      continue;
    }
    if (v == NULL) Usage();
    if (strcmp(a, "--db") == 0) conninfo = v;
    else if (strcmp(a, "--model") == 0) model_path = v;
    else if (strcmp(a, "--schema") == 0) schema = v;
    else if (strcmp(a, "--feed") == 0) feed = v;
    else if (strcmp(a, "--batch") == 0) batch = atol(v);
    else if (strcmp(a, "--crash-after") == 0) crash_after = atol(v);
    else if (strcmp(a, "--crash-at") == 0) crash_at = v;
    else if (strcmp(a, "--as-of") == 0) as_of_text = v;
    else if (strcmp(a, "--members-out") == 0) members_out = v;
    else if (strcmp(a, "--changes-out") == 0) changes_out = v;
    else Usage();
    ++i;
  }
  if (command == NULL || conninfo == NULL || batch < 1) Usage();
  if (ls_version_number() / 10000 != LS_VERSION_MAJOR) {
    Die("libleadscore_c %s does not match this program's header", ls_version_string());
  }
  db = PQconnectdb(conninfo);
  if (PQstatus(db) != CONNECTION_OK) Die("cannot connect: %s", PQerrorMessage(db));
  Run(db, "SET client_min_messages = warning");

  if (strcmp(command, "init") == 0) {
    rc = CmdInit(db, schema);
  } else {
    if (model_path == NULL) Usage();
    model = ls_model_load_file(model_path, &err);
    if (model == NULL) Die("%s", err);
    if (strcmp(command, "apply") == 0) {
      if (feed == NULL) Usage();
      rc = CmdApply(db, model, feed, batch);
    } else if (strcmp(command, "finish") == 0) {
      int ok = 0;
      int64_t as_of = as_of_text != NULL
                          ? ParseInt64(as_of_text, strlen(as_of_text), &ok) : 0;
      if (!ok || members_out == NULL) Usage();
      rc = CmdFinish(db, model, as_of, members_out, changes_out);
    } else {
      Usage();
      rc = 2;
    }
  }
  ls_model_destroy(model);
  PQfinish(db);
  return rc;
}

/* The C API (bindings/c/leadscore/c.h) from plain C99, compiled with
 * -Wall -Wextra -Wstrict-prototypes -Werror: proves the header is C, and
 * calls every function of it, through every error path it documents.
 * Prints "N passed, M failed" and exits non-zero on a failure. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "leadscore/c.h"

static int passed = 0;
static int failed = 0;

#define CHECK(cond)                                                     \
  do {                                                                  \
    if (cond) {                                                         \
      ++passed;                                                         \
    } else {                                                            \
      ++failed;                                                         \
      fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                   \
  } while (0)

/* An error was reported with `code`: the return value, the message's
 * prefix and ls_error_code agree. Frees and clears the message. */
#define CHECK_ERR(rc, err, code)                                              \
  do {                                                                        \
    CHECK((rc) == (code));                                                    \
    CHECK((err) != NULL);                                                     \
    if ((err) != NULL) {                                                      \
      CHECK(ls_error_code(err) == (code));                                    \
      if (ls_error_code(err) != (code)) fprintf(stderr, "  message: %s\n", err); \
      ls_free(err);                                                           \
      (err) = NULL;                                                           \
    }                                                                         \
  } while (0)

#define CHECK_OK(rc, err)                                       \
  do {                                                          \
    CHECK((rc) == LS_OK);                                       \
    CHECK((err) == NULL);                                       \
    if ((err) != NULL) {                                        \
      fprintf(stderr, "  unexpected error: %s\n", err);         \
      ls_free(err);                                             \
      (err) = NULL;                                             \
    }                                                           \
  } while (0)

static const char kModel[] =
    "name: \"c_test\"\n"
    "score { name: \"engagement\" half_life: \"30d\" min: 0 max: 500 }\n"
    "score { name: \"fit\" min: -100 max: 100 }\n"
    "score { name: \"lead\" formula: \"score.engagement + score.fit\" }\n"
    "counter { name: \"demos\" on: \"demo.request\" }\n"
    "rule { name: \"demo\" on: \"demo.request\" score: \"engagement\" points: 40 }\n"
    "rule { name: \"course\" on: \"course.attend\" score: \"engagement\" points: 10\n"
    "       cap { max_points: 30 window: \"7d\" } }\n"
    "fit { name: \"decision_maker\" when: \"member.role == 'decision_maker'\"\n"
    "      score: \"fit\" points: 25 }\n"
    "tag { name: \"learner\" on: \"course.*\" ttl: \"14d\" }\n"
    "lifecycle { initial: \"member\" stage: [\"member\", \"lead\"]\n"
    "  transition { from: \"member\" to: \"lead\" when: \"score.lead >= 60.0\" } }\n"
    "flag { name: \"sales_ready\" when: \"score.lead >= 100.0\" rearm: \"score.lead < 70.0\" }\n";

/* The same name, a changed model: "course" is gone, a new tag. */
static const char kChangedModel[] =
    "name: \"c_test\"\n"
    "score { name: \"engagement\" half_life: \"30d\" min: 0 max: 500 }\n"
    "score { name: \"fit\" min: -100 max: 100 }\n"
    "score { name: \"lead\" formula: \"score.engagement + score.fit\" }\n"
    "rule { name: \"demo\" on: \"demo.request\" score: \"engagement\" points: 40 }\n"
    "tag { name: \"hot\" when: \"score.lead >= 50.0\" }\n";

static const char kOtherModel[] = "name: \"other\" score { name: \"engagement\" }\n";

static const int64_t kT0 = 1767225600000LL; /* 2026-01-01T00:00:00Z */
static const int64_t kDay = 86400000LL;

static ls_event Event(const char* id, const char* member, int64_t time, const char* type) {
  ls_event e;
  memset(&e, 0, sizeof(e));
  e.event_id = id;
  e.event_id_len = strlen(id);
  e.member_id = member;
  e.member_id_len = strlen(member);
  e.has_time = 1;
  e.time = time;
  e.type = type;
  e.type_len = strlen(type);
  return e;
}

/* --- a callback that records changes ------------------------------------ */

typedef struct Recorder {
  int count;
  int kinds[64];
  char json[64][512];
  char first_tag[32];
  char to_stage[32];
  char flag[32];
  char rejected_id[32];
  int reject_reason;
  ls_store_t* store; /* to try calling back in */
  int reentry_code;
  int stats_members_seen;
} Recorder;

static void Record(void* user, const ls_change* c) {
  Recorder* r = (Recorder*)user;
  if (r->count < 64) {
    size_t n = c->json_len < 511 ? c->json_len : 511;
    r->kinds[r->count] = c->kind;
    memcpy(r->json[r->count], c->json, n);
    r->json[r->count][n] = '\0';
  }
  ++r->count;
  if (c->kind == LS_CHANGE_TAG_ADDED && r->first_tag[0] == '\0') {
    snprintf(r->first_tag, sizeof(r->first_tag), "%s", c->tag);
  }
  if (c->kind == LS_CHANGE_STAGE_CHANGED) {
    snprintf(r->to_stage, sizeof(r->to_stage), "%s", c->to_stage);
  }
  if (c->kind == LS_CHANGE_FLAG_RAISED) snprintf(r->flag, sizeof(r->flag), "%s", c->flag);
  if (c->kind == LS_CHANGE_REJECTED) {
    size_t n = c->event_id_len < 31 ? c->event_id_len : 31;
    memcpy(r->rejected_id, c->event_id, n);
    r->rejected_id[n] = '\0';
    r->reject_reason = c->reason;
    CHECK(c->detail != NULL && c->detail_len > 0);
  }
  if (r->store != NULL) {
    /* Calling into the store from its own callback fails. */
    char* err = NULL;
    ls_event e = Event("x", "m9", kT0, "demo.request");
    size_t len = 0;
    ls_stats st;
    r->reentry_code = ls_store_apply(r->store, &e, &err);
    CHECK(err != NULL && ls_error_code(err) == LS_FAILED_PRECONDITION);
    ls_free(err);
    err = NULL;
    CHECK(ls_store_drain_changes(r->store, &len, &err) == NULL);
    CHECK(ls_error_code(err) == LS_FAILED_PRECONDITION);
    ls_free(err);
    err = NULL;
    CHECK(ls_store_read_json(r->store, "m1", 2, kT0, &len, &err) == NULL);
    CHECK(ls_error_code(err) == LS_FAILED_PRECONDITION);
    ls_free(err);
    /* Statistics may be read. */
    ls_store_stats(r->store, &st);
    r->stats_members_seen = (int)st.members;
  }
}

typedef struct IdList {
  int count;
  char ids[16][16];
} IdList;

static void CollectId(void* user, const char* id, size_t len) {
  IdList* l = (IdList*)user;
  if (l->count < 16 && len < 16) {
    memcpy(l->ids[l->count], id, len);
    l->ids[l->count][len] = '\0';
  }
  ++l->count;
}

/* --- a minimal protobuf encoder for MemberEvent (no protobuf in C) ------- */

static size_t PutVarint(unsigned char* out, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    out[n++] = (unsigned char)(v | 0x80);
    v >>= 7;
  }
  out[n++] = (unsigned char)v;
  return n;
}

static size_t PutString(unsigned char* out, int field, const char* s) {
  size_t n = PutVarint(out, (uint64_t)(field << 3 | 2));
  size_t len = strlen(s);
  n += PutVarint(out + n, len);
  memcpy(out + n, s, len);
  return n + len;
}

/* A serialized leadscore.v1.MemberEvent: event_id=1, member_id=2, time=3,
 * type=4. */
static size_t EncodeEvent(unsigned char* out, const char* id, const char* member,
                          int64_t time, const char* type) {
  size_t n = PutString(out, 1, id);
  n += PutString(out + n, 2, member);
  n += PutVarint(out + n, 3 << 3 | 0);
  n += PutVarint(out + n, (uint64_t)time);
  n += PutString(out + n, 4, type);
  return n;
}

/* --- files --------------------------------------------------------------- */

static char tmpdir[256];

static void TempPath(char* out, size_t size, const char* name) {
  snprintf(out, size, "%s/%s", tmpdir, name);
}

static long ReadAll(const char* path, unsigned char* buf, size_t size) {
  FILE* f = fopen(path, "rb");
  long n;
  if (f == NULL) return -1;
  n = (long)fread(buf, 1, size, f);
  fclose(f);
  return n;
}

static void WriteAll(const char* path, const unsigned char* buf, size_t n) {
  FILE* f;
  unlink(path); /* a new file: truncating in place may flush it to disk */
  f = fopen(path, "wb");
  if (f == NULL) return;
  fwrite(buf, 1, n, f);
  fclose(f);
}

/* --- the tests ----------------------------------------------------------- */

static void TestVersionsAndErrors(void) {
  char buf[32];
  CHECK(ls_version_number() == LS_VERSION_NUMBER);
  snprintf(buf, sizeof(buf), "%d.%d.%d", LS_VERSION_MAJOR, LS_VERSION_MINOR,
           LS_VERSION_PATCH);
  CHECK(strcmp(ls_version_string(), buf) == 0);
  CHECK(ls_abi_version() == LS_ABI_VERSION);
  CHECK(ls_error_code(NULL) == LS_UNKNOWN);
  CHECK(ls_error_code("no code here") == LS_UNKNOWN);
  CHECK(ls_error_code("NOT_A_CODE: x") == LS_UNKNOWN);
  CHECK(ls_error_code("DATA_LOSS: x") == LS_DATA_LOSS);
  CHECK(ls_error_code("INVALID_ARGUMENT: x") == LS_INVALID_ARGUMENT);
  CHECK(ls_error_code("OK: x") == LS_OK);
  ls_free(NULL);
}

static void TestModels(void) {
  char* err = NULL;
  ls_model_t* m;
  char path[512];
  FILE* f;
  int kind;

  m = ls_model_load_text(kModel, strlen(kModel), "c_test.textproto", &err);
  CHECK(m != NULL);
  CHECK_OK(LS_OK, err);
  CHECK(strcmp(ls_model_name(m), "c_test") == 0);
  CHECK(ls_model_allowed_lateness_ms(m) == 7 * kDay);
  CHECK(ls_model_count(m, LS_ITEM_SCORE) == 3);
  CHECK(ls_model_count(m, LS_ITEM_COUNTER) == 1);
  CHECK(ls_model_count(m, LS_ITEM_TAG) == 1);
  CHECK(ls_model_count(m, LS_ITEM_STAGE) == 2);
  CHECK(ls_model_count(m, LS_ITEM_FLAG) == 1);
  CHECK(ls_model_count(m, LS_ITEM_RULE) == 3);
  CHECK(ls_model_count(m, 99) == -1);
  CHECK(ls_model_count(NULL, LS_ITEM_SCORE) == -1);
  CHECK(strcmp(ls_model_item(m, LS_ITEM_SCORE, 2), "lead") == 0);
  CHECK(strcmp(ls_model_item(m, LS_ITEM_COUNTER, 0), "demos") == 0);
  CHECK(strcmp(ls_model_item(m, LS_ITEM_TAG, 0), "learner") == 0);
  CHECK(strcmp(ls_model_item(m, LS_ITEM_STAGE, 1), "lead") == 0);
  CHECK(strcmp(ls_model_item(m, LS_ITEM_FLAG, 0), "sales_ready") == 0);
  CHECK(strcmp(ls_model_item(m, LS_ITEM_RULE, 2), "decision_maker") == 0);
  for (kind = LS_ITEM_SCORE; kind <= LS_ITEM_RULE; ++kind) {
    CHECK(ls_model_item(m, kind, -1) == NULL);
    CHECK(ls_model_item(m, kind, ls_model_count(m, kind)) == NULL);
  }
  CHECK(ls_model_item(m, 99, 0) == NULL);
  CHECK(ls_model_item(NULL, LS_ITEM_SCORE, 0) == NULL);
  CHECK(ls_model_name(NULL) == NULL);
  CHECK(ls_model_allowed_lateness_ms(NULL) == 0);
  ls_model_destroy(m);
  ls_model_destroy(NULL);

  /* Every problem of a bad model, with positions; a previous message in
   * *errptr is replaced (freed). */
  err = NULL;
  {
    static const char kBad[] =
        "score { name: \"a\" }\n"
        "rule { name: \"r\" score: \"nope\" on: \"x\" points: 1 }\n"
        "flag { name: \"f\" when: \"score.zzz > 1\" }\n";
    m = ls_model_load_text(kBad, strlen(kBad), "bad.textproto", &err);
  }
  CHECK(m == NULL);
  CHECK(err != NULL && ls_error_code(err) == LS_INVALID_ARGUMENT);
  CHECK(err != NULL && strstr(err, "bad.textproto:2:") != NULL);
  CHECK(err != NULL && strstr(err, "bad.textproto:3:") != NULL);
  m = ls_model_load_text("score {", 7, NULL, &err); /* replaces the message */
  CHECK(m == NULL);
  CHECK(err != NULL && strstr(err, "<model>") != NULL);
  CHECK_ERR(LS_INVALID_ARGUMENT, err, LS_INVALID_ARGUMENT);
  CHECK(ls_model_load_text(NULL, 5, NULL, &err) == NULL);
  CHECK_ERR(LS_INVALID_ARGUMENT, err, LS_INVALID_ARGUMENT);
  CHECK(ls_model_load_text("score {", 7, NULL, NULL) == NULL); /* no errptr: fine */

  /* JSON. */
  {
    const char json[] = "{\"name\": \"j\", \"score\": [{\"name\": \"s\"}]}";
    m = ls_model_load_json(json, strlen(json), "j.json", &err);
    CHECK(m != NULL);
    CHECK_OK(LS_OK, err);
    CHECK(m != NULL && strcmp(ls_model_name(m), "j") == 0);
    ls_model_destroy(m);
    CHECK(ls_model_load_json("{\"nope\": 1}", 11, "j.json", &err) == NULL);
    CHECK_ERR(LS_INVALID_ARGUMENT, err, LS_INVALID_ARGUMENT);
    CHECK(ls_model_load_json(NULL, 1, NULL, &err) == NULL);
    CHECK_ERR(LS_INVALID_ARGUMENT, err, LS_INVALID_ARGUMENT);
  }

  /* Files. */
  m = ls_model_load_file(LEADSCORE_SOURCE_DIR "/examples/models/community.textproto", &err);
  CHECK(m != NULL);
  CHECK_OK(LS_OK, err);
  CHECK(m != NULL && strcmp(ls_model_name(m), "b2b-community") == 0);
  ls_model_destroy(m);
  m = ls_model_load_file(LEADSCORE_SOURCE_DIR "/examples/models/community.json", &err);
  CHECK(m != NULL);
  CHECK_OK(LS_OK, err);
  ls_model_destroy(m);
  CHECK(ls_model_load_file("/no/such/model.textproto", &err) == NULL);
  CHECK_ERR(LS_NOT_FOUND, err, LS_NOT_FOUND);
  CHECK(ls_model_load_file(NULL, &err) == NULL);
  CHECK_ERR(LS_INVALID_ARGUMENT, err, LS_INVALID_ARGUMENT);
  TempPath(path, sizeof(path), "bad_model.textproto");
  f = fopen(path, "w");
  if (f != NULL) {
    fputs("score { name: \"s\" half_life: \"forever\" }\n", f);
    fclose(f);
  }
  CHECK(ls_model_load_file(path, &err) == NULL);
  CHECK(err != NULL && strstr(err, "bad_model.textproto:1:") != NULL);
  CHECK_ERR(LS_INVALID_ARGUMENT, err, LS_INVALID_ARGUMENT);
  unlink(path);
}

static void TestStore(void) {
  char* err = NULL;
  ls_model_t* m = ls_model_load_text(kModel, strlen(kModel), NULL, &err);
  ls_store_t* s;
  Recorder rec;
  ls_stats st;
  ls_kv profile[1];
  ls_event e;
  ls_event batch[3];
  char* out;
  size_t len = 0;
  int rc;

  CHECK(ls_store_create(NULL, &err) == NULL);
  CHECK_ERR(LS_INVALID_ARGUMENT, err, LS_INVALID_ARGUMENT);
  s = ls_store_create(m, &err);
  CHECK(s != NULL);
  CHECK_OK(LS_OK, err);
  ls_model_destroy(m); /* the store keeps the model alive */
  ls_store_destroy(NULL);

  memset(&rec, 0, sizeof(rec));
  ls_store_set_callback(s, Record, &rec);
  ls_store_set_callback(NULL, Record, &rec); /* no effect */
  ls_store_set_queue(s, 1);
  ls_store_set_queue(NULL, 1);
  CHECK(ls_store_queued_changes(s) == 0);
  CHECK(ls_store_queued_changes(NULL) == 0);

  /* m1: a decision maker who requests a demo: lead 65 -> stage "lead". */
  e = Event("e1", "m1", kT0, "demo.request");
  profile[0].key = "role";
  profile[0].key_len = 4;
  profile[0].value = "decision_maker";
  profile[0].value_len = strlen("decision_maker");
  e.profile = profile;
  e.num_profile = 1;
  rc = ls_store_apply(s, &e, &err);
  CHECK_OK(rc, err);
  CHECK(strcmp(rec.to_stage, "lead") == 0);

  /* A batch: a course (tag learner), two more demos (flag raised at 145),
   * and a duplicate of e1. */
  batch[0] = Event("e2", "m1", kT0 + 1000, "course.attend");
  batch[1] = Event("e3", "m1", kT0 + 2000, "demo.request");
  batch[2] = Event("e1", "m1", kT0 + 3000, "demo.request");
  rc = ls_store_apply_batch(s, batch, 3, &err);
  CHECK_OK(rc, err);
  CHECK(strcmp(rec.first_tag, "learner") == 0);
  CHECK(strcmp(rec.flag, "sales_ready") == 0);
  CHECK(strcmp(rec.rejected_id, "e1") == 0);
  CHECK(rec.reject_reason == LS_REJECT_DUPLICATE);
  {
    int i, raised = -1;
    for (i = 0; i < rec.count && i < 64; ++i) {
      if (rec.kinds[i] == LS_CHANGE_FLAG_RAISED) raised = i;
    }
    CHECK(raised >= 0);
    if (raised >= 0) {
      CHECK(strstr(rec.json[raised], "\"kind\":\"flag_raised\"") != NULL);
      CHECK(strstr(rec.json[raised], "\"rule\":\"demo\"") != NULL);
      CHECK(strstr(rec.json[raised], "\"lead\":") != NULL);
    }
  }

  /* Bad data is a counted rejection, not an error: no time, no member. */
  e = Event("e4", "m2", 0, "demo.request");
  e.has_time = 0;
  rc = ls_store_apply(s, &e, &err);
  CHECK_OK(rc, err);
  e = Event("e5", "", kT0, "demo.request");
  rc = ls_store_apply(s, &e, &err);
  CHECK_OK(rc, err);
  e = Event("e6", "m2", kT0, "x");
  e.value = NAN;
  rc = ls_store_apply(s, &e, &err);
  CHECK_OK(rc, err);
  CHECK(rec.reject_reason == LS_REJECT_INVALID);

  /* Errors of apply. */
  CHECK_ERR(ls_store_apply(s, NULL, &err), err, LS_INVALID_ARGUMENT);
  CHECK_ERR(ls_store_apply(NULL, &e, &err), err, LS_INVALID_ARGUMENT);
  e = Event("e7", "m2", kT0, "x");
  e.member_id = NULL; /* with a length */
  CHECK_ERR(ls_store_apply(s, &e, &err), err, LS_INVALID_ARGUMENT);
  e = Event("e7", "m2", kT0, "x");
  e.num_attrs = 2; /* attrs NULL */
  CHECK_ERR(ls_store_apply(s, &e, &err), err, LS_INVALID_ARGUMENT);
  e = Event("e7", "m2", kT0, "x");
  profile[0].key = NULL;
  e.profile = profile;
  e.num_profile = 1;
  CHECK_ERR(ls_store_apply(s, &e, &err), err, LS_INVALID_ARGUMENT);
  /* A batch stops at its first bad event: e8 applied, e9 not. */
  batch[0] = Event("e8", "m3", kT0, "course.attend");
  batch[1] = Event("bad", "m3", kT0, "x");
  batch[1].type = NULL;
  batch[2] = Event("e9", "m4", kT0, "course.attend");
  CHECK_ERR(ls_store_apply_batch(s, batch, 3, &err), err, LS_INVALID_ARGUMENT);
  CHECK_ERR(ls_store_apply_batch(s, NULL, 2, &err), err, LS_INVALID_ARGUMENT);
  CHECK_ERR(ls_store_apply_batch(NULL, batch, 1, &err), err, LS_INVALID_ARGUMENT);
  CHECK_OK(ls_store_apply_batch(s, NULL, 0, &err), err);
  ls_store_stats(s, &st);
  CHECK(st.members == 2); /* m1, m3 */
  CHECK(st.events_applied == 4);
  CHECK(st.rejected_duplicate == 1);
  CHECK(st.rejected_invalid == 3);
  CHECK(st.flags_raised == 1);

  /* Serialized MemberEvent and MemberEventBatch. */
  {
    unsigned char buf[256], batchbuf[512];
    size_t n = EncodeEvent(buf, "p1", "m4", kT0 + 5000, "demo.request");
    size_t bn;
    CHECK_OK(ls_store_apply_proto(s, (const char*)buf, n, &err), err);
    CHECK_ERR(ls_store_apply_proto(s, "\xff\xff\xff", 3, &err), err, LS_INVALID_ARGUMENT);
    CHECK_ERR(ls_store_apply_proto(s, NULL, 3, &err), err, LS_INVALID_ARGUMENT);
    CHECK_ERR(ls_store_apply_proto(NULL, (const char*)buf, n, &err), err, LS_INVALID_ARGUMENT);
    /* A batch of two events, each field 1 of MemberEventBatch. */
    bn = 0;
    n = EncodeEvent(buf, "p2", "m4", kT0 + 6000, "course.attend");
    bn += PutVarint(batchbuf + bn, 1 << 3 | 2);
    bn += PutVarint(batchbuf + bn, n);
    memcpy(batchbuf + bn, buf, n);
    bn += n;
    n = EncodeEvent(buf, "p3", "m5", kT0 + 7000, "course.attend");
    bn += PutVarint(batchbuf + bn, 1 << 3 | 2);
    bn += PutVarint(batchbuf + bn, n);
    memcpy(batchbuf + bn, buf, n);
    bn += n;
    CHECK_OK(ls_store_apply_proto_batch(s, (const char*)batchbuf, bn, &err), err);
    CHECK_ERR(ls_store_apply_proto_batch(s, "\x0a\x05", 2, &err), err, LS_INVALID_ARGUMENT);
    CHECK_ERR(ls_store_apply_proto_batch(s, NULL, 1, &err), err, LS_INVALID_ARGUMENT);
    CHECK_ERR(ls_store_apply_proto_batch(NULL, (const char*)batchbuf, bn, &err), err,
              LS_INVALID_ARGUMENT);
    CHECK_OK(ls_store_apply_proto_batch(s, NULL, 0, &err), err); /* an empty batch */
  }
  ls_store_stats(s, &st);
  CHECK(st.members == 4); /* m1, m3, m4, m5 */
  CHECK(st.events_applied == 7);

  /* Rejections decided by the host. */
  CHECK_OK(ls_store_reject(s, "m6", 2, "r1", 2, 1, kT0, LS_REJECT_AFTER_AS_OF, "later", 5,
                           &err), err);
  CHECK(strcmp(rec.rejected_id, "r1") == 0);
  CHECK(rec.reject_reason == LS_REJECT_AFTER_AS_OF);
  CHECK_ERR(ls_store_reject(s, "m6", 2, "r2", 2, 1, kT0, 17, NULL, 0, &err), err,
            LS_INVALID_ARGUMENT);
  CHECK_ERR(ls_store_reject(s, NULL, 2, "r2", 2, 1, kT0, 0, NULL, 0, &err), err,
            LS_INVALID_ARGUMENT);
  CHECK_ERR(ls_store_reject(NULL, "m6", 2, "r2", 2, 1, kT0, 0, NULL, 0, &err), err,
            LS_INVALID_ARGUMENT);
  ls_store_stats(s, &st);
  CHECK(st.rejected_after_as_of == 1);
  CHECK(st.members == 4);

  /* The queue: JSON lines of everything so far. */
  CHECK(ls_store_queued_changes(s) == (size_t)rec.count);
  out = ls_store_drain_changes(s, &len, &err);
  CHECK(out != NULL);
  CHECK_OK(LS_OK, err);
  CHECK(out != NULL && len == strlen(out));
  CHECK(out != NULL && strstr(out, "{\"member_id\":\"m1\",\"time\":1767225600000,"
                                   "\"kind\":\"stage_changed\",\"from\":\"member\","
                                   "\"to\":\"lead\"}\n") != NULL);
  CHECK(out != NULL && strstr(out, "\"kind\":\"rejected\",\"event_id\":\"r1\","
                                   "\"reason\":\"after_as_of\"}\n") != NULL);
  ls_free(out);
  CHECK(ls_store_queued_changes(s) == 0);
  out = ls_store_drain_changes(s, &len, &err);
  CHECK(out != NULL && len == 0 && out[0] == '\0');
  ls_free(out);
  CHECK(ls_store_drain_changes(NULL, &len, &err) == NULL);
  CHECK_ERR(LS_INVALID_ARGUMENT, err, LS_INVALID_ARGUMENT);
  ls_store_set_queue(s, 0);

  /* Reads. */
  out = ls_store_read_json(s, "m1", 2, LS_TIME_CLOCK, &len, &err);
  CHECK(out != NULL);
  CHECK_OK(LS_OK, err);
  CHECK(out != NULL && strstr(out, "{\"member_id\":\"m1\",\"stage\":\"lead\",") == out);
  CHECK(out != NULL && strstr(out, "\"tags\":[\"learner\"]") != NULL);
  CHECK(out != NULL && strstr(out, "\"sales_ready\":{\"armed\":false,\"raised\":1") != NULL);
  CHECK(out != NULL && len == strlen(out));
  ls_free(out);
  out = ls_store_read_json(s, "m1", 2, kT0 + 20 * kDay, NULL, &err); /* len may be NULL */
  CHECK(out != NULL && strstr(out, "\"tags\":[]") == NULL); /* ttl not run: reads change nothing */
  ls_free(out);
  CHECK(ls_store_read_json(s, "nobody", 6, kT0, &len, &err) == NULL);
  CHECK_ERR(LS_NOT_FOUND, err, LS_NOT_FOUND);
  CHECK(ls_store_read_json(s, NULL, 1, kT0, &len, &err) == NULL);
  CHECK_ERR(LS_INVALID_ARGUMENT, err, LS_INVALID_ARGUMENT);
  CHECK(ls_store_read_json(NULL, "m1", 2, kT0, &len, &err) == NULL);
  CHECK_ERR(LS_INVALID_ARGUMENT, err, LS_INVALID_ARGUMENT);
  out = ls_store_read_view(s, "m1", 2, kT0, &len, &err);
  CHECK(out != NULL && len > 10);
  CHECK_OK(LS_OK, err);
  /* field 1 (member_id) first: 0x0a, 2, "m1" */
  CHECK(out != NULL && memcmp(out, "\x0a\x02m1", 4) == 0);
  ls_free(out);
  CHECK(ls_store_read_view(s, "nobody", 6, kT0, &len, &err) == NULL);
  CHECK_ERR(LS_NOT_FOUND, err, LS_NOT_FOUND);
  CHECK(ls_store_read_view(NULL, "m1", 2, kT0, &len, &err) == NULL);
  CHECK_ERR(LS_INVALID_ARGUMENT, err, LS_INVALID_ARGUMENT);

  /* Members. */
  {
    IdList ids;
    memset(&ids, 0, sizeof(ids));
    CHECK_OK(ls_store_for_each_member(s, CollectId, &ids, &err), err);
    CHECK(ids.count == 4);
    CHECK(strcmp(ids.ids[0], "m1") == 0 && strcmp(ids.ids[3], "m5") == 0);
    CHECK_ERR(ls_store_for_each_member(s, NULL, NULL, &err), err, LS_INVALID_ARGUMENT);
    CHECK(ls_store_contains(s, "m1", 2) == 1);
    CHECK(ls_store_contains(s, "m2", 2) == 0); /* only rejected events */
    CHECK(ls_store_contains(s, NULL, 2) == 0);
    CHECK(ls_store_contains(NULL, "m1", 2) == 0);
    CHECK_ERR(ls_store_for_each_member(NULL, CollectId, &ids, &err), err,
              LS_INVALID_ARGUMENT);
  }

  /* Advance: the learner tag's 14-day ttl runs out. */
  rec.first_tag[0] = '\0';
  rec.count = 0;
  CHECK_OK(ls_store_advance(s, "m1", 2, kT0 + 20 * kDay, &err), err);
  CHECK(rec.count >= 1 && rec.kinds[0] == LS_CHANGE_TAG_REMOVED);
  out = ls_store_read_json(s, "m1", 2, LS_TIME_CLOCK, &len, &err);
  CHECK(out != NULL && strstr(out, "\"tags\":[]") != NULL);
  ls_free(out);
  CHECK_ERR(ls_store_advance(s, "nobody", 6, kT0, &err), err, LS_NOT_FOUND);
  CHECK_ERR(ls_store_advance(s, NULL, 3, kT0, &err), err, LS_INVALID_ARGUMENT);
  CHECK_ERR(ls_store_advance(NULL, "m1", 2, kT0, &err), err, LS_INVALID_ARGUMENT);
  CHECK_OK(ls_store_advance_all(s, kT0 + 30 * kDay, &err), err);
  CHECK_ERR(ls_store_advance_all(NULL, kT0, &err), err, LS_INVALID_ARGUMENT);

  /* A callback that calls back into the store is refused. */
  rec.store = s;
  rec.reentry_code = -1;
  e = Event("e10", "m7", kT0 + 31 * kDay, "demo.request");
  CHECK_OK(ls_store_apply(s, &e, &err), err);
  e = Event("e11", "m7", kT0 + 31 * kDay, "demo.request"); /* stage change: a change */
  CHECK_OK(ls_store_apply(s, &e, &err), err);
  CHECK(rec.reentry_code == LS_FAILED_PRECONDITION);
  CHECK(rec.stats_members_seen == 5);
  rec.store = NULL;
  ls_store_set_callback(s, NULL, NULL);
  ls_store_stats(s, &st);
  CHECK(st.members == 5);
  CHECK(st.events_applied == 9); /* the refused apply did nothing */

  /* Statistics of nothing. */
  ls_store_stats(NULL, &st);
  CHECK(st.events_applied == 0 && st.members == 0);
  ls_store_stats(s, NULL);

  ls_store_destroy(s);
}

static void TestDurableState(void) {
  char* err = NULL;
  ls_model_t* m = ls_model_load_text(kModel, strlen(kModel), NULL, &err);
  ls_model_t* changed = ls_model_load_text(kChangedModel, strlen(kChangedModel), NULL, &err);
  ls_model_t* other = ls_model_load_text(kOtherModel, strlen(kOtherModel), NULL, &err);
  ls_store_t* s = ls_store_create(m, &err);
  ls_store_t* r;
  ls_stats a, b;
  ls_event e;
  char path[512], bad[512];
  static unsigned char file[1 << 16];
  long size;
  char* json1;
  char* json2;
  char* bytes;
  size_t len = 0, blen = 0;
  ls_kv profile[1];

  CHECK(m != NULL && changed != NULL && other != NULL && s != NULL);
  e = Event("e1", "m1", kT0, "demo.request");
  profile[0].key = "role";
  profile[0].key_len = 4;
  profile[0].value = "decision_maker";
  profile[0].value_len = 14;
  e.profile = profile;
  e.num_profile = 1;
  ls_store_apply(s, &e, &err);
  e = Event("e2", "m1", kT0 + 1000, "course.attend");
  ls_store_apply(s, &e, &err);
  e = Event("e3", "m2", kT0 + 2000, "course.attend");
  ls_store_apply(s, &e, &err);
  e = Event("e3", "m2", kT0 + 2000, "course.attend"); /* duplicate */
  ls_store_apply(s, &e, &err);
  CHECK(err == NULL);

  /* Snapshot and restore: identical reads and statistics. */
  TempPath(path, sizeof(path), "store.snap");
  CHECK_OK(ls_store_save_snapshot(s, path, &err), err);
  r = ls_store_load_snapshot(m, path, &err);
  CHECK(r != NULL);
  CHECK_OK(LS_OK, err);
  CHECK(strcmp(ls_store_restore_notes(r), "") == 0);
  json1 = ls_store_read_json(s, "m1", 2, kT0 + kDay, &len, &err);
  json2 = ls_store_read_json(r, "m1", 2, kT0 + kDay, &len, &err);
  CHECK(json1 != NULL && json2 != NULL && strcmp(json1, json2) == 0);
  ls_free(json2);
  ls_store_stats(s, &a);
  ls_store_stats(r, &b);
  CHECK(memcmp(&a, &b, sizeof(a)) == 0);
  ls_store_destroy(r);

  /* Errors of saving and loading. */
  CHECK_ERR(ls_store_save_snapshot(s, "/no/such/dir/store.snap", &err), err, LS_NOT_FOUND);
  CHECK_ERR(ls_store_save_snapshot(s, NULL, &err), err, LS_INVALID_ARGUMENT);
  CHECK_ERR(ls_store_save_snapshot(NULL, path, &err), err, LS_INVALID_ARGUMENT);
  CHECK(ls_store_load_snapshot(m, "/no/such/store.snap", &err) == NULL);
  CHECK_ERR(LS_NOT_FOUND, err, LS_NOT_FOUND);
  CHECK(ls_store_load_snapshot(NULL, path, &err) == NULL);
  CHECK_ERR(LS_INVALID_ARGUMENT, err, LS_INVALID_ARGUMENT);
  CHECK(ls_store_load_snapshot(m, NULL, &err) == NULL);
  CHECK_ERR(LS_INVALID_ARGUMENT, err, LS_INVALID_ARGUMENT);
  CHECK(ls_store_load_snapshot(other, path, &err) == NULL); /* another model's name */
  CHECK_ERR(LS_INVALID_ARGUMENT, err, LS_INVALID_ARGUMENT);
  size = ReadAll(path, file, sizeof(file));
  CHECK(size > 40);
  TempPath(bad, sizeof(bad), "bad.snap");
  if (size > 40) {
    long i;
    int all_data_loss = 1;
    /* A flipped byte anywhere: DATA_LOSS, never a crash. */
    for (i = 0; i < size; ++i) {
      ls_store_t* x;
      file[i] ^= 0xFF;
      WriteAll(bad, file, (size_t)size);
      file[i] ^= 0xFF;
      x = ls_store_load_snapshot(m, bad, &err);
      if (x != NULL || ls_error_code(err) != LS_DATA_LOSS) all_data_loss = 0;
      ls_store_destroy(x);
      ls_free(err);
      err = NULL;
    }
    CHECK(all_data_loss);
    /* Truncated anywhere: DATA_LOSS. */
    for (i = 0; i < size; ++i) {
      ls_store_t* x;
      WriteAll(bad, file, (size_t)i);
      x = ls_store_load_snapshot(m, bad, &err);
      if (x != NULL || ls_error_code(err) != LS_DATA_LOSS) all_data_loss = 0;
      ls_store_destroy(x);
      ls_free(err);
      err = NULL;
    }
    CHECK(all_data_loss);
    WriteAll(bad, file, 10);
    CHECK(ls_store_load_snapshot(m, bad, &err) == NULL);
    CHECK(err != NULL && strstr(err, "truncated") != NULL);
    CHECK_ERR(LS_DATA_LOSS, err, LS_DATA_LOSS);
    WriteAll(bad, (const unsigned char*)"member_id,time\n", 15); /* not a snapshot */
    CHECK(ls_store_load_snapshot(m, bad, &err) == NULL);
    CHECK_ERR(LS_INVALID_ARGUMENT, err, LS_INVALID_ARGUMENT);
  }

  /* Restoring under a changed model of the same name: notes say what was
   * dropped. */
  r = ls_store_load_snapshot(changed, path, &err);
  CHECK(r != NULL);
  CHECK_OK(LS_OK, err);
  CHECK(strstr(ls_store_restore_notes(r), "rule \"course\": not an event rule") != NULL);
  CHECK(strstr(ls_store_restore_notes(r), "tag \"learner\": not in the model") != NULL);
  ls_store_destroy(r);
  CHECK(strcmp(ls_store_restore_notes(NULL), "") == 0);

  /* One member's bytes: export, import elsewhere, same read. */
  bytes = ls_store_export_member(s, "m1", 2, &blen, &err);
  CHECK(bytes != NULL && blen > 16);
  CHECK_OK(LS_OK, err);
  r = ls_store_create(m, &err);
  CHECK_OK(ls_store_import_member(r, bytes, blen, &err), err);
  json2 = ls_store_read_json(r, "m1", 2, kT0 + kDay, &len, &err);
  CHECK(json2 != NULL && json1 != NULL && strcmp(json1, json2) == 0);
  ls_free(json2);
  CHECK(strcmp(ls_store_restore_notes(r), "") == 0);
  if (bytes != NULL) {
    size_t i;
    int all_data_loss = 1;
    for (i = 0; i < blen; ++i) {
      bytes[i] ^= (char)0xFF;
      if (ls_store_import_member(r, bytes, blen, &err) != LS_DATA_LOSS) all_data_loss = 0;
      ls_free(err);
      err = NULL;
      bytes[i] ^= (char)0xFF;
    }
    CHECK(all_data_loss);
    for (i = 0; i < blen; ++i) {
      if (ls_store_import_member(r, bytes, i, &err) != LS_DATA_LOSS) all_data_loss = 0;
      ls_free(err);
      err = NULL;
    }
    CHECK(all_data_loss);
    CHECK_ERR(ls_store_import_member(r, "{\"json\": 1}", 11, &err), err, LS_INVALID_ARGUMENT);
    CHECK_ERR(ls_store_import_member(r, NULL, 3, &err), err, LS_INVALID_ARGUMENT);
    CHECK_ERR(ls_store_import_member(NULL, bytes, blen, &err), err, LS_INVALID_ARGUMENT);
    {
      ls_store_t* o = ls_store_create(other, &err);
      CHECK_ERR(ls_store_import_member(o, bytes, blen, &err), err, LS_INVALID_ARGUMENT);
      ls_store_destroy(o);
    }
  }
  ls_free(bytes);
  CHECK(ls_store_export_member(s, "nobody", 6, &blen, &err) == NULL);
  CHECK_ERR(LS_NOT_FOUND, err, LS_NOT_FOUND);
  CHECK(ls_store_export_member(s, NULL, 1, &blen, &err) == NULL);
  CHECK_ERR(LS_INVALID_ARGUMENT, err, LS_INVALID_ARGUMENT);
  CHECK(ls_store_export_member(NULL, "m1", 2, &blen, &err) == NULL);
  CHECK_ERR(LS_INVALID_ARGUMENT, err, LS_INVALID_ARGUMENT);

  /* Erase. */
  CHECK_OK(ls_store_erase_member(r, "m1", 2, &err), err);
  ls_store_stats(r, &b);
  CHECK(b.members == 0);
  CHECK_ERR(ls_store_erase_member(r, "m1", 2, &err), err, LS_NOT_FOUND);
  CHECK_ERR(ls_store_erase_member(r, NULL, 2, &err), err, LS_INVALID_ARGUMENT);
  CHECK_ERR(ls_store_erase_member(NULL, "m1", 2, &err), err, LS_INVALID_ARGUMENT);
  ls_store_destroy(r);

  ls_free(json1);
  unlink(path);
  unlink(bad);
  ls_store_destroy(s);
  ls_model_destroy(m);
  ls_model_destroy(changed);
  ls_model_destroy(other);
}

static void TestShards(void) {
  int i, n = 8, counts[8] = {0};
  char id[16];
  for (i = 0; i < 800; ++i) {
    int shard;
    snprintf(id, sizeof(id), "m%d", i);
    shard = ls_shard_of(id, strlen(id), n);
    CHECK(shard >= 0 && shard < n);
    if (shard >= 0 && shard < n) ++counts[shard];
    CHECK(ls_shard_of(id, strlen(id), n) == shard); /* stable */
  }
  for (i = 0; i < n; ++i) CHECK(counts[i] > 50); /* spread */
  CHECK(ls_shard_of("m1", 2, 1) == 0);
  CHECK(ls_shard_of("m1", 2, 0) == -1);
  CHECK(ls_shard_of(NULL, 2, 4) == -1);
  CHECK(ls_shard_of(NULL, 0, 4) >= 0);
}

int main(void) {
  const char* base = getenv("TMPDIR");
  snprintf(tmpdir, sizeof(tmpdir), "%s/ls_c_api_test_XXXXXX",
           base != NULL && base[0] != '\0' ? base : "/tmp");
  if (mkdtemp(tmpdir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  TestVersionsAndErrors();
  TestModels();
  TestStore();
  TestDurableState();
  TestShards();
  rmdir(tmpdir);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

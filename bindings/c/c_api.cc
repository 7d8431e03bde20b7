// The C API (bindings/c/leadscore/c.h) over the C++ one: handles wrap the
// C++ objects, every entry point catches what could escape, errors become
// "CODE: message" strings. Only ls_* symbols leave the shared library
// (visibility and bindings/c/exports.map).
#include "leadscore/c.h"

#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "leadscore/changes.h"
#include "leadscore/event.h"
#include "leadscore/model.h"
#include "leadscore/store.h"
#include "leadscore/v1/event.pb.h"
#include "leadscore/v1/state.pb.h"
#include "lib/base/hash.h"
#include "lib/io/json_writer.h"

static_assert(LS_VERSION_MAJOR == LEADSCORE_VERSION_MAJOR &&
                  LS_VERSION_MINOR == LEADSCORE_VERSION_MINOR &&
                  LS_VERSION_PATCH == LEADSCORE_VERSION_PATCH,
              "bindings/c/leadscore/c.h and CMakeLists.txt disagree on the version");

using leadscore::Change;
using leadscore::ChangeKind;
using leadscore::Event;
using leadscore::KeyValue;
using leadscore::Model;
using leadscore::RejectReason;
using leadscore::Store;

struct ls_model_t {
  std::shared_ptr<const Model> model;
};

struct ls_store_t;

namespace {

// Forwards the engine's changes to the callback and the queue.
class CSink final : public leadscore::ChangeSink {
 public:
  explicit CSink(ls_store_t* owner) : owner_(owner) {}
  void OnChange(const Change& c) override;

 private:
  ls_store_t* owner_;
  std::string line_;
};

}  // namespace

struct ls_store_t {
  std::shared_ptr<const Model> model;
  std::unique_ptr<Store> store;
  ls_change_fn fn = nullptr;
  void* user = nullptr;
  bool queue_on = false;
  std::string queue;  // JSON lines
  size_t queued = 0;
  bool busy = false;  // inside a call that may run the callback
  std::string notes;  // of the last restore
  CSink sink{this};
  std::vector<KeyValue> kv;  // scratch for events
  leadscore::v1::MemberEvent proto_event;
  leadscore::v1::MemberEventBatch proto_batch;

  leadscore::ChangeSink* sink_or_null() {
    return fn != nullptr || queue_on ? &sink : nullptr;
  }
};

namespace {

void CSink::OnChange(const Change& c) {
  line_.clear();
  leadscore::io::AppendChangeLine(&line_, *owner_->model, c);
  if (owner_->queue_on) {
    owner_->queue += line_;
    ++owner_->queued;
  }
  if (owner_->fn == nullptr) return;
  const Model& m = *owner_->model;
  ls_change out;
  std::memset(&out, 0, sizeof(out));
  out.kind = static_cast<int>(c.kind);
  out.member_id = c.member_id.data();
  out.member_id_len = c.member_id.size();
  out.has_time = c.has_time ? 1 : 0;
  out.time = c.time;
  switch (c.kind) {
    case ChangeKind::kTagAdded:
    case ChangeKind::kTagRemoved:
      out.tag = m.tag_name(c.tag).c_str();
      break;
    case ChangeKind::kStageChanged:
      out.from_stage = m.stage_name(c.from_stage).c_str();
      out.to_stage = m.stage_name(c.to_stage).c_str();
      break;
    case ChangeKind::kFlagRaised:
    case ChangeKind::kFlagRearmed:
      out.flag = m.flag_name(c.flag).c_str();
      break;
    case ChangeKind::kRejected:
      out.event_id = c.event_id.data();
      out.event_id_len = c.event_id.size();
      out.reason = static_cast<int>(c.reason);
      out.detail = c.detail.data();
      out.detail_len = c.detail.size();
      break;
  }
  out.json = line_.data();
  out.json_len = line_.size() - 1;  // without the '\n'
  owner_->fn(owner_->user, &out);
}

}  // namespace

namespace {

int Fail(char** errptr, absl::StatusCode code, std::string_view message) {
  if (errptr != nullptr) {
    std::string text(absl::StatusCodeToString(code));
    text += ": ";
    text.append(message.data(), message.size());
    std::free(*errptr);
    *errptr = static_cast<char*>(std::malloc(text.size() + 1));
    if (*errptr != nullptr) std::memcpy(*errptr, text.c_str(), text.size() + 1);
  }
  return static_cast<int>(code);
}

int Fail(char** errptr, const absl::Status& s) {
  return Fail(errptr, s.code(), std::string_view(s.message().data(), s.message().size()));
}

int Invalid(char** errptr, std::string_view message) {
  return Fail(errptr, absl::StatusCode::kInvalidArgument, message);
}

// Runs `body`, turning exceptions into errors (no exception crosses the C
// boundary). `body` returns an ls_code.
template <typename F>
int Guard(char** errptr, F&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Fail(errptr, absl::StatusCode::kResourceExhausted, "out of memory");
  } catch (const std::exception& e) {
    return Fail(errptr, absl::StatusCode::kInternal, e.what());
  } catch (...) {
    return Fail(errptr, absl::StatusCode::kInternal, "unknown exception");
  }
}

// (pointer, length) as a string_view; false for NULL with a length.
bool View(const char* p, size_t n, std::string_view* out) {
  if (p == nullptr) {
    *out = std::string_view();
    return n == 0;
  }
  *out = std::string_view(p, n);
  return true;
}

char* CopyOut(const std::string& s, size_t* len) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out == nullptr) throw std::bad_alloc();
  std::memcpy(out, s.data(), s.size());
  out[s.size()] = '\0';
  if (len != nullptr) *len = s.size();
  return out;
}

// Entry checks for a store call; sets `busy` for its duration.
class StoreCall {
 public:
  StoreCall(ls_store_t* s, char** errptr) : s_(s) {
    if (s == nullptr) {
      code_ = Invalid(errptr, "store is NULL");
    } else if (s->busy) {
      code_ = Fail(errptr, absl::StatusCode::kFailedPrecondition,
                   "store called from its own change callback");
      s_ = nullptr;
    } else {
      s->busy = true;
    }
  }
  ~StoreCall() {
    if (s_ != nullptr) s_->busy = false;
  }
  bool ok() const { return code_ == LS_OK; }
  int code() const { return code_; }

 private:
  ls_store_t* s_;
  int code_ = LS_OK;
};

// An ls_event as the engine's Event (views; `kv` holds the pairs).
int ToEvent(const ls_event* in, std::vector<KeyValue>* kv, Event* out, char** errptr) {
  if (in == nullptr) return Invalid(errptr, "event is NULL");
  Event e;
  if (!View(in->event_id, in->event_id_len, &e.event_id) ||
      !View(in->member_id, in->member_id_len, &e.member_id) ||
      !View(in->type, in->type_len, &e.type) ||
      !View(in->account_id, in->account_id_len, &e.account_id) ||
      !View(in->group_id, in->group_id_len, &e.group_id) ||
      !View(in->channel, in->channel_len, &e.channel)) {
    return Invalid(errptr, "event: a NULL string with a non-zero length");
  }
  if ((in->attrs == nullptr && in->num_attrs > 0) ||
      (in->profile == nullptr && in->num_profile > 0)) {
    return Invalid(errptr, "event: NULL attrs or profile with a non-zero count");
  }
  kv->clear();
  kv->reserve(in->num_attrs + in->num_profile);
  for (int part = 0; part < 2; ++part) {
    const ls_kv* pairs = part == 0 ? in->attrs : in->profile;
    const size_t n = part == 0 ? in->num_attrs : in->num_profile;
    for (size_t i = 0; i < n; ++i) {
      KeyValue p;
      if (!View(pairs[i].key, pairs[i].key_len, &p.key) ||
          !View(pairs[i].value, pairs[i].value_len, &p.value)) {
        return Invalid(errptr, "event: an attribute with a NULL string and a non-zero length");
      }
      kv->push_back(p);
    }
  }
  e.has_time = in->has_time != 0;
  e.time = in->time;
  e.value = in->value;
  e.attrs = absl::MakeConstSpan(kv->data(), in->num_attrs);
  e.profile = absl::MakeConstSpan(kv->data() + in->num_attrs, in->num_profile);
  *out = e;
  return LS_OK;
}

bool FitsInt(size_t n) { return n <= static_cast<size_t>(std::numeric_limits<int>::max()); }

void SetNotes(ls_store_t* s, const leadscore::RestoreReport& report) {
  s->notes.clear();
  for (const std::string& n : report.notes) {
    s->notes += n;
    s->notes += '\n';
  }
}

}  // namespace

extern "C" {

// --- versions, memory, errors --------------------------------------------

unsigned ls_version_number(void) { return LS_VERSION_NUMBER; }

const char* ls_version_string(void) {
#define LS_STR2(x) #x
#define LS_STR(x) LS_STR2(x)
  return LS_STR(LS_VERSION_MAJOR) "." LS_STR(LS_VERSION_MINOR) "." LS_STR(LS_VERSION_PATCH);
#undef LS_STR
#undef LS_STR2
}

unsigned ls_abi_version(void) { return LS_ABI_VERSION; }

void ls_free(void* ptr) { std::free(ptr); }

int ls_error_code(const char* errmsg) {
  if (errmsg == nullptr) return LS_UNKNOWN;
  const char* colon = std::strchr(errmsg, ':');
  if (colon == nullptr) return LS_UNKNOWN;
  const std::string_view name(errmsg, static_cast<size_t>(colon - errmsg));
  for (int c = LS_OK; c <= LS_DATA_LOSS; ++c) {
    const std::string s = absl::StatusCodeToString(static_cast<absl::StatusCode>(c));
    if (name == s) return c;
  }
  return LS_UNKNOWN;
}

// --- models ----------------------------------------------------------------

namespace {

ls_model_t* LoadModel(const char* data, size_t len, const char* filename, bool json,
                      char** errptr) {
  ls_model_t* out = nullptr;
  Guard(errptr, [&] {
    std::string_view text;
    if (!View(data, len, &text)) return Invalid(errptr, "model text is NULL");
    const std::string_view name = filename != nullptr ? filename : "<model>";
    auto m = json ? Model::LoadJson(text, name) : Model::LoadText(text, name);
    if (!m.ok()) return Fail(errptr, m.status());
    out = new ls_model_t{*std::move(m)};
    return static_cast<int>(LS_OK);
  });
  return out;
}

}  // namespace

ls_model_t* ls_model_load_text(const char* text, size_t text_len, const char* filename,
                               char** errptr) {
  return LoadModel(text, text_len, filename, false, errptr);
}

ls_model_t* ls_model_load_json(const char* json, size_t json_len, const char* filename,
                               char** errptr) {
  return LoadModel(json, json_len, filename, true, errptr);
}

ls_model_t* ls_model_load_file(const char* path, char** errptr) {
  ls_model_t* out = nullptr;
  Guard(errptr, [&] {
    if (path == nullptr) return Invalid(errptr, "model path is NULL");
    auto m = Model::LoadFile(path);
    if (!m.ok()) return Fail(errptr, m.status());
    out = new ls_model_t{*std::move(m)};
    return static_cast<int>(LS_OK);
  });
  return out;
}

void ls_model_destroy(ls_model_t* model) { delete model; }

const char* ls_model_name(const ls_model_t* model) {
  return model == nullptr ? nullptr : model->model->name().c_str();
}

int64_t ls_model_allowed_lateness_ms(const ls_model_t* model) {
  return model == nullptr ? 0 : model->model->allowed_lateness_ms();
}

int ls_model_count(const ls_model_t* model, int kind) {
  if (model == nullptr) return -1;
  const Model& m = *model->model;
  switch (kind) {
    case LS_ITEM_SCORE: return m.num_scores();
    case LS_ITEM_COUNTER: return m.num_counters();
    case LS_ITEM_TAG: return m.num_tags();
    case LS_ITEM_STAGE: return m.num_stages();
    case LS_ITEM_FLAG: return m.num_flags();
    case LS_ITEM_RULE: return m.num_contributors();
    default: return -1;
  }
}

const char* ls_model_item(const ls_model_t* model, int kind, int index) {
  const int n = ls_model_count(model, kind);
  if (n < 0 || index < 0 || index >= n) return nullptr;
  const Model& m = *model->model;
  switch (kind) {
    case LS_ITEM_SCORE: return m.score_name(index).c_str();
    case LS_ITEM_COUNTER: return m.counter_name(index).c_str();
    case LS_ITEM_TAG: return m.tag_name(index).c_str();
    case LS_ITEM_STAGE: return m.stage_name(index).c_str();
    case LS_ITEM_FLAG: return m.flag_name(index).c_str();
    case LS_ITEM_RULE: return m.contributor_name(index).c_str();
    default: return nullptr;
  }
}

// --- stores ----------------------------------------------------------------

ls_store_t* ls_store_create(const ls_model_t* model, char** errptr) {
  ls_store_t* out = nullptr;
  Guard(errptr, [&] {
    if (model == nullptr) return Invalid(errptr, "model is NULL");
    auto s = std::make_unique<ls_store_t>();
    s->model = model->model;
    s->store = std::make_unique<Store>(model->model);
    out = s.release();
    return static_cast<int>(LS_OK);
  });
  return out;
}

void ls_store_destroy(ls_store_t* store) { delete store; }

void ls_store_set_callback(ls_store_t* store, ls_change_fn fn, void* user) {
  if (store == nullptr) return;
  store->fn = fn;
  store->user = user;
}

void ls_store_set_queue(ls_store_t* store, int enabled) {
  if (store == nullptr) return;
  store->queue_on = enabled != 0;
  if (!store->queue_on) {
    std::string().swap(store->queue);
    store->queued = 0;
  }
}

size_t ls_store_queued_changes(const ls_store_t* store) {
  return store == nullptr ? 0 : store->queued;
}

char* ls_store_drain_changes(ls_store_t* store, size_t* len, char** errptr) {
  char* out = nullptr;
  StoreCall call(store, errptr);
  if (!call.ok()) return nullptr;
  Guard(errptr, [&] {
    out = CopyOut(store->queue, len);
    store->queue.clear();
    store->queued = 0;
    return static_cast<int>(LS_OK);
  });
  return out;
}

int ls_store_apply(ls_store_t* store, const ls_event* event, char** errptr) {
  StoreCall call(store, errptr);
  if (!call.ok()) return call.code();
  return Guard(errptr, [&] {
    Event e;
    if (int rc = ToEvent(event, &store->kv, &e, errptr); rc != LS_OK) return rc;
    store->store->Apply(e, store->sink_or_null());
    return static_cast<int>(LS_OK);
  });
}

int ls_store_apply_batch(ls_store_t* store, const ls_event* events, size_t n,
                         char** errptr) {
  StoreCall call(store, errptr);
  if (!call.ok()) return call.code();
  if (events == nullptr && n > 0) return Invalid(errptr, "events is NULL");
  return Guard(errptr, [&] {
    for (size_t i = 0; i < n; ++i) {
      Event e;
      if (int rc = ToEvent(&events[i], &store->kv, &e, errptr); rc != LS_OK) return rc;
      store->store->Apply(e, store->sink_or_null());
    }
    return static_cast<int>(LS_OK);
  });
}

int ls_store_apply_proto(ls_store_t* store, const char* bytes, size_t len, char** errptr) {
  StoreCall call(store, errptr);
  if (!call.ok()) return call.code();
  return Guard(errptr, [&] {
    if ((bytes == nullptr && len > 0) || !FitsInt(len)) {
      return Invalid(errptr, "event bytes: NULL or too long");
    }
    leadscore::v1::MemberEvent& p = store->proto_event;
    if (!p.ParseFromArray(bytes, static_cast<int>(len))) {
      return Invalid(errptr, "event bytes do not parse as a leadscore.v1.MemberEvent");
    }
    Event e = leadscore::EventFromProto(p, &store->kv);
    store->store->Apply(e, store->sink_or_null());
    return static_cast<int>(LS_OK);
  });
}

int ls_store_apply_proto_batch(ls_store_t* store, const char* bytes, size_t len,
                               char** errptr) {
  StoreCall call(store, errptr);
  if (!call.ok()) return call.code();
  return Guard(errptr, [&] {
    if ((bytes == nullptr && len > 0) || !FitsInt(len)) {
      return Invalid(errptr, "batch bytes: NULL or too long");
    }
    leadscore::v1::MemberEventBatch& batch = store->proto_batch;
    if (!batch.ParseFromArray(bytes, static_cast<int>(len))) {
      return Invalid(errptr, "batch bytes do not parse as a leadscore.v1.MemberEventBatch");
    }
    for (const leadscore::v1::MemberEvent& p : batch.events()) {
      Event e = leadscore::EventFromProto(p, &store->kv);
      store->store->Apply(e, store->sink_or_null());
    }
    batch.Clear();
    return static_cast<int>(LS_OK);
  });
}

int ls_store_reject(ls_store_t* store, const char* member_id, size_t member_id_len,
                    const char* event_id, size_t event_id_len, int has_time, int64_t time,
                    int reason, const char* detail, size_t detail_len, char** errptr) {
  StoreCall call(store, errptr);
  if (!call.ok()) return call.code();
  return Guard(errptr, [&] {
    std::string_view member, event, why;
    if (!View(member_id, member_id_len, &member) || !View(event_id, event_id_len, &event) ||
        !View(detail, detail_len, &why)) {
      return Invalid(errptr, "reject: a NULL string with a non-zero length");
    }
    if (reason < LS_REJECT_INVALID || reason > LS_REJECT_AFTER_AS_OF) {
      return Invalid(errptr, "reject: unknown reason");
    }
    store->store->Reject(member, event, has_time != 0, time, static_cast<RejectReason>(reason),
                         why, store->sink_or_null());
    return static_cast<int>(LS_OK);
  });
}

int ls_store_advance(ls_store_t* store, const char* member_id, size_t len, int64_t t,
                     char** errptr) {
  StoreCall call(store, errptr);
  if (!call.ok()) return call.code();
  return Guard(errptr, [&] {
    std::string_view id;
    if (!View(member_id, len, &id)) return Invalid(errptr, "member_id is NULL");
    if (!store->store->Advance(id, t, store->sink_or_null())) {
      return Fail(errptr, absl::StatusCode::kNotFound, "no such member");
    }
    return static_cast<int>(LS_OK);
  });
}

int ls_store_advance_all(ls_store_t* store, int64_t t, char** errptr) {
  StoreCall call(store, errptr);
  if (!call.ok()) return call.code();
  return Guard(errptr, [&] {
    store->store->AdvanceAll(t, store->sink_or_null());
    return static_cast<int>(LS_OK);
  });
}

namespace {

char* ReadMember(const ls_store_t* cstore, const char* member_id, size_t member_id_len,
                 int64_t t, size_t* len, bool json, char** errptr) {
  ls_store_t* store = const_cast<ls_store_t*>(cstore);  // for the busy flag only
  char* out = nullptr;
  StoreCall call(store, errptr);
  if (!call.ok()) return nullptr;
  Guard(errptr, [&] {
    std::string_view id;
    if (!View(member_id, member_id_len, &id)) return Invalid(errptr, "member_id is NULL");
    auto view = store->store->Read(id, t);
    if (!view.has_value()) return Fail(errptr, absl::StatusCode::kNotFound, "no such member");
    const Model& m = *store->model;
    out = CopyOut(json ? leadscore::MemberViewToJson(m, *view)
                       : leadscore::MemberViewToProto(m, *view),
                  len);
    return static_cast<int>(LS_OK);
  });
  return out;
}

}  // namespace

char* ls_store_read_json(const ls_store_t* store, const char* member_id,
                         size_t member_id_len, int64_t t, size_t* len, char** errptr) {
  return ReadMember(store, member_id, member_id_len, t, len, true, errptr);
}

char* ls_store_read_view(const ls_store_t* store, const char* member_id,
                         size_t member_id_len, int64_t t, size_t* len, char** errptr) {
  return ReadMember(store, member_id, member_id_len, t, len, false, errptr);
}

int ls_store_contains(const ls_store_t* store, const char* member_id, size_t member_id_len) {
  std::string_view id;
  if (store == nullptr || !View(member_id, member_id_len, &id)) return 0;
  return store->store->Contains(id) ? 1 : 0;
}

int ls_store_for_each_member(const ls_store_t* cstore,
                             void (*fn)(void* user, const char* id, size_t len), void* user,
                             char** errptr) {
  ls_store_t* store = const_cast<ls_store_t*>(cstore);
  StoreCall call(store, errptr);
  if (!call.ok()) return call.code();
  if (fn == nullptr) return Invalid(errptr, "fn is NULL");
  return Guard(errptr, [&] {
    for (const std::string& id : store->store->MemberIds()) fn(user, id.data(), id.size());
    return static_cast<int>(LS_OK);
  });
}

void ls_store_stats(const ls_store_t* store, ls_stats* out) {
  if (out == nullptr) return;
  std::memset(out, 0, sizeof(*out));
  if (store == nullptr) return;
  const leadscore::StoreStats& s = store->store->stats();
  out->events_applied = s.events_applied;
  out->rejected_invalid = s.rejected[static_cast<int>(RejectReason::kInvalid)];
  out->rejected_too_late = s.rejected[static_cast<int>(RejectReason::kTooLate)];
  out->rejected_duplicate = s.rejected[static_cast<int>(RejectReason::kDuplicate)];
  out->rejected_after_as_of = s.rejected[static_cast<int>(RejectReason::kAfterAsOf)];
  out->members = s.members;
  out->flags_raised = s.flags_raised;
}

// --- durable state -----------------------------------------------------------

int ls_store_save_snapshot(const ls_store_t* cstore, const char* path, char** errptr) {
  ls_store_t* store = const_cast<ls_store_t*>(cstore);
  StoreCall call(store, errptr);
  if (!call.ok()) return call.code();
  if (path == nullptr) return Invalid(errptr, "path is NULL");
  return Guard(errptr, [&] {
    absl::Status s = store->store->SaveSnapshot(path);
    return s.ok() ? static_cast<int>(LS_OK) : Fail(errptr, s);
  });
}

ls_store_t* ls_store_load_snapshot(const ls_model_t* model, const char* path,
                                   char** errptr) {
  ls_store_t* out = nullptr;
  Guard(errptr, [&] {
    if (model == nullptr) return Invalid(errptr, "model is NULL");
    if (path == nullptr) return Invalid(errptr, "path is NULL");
    leadscore::RestoreReport report;
    auto restored = Store::LoadSnapshot(model->model, path, &report);
    if (!restored.ok()) return Fail(errptr, restored.status());
    auto s = std::make_unique<ls_store_t>();
    s->model = model->model;
    s->store = *std::move(restored);
    SetNotes(s.get(), report);
    out = s.release();
    return static_cast<int>(LS_OK);
  });
  return out;
}

char* ls_store_export_member(const ls_store_t* cstore, const char* member_id,
                             size_t member_id_len, size_t* len, char** errptr) {
  ls_store_t* store = const_cast<ls_store_t*>(cstore);
  char* out = nullptr;
  StoreCall call(store, errptr);
  if (!call.ok()) return nullptr;
  Guard(errptr, [&] {
    std::string_view id;
    if (!View(member_id, member_id_len, &id)) return Invalid(errptr, "member_id is NULL");
    auto bytes = store->store->ExportMember(id);
    if (!bytes.ok()) return Fail(errptr, bytes.status());
    out = CopyOut(*bytes, len);
    return static_cast<int>(LS_OK);
  });
  return out;
}

int ls_store_import_member(ls_store_t* store, const char* bytes, size_t len, char** errptr) {
  StoreCall call(store, errptr);
  if (!call.ok()) return call.code();
  return Guard(errptr, [&] {
    std::string_view b;
    if (!View(bytes, len, &b)) return Invalid(errptr, "bytes is NULL");
    leadscore::RestoreReport report;
    absl::Status s = store->store->ImportMember(b, &report);
    if (!s.ok()) return Fail(errptr, s);
    SetNotes(store, report);
    return static_cast<int>(LS_OK);
  });
}

int ls_store_erase_member(ls_store_t* store, const char* member_id, size_t member_id_len,
                          char** errptr) {
  StoreCall call(store, errptr);
  if (!call.ok()) return call.code();
  return Guard(errptr, [&] {
    std::string_view id;
    if (!View(member_id, member_id_len, &id)) return Invalid(errptr, "member_id is NULL");
    if (!store->store->EraseMember(id)) {
      return Fail(errptr, absl::StatusCode::kNotFound, "no such member");
    }
    return static_cast<int>(LS_OK);
  });
}

const char* ls_store_restore_notes(const ls_store_t* store) {
  return store == nullptr ? "" : store->notes.c_str();
}

int ls_shard_of(const char* member_id, size_t member_id_len, int num_shards) {
  if (num_shards < 1) return -1;
  std::string_view id;
  if (!View(member_id, member_id_len, &id)) return -1;
  return static_cast<int>(leadscore::StableHash(id) % static_cast<uint64_t>(num_shards));
}

}  // extern "C"

// Store: member states by id, over the engine.
#include "leadscore/store.h"

#include <algorithm>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "leadscore/v1/state.pb.h"
#include "lib/base/strings.h"
#include "lib/engine/engine.h"
#include "lib/state/frame.h"
#include "lib/state/member_codec.h"
#include "lib/state/snapshot_file.h"

namespace leadscore {

using internal::Engine;
using internal::MemberState;

class Store::Impl {
 public:
  Impl(const Model& model, StoreLimits limits)
      : model_(model.compiled()), engine_(model_), codec_(model_), limits_(limits) {}

  // Which StoreLimits the event exceeds, as a detail for its rejection; empty
  // when none.
  std::string OverLimit(const Event& e) const {
    auto too_long = [](std::string_view what, size_t n, const char* limit, size_t max) {
      return absl::StrCat(AsAbsl(what), " is ", n, " bytes, more than StoreLimits::",
                          limit, " (", max, ")");
    };
    if (e.member_id.size() > limits_.max_id_bytes)
      return too_long("member_id", e.member_id.size(), "max_id_bytes", limits_.max_id_bytes);
    if (e.event_id.size() > limits_.max_id_bytes)
      return too_long("event_id", e.event_id.size(), "max_id_bytes", limits_.max_id_bytes);
    for (std::string_view field : {e.type, e.group_id, e.channel, e.account_id}) {
      if (field.size() > limits_.max_type_bytes)
        return too_long("a type, group, channel or account", field.size(),
                        "max_type_bytes", limits_.max_type_bytes);
    }
    if (e.attrs.size() + e.profile.size() > limits_.max_attrs_per_event) {
      return absl::StrCat("the event has ", e.attrs.size() + e.profile.size(),
                          " attributes, more than StoreLimits::max_attrs_per_event (",
                          limits_.max_attrs_per_event, ")");
    }
    for (auto list : {e.attrs, e.profile}) {
      for (const KeyValue& kv : list) {
        size_t n = std::max(kv.key.size(), kv.value.size());
        if (n > limits_.max_attr_bytes)
          return too_long("an attribute", n, "max_attr_bytes", limits_.max_attr_bytes);
      }
    }
    return "";
  }

  MemberState* Find(std::string_view id) const {
    auto it = index_.find(id);
    return it == index_.end() ? nullptr : members_[it->second].get();
  }

  void Apply(const Event& e, ChangeSink* sink) {
    if (const char* why = internal::InvalidReason(e)) {
      Reject(e.member_id, e.event_id, e.has_time, e.time, RejectReason::kInvalid,
             why, sink);
      return;
    }
    if (std::string why = OverLimit(e); !why.empty()) {
      Reject(e.member_id.substr(0, limits_.max_id_bytes),
             e.event_id.substr(0, limits_.max_id_bytes), true, e.time,
             RejectReason::kInvalid, why, sink);
      return;
    }
    MemberState* s = Find(e.member_id);
    if (s == nullptr && members_.size() >= limits_.max_members) {
      std::string why = absl::StrCat("the store is full: StoreLimits::max_members is ",
                                     limits_.max_members);
      Reject(e.member_id, e.event_id, true, e.time, RejectReason::kInvalid, why, sink);
      return;
    }
    if (auto r = engine_.Check(s, e)) {
      Reject(e.member_id, e.event_id, true, e.time, *r,
             *r == RejectReason::kTooLate
                 ? "older than the member's clock minus allowed_lateness"
                 : "event_id already applied to this member",
             sink);
      return;
    }
    bool is_new = s == nullptr;
    if (is_new) {
      members_.push_back(engine_.Create(e.member_id, e));
      s = members_.back().get();
      index_.emplace(s->id, static_cast<uint32_t>(members_.size() - 1));
      stats_.members = static_cast<int64_t>(members_.size());
    }
    const internal::Dispatch* d;
    auto it = model_.dispatch_by_type.find(AsAbsl(e.type));
    if (it != model_.dispatch_by_type.end()) {
      d = &it->second;
    } else {
      // Types the model does not name match only prefix and `*` patterns;
      // remember their dispatch (bounded).
      auto cached = unknown_types_.find(AsAbsl(e.type));
      if (cached == unknown_types_.end()) {
        if (unknown_types_.size() >= kMaxCachedTypes) unknown_types_.clear();
        cached = unknown_types_.emplace(std::string(e.type),
                                        model_.BuildDispatch(e.type)).first;
      }
      d = &cached->second;
    }
    engine_.Apply(s, e, *d, is_new, sink, &stats_);
  }

  void Reject(std::string_view member_id, std::string_view event_id,
              bool has_time, int64_t time, RejectReason reason,
              std::string_view detail, ChangeSink* sink) {
    ++stats_.rejected[static_cast<int>(reason)];
    if (sink == nullptr) return;
    Change c;
    c.kind = ChangeKind::kRejected;
    c.member_id = member_id;
    c.has_time = has_time;
    c.time = has_time ? time : 0;
    c.event_id = event_id;
    c.reason = reason;
    c.detail = detail;
    sink->OnChange(c);
  }

  std::vector<MemberState*> Sorted() const {
    std::vector<MemberState*> out;
    out.reserve(members_.size());
    for (const auto& m : members_) out.push_back(m.get());
    std::sort(out.begin(), out.end(),
              [](const MemberState* a, const MemberState* b) { return a->id < b->id; });
    return out;
  }

  // Adds `s`, replacing a member of the same id.
  void Put(std::unique_ptr<MemberState> s) {
    auto it = index_.find(s->id);
    if (it != index_.end()) {
      const uint32_t pos = it->second;
      index_.erase(it);  // its key points into the state being replaced
      members_[pos] = std::move(s);
      index_.emplace(members_[pos]->id, pos);
    } else {
      members_.push_back(std::move(s));
      index_.emplace(members_.back()->id, static_cast<uint32_t>(members_.size() - 1));
    }
    stats_.members = static_cast<int64_t>(members_.size());
  }

  bool Erase(std::string_view id) {
    auto it = index_.find(id);
    if (it == index_.end()) return false;
    const uint32_t pos = it->second;
    index_.erase(it);
    const uint32_t last = static_cast<uint32_t>(members_.size() - 1);
    if (pos != last) {
      index_.erase(std::string_view(members_[last]->id));
      members_[pos] = std::move(members_[last]);
      index_.emplace(members_[pos]->id, pos);
    }
    members_.pop_back();
    stats_.members = static_cast<int64_t>(members_.size());
    return true;
  }

  // A member state from a v1.MemberState payload, laid out for this model.
  absl::StatusOr<std::unique_ptr<MemberState>> Decode(std::string_view payload,
                                                      std::set<std::string>* notes) const {
    v1::MemberState p;
    if (!p.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
      return absl::DataLossError("member state: the payload does not parse");
    }
    if (p.model_name() != model_.name) {
      return absl::InvalidArgumentError(absl::StrCat(
          "member state of \"", p.member_id(), "\" was written by model \"",
          p.model_name(), "\"; this store's model is \"", model_.name,
          "\" (a changed model must keep its name)"));
    }
    auto s = std::make_unique<MemberState>(model_);
    if (absl::Status st = codec_.Decode(p, s.get(), notes); !st.ok()) return st;
    engine_.RecomputeFit(s.get());
    return s;
  }

  std::string Encode(const MemberState& s) const {
    v1::MemberState p;
    codec_.Encode(s, &p);
    std::string out;
    {
      google::protobuf::io::StringOutputStream stream(&out);
      google::protobuf::io::CodedOutputStream coded(&stream);
      coded.SetSerializationDeterministic(true);
      p.SerializeToCodedStream(&coded);
    }
    return out;
  }

  static constexpr size_t kMaxCachedTypes = 4096;
  const internal::CompiledModel& model_;
  Engine engine_;
  internal::state::MemberCodec codec_;
  StoreLimits limits_;
  std::vector<std::unique_ptr<MemberState>> members_;
  absl::flat_hash_map<std::string_view, uint32_t> index_;
  absl::flat_hash_map<std::string, internal::Dispatch> unknown_types_;
  StoreStats stats_;
};

Store::Store(std::shared_ptr<const Model> model, StoreLimits limits)
    : model_(std::move(model)), impl_(std::make_unique<Impl>(*model_, limits)) {}
Store::~Store() = default;

void Store::Apply(const Event& event, ChangeSink* sink) { impl_->Apply(event, sink); }

void Store::Reject(std::string_view member_id, std::string_view event_id,
                   bool has_time, int64_t time, RejectReason reason,
                   std::string_view detail, ChangeSink* sink) {
  impl_->Reject(member_id, event_id, has_time, time, reason, detail, sink);
}

bool Store::Advance(std::string_view member_id, int64_t t, ChangeSink* sink) {
  MemberState* s = impl_->Find(member_id);
  if (s == nullptr) return false;
  impl_->engine_.Advance(s, t, sink, &impl_->stats_);
  return true;
}

void Store::AdvanceAll(int64_t t, ChangeSink* sink) {
  for (MemberState* s : impl_->Sorted()) {
    impl_->engine_.Advance(s, t, sink, &impl_->stats_);
  }
}

std::optional<MemberView> Store::Read(std::string_view member_id, int64_t t) const {
  const MemberState* s = impl_->Find(member_id);
  if (s == nullptr) return std::nullopt;
  return impl_->engine_.Read(*s, t);
}

bool Store::Contains(std::string_view member_id) const {
  return impl_->Find(member_id) != nullptr;
}

std::vector<std::string> Store::MemberIds() const {
  std::vector<std::string> ids;
  for (const MemberState* s : impl_->Sorted()) ids.push_back(s->id);
  return ids;
}

const StoreStats& Store::stats() const { return impl_->stats_; }

namespace {

void FillReport(const std::set<std::string>& notes, int64_t members,
                RestoreReport* report) {
  if (report == nullptr) return;
  report->members = members;
  report->notes.assign(notes.begin(), notes.end());
}

}  // namespace

absl::Status Store::SaveSnapshot(const std::string& path) const {
  namespace st = internal::state;
  auto writer = st::AtomicFileWriter::Create(path);
  if (!writer.ok()) return writer.status();
  const std::vector<MemberState*> members = impl_->Sorted();
  const StoreStats& stats = impl_->stats_;
  v1::SnapshotHeader header;
  header.set_model_name(impl_->model_.name);
  header.set_members(static_cast<int64_t>(members.size()));
  header.set_events_applied(stats.events_applied);
  for (int64_t r : stats.rejected) header.add_rejected(r);
  header.set_flags_raised(stats.flags_raised);
  std::string buf;
  st::AppendSnapshotPreamble(&buf);
  st::AppendRecord(&buf, st::RecordKind::kHeader, header.SerializeAsString());
  for (const MemberState* s : members) {
    st::AppendRecord(&buf, st::RecordKind::kMember, impl_->Encode(*s));
    if (buf.size() >= (1 << 20)) {
      if (absl::Status status = (*writer)->Append(buf); !status.ok()) return status;
      buf.clear();
    }
  }
  v1::SnapshotFooter footer;
  footer.set_members(static_cast<int64_t>(members.size()));
  st::AppendRecord(&buf, st::RecordKind::kFooter, footer.SerializeAsString());
  if (absl::Status status = (*writer)->Append(buf); !status.ok()) return status;
  return (*writer)->Commit();
}

absl::StatusOr<std::unique_ptr<Store>> Store::LoadSnapshot(
    std::shared_ptr<const Model> model, const std::string& path,
    RestoreReport* report) {
  namespace st = internal::state;
  if (model == nullptr) return absl::InvalidArgumentError("LoadSnapshot: no model");
  auto reader = st::SnapshotReader::Open(path);
  if (!reader.ok()) return reader.status();
  st::SnapshotReader& r = **reader;
  auto loss = [&](std::string_view why) {
    return absl::DataLossError(absl::StrCat("snapshot: ", path, ": ", AsAbsl(why)));
  };
  st::RecordKind kind;
  std::string payload;
  if (r.AtEnd()) return loss("truncated (no header record)");
  if (absl::Status s = r.Next(&kind, &payload); !s.ok()) return s;
  v1::SnapshotHeader header;
  if (kind != st::RecordKind::kHeader || !header.ParseFromString(payload)) {
    return loss("the first record is not a snapshot header");
  }
  if (header.model_name() != model->name()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "snapshot: ", path, " was written by model \"", header.model_name(),
        "\"; this model is \"", model->name(), "\" (a changed model must keep its name)"));
  }
  auto store = std::make_unique<Store>(model);
  Impl& impl = *store->impl_;
  std::set<std::string> notes;
  int64_t members = 0;
  bool footer_seen = false;
  while (!r.AtEnd()) {
    const uint64_t at = r.offset();
    if (absl::Status s = r.Next(&kind, &payload); !s.ok()) return s;
    if (kind == st::RecordKind::kFooter) {
      v1::SnapshotFooter footer;
      if (!footer.ParseFromString(payload) || footer.members() != members ||
          header.members() != members) {
        return loss(absl::StrCat("footer at byte ", at, " does not match the ",
                                 members, " member records read"));
      }
      footer_seen = true;
      break;
    }
    if (kind != st::RecordKind::kMember) {
      return loss(absl::StrCat("unexpected record at byte ", at));
    }
    auto s = impl.Decode(payload, &notes);
    if (!s.ok()) {
      return absl::Status(s.status().code(),
                          absl::StrCat("snapshot: ", path, ": record at byte ", at, ": ",
                                       s.status().message()));
    }
    if (impl.Find((*s)->id) != nullptr) {
      return loss(absl::StrCat("member \"", (*s)->id, "\" twice"));
    }
    impl.Put(*std::move(s));
    ++members;
  }
  if (!footer_seen) {
    return loss(absl::StrCat("truncated after ", members, " of ", header.members(),
                             " members (no footer)"));
  }
  if (!r.AtEnd()) return loss(absl::StrCat("bytes after the footer at byte ", r.offset()));
  impl.stats_.events_applied = header.events_applied();
  for (int i = 0; i < header.rejected_size() && i < kNumRejectReasons; ++i) {
    impl.stats_.rejected[i] = header.rejected(i);
  }
  impl.stats_.flags_raised = header.flags_raised();
  FillReport(notes, members, report);
  return store;
}

absl::StatusOr<std::string> Store::ExportMember(std::string_view member_id) const {
  const MemberState* s = impl_->Find(member_id);
  if (s == nullptr) {
    return absl::NotFoundError(absl::StrCat("no member \"", AsAbsl(member_id), "\""));
  }
  return internal::state::FrameMember(impl_->Encode(*s));
}

absl::Status Store::ImportMember(std::string_view bytes, RestoreReport* report) {
  auto payload = internal::state::UnframeMember(bytes);
  if (!payload.ok()) return payload.status();
  std::set<std::string> notes;
  auto s = impl_->Decode(*payload, &notes);
  if (!s.ok()) return s.status();
  impl_->Put(*std::move(s));
  FillReport(notes, 1, report);
  return absl::OkStatus();
}

bool Store::EraseMember(std::string_view member_id) { return impl_->Erase(member_id); }

}  // namespace leadscore

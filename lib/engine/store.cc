// Store: member states by id, over the engine.
#include "leadscore/store.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "lib/base/strings.h"
#include "lib/engine/engine.h"

namespace leadscore {

using internal::Engine;
using internal::MemberState;

class Store::Impl {
 public:
  explicit Impl(const Model& model)
      : model_(model.compiled()), engine_(model_) {}

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
    MemberState* s = Find(e.member_id);
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

  static constexpr size_t kMaxCachedTypes = 4096;
  const internal::CompiledModel& model_;
  Engine engine_;
  std::vector<std::unique_ptr<MemberState>> members_;
  absl::flat_hash_map<std::string_view, uint32_t> index_;
  absl::flat_hash_map<std::string, internal::Dispatch> unknown_types_;
  StoreStats stats_;
};

Store::Store(std::shared_ptr<const Model> model)
    : model_(std::move(model)), impl_(std::make_unique<Impl>(*model_)) {}
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

std::vector<std::string> Store::MemberIds() const {
  std::vector<std::string> ids;
  for (const MemberState* s : impl_->Sorted()) ids.push_back(s->id);
  return ids;
}

const StoreStats& Store::stats() const { return impl_->stats_; }

}  // namespace leadscore
